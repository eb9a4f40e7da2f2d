/**
 * @file el_train_kernels.h
 * @brief Float32 kernels of on-device training (docs/training.md): dense layers, softmax
 *        cross-entropy, L2 norms and clipping, noise, float16 and int8 encodings.
 *
 * Pure functions: no I/O, no allocation, no global state. Matrices are row-major `W[out][in]`.
 * One public function per file.
 */
#ifndef EL_TRAIN_KERNELS_H
#define EL_TRAIN_KERNELS_H

#include <stdint.h>

#include "train/el_prng.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * y = W x + b (the sum W x first, then + b), optionally y = relu(y) (y > 0 ? y : 0), on the layer's weights
 * theta = theta_0 + d: every weight and bias is the float32 sum p0[i] + dp[i] as it is read (docs/training.md).
 * @param p0 the layer's global parameters, W [n_out][n_in] then b [n_out] (el_head.h)  @param dp the same of d
 * @param x [n_in]   @param y [n_out] (must not alias x)
 */
void el_dense_forward_f32(const float *p0, const float *dp, const float *x, uint16_t n_in, uint16_t n_out, int relu,
                          float *y);

/**
 * Backward to the layer's input through the ReLU that produced it:
 * dx[k] = (sum_j W[j][k] dy[j]) when a[k] > 0, else 0, with W[j][k] = w0[j][k] + dw[j][k] (theta = theta_0 + d).
 * @param w0 [n_out][n_in]  @param dw [n_out][n_in]  @param dy [n_out]  @param a [n_in] the layer's input (relu output)
 * @param dx [n_in]
 */
void el_dense_backward_f32(const float *w0, const float *dw, const float *dy, const float *a, uint16_t n_in,
                           uint16_t n_out, float *dx);

/**
 * Accumulate c times one example's gradient: gw[j][k] += (c dy[j]) a[k], gb[j] += c dy[j].
 * @param gw [n_out][n_in]  @param gb [n_out]  @param dy [n_out]  @param a [n_in]
 */
void el_dense_grad_accumulate_f32(float *gw, float *gb, const float *dy, const float *a, uint16_t n_in,
                                  uint16_t n_out, float c);

/**
 * The first example of a step, in one pass: gw[j][k] = decay gw[j][k] + (c dy[j]) a[k], gb[j] = decay gb[j] + c dy[j]
 * (the same values as scaling by decay, then el_dense_grad_accumulate_f32). decay = 0 starts a sum, whatever it held
 * if finite.
 */
void el_dense_grad_start_f32(float *gw, float *gb, const float *dy, const float *a, uint16_t n_in, uint16_t n_out,
                             float c, float decay);

/**
 * Softmax cross-entropy of logits z[0..n) for class `label` (< n).
 * On return z holds the gradient wrt the logits, p - onehot(label), with
 * p = exp(z - max z) / sum. Returns the loss -log p[label], computed as log(sum) - (z[label] - max z).
 */
float el_softmax_xent_f32(float *z, uint16_t n, uint16_t label);

/** sum of v[i]^2 over n, float32 with Kahan compensation. */
float el_sum_squares_f32(const float *v, uint32_t n);

/** *sum += v^2 with Kahan compensation *comp, as el_sum_squares_f32 does element by element. */
static inline void el_kahan_add_sq(float v, float *sum, float *comp)
{
    const float y = v * v - *comp;
    const float t = *sum + y;
    *comp = (t - *sum) - y;
    *sum = t;
}

/** The clipping factor min(1, C / norm): 1 when norm <= C or norm == 0, else C / norm. */
float el_clip_scale_f32(float norm, float clip);

/**
 * Clip a vector to L2 norm C: v *= el_clip_scale_f32(||v||, C). Returns ||v|| before clipping.
 */
float el_clip_l2_f32(float *v, uint32_t n, float clip);

/**
 * v[i] += scale * draw for i = 0..n-1 in order, draw ~ N(0, 1) (kind 1) or Laplace(0, 1) (kind 2),
 * then multiplied by `post` (e.g. 1/B for the batch mean): v[i] += (scale * draw) * post.
 * kind 0 does nothing and consumes no draws.
 */
void el_add_noise_f32(float *v, uint32_t n, uint8_t kind, float scale, float post, el_prng *rng);

/** IEEE binary16 bits of f: round to nearest even, saturating to +-65504 (infinities too); NaN -> 0x7E00 | sign. */
uint16_t el_f32_to_f16(float f);

/** Per-tensor int8 scale: max|v| / 127, or 1 when max|v| == 0. */
float el_int8_scale_f32(float max_abs);

/** clamp(round_half_away(v / s), -127, 127); NaN -> 0. */
int8_t el_int8_quantize_f32(float v, float s);

#ifdef __cplusplus
}
#endif

#endif /* EL_TRAIN_KERNELS_H */
