/**
 * @file el_cobs.h
 * @brief Consistent Overhead Byte Stuffing: removes every 0x00 from a buffer.
 *
 * Encoding: blocks of up to 254 non-zero bytes, each preceded by a code byte
 * (block length + 1). Code 0xFF means "254 bytes, no zero follows"; any other
 * code means "a zero follows, unless this is the last block". As in Cheshire and
 * Baker's encoder, a full block always closes and a new one opens, so data ending
 * on a full 254-byte block is followed by a final 0x01 code (decoders accept both).
 * The frame delimiter (0x00) is not part of the encoded data.
 *
 * No allocation; dst and src must not overlap, except that decoding in place
 * (dst == src) is safe.
 */
#ifndef EL_COBS_H
#define EL_COBS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Worst-case encoded size of n source bytes (without the 0x00 delimiter). */
#define EL_COBS_ENCODED_MAX(n) ((n) + (n) / 254u + 1u)

typedef enum {
    EL_COBS_OK = 0,
    EL_COBS_ERR_NULL,      /**< a NULL pointer with a non-zero length */
    EL_COBS_ERR_DST_FULL,  /**< dst_len too small for the result */
    EL_COBS_ERR_ZERO,      /**< decode: a 0x00 byte inside encoded data */
    EL_COBS_ERR_TRUNCATED  /**< decode: a code byte points past the end */
} el_cobs_status;

typedef struct {
    size_t len;             /**< bytes written to dst; 0 unless status is EL_COBS_OK */
    el_cobs_status status;
} el_cobs_result;

/** Encode src[0..src_len) into dst. Needs dst_len >= EL_COBS_ENCODED_MAX(src_len) in the worst case.
    In place: src may start k >= EL_COBS_ENCODED_MAX(src_len) - src_len bytes into dst (the encoding, front to
    back, writes at most k - 1 bytes ahead of the bytes it has read). */
el_cobs_result el_cobs_encode(uint8_t *dst, size_t dst_len, const uint8_t *src, size_t src_len);

/** Decode src[0..src_len) (no delimiter) into dst. The result is at most src_len - 1 bytes. dst may be src
    (decoding in place: every byte is written behind the byte read). */
el_cobs_result el_cobs_decode(uint8_t *dst, size_t dst_len, const uint8_t *src, size_t src_len);

#ifdef __cplusplus
}
#endif

#endif /* EL_COBS_H */
