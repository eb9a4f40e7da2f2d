/** @file el_dense_forward_f32.c @brief Dense layer forward pass, float32, on theta = theta_0 + d. */
#include "train/el_train_kernels.h"

/* One row's sum, k in order (the order every caller and the oracle's tolerance rely on). */
static float row_dot(const float *w, const float *dw, const float *x, uint32_t n)
{
    float acc = 0.0f;
    uint32_t k = 0;
    for (; k + 4u <= n; k += 4u) {
        acc += (w[k] + dw[k]) * x[k];
        acc += (w[k + 1u] + dw[k + 1u]) * x[k + 1u];
        acc += (w[k + 2u] + dw[k + 2u]) * x[k + 2u];
        acc += (w[k + 3u] + dw[k + 3u]) * x[k + 3u];
    }
    for (; k < n; k++) {
        acc += (w[k] + dw[k]) * x[k];
    }
    return acc;
}

static float finish(float acc, float b, int relu)
{
    const float y = acc + b;
    return (relu && !(y > 0.0f)) ? 0.0f : y;
}

void el_dense_forward_f32(const float *p0, const float *dp, const float *x, uint16_t n_in, uint16_t n_out, int relu,
                          float *y)
{
    const uint32_t nw = (uint32_t)n_in * n_out;
    const float *b0 = p0 + nw, *db = dp + nw;
    uint32_t j = 0, k;
    /* two rows at a time share each load of x; each row's sum keeps its order */
    for (; j + 2u <= n_out; j += 2u) {
        const float *r0 = p0 + j * (uint32_t)n_in, *d0 = dp + j * (uint32_t)n_in;
        const float *r1 = r0 + n_in, *d1 = d0 + n_in;
        float a0 = 0.0f, a1 = 0.0f;
        for (k = 0; k + 2u <= n_in; k += 2u) {
            const float x0 = x[k], x1 = x[k + 1u];
            a0 += (r0[k] + d0[k]) * x0;
            a1 += (r1[k] + d1[k]) * x0;
            a0 += (r0[k + 1u] + d0[k + 1u]) * x1;
            a1 += (r1[k + 1u] + d1[k + 1u]) * x1;
        }
        if (k < n_in) {
            a0 += (r0[k] + d0[k]) * x[k];
            a1 += (r1[k] + d1[k]) * x[k];
        }
        y[j] = finish(a0, b0[j] + db[j], relu);
        y[j + 1u] = finish(a1, b0[j + 1u] + db[j + 1u], relu);
    }
    if (j < n_out) {
        y[j] = finish(row_dot(p0 + j * (uint32_t)n_in, dp + j * (uint32_t)n_in, x, n_in), b0[j] + db[j], relu);
    }
}
