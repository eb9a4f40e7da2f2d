/**
 * @file el_app_train_state.h
 * @brief The training side's state, shared by el_app_train.c (configuration, weights, rounds, the budget) and
 *        el_app_samples.c (the sample store: SAMPLE and SENSE). Internal to app/.
 */
#ifndef EL_APP_TRAIN_STATE_H
#define EL_APP_TRAIN_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/el_model.h"
#include "train/el_head.h"
#include "train/el_prng.h"
#include "train/el_train_config.h"
#include "train/el_train_round.h"
#include "train/el_update.h"

typedef struct {
    el_model *model;
    int trainable;           /* head parsed, buffers fit, cut tensor found */
    el_head head;
    uint16_t backbone_ops;   /* ops run by SAMPLE to compute the cut tensor */
    const el_tensor *cut;    /* the head's int8 input */
    uint16_t n_samples;
    el_train_config config;
    el_prng rng;
    uint8_t seeded;          /* the key came from a host seed */
    uint8_t entropy;         /* EL_ENTROPY_* of the key */
    double rho;              /* zCDP spent on the stored samples; +inf when unbounded */
    /* the last answered TRAIN, to answer a retransmission without a new round */
    uint8_t have_last;
    uint16_t last_seq;
    el_train_config last_config;
    el_round_result last_res;
    el_update_info last_info;
    el_prng last_rng;        /* the stream as it was before the UPDATE's random masks */
} el_app_train_state;

extern el_app_train_state el_tstate;

/** SAMPLE: store one window given by the host (runs the backbone); ACK with the count. */
void el_app_on_sample(uint16_t seq, const uint8_t *body, size_t len);

/** SENSE: record windows from the board's own sensor and store them; ACK with the count. */
void el_app_on_sense(uint16_t seq, const uint8_t *body, size_t len);

/** UPDATE for a round: the UPDATE's bytes from the kept state with `rng` as it was before them. */
void el_app_send_update(uint16_t seq, const el_train_config *c, const el_round_result *res,
                        const el_update_info *info, el_prng *rng);

/** RESEND: bytes [offset, offset + length) of the last TRAIN's UPDATE as one PART message. */
void el_app_on_resend(uint16_t seq, const uint8_t *body, size_t len);

#endif /* EL_APP_TRAIN_STATE_H */
