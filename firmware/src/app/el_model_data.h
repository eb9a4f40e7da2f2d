/**
 * @file el_model_data.h
 * @brief Symbols of the generated model C file ($EDGELEAK_MODEL_C, written by the exporter).
 */
#ifndef EL_MODEL_DATA_H
#define EL_MODEL_DATA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

extern const uint8_t el_model_artifact[];   /**< the model.elm artifact (docs/model-format.md) */
extern const uint32_t el_model_artifact_len;
extern uint8_t el_model_arena[];            /**< aligned 16 */
extern const uint32_t el_model_arena_len;

/* On-device training buffers, sized from the artifact's HEAD by the generator (docs/training.md).
 * P = trainable parameters (0 without a HEAD; the arrays then have one element). */
extern float el_train_theta0[];             /**< [P] global weights (a LOAD_WEIGHTS joined into d, checked, then
                                                 copied here; or the artifact's head); a round trains on theta_0 + d */
extern float el_train_delta[];              /**< [P] the update d */
extern float el_train_velocity[];           /**< [el_train_velocity_len] momentum v */
extern const uint32_t el_train_velocity_len; /**< P, or 0 in a build without momentum (EL_TRAIN_NO_MOMENTUM) */
extern float el_train_factors[];            /**< [el_train_factors_len] per-example factors (steps without v, DP-SGD) */
extern const uint32_t el_train_factors_len;  /**< max_samples (1 + act_len - in_0) */
extern float el_train_act[];                /**< [act_len] activations and deltas: sum in_l + sum out_l */
extern int8_t el_train_samples[];           /**< [max_samples][sample_bytes] int8 cut tensors */
extern uint8_t el_train_labels[];           /**< [max_samples] */
extern const uint32_t el_train_params_len;  /**< P */
extern const uint32_t el_train_act_len;
extern const uint32_t el_train_sample_bytes; /**< cut tensor bytes (the input's when the whole network is the head) */
extern const uint32_t el_train_max_samples;  /**< EL_MAX_SAMPLES of the generator, 32 */

/* The link buffer every message but INFER and LOAD_WEIGHTS is joined into (docs/protocol.md): a SAMPLE of the
 * model's input or a full chunk, whichever is larger, rounded up to 4 bytes. */
extern uint8_t el_link_buffer[];
extern const uint32_t el_link_buffer_len;

#ifdef __cplusplus
}
#endif

#endif /* EL_MODEL_DATA_H */
