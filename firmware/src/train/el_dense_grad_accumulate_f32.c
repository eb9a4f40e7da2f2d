/** @file el_dense_grad_accumulate_f32.c @brief Accumulate a scaled outer-product gradient of a dense layer. */
#include "train/el_f32_vec.h"
#include "train/el_train_kernels.h"

void el_dense_grad_accumulate_f32(float *gw, float *gb, const float *dy, const float *a, uint16_t n_in,
                                  uint16_t n_out, float c)
{
    uint32_t j;
    for (j = 0; j < n_out; j++) {
        const float cj = c * dy[j];
        el_vec_axpy_f32(gw + j * (uint32_t)n_in, a, n_in, cj);
        gb[j] += cj;
    }
}
