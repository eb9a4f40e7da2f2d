/**
 * @file el_conv_s8_dsp.c
 * @brief int8 2-D convolution with the DSP extension (see el_kernel_paths.h).
 *
 * Each output pixel is a fully connected layer: its receptive field (filter h * w * input channels bytes, in
 * the filter's OHWI order) against the filter's rows. A field that lies inside the input and is contiguous there
 * (one filter row, no horizontal dilation) is read in place; any other is gathered into a stack buffer of at most
 * EL_DSP_WINDOW_MAX bytes, padded positions holding the input zero point, so that x + input_offset is 0 there and
 * they contribute nothing, as in the reference.
 *
 * Fields of 4 to EL_DSP_PAIR_MAX bytes: two pixels x two output channels at a time, the pair's fields expanded to
 * int16 once (el_dsp_expand_s8, el_dsp_pair_sums_s8). Others: one pixel x four channels (el_dsp_dot4_s8). The sums
 * of a block of pixels are requantized channel by channel (el_dsp_requant_s8).
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

/* Channels [oc0, oc0 + n_ch) of one pixel: the field against those filter rows, sums[c * step] = bias + dot. */
static void conv_pixel(int32_t input_offset, const int8_t *field, int32_t field_len, const int8_t *filter,
                       const int32_t *bias, int32_t oc0, int32_t n_ch, int32_t *sums, int32_t step)
{
    int32_t c, r;
    for (c = 0; c < n_ch; c += 4) {
        const int32_t oc = oc0 + c;
        const int8_t *rows = filter + (uint32_t)oc * (uint32_t)field_len;
        const int32_t n = n_ch - c < 4 ? n_ch - c : 4;
        int32_t acc[4];
        for (r = 0; r < n; r++) {
            acc[r] = bias != NULL ? bias[oc + r] : 0;
        }
        if (n == 4) {
            el_dsp_dot4_s8(field, rows, field_len, field_len, input_offset, acc);
        } else {
            for (r = 0; r < n; r++) {
                acc[r] = el_dsp_dot1_s8(field, rows + (uint32_t)r * (uint32_t)field_len, field_len, input_offset,
                                        acc[r]);
            }
        }
        for (r = 0; r < n; r++) {
            sums[(c + r) * step] = acc[r];
        }
    }
}

/* An output pixel's place: batch, row, column, and where its receptive field starts in the input. */
typedef struct {
    int32_t b, oy, ox;
} el_px;

static void px_next(el_px *px, const el_dims *out_dims)
{
    if (++px->ox == out_dims->w) {
        px->ox = 0;
        if (++px->oy == out_dims->h) {
            px->oy = 0;
            px->b++;
        }
    }
}

/* The receptive field of pixel px: in place when it is one contiguous run inside the input, else gathered into
 * buf (padding = the input zero point). */
static const int8_t *field_of(const el_conv_params *p, const el_dims *in_dims, const el_dims *f_dims,
                              const int8_t *input, const el_px *px, int8_t *buf)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, in_c = in_dims->c;
    const int8_t *image = input + (uint32_t)px->b * (uint32_t)in_h * (uint32_t)in_w * (uint32_t)in_c;
    const int32_t y0 = px->oy * p->stride_h - p->pad_h;
    const int32_t x0 = px->ox * p->stride_w - p->pad_w;
    if (f_dims->h == 1 && p->dilation_w == 1 && y0 >= 0 && y0 < in_h && x0 >= 0 && x0 + f_dims->w <= in_w) {
        return image + ((uint32_t)y0 * (uint32_t)in_w + (uint32_t)x0) * (uint32_t)in_c;
    }
    gather_window(p, in_dims, image, f_dims->h, f_dims->w, y0, x0, buf);
    return buf;
}

/* The sums of n_px pixels from *px on (advanced past them), channels [oc0, oc0 + n_ch), two pixels x two
 * channels at a time: each pair of pixels' fields is expanded to int16 once (el_dsp_expand_s8) and every weight
 * word serves both pixels (el_dsp_pair_sums_s8). A last odd pixel or channel is computed twice and kept once.
 * sums is channel-major: sums[c * n_px + i]. field_len in [4, EL_DSP_PAIR_MAX]. */
