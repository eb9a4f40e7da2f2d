/** @file el_dense_forward_f32.c @brief Dense layer forward pass, float32. */
#include "train/el_train_kernels.h"

void el_dense_forward_f32(const float *w, const float *b, const float *x, uint16_t n_in, uint16_t n_out, int relu,
                          float *y)
{
    uint32_t j, k;
    for (j = 0; j < n_out; j++) {
        const float *row = w + (uint32_t)j * n_in;
        float acc = 0.0f;
        for (k = 0; k < n_in; k++) {
            acc += row[k] * x[k];
        }
        acc += b[j];
        y[j] = (relu && !(acc > 0.0f)) ? 0.0f : acc;
    }
}
