/**
 * @file el_conv_s8_dsp.c
 * @brief int8 2-D convolution with the DSP extension (see el_kernel_paths.h).
 *
 * Each output pixel is a fully connected layer: its receptive field (filter h * w * input channels bytes, in
 * the filter's OHWI order) against the filter's rows, four output channels at a time (el_dsp_dot4_s8). A field
 * that lies inside the input and is contiguous there (one filter row, no horizontal dilation) is read in place;
 * any other is gathered into a stack buffer of at most EL_DSP_WINDOW_MAX bytes, padded positions holding the
 * input zero point, so that x + input_offset is 0 there and they contribute nothing, as in the reference.
 */
#include "el_dsp_s8.h"

#if EL_KERNELS_HAVE_DSP

/* The receptive field of the output pixel whose top-left input position is (y0, x0), gathered into buf. */
static void gather_window(const el_conv_params *p, const el_dims *in_dims, const int8_t *image, int32_t f_h,
                          int32_t f_w, int32_t y0, int32_t x0, int8_t *buf)
{
    const int32_t in_c = in_dims->c;
    const int8_t pad = (int8_t)(-p->input_offset);
    int32_t fy, fx;
    for (fy = 0; fy < f_h; fy++) {
        const int32_t iy = y0 + p->dilation_h * fy;
        for (fx = 0; fx < f_w; fx++) {
            const int32_t ix = x0 + p->dilation_w * fx;
            if (iy < 0 || iy >= in_dims->h || ix < 0 || ix >= in_dims->w) {
                memset(buf, pad, (size_t)in_c);
            } else {
                memcpy(buf, image + ((uint32_t)iy * (uint32_t)in_dims->w + (uint32_t)ix) * (uint32_t)in_c,
                       (size_t)in_c);
            }
            buf += in_c;
        }
    }
}

/* All output channels of one pixel: the field against every filter row, requantized. */
static void conv_pixel(const el_dsp_out *out_step, int32_t input_offset, const int8_t *field, int32_t field_len,
                       const int8_t *filter, const int32_t *bias, int32_t out_c, int8_t *out_px)
{
    int32_t oc, r;
    for (oc = 0; oc < out_c; oc += 4) {
        const int8_t *rows = filter + (uint32_t)oc * (uint32_t)field_len;
        const int32_t n = out_c - oc < 4 ? out_c - oc : 4;
        int32_t sums[4];
        for (r = 0; r < n; r++) {
            sums[r] = bias != NULL ? bias[oc + r] : 0;
        }
        if (n == 4) {
            el_dsp_dot4_s8(field, rows, field_len, field_len, input_offset, sums);
        } else {
            for (r = 0; r < n; r++) {
                sums[r] = el_dsp_dot1_s8(field, rows + (uint32_t)r * (uint32_t)field_len, field_len,
                                         input_offset, sums[r]);
            }
        }
        el_dsp_store(out_step, sums, n, oc, out_px + oc);
    }
}

el_status el_conv_s8_dsp(const el_conv_params *params, const el_requant *rq,
                         const el_dims *in_dims, const int8_t *input,
                         const el_dims *filter_dims, const int8_t *filter,
                         const int32_t *bias,
                         const el_dims *out_dims, int8_t *output)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, in_c = in_dims->c;
    const int32_t f_h = filter_dims->h, f_w = filter_dims->w, f_c = filter_dims->c;
    const int32_t out_c = out_dims->c;
    const el_dsp_out out_step = el_dsp_out_of(rq, params->output_offset, params->act_min, params->act_max);
    int8_t buf[EL_DSP_WINDOW_MAX];
    int32_t field_len, b, oy, ox;

    if (in_dims->n != out_dims->n || filter_dims->n != out_c || f_c <= 0 || in_c % f_c != 0
        || in_c / f_c <= 0 || out_c % (in_c / f_c) != 0 || (rq->n != 1u && rq->n != (uint32_t)out_c)) {
        return EL_ERR_ARG;
    }
    field_len = f_h * f_w * in_c;
    if (f_c != in_c || field_len > EL_DSP_WINDOW_MAX || params->input_offset < -127 || params->input_offset > 128) {
        /* grouped convolution, a field larger than the buffer, or an offset that does not fit the int16 lanes */
        return el_conv_s8_ref(params, rq, in_dims, input, filter_dims, filter, bias, out_dims, output);
    }
    for (b = 0; b < out_dims->n; b++) {
        const int8_t *image = input + (uint32_t)b * (uint32_t)in_h * (uint32_t)in_w * (uint32_t)in_c;
        for (oy = 0; oy < out_dims->h; oy++) {
            const int32_t y0 = oy * params->stride_h - params->pad_h;
            for (ox = 0; ox < out_dims->w; ox++) {
                const int32_t x0 = ox * params->stride_w - params->pad_w;
                int8_t *out_px = output + (((uint32_t)b * (uint32_t)out_dims->h + (uint32_t)oy)
                                           * (uint32_t)out_dims->w + (uint32_t)ox) * (uint32_t)out_c;
                const int8_t *field;
                if (f_h == 1 && params->dilation_w == 1 && y0 >= 0 && y0 < in_h && x0 >= 0 && x0 + f_w <= in_w) {
                    field = image + ((uint32_t)y0 * (uint32_t)in_w + (uint32_t)x0) * (uint32_t)in_c;
                } else {
                    gather_window(params, in_dims, image, f_h, f_w, y0, x0, buf);
                    field = buf;
                }
                conv_pixel(&out_step, params->input_offset, field, field_len, filter, bias, out_c, out_px);
            }
        }
    }
    return EL_OK;
}

#else
typedef int el_conv_s8_dsp_unused; /* ISO C: a translation unit is not empty */
#endif
