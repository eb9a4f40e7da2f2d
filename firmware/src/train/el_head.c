/** @file el_head.c @brief Parse the HEAD section of a model artifact into the parameter layout. */
#include "train/el_head.h"

#include <string.h>

static uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8); }

el_status el_head_parse(el_head *h, const uint8_t *sec, uint32_t len)
{
    uint32_t l, off, p = 0, act = 0;
    memset(h, 0, sizeof(*h));
    if (sec == NULL || len < 4u) {
        return EL_ERR_BOUNDS;
    }
    h->layers = (uint16_t)rd16(sec);
    if (h->layers < 1u || h->layers > EL_HEAD_MAX_LAYERS || rd16(sec + 2) != 1u) {
        return EL_ERR_BOUNDS;
    }
    off = 4u + 4u * h->layers;
    if (off > len) {
        return EL_ERR_BOUNDS;
    }
    for (l = 0; l < h->layers; l++) {
        const uint32_t n_in = rd16(sec + 4 + 4 * l), n_out = rd16(sec + 6 + 4 * l);
        if (n_in == 0u || n_out == 0u || n_in * n_out > 0xFFFFu || (l > 0 && n_in != h->out[l - 1])) {
            return EL_ERR_SHAPE;
        }
        h->in[l] = (uint16_t)n_in;
        h->out[l] = (uint16_t)n_out;
        h->offset[2 * l] = p;
        h->size[2 * l] = n_in * n_out;
        h->offset[2 * l + 1] = p + n_in * n_out;
        h->size[2 * l + 1] = n_out;
        p += n_in * n_out + n_out;
        act += n_in + n_out;
    }
    off = (off + 3u) & ~3u;
    if (off > len || p > (len - off) / 4u) {
        return EL_ERR_BOUNDS;
    }
    h->params = p;
    h->act_len = act;
    h->data_offset = off;
    return EL_OK;
}

void el_f32_from_le(float *dst, const uint8_t *src, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        const uint8_t *s = src + 4u * i;
        const uint32_t bits = (uint32_t)s[0] | ((uint32_t)s[1] << 8) | ((uint32_t)s[2] << 16) | ((uint32_t)s[3] << 24);
        memcpy(&dst[i], &bits, sizeof(bits));
    }
}

void el_f32_to_le(uint8_t *dst, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof(bits));
    dst[0] = (uint8_t)bits;
    dst[1] = (uint8_t)(bits >> 8);
    dst[2] = (uint8_t)(bits >> 16);
    dst[3] = (uint8_t)(bits >> 24);
}
