/** @file el_softmax_xent_f32.c @brief Softmax cross-entropy loss and its gradient wrt the logits. */
#include <math.h>

#include "train/el_train_kernels.h"

float el_softmax_xent_f32(float *z, uint16_t n, uint16_t label)
{
    float max = z[0];
    float sum = 0.0f;
    float zy;
    uint16_t j;

    for (j = 1; j < n; j++) {
        if (z[j] > max) {
            max = z[j];
        }
    }
    zy = z[label] - max;
    for (j = 0; j < n; j++) {
        z[j] = expf(z[j] - max);
        sum += z[j];
    }
    for (j = 0; j < n; j++) {
        z[j] = z[j] / sum;
    }
    z[label] -= 1.0f;
    return logf(sum) - zy;
}
