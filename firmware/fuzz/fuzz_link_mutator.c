/**
 * @file fuzz_link_mutator.c
 * @brief libFuzzer custom mutator of the link targets: mutates framed-mode inputs (fuzz_link.c) record by record.
 *
 * Byte-level mutations spread over the bodies (a LOAD_WEIGHTS is kilobytes) and rarely touch a record's type or
 * sequence number, while the device's state machine turns on exactly those: a request and its retransmission
 * (same type and sequence number), requests out of order, chunks of one message interleaved with another. Half
 * of the mutations of a framed input are therefore made on the records:
 *   - a header field of one record: type (a message type, or any), ctl (one bit), seq (another record's, +-1, any);
 *   - a record's body, by libFuzzer's own mutations (its length follows);
 *   - duplicate a record (a retransmission) or move, delete, swap records; insert a record of a message type;
 *   - flip one of the board bits of byte 0.
 * Raw-mode inputs and the other half get libFuzzer's own mutations (LLVMFuzzerMutate).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define RECORD_HEAD 6u
#define MAX_RECORDS 4096u
#define SCRATCH (1u << 17)

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

static const uint8_t k_types[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B,
                                  0x00, 0x42, 0x7F, 0x80, 0x84, 0x89, 0x8B, 0xFF};

typedef struct {
    size_t at;   /* offset of the record's header in the input */
    size_t len;  /* body bytes (as the harness cuts them) */
} record;

static record s_rec[MAX_RECORDS];
static uint8_t s_out[SCRATCH];
static uint8_t s_body[SCRATCH];
static uint32_t s_rng;

static uint32_t next(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 17;
    s_rng ^= s_rng << 5;
    return s_rng;
}

static size_t below(size_t n) { return n > 0u ? next() % n : 0u; }

static size_t parse(const uint8_t *data, size_t size)
{
    size_t pos = 1, n = 0;
    while (size - pos >= RECORD_HEAD && n < MAX_RECORDS) {
        size_t len = (size_t)data[pos + 4] | ((size_t)data[pos + 5] << 8);
        if (len > size - pos - RECORD_HEAD) {
            len = size - pos - RECORD_HEAD;
        }
        s_rec[n].at = pos;
        s_rec[n].len = len;
        pos += RECORD_HEAD + len;
        n++;
    }
    return n;
}

/* Append record r of data to s_out at *out, with the body given (its length written into the header). */
static int put(size_t *out, size_t cap, const uint8_t *head, const uint8_t *body, size_t len)
{
    if (len > 0xFFFFu || *out + RECORD_HEAD + len > cap) {
        return 0;
    }
    memcpy(s_out + *out, head, 4);
    s_out[*out + 4] = (uint8_t)len;
    s_out[*out + 5] = (uint8_t)(len >> 8);
    if (len > 0u) {
        memcpy(s_out + *out + RECORD_HEAD, body, len);
    }
    *out += RECORD_HEAD + len;
    return 1;
}

static size_t mutate_records(uint8_t *data, size_t size, size_t max_size)
{
    const size_t n = parse(data, size);
    const size_t cap = max_size < SCRATCH ? max_size : SCRATCH;
    const size_t op = below(n == 0u ? 2u : 8u);
    const size_t r = below(n), r2 = below(n);
    size_t out = 1, i;
    uint8_t head[4];

    if (size < 1u || cap < 1u) {
        return 0;
    }
    s_out[0] = data[0];
    if (op == 0u) { /* a board bit */
        s_out[0] = (uint8_t)(data[0] ^ (2u << below(3)));
        memcpy(s_out + 1, data + 1, size - 1u < cap - 1u ? size - 1u : cap - 1u);
        out = size < cap ? size : cap;
    }
    for (i = 0; op != 0u && i <= n; i++) {
        const uint8_t *h = i < n ? data + s_rec[i].at : NULL;
        const uint8_t *body = h != NULL ? h + RECORD_HEAD : NULL;
        size_t len = h != NULL ? s_rec[i].len : 0u;
        if (op == 1u && i == r) { /* insert a new record before record r (or at the end) */
            head[0] = k_types[below(sizeof(k_types))];
            head[1] = 0;
            head[2] = (uint8_t)next();
            head[3] = (uint8_t)(below(4) == 0u ? next() : 0u);
            if (!put(&out, cap, head, n > 0u ? data + s_rec[r2].at + RECORD_HEAD : NULL,
                     n > 0u && below(2) ? s_rec[r2].len : 0u)) {
                return 0;
            }
        }
        if (h == NULL) {
            break;
        }
        memcpy(head, h, 4);
        if (i == r) {
            switch (op) {
            case 2: /* a header field */
                switch (below(5)) {
                case 0: head[0] = k_types[below(sizeof(k_types))]; break;
                case 1: head[0] = (uint8_t)next(); break;
                case 2: head[1] = below(2) ? 0u : (uint8_t)(head[1] ^ (1u << below(8))); break;
                case 3: memcpy(head + 2, data + s_rec[r2].at + 2, 2); break; /* another record's seq */
                default: { /* seq +-1 or any */
                    uint16_t seq = (uint16_t)(head[2] | (head[3] << 8));
                    seq = (uint16_t)(below(3) == 0u ? next() : seq + (below(2) ? 1u : 0xFFFFu));
                    head[2] = (uint8_t)seq;
                    head[3] = (uint8_t)(seq >> 8);
                    break;
                }
                }
                break;
            case 3: { /* the body, by libFuzzer's mutations */
                const size_t room = cap > size ? cap - size + len : len;
                const size_t limit = room < 0xFFFFu ? room : 0xFFFFu;
                if (len > limit || limit == 0u) {
                    return 0;
                }
                memcpy(s_body, body, len);
                len = LLVMFuzzerMutate(s_body, len, limit);
                body = s_body;
                break;
            }
            case 4: /* a retransmission: the record twice */
                if (!put(&out, cap, head, body, len)) {
                    return 0;
                }
                break;
            case 5: /* delete */
                continue;
            case 6: /* take record r2's type and seq: the same request again, with this body */
                memcpy(head, data + s_rec[r2].at, 1);
                memcpy(head + 2, data + s_rec[r2].at + 2, 2);
                break;
            default: /* swap with r2 */
                h = data + s_rec[r2].at;
                memcpy(head, h, 4);
                body = h + RECORD_HEAD;
                len = s_rec[r2].len;
                break;
            }
        } else if (op == 7u && i == r2) {
            h = data + s_rec[r].at;
            memcpy(head, h, 4);
            body = h + RECORD_HEAD;
            len = s_rec[r].len;
        }
        if (!put(&out, cap, head, body, len)) {
            return 0;
        }
    }
    if (out > max_size) {
        return 0;
    }
    memcpy(data, s_out, out);
    return out;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    s_rng = seed | 1u;
    if (size >= 1u && (data[0] & 0x01u) != 0u && below(2) == 0u) {
        const size_t out = mutate_records(data, size, max_size);
        if (out > 0u) {
            return out;
        }
    }
    return LLVMFuzzerMutate(data, size, max_size);
}
