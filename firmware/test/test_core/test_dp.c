/**
 * @file test_dp.c
 * @brief Unit tests of the privacy floor's arithmetic (firmware/src/train/): the discrete Gaussian sampler
 *        against its exact distribution (moments, a chi-square of the mass function, tails counted out past
 *        6 sigma of the proposal and the acceptance step), the noise grid, release costs and epsilon.
 */
#include <math.h>
#include <stdint.h>

#include "el_test.h"
#include "train/el_dgauss.h"
#include "train/el_dp_account.h"
#include "train/el_dp_release.h"
#include "train/el_grid_noise.h"

#define DRAWS 1000000u

/* |observed - expected| within 5 standard deviations of a binomial count (plus one for tiny rates). */
static int count_ok(uint32_t observed, double trials, double p)
{
    const double mean = trials * p;
    return fabs((double)observed - mean) <= 5.0 * sqrt(mean * (1.0 - p)) + 1.0;
}

static void test_bernoulli_exp(void)
{
    static const uint32_t num[] = {1, 1, 3, 8, 25};
    static const uint32_t den[] = {2, 1, 1, 1, 2};
    el_prng r;
    unsigned k;
    el_prng_seed(&r, 11u);
    for (k = 0; k < sizeof(num) / sizeof(num[0]); k++) {
        uint32_t hits = 0, i;
        const uint32_t trials = k < 3 ? DRAWS : 5u * DRAWS;
        for (i = 0; i < trials; i++) {
            hits += (uint32_t)el_dg_bern_exp(&r, num[k], den[k]);
        }
        /* exp(-0.5), exp(-1), exp(-3), exp(-8): 3.4e-4, exp(-12.5): 3.7e-6 (the acceptance at 6 sigma) */
        CHECK(count_ok(hits, trials, exp(-(double)num[k] / den[k])));
    }
    for (k = 0; k < 1000; k++) {
        CHECK(el_dg_uniform(&r, 7u) < 7u && el_dg_uniform(&r, 0x300000000ull) < 0x300000000ull);
    }
}

static void test_discrete_laplace_tail(void)
{
    /* P[|Y| >= m] = 2 exp(-m/t) / (1 + exp(-1/t)) for the discrete Laplace with parameter t */
    const uint32_t t = 2049u, m = 6u * 2048u;
    const double q = exp(-1.0 / t);
    uint32_t beyond = 0, i;
    el_prng r;
    el_prng_seed(&r, 12u);
    for (i = 0; i < DRAWS; i++) {
        const int32_t y = el_dg_laplace(&r, t);
        beyond += (uint32_t)(y >= (int32_t)m || y <= -(int32_t)m);
    }
    CHECK(count_ok(beyond, DRAWS, 2.0 * pow(q, m) / (1.0 + q)));
}

/* Exact mass function of N_Z(0, s^2) on [-lim, lim] (the rest is below 1e-30 for lim = 13 s). */
static void test_discrete_gaussian(uint32_t s, uint64_t seed)
{
    enum { BINS = 13 };
    double norm = 0.0, var_exact = 0.0, kurt_exact = 0.0, mean = 0.0, m2 = 0.0, m4 = 0.0, chi2 = 0.0;
    double expect[2 * BINS + 1];
    uint32_t counts[2 * BINS + 1];
    const int32_t lim = 13 * (int32_t)s;
    uint32_t beyond3 = 0, beyond4 = 0, i;
    double p3 = 0.0, p4 = 0.0;
    int32_t x;
    int b;
    el_prng r;

    for (b = 0; b < 2 * BINS + 1; b++) {
        expect[b] = 0.0;
        counts[b] = 0;
    }
    for (x = -lim; x <= lim; x++) { /* bins of width s/2 around 0, the outer ones open */
        const double w = exp(-(double)x * x / (2.0 * s * s));
        int bin = (int)floor((double)x / (0.5 * s) + 0.5) + BINS;
        bin = bin < 0 ? 0 : (bin > 2 * BINS ? 2 * BINS : bin);
        norm += w;
        var_exact += w * x * (double)x;
        kurt_exact += w * pow((double)x, 4);
        expect[bin] += w;
        p3 += (x >= 3 * (int32_t)s || x <= -3 * (int32_t)s) ? w : 0.0;
        p4 += (x >= 4 * (int32_t)s || x <= -4 * (int32_t)s) ? w : 0.0;
    }
    var_exact /= norm;
    kurt_exact /= norm;
    el_prng_seed(&r, seed);
    for (i = 0; i < DRAWS; i++) {
        const int32_t y = el_dg_gaussian(&r, s);
        int bin = (int)floor((double)y / (0.5 * s) + 0.5) + BINS;
        bin = bin < 0 ? 0 : (bin > 2 * BINS ? 2 * BINS : bin);
        counts[bin]++;
        mean += y;
        m2 += (double)y * y;
        m4 += pow((double)y, 4);
        beyond3 += (uint32_t)(y >= 3 * (int32_t)s || y <= -3 * (int32_t)s);
        beyond4 += (uint32_t)(y >= 4 * (int32_t)s || y <= -4 * (int32_t)s);
    }
    mean /= DRAWS;
    m2 /= DRAWS;
    m4 /= DRAWS;
    CHECK(fabs(mean) < 5.0 * sqrt(var_exact / DRAWS));
    CHECK(fabs(m2 / var_exact - 1.0) < 5.0 * sqrt(2.0 / DRAWS));
    CHECK(fabs(m4 / kurt_exact - 1.0) < 5.0 * sqrt(96.0 / 9.0 / DRAWS) + 0.01);
    for (b = 0; b < 2 * BINS + 1; b++) {
        const double e = expect[b] / norm * DRAWS;
        if (e >= 5.0) {
            chi2 += ((double)counts[b] - e) * ((double)counts[b] - e) / e;
        }
    }
    CHECK(chi2 < 60.0); /* < 27 degrees of freedom: p < 1e-4 */
    CHECK(count_ok(beyond3, DRAWS, p3 / norm) && count_ok(beyond4, DRAWS, p4 / norm));
}

