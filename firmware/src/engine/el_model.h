/**
 * @file el_model.h
 * @brief Loads a model artifact (docs/model-format.md) and runs its int8 graph.
 *
 * No allocation: the caller owns the model struct and the arena. The artifact
 * is untrusted input; el_model_load() bounds every count, offset and size and
 * prepares each op once (el_ops.h: its registration checks the op and stores
 * its parameters typed in el_op.data); el_model_invoke() only calls each op's eval.
 */
#ifndef EL_MODEL_H
#define EL_MODEL_H

#include <stdint.h>
#include "el_kernels.h"
#include "el_status.h"

/* The model's tables: the build of a given model sizes them to it (-DEL_MAX_TENSORS=N -DEL_MAX_OPS=M, as
   edgeleak's board builds do); a larger artifact is refused at load. */
#ifndef EL_MAX_TENSORS
#define EL_MAX_TENSORS 64
#endif
#ifndef EL_MAX_OPS
#define EL_MAX_OPS 64
#endif
#if EL_MAX_TENSORS < 1 || EL_MAX_TENSORS > 64 || EL_MAX_OPS < 1 || EL_MAX_OPS > 64
#error "EL_MAX_TENSORS and EL_MAX_OPS are 1 .. 64"
#endif
#define EL_MODEL_HASH_LEN 32

/** Per-tensor view resolved at load time. data points into the artifact (constants) or the arena. */
typedef struct {
    uint8_t type;          /**< 1 int8, 2 int32, 3 float32 */
    uint8_t rank;          /**< 0..4 */
    uint8_t flags;         /**< bit0 const, bit1 per-channel */
    uint8_t quant_dim;
    int32_t dims[4];
    uint8_t *data;         /**< const data is never written (cast away only for uniform access) */
    uint32_t size;         /**< bytes */
    float scale;
    int32_t zero_point;
} el_tensor;

struct el_model;
struct el_op;

/** An op's eval: runs its kernel on the model's tensors with the parameters its prepare stored in op->data. */
typedef el_status (*el_op_eval_fn)(struct el_model *m, const struct el_op *op);

/** FULLY_CONNECTED, prepared: the kernel's arguments but the tensor data. */
typedef struct {
    el_fc_params params;
    el_requant rq;
    int32_t batches;     /**< output elements / out_depth */
    int32_t accum_depth; /**< weights dims[1] */
    int32_t out_depth;   /**< weights dims[0] */
} el_fc_data;

/** CONV_2D and DEPTHWISE_CONV_2D, prepared; shapes are the tensors' (NHWC). */
typedef struct {
    el_conv_params params;
    el_requant rq;
} el_conv_data;

/** MEAN, prepared; the input's dims and rank are the tensor's. */
typedef struct {
    uint32_t axis_mask;  /**< bit i = reduce over dims[i], only bits < rank */
    int32_t in_zp;       /**< [-128, 127] */
    int32_t out_zp;      /**< [-128, 127] */
    int32_t multiplier;  /**< Q31 of s_in / s_out */
    int32_t shift;       /**< [-31, 30] */
} el_mean_data;

/** QUANTIZE, prepared: float32 -> int8 (scale, out_zp of the output) or int8 -> int8 (requantize). */
typedef struct {
    uint32_t count;      /**< elements */
    int32_t from_float;  /**< 1: float32 input */
    float scale;         /**< float32 input: the output's scale, > 0 */
    int32_t in_zp;       /**< int8 input: [-128, 127] */
    int32_t out_zp;      /**< [-128, 127] */
    int32_t multiplier;  /**< int8 input: Q31 */
    int32_t shift;       /**< int8 input: [-31, 30] */
} el_quantize_data;

/** DEQUANTIZE, prepared: the input's quantization. */
typedef struct {
    uint32_t count;
    float scale;
    int32_t zero_point;
} el_dequantize_data;

/** SOFTMAX, prepared: rows of the innermost dimension. */
typedef struct {
    int32_t outer;            /**< rows */
    int32_t depth;            /**< innermost dimension */
    int32_t input_multiplier; /**< >= 0 */
    int32_t input_left_shift; /**< [0, 30] */
    int32_t diff_min;         /**< <= 0 */
} el_softmax_data;

/** An op's parameters as its prepare left them (RESHAPE has none). */
typedef union {
    el_fc_data fc;
    el_conv_data conv;
    el_pool_params pool;
    el_mean_data mean;
    el_quantize_data quantize;
    el_dequantize_data dequantize;
    el_softmax_data softmax;
} el_op_data;

/** One op, prepared at load (docs/model-format.md, op record; el_ops.h, registrations). */
typedef struct el_op {
    uint8_t opcode;
    uint8_t n_inputs;
    uint16_t inputs[3];  /**< 0xFFFF for an absent input */
    uint16_t output;
    el_op_eval_fn eval;  /**< the opcode's registered eval */
    el_op_data data;     /**< filled by the opcode's prepare */
} el_op;

typedef struct el_model {
    const uint8_t *artifact;
    uint32_t artifact_len;
    uint16_t n_tensors, n_ops;
    uint16_t input, output, cut;   /**< cut is 0xFFFF when the whole network is the head */
    uint32_t arena_size;
    el_tensor tensors[EL_MAX_TENSORS];
    el_op ops[EL_MAX_OPS];
    const uint8_t *head;           /**< HEAD section or NULL */
    uint32_t head_len;
} el_model;

/**
 * Parse and validate an artifact; bind non-constant tensors into arena[0..arena_len).
 *
 * @param artifact     the artifact bytes; must be 4-byte aligned (int32/float data is read in place)
 *                     and stay valid while the model is used
 * @param artifact_len bytes available; the header's total size must not exceed it
 * @param arena        4-byte aligned scratch for activations (NULL only when arena_len is 0)
 * @param arena_len    must be >= the header's arena size (else EL_ERR_ARENA)
 * @return EL_OK; EL_ERR_ARG (NULL or misaligned buffer), EL_ERR_MAGIC, EL_ERR_VERSION, EL_ERR_CRC,
 *         EL_ERR_BOUNDS (a count, index, offset, size or parameter out of range), EL_ERR_UNSUPPORTED
 *         (unknown opcode or tensor type, asymmetric weights), EL_ERR_ARENA, EL_ERR_SHAPE (tensor shapes
 *         do not fit an op). On error *m is unusable.
 */
el_status el_model_load(el_model *m, const uint8_t *artifact, uint32_t artifact_len,
                        uint8_t *arena, uint32_t arena_len);

/**
 * Run every op in order. Input bytes are read from el_model_input()->data (size bytes).
 * @return EL_OK, or a kernel's status (EL_ERR_ARG for an AVERAGE_POOL_2D window with no input cell)
 */
el_status el_model_invoke(el_model *m);

/** Run ops [0, n) only (n <= n_ops, else EL_ERR_ARG); used to compute the cut tensor (backbone features) for training. */
el_status el_model_invoke_until(el_model *m, uint16_t n_ops);

static inline el_tensor *el_model_input(el_model *m) { return &m->tensors[m->input]; }
static inline const el_tensor *el_model_output(const el_model *m) { return &m->tensors[m->output]; }

/** The model hash (artifact header bytes 16..47). */
static inline const uint8_t *el_model_hash(const el_model *m) { return m->artifact + 16; }

#endif /* EL_MODEL_H */
