/** @file el_rx.c @brief Frame receiver and chunk reassembler. */
#include "proto/el_rx.h"

#include <string.h>

void el_rx_init(el_rx *rx, uint8_t *buf, size_t cap)
{
    memset(rx, 0, sizeof(*rx));
    rx->buf = buf;
    rx->cap = buf != NULL ? cap : 0;
}

void el_rx_route(el_rx *rx, uint8_t route, uint8_t type, uint8_t *buf, size_t cap)
{
    if (route >= EL_RX_ROUTES) {
        return;
    }
    rx->route_type[route] = buf != NULL ? type : 0;
    rx->route_buf[route] = buf;
    rx->route_cap[route] = buf != NULL ? cap : 0;
    rx->state = EL_RX_IDLE;
}

uint8_t el_rx_touched(el_rx *rx)
{
    const uint8_t t = rx->touched;
    rx->touched = 0;
    return t;
}

/* Copy n bytes of the message being joined to its buffer at msg_len. */
static void join(el_rx *rx, const uint8_t *src, size_t n)
{
    if (n != 0u) {
        memcpy(rx->msg_buf + rx->msg_len, src, n);
        if (rx->routed != 0u) {
            rx->touched |= (uint8_t)(1u << (rx->routed - 1u));
        }
    }
    rx->msg_len += n;
}

void el_rx_forget(el_rx *rx) { rx->done_valid = 0; }

static void start(el_rx *rx, const el_pkt *p)
{
    uint8_t i;
    rx->state = EL_RX_ACTIVE;
    rx->msg_type = p->type;
    rx->msg_seq = p->seq;
    rx->msg_len = 0;
    rx->msg_buf = rx->buf;
    rx->msg_cap = rx->cap;
    rx->routed = 0;
    for (i = 0; i < EL_RX_ROUTES; i++) {
        if (rx->route_type[i] != 0 && p->type == rx->route_type[i]) {
            rx->msg_buf = rx->route_buf[i];
            rx->msg_cap = rx->route_cap[i];
            rx->routed = (uint8_t)(i + 1u);
            break;
        }
    }
}

static el_rx_event held(el_rx_msg *msg, size_t len)
{
    msg->len = len;
    return EL_RX_CHUNK;
}

static el_rx_event complete(el_rx *rx, el_rx_msg *msg)
{
    rx->state = EL_RX_IDLE;
    rx->done_valid = 1;
    rx->done_type = rx->msg_type;
    rx->done_seq = rx->msg_seq;
    rx->done_len = rx->msg_len;
    msg->len = rx->msg_len;
    msg->body = rx->msg_buf;
    return EL_RX_MESSAGE;
}

/* A chunk with its offset: joined only where it continues the message. Nothing else changes any state but
   the start of a message at offset 0, so a copy that comes late or twice cannot overwrite what was joined. */
static el_rx_event on_offset_chunk(el_rx *rx, const el_pkt *p, el_rx_msg *msg)
{
    const int more = (p->flags & EL_FLAG_MORE) != 0;
    const uint32_t off = el_get_u32(p->body);
    const size_t n = (size_t)p->len - EL_OFFSET_LEN;
    int same = rx->state != EL_RX_IDLE && rx->msg_type == p->type && rx->msg_seq == p->seq;

    if (!same && rx->done_valid && rx->done_type == p->type && rx->done_seq == p->seq) {
        if (!more && (uint64_t)off + n == rx->done_len) {
            msg->len = rx->done_len;
            return EL_RX_REPEAT;
        }
        return held(msg, rx->done_len);
    }
    if (same && rx->state == EL_RX_DISCARD) {
        return EL_RX_NONE;
    }
    if (!same) {
        if (off != 0u) {
            return held(msg, 0); /* the start was lost: the sender goes back to 0 */
        }
        start(rx, p);
    }
    if (off != rx->msg_len) {
        return held(msg, rx->msg_len); /* a copy, or a chunk after a gap */
    }
    if (n > rx->msg_cap - rx->msg_len) {
        rx->state = more ? EL_RX_DISCARD : EL_RX_IDLE;
        return EL_RX_TOO_BIG;
    }
    join(rx, p->body + EL_OFFSET_LEN, n);
    return more ? held(msg, rx->msg_len) : complete(rx, msg);
}

static el_rx_event on_packet(el_rx *rx, const el_pkt *p, el_rx_msg *msg)
{
    int more = (p->flags & EL_FLAG_MORE) != 0;
    int same = rx->state != EL_RX_IDLE && rx->msg_type == p->type && rx->msg_seq == p->seq;

    msg->type = p->type;
    msg->seq = p->seq;
    msg->len = 0;
    msg->body = NULL;

    if (p->flags & EL_FLAG_OFFSET) {
        if (p->len < EL_OFFSET_LEN) {
            rx->frames_dropped++;
            return EL_RX_NONE;
        }
        return on_offset_chunk(rx, p, msg);
    }
    if (same && rx->state == EL_RX_DISCARD) {
        if (!more) {
            rx->state = EL_RX_IDLE;
        }
        return EL_RX_NONE;
    }
    if (!same) { /* a new message; an unfinished one is abandoned */
        start(rx, p);
    }
    if (p->len > rx->msg_cap - rx->msg_len) { /* msg_len <= msg_cap always holds */
        rx->state = more ? EL_RX_DISCARD : EL_RX_IDLE;
        return EL_RX_TOO_BIG;
    }
    join(rx, p->body, p->len);
    if (more) {
        return EL_RX_NONE;
    }
    return complete(rx, msg);
}

el_rx_event el_rx_feed(el_rx *rx, uint8_t byte, el_rx_msg *msg)
{
    el_cobs_result d;
    el_pkt p;
    el_pkt_status s;
    size_t n;

    if (byte != 0) {
        if (rx->frame_overflow) {
            return EL_RX_NONE;
        }
        if (rx->frame_len >= sizeof(rx->frame)) {
            rx->frame_overflow = 1;
            rx->frames_dropped++;
            return EL_RX_NONE;
        }
        rx->frame[rx->frame_len++] = byte;
        return EL_RX_NONE;
    }
    /* 0x00: end of frame */
    n = rx->frame_len;
    rx->frame_len = 0;
    if (rx->frame_overflow) {
        rx->frame_overflow = 0;
        return EL_RX_NONE;
    }
    if (n == 0) {
        return EL_RX_NONE; /* empty frame: idle line or resync */
    }
    d = el_cobs_decode(rx->frame, EL_PKT_MAX, rx->frame, n); /* in place: the packet replaces its frame */
    if (d.status != EL_COBS_OK) {
        rx->frames_dropped++;
        return EL_RX_NONE;
    }
    s = el_pkt_parse(rx->frame, d.len, &p);
    if (s == EL_PKT_ERR_CRC) {
        msg->type = rx->frame[1];
        msg->seq = el_get_u16(rx->frame + 4);
        msg->len = 0;
        msg->body = NULL;
        return EL_RX_BAD_CRC;
    }
    if (s != EL_PKT_OK) {
        rx->frames_dropped++;
        return EL_RX_NONE;
    }
    return on_packet(rx, &p, msg);
}
