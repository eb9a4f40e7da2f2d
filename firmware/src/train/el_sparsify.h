/**
 * @file el_sparsify.h
 * @brief Per-tensor sparsification of the update (docs/training.md): which coordinates are sent.
 *
 * No index buffer: a selector describes the kept set and an iterator walks it in ascending index
 * order, as many times as needed (UPDATE writes the indices, then the values).
 *
 * - Top-k: keep the k largest |v| (ties: lower index first). The k-th largest magnitude T is found
 *   by a binary search over the magnitude's float bits (31 passes over the tensor); kept are the
 *   coordinates with |v| > T, then the lowest-index ones with |v| == T.
 * - Random mask: selection sampling. For i = 0, 1, ... while t < k: draw a word w; keep i when
 *   (n - i) * (w >> 8) < (k - t) * 2^24 (exact integer arithmetic), t = kept so far. Exactly k indices,
 *   each k-subset equally likely (up to the 24-bit resolution). The iterator replays the draws from
 *   a saved PRNG state; el_random_mask_prepare advances the caller's PRNG past them.
 */
#ifndef EL_SPARSIFY_H
#define EL_SPARSIFY_H

#include <stdint.h>

#include "train/el_prng.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint8_t mode;      /**< 0 every coordinate, 1 top-k, 2 random mask (EL_SPARSE_*) */
    uint32_t n;        /**< tensor elements */
    uint32_t k;        /**< coordinates kept */
    uint32_t thresh;   /**< top-k: magnitude bits of the k-th largest |v| */
    uint32_t eq_keep;  /**< top-k: how many coordinates with magnitude bits == thresh are kept */
    el_prng rng0;      /**< random mask: the stream position of the first draw */
} el_selector;

typedef struct {
    const el_selector *s;
    uint32_t i;        /**< next index to look at */
    uint32_t taken;    /**< indices produced so far */
    uint32_t eq_taken; /**< top-k: ties taken */
    el_prng rng;       /**< random mask: replayed stream */
} el_select_iter;

/** k = max(1, ceil(f * n)) with f * n computed in float32; at most n. n >= 1, f in (0, 1]. */
uint32_t el_sparse_count(uint32_t n, float f);

/** Keep every coordinate. */
void el_select_all(el_selector *s, uint32_t n);

/** Top-k of v[0..n), 1 <= k <= n. */
void el_select_topk(el_selector *s, const float *v, uint32_t n, uint32_t k);

/** Random mask of k of n coordinates from the stream rng; rng is advanced past the draws. */
void el_select_random(el_selector *s, uint32_t n, uint32_t k, el_prng *rng);

/** Start walking the kept indices in ascending order. */
void el_select_begin(el_select_iter *it, const el_selector *s);

/** Next kept index into *index: 1, or 0 when all k were produced. v: the tensor (top-k only). */
int el_select_next(el_select_iter *it, const float *v, uint32_t *index);

#ifdef __cplusplus
}
#endif

#endif /* EL_SPARSIFY_H */
