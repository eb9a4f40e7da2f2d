/** @file el_dp_account.c @brief Grid, release cost and epsilon conversion of the device's privacy budget. */
#include "train/el_dp_account.h"

#include <math.h>

#include "train/el_dgauss.h"

#define ROUND_UP (1.0 + 0x1p-50)
#define MAX_SENS (1u << 26)

/* A subset of dp-accounting's default RDP orders, so the device's epsilon is never below its figure. */
static const double k_orders[] = {1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.8, 2.0, 2.2, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0,
                                  7.0, 8.0, 9.0, 10.0, 12.0, 14.0, 16.0, 20.0, 24.0, 28.0, 32.0, 40.0, 48.0, 56.0,
                                  63.0, 128.0, 256.0, 512.0, 1024.0};

uint32_t el_dp_isqrt_ceil(uint32_t n)
{
    uint64_t r = (uint64_t)sqrt((double)n);
    while (r * r < n) {
        r++;
    }
    while (r > 0u && (r - 1u) * (r - 1u) >= n) {
        r--;
    }
    return (uint32_t)r;
}

int el_dp_grid_make(float clip, float sigma, uint32_t params, el_dp_grid *g)
{
    const double x = (double)sigma * (double)clip; /* exact: two 24-bit significands */
    const uint32_t r = el_dp_isqrt_ceil(params);
    double b;
    int k;
    if (!(clip > 0.0f) || !(sigma > 0.0f) || !(x < HUGE_VAL) || params == 0u) {
        return 0;
    }
    (void)frexp(x, &k);
    if (k - 12 < -100 || k - 12 > 100) {
        return 0; /* keeps 2^e and 2^-e normal float32 numbers */
    }
    g->exponent = (int16_t)(k - 12);
    b = floor(ldexp((double)clip, -g->exponent));
    if (!(b >= (double)r + 2.0) || b > (double)MAX_SENS) {
        return 0;
    }
    g->sens = (uint32_t)b;
    g->scale = (uint32_t)ceil((double)sigma * b); /* exact product: 24 + 26 bits */
    if (g->scale < 1u || g->scale > EL_DGAUSS_MAX_SCALE) {
        return 0;
    }
    g->clip_eff = (float)(ldexp((double)(g->sens - r - 1u), g->exponent) * (1.0 - 0x1p-8));
    return 1;
}

int el_dp_accountable(const el_train_config *c)
{
    return c->clip_mode != EL_CLIP_NONE && c->noise_kind == EL_NOISE_GAUSSIAN && c->noise_mult > 0.0f
        && (c->noise_mode == EL_NOISE_ON_UPDATE || c->clip_mode == EL_CLIP_EXAMPLE);
}

uint32_t el_dp_appearances(const el_train_config *c, uint32_t n_samples)
{
    uint32_t width;
    if (c->noise_mode == EL_NOISE_ON_UPDATE) {
        return 1u;
    }
    if (c->local_steps == 0u) {
        return c->epochs;
    }
    width = c->batch < n_samples ? c->batch : n_samples;
    return n_samples == 0u ? 0u : (uint32_t)(((uint64_t)c->local_steps * width + n_samples - 1u) / n_samples);
}

double el_dp_release_rho(const el_dp_grid *g, uint32_t appearances)
{
    const double b2 = (double)g->sens * (double)g->sens; /* exact: B <= 2^26 */
    const double s2 = (double)g->scale * (double)g->scale;
    return ((double)appearances * b2 * 2.0 / s2) * ROUND_UP;
}

double el_dp_rho_add(double total, double rho) { return (total + rho) * ROUND_UP; }

double el_dp_epsilon(double rho, double delta)
{
    double best = HUGE_VAL;
    unsigned i;
    if (!(rho < HUGE_VAL)) {
        return HUGE_VAL;
    }
    if (!(rho > 0.0)) {
        return 0.0;
    }
    for (i = 0; i < sizeof(k_orders) / sizeof(k_orders[0]); i++) {
        const double a = k_orders[i];
        const double eps = a * rho + log1p(-1.0 / a) - (log(delta) + log(a)) / (a - 1.0);
        if (eps < best) {
            best = eps;
        }
    }
    return best < 0.0 ? 0.0 : best * ROUND_UP;
}
