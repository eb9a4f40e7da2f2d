/**
 * @file fuzz_link.c
 * @brief libFuzzer target: everything a server can send down the serial link, into the unchanged device core
 *        (app/, proto/, engine/, train/) with a trainable model compiled in, on the fuzzing board (el_port_fuzz.c).
 *
 * Input: one byte that chooses the board and the mode, then the link.
 *   byte 0  bit 0   0 raw: the rest is fed to the device byte by byte, as received on the wire
 *                   1 framed: the rest is records, each framed by the harness with a valid CRC
 *           bit 1   the entropy source is weak (else the operating system's)
 *           bit 2   the board has a 6-axis sensor (SENSE can record)
 *           bit 3   the sensor stops answering after 40 readings
 *   record  u8 type, u8 ctl, u16 seq, u16 n, then n body bytes (n is cut to what is left)
 *     ctl   bit 0     MORE on the last chunk too (a message left unfinished)
 *           bit 1     a wrong CRC on the last chunk
 *           bit 2     raw: the body goes on the wire as it is (partial frames, garbage, lone delimiters)
 *           bit 3     protocol version 1 on the last chunk (with a valid CRC)
 *           bits 4-6  chunk size: 1024, 1, 7, 64, 254, 300, 1000, 1023 bytes (at most 1020 with bit 7)
 *           bit 7     acknowledged chunks: the body starts with a u32 base; every chunk carries the OFFSET flag
 *                     and its offset, base + its place in the rest (a base > 0: a late copy, a gap, a repeat)
 *
 * fuzz_link_mutator.c mutates framed inputs record by record (retransmissions, reordering, header fields).
 *
 * Each input starts from the same state: the model C file's buffers zeroed, el_app_init(), then a frame of an
 * unused type, which replaces what the core remembers of the last request (el_app.c keeps it across el_app_init()).
 * RESET longjmps back here: the core re-initialises in place and the link goes on (as on the host board).
 */
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "app/el_app.h"
#include "app/el_model_data.h"
#include "app/el_port.h"
#include "el_fuzz_crc32.h"
#include "el_fuzz_port.h"

#define PKT_MAX 1036u
#define FRAME_MAX 1042u
#define BODY_MAX 1024u
#define RECORD_HEAD 6u
#define PRELUDE_TYPE 0x7Eu /* no message has this type: the core answers E_UNKNOWN */

static const size_t k_chunk[8] = {1024u, 1u, 7u, 64u, 254u, 300u, 1000u, 1023u};

/* Everything the feed loop needs survives a RESET (longjmp), so it lives here, not on the stack. */
static struct {
    const uint8_t *in;
    size_t len, pos;
    int framed;
    int prelude_done;
    uint8_t frame[FRAME_MAX];
    size_t frame_len, frame_pos;
    /* the record being framed */
    int active;
    uint8_t type, ctl;
    uint16_t seq;
    const uint8_t *body;
    size_t body_len, body_off;
    uint32_t base;
    /* a raw record being fed */
    const uint8_t *raw;
    size_t raw_len;
} s;

static el_fuzz_board s_board;
static jmp_buf s_reset;

static size_t cobs_encode(uint8_t *dst, const uint8_t *src, size_t n)
{
    size_t code_at = 0, out = 1, i;
    uint8_t code = 1;
    for (i = 0; i < n; i++) {
        if (src[i] != 0u) {
            dst[out++] = src[i];
            code++;
        }
        if (src[i] == 0u || code == 0xFFu) {
            dst[code_at] = code;
            code = 1;
            code_at = out++;
        }
    }
    dst[code_at] = code;
    return out;
}

/* Frame one chunk into s.frame: header, [u32 offset,] body, CRC, COBS, 0x00. offset < 0: no OFFSET flag. */
static void frame_chunk(uint8_t type, uint8_t flags, uint16_t seq, const uint8_t *body, size_t n, uint8_t ctl, int last,
                        int64_t offset)
{
    uint8_t pkt[PKT_MAX];
    uint32_t crc;
    size_t at = 8u;
    pkt[0] = (last && (ctl & 0x08u)) ? 1u : 2u;
    pkt[1] = type;
    pkt[2] = (uint8_t)(flags | (offset >= 0 ? 0x02u : 0u));
    pkt[3] = 0u;
    pkt[4] = (uint8_t)seq;
    pkt[5] = (uint8_t)(seq >> 8);
    if (offset >= 0) {
        pkt[at++] = (uint8_t)offset;
        pkt[at++] = (uint8_t)(offset >> 8);
        pkt[at++] = (uint8_t)(offset >> 16);
        pkt[at++] = (uint8_t)(offset >> 24);
    }
    if (n > 0u) {
        memcpy(pkt + at, body, n);
    }
    n += at - 8u;
    pkt[6] = (uint8_t)n;
    pkt[7] = (uint8_t)(n >> 8);
    crc = el_fuzz_crc32(0u, pkt, (uint32_t)(8u + n));
    if (last && (ctl & 0x02u)) {
        crc ^= 0x00010000u;
    }
    pkt[8 + n] = (uint8_t)crc;
    pkt[9 + n] = (uint8_t)(crc >> 8);
    pkt[10 + n] = (uint8_t)(crc >> 16);
    pkt[11 + n] = (uint8_t)(crc >> 24);
    s.frame_len = cobs_encode(s.frame, pkt, 12u + n);
    s.frame[s.frame_len++] = 0u;
    s.frame_pos = 0;
}

