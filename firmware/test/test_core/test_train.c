/**
 * @file test_train.c
 * @brief Unit tests of on-device training (firmware/src/train/): ChaCha20 against RFC 8439, the
 *        uniform/Gaussian/Laplace draws, float16 and int8 encodings, top-k ties, random masks,
 *        clipping, a training step against hand-computed numbers, UPDATE bytes, the privacy floor.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "el_test.h"
#include "train/el_chacha20.h"
#include "train/el_head.h"
#include "train/el_prng.h"
#include "train/el_sparsify.h"
#include "train/el_train_config.h"
#include "train/el_train_kernels.h"
#include "train/el_train_round.h"
#include "train/el_update.h"

static int near(float a, float b, float rel) { return fabsf(a - b) <= rel * (1.0f + fabsf(b)); }

static float f32_of(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof(f));
    return f;
}

/* ---- ChaCha20 and the PRNG ---- */

static void test_chacha20_rfc8439(void)
{
    /* RFC 8439 section 2.3.2: key 00 01 .. 1f, nonce 00:00:00:09:00:00:00:4a:00:00:00:00, counter 1 */
    static const uint32_t want[16] = {
        0xe4e7f110u, 0x15593bd1u, 0x1fdd0f50u, 0xc47120a3u, 0xc7f4d1c7u, 0x0368c033u, 0x9aaa2204u, 0x4e6cd4c3u,
        0x466482d2u, 0x09aa9f07u, 0x05d7c214u, 0xa2028bd9u, 0xd19c12b5u, 0xb94e16deu, 0xe883d0cbu, 0x4e3c50a2u,
    };
    static const uint8_t serial_start[8] = {0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15};
    uint8_t keyb[32];
    uint32_t key[8], out[16];
    const uint32_t nonce[3] = {0x09000000u, 0x4a000000u, 0x00000000u};
    const uint32_t zero_nonce[3] = {0, 0, 0};
    el_prng r;
    int i, ok = 1;

    for (i = 0; i < 32; i++) {
        keyb[i] = (uint8_t)i;
    }
    for (i = 0; i < 8; i++) {
        key[i] = (uint32_t)keyb[4 * i] | ((uint32_t)keyb[4 * i + 1] << 8) | ((uint32_t)keyb[4 * i + 2] << 16) |
                 ((uint32_t)keyb[4 * i + 3] << 24);
    }
    el_chacha20_block(key, 1u, nonce, out);
    for (i = 0; i < 16; i++) {
        ok &= out[i] == want[i];
    }
    CHECK(ok);
    for (i = 0; i < 8; i++) { /* serialised little-endian */
        ok &= (uint8_t)(out[i / 4] >> (8 * (i % 4))) == serial_start[i];
    }
    CHECK(ok);

    /* the stream: block 0, then block 1 of the same key with a zero nonce, words in order */
    el_prng_init(&r, keyb);
    el_chacha20_block(key, 0u, zero_nonce, out);
    CHECK(el_prng_u32(&r) == out[0]);
    for (i = 1; i < 16; i++) {
        (void)el_prng_u32(&r);
    }
    el_chacha20_block(key, 1u, zero_nonce, out);
    CHECK(el_prng_u32(&r) == out[0]);
    /* a 64-bit seed is the key's first 8 bytes (little-endian), zeros after */
    el_prng_seed(&r, 1234u);
    CHECK(el_prng_u32(&r) == 0xd218d15bu && el_prng_u32(&r) == 0x5b3ba573u);
}

