/**
 * @file el_train_config.h
 * @brief The training configuration (docs/protocol.md, CONFIGURE), its validation and the
 *        privacy floor (docs/training.md).
 */
#ifndef EL_TRAIN_CONFIG_H
#define EL_TRAIN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EL_CONFIGURE_LEN 44u

enum { EL_CLIP_NONE = 0, EL_CLIP_UPDATE = 1, EL_CLIP_EXAMPLE = 2 };
enum { EL_NOISE_NONE = 0, EL_NOISE_GAUSSIAN = 1, EL_NOISE_LAPLACE = 2 };
enum { EL_NOISE_ON_UPDATE = 0, EL_NOISE_EVERY_STEP = 1 };
enum { EL_SPARSE_NONE = 0, EL_SPARSE_TOPK = 1, EL_SPARSE_RANDOM = 2 };
enum { EL_ENC_F32 = 0, EL_ENC_F16 = 1, EL_ENC_INT8 = 2 };

typedef struct {
    float lr;            /**< (0, 10] */
    float momentum;      /**< [0, 1) */
    uint16_t batch;      /**< 1..max samples */
    uint16_t local_steps;/**< 0: epochs */
    uint16_t epochs;     /**< 1..1000 when local_steps == 0 */
    uint8_t clip_mode;   /**< EL_CLIP_* */
    uint8_t noise_kind;  /**< EL_NOISE_* */
    float clip_norm;     /**< finite, >= 0; > 0 when clipping or adding noise (noise needs clipping) */
    float noise_mult;    /**< finite, >= 0 */
    uint8_t noise_mode;  /**< EL_NOISE_ON_UPDATE / EVERY_STEP (the latter needs EL_CLIP_EXAMPLE) */
    uint8_t sparsify;    /**< EL_SPARSE_* */
    uint8_t encoding;    /**< EL_ENC_* */
    uint8_t has_seed;    /**< a seed came with the configuration */
    float fraction;      /**< (0, 1] */
    uint64_t seed;
    uint32_t round;
} el_train_config;

typedef enum {
    EL_CFG_OK = 0,
    EL_CFG_RANGE,  /**< a value is out of range (E_CONFIG) */
    EL_CFG_FLOOR,  /**< weaker than the build's privacy floor (E_FLOOR) */
    EL_CFG_SEED    /**< a seed for a build not marked for testing (E_SEED) */
} el_cfg_status;

/** eta 0.01, mu 0, B 1, K 1, E 1, no defenses, fraction 1, float32, round 0. */
void el_train_config_default(el_train_config *c);

/** Decode a 44-byte CONFIGURE body (little-endian). len must be EL_CONFIGURE_LEN (caller checks). */
void el_train_config_decode(el_train_config *c, const uint8_t body[EL_CONFIGURE_LEN]);

/** Range checks of docs/protocol.md; max_batch is the largest number of samples. */
el_cfg_status el_train_config_check_range(const el_train_config *c, uint16_t max_batch);

/**
 * The privacy floor (docs/training.md): a floored build accepts only configurations whose cost it can
 * account (clipping, Gaussian noise, sigma > 0); the budget itself is checked at TRAIN.
 */
el_cfg_status el_train_config_check_floor(const el_train_config *c, int floored);

/**
 * Everything a CONFIGURE must pass, in this order: range (E_CONFIG), floor (E_FLOOR), seed (E_SEED:
 * has_seed in a build with testing == 0).
 */
el_cfg_status el_train_config_validate(const el_train_config *c, uint16_t max_batch, int floored, int testing);

#ifdef __cplusplus
}
#endif

#endif /* EL_TRAIN_CONFIG_H */
