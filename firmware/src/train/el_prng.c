/** @file el_prng.c @brief ChaCha20 word stream and the uniform, Gaussian and Laplace draws. */
#include "train/el_prng.h"

#include <math.h>
#include <string.h>

#include "train/el_chacha20.h"

void el_prng_init(el_prng *r, const uint8_t key[32])
{
    int i;
    for (i = 0; i < 8; i++) {
        r->key[i] = (uint32_t)key[4 * i] | ((uint32_t)key[4 * i + 1] << 8) | ((uint32_t)key[4 * i + 2] << 16) |
                    ((uint32_t)key[4 * i + 3] << 24);
    }
    r->nonce[0] = r->nonce[1] = r->nonce[2] = 0;
    r->counter = 0;
    r->used = 16;
    memset(r->block, 0, sizeof(r->block));
}

void el_prng_seed(el_prng *r, uint64_t seed)
{
    uint8_t key[32];
    int i;
    memset(key, 0, sizeof(key));
    for (i = 0; i < 8; i++) {
        key[i] = (uint8_t)(seed >> (8 * i));
    }
    el_prng_init(r, key);
}

uint32_t el_prng_u32(el_prng *r)
{
    if (r->used >= 16u) {
        el_chacha20_block(r->key, r->counter, r->nonce, r->block);
        r->counter++;
        if (r->counter == 0u) {
            r->nonce[0]++; /* 2^32 blocks (256 GiB) later: never repeat a block */
        }
        r->used = 0;
    }
    return r->block[r->used++];
}

float el_u32_to_uniform(uint32_t w) { return (float)(((w >> 9) << 1) | 1u) * 0x1p-24f; }

float el_prng_uniform(el_prng *r) { return el_u32_to_uniform(el_prng_u32(r)); }

float el_prng_gaussian(el_prng *r)
{
    const float u1 = el_prng_uniform(r);
    const float u2 = el_prng_uniform(r);
    return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530717958647692f * u2);
}

float el_prng_laplace(el_prng *r)
{
    const float c = el_prng_uniform(r) - 0.5f; /* exact; never 0 */
    const float m = logf(1.0f - 2.0f * fabsf(c));
    return c < 0.0f ? m : -m;
}