static void test_draws(void)
{
    el_prng r, copy;
    double s1 = 0, s2 = 0, l1 = 0, l2 = 0;
    int i, in_range = 1;
    const int n = 4000;

    CHECK(el_u32_to_uniform(0u) == 0x1p-24f);
    CHECK(el_u32_to_uniform(0xFFFFFFFFu) == 1.0f - 0x1p-24f);
    CHECK(el_u32_to_uniform(0x80000000u) == 0.5f + 0x1p-24f);
    CHECK(el_u32_to_uniform(0x7FFFFFFFu) == 0.5f - 0x1p-24f);
    el_prng_seed(&r, 7u);
    for (i = 0; i < n; i++) {
        const float u = el_prng_uniform(&r);
        in_range &= u > 0.0f && u < 1.0f;
    }
    CHECK(in_range);
    el_prng_seed(&r, 42u);
    copy = r;
    for (i = 0; i < n; i++) {
        const double g = el_prng_gaussian(&r), l = el_prng_laplace(&r);
        s1 += g;
        s2 += g * g;
        l1 += l;
        l2 += l * l;
    }
    CHECK(fabs(s1 / n) < 0.08 && fabs(s2 / n - 1.0) < 0.1);  /* N(0, 1) */
    CHECK(fabs(l1 / n) < 0.1 && fabs(l2 / n - 2.0) < 0.25);  /* Laplace(0, 1): variance 2 */
    /* a saved state replays the same draws; Gaussian uses two words, Laplace one */
    r = copy;
    (void)el_prng_gaussian(&r);
    (void)el_prng_laplace(&r);
    {
        el_prng t = copy;
        (void)el_prng_u32(&t);
        (void)el_prng_u32(&t);
        (void)el_prng_u32(&t);
        CHECK(el_prng_u32(&t) == el_prng_u32(&r));
    }
}

/* ---- encodings ---- */

static void test_f16(void)
{
    CHECK(el_f32_to_f16(0.0f) == 0x0000u);
    CHECK(el_f32_to_f16(-0.0f) == 0x8000u);
    CHECK(el_f32_to_f16(1.0f) == 0x3C00u);
    CHECK(el_f32_to_f16(-2.0f) == 0xC000u);
    CHECK(el_f32_to_f16(65504.0f) == 0x7BFFu);
    CHECK(el_f32_to_f16(65519.0f) == 0x7BFFu);                    /* would round to 65504 anyway */
    CHECK(el_f32_to_f16(65520.0f) == 0x7BFFu);                    /* would round to infinity: saturates */
    CHECK(el_f32_to_f16(1e9f) == 0x7BFFu && el_f32_to_f16(-1e9f) == 0xFBFFu);
    CHECK(el_f32_to_f16(f32_of(0x7F800000u)) == 0x7BFFu);         /* +inf saturates */
    CHECK(el_f32_to_f16(f32_of(0xFF800000u)) == 0xFBFFu);
    CHECK((el_f32_to_f16(f32_of(0x7FC00000u)) & 0x7FFFu) == 0x7E00u); /* NaN */
    CHECK(el_f32_to_f16(0x1p-14f) == 0x0400u);                    /* smallest normal */
    CHECK(el_f32_to_f16(0x1p-24f) == 0x0001u);                    /* smallest subnormal */
    CHECK(el_f32_to_f16(0x1p-25f) == 0x0000u);                    /* tie between 0 and 2^-24: even is 0 */
    CHECK(el_f32_to_f16(0x1.000002p-25f) == 0x0001u);             /* just above the tie */
    CHECK(el_f32_to_f16(0x3p-25f) == 0x0002u);                    /* 1.5 * 2^-24: tie, even is 2 */
    CHECK(el_f32_to_f16(0x5p-25f) == 0x0002u);                    /* 2.5 * 2^-24: tie, even is 2 */
    CHECK(el_f32_to_f16(-0x1p-24f) == 0x8001u);
    CHECK(el_f32_to_f16(0x1.ff8p-15f) == 0x03FFu);                /* largest subnormal */
    CHECK(el_f32_to_f16(0x1.ffcp-15f) == 0x0400u);                /* ... + half: tie, carries to the normal */
    CHECK(el_f32_to_f16(1.0f + 0x1p-11f) == 0x3C00u);             /* tie: even mantissa (down) */
    CHECK(el_f32_to_f16(1.0f + 0x3p-11f) == 0x3C02u);             /* tie: even mantissa (up) */
    CHECK(el_f32_to_f16(1.0f + 0x1.2p-11f) == 0x3C01u);           /* above the tie */
    CHECK(el_f32_to_f16(0.1f) == 0x2E66u);
    CHECK(el_f32_to_f16(2047.5f) == 0x6800u);                     /* 2047.5 -> tie -> 2048 (even) */
}

