/** @file el_int8_quantize_f32.c @brief Per-tensor int8 encoding of update values. */
#include <math.h>

#include "train/el_train_kernels.h"

float el_int8_scale_f32(float max_abs)
{
    return max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
}

int8_t el_int8_quantize_f32(float v, float s)
{
    const float r = v / s;
    float t;
    if (r != r) {
        return 0;
    }
    if (r >= 127.0f) {
        return 127;
    }
    if (r <= -127.0f) {
        return -127;
    }
    t = truncf(r);
    if (fabsf(r - t) >= 0.5f) { /* r - t is exact: half away from zero */
        t += r > 0.0f ? 1.0f : -1.0f;
    }
    return (int8_t)t;
}
