/** @file el_fully_connected_s8_dsp.c @brief int8 fully connected layer with the DSP extension (see el_kernel_paths.h). */
#include "el_dsp_s8.h"

#if EL_KERNELS_HAVE_DSP

el_status el_fully_connected_s8_dsp(const el_fc_params *params, const el_requant *rq,
                                    int32_t batches, int32_t accum_depth, int32_t out_depth,
                                    const int8_t *input, const int8_t *weights,
                                    const int32_t *bias, int8_t *output)
{
    const int32_t in_off = params->input_offset;
    const el_dsp_out out_step = el_dsp_out_of(rq, params->output_offset, params->act_min, params->act_max);
    int32_t sums[EL_DSP_SUMS_MAX];
    int32_t b, o0, o, r;

    if (batches <= 0 || accum_depth <= 0 || out_depth <= 0) {
        return EL_ERR_ARG;
    }
    if (rq->n != 1u && rq->n != (uint32_t)out_depth) {
        return EL_ERR_ARG;
    }
    if (params->filter_offset != 0 || in_off < -127 || in_off > 128) {
        /* asymmetric weights (TFLite's converters make none), or an offset that does not fit the int16 lanes */
        return el_fully_connected_s8_ref(params, rq, batches, accum_depth, out_depth, input, weights, bias, output);
    }
    for (b = 0; b < batches; b++) {
        const int8_t *in_row = input + (uint32_t)b * (uint32_t)accum_depth;
        int8_t *out_row = output + (uint32_t)b * (uint32_t)out_depth;
        for (o0 = 0; o0 < out_depth; o0 += EL_DSP_SUMS_MAX) {
            const int32_t n = out_depth - o0 < EL_DSP_SUMS_MAX ? out_depth - o0 : EL_DSP_SUMS_MAX;
            for (o = 0; o < n; o += 4) {
                const int8_t *w_rows = weights + (uint32_t)(o0 + o) * (uint32_t)accum_depth;
                const int32_t rows = n - o < 4 ? n - o : 4;
                for (r = 0; r < rows; r++) {
                    sums[o + r] = bias != NULL ? bias[o0 + o + r] : 0;
                }
                if (rows == 4) {
                    el_dsp_dot4_s8(in_row, w_rows, accum_depth, accum_depth, in_off, sums + o);
                } else {
                    for (r = 0; r < rows; r++) {
                        sums[o + r] = el_dsp_dot1_s8(in_row, w_rows + (uint32_t)r * (uint32_t)accum_depth,
                                                     accum_depth, in_off, sums[o + r]);
                    }
                }
            }
            el_dsp_requant_s8(&out_step, sums, 1, n, o0, out_row + o0, n);
        }
    }
    return EL_OK;
}

#else
typedef int el_fully_connected_s8_dsp_unused; /* ISO C: a translation unit is not empty */
#endif