static void test_grid_and_cost(void)
{
    el_dp_grid g;
    el_train_config c;
    CHECK(el_dp_isqrt_ceil(9684u) == 99u && el_dp_isqrt_ceil(9801u) == 99u && el_dp_isqrt_ceil(1u) == 1u);
    CHECK(el_dp_grid_make(1.0f, 1.0f, 9684u, &g) && g.exponent == -11 && g.sens == 2048u && g.scale == 2048u);
    CHECK(fabsf(g.clip_eff - 1948.0f / 2048.0f * (1.0f - 1.0f / 256.0f)) < 1e-6f);
    CHECK(el_dp_grid_make(0.5f, 0.8f, 100u, &g) && g.exponent == -13 && g.sens == 4096u && g.scale == 3277u);
    CHECK(!el_dp_grid_make(1.0f, 100.0f, 9684u, &g));  /* B = 32 < r + 2 */
    CHECK(!el_dp_grid_make(1.0f, 1e-12f, 9684u, &g));  /* B beyond 2^26 */
    CHECK(!el_dp_grid_make(1.0f, 0.0f, 9684u, &g) && !el_dp_grid_make(NAN, 1.0f, 9684u, &g));

    el_train_config_default(&c);
    c.clip_mode = EL_CLIP_EXAMPLE;
    c.noise_kind = EL_NOISE_GAUSSIAN;
    c.noise_mult = 1.0f;
    CHECK(el_dp_accountable(&c) && el_dp_appearances(&c, 6u) == 1u);
    c.noise_mode = EL_NOISE_EVERY_STEP;
    c.local_steps = 10;
    c.batch = 4;
    CHECK(el_dp_appearances(&c, 6u) == 7u);            /* ceil(10 * 4 / 6) */
    c.batch = 9;
    CHECK(el_dp_appearances(&c, 6u) == 10u);           /* the whole set every step */
    c.local_steps = 0;
    c.epochs = 3;
    CHECK(el_dp_appearances(&c, 6u) == 3u);
    c.noise_kind = EL_NOISE_LAPLACE;
    CHECK(!el_dp_accountable(&c));

    CHECK(el_dp_grid_make(1.0f, 1.0f, 9684u, &g));
    CHECK(el_dp_release_rho(&g, 1u) >= 2.0 && el_dp_release_rho(&g, 1u) < 2.0 * (1.0 + 1e-14));
    CHECK(el_dp_rho_add(2.0, 0.5) >= 2.5 && el_dp_rho_add(HUGE_VAL, 1.0) == HUGE_VAL);
    /* epsilon over the order grid, improved conversion (the same formula the host checks with dp-accounting) */
    CHECK(fabs(el_dp_epsilon(2.0, 1e-5) - 10.767592761968732) < 1e-9);
    CHECK(fabs(el_dp_epsilon(0.01, 1e-5) - 0.5466220208215335) < 1e-9);
    CHECK(el_dp_epsilon(0.0, 1e-5) == 0.0 && el_dp_epsilon(HUGE_VAL, 1e-5) == HUGE_VAL);
}

