/** @file el_train_example_f32.c @brief Forward and backward pass of the head for one sample. */
#include <stddef.h>

#include "train/el_train_kernels.h"
#include "train/el_train_round.h"

float el_train_example_f32(const el_head *h, const float *theta0, const float *delta, float *act, uint16_t label,
                           float *norm2)
{
    float *a[EL_HEAD_MAX_LAYERS] = {NULL, NULL, NULL};
    float *d[EL_HEAD_MAX_LAYERS] = {NULL, NULL, NULL};
    float *at = act;
    const uint16_t last = (uint16_t)(h->layers - 1u);
    float loss, n2 = 0.0f;
    uint16_t l;

    for (l = 0; l < h->layers; l++) {
        a[l] = at;
        at += h->in[l];
    }
    for (l = 0; l < h->layers; l++) {
        d[l] = at;
        at += h->out[l];
    }
    for (l = 0; l < h->layers; l++) {
        el_dense_forward_f32(theta0 + h->offset[2 * l], delta + h->offset[2 * l], a[l], h->in[l], h->out[l], l < last,
                             l < last ? a[l + 1] : d[last]);
    }
    loss = el_softmax_xent_f32(d[last], h->out[last], label);
    for (l = last; l > 0; l--) {
        el_dense_backward_f32(theta0 + h->offset[2 * l], delta + h->offset[2 * l], d[l], a[l], h->in[l], h->out[l], d[l - 1]);
    }
    for (l = 0; l < h->layers; l++) {
        n2 += el_sum_squares_f32(d[l], h->out[l]) * (el_sum_squares_f32(a[l], h->in[l]) + 1.0f);
    }
    *norm2 = n2;
    return loss;
}
