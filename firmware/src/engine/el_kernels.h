/**
 * @file el_kernels.h
 * @brief int8 inference kernels, bit-exact with TensorFlow Lite Micro's
 *        reference kernels (default double rounding).
 *
 * Each kernel is a pure function (no allocation, no I/O, no global state) in
 * its own file. All prepare-time values (multipliers, shifts, padding,
 * activation clamps) are passed in; the kernels only compute.
 *
 * Common conventions:
 * - Activation tensors are int8, NHWC, row-major, densely packed.
 * - input_offset = -input_zero_point in [-127, 128];
 *   output_offset = output_zero_point in [-128, 127].
 * - act_min <= act_max, both in [-128, 127] (ReLU / ReLU6 folded in).
 * - Multipliers are Q31 in [0, 2^31 - 1]; shifts in [-31, 30], positive = left.
 * - Every pointer argument must be valid for the stated element count; the
 *   kernels do not bounds-check (el_model_load() does, once).
 * - Accumulators are int32 and wrap modulo 2^32 (TFLite assumes no overflow).
 */
#ifndef EL_KERNELS_H
#define EL_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include "el_status.h"

/** A 4-D NHWC shape (for 1-D models, H = 1). Each dimension >= 1. */
typedef struct {
    int32_t n; /**< batches */
    int32_t h; /**< height (rows) */
    int32_t w; /**< width (columns, time for 1-D models) */
    int32_t c; /**< channels (innermost) */
} el_dims;

/**
 * Output requantization: out = MBQM(acc, multiplier[k], shift[k]) for output
 * channel k, or always index 0 when n == 1 (per-tensor).
 */
typedef struct {
    const int32_t *multiplier; /**< n Q31 values in [0, 2^31 - 1] */
    const int32_t *shift;      /**< n values in [-31, 30] */
    uint32_t n;                /**< 1 (per-tensor) or the number of output channels */
} el_requant;

/** FULLY_CONNECTED parameters. */
typedef struct {
    int32_t input_offset;  /**< -input_zero_point */
    int32_t filter_offset; /**< -weights_zero_point (0 for symmetric int8 weights) */
    int32_t output_offset; /**< output_zero_point */
    int32_t act_min;       /**< [-128, 127] */
    int32_t act_max;       /**< [act_min, 127] */
} el_fc_params;

/** CONV_2D / DEPTHWISE_CONV_2D parameters. */
typedef struct {
    int32_t input_offset;     /**< -input_zero_point */
    int32_t output_offset;    /**< output_zero_point */
    int32_t act_min;          /**< [-128, 127] */
    int32_t act_max;          /**< [act_min, 127] */
    int32_t stride_w;         /**< >= 1 */
    int32_t stride_h;         /**< >= 1 */
    int32_t dilation_w;       /**< >= 1 */
    int32_t dilation_h;       /**< >= 1 */
    int32_t pad_w;            /**< >= 0, left padding */
    int32_t pad_h;            /**< >= 0, top padding */
    int32_t depth_multiplier; /**< depthwise only: >= 1, output channels = input channels * depth_multiplier */
} el_conv_params;

/** AVERAGE_POOL_2D / MAX_POOL_2D parameters. */
typedef struct {
    int32_t stride_w; /**< >= 1 */
    int32_t stride_h; /**< >= 1 */
    int32_t filter_w; /**< >= 1 */
    int32_t filter_h; /**< >= 1 */
    int32_t pad_w;    /**< >= 0, left padding */
    int32_t pad_h;    /**< >= 0, top padding */
    int32_t act_min;  /**< [-128, 127] */
    int32_t act_max;  /**< [act_min, 127] */
} el_pool_params;

/**
 * Fully connected layer (TFLite reference_integer_ops::FullyConnected /
 * FullyConnectedPerChannel).
 *
 * out[b][o] = clamp(MBQM(sum_d (w[o][d] + filter_offset) * (in[b][d] + input_offset)
 *                        + bias[o], mult[o], shift[o]) + output_offset, act_min, act_max)
 *
 * @param input   int8 [batches][accum_depth]
 * @param weights int8 [out_depth][accum_depth], row-major
 * @param bias    int32 [out_depth], or NULL
 * @param rq      n == 1 or n == out_depth
 * @param output  int8 [batches][out_depth]
 * @return EL_OK, or EL_ERR_ARG for a non-positive size or an rq.n that fits neither case
 */
el_status el_fully_connected_s8(const el_fc_params *params, const el_requant *rq,
                                int32_t batches, int32_t accum_depth, int32_t out_depth,
                                const int8_t *input, const int8_t *weights,
                                const int32_t *bias, int8_t *output);

/**
 * 2-D convolution, per-channel quantized filter (TFLite
 * reference_integer_ops::ConvPerChannel), including grouped convolution
 * (groups = in.c / filter.c). Padded positions contribute nothing.
 *
 * @param in_dims     NHWC input shape
 * @param input       int8 [in.n][in.h][in.w][in.c]
 * @param filter_dims OHWI filter shape: n = output channels, c = input channels per group
 * @param filter      int8 [out_c][fh][fw][filter.c]
 * @param bias        int32 [out_c], or NULL
 * @param out_dims    NHWC output shape; out.n == in.n, out.c == filter.n
 * @param output      int8 [out.n][out.h][out.w][out.c]
 * @param rq          n == 1 or n == out.c
 * @return EL_OK, or EL_ERR_ARG for inconsistent shapes
 */
