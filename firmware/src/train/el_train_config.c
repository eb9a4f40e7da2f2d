/** @file el_train_config.c @brief CONFIGURE decoding, range checks and the privacy floor. */
#include "train/el_train_config.h"

#include "train/el_dp_account.h"

#include <math.h>
#include <string.h>

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static float rdf(const uint8_t *p)
{
    const uint32_t bits = rd32(p);
    float f;
    memcpy(&f, &bits, sizeof(f));
    return f;
}

void el_train_config_default(el_train_config *c)
{
    memset(c, 0, sizeof(*c));
    c->lr = 0.01f;
    c->momentum = 0.0f;
    c->batch = 1;
    c->local_steps = 1;
    c->epochs = 1;
    c->fraction = 1.0f;
}

void el_train_config_decode(el_train_config *c, const uint8_t body[EL_CONFIGURE_LEN])
{
    c->lr = rdf(body + 0);
    c->momentum = rdf(body + 4);
    c->batch = rd16(body + 8);
    c->local_steps = rd16(body + 10);
    c->epochs = rd16(body + 12);
    c->clip_mode = body[14];
    c->noise_kind = body[15];
    c->clip_norm = rdf(body + 16);
    c->noise_mult = rdf(body + 20);
    c->noise_mode = body[24];
    c->sparsify = body[25];
    c->encoding = body[26];
    c->has_seed = body[27];
    c->fraction = rdf(body + 28);
    c->seed = (uint64_t)rd32(body + 32) | ((uint64_t)rd32(body + 36) << 32);
    c->round = rd32(body + 40);
}

static int is_finite_f32(float f) { return f == f && f - f == 0.0f; }

el_cfg_status el_train_config_check_range(const el_train_config *c, uint16_t max_batch)
{
    const int uses_norm = c->clip_mode != EL_CLIP_NONE || c->noise_kind != EL_NOISE_NONE;
    if (!(c->lr > 0.0f && c->lr <= 10.0f) || !(c->momentum >= 0.0f && c->momentum < 1.0f)) {
        return EL_CFG_RANGE;
    }
    if (c->batch < 1u || c->batch > max_batch || (c->local_steps == 0u && (c->epochs < 1u || c->epochs > 1000u))) {
        return EL_CFG_RANGE;
    }
    if (c->clip_mode > EL_CLIP_EXAMPLE || c->noise_kind > EL_NOISE_LAPLACE || c->noise_mode > EL_NOISE_EVERY_STEP
        || c->sparsify > EL_SPARSE_RANDOM || c->encoding > EL_ENC_INT8 || c->has_seed > 1u) {
        return EL_CFG_RANGE;
    }
    if (!is_finite_f32(c->clip_norm) || !(c->clip_norm >= 0.0f) || (uses_norm && !(c->clip_norm > 0.0f))) {
        return EL_CFG_RANGE;
    }
    if (!is_finite_f32(c->noise_mult) || !(c->noise_mult >= 0.0f)) {
        return EL_CFG_RANGE;
    }
    if (c->noise_mode == EL_NOISE_EVERY_STEP && c->noise_kind != EL_NOISE_NONE && c->clip_mode != EL_CLIP_EXAMPLE) {
        return EL_CFG_RANGE;
    }
    if (c->noise_kind != EL_NOISE_NONE && c->clip_mode == EL_CLIP_NONE) {
        return EL_CFG_RANGE; /* noise without clipping bounds nothing */
    }
    if (!(c->fraction > 0.0f && c->fraction <= 1.0f)) {
        return EL_CFG_RANGE;
    }
    return EL_CFG_OK;
}

el_cfg_status el_train_config_check_floor(const el_train_config *c, int floored)
{
    return floored && !el_dp_accountable(c) ? EL_CFG_FLOOR : EL_CFG_OK;
}

el_cfg_status el_train_config_validate(const el_train_config *c, uint16_t max_batch, int floored, int testing)
{
    el_cfg_status st = el_train_config_check_range(c, max_batch);
    if (st == EL_CFG_OK) {
        st = el_train_config_check_floor(c, floored);
    }
    if (st == EL_CFG_OK && c->has_seed && !testing) {
        st = EL_CFG_SEED;
    }
    return st;
}
