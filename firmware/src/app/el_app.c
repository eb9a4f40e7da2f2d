/** @file el_app.c @brief The device main loop: protocol handlers over the port and the engine. */
#include "app/el_app.h"

#include <string.h>

#include "app/el_model_data.h"
#include "app/el_port.h"
#include "app/el_app_train.h"
#include "app/el_train_msgs.h"
#include "app/el_tx.h"
#include "engine/el_model.h"
#include "proto/el_packet.h"
#include "proto/el_rx.h"

#ifndef EL_BOARD_NAME
#define EL_BOARD_NAME "unknown"
#endif
#ifndef EL_FW_VERSION
#define EL_FW_VERSION "0.0.0"
#endif

#define INFO_FIXED_LEN 60u

static el_model s_model;
static el_status s_model_status = EL_ERR_ARG;
static el_rx s_rx;
static size_t s_msg_cap; /* the largest message accepted: the link buffer, or LOAD_WEIGHTS's 4 P bytes */

enum { ROUTE_INFER = 0, ROUTE_WEIGHTS = 1 };
static uint32_t s_inferences;

static void send_msg(uint8_t type, uint16_t seq, const uint8_t *head, size_t head_len, const uint8_t *data,
                     size_t data_len)
{
    el_tx_send(type, seq, head, head_len, data, data_len);
}

static void send_error(uint16_t seq, uint16_t code, const char *text) { el_tx_error(seq, code, text); }

static uint16_t clamp_u16(uint32_t v) { return (uint16_t)(v > 0xFFFFu ? 0xFFFFu : v); }

static int model_ok(void) { return s_model_status == EL_OK; }

static uint32_t input_size(void) { return model_ok() ? el_model_input(&s_model)->size : 0; }

static void on_hello(uint16_t seq)
{
    static const char board[] = EL_BOARD_NAME;
    static const char version[] = EL_FW_VERSION;
    uint8_t info[INFO_FIXED_LEN + sizeof(board) + sizeof(version) + EL_APP_TRAIN_INFO_MAX];
    const size_t strings = INFO_FIXED_LEN + sizeof(board) + sizeof(version);
    size_t tail;
    uint32_t largest = input_size() > s_msg_cap ? input_size() : (uint32_t)s_msg_cap;

    memset(info, 0, sizeof(info));
    el_put_u16(info + 0, EL_PROTO_VERSION);
    if (el_model_artifact_len >= 6) {
        el_put_u16(info + 2, el_get_u16(el_model_artifact + 4));
    }
    el_put_u32(info + 4, el_port_boot_id());
    if (model_ok()) {
        memcpy(info + 8, el_model_hash(&s_model), EL_MODEL_HASH_LEN);
        el_put_u16(info + 52, clamp_u16(el_model_input(&s_model)->size));
        el_put_u16(info + 54, clamp_u16(el_model_output(&s_model)->size));
    }
    el_put_u32(info + 40, el_model_arena_len);
    el_put_u32(info + 44, el_port_static_ram());
    el_put_u32(info + 48, el_port_tick_hz());
    el_put_u16(info + 56, clamp_u16(largest));
    el_put_u16(info + 58, el_app_train_max_samples());
    memcpy(info + INFO_FIXED_LEN, board, sizeof(board));
    memcpy(info + INFO_FIXED_LEN + sizeof(board), version, sizeof(version));
    tail = el_app_train_info(info + strings);
    send_msg(EL_MSG_INFO, seq, info, strings + tail, NULL, 0);
}

static void on_infer(uint16_t seq, size_t len)
{
    uint8_t head[4];
    uint32_t t0;
    uint32_t t1;
    el_status st;
    const el_tensor *out;

    if (!model_ok()) {
        send_error(seq, EL_E_MODEL, "model not loaded");
        return;
    }
    if (len != input_size()) {
        send_error(seq, EL_E_LENGTH, "INFER body must be the input tensor's size");
        return;
    }
    /* the body was joined straight into the input tensor (el_rx_route) */
    t0 = el_port_ticks();
    st = el_model_invoke(&s_model);
    t1 = el_port_ticks();
    if (st != EL_OK) {
        send_error(seq, EL_E_KERNEL, "inference failed");
        return;
    }
    s_inferences++;
    out = el_model_output(&s_model);
    el_put_u32(head, t1 - t0);
    send_msg(EL_MSG_OUTPUT, seq, head, sizeof(head), out->data, out->size);
}

static void on_stats(uint16_t seq)
{
    uint8_t body[16];
    el_put_u32(body + 0, el_app_train_testing() ? el_port_ticks() : 0u); /* no clock for timing a round */
    el_put_u32(body + 4, el_port_stack_high_water());
    el_put_u32(body + 8, el_port_stack_size());
    el_put_u32(body + 12, s_inferences);
    send_msg(EL_MSG_STATS_REPLY, seq, body, sizeof(body), NULL, 0);
}

/* The last request answered: a request with its type and sequence number is a retransmission. */
static struct {
    uint8_t valid;
    uint8_t type;
    uint16_t seq;
} s_last;

/* Requests that change the device's state and answer with a small reply: a retransmission gets the reply
   again instead of running twice. TRAIN keeps its own copy of the last UPDATE (el_app_train.c); INFER,
   HELLO and STATS change nothing and simply run again. */
