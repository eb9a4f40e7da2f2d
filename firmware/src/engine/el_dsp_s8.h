/**
 * @file el_dsp_s8.h
 * @brief Building blocks of the DSP kernels (el_kernel_paths.h): packed int8 loads, the dot-product cores and
 *        the per-output requantization. Only for targets with `__ARM_FEATURE_DSP`.
 *
 * Packed layout: a word holds 4 consecutive int8 values b0..b3 (little endian). SXTB16 gives the int16 pair
 * (b0, b2) and, after a rotation by 8, (b1, b3); SMLAD multiplies two such pairs lane by lane and adds both
 * products to an int32 accumulator (wrapping, as the reference's el_add_wrap). Activations get their offset while
 * they are unpacked (SXTAB16 with the offset in both lanes): x + input_offset is in [-255, 255] and fits int16.
 */
#ifndef EL_DSP_S8_H
#define EL_DSP_S8_H

#include <stdint.h>
#include <string.h>

#include "el_fixedpoint.h"
#include "el_kernel_paths.h"

#if EL_KERNELS_HAVE_DSP
#include <arm_acle.h>

/* The helpers below must be inlined into the loops even at -Os, and the 4-byte copy must stay a single LDR
 * although the firmware is built -ffreestanding (where memcpy is not a builtin). */
#if defined(__GNUC__)
#define EL_DSP_INLINE static inline __attribute__((always_inline))
#define EL_DSP_COPY4(dst, src) __builtin_memcpy((dst), (src), 4)
#else
#define EL_DSP_INLINE static inline
#define EL_DSP_COPY4(dst, src) memcpy((dst), (src), 4)
#endif

/** 4 consecutive int8 values as one word; p need not be aligned (LDR allows it on Armv7-M and later). */
EL_DSP_INLINE int32_t el_load_s8x4(const int8_t *p)
{
    int32_t v;
    EL_DSP_COPY4(&v, p);
    return v;
}

/** v rotated right by 8 bits (the ACLE's __ror, which GCC's arm_acle.h lacks). */
EL_DSP_INLINE int32_t el_ror8(int32_t v)
{
    return (int32_t)(((uint32_t)v >> 8) | ((uint32_t)v << 24));
}

/* SXTB16 and SXTAB16 of a word rotated by 8 (bytes 1 and 3): one instruction each through the instructions' own
 * rotation field. GCC does not fold a rotation into the intrinsics, so it is written out for GCC and Clang. */
#if defined(__GNUC__)
EL_DSP_INLINE int32_t el_sxtb16_ror8(int32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

EL_DSP_INLINE int32_t el_sxtab16_ror8(int32_t a, int32_t v)
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(v));
    return r;
}
#else
EL_DSP_INLINE int32_t el_sxtb16_ror8(int32_t v)
{
    return __sxtb16(el_ror8(v));
}

EL_DSP_INLINE int32_t el_sxtab16_ror8(int32_t a, int32_t v)
{
    return __sxtab16(a, el_ror8(v));
}
#endif

/** The int16 value v in both lanes of a word. */
EL_DSP_INLINE int32_t el_dup16(int32_t v)
{
    return (int32_t)(((uint32_t)v & 0xFFFFu) * 0x10001u);
}

/** The output step of a kernel, read once per call into locals (the int8 output may alias anything, so fields
 *  read through pointers would be reloaded after every store). */
typedef struct {
    const int32_t *multiplier; /**< Q31, one per channel or one in all */
    const int32_t *shift;
    int32_t per_channel;       /**< 1: index by channel; 0: per-tensor */
    int32_t output_offset, act_min, act_max;
} el_dsp_out;

