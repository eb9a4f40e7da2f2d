/**
 * @file el_app_update.c
 * @brief UPDATE replies: the one a TRAIN answers with, and any part of it again on RESEND
 *        (docs/protocol.md, "Acknowledged chunks"). Both serialise the kept round with the random stream as it
 *        was, so every copy and every part carries the same bytes: nothing is drawn or charged again.
 */
#include <string.h>

#include "app/el_app_train_state.h"
#include "app/el_model_data.h"
#include "app/el_train_msgs.h"
#include "app/el_tx.h"
#include "proto/el_packet.h"

static void wipe_rng(el_prng *rng)
{
    volatile uint8_t *v = (volatile uint8_t *)rng;
    size_t n = sizeof(*rng);
    while (n-- > 0u) {
        *v++ = 0;
    }
}

void el_app_send_update(uint16_t seq, const el_train_config *c, const el_round_result *res,
                        const el_update_info *info, el_prng *rng)
{
    el_tx tx;
    el_tx_begin(&tx, EL_MSG_UPDATE, seq, el_update_len(&el_tstate.head, c));
    el_update_write(&el_tstate.head, el_train_delta, c, res, info, rng, el_tx_put, &tx);
    el_tx_end(&tx);
}

void el_app_on_resend(uint16_t seq, const uint8_t *body, size_t len)
{
    el_tx tx;
    el_prng replay;
    uint32_t total;
    uint32_t offset;
    uint16_t want;

    if (len != 8u) {
        el_tx_error(seq, EL_E_LENGTH, "RESEND body is 8 bytes");
        return;
    }
    if (!el_tstate.have_last || el_get_u16(body) != el_tstate.last_seq) {
        el_tx_error(seq, EL_E_STATE, "no UPDATE with that sequence number to resend");
        return;
    }
    want = el_get_u16(body + 2);
    offset = el_get_u32(body + 4);
    total = el_update_len(&el_tstate.head, &el_tstate.last_config);
    if (want == 0u || offset >= total) {
        el_tx_error(seq, EL_E_LENGTH, "RESEND asks for no bytes, or bytes past the UPDATE's end");
        return;
    }
    replay = el_tstate.last_rng;
    el_tx_begin_part(&tx, EL_MSG_PART, seq, total, offset, want);
    el_update_write(&el_tstate.head, el_train_delta, &el_tstate.last_config, &el_tstate.last_res,
                    &el_tstate.last_info, &replay, el_tx_put, &tx);
    el_tx_end(&tx);
    wipe_rng(&replay);
}
