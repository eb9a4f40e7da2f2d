/** @file el_app_train.c @brief Training messages of the device loop over the train/ module. */
#include "app/el_app_train.h"
#include "app/el_app_train_state.h"

#include <math.h>
#include <string.h>

#include "app/el_model_data.h"
#include "app/el_port.h"
#include "app/el_train_msgs.h"
#include "app/el_tx.h"
#include "proto/el_packet.h"
#include "train/el_head.h"
#include "train/el_prng.h"
#include "train/el_train_config.h"

#include "train/el_dp_account.h"
#include "train/el_dp_release.h"
#include "train/el_train_round.h"
#include "train/el_update.h"

#if defined(EL_FLOOR_MAX_CLIP) || defined(EL_FLOOR_MIN_NOISE)
#error "EL_FLOOR_MAX_CLIP and EL_FLOOR_MIN_NOISE are gone: the floor is a budget, EL_FLOOR_EPSILON and EL_FLOOR_DELTA"
#endif
#ifndef EL_FLOOR_EPSILON
#define EL_FLOOR_EPSILON 0
#endif
#ifndef EL_FLOOR_DELTA
#define EL_FLOOR_DELTA 1e-5
#endif
#ifndef EL_TESTING_BUILD
#define EL_TESTING_BUILD 0
#endif
#ifndef EL_MAX_ROUND_WORK
#define EL_MAX_ROUND_WORK 134217728.0 /* 2^27 example-parameter products */
#endif

static const el_dp_floor k_floor = {(double)(EL_FLOOR_EPSILON), (double)(EL_FLOOR_DELTA)};
static const double k_max_work = (double)(EL_MAX_ROUND_WORK);
static const int k_testing = (EL_TESTING_BUILD) != 0;

#define NO_TENSOR 0xFFFFu

el_app_train_state el_tstate;

static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = (volatile uint8_t *)p;
    while (n-- > 0u) {
        *v++ = 0;
    }
}

static int find_backbone(el_model *m, uint16_t *n_ops, const el_tensor **cut)
{
    uint16_t i, k;
    uint16_t cut_index = m->cut;
    if (cut_index == NO_TENSOR) {
        cut_index = m->input; /* the whole network is the head: features are the input */
    }
    *cut = &m->tensors[cut_index];
    if (cut_index == m->input) {
        *n_ops = 0;
        return 1;
    }
    for (i = 0; i < m->n_ops; i++) {
        for (k = 0; k < m->ops[i].n_inputs && k < 3u; k++) {
            if (m->ops[i].inputs[k] == cut_index) {
                *n_ops = i;
                return 1;
            }
        }
    }
    return 0;
}

void el_app_train_init(el_model *m)
{
    uint8_t key[32];

    memset(&el_tstate, 0, sizeof(el_tstate));
    el_train_config_default(&el_tstate.config);
    el_tstate.entropy = (uint8_t)el_port_entropy(key, sizeof(key));
    el_prng_init(&el_tstate.rng, key);
    wipe(key, sizeof(key));
    el_tstate.model = m;
    if (m == NULL || m->head == NULL || el_head_parse(&el_tstate.head, m->head, m->head_len) != EL_OK) {
        return;
    }
    if (el_tstate.head.params != el_train_params_len || el_tstate.head.act_len > el_train_act_len
        || !find_backbone(m, &el_tstate.backbone_ops, &el_tstate.cut) || el_tstate.cut->type != 1u
        || el_tstate.cut->size != el_tstate.head.in[0] || el_tstate.cut->size > el_train_sample_bytes || el_train_max_samples == 0u
        || el_train_max_samples > 0xFFFFu
        || (el_train_velocity_len != el_tstate.head.params && el_train_velocity_len != 0u) /* 0: no momentum */
        || el_train_factors_len < el_train_max_samples * (1u + el_tstate.head.act_len - el_tstate.head.in[0])) {
        return;
    }
    el_f32_from_le(el_train_theta0, m->head + el_tstate.head.data_offset, el_tstate.head.params);
    el_tstate.trainable = 1;
}

