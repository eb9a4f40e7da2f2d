/** @file el_dp_release.c @brief The release decision: floor, compute cap, entropy and budget. */
#include "train/el_dp_release.h"

#include <math.h>

int el_dp_floor_active(const el_dp_floor *f) { return !(f->epsilon == 0.0); }

int el_dp_floor_valid(const el_dp_floor *f)
{
    if (!el_dp_floor_active(f)) {
        return 1;
    }
    return f->epsilon > 0.0 && f->epsilon < 1e6 && f->delta > 0.0 && f->delta <= 1e-3;
}

double el_dp_floor_delta(const el_dp_floor *f)
{
    return el_dp_floor_active(f) && el_dp_floor_valid(f) ? f->delta : 1e-5;
}

el_release_status el_dp_release_check(const el_train_config *c, const el_release_facts *facts, el_release_cost *cost)
{
    const uint32_t width = c->batch < facts->samples ? c->batch : facts->samples;
    const double work = (double)facts->params
                      * (c->local_steps > 0u ? (double)c->local_steps * width : (double)c->epochs * facts->samples);
    const int floored = el_dp_floor_active(&facts->floor);

    if (!el_dp_floor_valid(&facts->floor)) {
        return EL_RELEASE_FLOOR_INVALID;
    }
    if (el_train_config_check_floor(c, floored) != EL_CFG_OK) {
        return EL_RELEASE_FLOOR;
    }
    if (work > facts->max_work) {
        return EL_RELEASE_WORK;
    }
    if (c->noise_kind != EL_NOISE_NONE && facts->weak_entropy && !facts->testing) {
        return EL_RELEASE_ENTROPY;
    }
    cost->has_grid = c->noise_kind == EL_NOISE_GAUSSIAN && c->noise_mult > 0.0f
                  && el_dp_grid_make(c->clip_norm, c->noise_mult, facts->params, &cost->grid);
    cost->appearances = 0;
    cost->rho = HUGE_VAL;
    if (cost->has_grid && el_dp_accountable(c)) {
        cost->appearances = el_dp_appearances(c, facts->samples);
        cost->rho = el_dp_release_rho(&cost->grid, cost->appearances);
    }
    cost->total = el_dp_rho_add(facts->rho_spent, cost->rho);
    if (floored && !(el_dp_epsilon(cost->total, facts->floor.delta) <= facts->floor.epsilon)) {
        return EL_RELEASE_BUDGET;
    }
    return EL_RELEASE_OK;
}
