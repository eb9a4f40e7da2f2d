/**
 * @file el_app_train.h
 * @brief The training side of the device loop: CONFIGURE, LOAD_WEIGHTS, SAMPLE, CLEAR_SAMPLES,
 *        TRAIN -> UPDATE (docs/protocol.md, docs/training.md) and the INFO training fields.
 *
 * Build flags (docs/training.md, "The privacy floor and the budget"): EL_FLOOR_EPSILON (epsilon_max of the
 * budget, 0 or absent = no floor), EL_FLOOR_DELTA (default 1e-5), EL_MAX_ROUND_WORK (default 2^27),
 * EL_TESTING_BUILD (0/1: seeds accepted, loss/norm/ticks reported). EL_TRAIN_NO_MOMENTUM (0/1, read by the generated
 * model file): no momentum buffer, CONFIGURE refuses mu != 0 (E_CONFIG), steps need no P-float gradient buffer.
 */
#ifndef EL_APP_TRAIN_H
#define EL_APP_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "engine/el_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest INFO tail: u32 P, u16 L, 3 x (u16, u16), f32 eps_max, f32 delta, 4 x u8, f64 rho, f32 eps, u32 cap. */
#define EL_APP_TRAIN_INFO_MAX 46u

/**
 * Reset the training state for model m (NULL: no usable model): parse the head, find the backbone
 * (ops before the first op that reads the cut tensor), load theta_0 from the artifact, clear the
 * samples, default configuration, and key the PRNG from the port's entropy source.
 */
void el_app_train_init(el_model *m);

/** Where LOAD_WEIGHTS is joined (4 P bytes): the update d, free once the round's UPDATE is fetched; NULL/0 when
    the model cannot train. */
uint8_t *el_app_train_weights_buffer(size_t *cap);

/** The receiver wrote into that buffer: the last round's update is gone (no RESEND, no replayed TRAIN). */
void el_app_train_update_overwritten(void);

/** Samples per round the device stores (0 when it cannot train). */
uint16_t el_app_train_max_samples(void);

/** Write the INFO fields after the strings; returns their length (<= EL_APP_TRAIN_INFO_MAX). */
size_t el_app_train_info(uint8_t *dst);

/** 1 in builds marked for testing (EL_TESTING_BUILD). */
int el_app_train_testing(void);

/** Zero the samples, the buffers derived from them and their budget (before a reset). */
void el_app_train_wipe(void);

/** Handle a training message and reply; returns 0 when `type` is not a training message. */
int el_app_train_message(uint8_t type, uint16_t seq, const uint8_t *body, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* EL_APP_TRAIN_H */
