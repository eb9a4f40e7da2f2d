/** @file el_app_train.c @brief Training messages of the device loop over the train/ module. */
#include "app/el_app_train.h"

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

#define EL_SENSE_MAX_CHANNELS 16u

static int store_sample(uint16_t seq, uint8_t label);

static float el_get_f32(const uint8_t *p)
{
    uint32_t bits = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
    float value;
    memcpy(&value, &bits, sizeof(value));
    return value;
}
#include "train/el_dp_account.h"
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

static const double k_floor_epsilon = (double)(EL_FLOOR_EPSILON);
static const double k_floor_delta = (double)(EL_FLOOR_DELTA);
static const double k_max_work = (double)(EL_MAX_ROUND_WORK);
static const int k_testing = (EL_TESTING_BUILD) != 0;

/* Any floor constant but an exact 0 means "floored"; only a finite eps > 0 with delta in (0, 1e-3] is valid. */
static int floored(void) { return !(k_floor_epsilon == 0.0); }
static int floor_valid(void)
{
    if (!floored()) {
        return 1;
    }
    return k_floor_epsilon > 0.0 && k_floor_epsilon < 1e6 && k_floor_delta > 0.0 && k_floor_delta <= 1e-3;
}
static double report_delta(void) { return floored() && floor_valid() ? k_floor_delta : 1e-5; }

#define NO_TENSOR 0xFFFFu

static struct {
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
} s_t;

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

    memset(&s_t, 0, sizeof(s_t));
    el_train_config_default(&s_t.config);
    s_t.entropy = (uint8_t)el_port_entropy(key, sizeof(key));
    el_prng_init(&s_t.rng, key);
    wipe(key, sizeof(key));
    s_t.model = m;
    if (m == NULL || m->head == NULL || el_head_parse(&s_t.head, m->head, m->head_len) != EL_OK) {
        return;
    }
    if (s_t.head.params != el_train_params_len || s_t.head.act_len > el_train_act_len
        || !find_backbone(m, &s_t.backbone_ops, &s_t.cut) || s_t.cut->type != 1u
        || s_t.cut->size != s_t.head.in[0] || s_t.cut->size > el_train_sample_bytes || el_train_max_samples == 0u
        || el_train_max_samples > 0xFFFFu) {
        return;
    }
    el_f32_from_le(el_train_theta0, m->head + s_t.head.data_offset, s_t.head.params);
    s_t.trainable = 1;
}

uint8_t *el_app_train_link_buffer(size_t *cap)
{
    if (!s_t.trainable) {
        *cap = 0;
        return NULL;
    }
    *cap = (size_t)s_t.head.params * sizeof(float);
    return (uint8_t *)el_train_theta;
}

uint16_t el_app_train_max_samples(void) { return s_t.trainable ? (uint16_t)el_train_max_samples : 0u; }

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
    uint16_t l, layers = s_t.trainable ? s_t.head.layers : 0u;
    el_put_u32(dst, s_t.trainable ? s_t.head.params : 0u);
    el_put_u16(dst + 4, layers);
    at = 6;
    for (l = 0; l < layers; l++) {
        el_put_u16(dst + at, s_t.head.in[l]);
        el_put_u16(dst + at + 2, s_t.head.out[l]);
        at += 4;
    }
    el_f32_to_le(dst + at, (float)k_floor_epsilon);
    el_f32_to_le(dst + at + 4, (float)report_delta());
    dst[at + 8] = (uint8_t)k_testing;
    dst[at + 9] = s_t.entropy;
    dst[at + 10] = (uint8_t)floor_valid();
    dst[at + 11] = 0;
    put_f64(dst + at + 12, s_t.rho);
    el_f32_to_le(dst + at + 20, (float)el_dp_epsilon(s_t.rho, report_delta()));
    el_put_u32(dst + at + 24, k_max_work >= 4294967295.0 ? 0xFFFFFFFFu : (uint32_t)k_max_work);
    return at + 28;
}

