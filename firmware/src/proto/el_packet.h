/**
 * @file el_packet.h
 * @brief Packets and frames of the serial protocol, version 2 (docs/protocol.md).
 *
 * Packet layout (little-endian):
 *   [0] u8 version (2)  [1] u8 type  [2] u8 flags (bit0 MORE, bit1 OFFSET)  [3] u8 reserved (0)
 *   [4] u16 seq  [6] u16 body length n (0..1024)  [8] body[n]  [8+n] u32 CRC-32 of [0, 8+n)
 * Frame on the wire: COBS(packet) 0x00.
 */
#ifndef EL_PACKET_H
#define EL_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "proto/el_cobs.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EL_PROTO_VERSION 2u
#define EL_PKT_HEADER_LEN 8u
#define EL_PKT_CRC_LEN 4u
#define EL_PKT_BODY_MAX 1024u
#define EL_PKT_MIN (EL_PKT_HEADER_LEN + EL_PKT_CRC_LEN)                   /**< 12 */
#define EL_PKT_MAX (EL_PKT_HEADER_LEN + EL_PKT_BODY_MAX + EL_PKT_CRC_LEN) /**< 1036 */
#define EL_FRAME_MAX (EL_COBS_ENCODED_MAX(EL_PKT_MAX) + 1u)              /**< 1042, with the 0x00 */

#define EL_FLAG_MORE 0x01u
#define EL_FLAG_OFFSET 0x02u /**< the body starts with the u32 offset of this chunk's data in its message */
#define EL_OFFSET_LEN 4u

/** Message types. */
enum {
    EL_MSG_HELLO = 0x01,
    EL_MSG_INFER = 0x02,
    EL_MSG_STATS = 0x03,
    EL_MSG_RESET = 0x04,
    EL_MSG_ERROR = 0x7F,
    EL_MSG_ACK = 0x80,
    EL_MSG_INFO = 0x81,
    EL_MSG_OUTPUT = 0x82,
    EL_MSG_STATS_REPLY = 0x83,
    EL_MSG_CHUNK_ACK = 0x84 /**< u32: bytes of the message being joined that the device holds */
};

/** ERROR message codes. */
enum {
    EL_E_CRC = 1,
    EL_E_UNKNOWN = 2,
    EL_E_LENGTH = 3,
    EL_E_TOO_BIG = 4,
    EL_E_MODEL = 5,
    EL_E_KERNEL = 6
};

typedef enum {
    EL_PKT_OK = 0,
    EL_PKT_ERR_SHORT,    /**< fewer than 12 bytes */
    EL_PKT_ERR_LENGTH,   /**< body length > 1024 or disagrees with the packet length */
    EL_PKT_ERR_CRC,      /**< CRC mismatch */
    EL_PKT_ERR_VERSION,  /**< version is not EL_PROTO_VERSION */
    EL_PKT_ERR_ARG,      /**< NULL pointer or body too long (writing) */
    EL_PKT_ERR_DST_FULL  /**< destination too small (writing) */
} el_pkt_status;

typedef struct {
    uint8_t type;
    uint8_t flags;
    uint16_t seq;
    uint16_t len;         /**< body length, 0..EL_PKT_BODY_MAX */
    const uint8_t *body;  /**< points into the parsed buffer, or the caller's body when writing */
} el_pkt;

/**
 * Validate a decoded packet buf[0..len) and fill *out (body points into buf).
 * Checks in order: length >= 12, body length <= 1024 and == len - 12, CRC, version.
 */
el_pkt_status el_pkt_parse(const uint8_t *buf, size_t len, el_pkt *out);

/** Serialise *p (header, body, CRC) into dst; *written gets 12 + p->len. p->body may already be in place at
    dst + EL_PKT_HEADER_LEN (then it is not copied); it must not overlap dst otherwise. */
el_pkt_status el_pkt_write(uint8_t *dst, size_t dst_len, const el_pkt *p, size_t *written);

/** COBS-encode pkt[0..pkt_len) into dst and append the 0x00 delimiter. pkt may lie inside dst from
    dst + EL_COBS_ENCODED_MAX(pkt_len) - pkt_len on (encoding in place, as el_cobs_encode). */
el_cobs_result el_frame_encode(uint8_t *dst, size_t dst_len, const uint8_t *pkt, size_t pkt_len);

static inline uint16_t el_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t el_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void el_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void el_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

#ifdef __cplusplus
}
#endif

#endif /* EL_PACKET_H */
