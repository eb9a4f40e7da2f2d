/**
 * @file bench_kernels.c
 * @brief Instruction counts of the kernels at the zoo models' layer shapes, reference and DSP paths side by
 *        side, for bench/bench_kernels.py. Compiled in only with -DEL_BENCH_KERNELS=1 (the bench's own build of
 *        the test program); prints one `EL-BENCH` line per kernel and shape, and asserts nothing.
 *
 * Line: `EL-BENCH op=NAME shape=SHAPE macs=M reps=R ref=TICKS dsp=TICKS tick_hz=HZ` (dsp=-1: no DSP path).
 */
#include <stdint.h>
#include <string.h>

#include "el_test.h"

#if defined(EL_BENCH_KERNELS) && EL_BENCH_KERNELS
#include "app/el_port.h"
#include "engine/el_kernel_paths.h"

#define REPS 4
#define BIG 4096

static int8_t s_x[BIG], s_w[BIG], s_y[BIG];
static int32_t s_bias[64], s_mult[64], s_shift[64];

static void put(const char *s) { el_port_write((const uint8_t *)s, strlen(s)); }

static void put_i(int32_t v)
{
    char buf[12];
    int i = 11;
    uint32_t u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
    buf[i] = '\0';
    do {
        buf[--i] = (char)('0' + u % 10u);
        u /= 10u;
    } while (u != 0u && i > 1);
    if (v < 0) {
        buf[--i] = '-';
    }
    put(buf + i);
}

static void line(const char *op, const char *shape, int32_t macs, int32_t ref, int32_t dsp)
{
    put("EL-BENCH op=");
    put(op);
    put(" shape=");
    put(shape);
    put(" macs=");
    put_i(macs);
    put(" reps=");
    put_i(REPS);
    put(" ref=");
    put_i(ref);
    put(" dsp=");
    put_i(dsp);
    put(" tick_hz=");
    put_i((int32_t)el_port_tick_hz());
    put("\n");
}

static el_requant requant(void)
{
    el_requant rq;
    rq.multiplier = s_mult;
    rq.shift = s_shift;
    rq.n = 64u;
    return rq;
}

typedef enum { FC, CONV, DW } kind;
typedef struct {
    const char *name, *shape;
    kind k;
    el_dims in, f, out; /* FC: in.c = depth, out.c = outputs */
    int32_t pad_w, dm;
} bench_case;

static el_status run(const bench_case *b, int dsp)
{
    el_requant rq = requant();
    el_conv_params cp = {5, -3, -128, 127, 1, 1, 1, 1, 0, 0, 1};
    el_fc_params fp = {5, 0, -3, -128, 127};
    cp.pad_w = b->pad_w;
    cp.depth_multiplier = b->dm;
    rq.n = (uint32_t)b->out.c;
    (void)dsp;
#if EL_KERNELS_HAVE_DSP
    if (dsp) {
        return b->k == FC ? el_fully_connected_s8_dsp(&fp, &rq, 1, b->in.c, b->out.c, s_x, s_w, s_bias, s_y)
             : b->k == CONV ? el_conv_s8_dsp(&cp, &rq, &b->in, s_x, &b->f, s_w, s_bias, &b->out, s_y)
             : el_depthwise_conv_s8_dsp(&cp, &rq, &b->in, s_x, &b->f, s_w, s_bias, &b->out, s_y);
    }
#endif
    return b->k == FC ? el_fully_connected_s8_ref(&fp, &rq, 1, b->in.c, b->out.c, s_x, s_w, s_bias, s_y)
         : b->k == CONV ? el_conv_s8_ref(&cp, &rq, &b->in, s_x, &b->f, s_w, s_bias, &b->out, s_y)
         : el_depthwise_conv_s8_ref(&cp, &rq, &b->in, s_x, &b->f, s_w, s_bias, &b->out, s_y);
}

static int32_t ticks(const bench_case *b, int dsp)
{
    uint32_t t0;
    int r;
    t0 = el_port_ticks();
    for (r = 0; r < REPS; r++) {
        CHECK(run(b, dsp) == EL_OK);
    }
    return (int32_t)(el_port_ticks() - t0);
}

