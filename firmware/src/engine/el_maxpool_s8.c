/** @file el_maxpool_s8.c @brief int8 max pooling (see el_kernels.h); the portable reference and the build's choice of path (el_kernel_paths.h). */
#include "el_kernel_paths.h"
#include "el_fixedpoint.h"

el_status el_maxpool_s8(const el_pool_params *params,
                        const el_dims *in_dims, const int8_t *input,
                        const el_dims *out_dims, int8_t *output)
{
#if EL_KERNELS_DSP
    return el_maxpool_s8_dsp(params, in_dims, input, out_dims, output);
#else
    return el_maxpool_s8_ref(params, in_dims, input, out_dims, output);
#endif
}

el_status el_maxpool_s8_ref(const el_pool_params *params,
                            const el_dims *in_dims, const int8_t *input,
                            const el_dims *out_dims, int8_t *output)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, depth = in_dims->c;
    int32_t b, oy, ox, c, fy, fx;

    if (in_dims->n != out_dims->n || out_dims->c != depth) {
        return EL_ERR_ARG;
    }
    for (b = 0; b < out_dims->n; b++) {
        for (oy = 0; oy < out_dims->h; oy++) {
            const int32_t y0 = oy * params->stride_h - params->pad_h;
            const int32_t fy_start = y0 < 0 ? -y0 : 0;
            const int32_t fy_end = params->filter_h < in_h - y0 ? params->filter_h : in_h - y0;
            for (ox = 0; ox < out_dims->w; ox++) {
                const int32_t x0 = ox * params->stride_w - params->pad_w;
                const int32_t fx_start = x0 < 0 ? -x0 : 0;
                const int32_t fx_end = params->filter_w < in_w - x0 ? params->filter_w : in_w - x0;
                int8_t *out_px = output + (((uint32_t)b * (uint32_t)out_dims->h + (uint32_t)oy) * (uint32_t)out_dims->w
                                           + (uint32_t)ox) * (uint32_t)depth;
                /* the running maximum of every channel lives in the output pixel (-128 if no position) */
                for (c = 0; c < depth; c++) {
                    out_px[c] = -128;
                }
                for (fy = fy_start; fy < fy_end; fy++) {
                    const uint32_t row = ((uint32_t)b * (uint32_t)in_h + (uint32_t)(y0 + fy)) * (uint32_t)in_w;
                    for (fx = fx_start; fx < fx_end; fx++) {
                        const int8_t *in_px = input + (row + (uint32_t)(x0 + fx)) * (uint32_t)depth;
                        for (c = 0; c < depth; c++) {
                            if (in_px[c] > out_px[c]) {
                                out_px[c] = in_px[c];
                            }
                        }
                    }
                }
                for (c = 0; c < depth; c++) {
                    out_px[c] = (int8_t)el_clamp(out_px[c], params->act_min, params->act_max);
                }
            }
        }
    }
    return EL_OK;
}
