/** @file el_dense_backward_f32.c @brief Dense layer backward pass to its input, through a ReLU, float32. */
#include "train/el_train_kernels.h"

void el_dense_backward_f32(const float *w0, const float *dw, const float *dy, const float *a, uint16_t n_in,
                           uint16_t n_out, float *dx)
{
    uint32_t j, k;
    for (k = 0; k < n_in; k++) {
        dx[k] = 0.0f;
    }
    for (j = 0; j < n_out; j++) {
        const float *row = w0 + (uint32_t)j * n_in, *drow = dw + (uint32_t)j * n_in;
        const float d = dy[j];
        for (k = 0; k < n_in; k++) {
            dx[k] += (row[k] + drow[k]) * d;
        }
    }
    for (k = 0; k < n_in; k++) {
        if (!(a[k] > 0.0f)) {
            dx[k] = 0.0f;
        }
    }
}
