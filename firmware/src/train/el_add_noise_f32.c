/** @file el_add_noise_f32.c @brief Add Gaussian or Laplace noise to a vector, draws in index order. */
#include "train/el_train_kernels.h"

void el_add_noise_f32(float *v, uint32_t n, uint8_t kind, float scale, float post, el_prng *rng)
{
    uint32_t i;
    if (kind == 1u) {
        for (i = 0; i < n; i++) {
            v[i] += (scale * el_prng_gaussian(rng)) * post;
        }
    } else if (kind == 2u) {
        for (i = 0; i < n; i++) {
            v[i] += (scale * el_prng_laplace(rng)) * post;
        }
    }
}
