/**
 * @file test_kernels.c
 * @brief The DSP kernels (engine/el_kernel_paths.h) produce the reference kernels' bytes and statuses on random
 *        shapes: channel counts that are not multiples of 4, padding on every side, strides, dilations, depth
 *        multipliers, batches, per-tensor and per-channel requantization (any multiplier and shift now and then),
 *        no bias, the extreme offsets, MAX_POOL_2D's windows and activation ranges, and the
 *        shapes the DSP path hands back to the reference (grouped convolution, a nonzero weight zero point, a
 *        receptive field over EL_DSP_WINDOW_MAX). On a core without the DSP extension only the public kernels are
 *        checked against the reference.
 */
#include <stdint.h>
#include <string.h>

#include "el_test.h"
#include "engine/el_kernel_paths.h"

#define BUF 8192

static uint32_t s_state = 0x2545F491u;
static int8_t s_in[BUF], s_w[BUF], s_ref[BUF], s_got[BUF];
static int32_t s_bias[64], s_mult[64], s_shift[64];

static int32_t rnd(int32_t lo, int32_t hi) /* uniform in [lo, hi] */
{
    s_state = s_state * 1664525u + 1013904223u;
    return lo + (int32_t)((s_state >> 8) % (uint32_t)(hi - lo + 1));
}

static void fill(int8_t *p, int32_t n, int32_t lo)
{
    int32_t i;
    for (i = 0; i < n; i++) {
        p[i] = (int8_t)rnd(lo, 127);
    }
}

/* Requantization for n channels (per-tensor when n == 1) and the bias (NULL one time in four). */
static const int32_t *fill_requant(el_requant *rq, int32_t n, int32_t channels)
{
    int32_t i;
    for (i = 0; i < channels; i++) {
        /* mostly the converters' range; now and then any multiplier and shift the loader accepts */
        s_mult[i] = rnd(0, 15) == 0 ? rnd(0, 0x7FFFFFFE) : rnd(1 << 30, 0x7FFFFFFF);
        s_shift[i] = rnd(0, 15) == 0 ? rnd(-31, 30) : rnd(-12, 1);
        s_bias[i] = rnd(-40000, 40000);
    }
    rq->multiplier = s_mult;
    rq->shift = s_shift;
    rq->n = (uint32_t)n;
    return rnd(0, 3) == 0 ? NULL : s_bias;
}

static int32_t input_offset(void)
{
    const int32_t pick = rnd(0, 5);
    return pick == 0 ? 128 : (pick == 1 ? -127 : rnd(-127, 128));
}

static void act_range(int32_t *lo, int32_t *hi)
{
    if (rnd(0, 1) == 0) {
        *lo = -128;
        *hi = 127;
    } else {
        *lo = rnd(-128, 0);
        *hi = rnd(*lo, 127);
    }
}

static void same_bytes(int32_t n)
{
    CHECK(memcmp(s_ref, s_got, (size_t)n) == 0);
}

static void test_fully_connected(void)
{
    int32_t t;
    for (t = 0; t < 80; t++) {
        const int32_t batches = rnd(1, 3), depth = rnd(1, 70), out_d = rnd(1, 13);
        el_fc_params p;
        el_requant rq;
        const int32_t *bias = fill_requant(&rq, rnd(0, 1) ? out_d : 1, out_d);
        p.input_offset = input_offset();
        p.filter_offset = t % 16 == 15 ? rnd(-3, 3) : 0;
        p.output_offset = rnd(-128, 127);
        act_range(&p.act_min, &p.act_max);
        fill(s_in, batches * depth, -128);
        fill(s_w, out_d * depth, -127);
        memset(s_ref, 0, (size_t)(batches * out_d));
        memset(s_got, 1, (size_t)(batches * out_d));
        CHECK(el_fully_connected_s8_ref(&p, &rq, batches, depth, out_d, s_in, s_w, bias, s_ref) == EL_OK);
        CHECK(el_fully_connected_s8(&p, &rq, batches, depth, out_d, s_in, s_w, bias, s_got) == EL_OK);
        same_bytes(batches * out_d);
#if EL_KERNELS_HAVE_DSP
        memset(s_got, 1, (size_t)(batches * out_d));
        CHECK(el_fully_connected_s8_dsp(&p, &rq, batches, depth, out_d, s_in, s_w, bias, s_got) == EL_OK);
        same_bytes(batches * out_d);
        rq.n = (uint32_t)out_d + 1u;
        CHECK(el_fully_connected_s8_dsp(&p, &rq, batches, depth, out_d, s_in, s_w, bias, s_got) == EL_ERR_ARG);
        CHECK(el_fully_connected_s8_dsp(&p, &rq, batches, 0, out_d, s_in, s_w, bias, s_got) == EL_ERR_ARG);
#endif
    }
}