uint8_t *el_app_train_weights_buffer(size_t *cap)
{
    if (!el_tstate.trainable) {
        *cap = 0;
        return NULL;
    }
    *cap = (size_t)el_tstate.head.params * sizeof(float);
    return (uint8_t *)el_train_delta;
}

void el_app_train_update_overwritten(void)
{
    el_tstate.have_last = 0;
    wipe(&el_tstate.last_rng, sizeof(el_tstate.last_rng));
}

uint16_t el_app_train_max_samples(void) { return el_tstate.trainable ? (uint16_t)el_train_max_samples : 0u; }

int el_app_train_testing(void) { return k_testing; }

static void put_f64(uint8_t *dst, double v)
{
    uint64_t bits;
    int i;
    memcpy(&bits, &v, sizeof(bits));
    for (i = 0; i < 8; i++) {
        dst[i] = (uint8_t)(bits >> (8 * i));
    }
}

size_t el_app_train_info(uint8_t *dst)
{
    size_t at = 0;
    uint16_t l, layers = el_tstate.trainable ? el_tstate.head.layers : 0u;
    el_put_u32(dst, el_tstate.trainable ? el_tstate.head.params : 0u);
    el_put_u16(dst + 4, layers);
    at = 6;
    for (l = 0; l < layers; l++) {
        el_put_u16(dst + at, el_tstate.head.in[l]);
        el_put_u16(dst + at + 2, el_tstate.head.out[l]);
        at += 4;
    }
    el_f32_to_le(dst + at, (float)k_floor.epsilon);
    el_f32_to_le(dst + at + 4, (float)el_dp_floor_delta(&k_floor));
    dst[at + 8] = (uint8_t)k_testing;
    dst[at + 9] = el_tstate.entropy;
    dst[at + 10] = (uint8_t)el_dp_floor_valid(&k_floor);
    dst[at + 11] = 0;
    put_f64(dst + at + 12, el_tstate.rho);
    el_f32_to_le(dst + at + 20, (float)el_dp_epsilon(el_tstate.rho, el_dp_floor_delta(&k_floor)));
    el_put_u32(dst + at + 24, k_max_work >= 4294967295.0 ? 0xFFFFFFFFu : (uint32_t)k_max_work);
    return at + 28;
}

/* Zero the samples, their labels, every buffer derived from them, and their budget. */
static void forget_samples(void)
{
    if (el_tstate.trainable) {
        wipe(el_train_samples, (size_t)el_train_max_samples * el_train_sample_bytes);
        wipe(el_train_labels, el_train_max_samples);
        wipe(el_train_delta, (size_t)el_tstate.head.params * sizeof(float));
        wipe(el_train_velocity, (size_t)el_train_velocity_len * sizeof(float));
        wipe(el_train_factors, (size_t)el_train_factors_len * sizeof(float));
        wipe(el_train_act, (size_t)el_tstate.head.act_len * sizeof(float));
    }
    el_tstate.n_samples = 0;
    el_tstate.rho = 0.0;
    el_tstate.have_last = 0;
    wipe(&el_tstate.last_rng, sizeof(el_tstate.last_rng));
}

void el_app_train_wipe(void) { forget_samples(); }

static void ack(uint16_t seq) { el_tx_send(EL_MSG_ACK, seq, NULL, 0, NULL, 0); }

