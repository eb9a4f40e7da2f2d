/** @file el_dequantize_s8_f32.c @brief int8 -> float32 dequantization (see el_kernels.h). */
#include "el_kernels.h"

el_status el_dequantize_s8_f32(const int8_t *input, uint32_t count, float scale, int32_t zero_point,
                               float *output)
{
    uint32_t i;
    for (i = 0; i < count; i++) {
        output[i] = scale * (float)((int32_t)input[i] - zero_point);
    }
    return EL_OK;
}