static int32_t macs_of(const bench_case *b)
{
    if (b->k == FC) {
        return b->in.c * b->out.c;
    }
    if (b->k == CONV) {
        return b->out.h * b->out.w * b->out.c * b->f.h * b->f.w * b->f.c; /* padded taps included, as TFLite counts */
    }
    return b->out.h * b->out.w * b->out.c * b->f.h * b->f.w;
}

static void bench_other(void)
{
    const el_pool_params pp = {2, 1, 2, 1, 0, 0, -128, 127};
    const el_dims pin = {1, 1, 100, 16}, pout = {1, 1, 50, 16};
    const int32_t mdims[4] = {1, 50, 24, 1};
    uint32_t t0;
    int r;
    t0 = el_port_ticks();
    for (r = 0; r < REPS; r++) {
        CHECK(el_maxpool_s8(&pp, &pin, s_x, &pout, s_y) == EL_OK);
    }
    line("MAX_POOL_2D", "1x100x16/2", 800, (int32_t)(el_port_ticks() - t0), -1);
    t0 = el_port_ticks();
    for (r = 0; r < REPS; r++) {
        CHECK(el_mean_s8(s_x, mdims, 3, 2u, -3, 5, 1518500250, -1, s_y) == EL_OK);
    }
    line("MEAN", "1x50x24/axis1", 1200, (int32_t)(el_port_ticks() - t0), -1);
    t0 = el_port_ticks();
    for (r = 0; r < REPS; r++) {
        CHECK(el_softmax_s8(s_x, 1, 4, 1518500250, 20, -3968, s_y) == EL_OK);
    }
    line("SOFTMAX", "1x4", 4, (int32_t)(el_port_ticks() - t0), -1);
}

void el_bench_kernels(void)
{
    static const bench_case cases[] = {
        {"FULLY_CONNECTED", "mlp:600->16", FC, {1, 1, 1, 600}, {16, 1, 1, 600}, {1, 1, 1, 16}, 0, 1},
        {"FULLY_CONNECTED", "imu_cnn:24->16", FC, {1, 1, 1, 24}, {16, 1, 1, 24}, {1, 1, 1, 16}, 0, 1},
        {"FULLY_CONNECTED", "16->4", FC, {1, 1, 1, 16}, {4, 1, 1, 16}, {1, 1, 1, 4}, 0, 1},
        {"CONV_2D", "imu_cnn:1x100x6,k5->16", CONV, {1, 1, 100, 6}, {16, 1, 5, 6}, {1, 1, 100, 16}, 2, 1},
        {"CONV_2D", "imu_cnn:1x50x16,k3->24", CONV, {1, 1, 50, 16}, {24, 1, 3, 16}, {1, 1, 50, 24}, 1, 1},
        {"DEPTHWISE_CONV_2D", "1x50x16,k3,dm1", DW, {1, 1, 50, 16}, {1, 1, 3, 16}, {1, 1, 50, 16}, 1, 1},
        {"DEPTHWISE_CONV_2D", "1x50x8,k3,dm2", DW, {1, 1, 50, 8}, {1, 1, 3, 16}, {1, 1, 50, 16}, 1, 2},
    };
    uint32_t i, state = 7u;
    for (i = 0; i < BIG; i++) {
        state = state * 1664525u + 1013904223u;
        s_x[i] = (int8_t)(state >> 24);
        s_w[i] = (int8_t)(state >> 16);
    }
    for (i = 0; i < 64u; i++) {
        s_bias[i] = (int32_t)(i * 997u) - 30000;
        s_mult[i] = 1300000000 + (int32_t)i * 7000000;
        s_shift[i] = -8 + (int32_t)(i % 3u);
    }
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        line(cases[i].name, cases[i].shape, macs_of(&cases[i]), ticks(&cases[i], 0),
             EL_KERNELS_HAVE_DSP ? ticks(&cases[i], 1) : -1);
    }
    bench_other();
}

#else
void el_bench_kernels(void)
{
}
#endif