static void on_configure(uint16_t seq, const uint8_t *body, size_t len)
{
    el_train_config c;
    el_cfg_status st;
    if (len != EL_CONFIGURE_LEN) {
        el_tx_error(seq, EL_E_LENGTH, "CONFIGURE body is 44 bytes");
        return;
    }
    el_train_config_decode(&c, body);
    st = el_train_config_validate(&c, (uint16_t)(el_train_max_samples > 0xFFFFu ? 0xFFFFu : el_train_max_samples),
                                  el_dp_floor_active(&k_floor), k_testing);
    if (st == EL_CFG_OK && el_tstate.trainable && c.noise_kind == EL_NOISE_GAUSSIAN && c.noise_mult > 0.0f) {
        el_dp_grid g;
        if (!el_dp_grid_make(c.clip_norm, c.noise_mult, el_tstate.head.params, &g)) {
            el_tx_error(seq, EL_E_CONFIG, "noise multiplier and clip norm do not fit the noise grid");
            return;
        }
    }
    if (st == EL_CFG_OK && el_tstate.trainable && el_train_velocity_len == 0u && c.momentum != 0.0f) {
        el_tx_error(seq, EL_E_CONFIG, "this build trains without momentum (EL_TRAIN_NO_MOMENTUM)");
        return;
    }
    if (st == EL_CFG_RANGE) {
        el_tx_error(seq, EL_E_CONFIG, "configuration value out of range");
    } else if (st == EL_CFG_FLOOR) {
        el_tx_error(seq, EL_E_FLOOR, "a floored build needs clipping and Gaussian noise with sigma > 0");
    } else if (st == EL_CFG_SEED) {
        el_tx_error(seq, EL_E_SEED, "this build is not marked for testing: no seed");
    } else {
        el_tstate.config = c;
        if (c.has_seed) {
            el_prng_seed(&el_tstate.rng, c.seed);
            el_tstate.seeded = 1;
        }
        ack(seq);
    }
}

static void on_load_weights(uint16_t seq, const uint8_t *body, size_t len)
{
    if (!el_tstate.trainable) {
        el_tx_error(seq, EL_E_STATE, "the model has no trainable head");
        return;
    }
    if (len != (size_t)el_tstate.head.params * 4u) {
        el_tx_error(seq, EL_E_LENGTH, "LOAD_WEIGHTS body must be 4 bytes per trainable parameter");
        return;
    }
    {
        uint32_t i;
        for (i = 0; i < el_tstate.head.params; i++) {
            float w;
            el_f32_from_le(&w, body + 4u * i, 1);
            if (!(w >= -1048576.0f && w <= 1048576.0f)) {
                el_tx_error(seq, EL_E_CONFIG, "weights must be finite and within +-2^20");
                return;
            }
        }
    }
    el_f32_from_le(el_train_theta0, body, el_tstate.head.params); /* the body sits in d (el_app_train_weights_buffer) */
    ack(seq);
}

/* Refusals depend on the configuration, the build and the sample count only (never on the data). */
static int release_refused(uint16_t seq, el_release_status st)
{
    switch (st) {
    case EL_RELEASE_OK:
        return 0;
    case EL_RELEASE_FLOOR_INVALID:
        el_tx_error(seq, EL_E_FLOOR, "the build's floor constants are invalid: this device does not train");
        break;
    case EL_RELEASE_FLOOR:
        el_tx_error(seq, EL_E_FLOOR, "configure clipping and Gaussian noise first: the build has a privacy floor");
        break;
    case EL_RELEASE_WORK:
        el_tx_error(seq, EL_E_CONFIG, "the round exceeds the build's compute cap (steps x batch x parameters)");
        break;
    case EL_RELEASE_ENTROPY:
        el_tx_error(seq, EL_E_ENTROPY, "the entropy source is weak: no noisy training on this device");
        break;
    default:
        el_tx_error(seq, EL_E_BUDGET, "this release would exceed the privacy budget of the stored samples");
        break;
    }
    return 1;
}

