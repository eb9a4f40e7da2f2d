/**
 * @file el_ops.h
 * @brief Op registrations (engine-internal): one {opcode, prepare, eval} per opcode, in the manner of
 *        TensorFlow Lite Micro's op resolver, and the checks the loader and the prepares share.
 *
 * The loader (el_model.c) decodes each op record into an el_op_record and calls the opcode's prepare once:
 * it checks the op's tensors and parameters (the record is untrusted) and fills the op's typed
 * el_op_data. el_model_invoke() then only calls each op's eval, which hands the prepared parameters and
 * the tensors' data to the kernel (el_kernels.h). Parameter slots are named by el_op_params.h, generated
 * from edgeleak/quantize/op_spec.py, the layout the exporter writes.
 */
#ifndef EL_OPS_H
#define EL_OPS_H

#include <stddef.h>
#include <stdint.h>
#include "el_model.h"
#include "el_op_params.h"

#define EL_NO_TENSOR 0xFFFFu

/* Tensor types and flags (tensor record). */
#define EL_T_INT8 1u
#define EL_T_INT32 2u
#define EL_T_FLOAT32 3u
#define EL_F_CONST 1u
#define EL_F_PER_CHANNEL 2u

/* Limits that keep every index computation inside int32 arithmetic. */
#define EL_MAX_DIM 65535
#define EL_MAX_ELEMENTS 0x10000000u /* 2^28 */
#define EL_MAX_STRIDE 1024
#define EL_MAX_PAD 65535

/** An op record as decoded at load (docs/model-format.md): bounded indices, parameters still unchecked. */
typedef struct {
    uint8_t opcode;
    uint8_t n_inputs;           /**< 1..3 */
    uint16_t inputs[3];         /**< < n_tensors or EL_NO_TENSOR; EL_NO_TENSOR from n_inputs on */
    uint16_t output;            /**< < n_tensors, not constant */
    const int32_t *multiplier;  /**< n entries inside DATA, or NULL when n == 0 */
    const int32_t *shift;       /**< n entries */
    uint32_t n;                 /**< 0..EL_MAX_DIM */
    int32_t p[EL_OP_N_PARAMS];  /**< slots named by el_op_params.h */
} el_op_record;

/**
 * Checks one record against the model's tensors (all parsed) and fills *data.
 * @return EL_OK; EL_ERR_SHAPE (tensors that do not fit the op), EL_ERR_BOUNDS (a parameter out of range),
 *         EL_ERR_UNSUPPORTED (a type or quantization the op does not run)
 */
typedef el_status (*el_op_prepare_fn)(const el_model *m, const el_op_record *rec, el_op_data *data);

/** One opcode's registration. */
typedef struct {
    uint8_t opcode;
    el_op_prepare_fn prepare;
    el_op_eval_fn eval;
} el_op_registration;

/** The registration of an opcode, or NULL for one the engine does not run. */
const el_op_registration *el_op_find(uint8_t opcode);

/* The registrations, one per opcode, defined by each op family's file (el_op_<family>.c). */
extern const el_op_registration el_op_fully_connected;
extern const el_op_registration el_op_conv_2d;
extern const el_op_registration el_op_depthwise_conv_2d;
extern const el_op_registration el_op_average_pool_2d;
extern const el_op_registration el_op_max_pool_2d;
extern const el_op_registration el_op_mean;
extern const el_op_registration el_op_reshape;
extern const el_op_registration el_op_quantize;
extern const el_op_registration el_op_dequantize;
extern const el_op_registration el_op_softmax;

/* ---- shared checks (load time) ---------------------------------------------------------------------- */

static inline uint32_t el_type_size(uint8_t type) { return type == EL_T_INT8 ? 1u : 4u; }

/** Elements of a parsed tensor (at most EL_MAX_ELEMENTS). */
static inline uint32_t el_elem_count(const el_tensor *t)
{
    uint32_t n = 1;
    uint8_t d;
    for (d = 0; d < t->rank; d++) {
        n *= (uint32_t)t->dims[d];
    }
    return n;
}

static inline int el_ok_zp(int32_t zp) { return zp >= -128 && zp <= 127; }
static inline int el_ok_offset(int32_t off) { return off >= -127 && off <= 128; }
static inline int el_ok_act(int32_t lo, int32_t hi) { return lo >= -128 && lo <= hi && hi <= 127; }
static inline int el_ok_mult(int32_t m, int32_t s) { return m >= 0 && s >= -31 && s <= 30; }
static inline int el_ok_scale(float s) { return s > 0.0f && s <= 3.0e38f; } /* also rejects NaN */

/** True when t is present and of the type. */
static inline int el_is_t(const el_tensor *t, uint8_t type) { return t != NULL && t->type == type; }

/** The record's k-th input tensor, or NULL when absent. */
static inline const el_tensor *el_rec_input(const el_model *m, const el_op_record *rec, int k)
{
    return k < rec->n_inputs && rec->inputs[k] != EL_NO_TENSOR ? &m->tensors[rec->inputs[k]] : (const el_tensor *)0;
}

/** Requantization arrays: n == 1, or n == channels, every pair in range. */
static inline int el_ok_requant(const el_op_record *rec, uint32_t channels)
{
    uint32_t i;
    if (rec->multiplier == NULL || (rec->n != 1u && rec->n != channels)) {
        return 0;
    }
    for (i = 0; i < rec->n; i++) {
        if (!el_ok_mult(rec->multiplier[i], rec->shift[i])) {
            return 0;
        }
    }
    return 1;
}

static inline el_requant el_requant_of(const el_op_record *rec)
{
    el_requant rq;
    rq.multiplier = rec->multiplier;
    rq.shift = rec->shift;
    rq.n = rec->n;
    return rq;
}

/* ---- eval helpers (inference path) ------------------------------------------------------------------ */

static inline const el_tensor *el_op_in(const el_model *m, const el_op *op, int k) { return &m->tensors[op->inputs[k]]; }
static inline el_tensor *el_op_out(el_model *m, const el_op *op) { return &m->tensors[op->output]; }

static inline const int8_t *el_s8(const el_tensor *t) { return (const int8_t *)(const void *)t->data; }
static inline int8_t *el_s8w(el_tensor *t) { return (int8_t *)(void *)t->data; }

/** An optional int32 input's data (a bias), or NULL when absent. */
static inline const int32_t *el_op_s32_opt(const el_model *m, const el_op *op, int k)
{
    return op->inputs[k] == EL_NO_TENSOR ? (const int32_t *)0
                                         : (const int32_t *)(const void *)m->tensors[op->inputs[k]].data;
}

static inline el_dims el_dims4(const el_tensor *t)
{
    el_dims d;
    d.n = t->dims[0];
    d.h = t->dims[1];
    d.w = t->dims[2];
    d.c = t->dims[3];
    return d;
}

#endif /* EL_OPS_H */
