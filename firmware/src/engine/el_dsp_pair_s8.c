/**
 * @file el_dsp_pair_s8.c
 * @brief The two-pixel core of the DSP CONV_2D (see el_dsp_s8.h): fields expanded to int16 pairs with the input
 *        offset added once per pixel, then two filter rows against two pixels per step (each weight word loaded
 *        and unpacked once for both pixels: 16 MACs per 2 weight loads, 4 SXTB16 and 8 SMLAD).
 */
#include "el_dsp_s8.h"

#if EL_KERNELS_HAVE_DSP

void el_dsp_expand_s8(const int8_t *x, int32_t depth, int32_t input_offset, int32_t *xq)
{
    const int32_t off2 = el_dup16(input_offset);
    const int8_t *x_end = x + (depth & ~3);
    const int32_t tail = depth & 3;
    while (x != x_end) {
        const int32_t v = el_load_s8x4(x);
        x += 4;
        xq[0] = __sxtab16(off2, v);
        xq[1] = el_sxtab16_ror8(off2, v);
        xq += 4;
    }
    if (tail != 0) { /* the last word of the field moved down: x[depth - tail ..] in the low lanes */
        const int32_t v = (int32_t)((uint32_t)el_load_s8x4(x + tail - 4) >> (32 - 8 * tail));
        xq[0] = __sxtab16(off2, v);
        xq[1] = el_sxtab16_ror8(off2, v);
    }
}

/* One group of 4 depth values: the rows' words v0, v1 against the two pixels' expanded words at xq (advanced). */
#define EL_PAIR_GROUP(xq, v0, v1, a0, a1, a2, a3)                                               \
    do {                                                                                       \
        const int32_t w0e = __sxtb16(v0), w0o = el_sxtb16_ror8(v0);                            \
        const int32_t w1e = __sxtb16(v1), w1o = el_sxtb16_ror8(v1);                            \
        int32_t xe = (xq)[0], xo = (xq)[1];                                                    \
        (a0) = __smlad(w0e, xe, (a0));                                                         \
        (a0) = __smlad(w0o, xo, (a0));                                                         \
        (a1) = __smlad(w1e, xe, (a1));                                                         \
        (a1) = __smlad(w1o, xo, (a1));                                                         \
        xe = (xq)[2];                                                                          \
        xo = (xq)[3];                                                                          \
        (xq) += 4;                                                                             \
        (a2) = __smlad(w0e, xe, (a2));                                                         \
        (a2) = __smlad(w0o, xo, (a2));                                                         \
        (a3) = __smlad(w1e, xe, (a3));                                                         \
        (a3) = __smlad(w1o, xo, (a3));                                                         \
    } while (0)

#if defined(__GNUC__)
/* The full groups, at least one: per group 2 LDR, 2 LDRD, 4 SXTB16, 8 SMLAD, CMP, BNE (20 instructions for 16
 * MACs). Written out because GCC spills a pointer inside this loop at -Os and -O2 (14 live registers). */
