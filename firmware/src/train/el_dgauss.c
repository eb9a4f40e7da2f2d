/** @file el_dgauss.c @brief Discrete Laplace and discrete Gaussian samplers in exact integer arithmetic. */
#include "train/el_dgauss.h"

#define BERN_EXP_MAX_K (1u << 14)

/* Bits needed to write x (0 for 0), in six halving steps. */
static unsigned bit_length(uint64_t x)
{
    unsigned k = 0, step;
    for (step = 32; step > 0; step >>= 1) {
        if (x >> step) {
            x >>= step;
            k += step;
        }
    }
    return k + (unsigned)(x != 0u);
}

uint64_t el_dg_uniform(el_prng *r, uint64_t n)
{
    unsigned k;
    uint64_t mask;
    if (n <= 1u) {
        return 0;
    }
    if (n < 0x100000000ull) { /* one word, 32-bit hardware division: reject the lowest 2^32 mod n words */
        const uint32_t m = (uint32_t)n;
        const uint32_t low = (0u - m) % m;
        for (;;) {
            const uint32_t u = el_prng_u32(r);
            if (u >= low) {
                return u % m;
            }
        }
    }
    k = bit_length(n - 1u);
    mask = k >= 64u ? UINT64_MAX : (((uint64_t)1 << k) - 1u);
    for (;;) { /* no 64-bit division: draw k bits, keep them when below n (at most 2 tries on average) */
        uint64_t u = el_prng_u32(r);
        if (k > 32u) {
            u |= (uint64_t)el_prng_u32(r) << 32;
        }
        u &= mask;
        if (u < n) {
            return u;
        }
    }
}

static int bern(el_prng *r, uint64_t num, uint64_t den) { return el_dg_uniform(r, den) < num; }

/* exp(-num/den) for num <= den: K <- 1; while Bern(num / (den K)) K++; 1 when K is odd. */
static int bern_exp_unit(el_prng *r, uint64_t num, uint64_t den)
{
    uint32_t k = 1;
    while (k < BERN_EXP_MAX_K && bern(r, num, den * k)) {
        k++;
    }
    return (int)(k & 1u);
}

int el_dg_bern_exp(el_prng *r, uint64_t num, uint64_t den)
{
    while (num >= den) { /* exp(-g) = exp(-1)^floor(g) * exp(-(g - floor g)) */
        if (!bern_exp_unit(r, 1, 1)) {
            return 0;
        }
        num -= den;
    }
    return bern_exp_unit(r, num, den);
}

int32_t el_dg_laplace(el_prng *r, uint32_t t)
{
    for (;;) {
        const uint32_t u = (uint32_t)el_dg_uniform(r, t);
        uint32_t v = 0, x;
        int negative;
        if (!el_dg_bern_exp(r, u, t)) {
            continue;
        }
        while (v <= EL_DGAUSS_MAX_ABS && el_dg_bern_exp(r, 1, 1)) {
            v++;
        }
        x = u + t * v;
        negative = (int)(el_prng_u32(r) & 1u);
        if (negative && x == 0u) {
            continue;
        }
        return negative ? -(int32_t)x : (int32_t)x;
    }
}

int32_t el_dg_gaussian(el_prng *r, uint32_t s)
{
    const uint64_t s2 = (uint64_t)s * s;
    const uint64_t t = (uint64_t)s + 1u;
    const uint64_t den = 2u * s2 * t * t; /* < 2^50 for s <= 4096 */
    for (;;) {
        const int32_t y = el_dg_laplace(r, (uint32_t)t);
        const uint32_t a = (uint32_t)(y < 0 ? -y : y);
        int64_t diff;
        uint64_t num;
        if (a > EL_DGAUSS_MAX_ABS) {
            continue;
        }
        diff = (int64_t)a * (int64_t)t - (int64_t)s2; /* |diff| < 2^31 */
        num = (uint64_t)(diff * diff);
        if (el_dg_bern_exp(r, num, den)) {
            return y;
        }
    }
}
