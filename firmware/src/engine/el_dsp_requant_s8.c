/**
 * @file el_dsp_requant_s8.c
 * @brief The DSP kernels' output step over a block of sums (see el_dsp_s8.h).
 *
 * The arithmetic is TFLite's MultiplyByQuantizedMultiplier with double rounding (el_mbqm), rewritten for one
 * channel's shift known ahead of its pixels:
 * - x * 2^left wraps modulo 2^32 (el_mul_wrap);
 * - SaturatingRoundingDoublingHighMul is (x * m + 2^30) >> 31 on the 64-bit product (el_srdhm); it saturates only
 *   for x = m = INT32_MIN, which a multiplier >= 0 excludes (a negative one takes el_mbqm itself);
 * - RoundingDivideByPOT(t, right) is (t >> right) + ((t & mask) > (mask >> 1) + (t < 0)), with mask = 2^right - 1,
 *   where (t < 0) is -(t >> 31);
 * - + output_offset (wrapping), saturated to int8 (SSAT), then clamped to the activation range four lanes at a
 *   time: clamping to [-128, 127] first changes nothing when act_min >= -128 and act_max <= 127.
 */
#include "el_dsp_s8.h"

#if EL_KERNELS_HAVE_DSP

/* Bytes y[p * stride + c] for p < n_px, c < n_ch clamped to [lo, hi] (they are int8 already), four lanes per
 * SSUB8/SEL pair where the channels allow. */
static void clamp_block(int8_t *y, int32_t n_px, int32_t n_ch, int32_t stride, int32_t lo, int32_t hi)
{
    const int32_t lo4 = (int32_t)(((uint32_t)lo & 0xFFu) * 0x01010101u);
    const int32_t hi4 = (int32_t)(((uint32_t)hi & 0xFFu) * 0x01010101u);
    int32_t p, c;
    for (p = 0; p < n_px; p++) {
        for (c = 0; c + 4 <= n_ch; c += 4) {
            int32_t v = el_load_s8x4(y + c);
            (void)__ssub8(v, lo4);
            v = (int32_t)__sel((uint32_t)v, (uint32_t)lo4);
            (void)__ssub8(v, hi4);
            v = (int32_t)__sel((uint32_t)hi4, (uint32_t)v);
            EL_DSP_COPY4(y + c, &v);
        }
        for (; c < n_ch; c++) {
            y[c] = (int8_t)el_clamp(y[c], lo, hi);
        }
        y += stride;
    }
}

void el_dsp_requant_s8(const el_dsp_out *o, const int32_t *sums, int32_t n_px, int32_t n_ch, int32_t first,
                       int8_t *out, int32_t out_stride)
{
    const el_dsp_out st = *o;
    int32_t c;

    for (c = 0; c < n_ch; c++) {
        const int32_t k = st.per_channel ? first + c : 0;
        const int32_t m = st.multiplier[k];
        const int32_t shift = st.shift[k];
        const int32_t *s = sums + c * n_px;
        int8_t *y = out + c;
        int8_t *const y_end = y + n_px * out_stride;
        if (m < 0) {
            for (; y != y_end; y += out_stride) {
                *y = el_dsp_out_s8(&st, *s++, first + c);
            }
        } else {
            const uint32_t left = shift > 0 ? (uint32_t)shift : 0u;
            const uint32_t right = shift > 0 ? 0u : (uint32_t)-shift;
            const int32_t mask = (int32_t)((1u << right) - 1u);
            const int32_t off = st.output_offset;
            for (; y != y_end; y += out_stride) {
                const int32_t x = (int32_t)((uint32_t)*s++ << left);
                const int32_t t = (int32_t)(((int64_t)x * m + ((int64_t)1 << 30)) >> 31);
                const int32_t q = (t >> right) + ((t & mask) > (mask >> 1) - (t >> 31));
                /* int8 saturation first: the activation range lies inside it, so the clamp below is the same */
                *y = (int8_t)__ssat(el_add_wrap(q, off), 8);
            }
        }
    }
    if (st.act_min > -128 || st.act_max < 127) {
        clamp_block(out, n_px, n_ch, out_stride, st.act_min, st.act_max);
    }
}

#else
typedef int el_dsp_requant_s8_unused; /* ISO C: a translation unit is not empty */
#endif
