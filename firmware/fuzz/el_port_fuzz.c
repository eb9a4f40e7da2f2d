/**
 * @file el_port_fuzz.c
 * @brief app/el_port.h for the fuzz targets (el_fuzz_port.h): no serial line, every reply checked.
 *
 * The checks are written here from docs/protocol.md, not with the codec under test: a reply is decoded
 * by its own COBS decoder and its CRC recomputed by its own table-driven CRC-32.
 */
#include "el_fuzz_port.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/el_port.h"
#include "el_fuzz_crc32.h"

#define PKT_MAX 1036u          /* header 8 + body 1024 + CRC 4 */
#define FRAME_MAX 1042u        /* COBS(PKT_MAX) + 0x00 */
#define BODY_MAX 1024u
#define UPDATE_META 88u
#define MESSAGE_MAX 65536u     /* a whole reply joined for its checks (an UPDATE of this model: ~5 KB) */
#define TICK_STEP 1000u
#define ERROR_CODE_MAX 13u

static const el_fuzz_board *s_board;
static int s_trace = -1; /* EL_FUZZ_TRACE=1 in the environment: print every reply (to read a reproducer) */
static jmp_buf *s_on_reset;
static uint32_t s_ticks;
static uint32_t s_boot;
static uint32_t s_frames;
static uint32_t s_sensor_reads;

/* the reply being received: chunks joined */
static struct {
    int open;         /* the last frame had MORE set */
    uint8_t type;
    uint16_t seq;
    uint32_t len;     /* bytes joined so far (may exceed the buffer: then only counted) */
    uint8_t body[MESSAGE_MAX];
} s_msg;

static void fail(const char *what)
{
    fprintf(stderr, "el_port_fuzz: malformed reply: %s\n", what);
    abort();
}

static uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8); }

static uint32_t rd32(const uint8_t *p) { return rd16(p) | (rd16(p + 2) << 16); }

/* COBS-decode src[0..n) (no delimiter) into dst; returns the decoded length, or -1 when malformed. */
static long cobs_decode(uint8_t *dst, size_t cap, const uint8_t *src, size_t n)
{
    size_t i = 0, out = 0;
    while (i < n) {
        const size_t code = src[i++];
        size_t k;
        if (code == 0u || i + code - 1u > n) {
            return -1;
        }
        for (k = 1; k < code; k++) {
            if (out >= cap || src[i] == 0u) {
                return -1;
            }
            dst[out++] = src[i++];
        }
        if (code != 0xFFu && i < n) {
            if (out >= cap) {
                return -1;
            }
            dst[out++] = 0;
        }
    }
    return (long)out;
}

static int is_reply_type(uint8_t t)
{
    return t == 0x7Fu || t == 0x80u || t == 0x81u || t == 0x82u || t == 0x83u || t == 0x84u || t == 0x89u
        || t == 0x8Bu;
}

/* the last whole UPDATE (the kept round's): every PART repeats its bytes */static struct {
    uint32_t len; /* 0: none yet */
    uint8_t body[MESSAGE_MAX];
} s_update;

static void check_part(const uint8_t *b, uint32_t len)
{
    uint32_t total, offset;
    if (len <= 8u) {
        fail("PART without bytes after its total and offset");
    }
    total = rd32(b);
    offset = rd32(b + 4);
    if (offset >= total || len - 8u > total - offset) {
        fail("PART runs past the reply's total");
    }
    if (s_update.len == 0u) {
        fail("PART before any UPDATE");
    }
    if (total != s_update.len || memcmp(s_update.body + offset, b + 8, len - 8u) != 0) {
        fail("PART differs from the UPDATE it resends");
    }
}

