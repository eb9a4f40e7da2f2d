/** @file el_sparsify.c @brief Top-k and random-mask selection without index buffers. */
#include "train/el_sparsify.h"

#include <math.h>
#include <string.h>

static uint32_t mag_bits(float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof(b));
    return b & 0x7FFFFFFFu; /* orders like |v| (NaN above infinity) */
}

uint32_t el_sparse_count(uint32_t n, float f)
{
    const float prod = f * (float)n;
    float c = ceilf(prod);
    uint32_t k;
    if (!(c >= 1.0f)) {
        return 1u;
    }
    if (c >= (float)n) {
        return n;
    }
    k = (uint32_t)c;
    return k < 1u ? 1u : k;
}

void el_select_all(el_selector *s, uint32_t n)
{
    memset(s, 0, sizeof(*s));
    s->mode = 0;
    s->n = n;
    s->k = n;
}

static uint32_t count_at_least(const float *v, uint32_t n, uint32_t t)
{
    uint32_t i, c = 0;
    for (i = 0; i < n; i++) {
        c += mag_bits(v[i]) >= t ? 1u : 0u;
    }
    return c;
}

void el_select_topk(el_selector *s, const float *v, uint32_t n, uint32_t k)
{
    uint32_t lo = 0, hi = 0x80000000u, gt = 0, i;
    memset(s, 0, sizeof(*s));
    s->mode = 1;
    s->n = n;
    s->k = k;
    /* largest t with count(|v| bits >= t) >= k: lo satisfies it, hi does not */
    while (hi - lo > 1u) {
        const uint32_t mid = lo + (hi - lo) / 2u;
        if (count_at_least(v, n, mid) >= k) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    for (i = 0; i < n; i++) {
        gt += mag_bits(v[i]) > lo ? 1u : 0u;
    }
    s->thresh = lo;
    s->eq_keep = k - gt; /* gt < k by the choice of lo */
}

void el_select_random(el_selector *s, uint32_t n, uint32_t k, el_prng *rng)
{
    el_select_iter it;
    uint32_t idx;
    memset(s, 0, sizeof(*s));
    s->mode = 2;
    s->n = n;
    s->k = k;
    s->rng0 = *rng;
    el_select_begin(&it, s);
    while (el_select_next(&it, NULL, &idx)) {
    }
    *rng = it.rng;
}

void el_select_begin(el_select_iter *it, const el_selector *s)
{
    it->s = s;
    it->i = 0;
    it->taken = 0;
    it->eq_taken = 0;
    if (s->mode == 2) {
        it->rng = s->rng0;
    }
}

int el_select_next(el_select_iter *it, const float *v, uint32_t *index)
{
    const el_selector *s = it->s;
    while (it->taken < s->k && it->i < s->n) {
        const uint32_t i = it->i++;
        int keep;
        if (s->mode == 1) {
            const uint32_t m = mag_bits(v[i]);
            keep = m > s->thresh || (m == s->thresh && it->eq_taken < s->eq_keep);
            if (keep && m == s->thresh) {
                it->eq_taken++;
            }
        } else if (s->mode == 2) {
            const uint32_t w = el_prng_u32(&it->rng) >> 8;
            keep = (uint64_t)(s->n - i) * w < ((uint64_t)(s->k - it->taken) << 24);
        } else {
            keep = 1;
        }
        if (keep) {
            it->taken++;
            *index = i;
            return 1;
        }
    }
    return 0;
}