/* Start the next record; 0 when the input is used up. */
static int next_record(void)
{
    const uint8_t *r;
    size_t n;
    if (s.len - s.pos < RECORD_HEAD) {
        return 0;
    }
    r = s.in + s.pos;
    n = (size_t)r[4] | ((size_t)r[5] << 8);
    s.pos += RECORD_HEAD;
    if (n > s.len - s.pos) {
        n = s.len - s.pos;
    }
    if (r[1] & 0x04u) {
        s.raw = s.in + s.pos;
        s.raw_len = n;
    } else {
        s.active = 1;
        s.type = r[0];
        s.ctl = r[1];
        s.seq = (uint16_t)(r[2] | (r[3] << 8));
        s.body = s.in + s.pos;
        s.body_len = n;
        s.body_off = 0;
        s.base = 0;
        if ((s.ctl & 0x80u) && n >= 4u) {
            s.base = (uint32_t)s.body[0] | ((uint32_t)s.body[1] << 8) | ((uint32_t)s.body[2] << 16)
                     | ((uint32_t)s.body[3] << 24);
            s.body += 4;
            s.body_len -= 4u;
        }
    }
    s.pos += n;
    return 1;
}

/* The next byte on the wire; 0 at the end of the input. */
static int next_byte(uint8_t *b)
{
    for (;;) {
        if (s.frame_pos < s.frame_len) {
            *b = s.frame[s.frame_pos++];
            return 1;
        }
        if (!s.framed) {
            if (s.pos >= s.len) {
                return 0;
            }
            *b = s.in[s.pos++];
            return 1;
        }
        if (s.raw_len > 0u) {
            *b = *s.raw++;
            s.raw_len--;
            return 1;
        }
        if (s.active) {
            const int acked = (s.ctl & 0x80u) != 0;
            const size_t left = s.body_len - s.body_off;
            size_t size = k_chunk[(s.ctl >> 4) & 7u];
            size_t chunk;
            int last;
            uint8_t flags;
            if (acked && size > BODY_MAX - 4u) {
                size = BODY_MAX - 4u;
            }
            chunk = left < size ? left : size;
            last = chunk == left;
            flags = (uint8_t)((!last || (s.ctl & 0x01u)) ? 1u : 0u);
            frame_chunk(s.type, flags, s.seq, s.body + s.body_off, chunk, s.ctl, last,
                        acked ? (int64_t)((uint32_t)(s.base + s.body_off)) : -1);
            s.body_off += chunk;
            if (last) {
                s.active = 0;
            }
            continue;
        }
        if (!next_record()) {
            return 0;
        }
    }
}

/* Every CRC the core computes comes here: the target is linked with -Wl,--wrap=el_crc32. el_model_load() checks
 * the CRC of the compiled-in artifact at every el_app_init(), that is at every input (9 KB bit by bit: most of an
 * input's time): that one is computed once and remembered. The others (every frame in and out) are computed
 * with a table, over the same bytes (so AddressSanitizer still checks every byte the core asks for). */
uint32_t __real_el_crc32(uint32_t crc, const uint8_t *data, uint32_t len);
uint32_t __wrap_el_crc32(uint32_t crc, const uint8_t *data, uint32_t len);

uint32_t __wrap_el_crc32(uint32_t crc, const uint8_t *data, uint32_t len)
{
    static const uint8_t *memo_data;
    static uint32_t memo_len, memo;
    if (crc == 0u && data >= el_model_artifact && data < el_model_artifact + el_model_artifact_len) {
        if (memo_data != data || memo_len != len) {
            memo = __real_el_crc32(0u, data, len);
            memo_data = data;
            memo_len = len;
        }
        return memo;
    }
    return el_fuzz_crc32(crc, data, len);
}

static void wipe_device_memory(void)
{
    /* what a cold boot would leave: the model C file's buffers (the core re-initialises the rest) */
    memset(el_model_arena, 0, el_model_arena_len);
    memset(el_train_theta0, 0, sizeof(float) * el_train_params_len);
    memset(el_train_delta, 0, sizeof(float) * el_train_params_len);
    memset(el_train_velocity, 0, sizeof(float) * el_train_velocity_len);
    memset(el_train_factors, 0, sizeof(float) * el_train_factors_len);
    memset(el_link_buffer, 0, el_link_buffer_len);
    memset(el_train_act, 0, sizeof(float) * el_train_act_len);
    memset(el_train_samples, 0, (size_t)el_train_max_samples * el_train_sample_bytes);
    memset(el_train_labels, 0, el_train_max_samples);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t byte;
    if (size < 1u) {
        return 0;
    }
    memset(&s, 0, sizeof(s));
    s.in = data;
    s.len = size;
    s.pos = 1;
    s.framed = data[0] & 0x01u;
    s_board.entropy = (data[0] & 0x02u) ? EL_ENTROPY_WEAK : EL_ENTROPY_OS;
    s_board.sensor_channels = (data[0] & 0x04u) ? 6 : 0;
    s_board.sensor_readings = (data[0] & 0x08u) ? 40u : 0u;
    wipe_device_memory();
    el_fuzz_port_start(&s_board, &s_reset);
    (void)setjmp(s_reset); /* RESET comes back here: the core re-initialises in place, the link goes on */
    el_app_init();
    if (!s.prelude_done) {
        s.prelude_done = 1;
        frame_chunk(PRELUDE_TYPE, 0u, 0u, NULL, 0u, 0u, 1, -1);
    }
    while (next_byte(&byte)) {
        el_app_feed(byte);
    }
    el_fuzz_port_finish();
    return 0;
}
