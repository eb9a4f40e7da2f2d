/** @file el_app_samples.c @brief The sample store of on-device training: SAMPLE (windows from the host) and SENSE
 *  (windows from the board's own sensor); each window runs through the backbone and its cut tensor is stored. */
#include <string.h>

#include "app/el_app_train_state.h"
#include "app/el_model_data.h"
#include "app/el_port.h"
#include "app/el_train_msgs.h"
#include "app/el_tx.h"
#include "proto/el_packet.h"
#include "train/el_head.h"

#define EL_SENSE_MAX_CHANNELS 16u

static int store_sample(uint16_t seq, uint8_t label);

void el_app_on_sample(uint16_t seq, const uint8_t *body, size_t len)
{
    el_tensor *in;
    uint8_t reply[2];
    if (!el_tstate.trainable) {
        el_tx_error(seq, EL_E_STATE, "the model has no trainable head");
        return;
    }
    in = el_model_input(el_tstate.model);
    if (len != 4u + (size_t)in->size) {
        el_tx_error(seq, EL_E_LENGTH, "SAMPLE body is 4 bytes then the input tensor");
        return;
    }
    if (body[0] >= el_tstate.head.out[el_tstate.head.layers - 1u]) {
        el_tx_error(seq, EL_E_CONFIG, "label out of range");
        return;
    }
    if (el_tstate.n_samples >= el_train_max_samples) {
        el_tx_error(seq, EL_E_FULL, "the sample store is full");
        return;
    }
    memcpy(in->data, body + 4, in->size);
    if (!store_sample(seq, body[0])) {
        return;
    }
    el_put_u16(reply, el_tstate.n_samples);
    el_tx_send(EL_MSG_ACK, seq, reply, sizeof(reply), NULL, 0);
}

/* Store the int8 input now in the model's input tensor as a sample (runs the backbone). */
static int store_sample(uint16_t seq, uint8_t label)
{
    if (el_model_invoke_until(el_tstate.model, el_tstate.backbone_ops) != EL_OK) {
        el_tx_error(seq, EL_E_KERNEL, "backbone failed");
        return 0;
    }
    memcpy(el_train_samples + (size_t)el_tstate.n_samples * el_train_sample_bytes, el_tstate.cut->data, el_tstate.cut->size);
    el_train_labels[el_tstate.n_samples] = label;
    el_tstate.n_samples++;
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
void el_app_on_sense(uint16_t seq, const uint8_t *body, size_t len)
{
    el_tensor *in;
    uint32_t channels, windows, steps, w, t, c;
    float mean[EL_SENSE_MAX_CHANNELS], std[EL_SENSE_MAX_CHANNELS], reading[EL_SENSE_MAX_CHANNELS];
    uint8_t reply[2];

    if (!el_tstate.trainable) {
        el_tx_error(seq, EL_E_STATE, "the model has no trainable head");
        return;
    }
    if (len < 4u) {
        el_tx_error(seq, EL_E_LENGTH, "SENSE body is label, channels, windows, then mean and std per channel");
        return;
    }
    channels = body[1];
    windows = el_get_u16(body + 2);
    in = el_model_input(el_tstate.model);
    if (channels == 0u || channels > EL_SENSE_MAX_CHANNELS || len != 4u + 8u * channels) {
        el_tx_error(seq, EL_E_LENGTH, "SENSE body is label, channels, windows, then mean and std per channel");
        return;
    }
    if (in->type != 1u || in->size % channels != 0u || body[0] >= el_tstate.head.out[el_tstate.head.layers - 1u] || windows == 0u) {
        el_tx_error(seq, EL_E_CONFIG, "SENSE channels, label or window count do not fit the model");
        return;
    }
    if (el_tstate.n_samples + windows > el_train_max_samples) {
        el_tx_error(seq, EL_E_FULL, "the sample store cannot hold that many windows");
        return;
    }
    for (c = 0; c < channels; c++) {
        el_f32_from_le(&mean[c], body + 4u + 4u * c, 1);
        el_f32_from_le(&std[c], body + 4u + 4u * (channels + c), 1);
        if (!(std[c] > 0.0f && std[c] <= 3.4e38f) || !(mean[c] >= -3.4e38f && mean[c] <= 3.4e38f)) {
            el_tx_error(seq, EL_E_CONFIG, "SENSE mean must be finite and std finite and > 0");
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
    el_put_u16(reply, el_tstate.n_samples);
    el_tx_send(EL_MSG_ACK, seq, reply, sizeof(reply), NULL, 0);
}