EL_DSP_INLINE void el_pair_groups(int32_t *a0, int32_t *a1, int32_t *a2, int32_t *a3, const int8_t **w0,
                                  const int8_t **w1, const int32_t **xq, const int8_t *w0_end)
{
    int32_t r0 = *a0, r1 = *a1, r2 = *a2, r3 = *a3;
    const int8_t *p0 = *w0, *p1 = *w1;
    const int32_t *px = *xq;
    int32_t t0, t1, t2, t3, xe, xo;
    __asm__ volatile(
        "1:\n\t"
        "ldr %[t0], [%[p0]], #4\n\t"
        "ldr %[t1], [%[p1]], #4\n\t"
        "ldrd %[xe], %[xo], [%[px]], #8\n\t"
        "sxtb16 %[t2], %[t0]\n\t"
        "sxtb16 %[t0], %[t0], ror #8\n\t"
        "sxtb16 %[t3], %[t1]\n\t"
        "sxtb16 %[t1], %[t1], ror #8\n\t"
        "smlad %[r0], %[t2], %[xe], %[r0]\n\t"
        "smlad %[r0], %[t0], %[xo], %[r0]\n\t"
        "smlad %[r1], %[t3], %[xe], %[r1]\n\t"
        "smlad %[r1], %[t1], %[xo], %[r1]\n\t"
        "ldrd %[xe], %[xo], [%[px]], #8\n\t"
        "smlad %[r2], %[t2], %[xe], %[r2]\n\t"
        "smlad %[r2], %[t0], %[xo], %[r2]\n\t"
        "smlad %[r3], %[t3], %[xe], %[r3]\n\t"
        "smlad %[r3], %[t1], %[xo], %[r3]\n\t"
        "cmp %[p0], %[end]\n\t"
        "bne 1b\n\t"
        : [r0] "+r"(r0), [r1] "+r"(r1), [r2] "+r"(r2), [r3] "+r"(r3), [p0] "+r"(p0), [p1] "+r"(p1),
          [px] "+r"(px), [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [xe] "=&r"(xe),
          [xo] "=&r"(xo)
        : [end] "r"(w0_end)
        : "cc", "memory");
    *a0 = r0;
    *a1 = r1;
    *a2 = r2;
    *a3 = r3;
    *w0 = p0;
    *w1 = p1;
    *xq = px;
}

/* One group from the rows' words v0, v1 (the partial last group, already shifted down). */
EL_DSP_INLINE void el_pair_group1(int32_t *a0, int32_t *a1, int32_t *a2, int32_t *a3, int32_t v0, int32_t v1,
                                  const int32_t *xq)
{
    int32_t r0 = *a0, r1 = *a1, r2 = *a2, r3 = *a3;
    int32_t t2, t3, xe, xo;
    __asm__(
        "ldrd %[xe], %[xo], [%[px]]\n\t"
        "sxtb16 %[t2], %[v0]\n\t"
        "sxtb16 %[v0], %[v0], ror #8\n\t"
        "sxtb16 %[t3], %[v1]\n\t"
        "sxtb16 %[v1], %[v1], ror #8\n\t"
        "smlad %[r0], %[t2], %[xe], %[r0]\n\t"
        "smlad %[r0], %[v0], %[xo], %[r0]\n\t"
        "smlad %[r1], %[t3], %[xe], %[r1]\n\t"
        "smlad %[r1], %[v1], %[xo], %[r1]\n\t"
        "ldrd %[xe], %[xo], [%[px], #8]\n\t"
        "smlad %[r2], %[t2], %[xe], %[r2]\n\t"
        "smlad %[r2], %[v0], %[xo], %[r2]\n\t"
        "smlad %[r3], %[t3], %[xe], %[r3]\n\t"
        "smlad %[r3], %[v1], %[xo], %[r3]\n\t"
        : [r0] "+r"(r0), [r1] "+r"(r1), [r2] "+r"(r2), [r3] "+r"(r3), [v0] "+r"(v0), [v1] "+r"(v1),
          [t2] "=&r"(t2), [t3] "=&r"(t3), [xe] "=&r"(xe), [xo] "=&r"(xo)
        : [px] "r"(xq)
        : "memory");
    *a0 = r0;
    *a1 = r1;
    *a2 = r2;
    *a3 = r3;
}
#else
EL_DSP_INLINE void el_pair_groups(int32_t *a0, int32_t *a1, int32_t *a2, int32_t *a3, const int8_t **w0,
                                  const int8_t **w1, const int32_t **xq, const int8_t *w0_end)
{
    int32_t r0 = *a0, r1 = *a1, r2 = *a2, r3 = *a3;
    const int8_t *p0 = *w0, *p1 = *w1;
    const int32_t *px = *xq;
    while (p0 != w0_end) {
        const int32_t v0 = el_load_s8x4(p0);
        const int32_t v1 = el_load_s8x4(p1);
        p0 += 4;
        p1 += 4;
        EL_PAIR_GROUP(px, v0, v1, r0, r1, r2, r3);
    }
    *a0 = r0;
    *a1 = r1;
    *a2 = r2;
    *a3 = r3;
    *w0 = p0;
    *w1 = p1;
    *xq = px;
}

EL_DSP_INLINE void el_pair_group1(int32_t *a0, int32_t *a1, int32_t *a2, int32_t *a3, int32_t v0, int32_t v1,
                                  const int32_t *xq)
{
    int32_t r0 = *a0, r1 = *a1, r2 = *a2, r3 = *a3;
    EL_PAIR_GROUP(xq, v0, v1, r0, r1, r2, r3);
    *a0 = r0;
    *a1 = r1;
    *a2 = r2;
    *a3 = r3;
}
#endif

void el_dsp_pair_sums_s8(const int32_t *xq, const int8_t *rows, int32_t depth, int32_t n_rows, const int32_t *bias,
                         int32_t *sums, int32_t step, int32_t two_px)
{
    const int32_t full = depth & ~3;
    const int32_t tail = depth & 3;
    const uint32_t s = 32u - 8u * (uint32_t)tail;
    const int32_t *const xq0 = xq;
    int32_t r;
    for (r = 0; r < n_rows; r += 2) {
        const int32_t two_ch = n_rows - r >= 2;
        const int8_t *w0 = rows + (uint32_t)r * (uint32_t)depth;
        const int8_t *w1 = two_ch ? w0 + depth : w0;
        const int8_t *const w0_end = w0 + full;
        int32_t a0 = bias != NULL ? bias[r] : 0;
        int32_t a1 = bias != NULL ? bias[r + two_ch] : 0;
        int32_t a2 = a0, a3 = a1;
        xq = xq0;
        if (w0 != w0_end) {
            el_pair_groups(&a0, &a1, &a2, &a3, &w0, &w1, &xq, w0_end);
        }
        if (tail != 0) { /* the rows' last words moved down, zeros above: the lanes past the depth add nothing */
            const int32_t v0 = (int32_t)((uint32_t)el_load_s8x4(w0 + tail - 4) >> s);
            const int32_t v1 = (int32_t)((uint32_t)el_load_s8x4(w1 + tail - 4) >> s);
            el_pair_group1(&a0, &a1, &a2, &a3, v0, v1, xq);
        }
        sums[0] = a0;
        if (two_px) {
            sums[1] = a2;
        }
        if (two_ch) {
            sums[step] = a1;
            if (two_px) {
                sums[step + 1] = a3;
            }
        }
        sums += 2 * step;
    }
}

#else
typedef int el_dsp_pair_s8_unused; /* ISO C: a translation unit is not empty */
#endif
