/**
 * @file el_depthwise_conv_s8_dsp.c
 * @brief int8 depthwise 2-D convolution with the DSP extension (see el_kernel_paths.h).
 *
 * Depth multiplier 1: four channels per word. Input and filter words are unpacked into (c0, c2) and (c1, c3)
 * int16 pairs and SMLABB / SMLATT accumulate each lane into its own channel's sum. Other multipliers, and the
 * channels left over, take a scalar loop. Either way only the filter taps inside the input are visited (padding
 * contributes nothing, as in the reference).
 */
#include "el_dsp_s8.h"

#if EL_KERNELS_HAVE_DSP

/* The taps t in [*lo, *hi) of a filter axis whose input position start + dilation * t lies in [0, size). */
static void tap_range(int32_t start, int32_t dilation, int32_t taps, int32_t size, int32_t *lo, int32_t *hi)
{
    int32_t a = 0, z = taps;
    while (a < taps && start + dilation * a < 0) {
        a++;
    }
    while (z > a && start + dilation * (z - 1) >= size) {
        z--;
    }
    *lo = a;
    *hi = z;
}

typedef struct {
    const int8_t *image; /* this batch's input */
    int32_t y0, x0;      /* top-left input position of the pixel's window */
    int32_t fy0, fy1, fx0, fx1;
} el_dw_window;

/* Channels [c, c + 4) of one pixel, depth multiplier 1: sums[] += the taps' products. */
static void dw_channels4(const el_conv_params *p, const el_dims *in_dims, const el_dims *f_dims,
                         const int8_t *filter, const el_dw_window *win, int32_t c, int32_t sums[4])
{
    const int32_t in_c = in_dims->c;
    const int32_t off2 = el_dup16(p->input_offset);
    int32_t a0 = sums[0], a1 = sums[1], a2 = sums[2], a3 = sums[3];
    int32_t fy, fx;
    for (fy = win->fy0; fy < win->fy1; fy++) {
        const int32_t iy = win->y0 + p->dilation_h * fy;
        const int8_t *x = win->image + ((uint32_t)iy * (uint32_t)in_dims->w
                                        + (uint32_t)(win->x0 + p->dilation_w * win->fx0)) * (uint32_t)in_c
                          + (uint32_t)c;
        const int8_t *w = filter + ((uint32_t)fy * (uint32_t)f_dims->w + (uint32_t)win->fx0) * (uint32_t)in_c
                          + (uint32_t)c;
        const int32_t x_step = p->dilation_w * in_c;
        for (fx = win->fx0; fx < win->fx1; fx++) {
            const int32_t xv = el_load_s8x4(x);
            const int32_t wv = el_load_s8x4(w);
            const int32_t xe = __sxtab16(off2, xv), xo = el_sxtab16_ror8(off2, xv);
            const int32_t we = __sxtb16(wv), wo = el_sxtb16_ror8(wv);
            a0 = __smlabb(we, xe, a0);
            a2 = __smlatt(we, xe, a2);
            a1 = __smlabb(wo, xo, a1);
            a3 = __smlatt(wo, xo, a3);
            x += x_step;
            w += in_c;
        }
    }
    sums[0] = a0;
    sums[1] = a1;
    sums[2] = a2;
    sums[3] = a3;
}

/* Output channel oc (input channel oc / multiplier) of one pixel: sum + the taps' products. */
static int32_t dw_channel1(const el_conv_params *p, const el_dims *in_dims, const el_dims *f_dims,
                           const int8_t *filter, const el_dw_window *win, int32_t oc, int32_t sum)
{
    const int32_t in_c = in_dims->c, out_c = f_dims->c;
    const int32_t ic = oc / p->depth_multiplier;
    int32_t fy, fx;
    for (fy = win->fy0; fy < win->fy1; fy++) {
        const int32_t iy = win->y0 + p->dilation_h * fy;
        const int8_t *x = win->image + ((uint32_t)iy * (uint32_t)in_dims->w
                                        + (uint32_t)(win->x0 + p->dilation_w * win->fx0)) * (uint32_t)in_c
                          + (uint32_t)ic;
        const int8_t *w = filter + ((uint32_t)fy * (uint32_t)f_dims->w + (uint32_t)win->fx0) * (uint32_t)out_c
                          + (uint32_t)oc;
        const int32_t x_step = p->dilation_w * in_c;
        for (fx = win->fx0; fx < win->fx1; fx++) {
            sum = el_add_wrap(sum, (int32_t)*w * ((int32_t)*x + p->input_offset));
            x += x_step;
            w += out_c;
        }
    }
    return sum;
}

el_status el_depthwise_conv_s8_dsp(const el_conv_params *params, const el_requant *rq,
                                   const el_dims *in_dims, const int8_t *input,
                                   const el_dims *filter_dims, const int8_t *filter,
                                   const int32_t *bias,
                                   const el_dims *out_dims, int8_t *output)
{
    const int32_t in_c = in_dims->c, out_c = out_dims->c;
    const int32_t mult = params->depth_multiplier;
    const el_dsp_out out_step = el_dsp_out_of(rq, params->output_offset, params->act_min, params->act_max);
    el_dw_window win;
    int32_t b, oy, ox, oc, r;

    if (in_dims->n != out_dims->n || filter_dims->n != 1 || filter_dims->c != out_c
        || mult <= 0 || in_c * mult != out_c) {
        return EL_ERR_ARG;
    }
    if (rq->n != 1u && rq->n != (uint32_t)out_c) {
        return EL_ERR_ARG;
    }
    if (params->input_offset < -127 || params->input_offset > 128) { /* does not fit the int16 lanes */
        return el_depthwise_conv_s8_ref(params, rq, in_dims, input, filter_dims, filter, bias, out_dims, output);
    }
    for (b = 0; b < out_dims->n; b++) {
        win.image = input + (uint32_t)b * (uint32_t)in_dims->h * (uint32_t)in_dims->w * (uint32_t)in_c;
        for (oy = 0; oy < out_dims->h; oy++) {
            win.y0 = oy * params->stride_h - params->pad_h;
            tap_range(win.y0, params->dilation_h, filter_dims->h, in_dims->h, &win.fy0, &win.fy1);
            for (ox = 0; ox < out_dims->w; ox++) {
                int8_t *out_px = output + (((uint32_t)b * (uint32_t)out_dims->h + (uint32_t)oy)
                                           * (uint32_t)out_dims->w + (uint32_t)ox) * (uint32_t)out_c;
                win.x0 = ox * params->stride_w - params->pad_w;
                tap_range(win.x0, params->dilation_w, filter_dims->w, in_dims->w, &win.fx0, &win.fx1);
                for (oc = 0; oc < out_c; oc += 4) {
                    const int32_t n = out_c - oc < 4 ? out_c - oc : 4;
                    int32_t sums[4];
                    for (r = 0; r < n; r++) {
                        sums[r] = bias != NULL ? bias[oc + r] : 0;
                    }
                    if (n == 4 && mult == 1) {
                        dw_channels4(params, in_dims, filter_dims, filter, &win, oc, sums);
                    } else {
                        for (r = 0; r < n; r++) {
                            sums[r] = dw_channel1(params, in_dims, filter_dims, filter, &win, oc + r, sums[r]);
                        }
                    }
                    el_dsp_requant_s8(&out_step, sums, 1, n, oc, out_px + oc, n);
                }
            }
        }
    }
    return EL_OK;
}

#else
typedef int el_depthwise_conv_s8_dsp_unused; /* ISO C: a translation unit is not empty */
#endif
