/**
 * @file el_update.h
 * @brief The UPDATE message body (docs/protocol.md): 88 bytes of metadata, then one block per tensor,
 *        written through a byte sink so that no second copy of the update is needed.
 *
 * Block t (tensor 2l = W_l, 2l+1 = b_l), 4-byte aligned:
 *   u16 index, u8 encoding, u8 sparse, u16 n sent, u16 elements, f32 scale (int8; else 1.0),
 *   u16 indices[n] (sparse only, ascending), n values (f32 / f16 / i8), zero padding to 4.
 * Sparse is set whenever sparsification is configured (even when k == elements).
 */
#ifndef EL_UPDATE_H
#define EL_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include "train/el_head.h"
#include "train/el_prng.h"
#include "train/el_train_config.h"
#include "train/el_train_round.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EL_UPDATE_META_LEN 88u

/** Receives consecutive bytes of the message body. */
typedef void (*el_sink_fn)(void *ctx, const uint8_t *data, size_t len);

/** Round facts that go into the metadata besides the configuration. */
typedef struct {
    uint32_t boot_id;
    uint16_t samples;
    uint32_t ticks;        /**< 0 outside testing builds */
    uint8_t seeded;        /**< the PRNG key came from a host seed */
    uint32_t sens;         /**< grid sensitivity unit B, 0 without discrete noise */
    uint32_t scale;        /**< grid noise scale s, 0 without */
    int16_t exponent;      /**< grid exponent e */
    uint16_t appearances;  /**< A */
    double rho_total;      /**< after this release; +inf when unbounded */
    float eps_total;       /**< after this release, at the device's delta */
    uint8_t floor;         /**< the build enforces a floor */
} el_update_info;

/** Bytes of one tensor block with n values sent. */
uint32_t el_update_block_len(uint32_t n, uint8_t encoding, int sparse);

/** Bytes of the whole body (metadata + blocks) for head h under configuration c. */
uint32_t el_update_len(const el_head *h, const el_train_config *c);

/**
 * Sparsify, encode and write the body: metadata, then the blocks in tensor order. The random mask
 * draws come from rng (tensor order). Exactly el_update_len() bytes go to sink.
 * @param delta [P] the update after clipping and noise (el_train_round)
 */
void el_update_write(const el_head *h, const float *delta, const el_train_config *c, const el_round_result *r,
                     const el_update_info *info, el_prng *rng, el_sink_fn sink, void *sink_ctx);

#ifdef __cplusplus
}
#endif

#endif /* EL_UPDATE_H */
