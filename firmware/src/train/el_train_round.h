/**
 * @file el_train_round.h
 * @brief One round of on-device training (docs/training.md, "A round", steps 1-8 up to the noise;
 *        sparsification and encoding happen while UPDATE is written, el_update.h).
 *
 * Memory: theta_0 and d (2 P floats), the momentum v (P floats, builds with momentum only), act_len floats of
 * activations and the per-example factors of a batch; no working copy of the weights, no gradient buffer and no
 * per-example gradient buffer:
 * - the weights of a step are theta = theta_0 + d, each summed as it is read; d changes only between steps;
 * - with momentum and without DP-SGD, the batch gradient is accumulated straight into v: at each step v <- mu v,
 *   then for every sample v += (s_i / B') g_i, then v += n_k / B' (the same sum as v <- mu v + (sum s_i g_i + n_k)
 *   / B', rounded in a different order), then d += -lr v;
 * - otherwise (no momentum buffer, or DP-SGD, whose clipped sum is rounded to the grid before it is noised) the
 *   step keeps each example's factors and adds each example's share straight to d (no momentum), or forms the
 *   gradient one row of W_l (or one b_l) at a time (DP-SGD) (el_train_step_factored.h);
 * - the per-example norm of a dense head needs no materialised g_i: ||dW_l||^2 = ||delta_l||^2 ||a_l||^2,
 *   so ||g_i||^2 = sum_l ||delta_l||^2 (||a_l||^2 + 1), and s_i = min(1, C / ||g_i||) is known before
 *   g_i is accumulated.
 */
#ifndef EL_TRAIN_ROUND_H
#define EL_TRAIN_ROUND_H

#include <stdint.h>

#include "engine/el_status.h"
#include "train/el_dp_account.h"
#include "train/el_head.h"
#include "train/el_prng.h"
#include "train/el_train_config.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const el_head *head;
    const float *theta0;     /**< [P] global weights: every round starts here; never written */
    float *delta;            /**< [P] d, the steps' sum: the weights are theta_0 + d; out: the update after clipping
                                  and noise */
    float *velocity;         /**< [P] momentum v; NULL in a build without momentum (then mu must be 0) */
    float *factors;          /**< [batch][1 + act_len - in_0] per-example factors (no momentum buffer, or DP-SGD) */
    float *act;              /**< [head->act_len] activations and deltas (el_head.h layout) */
    const int8_t *samples;   /**< sample i at samples + i * sample_stride: in_0 int8 cut values */
    uint32_t sample_stride;  /**< bytes between samples, >= in_0 */
    const uint8_t *labels;   /**< [n_samples], each < out_{L-1} */
    uint16_t n_samples;      /**< N >= 1 */
    float feat_scale;        /**< cut tensor scale s: x = (q - z) * s */
    int32_t feat_zero;       /**< cut tensor zero point z */
} el_train_ctx;

typedef struct {
    uint16_t steps;          /**< SGD steps run */
    float loss;              /**< mean loss of the last batch (before its step) */
    float pre_clip_norm;     /**< ||d|| before update clipping */
    uint8_t norm_ok;         /**< 0 when the grid's exact norm check failed and zeros were noised */
} el_round_result;

/**
 * Run a round with configuration c (already validated). rng supplies the noise draws (per-step noise
 * in step order then parameter order; update noise in parameter order). grid: the fixed-point grid when
 * c has Gaussian noise with sigma > 0 (discrete Gaussian noise, every clip at grid->clip_eff), else NULL.
 * @return EL_OK, or EL_ERR_ARG when the context is inconsistent (no samples, missing buffers)
 */
el_status el_train_round(const el_train_ctx *ctx, const el_train_config *c, const el_dp_grid *grid, el_prng *rng,
                         el_round_result *res);

/**
 * Forward and backward of one sample whose features are already in a_0 (act[0..in_0)), on the weights
 * theta_0 + d. Fills a_1.., delta_0..; returns the loss; *norm2 = ||g_i||^2 over every tensor.
 */
float el_train_example_f32(const el_head *h, const float *theta0, const float *delta, float *act, uint16_t label,
                           float *norm2);

#ifdef __cplusplus
}
#endif

#endif /* EL_TRAIN_ROUND_H */
