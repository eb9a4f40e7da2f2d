/** @file el_rx.c @brief Frame receiver and chunk reassembler. */
#include "proto/el_rx.h"

#include <string.h>

void el_rx_init(el_rx *rx, uint8_t *buf, size_t cap)
{
    memset(rx, 0, sizeof(*rx));
    rx->buf = buf;
    rx->cap = buf != NULL ? cap : 0;
}

void el_rx_route(el_rx *rx, uint8_t type, uint8_t *buf, size_t cap)
{
    rx->route_type = buf != NULL ? type : 0;
    rx->route_buf = buf;
    rx->route_cap = buf != NULL ? cap : 0;
    rx->state = EL_RX_IDLE;
}

static el_rx_event on_packet(el_rx *rx, const el_pkt *p, el_rx_msg *msg)
{
    int more = (p->flags & EL_FLAG_MORE) != 0;
    int same = rx->state != EL_RX_IDLE && rx->msg_type == p->type && rx->msg_seq == p->seq;

    msg->type = p->type;
    msg->seq = p->seq;
    msg->len = 0;
    msg->body = NULL;

    if (same && rx->state == EL_RX_DISCARD) {
        if (!more) {
            rx->state = EL_RX_IDLE;
        }
        return EL_RX_NONE;
    }
    if (!same) { /* a new message; an unfinished one is abandoned */
        int routed = rx->route_type != 0 && p->type == rx->route_type;
        rx->state = EL_RX_ACTIVE;
        rx->msg_type = p->type;
        rx->msg_seq = p->seq;
        rx->msg_len = 0;
        rx->msg_buf = routed ? rx->route_buf : rx->buf;
        rx->msg_cap = routed ? rx->route_cap : rx->cap;
    }
    if (p->len > rx->msg_cap - rx->msg_len) { /* msg_len <= msg_cap always holds */
        rx->state = more ? EL_RX_DISCARD : EL_RX_IDLE;
        return EL_RX_TOO_BIG;
    }
    if (p->len != 0) {
        memcpy(rx->msg_buf + rx->msg_len, p->body, p->len);
    }
    rx->msg_len += p->len;
    if (more) {
        return EL_RX_NONE;
    }
    rx->state = EL_RX_IDLE;
    msg->len = rx->msg_len;
    msg->body = rx->msg_buf;
    return EL_RX_MESSAGE;
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
    d = el_cobs_decode(rx->pkt, sizeof(rx->pkt), rx->frame, n);
    if (d.status != EL_COBS_OK) {
        rx->frames_dropped++;
        return EL_RX_NONE;
    }
    s = el_pkt_parse(rx->pkt, d.len, &p);
    if (s == EL_PKT_ERR_CRC) {
        msg->type = rx->pkt[1];
        msg->seq = el_get_u16(rx->pkt + 4);
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