static void test_grid_noise(void)
{
    static float v[100];
    el_dp_grid g;
    el_prng r;
    uint32_t i;
    double sq = 0.0;
    CHECK(el_dp_grid_make(1.0f, 1.0f, 100u, &g)); /* B = 2048, s = 2048, r = 10 */
    /* a vector of norm 10 C: its clipped, rounded norm stays within B; the noise has the variance s^2 */
    for (i = 0; i < 100; i++) {
        v[i] = 1.0f;
    }
    el_prng_seed(&r, 3u);
    CHECK(el_grid_noise_f32(v, 100, &g, g.clip_eff / 10.0f, (float)g.sens, 1, &r) == 1);
    for (i = 0; i < 100; i++) {
        sq += (double)v[i] * v[i];
    }
    CHECK(fabs(sq / 100.0 - (1.0 + g.clip_eff * g.clip_eff / 100.0)) < 0.35);
    /* a vector past B in grid units after rounding: the exact check zeroes it, noise still comes */
    for (i = 0; i < 100; i++) {
        v[i] = 0.5f;
    }
    CHECK(el_grid_noise_f32(v, 100, &g, 1.0f, (float)g.sens, 1, &r) == 0);
    /* not finite: NaN and infinities become 0 before the noise */
    v[0] = NAN;
    v[1] = INFINITY;
    CHECK(el_grid_noise_f32(v, 2, &g, 1.0f, (float)g.sens, 1, &r) == 1 && isfinite(v[0]) && isfinite(v[1]));
}

static void test_release_decision(void)
{
    el_release_facts f;
    el_release_cost cost;
    el_train_config c;
    el_dp_floor bad = {-1.0, 1e-5}, nan_floor = {NAN, 1e-5}, wide = {8.0, 0.5}, none = {0.0, 1e-5};
    CHECK(el_dp_floor_active(&bad) && !el_dp_floor_valid(&bad) && el_dp_floor_active(&nan_floor)
          && !el_dp_floor_valid(&nan_floor) && !el_dp_floor_valid(&wide) && !el_dp_floor_active(&none)
          && el_dp_floor_valid(&none) && el_dp_floor_delta(&wide) == 1e-5);

    f.floor.epsilon = 8.0;
    f.floor.delta = 1e-5;
    f.max_work = 1e6;
    f.params = 9684u;
    f.samples = 4u;
    f.weak_entropy = 0;
    f.testing = 0;
    f.rho_spent = 0.0;
    el_train_config_default(&c);
    CHECK(el_dp_release_check(&c, &f, &cost) == EL_RELEASE_FLOOR); /* no noise under a floor */
    c.clip_mode = EL_CLIP_UPDATE;
    c.clip_norm = 1.0f;
    c.noise_kind = EL_NOISE_GAUSSIAN;
    c.noise_mult = 4.0f;
    CHECK(el_dp_release_check(&c, &f, &cost) == EL_RELEASE_OK && cost.has_grid && cost.appearances == 1u);
    CHECK(cost.rho == el_dp_release_rho(&cost.grid, 1u) && cost.total == el_dp_rho_add(0.0, cost.rho));
    f.rho_spent = 1.0; /* eps(1 + 1/8) at 1e-5 is 7.59: still within 8 */
    CHECK(el_dp_release_check(&c, &f, &cost) == EL_RELEASE_OK);
    f.rho_spent = 1.2; /* eps(1.325) is 8.39: refused, nothing to charge */
    CHECK(el_dp_release_check(&c, &f, &cost) == EL_RELEASE_BUDGET);
    f.rho_spent = 0.0;
    f.weak_entropy = 1;
    CHECK(el_dp_release_check(&c, &f, &cost) == EL_RELEASE_ENTROPY);
    f.testing = 1;
    CHECK(el_dp_release_check(&c, &f, &cost) == EL_RELEASE_OK);
    c.local_steps = 100;
    c.batch = 4;
    CHECK(el_dp_release_check(&c, &f, &cost) == EL_RELEASE_WORK); /* 100 x 4 x 9684 > 1e6 */
    f.floor = bad;
    CHECK(el_dp_release_check(&c, &f, &cost) == EL_RELEASE_FLOOR_INVALID);
    /* without a floor: anything in range is released, and the account says unbounded */
    f.floor = none;
    c.local_steps = 1;
    c.noise_kind = EL_NOISE_LAPLACE;
    CHECK(el_dp_release_check(&c, &f, &cost) == EL_RELEASE_OK && !cost.has_grid && cost.total == HUGE_VAL);
}

void el_test_dp(void)
{
    test_release_decision();
    test_bernoulli_exp();
    test_discrete_laplace_tail();
    test_discrete_gaussian(3u, 21u);
    test_discrete_gaussian(2048u, 22u);
    test_grid_and_cost();
    test_grid_noise();
}