static void test_int8(void)
{
    CHECK(el_int8_scale_f32(0.0f) == 1.0f);
    CHECK(el_int8_scale_f32(127.0f) == 1.0f);
    CHECK(el_int8_quantize_f32(2.5f, 1.0f) == 3 && el_int8_quantize_f32(-2.5f, 1.0f) == -3);
    CHECK(el_int8_quantize_f32(2.4999998f, 1.0f) == 2);
    CHECK(el_int8_quantize_f32(0.49999997f, 1.0f) == 0);
    CHECK(el_int8_quantize_f32(-0.5f, 1.0f) == -1);
    CHECK(el_int8_quantize_f32(127.4f, 1.0f) == 127 && el_int8_quantize_f32(-300.0f, 1.0f) == -127);
    CHECK(el_int8_quantize_f32(f32_of(0x7FC00000u), 1.0f) == 0);
    CHECK(el_int8_quantize_f32(-1.0f, el_int8_scale_f32(1.0f)) == -127);
}

/* ---- sparsification ---- */

static int selected(const el_selector *s, const float *v, uint32_t *out, uint32_t cap)
{
    el_select_iter it;
    uint32_t i, n = 0;
    el_select_begin(&it, s);
    while (el_select_next(&it, v, &i) && n < cap) {
        out[n++] = i;
    }
    return (int)n;
}

static void test_topk(void)
{
    static const float v[6] = {1.0f, -3.0f, 3.0f, 2.0f, -3.0f, 0.5f};
    static const float z[4] = {0.0f, -0.0f, 0.0f, 0.0f};
    el_selector s;
    uint32_t idx[8];

    el_select_topk(&s, v, 6, 2); /* three |v| = 3: the two lowest indices */
    CHECK(selected(&s, v, idx, 8) == 2 && idx[0] == 1 && idx[1] == 2);
    el_select_topk(&s, v, 6, 3);
    CHECK(selected(&s, v, idx, 8) == 3 && idx[0] == 1 && idx[1] == 2 && idx[2] == 4);
    el_select_topk(&s, v, 6, 4);
    CHECK(selected(&s, v, idx, 8) == 4 && idx[0] == 1 && idx[1] == 2 && idx[2] == 3 && idx[3] == 4);
    el_select_topk(&s, v, 6, 6);
    CHECK(selected(&s, v, idx, 8) == 6 && idx[5] == 5);
    el_select_topk(&s, z, 4, 2); /* all zero (one negative zero): lowest indices */
    CHECK(selected(&s, z, idx, 8) == 2 && idx[0] == 0 && idx[1] == 1);
    CHECK(el_sparse_count(384, 0.1f) == 39 && el_sparse_count(4, 0.1f) == 1 && el_sparse_count(9600, 0.1f) == 960);
    CHECK(el_sparse_count(7, 1.0f) == 7 && el_sparse_count(1, 0.001f) == 1 && el_sparse_count(10, 0.25f) == 3);
}

static void test_random_mask(void)
{
    el_prng r, before, walked;
    el_selector s;
    uint32_t idx[64], again[64], i, n1, n2;
    int ascending = 1, same = 1;

    el_prng_seed(&r, 99u);
    before = r;
    el_select_random(&s, 50, 10, &r);
    n1 = (uint32_t)selected(&s, NULL, idx, 64);
    n2 = (uint32_t)selected(&s, NULL, again, 64);
    CHECK(n1 == 10 && n2 == 10);
    for (i = 1; i < n1; i++) {
        ascending &= idx[i] > idx[i - 1];
    }
    for (i = 0; i < n1; i++) {
        same &= idx[i] == again[i];
    }
    CHECK(ascending && same && idx[n1 - 1] < 50);
    /* the caller's stream moved past exactly the draws the selection used: one word per index looked at */
    walked = before;
    for (i = 0; i <= idx[n1 - 1]; i++) {
        (void)el_prng_u32(&walked);
    }
    CHECK(el_prng_u32(&walked) == el_prng_u32(&r));
    el_select_random(&s, 5, 5, &r); /* k = n keeps everything */
    CHECK(selected(&s, NULL, idx, 64) == 5 && idx[4] == 4);
}

/* ---- clipping ---- */