/* Output extent of a padded, strided, dilated axis (at least 1; the extra positions read padding). */
static int32_t out_extent(int32_t size, int32_t pad, int32_t taps, int32_t dilation, int32_t stride)
{
    const int32_t span = size + 2 * pad - dilation * (taps - 1) - 1;
    return span < 0 ? 1 : span / stride + 1 + rnd(0, 1);
}

static void conv_geometry(el_conv_params *p, el_dims *in, el_dims *f, el_dims *out)
{
    p->stride_w = rnd(1, 3);
    p->stride_h = rnd(1, 2);
    p->dilation_w = rnd(1, 2);
    p->dilation_h = rnd(1, 2);
    p->pad_w = rnd(0, 2);
    p->pad_h = rnd(0, 1);
    p->input_offset = input_offset();
    p->output_offset = rnd(-128, 127);
    act_range(&p->act_min, &p->act_max);
    out->n = in->n;
    out->h = out_extent(in->h, p->pad_h, f->h, p->dilation_h, p->stride_h);
    out->w = out_extent(in->w, p->pad_w, f->w, p->dilation_w, p->stride_w);
}

static void run_conv(el_conv_params *p, el_dims *in, el_dims *f, el_dims *out)
{
    el_requant rq;
    const int32_t *bias = fill_requant(&rq, rnd(0, 1) ? out->c : 1, out->c);
    const int32_t n_out = out->n * out->h * out->w * out->c;
    fill(s_in, in->n * in->h * in->w * in->c, -128);
    fill(s_w, f->n * f->h * f->w * f->c, -127);
    memset(s_ref, 0, (size_t)n_out);
    memset(s_got, 1, (size_t)n_out);
    CHECK(el_conv_s8_ref(p, &rq, in, s_in, f, s_w, bias, out, s_ref) == EL_OK);
    CHECK(el_conv_s8(p, &rq, in, s_in, f, s_w, bias, out, s_got) == EL_OK);
    same_bytes(n_out);
#if EL_KERNELS_HAVE_DSP
    memset(s_got, 1, (size_t)n_out);
    CHECK(el_conv_s8_dsp(p, &rq, in, s_in, f, s_w, bias, out, s_got) == EL_OK);
    same_bytes(n_out);
    rq.n = (uint32_t)out->c + 1u;
    CHECK(el_conv_s8_dsp(p, &rq, in, s_in, f, s_w, bias, out, s_got) == EL_ERR_ARG);
#endif
}

static void test_conv(void)
{
    int32_t t;
    for (t = 0; t < 80; t++) {
        const int32_t groups = t % 10 == 9 ? 2 : 1;
        el_conv_params p;
        el_dims in, f, out;
        in.n = rnd(1, 2);
        in.h = t % 2 ? 1 : rnd(1, 5);
        in.w = rnd(1, 14);
        f.c = rnd(1, 9);
        in.c = f.c * groups;
        f.n = out.c = groups * rnd(1, 10);
        f.h = in.h == 1 ? 1 : rnd(1, 3);
        f.w = rnd(1, 5);
        conv_geometry(&p, &in, &f, &out);
        p.depth_multiplier = 1;
        if (in.h == 1) {
            p.pad_h = 0;
            p.dilation_h = 1;
            out.h = 1;
        }
        run_conv(&p, &in, &f, &out);
    }
    { /* a receptive field larger than the DSP path's buffer: 1 x 6 x 200 */
        el_conv_params p;
        el_dims in = {1, 1, 8, 200}, f = {5, 1, 6, 200}, out = {1, 1, 0, 5};
        conv_geometry(&p, &in, &f, &out);
        p.depth_multiplier = 1;
        p.pad_h = 0;
        p.dilation_h = 1;
        out.h = 1;
        run_conv(&p, &in, &f, &out);
    }
}