/* Zero the samples, their labels, every buffer derived from them, and their budget. */
static void forget_samples(void)
{
    if (s_t.trainable) {
        wipe(el_train_samples, (size_t)el_train_max_samples * el_train_sample_bytes);
        wipe(el_train_labels, el_train_max_samples);
        wipe(el_train_delta, (size_t)s_t.head.params * sizeof(float));
        wipe(el_train_velocity, (size_t)s_t.head.params * sizeof(float));
        wipe(el_train_theta, (size_t)s_t.head.params * sizeof(float));
        wipe(el_train_act, (size_t)s_t.head.act_len * sizeof(float));
    }
    s_t.n_samples = 0;
    s_t.rho = 0.0;
    s_t.have_last = 0;
    wipe(&s_t.last_rng, sizeof(s_t.last_rng));
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
                                  floored(), k_testing);
    if (st == EL_CFG_OK && s_t.trainable && c.noise_kind == EL_NOISE_GAUSSIAN && c.noise_mult > 0.0f) {
        el_dp_grid g;
        if (!el_dp_grid_make(c.clip_norm, c.noise_mult, s_t.head.params, &g)) {
            el_tx_error(seq, EL_E_CONFIG, "noise multiplier and clip norm do not fit the noise grid");
            return;
        }
    }
    if (st == EL_CFG_RANGE) {
        el_tx_error(seq, EL_E_CONFIG, "configuration value out of range");
    } else if (st == EL_CFG_FLOOR) {
        el_tx_error(seq, EL_E_FLOOR, "a floored build needs clipping and Gaussian noise with sigma > 0");
    } else if (st == EL_CFG_SEED) {
        el_tx_error(seq, EL_E_SEED, "this build is not marked for testing: no seed");
    } else {
        s_t.config = c;
        if (c.has_seed) {
            el_prng_seed(&s_t.rng, c.seed);
            s_t.seeded = 1;
        }
        ack(seq);
    }
}

static void on_load_weights(uint16_t seq, const uint8_t *body, size_t len)
{
    if (!s_t.trainable) {
        el_tx_error(seq, EL_E_STATE, "the model has no trainable head");
        return;
    }
    if (len != (size_t)s_t.head.params * 4u) {
        el_tx_error(seq, EL_E_LENGTH, "LOAD_WEIGHTS body must be 4 bytes per trainable parameter");
        return;
    }
    {
        uint32_t i;
        for (i = 0; i < s_t.head.params; i++) {
            const float w = el_get_f32(body + 4u * i);
            if (!(w >= -1048576.0f && w <= 1048576.0f)) {
                el_tx_error(seq, EL_E_CONFIG, "weights must be finite and within +-2^20");
                return;
            }
        }
    }
    el_f32_from_le(el_train_theta0, body, s_t.head.params);
    ack(seq);
}

static void on_sample(uint16_t seq, const uint8_t *body, size_t len)
{
    el_tensor *in;
    uint8_t reply[2];
    if (!s_t.trainable) {
        el_tx_error(seq, EL_E_STATE, "the model has no trainable head");
        return;
    }
    in = el_model_input(s_t.model);
    if (len != 4u + (size_t)in->size) {
        el_tx_error(seq, EL_E_LENGTH, "SAMPLE body is 4 bytes then the input tensor");
        return;
    }
    if (body[0] >= s_t.head.out[s_t.head.layers - 1u]) {
        el_tx_error(seq, EL_E_CONFIG, "label out of range");
        return;
    }
    if (s_t.n_samples >= el_train_max_samples) {
        el_tx_error(seq, EL_E_FULL, "the sample store is full");
        return;
    }
    memcpy(in->data, body + 4, in->size);
    if (!store_sample(seq, body[0])) {
        return;
    }
    el_put_u16(reply, s_t.n_samples);
    el_tx_send(EL_MSG_ACK, seq, reply, sizeof(reply), NULL, 0);
}

/* Store the int8 input now in the model's input tensor as a sample (runs the backbone). */
static int store_sample(uint16_t seq, uint8_t label)
{
    if (el_model_invoke_until(s_t.model, s_t.backbone_ops) != EL_OK) {
        el_tx_error(seq, EL_E_KERNEL, "backbone failed");
        return 0;
    }
    memcpy(el_train_samples + (size_t)s_t.n_samples * el_train_sample_bytes, s_t.cut->data, s_t.cut->size);
    el_train_labels[s_t.n_samples] = label;
    s_t.n_samples++;
    return 1;
}

static int8_t quantize_reading(float value, float mean, float std, const el_tensor *in)
{
    float q = ((value - mean) / std) / in->scale + (float)in->zero_point;
    q = q < -128.0f ? -128.0f : (q > 127.0f ? 127.0f : q);
    return (int8_t)(q < 0.0f ? q - 0.5f : q + 0.5f);
}