static void test_clip(void)
{
    float v[2] = {3.0f, 4.0f};
    float z[3] = {0.0f, 0.0f, 0.0f};
    float big[1000];
    int i;

    CHECK(el_clip_scale_f32(5.0f, 10.0f) == 1.0f && el_clip_scale_f32(0.0f, 1.0f) == 1.0f);
    CHECK(el_clip_scale_f32(5.0f, 5.0f) == 1.0f && el_clip_scale_f32(4.0f, 1.0f) == 0.25f);
    CHECK(el_clip_l2_f32(v, 2, 10.0f) == 5.0f && v[0] == 3.0f && v[1] == 4.0f);
    CHECK(el_clip_l2_f32(v, 2, 1.0f) == 5.0f && near(v[0], 0.6f, 1e-6f) && near(v[1], 0.8f, 1e-6f));
    CHECK(el_clip_l2_f32(z, 3, 1.0f) == 0.0f && z[0] == 0.0f);
    for (i = 0; i < 1000; i++) {
        big[i] = 0.1f;
    }
    CHECK(near(el_sum_squares_f32(big, 1000), 10.0f, 1e-6f)); /* compensated: naive float sums drift */
}

/* ---- a training step against hand-computed numbers ---- */

/* A HEAD section: L layers, shapes, then weights (W_l then b_l), into buf; returns its length. */
static uint32_t make_head(uint8_t *buf, uint16_t layers, const uint16_t *in, const uint16_t *out, const float *theta)
{
    uint32_t at = 4u + 4u * layers, p = 0, i;
    uint16_t l;
    buf[0] = (uint8_t)layers;
    buf[1] = 0;
    buf[2] = 1;
    buf[3] = 0;
    for (l = 0; l < layers; l++) {
        buf[4 + 4 * l] = (uint8_t)in[l];
        buf[5 + 4 * l] = (uint8_t)(in[l] >> 8);
        buf[6 + 4 * l] = (uint8_t)out[l];
        buf[7 + 4 * l] = (uint8_t)(out[l] >> 8);
        p += (uint32_t)in[l] * out[l] + out[l];
    }
    at = (at + 3u) & ~3u;
    memset(buf + 4u + 4u * layers, 0, at - (4u + 4u * layers));
    for (i = 0; i < p; i++) {
        el_f32_to_le(buf + at + 4u * i, theta[i]);
    }
    return at + 4u * p;
}

static uint8_t s_headbuf[512];
static float s_theta0[64], s_delta[64], s_vel[64], s_act[32], s_factors[128];

static void setup_ctx(el_train_ctx *ctx, el_head *h, const int8_t *samples, uint32_t stride, const uint8_t *labels,
                      uint16_t n, float scale)
{
    ctx->head = h;
    ctx->theta0 = s_theta0;
    ctx->delta = s_delta;
    ctx->velocity = s_vel;
    ctx->factors = s_factors;
    ctx->act = s_act;
    ctx->samples = samples;
    ctx->sample_stride = stride;
    ctx->labels = labels;
    ctx->n_samples = n;
    ctx->feat_scale = scale;
    ctx->feat_zero = 0;
}