static void test_depthwise(void)
{
    int32_t t;
    for (t = 0; t < 80; t++) {
        el_conv_params p;
        el_requant rq;
        el_dims in, f, out;
        const int32_t *bias;
        int32_t n_out;
        in.n = rnd(1, 2);
        in.h = t % 2 ? 1 : rnd(1, 5);
        in.w = rnd(1, 14);
        in.c = rnd(1, 11);
        p.depth_multiplier = t % 3 == 2 ? rnd(2, 3) : 1;
        f.n = 1;
        f.h = in.h == 1 ? 1 : rnd(1, 3);
        f.w = rnd(1, 5);
        f.c = out.c = in.c * p.depth_multiplier;
        conv_geometry(&p, &in, &f, &out);
        bias = fill_requant(&rq, rnd(0, 1) ? out.c : 1, out.c);
        n_out = out.n * out.h * out.w * out.c;
        fill(s_in, in.n * in.h * in.w * in.c, -128);
        fill(s_w, f.h * f.w * f.c, -127);
        memset(s_ref, 0, (size_t)n_out);
        memset(s_got, 1, (size_t)n_out);
        CHECK(el_depthwise_conv_s8_ref(&p, &rq, &in, s_in, &f, s_w, bias, &out, s_ref) == EL_OK);
        CHECK(el_depthwise_conv_s8(&p, &rq, &in, s_in, &f, s_w, bias, &out, s_got) == EL_OK);
        same_bytes(n_out);
#if EL_KERNELS_HAVE_DSP
        memset(s_got, 1, (size_t)n_out);
        CHECK(el_depthwise_conv_s8_dsp(&p, &rq, &in, s_in, &f, s_w, bias, &out, s_got) == EL_OK);
        same_bytes(n_out);
        p.depth_multiplier++;
        CHECK(el_depthwise_conv_s8_dsp(&p, &rq, &in, s_in, &f, s_w, bias, &out, s_got) == EL_ERR_ARG);
#endif
    }
}

static void test_maxpool(void)
{
    int32_t t;
    for (t = 0; t < 60; t++) {
        el_pool_params p;
        el_dims in, out;
        int32_t n_out;
        in.n = rnd(1, 2);
        in.h = t % 2 ? 1 : rnd(1, 5);
        in.w = rnd(1, 14);
        in.c = rnd(1, 19);
        p.filter_w = rnd(1, 3);
        p.filter_h = in.h == 1 ? 1 : rnd(1, 3);
        p.stride_w = rnd(1, 3);
        p.stride_h = rnd(1, 2);
        p.pad_w = rnd(0, 1);
        p.pad_h = in.h == 1 ? 0 : rnd(0, 1);
        act_range(&p.act_min, &p.act_max);
        out.n = in.n;
        out.c = in.c;
        out.h = out_extent(in.h, p.pad_h, p.filter_h, 1, p.stride_h);
        out.w = out_extent(in.w, p.pad_w, p.filter_w, 1, p.stride_w);
        n_out = out.n * out.h * out.w * out.c;
        fill(s_in, in.n * in.h * in.w * in.c, -128);
        memset(s_ref, 0, (size_t)n_out);
        memset(s_got, 1, (size_t)n_out);
        CHECK(el_maxpool_s8_ref(&p, &in, s_in, &out, s_ref) == EL_OK);
        CHECK(el_maxpool_s8(&p, &in, s_in, &out, s_got) == EL_OK);
        same_bytes(n_out);
#if EL_KERNELS_HAVE_DSP
        memset(s_got, 1, (size_t)n_out);
        CHECK(el_maxpool_s8_dsp(&p, &in, s_in, &out, s_got) == EL_OK);
        same_bytes(n_out);
        out.c++;
        CHECK(el_maxpool_s8_dsp(&p, &in, s_in, &out, s_got) == EL_ERR_ARG);
#endif
    }
}

void el_test_kernels(void)
{
    test_fully_connected();
    test_conv();
    test_depthwise();
    test_maxpool();
}
