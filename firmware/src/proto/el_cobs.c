/** @file el_cobs.c @brief COBS encode/decode, bounds-checked, no allocation. */
#include "el_cobs.h"

static el_cobs_result cobs_fail(el_cobs_status status)
{
    el_cobs_result r;
    r.len = 0;
    r.status = status;
    return r;
}

el_cobs_result el_cobs_encode(uint8_t *dst, size_t dst_len, const uint8_t *src, size_t src_len)
{
    el_cobs_result r;
    size_t code_at = 0; /* where the current block's code byte goes */
    size_t out = 1;     /* next data byte position */
    uint8_t code = 1;   /* current block length + 1 */
    size_t i;

    if (dst == NULL || (src == NULL && src_len != 0)) {
        return cobs_fail(EL_COBS_ERR_NULL);
    }
    if (dst_len == 0) {
        return cobs_fail(EL_COBS_ERR_DST_FULL);
    }
    for (i = 0; i < src_len; i++) {
        if (src[i] == 0) {
            dst[code_at] = code;
            code = 1;
            if (out >= dst_len) {
                return cobs_fail(EL_COBS_ERR_DST_FULL);
            }
            code_at = out++;
        } else {
            if (out >= dst_len) {
                return cobs_fail(EL_COBS_ERR_DST_FULL);
            }
            dst[out++] = src[i];
            code++;
            if (code == 0xFF) {
                dst[code_at] = code;
                code = 1;
                if (out >= dst_len) {
                    return cobs_fail(EL_COBS_ERR_DST_FULL);
                }
                code_at = out++;
            }
        }
    }
    dst[code_at] = code;
    r.len = out;
    r.status = EL_COBS_OK;
    return r;
}

el_cobs_result el_cobs_decode(uint8_t *dst, size_t dst_len, const uint8_t *src, size_t src_len)
{
    el_cobs_result r;
    size_t in = 0;
    size_t out = 0;

    if ((dst == NULL && dst_len != 0) || (src == NULL && src_len != 0)) {
        return cobs_fail(EL_COBS_ERR_NULL);
    }
    while (in < src_len) {
        uint8_t code = src[in++];
        uint8_t k;
        if (code == 0) {
            return cobs_fail(EL_COBS_ERR_ZERO);
        }
        for (k = 1; k < code; k++) {
            uint8_t b;
            if (in >= src_len) {
                return cobs_fail(EL_COBS_ERR_TRUNCATED);
            }
            b = src[in++];
            if (b == 0) {
                return cobs_fail(EL_COBS_ERR_ZERO);
            }
            if (out >= dst_len) {
                return cobs_fail(EL_COBS_ERR_DST_FULL);
            }
            dst[out++] = b;
        }
        if (code != 0xFF && in < src_len) {
            if (out >= dst_len) {
                return cobs_fail(EL_COBS_ERR_DST_FULL);
            }
            dst[out++] = 0;
        }
    }
    r.len = out;
    r.status = EL_COBS_OK;
    return r;
}
