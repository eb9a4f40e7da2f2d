/** @file el_grid_noise_f32.c @brief Round a vector to the grid, check its norm, add discrete Gaussian noise. */
#include "train/el_grid_noise.h"

#include <math.h>

#include "train/el_dgauss.h"

/* A deliberate fault for testing the auditor (docs/privacy.md, "Auditing the device's epsilon"): the noise is
   drawn at half the scale the grid and the accountant use. Only a build marked for testing may carry it. */
#if defined(EL_FAULT_HALF_NOISE) && EL_FAULT_HALF_NOISE
#if !defined(EL_TESTING_BUILD) || !EL_TESTING_BUILD
#error "EL_FAULT_HALF_NOISE is a fault for testing the auditor: only with EL_TESTING_BUILD=1"
#endif
#define NOISE_SCALE(s) ((s) / 2u)
#else
#define NOISE_SCALE(s) (s)
#endif

int el_grid_noise_f32(float *v, uint32_t n, const el_dp_grid *g, float pre_scale, float bound, int check_norm,
                      el_prng *rng)
{
    const float inv = ldexpf(1.0f, -g->exponent);
    const float step = ldexpf(1.0f, g->exponent);
    const uint64_t limit = (uint64_t)g->sens * g->sens;
    uint64_t sum = 0;
    int64_t keep;
    uint32_t i;

    for (i = 0; i < n; i++) {
        const float x = (v[i] * pre_scale) * inv;
        const float r = roundf(x);
        v[i] = fabsf(x) <= bound ? r : 0.0f; /* NaN and infinities too */
        if (check_norm) {
            const int64_t q = (int64_t)v[i];
            const uint64_t sq = (uint64_t)(q * q);
            sum = sum + sq > limit ? limit + 1u : sum + sq; /* saturates: sq <= limit <= 2^52 */
        }
    }
    keep = (!check_norm || sum <= limit) ? 1 : 0;
    for (i = 0; i < n; i++) {
        const int64_t q = (int64_t)v[i] * keep + el_dg_gaussian(rng, NOISE_SCALE(g->scale));
        v[i] = (float)q * step;
    }
    return (int)keep;
}
