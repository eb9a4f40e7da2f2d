/**
 * @file el_head.h
 * @brief The trainable float head (docs/model-format.md, HEAD section) and its parameter layout.
 *
 * Parameter vector theta (P floats): W_0 [out_0][in_0], b_0 [out_0], W_1, b_1, ... (tensor 2l is W_l,
 * 2l+1 is b_l). Activation scratch (act_len floats): a_0 [in_0] .. a_{L-1} [in_{L-1}], then
 * delta_0 [out_0] .. delta_{L-1} [out_{L-1}].
 */
#ifndef EL_HEAD_H
#define EL_HEAD_H

#include <stdint.h>

#include "engine/el_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EL_HEAD_MAX_LAYERS 3
#define EL_HEAD_MAX_TENSORS (2 * EL_HEAD_MAX_LAYERS)

typedef struct {
    uint16_t layers;                       /**< L, 1..3 */
    uint16_t in[EL_HEAD_MAX_LAYERS];       /**< in_l; in_{l+1} == out_l */
    uint16_t out[EL_HEAD_MAX_LAYERS];      /**< out_l; out_{L-1} = classes */
    uint32_t offset[EL_HEAD_MAX_TENSORS];  /**< first float of tensor t in theta */
    uint32_t size[EL_HEAD_MAX_TENSORS];    /**< elements of tensor t, <= 65535 */
    uint32_t params;                       /**< P */
    uint32_t act_len;                      /**< sum in_l + sum out_l */
    uint32_t data_offset;                  /**< byte offset of W_0 in the HEAD section */
} el_head;

/**
 * Parse a HEAD section: 1..3 layers, ReLU hidden activation, in/out >= 1, layers chained,
 * every tensor <= 65535 elements, the weights inside sec[0..len).
 * @return EL_OK, EL_ERR_BOUNDS or EL_ERR_SHAPE (*h unusable)
 */
el_status el_head_parse(el_head *h, const uint8_t *sec, uint32_t len);

/** dst[i] = the little-endian float32 at src + 4 i, i < n. */
void el_f32_from_le(float *dst, const uint8_t *src, uint32_t n);

/** Write v as a little-endian float32 at dst. */
void el_f32_to_le(uint8_t *dst, float v);

#ifdef __cplusplus
}
#endif

#endif /* EL_HEAD_H */
