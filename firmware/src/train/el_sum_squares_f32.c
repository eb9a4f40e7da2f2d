/** @file el_sum_squares_f32.c @brief Sum of squares with Kahan compensation, float32. */
#include "train/el_train_kernels.h"

float el_sum_squares_f32(const float *v, uint32_t n)
{
    float sum = 0.0f; /* no -ffast-math anywhere: the compensation is kept */
    float comp = 0.0f;
    uint32_t i;
    for (i = 0; i < n; i++) {
        const float y = v[i] * v[i] - comp;
        const float t = sum + y;
        comp = (t - sum) - y;
        sum = t;
    }
    return sum;
}
