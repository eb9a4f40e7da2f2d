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

#ifdef __cplusplus
}
#endif

#endif /* EL_MODEL_DATA_H */