static void test_train_step(void)
{
    /* one layer 2 -> 2, W = I, b = 0; sample q = (2, 0) at scale 0.5 -> x = (1, 0), label 0 */
    static const uint16_t in[1] = {2}, out[1] = {2};
    static const float w0[6] = {1.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f};
    static const int8_t q[2] = {2, 0};
    static const uint8_t y[1] = {0};
    const float e = expf(1.0f);
    const float p1 = 1.0f / (e + 1.0f);   /* p = (e, 1) / (e + 1); delta = (p0 - 1, p1) = (-p1, p1) */
    el_head h;
    el_train_ctx ctx;
    el_train_config c;
    el_round_result res;
    el_prng r;
    uint32_t len = make_head(s_headbuf, 1, in, out, w0);

    CHECK(el_head_parse(&h, s_headbuf, len) == EL_OK && h.params == 6 && h.act_len == 4);
    CHECK(h.offset[1] == 4 && h.size[0] == 4 && h.size[1] == 2);
    el_f32_from_le(s_theta0, s_headbuf + h.data_offset, h.params);
    setup_ctx(&ctx, &h, q, 2, y, 1, 0.5f);
    el_train_config_default(&c);
    c.lr = 0.5f;
    el_prng_seed(&r, 1u);
    CHECK(el_train_round(&ctx, &c, NULL, &r, &res) == EL_OK && res.steps == 1);
    /* d = -lr g: g_W = delta x^T = [[-p1, 0], [p1, 0]], g_b = (-p1, p1) */
    CHECK(near(s_delta[0], 0.5f * p1, 1e-6f) && s_delta[1] == 0.0f && near(s_delta[2], -0.5f * p1, 1e-6f));
    CHECK(s_delta[3] == 0.0f && near(s_delta[4], 0.5f * p1, 1e-6f) && near(s_delta[5], -0.5f * p1, 1e-6f));
    CHECK(near(res.loss, logf(1.0f + expf(-1.0f)), 1e-6f));
    CHECK(near(res.pre_clip_norm, p1, 1e-6f)); /* sqrt(4 (p1/2)^2) */
    CHECK(s_theta0[0] == 1.0f && s_theta0[4] == 0.0f); /* the global weights are untouched */

    /* per-example clipping to C = 0.1: ||g|| = 2 p1, every nonzero |d| = lr C / 2 */
    c.clip_mode = EL_CLIP_EXAMPLE;
    c.clip_norm = 0.1f;
    CHECK(el_train_round(&ctx, &c, NULL, &r, &res) == EL_OK);
    CHECK(near(s_delta[0], 0.025f, 1e-5f) && near(s_delta[2], -0.025f, 1e-5f) && near(s_delta[5], -0.025f, 1e-5f));

    /* update clipping to C = 0.1: the same direction, norm 0.1; pre-clip norm reported unclipped */
    c.clip_mode = EL_CLIP_UPDATE;
    CHECK(el_train_round(&ctx, &c, NULL, &r, &res) == EL_OK && near(res.pre_clip_norm, p1, 1e-6f));
    CHECK(near(s_delta[0], 0.05f, 1e-5f) && near(s_delta[4], 0.05f, 1e-5f) && near(s_delta[5], -0.05f, 1e-5f));

    /* two steps with momentum 0.9: the second step sees theta_1 and v_1 */
    c.clip_mode = EL_CLIP_NONE;
    c.local_steps = 2;
    c.momentum = 0.9f;
    CHECK(el_train_round(&ctx, &c, NULL, &r, &res) == EL_OK && res.steps == 2);
    {
        /* theta_1: W = [[1 + p1/2, 0], [-p1/2, 1]], b = (p1/2, -p1/2); logits (1 + p1, -p1) */
        const float z0 = 1.0f + p1, z1 = -p1;
        const float q1 = 1.0f / (1.0f + expf(z0 - z1)); /* p = (1 - q1, q1): delta = (-q1, q1) */
        const float v2 = 0.9f * p1 + q1;                  /* |v| of the nonzero coordinates after step 2 */
        const float d = 0.5f * p1 + 0.5f * v2;
        CHECK(near(s_delta[0], d, 1e-5f) && near(s_delta[2], -d, 1e-5f) && s_delta[1] == 0.0f);
        CHECK(near(res.loss, logf(1.0f + expf(z1 - z0)), 1e-5f));
    }
}

static void test_example_norm(void)
{
    /* two layers 3 -> 4 -> 2: the factored per-example norm equals the norm of the explicit gradient */
    static const uint16_t in[2] = {3, 4}, out[2] = {4, 2};
    float w[26];
    float act[13], n2 = 0.0f, explicit2 = 0.0f;
    el_head h;
    uint32_t i, j, len;
    el_prng r;
    float *a0 = act, *a1 = act + 3, *d0 = act + 7, *d1 = act + 11;
    int relu_ok = 1;

    el_prng_seed(&r, 5u);
    for (i = 0; i < 26; i++) {
        w[i] = el_prng_gaussian(&r) * 0.7f;
    }
    len = make_head(s_headbuf, 2, in, out, w);
    CHECK(el_head_parse(&h, s_headbuf, len) == EL_OK && h.params == 26 && h.act_len == 13);
    a0[0] = 0.3f;
    a0[1] = -1.2f;
    a0[2] = 0.8f;
    {
        static const float zeros[26];
        (void)el_train_example_f32(&h, w, zeros, act, 1, &n2);
    }
    for (j = 0; j < 4; j++) {
        explicit2 += d0[j] * d0[j];
        for (i = 0; i < 3; i++) {
            explicit2 += (d0[j] * a0[i]) * (d0[j] * a0[i]);
        }
        relu_ok &= a1[j] > 0.0f || d0[j] == 0.0f; /* no gradient through an inactive unit */
    }
    for (j = 0; j < 2; j++) {
        explicit2 += d1[j] * d1[j];
        for (i = 0; i < 4; i++) {
            explicit2 += (d1[j] * a1[i]) * (d1[j] * a1[i]);
        }
    }
    CHECK(relu_ok && n2 > 0.0f && near(n2, explicit2, 1e-5f));
    CHECK(near(d1[0] + d1[1], 0.0f, 1e-6f) && d1[1] < 0.0f); /* p - onehot sums to 0; label 1 negative */
}

