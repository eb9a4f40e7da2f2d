/** @file el_dense_grad_start_f32.c @brief Scale an accumulator and add a scaled outer-product gradient, one pass. */
#include "train/el_train_kernels.h"

void el_dense_grad_start_f32(float *gw, float *gb, const float *dy, const float *a, uint16_t n_in, uint16_t n_out,
                             float c, float decay)
{
    uint32_t j, k;
    for (j = 0; j < n_out; j++) {
        float *row = gw + (uint32_t)j * n_in;
        const float cj = c * dy[j];
        for (k = 0; k + 4u <= n_in; k += 4u) {
            const float t0 = decay * row[k], t1 = decay * row[k + 1u];
            const float t2 = decay * row[k + 2u], t3 = decay * row[k + 3u];
            row[k] = t0 + cj * a[k];
            row[k + 1u] = t1 + cj * a[k + 1u];
            row[k + 2u] = t2 + cj * a[k + 2u];
            row[k + 3u] = t3 + cj * a[k + 3u];
        }
        for (; k < n_in; k++) {
            const float t = decay * row[k];
            row[k] = t + cj * a[k];
        }
        {
            const float t = decay * gb[j];
            gb[j] = t + cj;
        }
    }
}