static void conv_block_pairs(const el_conv_params *p, const el_dims *in_dims, const int8_t *input,
                             const el_dims *f_dims, const int8_t *filter, const int32_t *bias, int32_t field_len,
                             const el_dims *out_dims, el_px *px, int32_t n_px, int32_t oc0, int32_t n_ch,
                             int32_t *sums, int32_t *work)
{
    int32_t *const xq = work; /* EL_DSP_PAIR_MAX words, then the two gather buffers */
    int8_t *const buf_a = (int8_t *)(work + EL_DSP_PAIR_MAX);
    int8_t *const buf_b = buf_a + EL_DSP_PAIR_MAX;
    int32_t i;
    for (i = 0; i < n_px; i += 2) {
        const int32_t two_px = n_px - i >= 2;
        const int8_t *field = field_of(p, in_dims, f_dims, input, px, buf_a);
        px_next(px, out_dims);
        el_dsp_expand_s8(field, field_len, p->input_offset, xq);
        if (two_px) {
            field = field_of(p, in_dims, f_dims, input, px, buf_b);
            px_next(px, out_dims);
        }
        el_dsp_expand_s8(field, field_len, p->input_offset, xq + 2);
        el_dsp_pair_sums_s8(xq, filter + (uint32_t)oc0 * (uint32_t)field_len, field_len, n_ch,
                            bias != NULL ? bias + oc0 : NULL, sums + i, n_px, two_px);
    }
}

el_status el_conv_s8_dsp(const el_conv_params *params, const el_requant *rq,
                         const el_dims *in_dims, const int8_t *input,
                         const el_dims *filter_dims, const int8_t *filter,
                         const int32_t *bias,
                         const el_dims *out_dims, int8_t *output)
{
    const int32_t in_c = in_dims->c;
    const int32_t f_h = filter_dims->h, f_w = filter_dims->w, f_c = filter_dims->c;
    const int32_t out_c = out_dims->c;
    const el_dsp_out out_step = el_dsp_out_of(rq, params->output_offset, params->act_min, params->act_max);
    int32_t work[EL_DSP_WINDOW_MAX / 4]; /* a gathered field, or the pair path's expanded fields and gathers */
    int8_t *const buf = (int8_t *)work;
    int32_t sums[EL_DSP_SUMS_MAX];
    int32_t field_len, pairs, n_ch, block_px, n_pixels, oc0, pix0, i;

    if (in_dims->n != out_dims->n || filter_dims->n != out_c || f_c <= 0 || in_c % f_c != 0
        || in_c / f_c <= 0 || out_c % (in_c / f_c) != 0 || (rq->n != 1u && rq->n != (uint32_t)out_c)) {
        return EL_ERR_ARG;
    }
    field_len = f_h * f_w * in_c;
    if (f_c != in_c || field_len > EL_DSP_WINDOW_MAX || params->input_offset < -127 || params->input_offset > 128
        || out_c <= 0) {
        /* grouped convolution, a field larger than the buffer, an offset that does not fit the int16 lanes, or
         * nothing to compute */
        return el_conv_s8_ref(params, rq, in_dims, input, filter_dims, filter, bias, out_dims, output);
    }
    /* blocks of n_px pixels x n_ch channels: the sums of a block (channel-major), then its output step channel by
     * channel */
    pairs = field_len >= 4 && field_len <= EL_DSP_PAIR_MAX;
    n_ch = out_c < EL_DSP_SUMS_MAX ? out_c : EL_DSP_SUMS_MAX;
    block_px = EL_DSP_SUMS_MAX / n_ch;
    if (block_px > 1) {
        block_px &= ~1; /* whole pairs */
    }
    n_pixels = out_dims->n * out_dims->h * out_dims->w;
    for (oc0 = 0; oc0 < out_c; oc0 += n_ch) {
        const int32_t chans = out_c - oc0 < n_ch ? out_c - oc0 : n_ch;
        el_px px = {0, 0, 0};
        for (pix0 = 0; pix0 < n_pixels; pix0 += block_px) {
            const int32_t n_px = n_pixels - pix0 < block_px ? n_pixels - pix0 : block_px;
            if (pairs) {
                conv_block_pairs(params, in_dims, input, filter_dims, filter, bias, field_len, out_dims, &px, n_px,
                                 oc0, chans, sums, work);
            } else {
                for (i = 0; i < n_px; i++) {
                    const int8_t *field = field_of(params, in_dims, filter_dims, input, &px, buf);
                    conv_pixel(params->input_offset, field, field_len, filter, bias, oc0, chans, sums + i, n_px);
                    px_next(&px, out_dims);
                }
            }
            el_dsp_requant_s8(&out_step, sums, n_px, chans, oc0, output + (uint32_t)pix0 * (uint32_t)out_c
                              + (uint32_t)oc0, out_c);
        }
    }
    return EL_OK;
}

#else
typedef int el_conv_s8_dsp_unused; /* ISO C: a translation unit is not empty */
#endif
