/** @file el_tx.c @brief Chunked message writer over el_port_write(). */
#include "app/el_tx.h"

#include <string.h>

#include "app/el_port.h"
#include "proto/el_packet.h"

/* One buffer for the outgoing frame: the packet sits at its end, the chunk being filled is the packet's body in
   place, and the frame is COBS-encoded over the packet from the front (el_frame_encode allows it when the packet
   starts at least EL_COBS_ENCODED_MAX(n) - n bytes in; the 0x00 delimiter takes the last byte). */
static uint8_t s_frame[EL_FRAME_MAX];
static uint8_t *const s_pkt = s_frame + (EL_FRAME_MAX - 1u - EL_PKT_MAX);
static uint8_t *const s_chunk = s_frame + (EL_FRAME_MAX - 1u - EL_PKT_MAX) + EL_PKT_HEADER_LEN;

/* The reply to the request being handled, when it is one small message (ACK, ERROR): a retransmission of the
   request gets it again without being executed twice. */
static struct {
    uint8_t active;
    uint8_t valid;
    uint8_t type;
    uint8_t count;
    uint16_t len;
    uint8_t body[EL_TX_RECORD_MAX];
} s_rec;

static void emit(el_tx *t, int more)
{
    el_pkt p;
    el_cobs_result r;
    size_t written = 0;

    p.type = t->type;
    p.flags = (uint8_t)(more ? EL_FLAG_MORE : 0);
    p.seq = t->seq;
    p.len = (uint16_t)t->fill;
    p.body = s_chunk;
    t->done += (uint32_t)t->fill;
    t->fill = 0;
    if (el_pkt_write(s_pkt, EL_PKT_MAX, &p, &written) != EL_PKT_OK) {
        return;
    }
    r = el_frame_encode(s_frame, sizeof(s_frame), s_pkt, written);
    if (r.status == EL_COBS_OK) {
        el_port_write(s_frame, r.len);
    }
}

void el_tx_begin(el_tx *t, uint8_t type, uint16_t seq, uint32_t total)
{
    t->type = type;
    t->seq = seq;
    t->total = total;
    t->done = 0;
    t->fill = 0;
    t->part = 0;
    t->pos = t->lo = t->hi = 0;
}

void el_tx_begin_part(el_tx *t, uint8_t type, uint16_t seq, uint32_t total, uint32_t offset, uint32_t len)
{
    const uint32_t room = EL_PKT_BODY_MAX - EL_PART_HEAD;
    el_tx_begin(t, type, seq, total);
    t->part = 1;
    t->lo = offset < total ? offset : total;
    t->hi = t->lo + (len < total - t->lo ? len : total - t->lo);
    if (t->hi - t->lo > room) {
        t->hi = t->lo + room;
    }
    el_put_u32(s_chunk, total);
    el_put_u32(s_chunk + 4, t->lo);
}

/* Part mode: keep the bytes of [lo, hi) that pass, drop the rest. */
static void put_part(el_tx *t, const uint8_t *data, size_t len)
{
    const uint32_t left = t->total - t->pos;
    const uint32_t n = len < left ? (uint32_t)len : left;
    const uint32_t a = t->pos > t->lo ? t->pos : t->lo;
    const uint32_t b = t->pos + n < t->hi ? t->pos + n : t->hi;
    if (a < b) {
        memcpy(s_chunk + EL_PART_HEAD + (a - t->lo), data + (a - t->pos), b - a);
    }
    t->pos += n;
}

void el_tx_put(void *ctx, const uint8_t *data, size_t len)
{
    el_tx *t = (el_tx *)ctx;
    if (t->part) {
        put_part(t, data, len);
        return;
    }
    while (len > 0u) {
        const uint32_t left = t->total - t->done - (uint32_t)t->fill;
        size_t k = EL_PKT_BODY_MAX - t->fill;
        if (left == 0u) {
            return;
        }
        if (k > len) {
            k = len;
        }
        if (k > left) {
            k = left;
        }
        memcpy(s_chunk + t->fill, data, k);
        t->fill += k;
        data += k;
        len -= k;
        if (t->fill == EL_PKT_BODY_MAX && t->done + t->fill < t->total) {
            emit(t, 1);
        }
    }
}

void el_tx_end(el_tx *t)
{
    static const uint8_t zeros[16] = {0};
    if (t->part) {
        if (t->pos < t->hi) { /* a message shorter than announced: the part is padded with zeros */
            memset(s_chunk + EL_PART_HEAD + (t->pos > t->lo ? t->pos - t->lo : 0u), 0,
                   t->hi - (t->pos > t->lo ? t->pos : t->lo));
        }
        t->fill = EL_PART_HEAD + (t->hi - t->lo);
        t->part = 0;
        if (s_rec.active) { /* a part is not kept for a replay: it is asked for again */
            s_rec.count++;
            s_rec.valid = 0;
        }
        emit(t, 0);
        return;
    }
    while (t->done + t->fill < t->total) {
        el_tx_put(t, zeros, sizeof(zeros));
    }
    if (s_rec.active) {
        s_rec.count++;
        s_rec.valid = (uint8_t)(t->done == 0u && t->fill <= sizeof(s_rec.body));
        if (s_rec.valid) {
            s_rec.type = t->type;
            s_rec.len = (uint16_t)t->fill;
            memcpy(s_rec.body, s_chunk, t->fill);
        }
    }
    emit(t, 0);
}

void el_tx_record_clear(void) { memset(&s_rec, 0, sizeof(s_rec)); }

void el_tx_record_start(void)
{
    s_rec.active = 1;
    s_rec.valid = 0;
    s_rec.count = 0;
}

void el_tx_record_stop(void)
{
    s_rec.active = 0;
    if (s_rec.count != 1u) {
        s_rec.valid = 0;
    }
}

int el_tx_replay(uint16_t seq)
{
    if (!s_rec.valid) {
        return 0;
    }
    el_tx_send(s_rec.type, seq, s_rec.body, s_rec.len, NULL, 0);
    return 1;
}

void el_tx_send(uint8_t type, uint16_t seq, const uint8_t *head, size_t head_len, const uint8_t *data,
                size_t data_len)
{
    el_tx t;
    el_tx_begin(&t, type, seq, (uint32_t)(head_len + data_len));
    if (head_len > 0u) {
        el_tx_put(&t, head, head_len);
    }
    if (data_len > 0u) {
        el_tx_put(&t, data, data_len);
    }
    el_tx_end(&t);
}

void el_tx_error(uint16_t seq, uint16_t code, const char *text)
{
    uint8_t head[2];
    el_put_u16(head, code);
    el_tx_send(EL_MSG_ERROR, seq, head, sizeof(head), (const uint8_t *)text, strlen(text));
}
