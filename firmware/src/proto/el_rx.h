/**
 * @file el_rx.h
 * @brief Byte-at-a-time frame receiver and chunk reassembler (docs/protocol.md).
 *
 * Feed every received byte to el_rx_feed(). Bytes accumulate until a 0x00;
 * a frame longer than EL_FRAME_MAX is discarded up to the next 0x00. Complete
 * frames are COBS-decoded, parsed, and chunks with the MORE flag are joined
 * into the message buffer. The receiver never allocates and never writes past
 * its buffers, whatever the input.
 *
 * Chunks with the OFFSET flag carry their place in the message (docs/protocol.md, "Acknowledged chunks"):
 * a chunk is joined only when it continues the message exactly; every other one (a duplicate, one after a
 * gap, a late copy of a message already joined) changes nothing. Each chunk but the one completing the
 * message yields EL_RX_CHUNK with the bytes held, for the device's CHUNK_ACK; the final chunk of the message
 * joined last, seen again, yields EL_RX_REPEAT.
 */
#ifndef EL_RX_H
#define EL_RX_H

#include <stddef.h>
#include <stdint.h>

#include "proto/el_packet.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    EL_RX_NONE = 0,   /**< nothing to do (byte consumed, or a frame was dropped) */
    EL_RX_MESSAGE,    /**< a whole message is in *msg */
    EL_RX_BAD_CRC,    /**< a frame failed its CRC; msg->seq/type are the (unverified) header values */
    EL_RX_TOO_BIG,    /**< a message exceeded its buffer; the rest of its chunks are ignored */
    EL_RX_CHUNK,      /**< an OFFSET chunk that did not complete a message; msg->len = bytes held */
    EL_RX_REPEAT      /**< the final OFFSET chunk of the message joined last, again; msg->len = its length,
                           msg->body = NULL (the buffer may hold something else by now) */
} el_rx_event;

typedef struct {
    uint8_t type;
    uint16_t seq;
    size_t len;
    const uint8_t *body;  /**< valid until the next el_rx_feed() */
} el_rx_msg;

enum { EL_RX_IDLE = 0, EL_RX_ACTIVE, EL_RX_DISCARD };

#define EL_RX_ROUTES 2

typedef struct {
    uint8_t frame[EL_FRAME_MAX];  /**< encoded bytes of the frame being received; at its end, decoded in place */
    size_t frame_len;
    uint8_t frame_overflow;       /**< set: skip bytes up to the next 0x00 */
    uint8_t *buf;                 /**< default message buffer */
    size_t cap;
    uint8_t route_type[EL_RX_ROUTES]; /**< messages of route_type[i] go to route_buf[i] (0: none) */
    uint8_t *route_buf[EL_RX_ROUTES];
    size_t route_cap[EL_RX_ROUTES];
    uint8_t routed;               /**< 1 + the route of the message being joined, 0 for the default buffer */
    uint8_t touched;              /**< bit i: bytes were written into route_buf[i] (el_rx_touched clears it) */
    uint8_t state;                /**< EL_RX_IDLE / ACTIVE / DISCARD */
    uint8_t msg_type;
    uint16_t msg_seq;
    uint8_t *msg_buf;             /**< destination of the message being joined */
    size_t msg_cap;
    size_t msg_len;
    uint32_t frames_dropped;      /**< malformed frames (not counting bad CRCs) */
    uint8_t done_valid;           /**< the message joined last, for late copies of its chunks */
    uint8_t done_type;
    uint16_t done_seq;
    size_t done_len;
} el_rx;

/** Start with an empty state; messages are joined into buf[0..cap). */
void el_rx_init(el_rx *rx, uint8_t *buf, size_t cap);

/** Join messages of one type into a buffer of their own (e.g. INFER into the input tensor): route `route`
    (< EL_RX_ROUTES); buf NULL removes it. */
void el_rx_route(el_rx *rx, uint8_t route, uint8_t type, uint8_t *buf, size_t cap);

/** Bit i set when bytes were written into route i's buffer since the last call (even of a message never
    completed); clears the bits. */
uint8_t el_rx_touched(el_rx *rx);

/** Forget the message joined last: its chunks, sent again, are joined anew. */
void el_rx_forget(el_rx *rx);

/** Consume one byte. On EL_RX_MESSAGE / BAD_CRC / TOO_BIG, *msg describes it. */
el_rx_event el_rx_feed(el_rx *rx, uint8_t byte, el_rx_msg *msg);

#ifdef __cplusplus
}
#endif

#endif /* EL_RX_H */
