/**
 * @file el_train_step_factored.h
 * @brief One SGD step without a P-float gradient buffer: every step of a build without momentum
 *        (EL_TRAIN_NO_MOMENTUM), and every DP-SGD step.
 *
 * Each example's factors are kept: its clip coefficient (s_n / B', or s_n in DP-SGD), a_1 .. a_{L-1} and
 * delta_0 .. delta_{L-1} (1 + act_len - in_0 floats; a_0 is derived again from the stored int8 sample), so that
 * every forward pass of the step runs on the weights theta_0 + d of the step's start. Then:
 * - without momentum outside DP-SGD: example by example, d += -lr (s_n / B') g_n (el_dense_grad_accumulate_f32 on
 *   the factors), then the step noise d += (sigma C draw) (-lr / B') in parameter order;
 * - in DP-SGD (whose clipped sum is rounded to the grid before it is noised, so it must be whole per coordinate):
 *   the parameters in order, one row of W_l (or one b_l) at a time: g = sum_n s_n delta_n[r] a_n in example order,
 *   the row rounded to the grid and noised (the draws of the whole vector, in parameter order), / B',
 *   v <- mu v + g when there is a v, and d += -lr v (or -lr g).
 */
#ifndef EL_TRAIN_STEP_FACTORED_H
#define EL_TRAIN_STEP_FACTORED_H

#include <stdint.h>

#include "train/el_dp_account.h"
#include "train/el_train_round.h"

/**
 * The step on samples batch(j) = (first + j) mod stride_mod (or first + j when stride_mod is 0), j < count; clip is
 * the per-example clip norm; grid: the DP-SGD grid, or NULL outside DP-SGD. *norm2_out = ||d||^2 when `last`,
 * else 0. Returns the batch's mean loss. Needs ctx->factors of count * (1 + act_len - in_0) floats; ctx->act is
 * scratch.
 */
float el_train_step_factored(const el_train_ctx *ctx, const el_train_config *c, const el_dp_grid *grid, float clip,
                             el_prng *rng, uint32_t first, uint32_t stride_mod, uint32_t count, int last,
                             float *norm2_out);

#endif /* EL_TRAIN_STEP_FACTORED_H */
