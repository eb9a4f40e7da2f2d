/** @file el_dense_grad_start_f32.c @brief Scale an accumulator and add a scaled outer-product gradient, one pass. */
#include "train/el_f32_vec.h"
#include "train/el_train_kernels.h"

void el_dense_grad_start_f32(float *gw, float *gb, const float *dy, const float *a, uint16_t n_in, uint16_t n_out,
                             float c, float decay)
{
    uint32_t j;
    for (j = 0; j < n_out; j++) {
        const float cj = c * dy[j];
        el_vec_scale_axpy_f32(gw + j * (uint32_t)n_in, a, n_in, decay, cj);
        {
            const float t = decay * gb[j];
            gb[j] = t + cj;
        }
    }
}
