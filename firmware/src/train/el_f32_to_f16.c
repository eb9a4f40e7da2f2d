/** @file el_f32_to_f16.c @brief float32 -> IEEE binary16, round to nearest even, saturating. */
#include <string.h>

#include "train/el_train_kernels.h"

#define F32_65504 0x477FE000u   /* 65504.0f: largest binary16 */
#define F32_2M14 0x38800000u    /* 2^-14: smallest normal binary16 */
#define F32_2M25 0x33000000u    /* 2^-25: half the smallest subnormal (a tie that rounds to 0) */

uint16_t el_f32_to_f16(float f)
{
    uint32_t x;
    uint32_t ax, e, mant, h, rem, shift, half;
    uint16_t sign;

    memcpy(&x, &f, sizeof(x));
    sign = (uint16_t)((x >> 16) & 0x8000u);
    ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) {
        return (uint16_t)(sign | 0x7E00u); /* NaN */
    }
    if (ax >= F32_65504) {
        return (uint16_t)(sign | 0x7BFFu); /* saturate, infinities included */
    }
    e = ax >> 23;
    mant = (ax & 0x7FFFFFu) | 0x800000u;
    if (ax < F32_2M14) {
        if (ax <= F32_2M25) {
            return sign; /* rounds to (signed) zero */
        }
        /* subnormal binary16: value * 2^24 = mant * 2^(e - 126), e in 102..112 */
        shift = 126u - e; /* 14..24 */
        h = mant >> shift;
        rem = mant & ((1u << shift) - 1u);
        half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (h & 1u))) {
            h++; /* may carry into the smallest normal, 0x0400: still correct */
        }
        return (uint16_t)(sign | h);
    }
    h = ((e - 112u) << 10) | ((ax >> 13) & 0x3FFu);
    rem = ax & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) {
        h++; /* a mantissa carry moves into the exponent; stays <= 0x7BFF below 65504 */
    }
    return (uint16_t)(sign | h);
}
