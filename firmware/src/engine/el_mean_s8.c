/** @file el_mean_s8.c @brief int8 MEAN over a set of axes, as TFLite Micro (see el_kernels.h). */
#include "el_kernels.h"
#include "el_fixedpoint.h"

el_status el_mean_s8(const int8_t *input, const int32_t *dims, int rank, uint32_t axis_mask,
                     int32_t in_zp, int32_t out_zp, int32_t multiplier, int32_t shift,
                     int8_t *output)
{
    int32_t outer_ext[4], inner_ext[4], stride[4];
    int32_t i[4], j[4];
    int32_t r_ext[4], r_str[4]; /* the reduced axes, innermost last */
    int nr;
    int64_t count = 1;
    int k, d;
    uint32_t out_index = 0;

    if (rank < 1 || rank > 4) {
        return EL_ERR_ARG;
    }
    /* Pad to 4-D on the inside with unit dimensions. */
    for (d = 0; d < 4; d++) {
        const int32_t extent = d < rank ? dims[d] : 1;
        const int reduced = d < rank && ((axis_mask >> d) & 1u) != 0u;
        if (extent < 1) {
            return EL_ERR_ARG;
        }
        outer_ext[d] = reduced ? 1 : extent;
        inner_ext[d] = reduced ? extent : 1;
        if (reduced) {
            count *= extent;
        }
    }
    stride[3] = 1;
    for (d = 2; d >= 0; d--) {
        stride[d] = stride[d + 1] * (d + 1 < rank ? dims[d + 1] : 1);
    }

    /* Fold 1 / count into the multiplier as TFLite's QuantizedMeanOrSum. */
    k = 63 - el_clz64((uint64_t)count);
    if (k > 32) {
        k = 32;
    }
    if (k > 31 + shift) {
        k = 31 + shift;
    }
    if (k < 0) {
        k = 0;
    }
    multiplier = (int32_t)((int64_t)((uint64_t)(int64_t)multiplier << k) / count);
    shift -= k;

    /* The reduced axes of extent > 1, innermost last, padded in front to four levels: the innermost one is
     * walked with a pointer, the others around it. */
    nr = 3;
    for (d = 0; d < 4; d++) {
        r_ext[d] = 1;
        r_str[d] = 0;
    }
    for (d = 3; d >= 0; d--) {
        if (inner_ext[d] > 1) {
            r_ext[nr] = inner_ext[d];
            r_str[nr] = stride[d];
            nr--;
        }
    }
    for (i[0] = 0; i[0] < outer_ext[0]; i[0]++) {
        for (i[1] = 0; i[1] < outer_ext[1]; i[1]++) {
            for (i[2] = 0; i[2] < outer_ext[2]; i[2]++) {
                for (i[3] = 0; i[3] < outer_ext[3]; i[3]++) {
                    const int8_t *base = input + (uint32_t)i[0] * (uint32_t)stride[0] + (uint32_t)i[1] * (uint32_t)stride[1]
                                         + (uint32_t)i[2] * (uint32_t)stride[2] + (uint32_t)i[3];
                    int32_t sum = 0;
                    int32_t acc;
                    for (j[0] = 0; j[0] < r_ext[0]; j[0]++) {
                        for (j[1] = 0; j[1] < r_ext[1]; j[1]++) {
                            for (j[2] = 0; j[2] < r_ext[2]; j[2]++) {
                                const int8_t *p = base + (uint32_t)j[0] * (uint32_t)r_str[0]
                                                  + (uint32_t)j[1] * (uint32_t)r_str[1]
                                                  + (uint32_t)j[2] * (uint32_t)r_str[2];
                                for (j[3] = 0; j[3] < r_ext[3]; j[3]++) {
                                    sum = el_add_wrap(sum, *p);
                                    p += r_str[3];
                                }
                            }
                        }
                    }
                    acc = el_sub_wrap(sum, el_mul_wrap(in_zp, (int32_t)count));
                    acc = el_add_wrap(el_mbqm(acc, multiplier, (int)shift), out_zp);
                    output[out_index++] = (int8_t)el_clamp(acc, -128, 127);
                }
            }
        }
    }
    return EL_OK;
}
