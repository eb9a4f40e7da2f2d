/** @file el_clip_l2_f32.c @brief L2 clipping factor and in-place clipping. */
#include <math.h>

#include "train/el_train_kernels.h"

float el_clip_scale_f32(float norm, float clip)
{
    if (norm <= clip || norm == 0.0f) {
        return 1.0f;
    }
    return clip / norm;
}

float el_clip_l2_f32(float *v, uint32_t n, float clip)
{
    const float norm = sqrtf(el_sum_squares_f32(v, n));
    const float s = el_clip_scale_f32(norm, clip);
    uint32_t i;
    if (s != 1.0f) {
        for (i = 0; i < n; i++) {
            v[i] *= s;
        }
    }
    return norm;
}
