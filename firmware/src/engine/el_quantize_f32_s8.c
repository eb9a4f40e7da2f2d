/** @file el_quantize_f32_s8.c @brief float32 -> int8 affine quantization (see el_kernels.h). */
#include <math.h>
#include "el_kernels.h"
#include "el_fixedpoint.h"

el_status el_quantize_f32_s8(const float *input, uint32_t count, float scale, int32_t zero_point,
                             int8_t *output)
{
    uint32_t i;
    for (i = 0; i < count; i++) {
        const float r = roundf(input[i] / scale);
        int32_t q;
        if (r != r) {
            q = zero_point; /* NaN */
        } else if (r > 1.0e6f) {
            q = 127; /* any zero point in [-128, 127] saturates the same way */
        } else if (r < -1.0e6f) {
            q = -128;
        } else {
            q = el_clamp((int32_t)r + zero_point, -128, 127);
        }
        output[i] = (int8_t)q;
    }
    return EL_OK;
}
