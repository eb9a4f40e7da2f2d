/**
 * @file el_op_params.h
 * @brief Opcodes and op parameter slots of the model artifact's op record (docs/model-format.md).
 *
 * Generated from edgeleak/quantize/op_spec.py (python -m edgeleak.quantize.op_spec); do not edit.
 * EL_P_<LAYOUT>_<NAME> is the index into the record's i32 p[EL_OP_N_PARAMS] of a parameter.
 */
#ifndef EL_OP_PARAMS_H
#define EL_OP_PARAMS_H

#define EL_OP_N_PARAMS 15

/* Opcodes. */
enum {
    EL_OP_FULLY_CONNECTED = 1,
    EL_OP_CONV_2D = 2,
    EL_OP_DEPTHWISE_CONV_2D = 3,
    EL_OP_AVERAGE_POOL_2D = 4,
    EL_OP_MAX_POOL_2D = 5,
    EL_OP_MEAN = 6,
    EL_OP_RESHAPE = 7,
    EL_OP_QUANTIZE = 8,
    EL_OP_DEQUANTIZE = 9,
    EL_OP_SOFTMAX = 10
};

/* Layout FC (FULLY_CONNECTED). */
#define EL_P_FC_INPUT_OFFSET 0
#define EL_P_FC_OUTPUT_OFFSET 1
#define EL_P_FC_ACT_MIN 2
#define EL_P_FC_ACT_MAX 3
#define EL_P_FC_ACCUM_DEPTH 4
#define EL_P_FC_OUT_DEPTH 5

/* Layout CONV (CONV_2D, DEPTHWISE_CONV_2D). */
#define EL_P_CONV_INPUT_OFFSET 0
#define EL_P_CONV_OUTPUT_OFFSET 1
#define EL_P_CONV_ACT_MIN 2
#define EL_P_CONV_ACT_MAX 3
#define EL_P_CONV_STRIDE_W 4
#define EL_P_CONV_STRIDE_H 5
#define EL_P_CONV_DILATION_W 6
#define EL_P_CONV_DILATION_H 7
#define EL_P_CONV_PAD_W 8
#define EL_P_CONV_PAD_H 9
#define EL_P_CONV_DEPTH_MULTIPLIER 10

/* Layout POOL (AVERAGE_POOL_2D, MAX_POOL_2D). */
#define EL_P_POOL_ACT_MIN 2
#define EL_P_POOL_ACT_MAX 3
#define EL_P_POOL_STRIDE_W 4
#define EL_P_POOL_STRIDE_H 5
#define EL_P_POOL_FILTER_W 6
#define EL_P_POOL_FILTER_H 7
#define EL_P_POOL_PAD_W 8
#define EL_P_POOL_PAD_H 9

/* Layout MEAN (MEAN). */
#define EL_P_MEAN_INPUT_ZERO_POINT 0
#define EL_P_MEAN_OUTPUT_ZERO_POINT 1
#define EL_P_MEAN_MULTIPLIER 2
#define EL_P_MEAN_SHIFT 3
#define EL_P_MEAN_AXIS_MASK 4
#define EL_P_MEAN_KEEP_DIMS 5

/* Layout REQUANTIZE (QUANTIZE). */
#define EL_P_REQUANTIZE_INPUT_ZERO_POINT 0
#define EL_P_REQUANTIZE_OUTPUT_ZERO_POINT 1
#define EL_P_REQUANTIZE_MULTIPLIER 2
#define EL_P_REQUANTIZE_SHIFT 3

/* Layout SOFTMAX (SOFTMAX). */
#define EL_P_SOFTMAX_INPUT_MULTIPLIER 0
#define EL_P_SOFTMAX_INPUT_LEFT_SHIFT 1
#define EL_P_SOFTMAX_DIFF_MIN 2

/* Layout NONE (RESHAPE, DEQUANTIZE): no parameters. */

#endif /* EL_OP_PARAMS_H */
