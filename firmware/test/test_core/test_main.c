/**
 * @file test_main.c
 * @brief Firmware unit tests: COBS, packet codec, frame receiver (here) and on-device training
 *        (test_train.c). One program for every target
 *        (host build and QEMU); prints `EL-TEST PASS n=<checks>` and exits 0, or
 *        `EL-TEST FAIL ...` lines and exits 1.
 */
#include <stdint.h>
#include <string.h>

#include "app/el_port.h"
#include "engine/el_crc32.h"
#include "proto/el_cobs.h"
#include "proto/el_packet.h"
#include "proto/el_rx.h"
#include "el_test.h"

static uint32_t s_checks, s_failed;

static void put_str(const char *s) { el_port_write((const uint8_t *)s, strlen(s)); }

static void put_u32(uint32_t v)
{
    char buf[11];
    int i = 10;
    buf[i] = '\0';
    do {
        buf[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0 && i > 0);
    put_str(buf + i);
}

void el_test_check(int ok, const char *file, int line, const char *what)
{
    s_checks++;
    if (!ok) {
        s_failed++;
        put_str("EL-TEST FAIL ");
        put_str(file);
        put_str(":");
        put_u32((uint32_t)line);
        put_str(" ");
        put_str(what);
        put_str("\n");
    }
}


static uint32_t s_rng = 12345u;
static uint8_t rnd(void)
{
    s_rng = s_rng * 1664525u + 1013904223u;
    return (uint8_t)(s_rng >> 24);
}

static uint8_t a[3200], b[1200], c[1200];

/* ---- COBS ---- */

static int cobs_is(const uint8_t *src, size_t n, const uint8_t *want, size_t want_len)
{
    el_cobs_result r = el_cobs_encode(b, sizeof(b), src, n);
    return r.status == EL_COBS_OK && r.len == want_len && memcmp(b, want, want_len) == 0;
}

static void test_cobs_known(void)
{
    static const uint8_t z1[] = {0x00}, e1[] = {0x01, 0x01};
    static const uint8_t z2[] = {0x00, 0x00}, e2[] = {0x01, 0x01, 0x01};
    static const uint8_t m[] = {0x11, 0x22, 0x00, 0x33}, em[] = {0x03, 0x11, 0x22, 0x02, 0x33};
    static const uint8_t t[] = {0x11, 0x00, 0x00, 0x00}, et[] = {0x02, 0x11, 0x01, 0x01, 0x01};
    static const uint8_t empty_enc[] = {0x01};
    size_t i;

    CHECK(cobs_is(NULL, 0, empty_enc, 1));
    CHECK(cobs_is(z1, 1, e1, 2));
    CHECK(cobs_is(z2, 2, e2, 3));
    CHECK(cobs_is(m, 4, em, 5));
    CHECK(cobs_is(t, 4, et, 5));

    /* 254 non-zero bytes: a full block, then a final empty block (code 0x01) */
    for (i = 0; i < 254; i++) {
        a[i] = (uint8_t)(i + 1);
    }
    c[0] = 0xFF;
    memcpy(c + 1, a, 254);
    c[255] = 0x01;
    CHECK(cobs_is(a, 254, c, 256));
    /* decoders also accept the form without the final code */
    CHECK(el_cobs_decode(b, sizeof(b), c, 255).status == EL_COBS_OK);
    /* 255 non-zero bytes: FF block then a 1-byte block */
    a[254] = 0xFF;
    c[255] = 0x02;
    c[256] = 0xFF;
    CHECK(cobs_is(a, 255, c, 257));
    /* 254 non-zero then a zero */
    a[254] = 0x00;
    c[255] = 0x01;
    c[256] = 0x01;
    CHECK(cobs_is(a, 255, c, 257));
}

static void test_cobs_round_trip(void)
{
    size_t n;
    int mode;
    for (mode = 0; mode < 3; mode++) {
        for (n = 0; n <= 1100; n += (n < 600 ? 1 : 37)) {
            size_t i;
            el_cobs_result e, d;
            for (i = 0; i < n; i++) {
                uint8_t v = rnd();
                a[i] = mode == 0 ? v : mode == 1 ? (uint8_t)(v | 1u) : (uint8_t)(v < 200 ? 0 : v);
            }
            e = el_cobs_encode(b, sizeof(b), a, n);
            CHECK(e.status == EL_COBS_OK && e.len <= EL_COBS_ENCODED_MAX(n));
            CHECK(memchr(b, 0, e.len) == NULL);
            d = el_cobs_decode(c, sizeof(c), b, e.len);
            CHECK(d.status == EL_COBS_OK && d.len == n && memcmp(a, c, n) == 0);
            /* one byte short of room fails cleanly */
            CHECK(el_cobs_encode(b, e.len - 1, a, n).status == EL_COBS_ERR_DST_FULL);
            if (n > 0) {
                CHECK(el_cobs_decode(c, n - 1, b, e.len).status == EL_COBS_ERR_DST_FULL);
            }
            /* in-place decode */
            d = el_cobs_decode(b, e.len, b, e.len);
            CHECK(d.status == EL_COBS_OK && d.len == n && memcmp(a, b, n) == 0);
        }
    }
}

static void test_cobs_malformed(void)
{
    static const uint8_t zero_in[] = {0x03, 0x11, 0x00};
    static const uint8_t zero_code[] = {0x02, 0x11, 0x00, 0x01};
    static const uint8_t trunc[] = {0x05, 0x11, 0x22};
    static const uint8_t ff_trunc[] = {0xFF, 0x01};
    size_t i;
    CHECK(el_cobs_decode(c, sizeof(c), zero_in, sizeof(zero_in)).status == EL_COBS_ERR_ZERO);
    CHECK(el_cobs_decode(c, sizeof(c), zero_code, sizeof(zero_code)).status == EL_COBS_ERR_ZERO);
    CHECK(el_cobs_decode(c, sizeof(c), trunc, sizeof(trunc)).status == EL_COBS_ERR_TRUNCATED);
    CHECK(el_cobs_decode(c, sizeof(c), ff_trunc, sizeof(ff_trunc)).status == EL_COBS_ERR_TRUNCATED);
    CHECK(el_cobs_decode(c, 0, NULL, 0).status == EL_COBS_OK);
    CHECK(el_cobs_encode(NULL, 10, a, 1).status == EL_COBS_ERR_NULL);
    CHECK(el_cobs_encode(b, 0, a, 0).status == EL_COBS_ERR_DST_FULL);
    /* random garbage never decodes past dst */
    for (i = 0; i < 2000; i++) {
        size_t n = (size_t)rnd() % 64u, k;
        el_cobs_result r;
        for (k = 0; k < n; k++) {
            a[k] = rnd();
        }
        memset(c, 0xEE, 80);
        r = el_cobs_decode(c, 16, a, n);
        CHECK(r.len <= 16 && c[16] == 0xEE);
    }
}

/* ---- CRC and packets ---- */

static void test_crc(void)
{
    static const uint8_t digits[] = "123456789";
    CHECK(el_crc32(0, digits, 9) == 0xCBF43926u);
    CHECK(el_crc32(el_crc32(0, digits, 4), digits + 4, 5) == 0xCBF43926u);
}

static size_t make_pkt(uint8_t *dst, uint8_t type, uint8_t flags, uint16_t seq, const uint8_t *body, uint16_t n)
{
    el_pkt p;
    size_t w = 0;
    p.type = type;
    p.flags = flags;
    p.seq = seq;
    p.len = n;
    p.body = body;
    return el_pkt_write(dst, EL_PKT_MAX, &p, &w) == EL_PKT_OK ? w : 0;
}

static void test_packet(void)
{
    el_pkt p;
    size_t n;
    el_pkt big;
    size_t w;

    n = make_pkt(b, EL_MSG_HELLO, 0, 0x1234, NULL, 0);
    CHECK(n == 12);
    CHECK(b[0] == 2 && b[1] == 0x01 && b[4] == 0x34 && b[5] == 0x12 && b[6] == 0 && b[7] == 0);
    CHECK(el_pkt_parse(b, n, &p) == EL_PKT_OK && p.type == EL_MSG_HELLO && p.seq == 0x1234 && p.len == 0);

    memset(a, 0x5A, EL_PKT_BODY_MAX);
    n = make_pkt(b, EL_MSG_INFER, EL_FLAG_MORE, 7, a, EL_PKT_BODY_MAX);
    CHECK(n == EL_PKT_MAX);
    CHECK(el_pkt_parse(b, n, &p) == EL_PKT_OK && p.len == EL_PKT_BODY_MAX && p.flags == EL_FLAG_MORE &&
          p.body == b + 8);

    /* malformed */
    CHECK(el_pkt_parse(b, 11, &p) == EL_PKT_ERR_SHORT);
    CHECK(el_pkt_parse(b, n - 1, &p) == EL_PKT_ERR_LENGTH);
    n = make_pkt(b, EL_MSG_STATS, 0, 1, a, 3);
    CHECK(el_pkt_parse(b, n + 1, &p) == EL_PKT_ERR_LENGTH);
    b[8] ^= 0x01;
    CHECK(el_pkt_parse(b, n, &p) == EL_PKT_ERR_CRC);
    b[8] ^= 0x01;
    b[n - 1] ^= 0x80;
    CHECK(el_pkt_parse(b, n, &p) == EL_PKT_ERR_CRC);
    b[n - 1] ^= 0x80;
    CHECK(el_pkt_parse(b, n, &p) == EL_PKT_OK);
    b[0] = 1; /* wrong version (the one before the privacy budget) with a valid CRC */
    el_put_u32(b + n - 4, el_crc32(0, b, (uint32_t)(n - 4)));
    CHECK(el_pkt_parse(b, n, &p) == EL_PKT_ERR_VERSION);
    /* body length field above 1024 */
    memset(b, 0, sizeof(b));
    b[0] = 1;
    el_put_u16(b + 6, 1025);
    el_put_u32(b + 8 + 1025, el_crc32(0, b, 8 + 1025));
    CHECK(el_pkt_parse(b, 8 + 1025 + 4, &p) == EL_PKT_ERR_LENGTH);

    /* writing */
    big.type = 1;
    big.flags = 0;
    big.seq = 0;
    big.len = EL_PKT_BODY_MAX + 1;
    big.body = a;
    CHECK(el_pkt_write(b, sizeof(b), &big, &w) == EL_PKT_ERR_ARG);
    big.len = 10;
    CHECK(el_pkt_write(b, 21, &big, &w) == EL_PKT_ERR_DST_FULL);
    CHECK(el_pkt_write(b, 22, &big, &w) == EL_PKT_OK && w == 22);
    CHECK(el_frame_encode(c, EL_FRAME_MAX, b, w).status == EL_COBS_OK);
}

/* ---- receiver ---- */

static el_rx s_rx;
static uint8_t s_msgbuf[3000];
static uint8_t s_route[100];

/* Feed a frame (packet -> COBS -> 0x00); return the last event and its message. */
static el_rx_event feed_bytes(const uint8_t *bytes, size_t n, el_rx_msg *m)
{
    el_rx_event last = EL_RX_NONE;
    size_t i;
    for (i = 0; i < n; i++) {
        el_rx_event e = el_rx_feed(&s_rx, bytes[i], m);
        if (e != EL_RX_NONE) {
            last = e;
        }
    }
    return last;
}

static el_rx_event feed_pkt(uint8_t type, uint8_t flags, uint16_t seq, const uint8_t *body, uint16_t n, el_rx_msg *m)
{
    static uint8_t pkt[EL_PKT_MAX], frame[EL_FRAME_MAX];
    size_t pn = make_pkt(pkt, type, flags, seq, body, n);
    el_cobs_result r = el_frame_encode(frame, sizeof(frame), pkt, pn);
    return feed_bytes(frame, r.len, m);
}

static void test_rx(void)
{
    el_rx_msg m;
    size_t i;
    static const uint8_t crc_bad_frame_seed[] = {1, 3, 0, 0, 9, 0, 0, 0};
    uint8_t pkt[12];
    uint8_t frame[16];
    el_cobs_result r;

    el_rx_init(&s_rx, s_msgbuf, sizeof(s_msgbuf));
    for (i = 0; i < sizeof(a); i++) {
        a[i] = (uint8_t)(i * 7u);
    }

    /* one packet */
    CHECK(feed_pkt(EL_MSG_HELLO, 0, 5, NULL, 0, &m) == EL_RX_MESSAGE && m.type == EL_MSG_HELLO && m.seq == 5 &&
          m.len == 0);

    /* three chunks: 1024 + 1024 + 500 */
    CHECK(feed_pkt(0x10, EL_FLAG_MORE, 9, a, 1024, &m) == EL_RX_NONE);
    CHECK(feed_pkt(0x10, EL_FLAG_MORE, 9, a + 1024, 1024, &m) == EL_RX_NONE);
    CHECK(feed_pkt(0x10, 0, 9, a + 2048, 500 - 348, &m) == EL_RX_MESSAGE);
    CHECK(m.len == 2048 + 152 && memcmp(m.body, a, m.len) == 0);

    /* too big: 3 x 1024 > 3000; the rest of its chunks are ignored, then the link works */
    CHECK(feed_pkt(0x11, EL_FLAG_MORE, 1, a, 1024, &m) == EL_RX_NONE);
    CHECK(feed_pkt(0x11, EL_FLAG_MORE, 1, a, 1024, &m) == EL_RX_NONE);
    CHECK(feed_pkt(0x11, EL_FLAG_MORE, 1, a, 1024, &m) == EL_RX_TOO_BIG && m.seq == 1);
    CHECK(feed_pkt(0x11, EL_FLAG_MORE, 1, a, 1024, &m) == EL_RX_NONE);
    CHECK(feed_pkt(0x11, 0, 1, a, 10, &m) == EL_RX_NONE);
    CHECK(feed_pkt(EL_MSG_STATS, 0, 2, NULL, 0, &m) == EL_RX_MESSAGE && m.type == EL_MSG_STATS);

    /* an unfinished message is abandoned by a new one */
    CHECK(feed_pkt(0x12, EL_FLAG_MORE, 3, a, 100, &m) == EL_RX_NONE);
    CHECK(feed_pkt(0x13, 0, 4, a + 1, 10, &m) == EL_RX_MESSAGE && m.type == 0x13 && m.len == 10 &&
          memcmp(m.body, a + 1, 10) == 0);

    /* routed type joins into its own buffer, bounded by it */
    el_rx_route(&s_rx, 0, EL_MSG_INFER, s_route, sizeof(s_route));
    CHECK(feed_pkt(EL_MSG_INFER, 0, 6, a, 100, &m) == EL_RX_MESSAGE && m.body == s_route && m.len == 100);
    CHECK(feed_pkt(EL_MSG_INFER, 0, 6, a, 101, &m) == EL_RX_TOO_BIG);
    CHECK(feed_pkt(EL_MSG_INFER, EL_FLAG_MORE, 7, a, 60, &m) == EL_RX_NONE);
    CHECK(feed_pkt(EL_MSG_INFER, 0, 7, a, 60, &m) == EL_RX_TOO_BIG);
    CHECK(feed_pkt(EL_MSG_HELLO, 0, 8, NULL, 0, &m) == EL_RX_MESSAGE);

    /* bad CRC is reported with its sequence number */
    memcpy(pkt, crc_bad_frame_seed, 8);
    el_put_u32(pkt + 8, el_crc32(0, pkt, 8) ^ 1u);
    r = el_frame_encode(frame, sizeof(frame), pkt, 12);
    CHECK(feed_bytes(frame, r.len, &m) == EL_RX_BAD_CRC && m.seq == 9 && m.type == 3);

    /* an endless frame is dropped up to the next 0x00 */
    memset(a, 0x41, sizeof(a));
    CHECK(feed_bytes(a, sizeof(a), &m) == EL_RX_NONE);
    CHECK(feed_bytes(a, sizeof(a), &m) == EL_RX_NONE);
    CHECK(feed_pkt(EL_MSG_HELLO, 0, 10, NULL, 0, &m) == EL_RX_NONE); /* its bytes end the long frame */
    CHECK(feed_pkt(EL_MSG_HELLO, 0, 11, NULL, 0, &m) == EL_RX_MESSAGE && m.seq == 11);

    /* garbage: short frames, bad COBS, zeros; then a good frame is still understood */
    for (i = 0; i < 20000; i++) {
        uint8_t v = rnd();
        (void)el_rx_feed(&s_rx, (uint8_t)(v < 16 ? 0 : v), &m);
    }
    (void)el_rx_feed(&s_rx, 0, &m);
    CHECK(feed_pkt(EL_MSG_HELLO, 0, 12, NULL, 0, &m) == EL_RX_MESSAGE && m.seq == 12);
    CHECK(s_rx.frames_dropped > 0);
}

/* An acknowledged chunk: u32 offset, then n bytes of a from that offset. */
static el_rx_event feed_at(uint8_t type, int more, uint16_t seq, uint32_t offset, uint16_t n, el_rx_msg *m)
{
    static uint8_t body[EL_PKT_BODY_MAX];
    el_put_u32(body, offset);
    memcpy(body + EL_OFFSET_LEN, a + offset, n);
    return feed_pkt(type, (uint8_t)(EL_FLAG_OFFSET | (more ? EL_FLAG_MORE : 0)), seq, body, (uint16_t)(n + 4u), m);
}

static void test_rx_offsets(void)
{
    el_rx_msg m;
    size_t i;
    el_rx_init(&s_rx, s_msgbuf, sizeof(s_msgbuf));
    for (i = 0; i < sizeof(a); i++) {
        a[i] = (uint8_t)(i * 13u + 1u);
    }
    /* 0..500, a copy of it, a gap (800), then 500..1000 and the last 200: joined once, in order */
    CHECK(feed_at(0x20, 1, 3, 0, 500, &m) == EL_RX_CHUNK && m.len == 500 && m.seq == 3);
    CHECK(feed_at(0x20, 1, 3, 0, 500, &m) == EL_RX_CHUNK && m.len == 500);
    CHECK(feed_at(0x20, 1, 3, 800, 100, &m) == EL_RX_CHUNK && m.len == 500);
    CHECK(feed_at(0x20, 1, 3, 500, 500, &m) == EL_RX_CHUNK && m.len == 1000);
    CHECK(feed_at(0x20, 0, 3, 1000, 200, &m) == EL_RX_MESSAGE && m.len == 1200 && memcmp(m.body, a, 1200) == 0);
    /* late copies of the message handled: counted as held, the final one a repeat; nothing overwritten */
    memset(s_msgbuf, 0xEE, 16);
    CHECK(feed_at(0x20, 1, 3, 0, 500, &m) == EL_RX_CHUNK && m.len == 1200);
    CHECK(feed_at(0x20, 0, 3, 1000, 200, &m) == EL_RX_REPEAT && m.len == 1200 && m.body == NULL);
    CHECK(feed_at(0x20, 0, 3, 900, 300, &m) == EL_RX_REPEAT);
    CHECK(s_msgbuf[0] == 0xEE);
    el_rx_forget(&s_rx);
    CHECK(feed_at(0x20, 0, 3, 1000, 200, &m) == EL_RX_CHUNK && m.len == 0); /* joined anew: from 0 */
    /* a message that does not start at 0; one that grows past the buffer; a body without its offset */
    CHECK(feed_at(0x21, 1, 4, 300, 10, &m) == EL_RX_CHUNK && m.len == 0);
    CHECK(feed_at(0x22, 1, 5, 0, 1020, &m) == EL_RX_CHUNK && m.len == 1020);
    CHECK(feed_at(0x22, 1, 5, 1020, 1020, &m) == EL_RX_CHUNK && m.len == 2040);
    CHECK(feed_at(0x22, 1, 5, 2040, 1020, &m) == EL_RX_TOO_BIG);
    CHECK(feed_at(0x22, 0, 5, 3060, 10, &m) == EL_RX_NONE);
    CHECK(feed_pkt(0x23, EL_FLAG_OFFSET, 6, a, 3, &m) == EL_RX_NONE && s_rx.frames_dropped > 0);
    /* a plain message between chunks of an acknowledged one abandons it, as between plain chunks */
    CHECK(feed_at(0x24, 1, 7, 0, 100, &m) == EL_RX_CHUNK);
    CHECK(feed_pkt(EL_MSG_HELLO, 0, 8, NULL, 0, &m) == EL_RX_MESSAGE);
    CHECK(feed_at(0x24, 0, 7, 100, 100, &m) == EL_RX_CHUNK && m.len == 0);
}

int main(void)
{
    el_port_init();
    test_crc();
    test_cobs_known();
    test_cobs_round_trip();
    test_cobs_malformed();
    test_packet();
    test_rx();
    test_rx_offsets();
    el_test_train();
    el_test_f32_vec();
    el_test_kernels();
    el_bench_kernels();
    if (s_failed == 0) {
        put_str("EL-TEST PASS n=");
        put_u32(s_checks);
        put_str("\n");
        el_port_exit(0);
    } else {
        put_str("EL-TEST FAIL n=");
        put_u32(s_checks);
        put_str(" failed=");
        put_u32(s_failed);
        put_str("\n");
        el_port_exit(1);
    }
    return 0;
}