static void test_head_parse(void)
{
    static const uint16_t in2[2] = {3, 5}, out2[2] = {4, 2};     /* not chained: 4 != 5 */
    static const uint16_t inb[1] = {300}, outb[1] = {300};       /* 90000 elements > 65535 */
    static float zeros[64];
    el_head h;
    uint32_t len = make_head(s_headbuf, 2, in2, out2, zeros);
    CHECK(el_head_parse(&h, s_headbuf, len) == EL_ERR_SHAPE);
    s_headbuf[0] = 1;
    s_headbuf[4] = (uint8_t)inb[0];
    s_headbuf[5] = (uint8_t)(inb[0] >> 8);
    s_headbuf[6] = (uint8_t)outb[0];
    s_headbuf[7] = (uint8_t)(outb[0] >> 8);
    CHECK(el_head_parse(&h, s_headbuf, sizeof(s_headbuf)) == EL_ERR_SHAPE);
    s_headbuf[0] = 4;
    CHECK(el_head_parse(&h, s_headbuf, sizeof(s_headbuf)) == EL_ERR_BOUNDS);
    s_headbuf[0] = 1;
    s_headbuf[4] = 10;
    s_headbuf[5] = 0;
    s_headbuf[6] = 10;
    s_headbuf[7] = 0;
    CHECK(el_head_parse(&h, s_headbuf, 8u + 4u * 109u) == EL_ERR_BOUNDS); /* 110 floats needed */
    CHECK(el_head_parse(&h, s_headbuf, 8u + 4u * 110u) == EL_OK);
}

/* ---- UPDATE bytes ---- */

static uint8_t s_out[512];
static uint32_t s_out_len;

