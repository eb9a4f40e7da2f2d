/**
 * @file el_grid_noise.h
 * @brief The noisy release on a fixed-point grid (docs/training.md, "Discrete Gaussian noise on a
 *        fixed-point grid", steps 3 and 4).
 */
#ifndef EL_GRID_NOISE_H
#define EL_GRID_NOISE_H

#include <stdint.h>

#include "train/el_dp_account.h"
#include "train/el_prng.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * For every i in order: x = (v[i] * pre_scale) * 2^-e; q_i = roundf(x) (half away from zero), or 0 when
 * |x| > bound or x is not finite. With check_norm, when sum q_i^2 > B^2 (exact, 64-bit) every q_i becomes 0.
 * Then v[i] = (float)(q_i + n_i) * 2^e with n_i ~ N_Z(0, s^2) drawn in index order. The same work is done
 * whatever the values. Returns 0 when the norm check failed, else 1.
 */
int el_grid_noise_f32(float *v, uint32_t n, const el_dp_grid *g, float pre_scale, float bound, int check_norm,
                      el_prng *rng);

#ifdef __cplusplus
}
#endif

#endif /* EL_GRID_NOISE_H */