/* SENSE: u8 label, u8 channels C, u16 windows K, then f32 mean[C], f32 std[C] (the data set's normalisation).
 * The board records K windows of its own sensor in the model's input shape and stores them as samples. */
static void on_sense(uint16_t seq, const uint8_t *body, size_t len)
{
    el_tensor *in;
    uint32_t channels, windows, steps, w, t, c;
    float mean[EL_SENSE_MAX_CHANNELS], std[EL_SENSE_MAX_CHANNELS], reading[EL_SENSE_MAX_CHANNELS];
    uint8_t reply[2];

    if (!s_t.trainable) {
        el_tx_error(seq, EL_E_STATE, "the model has no trainable head");
        return;
    }
    if (len < 4u) {
        el_tx_error(seq, EL_E_LENGTH, "SENSE body is label, channels, windows, then mean and std per channel");
        return;
    }
    channels = body[1];
    windows = el_get_u16(body + 2);
    in = el_model_input(s_t.model);
    if (channels == 0u || channels > EL_SENSE_MAX_CHANNELS || len != 4u + 8u * channels) {
        el_tx_error(seq, EL_E_LENGTH, "SENSE body is label, channels, windows, then mean and std per channel");
        return;
    }
    if (in->type != 1u || in->size % channels != 0u || body[0] >= s_t.head.out[s_t.head.layers - 1u] || windows == 0u) {
        el_tx_error(seq, EL_E_CONFIG, "SENSE channels, label or window count do not fit the model");
        return;
    }
    if (s_t.n_samples + windows > el_train_max_samples) {
        el_tx_error(seq, EL_E_FULL, "the sample store cannot hold that many windows");
        return;
    }
    for (c = 0; c < channels; c++) {
        mean[c] = el_get_f32(body + 4u + 4u * c);
        std[c] = el_get_f32(body + 4u + 4u * (channels + c));
        if (!(std[c] > 0.0f)) {
            el_tx_error(seq, EL_E_CONFIG, "SENSE std must be > 0");
            return;
        }
    }
    if (el_port_sensor_read(reading, (int)channels) != (int)channels) {
        el_tx_error(seq, EL_E_STATE, "this board has no sensor with that many channels; send SAMPLE instead");
        return;
    }
    steps = in->size / channels;
    for (w = 0; w < windows; w++) {
        int8_t *x = (int8_t *)in->data;
        for (t = 0; t < steps; t++) {
            if (el_port_sensor_read(reading, (int)channels) != (int)channels) {
                el_tx_error(seq, EL_E_STATE, "the sensor stopped answering");
                return;
            }
            for (c = 0; c < channels; c++) {
                x[t * channels + c] = quantize_reading(reading[c], mean[c], std[c], in);
            }
        }
        if (!store_sample(seq, body[0])) {
            return;
        }
    }
    el_put_u16(reply, s_t.n_samples);
    el_tx_send(EL_MSG_ACK, seq, reply, sizeof(reply), NULL, 0);
}

static void send_update(uint16_t seq, const el_train_config *c, const el_round_result *res,
                        const el_update_info *info, el_prng *rng)
{
    el_tx tx;
    el_tx_begin(&tx, EL_MSG_UPDATE, seq, el_update_len(&s_t.head, c));
    el_update_write(&s_t.head, el_train_delta, c, res, info, rng, el_tx_put, &tx);
    el_tx_end(&tx);
}

/* Refusals that depend on the configuration, the build and the sample count only (never on the data). */
static int train_refused(uint16_t seq, const el_train_config *c)
{
    const uint32_t width = c->batch < s_t.n_samples ? c->batch : s_t.n_samples;
    const double work = (double)s_t.head.params
                      * (c->local_steps > 0u ? (double)c->local_steps * width : (double)c->epochs * s_t.n_samples);
    if (!floor_valid()) {
        el_tx_error(seq, EL_E_FLOOR, "the build's floor constants are invalid: this device does not train");
    } else if (el_train_config_check_floor(c, floored()) != EL_CFG_OK) {
        el_tx_error(seq, EL_E_FLOOR, "configure clipping and Gaussian noise first: the build has a privacy floor");
    } else if (work > k_max_work) {
        el_tx_error(seq, EL_E_CONFIG, "the round exceeds the build's compute cap (steps x batch x parameters)");
    } else if (c->noise_kind != EL_NOISE_NONE && s_t.entropy == EL_ENTROPY_WEAK && !k_testing) {
        el_tx_error(seq, EL_E_ENTROPY, "the entropy source is weak: no noisy training on this device");
    } else {
        return 0;
    }
    return 1;
}

