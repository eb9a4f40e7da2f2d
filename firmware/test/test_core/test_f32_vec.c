/**
 * @file test_f32_vec.c
 * @brief The training step's vector loops (train/el_f32_vec.h) against plain loops of the same operations, on
 *        lengths around the eight-float blocks: bit for bit (on cores with a fused multiply-add the plain loops use
 *        it, the one rounding the VLDM bodies and the C bodies do).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "el_test.h"
#include "train/el_f32_vec.h"
#include "train/el_prng.h"

#if EL_F32_HAVE_FMA
static float madd(float a, float b, float c) { return __builtin_fmaf(a, b, c); }
#else
static float madd(float a, float b, float c)
{
    volatile float p = a * b; /* rounded on its own, as the C bodies are without a fused multiply-add */
    return p + c;
}
#endif

static float s_w[67], s_dw[67], s_x[67], s_y[67], s_ref[67];

void el_test_f32_vec(void)
{
    static const uint32_t lengths[] = {0, 1, 7, 8, 9, 16, 23, 64, 67};
    el_prng r;
    uint32_t t, k;
    el_prng_seed(&r, 11u);
    for (t = 0; t < sizeof(lengths) / sizeof(lengths[0]); t++) {
        const uint32_t n = lengths[t];
        const float c = el_prng_gaussian(&r), decay = 0.9f;
        float acc, ref = 0.25f;
        int same = 1;
        for (k = 0; k < 67; k++) {
            s_w[k] = el_prng_gaussian(&r);
            s_dw[k] = 1e-3f * el_prng_gaussian(&r);
            s_x[k] = el_prng_gaussian(&r);
            s_y[k] = el_prng_gaussian(&r);
        }
        for (k = 0; k < n; k++) {
            ref = madd(s_w[k] + s_dw[k], s_x[k], ref);
        }
        acc = el_vec_dot_sum_f32(s_w, s_dw, s_x, n, 0.25f);
        CHECK(memcmp(&acc, &ref, sizeof(acc)) == 0);

        memcpy(s_ref, s_y, sizeof(s_ref));
        for (k = 0; k < n; k++) {
            s_ref[k] = madd(c, s_x[k], s_ref[k]);
        }
        el_vec_axpy_f32(s_y, s_x, n, c);
        CHECK(memcmp(s_y, s_ref, sizeof(s_ref)) == 0); /* and nothing past n written */

        for (k = 0; k < n; k++) {
            volatile float m = decay * s_ref[k];
            s_ref[k] = madd(c, s_x[k], m);
        }
        el_vec_scale_axpy_f32(s_y, s_x, n, decay, c);
        for (k = 0; k < 67; k++) {
            same &= memcmp(&s_y[k], &s_ref[k], sizeof(float)) == 0;
        }
        CHECK(same);
    }
}
