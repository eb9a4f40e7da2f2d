/**
 * @file el_dp_account.h
 * @brief The device's privacy arithmetic (docs/training.md, "The privacy floor and the budget"): the
 *        fixed-point grid of a Gaussian configuration, the zCDP cost of a release, and epsilon of a total.
 *
 * Pure functions of their arguments; double precision (soft-float on a Cortex-M4F, a few hundred
 * operations per TRAIN).
 */
#ifndef EL_DP_ACCOUNT_H
#define EL_DP_ACCOUNT_H

#include <stdint.h>

#include "train/el_train_config.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The grid of a noisy configuration: step 2^exponent, sensitivity unit B, noise scale s (grid steps). */
typedef struct {
    int16_t exponent;  /**< e: grid step gamma = 2^e */
    uint32_t sens;     /**< B = floor(C 2^-e), r + 2 .. 2^26 */
    uint32_t scale;    /**< s = ceil(sigma B), 1 .. 4096 */
    float clip_eff;    /**< C_eff = (B - r - 1) 2^e (1 - 2^-8): every clip of a noisy round uses it */
} el_dp_grid;

/** ceil(sqrt(n)) in integers. */
uint32_t el_dp_isqrt_ceil(uint32_t n);

/** The grid for clip norm C > 0 and noise multiplier sigma > 0 over P parameters; 0 when it does not fit. */
int el_dp_grid_make(float clip, float sigma, uint32_t params, el_dp_grid *g);

/** The configuration is one the device can account: clipping, Gaussian noise, sigma > 0 (grid checked apart). */
int el_dp_accountable(const el_train_config *c);

/** A: the most steps of a round that hold one window (1 for noise on the update). */
uint32_t el_dp_appearances(const el_train_config *c, uint32_t n_samples);

/** rho of one release: A 2 B^2 / s^2, rounded up. */
double el_dp_release_rho(const el_dp_grid *g, uint32_t appearances);

/** total + rho, rounded up (infinite stays infinite). */
double el_dp_rho_add(double total, double rho);

/** epsilon at delta of rho-zCDP over the fixed order grid (docs/training.md); +inf for infinite rho. */
double el_dp_epsilon(double rho, double delta);

#ifdef __cplusplus
}
#endif

#endif /* EL_DP_ACCOUNT_H */
