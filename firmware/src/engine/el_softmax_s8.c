/** @file el_softmax_s8.c @brief int8 -> int8 softmax, gemmlowp fixed-point path (see el_kernels.h). */
#include "el_kernels.h"
#include "el_fixedpoint.h"

/* The scaled input difference is Q5.26; the sum of exponentials is Q12.19. */
#define EL_SOFTMAX_DIFF_INT_BITS 5
#define EL_SOFTMAX_ACCUM_INT_BITS 12

/** exp(beta * s_in * diff) in Q0 for diff = x - max (<= 0). */
static int32_t el_softmax_exp(int32_t diff, int32_t input_multiplier, int input_left_shift)
{
    const int32_t scaled = el_mbqm_gt_one(diff, input_multiplier, input_left_shift);
    return el_exp_on_negative_values(scaled, EL_SOFTMAX_DIFF_INT_BITS);
}

el_status el_softmax_s8(const int8_t *input, int32_t outer, int32_t depth,
                        int32_t input_multiplier, int32_t input_left_shift, int32_t diff_min,
                        int8_t *output)
{
    int32_t r, c;
    if (outer <= 0 || depth <= 0 || input_left_shift < 0 || input_left_shift > 30) {
        return EL_ERR_ARG;
    }
    for (r = 0; r < outer; r++) {
        const int8_t *in = input + (uint32_t)r * (uint32_t)depth;
        int8_t *out = output + (uint32_t)r * (uint32_t)depth;
        int32_t max = -128;
        int32_t sum = 0; /* Q12 */
        int32_t recip;
        int bits_over_unit;
        int exponent;

        for (c = 0; c < depth; c++) {
            if (in[c] > max) {
                max = in[c];
            }
        }
        for (c = 0; c < depth; c++) {
            const int32_t diff = (int32_t)in[c] - max;
            if (diff >= diff_min) {
                const int32_t e = el_softmax_exp(diff, input_multiplier, (int)input_left_shift);
                sum = el_add_wrap(sum, el_srmbpot(e, -EL_SOFTMAX_ACCUM_INT_BITS));
            }
        }
        recip = el_get_reciprocal(sum, EL_SOFTMAX_ACCUM_INT_BITS, &bits_over_unit);
        exponent = bits_over_unit + 31 - 8;
        if (exponent < 0 || exponent > 31) {
            return EL_ERR_ARG; /* unreachable for diff_min <= 0: the max element adds 1.0 */
        }
        for (c = 0; c < depth; c++) {
            const int32_t diff = (int32_t)in[c] - max;
            if (diff >= diff_min) {
                const int32_t e = el_softmax_exp(diff, input_multiplier, (int)input_left_shift);
                const int32_t q = el_rdbpot(el_srdhm(recip, e), exponent) - 128;
                out[c] = (int8_t)el_clamp(q, -128, 127);
            } else {
                out[c] = -128;
            }
        }
    }
    return EL_OK;
}
