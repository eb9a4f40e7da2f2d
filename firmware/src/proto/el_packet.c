/** @file el_packet.c @brief Packet parse/write and frame encoding (docs/protocol.md). */
#include "proto/el_packet.h"

#include <string.h>

#include "engine/el_crc32.h"

el_pkt_status el_pkt_parse(const uint8_t *buf, size_t len, el_pkt *out)
{
    uint16_t n;
    uint32_t crc;

    if (buf == NULL || out == NULL) {
        return EL_PKT_ERR_ARG;
    }
    if (len < EL_PKT_MIN) {
        return EL_PKT_ERR_SHORT;
    }
    n = el_get_u16(buf + 6);
    if (n > EL_PKT_BODY_MAX || (size_t)n + EL_PKT_MIN != len) {
        return EL_PKT_ERR_LENGTH;
    }
    crc = el_crc32(0, buf, (uint32_t)(EL_PKT_HEADER_LEN + n));
    if (crc != el_get_u32(buf + EL_PKT_HEADER_LEN + n)) {
        return EL_PKT_ERR_CRC;
    }
    if (buf[0] != EL_PROTO_VERSION) {
        return EL_PKT_ERR_VERSION;
    }
    out->type = buf[1];
    out->flags = buf[2];
    out->seq = el_get_u16(buf + 4);
    out->len = n;
    out->body = buf + EL_PKT_HEADER_LEN;
    return EL_PKT_OK;
}

el_pkt_status el_pkt_write(uint8_t *dst, size_t dst_len, const el_pkt *p, size_t *written)
{
    size_t total;

    if (dst == NULL || p == NULL || written == NULL || (p->body == NULL && p->len != 0) ||
        p->len > EL_PKT_BODY_MAX) {
        return EL_PKT_ERR_ARG;
    }
    total = EL_PKT_MIN + (size_t)p->len;
    if (dst_len < total) {
        return EL_PKT_ERR_DST_FULL;
    }
    dst[0] = EL_PROTO_VERSION;
    dst[1] = p->type;
    dst[2] = p->flags;
    dst[3] = 0;
    el_put_u16(dst + 4, p->seq);
    el_put_u16(dst + 6, p->len);
    if (p->len != 0 && p->body != dst + EL_PKT_HEADER_LEN) { /* a body already in place stays */
        memcpy(dst + EL_PKT_HEADER_LEN, p->body, p->len);
    }
    el_put_u32(dst + EL_PKT_HEADER_LEN + p->len, el_crc32(0, dst, (uint32_t)(EL_PKT_HEADER_LEN + p->len)));
    *written = total;
    return EL_PKT_OK;
}

el_cobs_result el_frame_encode(uint8_t *dst, size_t dst_len, const uint8_t *pkt, size_t pkt_len)
{
    el_cobs_result r;

    if (dst_len < 1) {
        r.len = 0;
        r.status = EL_COBS_ERR_DST_FULL;
        return r;
    }
    r = el_cobs_encode(dst, dst_len - 1, pkt, pkt_len);
    if (r.status == EL_COBS_OK) {
        dst[r.len++] = 0;
    }
    return r;
}
