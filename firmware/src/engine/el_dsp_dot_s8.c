/** @file el_dsp_dot_s8.c @brief int8 dot-product cores of the DSP kernels (see el_dsp_s8.h). */
#include "el_dsp_s8.h"

#if EL_KERNELS_HAVE_DSP

void el_dsp_dot4_s8(const int8_t *x, const int8_t *w, int32_t depth, int32_t stride, int32_t input_offset,
                    int32_t sums[4])
{
    const int32_t off2 = el_dup16(input_offset);
    const int8_t *x_end = x + (depth & ~3);
    const int8_t *w0 = w;              /* rows 0 and 1: w0, w0 + stride */
    const int8_t *w2 = w + 2 * stride; /* rows 2 and 3: w2, w2 + stride */
    int32_t a0 = sums[0], a1 = sums[1], a2 = sums[2], a3 = sums[3];
    int32_t k;

    while (x != x_end) {
        const int32_t xv = el_load_s8x4(x);
        const int32_t xe = __sxtab16(off2, xv);      /* (x0, x2) + offset */
        const int32_t xo = el_sxtab16_ror8(off2, xv); /* (x1, x3) + offset */
        int32_t wv;
        x += 4;
        wv = el_load_s8x4(w0 + stride);
        a1 = __smlad(__sxtb16(wv), xe, a1);
        a1 = __smlad(el_sxtb16_ror8(wv), xo, a1);
        wv = el_load_s8x4(w0);
        w0 += 4;
        a0 = __smlad(__sxtb16(wv), xe, a0);
        a0 = __smlad(el_sxtb16_ror8(wv), xo, a0);
        wv = el_load_s8x4(w2 + stride);
        a3 = __smlad(__sxtb16(wv), xe, a3);
        a3 = __smlad(el_sxtb16_ror8(wv), xo, a3);
        wv = el_load_s8x4(w2);
        w2 += 4;
        a2 = __smlad(__sxtb16(wv), xe, a2);
        a2 = __smlad(el_sxtb16_ror8(wv), xo, a2);
    }
    for (k = 0; k < (depth & 3); k++) {
        const int32_t xk = (int32_t)x[k] + input_offset;
        a0 = el_add_wrap(a0, (int32_t)w0[k] * xk);
        a1 = el_add_wrap(a1, (int32_t)w0[stride + k] * xk);
        a2 = el_add_wrap(a2, (int32_t)w2[k] * xk);
        a3 = el_add_wrap(a3, (int32_t)w2[stride + k] * xk);
    }
    sums[0] = a0;
    sums[1] = a1;
    sums[2] = a2;
    sums[3] = a3;
}

int32_t el_dsp_dot1_s8(const int8_t *x, const int8_t *w, int32_t depth, int32_t input_offset, int32_t sum)
{
    const int32_t off2 = el_dup16(input_offset);
    int32_t n = depth >> 2;
    int32_t k;

    while (n-- > 0) {
        const int32_t xv = el_load_s8x4(x);
        const int32_t wv = el_load_s8x4(w);
        x += 4;
        w += 4;
        sum = __smlad(__sxtb16(wv), __sxtab16(off2, xv), sum);
        sum = __smlad(el_sxtb16_ror8(wv), el_sxtab16_ror8(off2, xv), sum);
    }
    for (k = 0; k < (depth & 3); k++) {
        sum = el_add_wrap(sum, (int32_t)w[k] * ((int32_t)x[k] + input_offset));
    }
    return sum;
}

#else
typedef int el_dsp_dot_s8_unused; /* ISO C: a translation unit is not empty */
#endif
