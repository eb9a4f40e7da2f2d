/**
 * @file el_prng.h
 * @brief The training PRNG (docs/training.md, Randomness): ChaCha20 as a stream of 32-bit words,
 *        uniforms in (0, 1), Gaussian (Box-Muller) and Laplace (inverse CDF) draws.
 *
 * Stream: block counter 0, 1, 2, ... with a zero nonce (the first nonce word counts counter
 * wraps), words 0..15 of every block in order. The state is plain data: copying the struct saves
 * the position, copying it back replays the same words.
 */
#ifndef EL_PRNG_H
#define EL_PRNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint32_t key[8];
    uint32_t nonce[3];
    uint32_t counter;   /**< next block to generate */
    uint32_t block[16]; /**< current block */
    uint32_t used;      /**< words of block already consumed, 0..16 (16: generate the next block) */
} el_prng;

/** Key the stream from 32 bytes (little-endian words) and start at word 0. */
void el_prng_init(el_prng *r, const uint8_t key[32]);

/** Key the stream from a 64-bit seed (key bytes 0..7 = seed little-endian, 24 zero bytes) at word 0. */
void el_prng_seed(el_prng *r, uint64_t seed);

/** The next 32-bit word of the stream. */
uint32_t el_prng_u32(el_prng *r);

/** A word w as a uniform: ((w >> 9) * 2 + 1) * 2^-24, exact in float32, in [2^-24, 1 - 2^-24]. */
float el_u32_to_uniform(uint32_t w);

/** el_u32_to_uniform of the next word. */
float el_prng_uniform(el_prng *r);

/** Standard normal: u1, u2 = two uniforms, sqrt(-2 ln u1) * cos(2 pi u2) (the sine is not used). */
float el_prng_gaussian(el_prng *r);

/** Standard Laplace (scale 1): u = one uniform, -sign(u - 1/2) * ln(1 - 2 |u - 1/2|). */
float el_prng_laplace(el_prng *r);

#ifdef __cplusplus
}
#endif

#endif /* EL_PRNG_H */
