/**
 * @file el_dp_release.h
 * @brief Whether the device may release an update, and what it costs (docs/training.md, "The privacy floor and
 *        the budget"): the build's floor, the compute cap, the entropy source and the budget, as one pure decision
 *        taken before anything is computed. It depends on the configuration, the build and N, never on the data.
 */
#ifndef EL_DP_RELEASE_H
#define EL_DP_RELEASE_H

#include <stdint.h>

#include "train/el_dp_account.h"
#include "train/el_train_config.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The build's floor: epsilon 0 = no floor; anything else is a floor, valid only when finite, > 0, delta in (0, 1e-3]. */
typedef struct {
    double epsilon;
    double delta;
} el_dp_floor;

/** 1 when the build has a floor (any epsilon but an exact 0, so that NaN or a negative value fails closed). */
int el_dp_floor_active(const el_dp_floor *f);

/** 1 when there is no floor, or a floor the device can enforce. */
int el_dp_floor_valid(const el_dp_floor *f);

/** The delta epsilon is reported at: the floor's, or 1e-5 without a (valid) floor. */
double el_dp_floor_delta(const el_dp_floor *f);

typedef enum {
    EL_RELEASE_OK = 0,
    EL_RELEASE_FLOOR_INVALID, /**< the build's floor constants are invalid: E_FLOOR */
    EL_RELEASE_FLOOR,         /**< a floored build cannot account this configuration: E_FLOOR */
    EL_RELEASE_WORK,          /**< over the compute cap: E_CONFIG */
    EL_RELEASE_ENTROPY,       /**< noise on a weak entropy source outside testing builds: E_ENTROPY */
    EL_RELEASE_BUDGET         /**< the release would take epsilon past the floor: E_BUDGET */
} el_release_status;

/** What the build, the board and the store bring to the decision. */
typedef struct {
    el_dp_floor floor;
    double max_work;      /**< example-parameter products per round */
    uint32_t params;      /**< P */
    uint32_t samples;     /**< N >= 1 */
    int weak_entropy;     /**< the PRNG key came from a weak source */
    int testing;          /**< a build marked for testing */
    double rho_spent;     /**< the store's total so far */
} el_release_facts;

/** The cost of an allowed release: the grid (when the noise is discrete Gaussian), A, rho and the new total. */
typedef struct {
    int has_grid;
    el_dp_grid grid;
    uint32_t appearances; /**< A; 0 when the release is not accountable */
    double rho;           /**< +inf when not accountable */
    double total;         /**< rho_spent + rho, rounded up */
} el_release_cost;

/** Decide, in the order of the enum, and fill cost when the answer is EL_RELEASE_OK. */
el_release_status el_dp_release_check(const el_train_config *c, const el_release_facts *facts, el_release_cost *cost);

#ifdef __cplusplus
}
#endif

#endif /* EL_DP_RELEASE_H */