el_status el_conv_s8(const el_conv_params *params, const el_requant *rq,
                     const el_dims *in_dims, const int8_t *input,
                     const el_dims *filter_dims, const int8_t *filter,
                     const int32_t *bias,
                     const el_dims *out_dims, int8_t *output);

/**
 * Depthwise 2-D convolution (TFLite reference_integer_ops::DepthwiseConvPerChannel).
 * Output channel k = in_channel * depth_multiplier + m.
 *
 * @param filter_dims [1][fh][fw][out_c] (n must be 1, c == out.c == in.c * depth_multiplier)
 * @param filter      int8 [fh][fw][out_c]
 * @param bias        int32 [out_c], or NULL
 * @param rq          n == 1 or n == out.c
 * @return EL_OK, or EL_ERR_ARG for inconsistent shapes
 */
el_status el_depthwise_conv_s8(const el_conv_params *params, const el_requant *rq,
                               const el_dims *in_dims, const int8_t *input,
                               const el_dims *filter_dims, const int8_t *filter,
                               const int32_t *bias,
                               const el_dims *out_dims, int8_t *output);

/**
 * Average pooling (TFLite reference_integer_ops::AveragePool for int8).
 * Only input positions inside the image are summed and counted (padding is
 * excluded from the divisor); the average is rounded half away from zero:
 * (sum +/- count/2) / count with C truncating division. No zero point
 * arithmetic (input and output share scale and zero point).
 *
 * @return EL_OK, EL_ERR_ARG when a window contains no input position (TFLite
 *         fails the op in that case) or for inconsistent shapes
 */
el_status el_avgpool_s8(const el_pool_params *params,
                        const el_dims *in_dims, const int8_t *input,
                        const el_dims *out_dims, int8_t *output);

/**
 * Max pooling (TFLite reference_integer_ops::MaxPool): max over the in-image
 * window positions (-128 if none), clamped to [act_min, act_max].
 */
el_status el_maxpool_s8(const el_pool_params *params,
                        const el_dims *in_dims, const int8_t *input,
                        const el_dims *out_dims, int8_t *output);

/**
 * MEAN over any set of axes of a tensor of rank <= 4, as TFLite Micro runs
 * int8 MEAN (reference_ops::QuantizedMeanOrSum, compute_sum = false): the
 * integer sum over the reduced axes, minus in_zp * count, multiplied by the
 * (s_in / s_out) multiplier divided by count, where the division is folded into
 * the multiplier exactly as TFLite does:
 *   k = min(floor(log2(count)), 32, 31 + shift);
 *   multiplier' = (multiplier << k) / count (int64, truncating); shift' = shift - k.
 * Output order is row-major over the kept axes (keep_dims does not change the
 * bytes).
 *
 * @param dims       shape, dims[0] outermost; each >= 1
 * @param rank       1..4
 * @param axis_mask  bit i set = reduce over dims[i]; bits >= rank ignored
 * @param multiplier Q31 of s_in / s_out, shift in [-31, 30]
 * @param output     int8 [product of the kept dims]
 */
el_status el_mean_s8(const int8_t *input, const int32_t *dims, int rank, uint32_t axis_mask,
                     int32_t in_zp, int32_t out_zp, int32_t multiplier, int32_t shift,
                     int8_t *output);

/**
 * Softmax over the innermost dimension, int8 in, int8 out with output scale
 * 1/256 and zero point -128 (TFLite reference_ops::Softmax, gemmlowp
 * fixed-point path; the path TFLite Micro takes for int8 -> int8).
 *
 * @param input_multiplier, input_left_shift, diff_min as TFLite Micro's
 *        CalculateSoftmaxParams (beta * s_in * 2^26 quantized with
 *        QuantizeMultiplierGreaterThanOne; left shift in [0, 30]; diff_min <= 0)
 * @param outer  number of rows
 * @param depth  row length (classes)
 */
el_status el_softmax_s8(const int8_t *input, int32_t outer, int32_t depth,
                        int32_t input_multiplier, int32_t input_left_shift, int32_t diff_min,
                        int8_t *output);

/**
 * float32 -> int8 (TFLite reference_ops::AffineQuantize):
 * q = clamp(roundf(x / scale) + zero_point, -128, 127), roundf = half away from
 * zero, in single precision. NaN maps to zero_point; values beyond int32 range
 * saturate (TFLite's cast is undefined there).
 */
el_status el_quantize_f32_s8(const float *input, uint32_t count, float scale, int32_t zero_point,
                             int8_t *output);

/**
 * int8 -> int8 requantization (TFLite reference_ops::Requantize):
 * q = clamp(MBQM(x - in_zp, multiplier, shift) + out_zp, -128, 127).
 */
el_status el_requantize_s8(const int8_t *input, uint32_t count, int32_t in_zp, int32_t out_zp,
                           int32_t multiplier, int32_t shift, int8_t *output);

/**
 * int8 -> float32 (TFLite reference_ops::Dequantize):
 * x = scale * (q - zero_point). Computed in single precision, which equals
 * TFLite's (float)((double)scale * (q - zp)) because the double product of a
 * 24-bit mantissa and a 9-bit integer is exact.
 */
el_status el_dequantize_s8_f32(const int8_t *input, uint32_t count, float scale, int32_t zero_point,
                               float *output);

#endif /* EL_KERNELS_H */
