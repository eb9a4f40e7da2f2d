/** @file el_dense_grad_accumulate_f32.c @brief Accumulate a scaled outer-product gradient of a dense layer. */
#include "train/el_train_kernels.h"

void el_dense_grad_accumulate_f32(float *gw, float *gb, const float *dy, const float *a, uint16_t n_in,
                                  uint16_t n_out, float c)
{
    uint32_t j, k;
    for (j = 0; j < n_out; j++) {
        float *row = gw + (uint32_t)j * n_in;
        const float cj = c * dy[j];
        for (k = 0; k + 4u <= n_in; k += 4u) { /* every element on its own: unrolling changes no sum */
            row[k] += cj * a[k];
            row[k + 1u] += cj * a[k + 1u];
            row[k + 2u] += cj * a[k + 2u];
            row[k + 3u] += cj * a[k + 3u];
        }
        for (; k < n_in; k++) {
            row[k] += cj * a[k];
        }
        gb[j] += cj;
    }
}
