/** @file el_update.c @brief UPDATE body: metadata, per-tensor sparsification and encoding, streamed. */
#include "train/el_update.h"

#include <math.h>
#include <string.h>

#include "train/el_sparsify.h"
#include "train/el_train_kernels.h"

/* Small staging buffer so the sink sees runs of bytes, not single bytes. */
typedef struct {
    uint8_t buf[64];
    size_t fill;
    el_sink_fn sink;
    void *ctx;
} stage;

static void flush(stage *s)
{
    if (s->fill > 0u) {
        s->sink(s->ctx, s->buf, s->fill);
        s->fill = 0;
    }
}

static void put(stage *s, const uint8_t *p, size_t n)
{
    while (n > 0u) {
        size_t room = sizeof(s->buf) - s->fill;
        size_t k = n < room ? n : room;
        memcpy(s->buf + s->fill, p, k);
        s->fill += k;
        p += k;
        n -= k;
        if (s->fill == sizeof(s->buf)) {
            flush(s);
        }
    }
}

static void put_u16(stage *s, uint16_t v)
{
    uint8_t b[2];
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    put(s, b, 2);
}

static void put_u32(stage *s, uint32_t v)
{
    uint8_t b[4];
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
    put(s, b, 4);
}

static void put_f32(stage *s, float v)
{
    uint8_t b[4];
    el_f32_to_le(b, v);
    put(s, b, 4);
}

static void put_u8(stage *s, uint8_t v) { put(s, &v, 1); }

static void put_f64(stage *s, double v)
{
    uint64_t bits;
    uint8_t b[8];
    int i;
    memcpy(&bits, &v, sizeof(bits));
    for (i = 0; i < 8; i++) {
        b[i] = (uint8_t)(bits >> (8 * i));
    }
    put(s, b, 8);
}

static uint32_t value_bytes(uint8_t encoding) { return encoding == EL_ENC_F32 ? 4u : encoding == EL_ENC_F16 ? 2u : 1u; }

uint32_t el_update_block_len(uint32_t n, uint8_t encoding, int sparse)
{
    const uint32_t len = 12u + (sparse ? 2u * n : 0u) + n * value_bytes(encoding);
    return (len + 3u) & ~3u;
}

static uint32_t sent_count(uint32_t elements, const el_train_config *c)
{
    return c->sparsify == EL_SPARSE_NONE ? elements : el_sparse_count(elements, c->fraction);
}

uint32_t el_update_len(const el_head *h, const el_train_config *c)
{
    uint32_t t, len = EL_UPDATE_META_LEN;
    for (t = 0; t < 2u * h->layers; t++) {
        len += el_update_block_len(sent_count(h->size[t], c), c->encoding, c->sparsify != EL_SPARSE_NONE);
    }
    return len;
}

static void write_meta(stage *s, const el_head *h, const el_train_config *c, const el_round_result *r,
                       const el_update_info *info)
{
    put_u32(s, c->round);
    put_u32(s, info->boot_id);
    put_u16(s, info->samples);
    put_u16(s, r->steps);
    put_f32(s, c->lr);
    put_f32(s, c->momentum);
    put_u16(s, c->batch);
    put_u8(s, c->clip_mode);
    put_u8(s, c->noise_kind);
    put_f32(s, c->clip_norm);
    put_f32(s, c->noise_mult);
    put_u8(s, c->noise_mode);
    put_u8(s, c->sparsify);
    put_u8(s, c->encoding);
    put_u8(s, info->seeded);
    put_f32(s, c->fraction);
    put_f32(s, r->pre_clip_norm);
    put_f32(s, r->loss);
    put_u32(s, info->ticks);
    put_u16(s, (uint16_t)(2u * h->layers));
    put_u16(s, c->local_steps == 0 ? c->epochs : 0);
    put_u32(s, el_update_len(h, c) - EL_UPDATE_META_LEN);
    put_u32(s, info->sens);
    put_u32(s, info->scale);
    put_u16(s, (uint16_t)info->exponent);
    put_u16(s, info->appearances);
    put_f64(s, info->rho_total);
    put_f32(s, info->eps_total);
    put_u8(s, info->floor);
    put_u8(s, 0);
    put_u16(s, 0);
}

static void write_block(stage *s, uint16_t index, const float *v, uint32_t n, const el_train_config *c,
                        el_prng *rng)
{
    el_selector sel;
    el_select_iter it;
    uint32_t i, k;
    const int sparse = c->sparsify != EL_SPARSE_NONE;
    float scale = 1.0f;
    uint32_t len, pad;
    static const uint8_t zeros[4] = {0, 0, 0, 0};

    k = sent_count(n, c);
    if (c->sparsify == EL_SPARSE_TOPK) {
        el_select_topk(&sel, v, n, k);
    } else if (c->sparsify == EL_SPARSE_RANDOM) {
        el_select_random(&sel, n, k, rng);
    } else {
        el_select_all(&sel, n);
    }
    if (c->encoding == EL_ENC_INT8) {
        float peak = 0.0f;
        el_select_begin(&it, &sel);
        while (el_select_next(&it, v, &i)) {
            const float m = fabsf(v[i]);
            if (m > peak) {
                peak = m;
            }
        }
        scale = el_int8_scale_f32(peak);
    }
    put_u16(s, index);
    put_u8(s, c->encoding);
    put_u8(s, (uint8_t)(sparse ? 1u : 0u));
    put_u16(s, (uint16_t)k);
    put_u16(s, (uint16_t)n);
    put_f32(s, scale);
    if (sparse) {
        el_select_begin(&it, &sel);
        while (el_select_next(&it, v, &i)) {
            put_u16(s, (uint16_t)i);
        }
    }
    el_select_begin(&it, &sel);
    while (el_select_next(&it, v, &i)) {
        if (c->encoding == EL_ENC_F32) {
            put_f32(s, v[i]);
        } else if (c->encoding == EL_ENC_F16) {
            put_u16(s, el_f32_to_f16(v[i]));
        } else {
            put_u8(s, (uint8_t)el_int8_quantize_f32(v[i], scale));
        }
    }
    len = el_update_block_len(k, c->encoding, sparse);
    pad = len - (12u + (sparse ? 2u * k : 0u) + k * value_bytes(c->encoding));
    put(s, zeros, pad);
}

void el_update_write(const el_head *h, const float *delta, const el_train_config *c, const el_round_result *r,
                     const el_update_info *info, el_prng *rng, el_sink_fn sink, void *sink_ctx)
{
    stage s;
    uint32_t t;
    s.fill = 0;
    s.sink = sink;
    s.ctx = sink_ctx;
    write_meta(&s, h, c, r, info);
    for (t = 0; t < 2u * h->layers; t++) {
        write_block(&s, (uint16_t)t, delta + h->offset[t], h->size[t], c, rng);
    }
    flush(&s);
}