/** The reference's output step of channel k: clamp(MBQM(acc, multiplier, shift) + output_offset, act_min, act_max). */
EL_DSP_INLINE int8_t el_dsp_out_s8(const el_dsp_out *o, int32_t acc, int32_t k)
{
    const int32_t i = o->per_channel ? k : 0;
    return (int8_t)el_clamp(el_add_wrap(el_mbqm(acc, o->multiplier[i], (int)o->shift[i]), o->output_offset),
                            o->act_min, o->act_max);
}

/** Largest block of int32 sums (pixels x channels) the kernels requantize at once; on the stack. */
#define EL_DSP_SUMS_MAX 128

/**
 * The output step of a block: out[p * out_stride + c] = the output step of sums[c * n_px + p] (channel-major),
 * channel first + c, for p < n_px, c < n_ch. Channel by channel, so each channel's multiplier and shift are read and turned into
 * shift amounts and rounding masks once for the n_px pixels.
 * @param n_px >= 1; @param n_ch >= 1; @param out_stride bytes between two pixels of out (>= n_ch)
 * The activation range must lie in [-128, 127] with act_min <= act_max (as the op's prepare checks).
 */
void el_dsp_requant_s8(const el_dsp_out *o, const int32_t *sums, int32_t n_px, int32_t n_ch, int32_t first,
                       int8_t *out, int32_t out_stride);

/** The output step of a kernel from its requantization and parameters. */
EL_DSP_INLINE el_dsp_out el_dsp_out_of(const el_requant *rq, int32_t output_offset, int32_t act_min,
                                       int32_t act_max)
{
    el_dsp_out o;
    o.multiplier = rq->multiplier;
    o.shift = rq->shift;
    o.per_channel = rq->n != 1u;
    o.output_offset = output_offset;
    o.act_min = act_min;
    o.act_max = act_max;
    return o;
}

/**
 * sums[r] += sum_{k < depth} w[r * stride + k] * (x[k] + input_offset) for r = 0..3 (four weight rows against one
 * activation vector, which is unpacked once per 4 values for all four rows).
 * @param depth >= 0; @param input_offset in [-127, 128]
 */
void el_dsp_dot4_s8(const int8_t *x, const int8_t *w, int32_t depth, int32_t stride, int32_t input_offset,
                    int32_t sums[4]);

/** sum + sum_{k < depth} w[k] * (x[k] + input_offset). */
int32_t el_dsp_dot1_s8(const int8_t *x, const int8_t *w, int32_t depth, int32_t input_offset, int32_t sum);

/**
 * A field of depth int8 values expanded for el_dsp_pair_sums_s8: per group of 4 values g, xq[4g] = (x0, x2) + offset
 * and xq[4g + 1] = (x1, x3) + offset as int16 pairs (words 4g + 2 and 4g + 3 are the other pixel's). A last
 * partial group is read as the field's last word (never past its end) and holds the 1-3 values in its low lanes.
 * @param depth >= 4; @param input_offset in [-127, 128]; @param xq (depth + 3) / 4 * 4 words
 */
void el_dsp_expand_s8(const int8_t *x, int32_t depth, int32_t input_offset, int32_t *xq);

/**
 * n_rows filter rows (depth values each, one after the other) against two expanded pixels A and B, two rows at a
 * time so that each weight word is unpacked once for both pixels: sums[r * step] = bias[r] + rows[r] . A and,
 * if two_px, sums[r * step + 1] = bias[r] + rows[r] . B (bias NULL: 0). xq holds A in words 4g, 4g + 1 and B in
 * words 4g + 2, 4g + 3 (el_dsp_expand_s8). A last partial group of a row is read as the row's last word, shifted
 * down, so the lanes past the depth have weight 0 and no byte past a row is read.
 * @param depth >= 4; @param n_rows >= 1
 */
void el_dsp_pair_sums_s8(const int32_t *xq, const int8_t *rows, int32_t depth, int32_t n_rows, const int32_t *bias,
                         int32_t *sums, int32_t step, int32_t two_px);

#endif /* EL_KERNELS_HAVE_DSP */

#endif /* EL_DSP_S8_H */
