/** @file el_depthwise_conv_s8.c @brief int8 depthwise 2-D convolution, per-channel quantized (see el_kernels.h); the portable reference and the build's choice of path (el_kernel_paths.h). */
#include "el_kernel_paths.h"
#include "el_fixedpoint.h"

el_status el_depthwise_conv_s8(const el_conv_params *params, const el_requant *rq,
                               const el_dims *in_dims, const int8_t *input,
                               const el_dims *filter_dims, const int8_t *filter,
                               const int32_t *bias,
                               const el_dims *out_dims, int8_t *output)
{
#if EL_KERNELS_DSP
    return el_depthwise_conv_s8_dsp(params, rq, in_dims, input, filter_dims, filter, bias, out_dims, output);
#else
    return el_depthwise_conv_s8_ref(params, rq, in_dims, input, filter_dims, filter, bias, out_dims, output);
#endif
}

el_status el_depthwise_conv_s8_ref(const el_conv_params *params, const el_requant *rq,
                                   const el_dims *in_dims, const int8_t *input,
                                   const el_dims *filter_dims, const int8_t *filter,
                                   const int32_t *bias,
                                   const el_dims *out_dims, int8_t *output)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, in_c = in_dims->c;
    const int32_t f_h = filter_dims->h, f_w = filter_dims->w;
    const int32_t out_h = out_dims->h, out_w = out_dims->w, out_c = out_dims->c;
    const int32_t mult = params->depth_multiplier;
    int32_t b, oy, ox, ic, m, fy, fx;

    if (in_dims->n != out_dims->n || filter_dims->n != 1 || filter_dims->c != out_c
        || mult <= 0 || in_c * mult != out_c) {
        return EL_ERR_ARG;
    }
    if (rq->n != 1u && rq->n != (uint32_t)out_c) {
        return EL_ERR_ARG;
    }

    for (b = 0; b < out_dims->n; b++) {
        for (oy = 0; oy < out_h; oy++) {
            const int32_t y0 = oy * params->stride_h - params->pad_h;
            for (ox = 0; ox < out_w; ox++) {
                const int32_t x0 = ox * params->stride_w - params->pad_w;
                for (ic = 0; ic < in_c; ic++) {
                    for (m = 0; m < mult; m++) {
                        const int32_t oc = ic * mult + m;
                        const uint32_t k = rq->n == 1u ? 0u : (uint32_t)oc;
                        int32_t acc = 0;
                        for (fy = 0; fy < f_h; fy++) {
                            const int32_t iy = y0 + params->dilation_h * fy;
                            if (iy < 0 || iy >= in_h) {
                                continue;
                            }
                            for (fx = 0; fx < f_w; fx++) {
                                const int32_t ix = x0 + params->dilation_w * fx;
                                int32_t x, w;
                                if (ix < 0 || ix >= in_w) {
                                    continue;
                                }
                                x = input[(((uint32_t)b * (uint32_t)in_h + (uint32_t)iy) * (uint32_t)in_w
                                           + (uint32_t)ix) * (uint32_t)in_c + (uint32_t)ic];
                                w = filter[((uint32_t)fy * (uint32_t)f_w + (uint32_t)fx) * (uint32_t)out_c
                                           + (uint32_t)oc];
                                acc = el_add_wrap(acc, w * (x + params->input_offset));
                            }
                        }
                        if (bias != NULL) {
                            acc = el_add_wrap(acc, bias[oc]);
                        }
                        acc = el_mbqm(acc, rq->multiplier[k], (int)rq->shift[k]);
                        acc = el_add_wrap(acc, params->output_offset);
                        output[(((uint32_t)b * (uint32_t)out_h + (uint32_t)oy) * (uint32_t)out_w + (uint32_t)ox)
                               * (uint32_t)out_c + (uint32_t)oc] =
                            (int8_t)el_clamp(acc, params->act_min, params->act_max);
                    }
                }
            }
        }
    }
    return EL_OK;
}
