/**
 * @file el_maxpool_s8_dsp.c
 * @brief int8 max pooling with the DSP extension (see el_kernel_paths.h).
 *
 * Four channels per word, the running maximum kept in the output pixel (one pass over its words per window
 * position): SSUB8 sets the GE flag of each byte lane where a - b >= 0 (signed), and SEL then takes
 * that lane from a, else from b, so the pair is a lane-wise maximum (or minimum, with the operands swapped). The
 * last 0-3 channels take the reference's scalar loop. Positions outside the input are skipped, as in the reference
 * (an output with none is -128 before the activation clamp).
 */
#include "el_dsp_s8.h"

#if EL_KERNELS_HAVE_DSP

/** Lane-wise signed maximum of four int8 lanes. */
EL_DSP_INLINE int32_t el_max_s8x4(int32_t a, int32_t b)
{
    (void)__ssub8(a, b);
    return (int32_t)__sel((uint32_t)a, (uint32_t)b);
}

/** Lane-wise signed minimum of four int8 lanes. */
EL_DSP_INLINE int32_t el_min_s8x4(int32_t a, int32_t b)
{
    (void)__ssub8(a, b);
    return (int32_t)__sel((uint32_t)b, (uint32_t)a);
}

el_status el_maxpool_s8_dsp(const el_pool_params *params,
                            const el_dims *in_dims, const int8_t *input,
                            const el_dims *out_dims, int8_t *output)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, depth = in_dims->c;
    const int32_t depth4 = depth & ~3;
    const int32_t lo4 = (int32_t)(((uint32_t)params->act_min & 0xFFu) * 0x01010101u);
    const int32_t hi4 = (int32_t)(((uint32_t)params->act_max & 0xFFu) * 0x01010101u);
    const int32_t clamp = params->act_min > -128 || params->act_max < 127;
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
                const int8_t *base = input + ((uint32_t)b * (uint32_t)in_h * (uint32_t)in_w) * (uint32_t)depth;
                int32_t seen = 0;
                for (fy = fy_start; fy < fy_end; fy++) {
                    for (fx = fx_start; fx < fx_end; fx++) {
                        const int8_t *in_px = base + ((uint32_t)(y0 + fy) * (uint32_t)in_w + (uint32_t)(x0 + fx))
                                                     * (uint32_t)depth;
                        if (seen) {
                            for (c = 0; c < depth4; c += 4) {
                                const int32_t m = el_max_s8x4(el_load_s8x4(in_px + c), el_load_s8x4(out_px + c));
                                EL_DSP_COPY4(out_px + c, &m);
                            }
                        } else {
                            for (c = 0; c < depth4; c += 4) {
                                EL_DSP_COPY4(out_px + c, in_px + c);
                            }
                            seen = 1;
                        }
                    }
                }
                if (!seen) {
                    memset(out_px, -128, (size_t)depth4);
                }
                if (clamp) {
                    for (c = 0; c < depth4; c += 4) {
                        const int32_t m = el_min_s8x4(el_max_s8x4(el_load_s8x4(out_px + c), lo4), hi4);
                        EL_DSP_COPY4(out_px + c, &m);
                    }
                }
                for (c = depth4; c < depth; c++) {
                    int32_t m = -128;
                    for (fy = fy_start; fy < fy_end; fy++) {
                        for (fx = fx_start; fx < fx_end; fx++) {
                            const int32_t v = base[((uint32_t)(y0 + fy) * (uint32_t)in_w + (uint32_t)(x0 + fx))
                                                   * (uint32_t)depth + (uint32_t)c];
                            m = v > m ? v : m;
                        }
                    }
                    out_px[c] = (int8_t)el_clamp(m, params->act_min, params->act_max);
                }
            }
        }
    }
    return EL_OK;
}

#else
typedef int el_maxpool_s8_dsp_unused; /* ISO C: a translation unit is not empty */
#endif