static void on_train(uint16_t seq, size_t len)
{
    el_train_ctx ctx;
    el_round_result res;
    el_update_info info;
    el_release_facts facts;
    el_release_cost cost;
    const el_train_config *c = &el_tstate.config;
    uint32_t t0, t1;

    if (len != 0u) {
        el_tx_error(seq, EL_E_LENGTH, "TRAIN has no body");
        return;
    }
    if (!el_tstate.trainable) {
        el_tx_error(seq, EL_E_STATE, "the model has no trainable head");
        return;
    }
    if (el_tstate.have_last && seq == el_tstate.last_seq) { /* a retransmission: the same release again, free */
        el_prng replay = el_tstate.last_rng;
        el_app_send_update(seq, &el_tstate.last_config, &el_tstate.last_res, &el_tstate.last_info, &replay);
        wipe(&replay, sizeof(replay));
        return;
    }
    if (el_tstate.n_samples == 0u) {
        el_tx_error(seq, EL_E_STATE, "no samples");
        return;
    }
    facts.floor = k_floor;
    facts.max_work = k_max_work;
    facts.params = el_tstate.head.params;
    facts.samples = el_tstate.n_samples;
    facts.weak_entropy = el_tstate.entropy == EL_ENTROPY_WEAK;
    facts.testing = k_testing;
    facts.rho_spent = el_tstate.rho;
    if (release_refused(seq, el_dp_release_check(c, &facts, &cost))) {
        return;
    }
    el_tstate.rho = cost.total; /* charged before anything is computed: a failed round stays paid */
    ctx.head = &el_tstate.head;
    ctx.theta0 = el_train_theta0;
    ctx.delta = el_train_delta;
    ctx.velocity = el_train_velocity_len != 0u ? el_train_velocity : NULL;
    ctx.factors = el_train_factors;
    ctx.act = el_train_act;
    ctx.samples = el_train_samples;
    ctx.sample_stride = el_train_sample_bytes;
    ctx.labels = el_train_labels;
    ctx.n_samples = el_tstate.n_samples;
    ctx.feat_scale = el_tstate.cut->scale;
    ctx.feat_zero = el_tstate.cut->zero_point;
    t0 = el_port_ticks();
    if (el_train_round(&ctx, c, cost.has_grid ? &cost.grid : NULL, &el_tstate.rng, &res) != EL_OK) {
        el_tx_error(seq, EL_E_STATE, "training failed");
        return;
    }
    t1 = el_port_ticks();
    memset(&info, 0, sizeof(info));
    info.boot_id = el_port_boot_id();
    info.samples = el_tstate.n_samples;
    info.ticks = k_testing ? t1 - t0 : 0u;
    info.seeded = el_tstate.seeded;
    if (cost.has_grid) {
        info.sens = cost.grid.sens;
        info.scale = cost.grid.scale;
        info.exponent = cost.grid.exponent;
        info.appearances = (uint16_t)(cost.appearances > 0xFFFFu ? 0xFFFFu : cost.appearances);
    }
    info.rho_total = el_tstate.rho;
    info.eps_total = (float)el_dp_epsilon(el_tstate.rho, el_dp_floor_delta(&k_floor));
    info.floor = (uint8_t)el_dp_floor_active(&k_floor);
    if (!k_testing) { /* exact functions of the samples: never sent outside testing builds */
        res.loss = 0.0f;
        res.pre_clip_norm = 0.0f;
    }
    el_tstate.last_rng = el_tstate.rng;
    el_tstate.last_config = *c;
    el_tstate.last_res = res;
    el_tstate.last_info = info;
    el_tstate.last_seq = seq;
    el_tstate.have_last = 1;
    el_app_send_update(seq, c, &res, &info, &el_tstate.rng);
}

int el_app_train_message(uint8_t type, uint16_t seq, const uint8_t *body, size_t len)
{
    switch (type) {
    case EL_MSG_CONFIGURE:
        on_configure(seq, body, len);
        return 1;
    case EL_MSG_LOAD_WEIGHTS:
        on_load_weights(seq, body, len);
        return 1;
    case EL_MSG_SAMPLE:
        el_app_on_sample(seq, body, len);
        return 1;
    case EL_MSG_CLEAR_SAMPLES:
        if (len != 0u) {
            el_tx_error(seq, EL_E_LENGTH, "CLEAR_SAMPLES has no body");
        } else {
            forget_samples();
            ack(seq);
        }
        return 1;
    case EL_MSG_TRAIN:
        on_train(seq, len);
        return 1;
    case EL_MSG_SENSE:
        el_app_on_sense(seq, body, len);
        return 1;
    case EL_MSG_RESEND:
        el_app_on_resend(seq, body, len);
        return 1;
    default:
        return 0;
    }
}