/* UPDATE (docs/protocol.md): 88 bytes of metadata, then T blocks, each 4-byte aligned, exactly the announced bytes. */
static void check_update(const uint8_t *b, uint32_t len)
{
    uint32_t blocks, at, k;
    uint8_t encoding, sparse;
    if (len < UPDATE_META) {
        fail("UPDATE shorter than its metadata");
    }
    blocks = rd16(b + 52);
    if (rd32(b + 56) != len - UPDATE_META) {
        fail("UPDATE block bytes disagree with the body length");
    }
    if (blocks == 0u || blocks > 6u || (blocks & 1u) != 0u) {
        fail("UPDATE tensor count is not 2 L with 1 <= L <= 3");
    }
    if (b[85] != 0u || b[86] != 0u || b[87] != 0u) {
        fail("UPDATE reserved bytes are not 0");
    }
    encoding = b[34];
    sparse = b[33] != 0u;
    at = UPDATE_META;
    for (k = 0; k < blocks; k++) {
        uint32_t n, elements, i, prev = 0, value_bytes, end;
        if (len - at < 12u) {
            fail("UPDATE block header runs past the body");
        }
        n = rd16(b + at + 4);
        elements = rd16(b + at + 6);
        if (rd16(b + at) != k || b[at + 2] != encoding || b[at + 3] != sparse) {
            fail("UPDATE block index, encoding or sparse flag");
        }
        if (n > elements || elements == 0u || (!sparse && n != elements)) {
            fail("UPDATE block sends more values than the tensor has");
        }
        if (encoding != 2u && rd32(b + at + 8) != 0x3F800000u) {
            fail("UPDATE block scale is not 1.0 outside int8");
        }
        value_bytes = encoding == 0u ? 4u : encoding == 1u ? 2u : 1u;
        end = at + 12u + (sparse ? 2u * n : 0u) + n * value_bytes;
        if (end > len) {
            fail("UPDATE block runs past the body");
        }
        for (i = 0; sparse && i < n; i++) {
            const uint32_t index = rd16(b + at + 12u + 2u * i);
            if (index >= elements || (i > 0u && index <= prev)) {
                fail("UPDATE sparse indices not ascending within the tensor");
            }
            prev = index;
        }
        while ((end & 3u) != 0u) {
            if (end >= len || b[end] != 0u) {
                fail("UPDATE block padding");
            }
            end++;
        }
        at = end;
    }
    if (at != len) {
        fail("UPDATE has bytes after its last block");
    }
}

static void check_message(uint8_t type, const uint8_t *body, uint32_t len)
{
    if (type == 0x7Fu) {
        if (len < 2u || rd16(body) == 0u || rd16(body) > ERROR_CODE_MAX) {
            fail("ERROR code outside the table");
        }
    } else if (type == 0x89u) {
        check_update(body, len);
        memcpy(s_update.body, body, len);
        s_update.len = len;
    } else if (type == 0x8Bu) {
        check_part(body, len);
    } else if (type == 0x84u && len != 4u) {
        fail("CHUNK_ACK body is a u32");
    } else if (type == 0x80u && len != 0u && len != 2u) {
        fail("ACK body is empty or a u16 sample count");
    } else if (type == 0x83u && len != 16u) {
        fail("STATS_REPLY body is 16 bytes");
    }
}

void el_port_write(const uint8_t *buf, size_t len)
{
    uint8_t pkt[PKT_MAX];
    long n;
    uint32_t body_len;
    uint8_t type, flags;
    uint16_t seq;

    s_frames++;
    if (len < 2u || len > FRAME_MAX || buf[len - 1u] != 0u) {
        fail("not one frame ending with 0x00");
    }
    n = cobs_decode(pkt, sizeof(pkt), buf, len - 1u);
    if (n < 12) {
        fail("bad COBS or a packet shorter than 12 bytes");
    }
    body_len = rd16(pkt + 6);
    if (pkt[0] != 2u || pkt[3] != 0u || body_len > BODY_MAX || body_len + 12u != (uint32_t)n) {
        fail("version, reserved byte or body length");
    }
    if (el_fuzz_crc32(0u, pkt, 8u + body_len) != rd32(pkt + 8u + body_len)) {
        fail("CRC");
    }
    type = pkt[1];
    flags = pkt[2];
    seq = (uint16_t)rd16(pkt + 4);
    if (!is_reply_type(type) || (flags & ~1u) != 0u) {
        fail("not a reply type, or unknown flags");
    }
    if (s_msg.open && (type != s_msg.type || seq != s_msg.seq)) {
        fail("a chunked reply interrupted by another message");
    }
    if (!s_msg.open) {
        s_msg.type = type;
        s_msg.seq = seq;
        s_msg.len = 0;
    } else if (body_len == 0u) {
        fail("an empty chunk inside a chunked reply");
    }
    if (body_len > 0u && s_msg.len + body_len <= MESSAGE_MAX) {
        memcpy(s_msg.body + s_msg.len, pkt + 8, body_len);
    }
    s_msg.len += body_len;
    s_msg.open = (flags & 1u) != 0u;
    if ((flags & 1u) != 0u && body_len != BODY_MAX) {
        fail("a chunk with MORE set is not a full 1024-byte body");
    }
    if (s_trace > 0) {
        fprintf(stderr, "reply type 0x%02X seq %u flags %u body %u", type, (unsigned)seq, (unsigned)flags,
                (unsigned)body_len);
        if (type == 0x7Fu && body_len >= 2u) {
            fprintf(stderr, " E%u %.*s", (unsigned)rd16(pkt + 8), (int)(body_len - 2u), (const char *)(pkt + 10));
        }
        fputc('\n', stderr);
    }
    if (!s_msg.open) {
        if (s_msg.len > MESSAGE_MAX) {
            fail("reply larger than the checker's buffer");
        }
        check_message(type, s_msg.body, s_msg.len);
    }
}

