/** @file el_dense_forward_f32.c @brief Dense layer forward pass, float32, on theta = theta_0 + d. */
#include "train/el_f32_vec.h"
#include "train/el_train_kernels.h"

void el_dense_forward_f32(const float *p0, const float *dp, const float *x, uint16_t n_in, uint16_t n_out, int relu,
                          float *y)
{
    const uint32_t nw = (uint32_t)n_in * n_out;
    uint32_t j;
    for (j = 0; j < n_out; j++) { /* each row's sum in k order, then + b */
        const float acc = el_vec_dot_sum_f32(p0 + j * (uint32_t)n_in, dp + j * (uint32_t)n_in, x, n_in, 0.0f);
        const float v = acc + (p0[nw + j] + dp[nw + j]);
        y[j] = (relu && !(v > 0.0f)) ? 0.0f : v;
    }
}
