/** @file el_train_step_factored.c @brief An SGD step without a P-float gradient buffer: from the examples' factors,
 *  straight into d (no momentum) or row by row (DP-SGD). */
#include "train/el_train_step_factored.h"

#include <math.h>
#include <string.h>

#include "train/el_grid_noise.h"
#include "train/el_train_kernels.h"

/* Feature k of a stored sample: x = (q - z) * s, the expression of the round's feature load. */
static float feature(const el_train_ctx *ctx, uint32_t sample, uint32_t k)
{
    const int8_t *q = ctx->samples + sample * ctx->sample_stride;
    return (float)((int32_t)q[k] - ctx->feat_zero) * ctx->feat_scale;
}

/* acc[k] (+)= cj x_k for one example: its layer input a_l (l > 0) or its features (l = 0). */
static void add_row(float *acc, const el_train_ctx *ctx, uint32_t sample, const float *a, uint32_t n, float cj,
                    int first)
{
    uint32_t k;
    if (a != NULL) {
        if (first) {
            for (k = 0; k < n; k++) {
                acc[k] = cj * a[k];
            }
        } else {
            for (k = 0; k < n; k++) {
                acc[k] += cj * a[k];
            }
        }
        return;
    }
    {
        const int8_t *q = ctx->samples + sample * ctx->sample_stride;
        const int32_t z = ctx->feat_zero;
        const float s = ctx->feat_scale;
        if (first) {
            for (k = 0; k < n; k++) {
                acc[k] = cj * ((float)((int32_t)q[k] - z) * s); /* the feature, as feature() computes it */
            }
        } else {
            for (k = 0; k < n; k++) {
                acc[k] += cj * ((float)((int32_t)q[k] - z) * s);
            }
        }
    }
}

/* DP-SGD, one row: the clipped sum rounded to the grid and noised, then / B'; v <- mu v + g when there is a v; d += u
   with u = -lr v (or -lr g); with `last`, ||d||^2 accumulates with Kahan compensation. */
static void apply(const el_train_ctx *ctx, const el_train_config *c, const el_dp_grid *grid, float *g, uint32_t at,
                  uint32_t n, uint32_t count, el_prng *rng, int last, float *sum, float *comp)
{
    const float inv_count = 1.0f / (float)count;
    float *const d = ctx->delta + at;
    float *const v = ctx->velocity != NULL ? ctx->velocity + at : NULL;
    uint32_t k;
    (void)el_grid_noise_f32(g, n, grid, 1.0f, (float)count * (float)grid->sens, 0, rng);
    for (k = 0; k < n; k++) {
        float step = g[k] * inv_count;
        if (v != NULL) {
            const float m = c->momentum * v[k];
            v[k] = m + step;
            step = v[k];
        }
        d[k] += -(c->lr * step);
        if (last) {
            el_kahan_add_sq(d[k], sum, comp);
        }
    }
}

/* Without momentum outside DP-SGD: each example's -lr (s_n / B') g_n straight into d, example by example (the
   weights stay theta_0 + d of the step's start: every forward pass is done), then the step noise -lr n_k / B' in
   parameter order; returns ||d||^2 (per tensor, Kahan) when last, else 0. */
static float step_into_delta(const el_train_ctx *ctx, const el_train_config *c, el_prng *rng, uint32_t first,
                             uint32_t stride_mod, uint32_t count, int last, const uint32_t *a_at, const uint32_t *d_at)
{
    const el_head *h = ctx->head;
    const uint32_t in0 = h->in[0];
    const uint32_t stride = 1u + h->act_len - in0;
    float *const x = ctx->act; /* a_0 of each example again */
    float total = 0.0f;
    uint32_t n, k, t;
    uint16_t l;

    for (n = 0; n < count; n++) {
        const uint32_t sample = stride_mod ? (first + n) % stride_mod : first + n;
        const float *slot = ctx->factors + n * stride;
        const float coef = -(c->lr * slot[0]);
        for (k = 0; k < in0; k++) {
            x[k] = feature(ctx, sample, k);
        }
        for (l = 0; l < h->layers; l++) {
            el_dense_grad_accumulate_f32(ctx->delta + h->offset[2 * l], ctx->delta + h->offset[2 * l + 1],
                                         slot + d_at[l], l > 0u ? slot + a_at[l] : x, h->in[l], h->out[l], coef);
        }
    }
    if (c->noise_mode == EL_NOISE_EVERY_STEP && c->noise_kind != EL_NOISE_NONE) {
        el_add_noise_f32(ctx->delta, h->params, c->noise_kind, c->noise_mult * c->clip_norm,
                         -(c->lr * (1.0f / (float)count)), rng);
    }
    if (last) {
        for (t = 0; t < 2u * h->layers; t++) {
            total += el_sum_squares_f32(ctx->delta + h->offset[t], h->size[t]);
        }
    }
    return total;
}