static void sink(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    if (s_out_len + len <= sizeof(s_out)) {
        memcpy(s_out + s_out_len, data, len);
    }
    s_out_len += (uint32_t)len;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void test_update_bytes(void)
{
    static const uint16_t in[1] = {2}, out[1] = {2};
    static const float d[6] = {0.5f, -2.0f, 2.0f, 0.25f, 1.0f, -1.0f};
    static float zeros[6];
    el_head h;
    el_train_config c;
    el_round_result res;
    el_update_info info;
    el_prng r;
    const uint8_t *b;

    (void)el_head_parse(&h, s_headbuf, make_head(s_headbuf, 1, in, out, zeros));
    el_train_config_default(&c);
    c.sparsify = EL_SPARSE_TOPK;
    c.fraction = 0.5f;
    c.encoding = EL_ENC_F16;
    c.round = 7;
    res.steps = 3;
    res.loss = 0.5f;
    res.pre_clip_norm = 2.0f;
    info.boot_id = 0xABCD1234u;
    info.samples = 5;
    info.ticks = 99;
    info.seeded = 1;
    info.sens = 3000u;
    info.scale = 2500u;
    info.exponent = -13;
    info.appearances = 4;
    info.rho_total = 0.75;
    info.eps_total = 6.5f;
    info.floor = 1;
    el_prng_seed(&r, 1u);
    /* W: k = 2 of 4, |-2| and |2| (indices 1, 2): 12 + 4 + 4 = 20; b: k = 1 of 2, tie -> index 0: 12 + 2 + 2 = 16 */
    CHECK(el_update_block_len(2, EL_ENC_F16, 1) == 20 && el_update_block_len(1, EL_ENC_F16, 1) == 16);
    CHECK(el_update_len(&h, &c) == 88u + 20u + 16u);
    s_out_len = 0;
    el_update_write(&h, d, &c, &res, &info, &r, sink, NULL);
    CHECK(s_out_len == 124u);
    b = s_out;
    CHECK(rd32(b) == 7u && rd32(b + 4) == 0xABCD1234u && rd16(b + 8) == 5u && rd16(b + 10) == 3u);
    CHECK(rd16(b + 20) == 1u && b[33] == EL_SPARSE_TOPK && b[34] == EL_ENC_F16 && b[35] == 1u);
    CHECK(rd32(b + 48) == 99u && rd16(b + 52) == 2u && rd32(b + 56) == 36u);
    CHECK(rd32(b + 60) == 3000u && rd32(b + 64) == 2500u && (int16_t)rd16(b + 68) == -13 && rd16(b + 70) == 4u);
    CHECK(rd32(b + 72) == 0u && rd32(b + 76) == 0x3FE80000u && f32_of(rd32(b + 80)) == 6.5f && b[84] == 1u);
    b = s_out + 88;
    CHECK(rd16(b) == 0u && b[2] == EL_ENC_F16 && b[3] == 1u && rd16(b + 4) == 2u && rd16(b + 6) == 4u);
    CHECK(rd32(b + 8) == 0x3F800000u);
    CHECK(rd16(b + 12) == 1u && rd16(b + 14) == 2u && rd16(b + 16) == 0xC000u && rd16(b + 18) == 0x4000u);
    b = s_out + 108;
    CHECK(rd16(b) == 1u && rd16(b + 4) == 1u && rd16(b + 6) == 2u && rd16(b + 12) == 0u && rd16(b + 14) == 0x3C00u);

    /* int8, dense: scale = max|v| / 127 per tensor */
    c.sparsify = EL_SPARSE_NONE;
    c.encoding = EL_ENC_INT8;
    CHECK(el_update_len(&h, &c) == 88u + 16u + 16u);
    s_out_len = 0;
    el_update_write(&h, d, &c, &res, &info, &r, sink, NULL);
    b = s_out + 88;
    CHECK(s_out_len == 120u && b[3] == 0u && f32_of(rd32(b + 8)) == 2.0f / 127.0f);
    CHECK((int8_t)b[12] == 32 && (int8_t)b[13] == -127 && (int8_t)b[14] == 127 && (int8_t)b[15] == 16);
    b = s_out + 104;
    CHECK((int8_t)b[12] == 127 && (int8_t)b[13] == -127 && b[14] == 0 && b[15] == 0); /* zero padding */
}

/* ---- configuration and the privacy floor ---- */

static void test_config_and_floor(void)
{
    el_train_config c, ok;
    uint8_t body[EL_CONFIGURE_LEN];

    el_train_config_default(&ok);
    CHECK(el_train_config_validate(&ok, 32, 0, 0) == EL_CFG_OK);
    /* decode: the defaults' wire image round-trips */
    memset(body, 0, sizeof(body));
    el_f32_to_le(body + 0, 0.25f);
    body[8] = 4;
    body[12] = 3;
    body[14] = 2;
    body[15] = 1;
    el_f32_to_le(body + 16, 1.5f);
    el_f32_to_le(body + 28, 0.1f);
    body[32] = 0x2A;
    body[39] = 0x80;
    body[40] = 9;
    el_train_config_decode(&c, body);
    CHECK(c.lr == 0.25f && c.batch == 4 && c.local_steps == 0 && c.epochs == 3 && c.clip_mode == 2);
    CHECK(c.noise_kind == 1 && c.clip_norm == 1.5f && c.fraction == 0.1f && c.round == 9u);
    CHECK(c.seed == 0x800000000000002Aull);

    /* ranges */
    c = ok; c.lr = 0.0f;            CHECK(el_train_config_check_range(&c, 32) == EL_CFG_RANGE);
    c = ok; c.lr = f32_of(0x7FC00000u); CHECK(el_train_config_check_range(&c, 32) == EL_CFG_RANGE);
    c = ok; c.lr = 10.0f;           CHECK(el_train_config_check_range(&c, 32) == EL_CFG_OK);
    c = ok; c.momentum = 1.0f;      CHECK(el_train_config_check_range(&c, 32) == EL_CFG_RANGE);
    c = ok; c.batch = 0;            CHECK(el_train_config_check_range(&c, 32) == EL_CFG_RANGE);
    c = ok; c.batch = 33;           CHECK(el_train_config_check_range(&c, 32) == EL_CFG_RANGE);
    c = ok; c.local_steps = 0; c.epochs = 0;    CHECK(el_train_config_check_range(&c, 32) == EL_CFG_RANGE);
    c = ok; c.local_steps = 0; c.epochs = 1001; CHECK(el_train_config_check_range(&c, 32) == EL_CFG_RANGE);
    c = ok; c.local_steps = 5; c.epochs = 0;    CHECK(el_train_config_check_range(&c, 32) == EL_CFG_OK);
    c = ok; c.clip_mode = 3;        CHECK(el_train_config_check_range(&c, 32) == EL_CFG_RANGE);
    c = ok; c.noise_kind = 1;       CHECK(el_train_config_check_range(&c, 32) == EL_CFG_RANGE); /* C = 0 */
    c = ok; c.clip_mode = 1; c.clip_norm = f32_of(0x7F800000u); CHECK(el_train_config_check_range(&c, 32) == EL_CFG_RANGE);
    c = ok; c.noise_mult = -1.0f;   CHECK(el_train_config_check_range(&c, 32) == EL_CFG_RANGE);
    c = ok; c.noise_kind = 1; c.clip_norm = 1.0f; c.noise_mode = 1; c.clip_mode = 1;
    CHECK(el_train_config_check_range(&c, 32) == EL_CFG_RANGE); /* DP-SGD noise needs per-example clipping */
    c.clip_mode = 2;                CHECK(el_train_config_check_range(&c, 32) == EL_CFG_OK);
    c = ok; c.fraction = 0.0f;      CHECK(el_train_config_check_range(&c, 32) == EL_CFG_RANGE);
    c = ok; c.fraction = 1.5f;      CHECK(el_train_config_check_range(&c, 32) == EL_CFG_RANGE);
    c = ok; c.encoding = 3;         CHECK(el_train_config_check_range(&c, 32) == EL_CFG_RANGE);

    c = ok; c.noise_kind = 1; c.clip_norm = 1.0f; c.noise_mult = 1.0f; /* noise without clipping */
    CHECK(el_train_config_check_range(&c, 32) == EL_CFG_RANGE);

    /* the floor: only what the device can account (clipping, Gaussian noise, sigma > 0) */
    CHECK(el_train_config_validate(&ok, 32, 1, 0) == EL_CFG_FLOOR); /* the defaults add no noise */
    c = ok; c.clip_mode = 1; c.clip_norm = 1.0f; c.noise_kind = 1; c.noise_mult = 0.5f;
    CHECK(el_train_config_validate(&c, 32, 1, 0) == EL_CFG_OK);
    c.clip_norm = 1e-30f;           CHECK(el_train_config_validate(&c, 32, 1, 0) == EL_CFG_OK); /* grid: at TRAIN */
    c.clip_norm = 1.0f; c.noise_mult = 0.0f; CHECK(el_train_config_validate(&c, 32, 1, 0) == EL_CFG_FLOOR);
    c.noise_mult = 0.5f; c.noise_kind = 2;   CHECK(el_train_config_validate(&c, 32, 1, 0) == EL_CFG_FLOOR); /* Laplace */
    c.noise_kind = 0;               CHECK(el_train_config_validate(&c, 32, 1, 0) == EL_CFG_FLOOR);
    c.noise_kind = 1; c.clip_mode = 2; c.noise_mode = 1; CHECK(el_train_config_validate(&c, 32, 1, 0) == EL_CFG_OK);
    c.noise_kind = 2;               CHECK(el_train_config_validate(&c, 32, 0, 0) == EL_CFG_OK); /* no floor */
    /* a seed: only in testing builds; range errors come first, then the floor */
    c = ok; c.has_seed = 1;
    CHECK(el_train_config_validate(&c, 32, 0, 0) == EL_CFG_SEED);
    CHECK(el_train_config_validate(&c, 32, 0, 1) == EL_CFG_OK);
    CHECK(el_train_config_validate(&c, 32, 1, 0) == EL_CFG_FLOOR);
    c.lr = -1.0f;                   CHECK(el_train_config_validate(&c, 32, 1, 0) == EL_CFG_RANGE);
}

void el_test_train(void)
{
    test_chacha20_rfc8439();
    test_draws();
    test_f16();
    test_int8();
    test_topk();
    test_random_mask();
    test_clip();
    test_train_step();
    test_example_norm();
    test_head_parse();
    test_update_bytes();
    test_config_and_floor();
    el_test_dp();
}
