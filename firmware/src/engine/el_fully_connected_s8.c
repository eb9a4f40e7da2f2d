/** @file el_fully_connected_s8.c @brief int8 fully connected layer (see el_kernels.h); the portable reference and the build's choice of path (el_kernel_paths.h). */
#include "el_kernel_paths.h"
#include "el_fixedpoint.h"

el_status el_fully_connected_s8(const el_fc_params *params, const el_requant *rq,
                                int32_t batches, int32_t accum_depth, int32_t out_depth,
                                const int8_t *input, const int8_t *weights,
                                const int32_t *bias, int8_t *output)
{
#if EL_KERNELS_DSP
    return el_fully_connected_s8_dsp(params, rq, batches, accum_depth, out_depth, input, weights, bias, output);
#else
    return el_fully_connected_s8_ref(params, rq, batches, accum_depth, out_depth, input, weights, bias, output);
#endif
}

el_status el_fully_connected_s8_ref(const el_fc_params *params, const el_requant *rq,
                                    int32_t batches, int32_t accum_depth, int32_t out_depth,
                                    const int8_t *input, const int8_t *weights,
                                    const int32_t *bias, int8_t *output)
{
    int32_t b, o, d;
    if (batches <= 0 || accum_depth <= 0 || out_depth <= 0) {
        return EL_ERR_ARG;
    }
    if (rq->n != 1u && rq->n != (uint32_t)out_depth) {
        return EL_ERR_ARG;
    }
    for (b = 0; b < batches; b++) {
        const int8_t *in_row = input + (uint32_t)b * (uint32_t)accum_depth;
        for (o = 0; o < out_depth; o++) {
            const int8_t *w_row = weights + (uint32_t)o * (uint32_t)accum_depth;
            const uint32_t k = rq->n == 1u ? 0u : (uint32_t)o;
            int32_t acc = 0;
            for (d = 0; d < accum_depth; d++) {
                const int32_t x = (int32_t)in_row[d] + params->input_offset;
                const int32_t w = (int32_t)w_row[d] + params->filter_offset;
                acc = el_add_wrap(acc, w * x);
            }
            if (bias != NULL) {
                acc = el_add_wrap(acc, bias[o]);
            }
            acc = el_mbqm(acc, rq->multiplier[k], (int)rq->shift[k]);
            acc = el_add_wrap(acc, params->output_offset);
            output[(uint32_t)b * (uint32_t)out_depth + (uint32_t)o] =
                (int8_t)el_clamp(acc, params->act_min, params->act_max);
        }
    }
    return EL_OK;
}
