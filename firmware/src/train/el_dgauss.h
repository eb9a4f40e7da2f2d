/**
 * @file el_dgauss.h
 * @brief Exact discrete Gaussian sampling (Canonne, Kamath, Steinke 2020) over the ChaCha20 word stream,
 *        in 64-bit integer arithmetic only (docs/training.md, "Discrete Gaussian noise on a fixed-point grid").
 *
 * Every draw consumes whole 32-bit words of the stream; the running time depends on the words only.
 */
#ifndef EL_DGAUSS_H
#define EL_DGAUSS_H

#include <stdint.h>

#include "train/el_prng.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest integer noise scale s the sampler accepts (its 64-bit arithmetic holds up to here). */
#define EL_DGAUSS_MAX_SCALE 4096u

/** Magnitudes above this are rejected (at least 64 s for every allowed s). */
#define EL_DGAUSS_MAX_ABS (1u << 18)

/**
 * Uniform on {0 .. n-1}, n >= 1, by rejection. n < 2^32: one word w, redrawn while w < 2^32 mod n, then w mod n.
 * Else k = bit length of n - 1: two words (low first) masked to k bits, redrawn while >= n. n = 1 draws nothing.
 */
uint64_t el_dg_uniform(el_prng *r, uint64_t n);

/** 1 with probability exp(-num / den), den >= 1, den * 2^14 < 2^64. */
int el_dg_bern_exp(el_prng *r, uint64_t num, uint64_t den);

/** Discrete Laplace with parameter t >= 1: P[x] proportional to exp(-|x| / t). */
int32_t el_dg_laplace(el_prng *r, uint32_t t);

/** Discrete Gaussian N_Z(0, s^2), 1 <= s <= EL_DGAUSS_MAX_SCALE: P[x] proportional to exp(-x^2 / (2 s^2)). */
int32_t el_dg_gaussian(el_prng *r, uint32_t s);

#ifdef __cplusplus
}
#endif

#endif /* EL_DGAUSS_H */