void el_fuzz_port_start(const el_fuzz_board *board, jmp_buf *on_reset)
{
    if (s_trace < 0) {
        const char *trace = getenv("EL_FUZZ_TRACE");
        s_trace = trace != NULL && trace[0] != '\0' && trace[0] != '0';
    }
    s_board = board;
    s_on_reset = on_reset;
    s_ticks = 0;
    s_boot = 0x0B007000u;
    s_frames = 0;
    s_sensor_reads = 0;
    s_msg.open = 0;
    s_msg.len = 0;
    s_update.len = 0;
}

void el_fuzz_port_finish(void)
{
    if (s_msg.open) {
        fail("the last reply ended with MORE set");
    }
}

uint32_t el_fuzz_port_frames(void) { return s_frames; }

void el_port_init(void) {}

int el_port_read_byte(void) { return -1; /* the harness feeds bytes with el_app_feed() */ }

uint32_t el_port_ticks(void)
{
    s_ticks += TICK_STEP;
    return s_ticks;
}

uint32_t el_port_tick_hz(void) { return 1000000u; }

uint32_t el_port_boot_id(void) { return s_boot; }

int el_port_entropy(uint8_t *buf, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        buf[i] = (uint8_t)(0xA5u ^ (i * 29u));
    }
    return s_board != NULL ? s_board->entropy : EL_ENTROPY_OS;
}

void el_port_reset(void)
{
    if (s_msg.open) {
        fail("reset with a reply half-sent");
    }
    s_boot++;
    if (s_trace > 0) {
        fprintf(stderr, "reset\n");
    }
    if (s_on_reset == NULL) {
        fail("reset outside an input");
    }
    longjmp(*s_on_reset, 1);
}

uint32_t el_port_stack_high_water(void) { return 0; }

uint32_t el_port_stack_size(void) { return 0; }

uint32_t el_port_static_ram(void) { return 0; }

void el_port_exit(int code)
{
    fprintf(stderr, "el_port_fuzz: the core called el_port_exit(%d)\n", code);
    abort();
}

int el_port_sensor_read(float *out, int max_channels)
{
    int c;
    if (s_board == NULL || s_board->sensor_channels == 0 || max_channels < s_board->sensor_channels) {
        return 0;
    }
    if (s_board->sensor_readings != 0u && s_sensor_reads >= s_board->sensor_readings) {
        return 0; /* the sensor stopped answering */
    }
    s_sensor_reads++;
    for (c = 0; c < s_board->sensor_channels; c++) {
        /* an IMU-like reading: within +-16 (g or deg/s), changing from one reading to the next */
        const uint32_t x = (s_sensor_reads * 2654435761u) ^ ((uint32_t)c * 40503u);
        out[c] = (float)(int32_t)(x % 32768u - 16384) / 1024.0f;
    }
    return s_board->sensor_channels;
}