static void on_train(uint16_t seq, size_t len)
{
    el_train_ctx ctx;
    el_round_result res;
    el_update_info info;
    el_dp_grid grid;
    const el_dp_grid *gp = NULL;
    const el_train_config *c = &s_t.config;
    double rho = HUGE_VAL, total;
    uint32_t t0, t1, appearances = 0;

    if (len != 0u) {
        el_tx_error(seq, EL_E_LENGTH, "TRAIN has no body");
        return;
    }
    if (!s_t.trainable) {
        el_tx_error(seq, EL_E_STATE, "the model has no trainable head");
        return;
    }
    if (s_t.have_last && seq == s_t.last_seq) { /* a retransmission: the same release again, free */
        el_prng replay = s_t.last_rng;
        send_update(seq, &s_t.last_config, &s_t.last_res, &s_t.last_info, &replay);
        wipe(&replay, sizeof(replay));
        return;
    }
    if (s_t.n_samples == 0u) {
        el_tx_error(seq, EL_E_STATE, "no samples");
        return;
    }
    if (train_refused(seq, c)) {
        return;
    }
    if (c->noise_kind == EL_NOISE_GAUSSIAN && c->noise_mult > 0.0f
        && el_dp_grid_make(c->clip_norm, c->noise_mult, s_t.head.params, &grid)) {
        gp = &grid;
    }
    if (gp != NULL && el_dp_accountable(c)) {
        appearances = el_dp_appearances(c, s_t.n_samples);
        rho = el_dp_release_rho(gp, appearances);
    }
    total = el_dp_rho_add(s_t.rho, rho);
    if (floored() && !(el_dp_epsilon(total, k_floor_delta) <= k_floor_epsilon)) {
        el_tx_error(seq, EL_E_BUDGET, "this release would exceed the privacy budget of the stored samples");
        return;
    }
    s_t.rho = total; /* charged before anything is computed: a failed round stays paid */
    ctx.head = &s_t.head;
    ctx.theta = el_train_theta;
    ctx.theta0 = el_train_theta0;
    ctx.delta = el_train_delta;
    ctx.velocity = el_train_velocity;
    ctx.act = el_train_act;
    ctx.samples = el_train_samples;
    ctx.sample_stride = el_train_sample_bytes;
    ctx.labels = el_train_labels;
    ctx.n_samples = s_t.n_samples;
    ctx.feat_scale = s_t.cut->scale;
    ctx.feat_zero = s_t.cut->zero_point;
    t0 = el_port_ticks();
    if (el_train_round(&ctx, c, gp, &s_t.rng, &res) != EL_OK) {
        el_tx_error(seq, EL_E_STATE, "training failed");
        return;
    }
    t1 = el_port_ticks();
    memset(&info, 0, sizeof(info));
    info.boot_id = el_port_boot_id();
    info.samples = s_t.n_samples;
    info.ticks = k_testing ? t1 - t0 : 0u;
    info.seeded = s_t.seeded;
    if (gp != NULL) {
        info.sens = gp->sens;
        info.scale = gp->scale;
        info.exponent = gp->exponent;
        info.appearances = (uint16_t)(appearances > 0xFFFFu ? 0xFFFFu : appearances);
    }
    info.rho_total = s_t.rho;
    info.eps_total = (float)el_dp_epsilon(s_t.rho, report_delta());
    info.floor = (uint8_t)floored();
    if (!k_testing) { /* exact functions of the samples: never sent outside testing builds */
        res.loss = 0.0f;
        res.pre_clip_norm = 0.0f;
    }
    s_t.last_rng = s_t.rng;
    s_t.last_config = *c;
    s_t.last_res = res;
    s_t.last_info = info;
    s_t.last_seq = seq;
    s_t.have_last = 1;
    send_update(seq, c, &res, &info, &s_t.rng);
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
        on_sample(seq, body, len);
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
        on_sense(seq, body, len);
        return 1;
    default:
        return 0;
    }
}