float el_train_step_factored(const el_train_ctx *ctx, const el_train_config *c, const el_dp_grid *grid, float clip,
                             el_prng *rng, uint32_t first, uint32_t stride_mod, uint32_t count, int last,
                             float *norm2_out)
{
    const el_head *h = ctx->head;
    const uint32_t in0 = h->in[0];
    const uint32_t stride = 1u + h->act_len - in0;
    float *const acc = ctx->act; /* free once the batch's factors are kept */
    uint32_t a_at[EL_HEAD_MAX_LAYERS], d_at[EL_HEAD_MAX_LAYERS];
    float loss_sum = 0.0f, total = 0.0f;
    uint32_t j, n, r, at = 1u;
    uint16_t l;

    for (l = 1; l < h->layers; l++) { /* where a_l and delta_l sit in an example's factors */
        a_at[l] = at;
        at += h->in[l];
    }
    for (l = 0; l < h->layers; l++) {
        d_at[l] = at;
        at += h->out[l];
    }
    for (j = 0; j < count; j++) {
        const uint32_t sample = stride_mod ? (first + j) % stride_mod : first + j;
        float *slot = ctx->factors + j * stride;
        float norm2, factor = 1.0f;
        uint16_t k;
        for (k = 0; k < in0; k++) {
            ctx->act[k] = feature(ctx, sample, k);
        }
        loss_sum += el_train_example_f32(h, ctx->theta0, ctx->delta, ctx->act, ctx->labels[sample], &norm2);
        if (c->clip_mode == EL_CLIP_EXAMPLE) {
            factor = el_clip_scale_f32(sqrtf(norm2), clip);
        }
        if (grid != NULL && !(norm2 < INFINITY)) { /* overflow or NaN: the example contributes nothing */
            factor = 0.0f;
            memset(ctx->act, 0, (size_t)h->act_len * sizeof(float)); /* activations and deltas */
        }
        slot[0] = grid != NULL ? factor : factor / (float)count; /* DP-SGD: the clipped sum itself */
        memcpy(slot + 1, ctx->act + in0, (size_t)(stride - 1u) * sizeof(float)); /* a_1.., delta_0.. */
    }
    if (grid == NULL) {
        *norm2_out = step_into_delta(ctx, c, rng, first, stride_mod, count, last, a_at, d_at);
        return loss_sum / (float)count;
    }
    for (l = 0; l < h->layers; l++) {
        const uint32_t n_in = h->in[l], n_out = h->out[l];
        float sum = 0.0f, comp = 0.0f;
        for (r = 0; r < n_out; r++) { /* W_l row r: sum over the batch of (s_n / B') delta_n[r] a_n, in example order */
            for (n = 0; n < count; n++) {
                const float *slot = ctx->factors + n * stride;
                const uint32_t sample = stride_mod ? (first + n) % stride_mod : first + n;
                add_row(acc, ctx, sample, l > 0u ? slot + a_at[l] : NULL, n_in, slot[0] * slot[d_at[l] + r], n == 0u);
            }
            apply(ctx, c, grid, acc, h->offset[2 * l] + r * n_in, n_in, count, rng, last, &sum, &comp);
        }
        total += sum;
        sum = 0.0f;
        comp = 0.0f;
        for (r = 0; r < n_out; r++) { /* b_l */
            for (n = 0; n < count; n++) {
                const float *slot = ctx->factors + n * stride;
                const float cj = slot[0] * slot[d_at[l] + r];
                acc[r] = n == 0u ? cj : acc[r] + cj;
            }
        }
        apply(ctx, c, grid, acc, h->offset[2 * l + 1], n_out, count, rng, last, &sum, &comp);
        total += sum;
    }
    *norm2_out = last ? total : 0.0f;
    return loss_sum / (float)count;
}
