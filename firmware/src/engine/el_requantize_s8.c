/** @file el_requantize_s8.c @brief int8 -> int8 requantization (see el_kernels.h). */
#include "el_kernels.h"
#include "el_fixedpoint.h"

el_status el_requantize_s8(const int8_t *input, uint32_t count, int32_t in_zp, int32_t out_zp,
                           int32_t multiplier, int32_t shift, int8_t *output)
{
    uint32_t i;
    for (i = 0; i < count; i++) {
        const int32_t x = (int32_t)input[i] - in_zp;
        const int32_t q = el_add_wrap(el_mbqm(x, multiplier, (int)shift), out_zp);
        output[i] = (int8_t)el_clamp(q, -128, 127);
    }
    return EL_OK;
}
