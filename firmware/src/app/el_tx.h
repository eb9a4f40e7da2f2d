/**
 * @file el_tx.h
 * @brief Streams one outgoing message as chunks (docs/protocol.md): the total length is given first,
 *        bytes are put in any pieces, and every full 1024-byte body goes out at once (MORE set while
 *        bytes remain). The message never exists as one buffer, so UPDATE needs no copy.
 */
#ifndef EL_TX_H
#define EL_TX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint8_t type;
    uint16_t seq;
    uint32_t total;  /**< announced body length */
    uint32_t done;   /**< bytes already sent in packets */
    size_t fill;     /**< bytes waiting in the chunk buffer */
    uint8_t part;    /**< set: only bytes [lo, hi) of the message go out, as one PART message */
    uint32_t pos, lo, hi;
} el_tx;

/** Bytes before the data of a PART body: u32 total length, u32 offset. */
#define EL_PART_HEAD 8u

/** Start a message of `total` body bytes. Only one message is in flight at a time (one chunk buffer). */
void el_tx_begin(el_tx *t, uint8_t type, uint16_t seq, uint32_t total);

/** Start a message of `total` bytes of which only [offset, offset + len) goes out (at most 1016 bytes, cut to
    the total), as one message of type `type` whose body is u32 total, u32 offset, then those bytes. Put the
    whole message as for el_tx_begin(); el_tx_end() sends the part. */
void el_tx_begin_part(el_tx *t, uint8_t type, uint16_t seq, uint32_t total, uint32_t offset, uint32_t len);

/** Append bytes; bytes past the announced total are dropped. Matches el_sink_fn with ctx = el_tx. */
void el_tx_put(void *t, const uint8_t *data, size_t len);

/** Send the last chunk (MORE clear). A message shorter than announced is padded with zeros. */
void el_tx_end(el_tx *t);

/** A whole message at once: head[0..head_len) then data[0..data_len). */
void el_tx_send(uint8_t type, uint16_t seq, const uint8_t *head, size_t head_len, const uint8_t *data,
                size_t data_len);

/** An ERROR message: u16 code, then the text (no terminator). */
void el_tx_error(uint16_t seq, uint16_t code, const char *text);

/** Largest reply kept for retransmissions (ACK bodies, ERROR texts). */
#define EL_TX_RECORD_MAX 128u

/** Forget any kept reply (at boot and reset). */
void el_tx_record_clear(void);

/** Keep the reply to the request about to be handled (docs/protocol.md, "Retransmissions"). */
void el_tx_record_start(void);

/** Stop keeping; the reply stays available when it was exactly one message of at most EL_TX_RECORD_MAX bytes. */
void el_tx_record_stop(void);

/** Send the kept reply again with sequence number seq; 0 when none is kept. */
int el_tx_replay(uint16_t seq);

#ifdef __cplusplus
}
#endif

#endif /* EL_TX_H */
