/** @file el_train_round.c @brief Batching, per-example clipping, SGD with momentum on theta_0 + d, update clipping
 *  and noise. */
#include "train/el_train_round.h"

#include <math.h>
#include <string.h>

#include "train/el_grid_noise.h"
#include "train/el_train_kernels.h"
#include "train/el_train_step_factored.h"

static void load_features(const el_train_ctx *ctx, uint32_t sample, float *x)
{
    const int8_t *q = ctx->samples + (uint32_t)sample * ctx->sample_stride;
    const uint16_t n = ctx->head->in[0];
    uint16_t k;
    for (k = 0; k < n; k++) {
        x[k] = (float)((int32_t)q[k] - ctx->feat_zero) * ctx->feat_scale;
    }
}

/* The step's update with momentum, fused with what follows it: d += u, u = -lr v; after the round's last step also
   ||d||^2, per tensor with Kahan compensation then summed (as el_sum_squares_f32 per tensor). Returns ||d||^2 when
   last, else 0. */
static float apply_step(const el_train_ctx *ctx, const el_train_config *c, int last)
{
    const el_head *h = ctx->head;
    float *const d = ctx->delta;
    const float *const v = ctx->velocity;
    const float lr = c->lr;
    float total = 0.0f;
    uint32_t t, i;

    for (t = 0; t < 2u * h->layers; t++) {
        const uint32_t end = h->offset[t] + h->size[t];
        float sum = 0.0f, comp = 0.0f;
        i = h->offset[t];
        if (last) {
            for (; i < end; i++) {
                d[i] += -(lr * v[i]);
                el_kahan_add_sq(d[i], &sum, &comp);
            }
        } else {
            for (; i < end; i++) {
                d[i] += -(lr * v[i]);
            }
        }
        total += sum;
    }
    return total;
}

/* One SGD step on the samples batch(j), j < count; returns the batch's mean loss. With momentum outside DP-SGD the
   batch gradient goes straight into v: the first example starts the sum (v <- mu v folded into it), the others
   accumulate; every other step is formed row by row from the examples' factors. */
static float run_step(const el_train_ctx *ctx, const el_train_config *c, const el_dp_grid *grid, el_prng *rng,
                      uint32_t first, uint32_t stride_mod, uint32_t count, int last, float *norm2_out)
{
    const int dpsgd = grid != NULL && c->noise_mode == EL_NOISE_EVERY_STEP;
    const float clip = grid != NULL ? grid->clip_eff : c->clip_norm;
    const el_head *h = ctx->head;
    const uint32_t p = h->params;
    float loss_sum = 0.0f;
    uint32_t j;
    uint16_t l;

    if (dpsgd || ctx->velocity == NULL) {
        return el_train_step_factored(ctx, c, dpsgd ? grid : NULL, clip, rng, first, stride_mod, count, last,
                                      norm2_out);
    }
    for (j = 0; j < count; j++) {
        const uint32_t sample = stride_mod ? (first + j) % stride_mod : first + j;
        float norm2, factor = 1.0f;
        float *at = ctx->act;
        const float *a[EL_HEAD_MAX_LAYERS];
        const float *d[EL_HEAD_MAX_LAYERS];

        load_features(ctx, sample, ctx->act);
        loss_sum += el_train_example_f32(h, ctx->theta0, ctx->delta, ctx->act, ctx->labels[sample], &norm2);
        if (c->clip_mode == EL_CLIP_EXAMPLE) {
            factor = el_clip_scale_f32(sqrtf(norm2), clip);
        }
        for (l = 0; l < h->layers; l++) {
            a[l] = at;
            at += h->in[l];
        }
        for (l = 0; l < h->layers; l++) {
            d[l] = at;
            at += h->out[l];
        }
        for (l = 0; l < h->layers; l++) {
            float *gw = ctx->velocity + h->offset[2 * l];
            float *gb = ctx->velocity + h->offset[2 * l + 1];
            if (j == 0u) {
                el_dense_grad_start_f32(gw, gb, d[l], a[l], h->in[l], h->out[l], factor / (float)count, c->momentum);
            } else {
                el_dense_grad_accumulate_f32(gw, gb, d[l], a[l], h->in[l], h->out[l], factor / (float)count);
            }
        }
    }
    if (c->noise_mode == EL_NOISE_EVERY_STEP && c->noise_kind != EL_NOISE_NONE) {
        el_add_noise_f32(ctx->velocity, p, c->noise_kind, c->noise_mult * c->clip_norm, 1.0f / (float)count, rng);
    }
    *norm2_out = apply_step(ctx, c, last);
    return loss_sum / (float)count;
}

el_status el_train_round(const el_train_ctx *ctx, const el_train_config *c, const el_dp_grid *grid, el_prng *rng,
                         el_round_result *res)
{
    const el_head *h = ctx->head;
    const uint32_t n = ctx->n_samples;
    uint32_t p, i;
    float total = 0.0f, norm;

    if (h == NULL || n == 0u || ctx->theta0 == NULL || ctx->delta == NULL || ctx->factors == NULL
        || (ctx->velocity == NULL && c->momentum != 0.0f) || ctx->act == NULL
        || ctx->samples == NULL || ctx->labels == NULL || c->batch == 0u || ctx->sample_stride < h->in[0]) {
        return EL_ERR_ARG;
    }
    p = h->params;
    memset(ctx->delta, 0, (size_t)p * sizeof(float));
    if (ctx->velocity != NULL) {
        memset(ctx->velocity, 0, (size_t)p * sizeof(float));
    }
    res->steps = 0;
    res->loss = 0.0f;

    if (c->local_steps > 0u) {
        const uint32_t width = c->batch < n ? c->batch : n;
        uint32_t k;
        for (k = 0; k < c->local_steps; k++) {
            res->loss = run_step(ctx, c, grid, rng, (k * (uint32_t)c->batch) % n, n, width,
                                 k + 1u == c->local_steps, &total);
            res->steps++;
        }
    } else {
        uint32_t e, start;
        for (e = 0; e < c->epochs; e++) {
            for (start = 0; start < n; start += c->batch) {
                const uint32_t width = n - start < c->batch ? n - start : c->batch;
                res->loss = run_step(ctx, c, grid, rng, start, 0, width, e + 1u == c->epochs && start + width >= n,
                                     &total);
                res->steps++;
            }
        }
    }
    norm = sqrtf(total); /* ||d|| from the last step's pass */
    res->pre_clip_norm = norm;
    res->norm_ok = 1;
    if (grid != NULL) {
        if (c->noise_mode == EL_NOISE_ON_UPDATE) { /* clipped to C_eff whatever the clip mode */
            res->norm_ok = (uint8_t)el_grid_noise_f32(ctx->delta, p, grid, el_clip_scale_f32(norm, grid->clip_eff),
                                                      (float)grid->sens, 1, rng);
        }
        return EL_OK;
    }
    if (c->clip_mode == EL_CLIP_UPDATE) { /* every coordinate, whatever the norm */
        const float s = el_clip_scale_f32(norm, c->clip_norm);
        for (i = 0; i < p; i++) {
            ctx->delta[i] *= s;
        }
    }
    if (c->noise_mode == EL_NOISE_ON_UPDATE && c->noise_kind != EL_NOISE_NONE) {
        el_add_noise_f32(ctx->delta, p, c->noise_kind, c->noise_mult * c->clip_norm, 1.0f, rng);
    }
    return EL_OK;
}