static int kept_reply(uint8_t type)
{
    return type == EL_MSG_CONFIGURE || type == EL_MSG_LOAD_WEIGHTS || type == EL_MSG_SAMPLE
        || type == EL_MSG_CLEAR_SAMPLES || type == EL_MSG_SENSE;
}

static void dispatch(const el_rx_msg *m);

static void on_message(const el_rx_msg *m)
{
    const int repeat = s_last.valid && s_last.type == m->type && s_last.seq == m->seq;
    if (repeat && kept_reply(m->type) && el_tx_replay(m->seq)) {
        return;
    }
    s_last.valid = 1;
    s_last.type = m->type;
    s_last.seq = m->seq;
    el_tx_record_start();
    dispatch(m);
    el_tx_record_stop();
}

static void dispatch(const el_rx_msg *m)
{
    switch (m->type) {
    case EL_MSG_HELLO:
        if (m->len != 0) {
            send_error(m->seq, EL_E_LENGTH, "HELLO has no body");
        } else {
            on_hello(m->seq);
        }
        break;
    case EL_MSG_INFER:
        on_infer(m->seq, m->len);
        break;
    case EL_MSG_STATS:
        if (m->len != 0) {
            send_error(m->seq, EL_E_LENGTH, "STATS has no body");
        } else {
            on_stats(m->seq);
        }
        break;
    case EL_MSG_RESET:
        if (m->len != 0) {
            send_error(m->seq, EL_E_LENGTH, "RESET has no body");
        } else {
            send_msg(EL_MSG_ACK, m->seq, NULL, 0, NULL, 0);
            el_app_train_wipe();
            el_port_reset();
        }
        break;
    default:
        if (!el_app_train_message(m->type, m->seq, m->body, m->len)) {
            send_error(m->seq, EL_E_UNKNOWN, "unknown message type");
        }
        break;
    }
}

void el_app_init(void)
{
    s_inferences = 0;
    memset(&s_last, 0, sizeof(s_last)); /* a reset forgets the last request: nothing counts as a repeat */
    el_tx_record_clear();
    s_model_status = el_model_load(&s_model, el_model_artifact, el_model_artifact_len, el_model_arena,
                                   el_model_arena_len);
    el_app_train_init(model_ok() ? &s_model : NULL);
    /* every message but INFER and LOAD_WEIGHTS is joined into the link buffer; INFER into the input tensor,
       LOAD_WEIGHTS (4 P bytes) into the update d, free once the round's UPDATE is fetched */
    el_rx_init(&s_rx, el_link_buffer, el_link_buffer_len);
    s_msg_cap = el_link_buffer_len;
    {
        size_t cap = 0;
        uint8_t *weights = el_app_train_weights_buffer(&cap);
        if (weights != NULL) {
            el_rx_route(&s_rx, ROUTE_WEIGHTS, EL_MSG_LOAD_WEIGHTS, weights, cap);
            if (cap > s_msg_cap) {
                s_msg_cap = cap;
            }
        }
    }
    if (model_ok()) {
        el_tensor *in = el_model_input(&s_model);
        el_rx_route(&s_rx, ROUTE_INFER, EL_MSG_INFER, in->data, in->size);
    }
}

static void chunk_ack(uint16_t seq, size_t held)
{
    uint8_t body[4];
    el_put_u32(body, (uint32_t)held);
    send_msg(EL_MSG_CHUNK_ACK, seq, body, sizeof(body), NULL, 0);
}

/* The final chunk of the message joined last came again: its reply was lost. A kept reply goes again; any
   other request is joined anew from offset 0 (its body may be gone), and runs as a retransmission would. */
static void on_repeat(const el_rx_msg *m)
{
    if (s_last.valid && s_last.type == m->type && s_last.seq == m->seq && kept_reply(m->type)
        && el_tx_replay(m->seq)) {
        return;
    }
    el_rx_forget(&s_rx);
    chunk_ack(m->seq, 0);
}

void el_app_feed(uint8_t byte)
{
    el_rx_msg m;
    const el_rx_event ev = el_rx_feed(&s_rx, byte, &m);
    if (el_rx_touched(&s_rx) & (1u << ROUTE_WEIGHTS)) { /* LOAD_WEIGHTS bytes, even of one never completed */
        el_app_train_update_overwritten();
    }
    switch (ev) {
    case EL_RX_MESSAGE:
        on_message(&m);
        break;
    case EL_RX_CHUNK:
        chunk_ack(m.seq, m.len);
        break;
    case EL_RX_REPEAT:
        on_repeat(&m);
        break;
    case EL_RX_BAD_CRC:
        send_error(m.seq, EL_E_CRC, "bad CRC");
        break;
    case EL_RX_TOO_BIG:
        if (m.type == EL_MSG_INFER && model_ok()) {
            send_error(m.seq, EL_E_LENGTH, "INFER body must be the input tensor's size");
        } else if (m.type == EL_MSG_LOAD_WEIGHTS && el_app_train_max_samples() > 0u) {
            send_error(m.seq, EL_E_LENGTH, "LOAD_WEIGHTS body must be 4 bytes per trainable parameter");
        } else {
            send_error(m.seq, EL_E_TOO_BIG, "message exceeds the device buffer");
        }
        break;
    default:
        break;
    }
}

void el_app_run(void)
{
    for (;;) {
        int c = el_port_read_byte();
        if (c < 0) {
            return;
        }
        el_app_feed((uint8_t)c);
    }
}
