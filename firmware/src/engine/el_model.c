/**
 * @file el_model.c
 * @brief Artifact loader (docs/model-format.md, version 1) and op dispatcher.
 *
 * el_model_load() is the only place that looks at untrusted bytes: it bounds
 * every count, offset and size and checks every op's shapes and parameters,
 * so that el_model_invoke() can call the kernels without further checks.
 */
#include <string.h>
#include "el_model.h"
#include "el_kernels.h"
#include "el_crc32.h"

#define EL_HEADER_SIZE 64u
#define EL_SECTION_SIZE 12u
#define EL_TENSOR_SIZE 48u
#define EL_OP_SIZE 80u
#define EL_MAX_SECTIONS 8u
#define EL_NO_TENSOR 0xFFFFu

#define EL_TAG(a, b, c, d) ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))
#define EL_TAG_TENS EL_TAG('T', 'E', 'N', 'S')
#define EL_TAG_OPS EL_TAG('O', 'P', 'S', ' ')
#define EL_TAG_DATA EL_TAG('D', 'A', 'T', 'A')
#define EL_TAG_HEAD EL_TAG('H', 'E', 'A', 'D')

/* Tensor types and flags (tensor record). */
#define EL_T_INT8 1u
#define EL_T_INT32 2u
#define EL_T_FLOAT32 3u
#define EL_F_CONST 1u
#define EL_F_PER_CHANNEL 2u

/* Opcodes (op record). */
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

/* Limits that keep every index computation inside int32 arithmetic. */
#define EL_MAX_DIM 65535
#define EL_MAX_ELEMENTS 0x10000000u /* 2^28 */
#define EL_MAX_STRIDE 1024
#define EL_MAX_PAD 65535

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static float rdf32(const uint8_t *p)
{
    const uint32_t u = rd32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/** True when [off, off + size) lies inside [0, limit). */
static int in_range(uint32_t off, uint32_t size, uint32_t limit)
{
    return off <= limit && size <= limit - off;
}

static uint32_t type_size(uint8_t type) { return type == EL_T_INT8 ? 1u : 4u; }

static uint32_t elem_count(const el_tensor *t)
{
    uint32_t n = 1;
    uint8_t d;
    for (d = 0; d < t->rank; d++) {
        n *= (uint32_t)t->dims[d];
    }
    return n;
}

static el_dims dims4(const el_tensor *t)
{
    el_dims d;
    d.n = t->dims[0];
    d.h = t->dims[1];
    d.w = t->dims[2];
    d.c = t->dims[3];
    return d;
}

static int ok_zp(int32_t zp) { return zp >= -128 && zp <= 127; }
static int ok_offset(int32_t off) { return off >= -127 && off <= 128; }
static int ok_act(int32_t lo, int32_t hi) { return lo >= -128 && lo <= hi && hi <= 127; }
static int ok_mult(int32_t m, int32_t s) { return m >= 0 && s >= -31 && s <= 30; }
static int ok_scale(float s) { return s > 0.0f && s <= 3.0e38f; } /* also rejects NaN */

/* ------------------------------------------------------------------------- */
/* Loading                                                                    */

static el_status parse_tensor(el_tensor *t, const uint8_t *rec,
                              const uint8_t *data, uint32_t data_len, uint32_t arena_size, uint8_t *arena)
{
    uint64_t count = 1;
    uint32_t off, size, d;
    t->type = rec[0];
    t->rank = rec[1];
    t->flags = rec[2];
    t->quant_dim = rec[3];
    if (t->type != EL_T_INT8 && t->type != EL_T_INT32 && t->type != EL_T_FLOAT32) {
        return EL_ERR_UNSUPPORTED;
    }
    if (t->rank > 4) {
        return EL_ERR_SHAPE;
    }
    for (d = 0; d < 4; d++) {
        t->dims[d] = (int32_t)rd32(rec + 4 + 4 * d);
        if (d < t->rank) {
            if (t->dims[d] < 1 || t->dims[d] > EL_MAX_DIM) {
                return EL_ERR_SHAPE;
            }
            count *= (uint64_t)t->dims[d];
            if (count > EL_MAX_ELEMENTS) {
                return EL_ERR_BOUNDS;
            }
        } else if (t->dims[d] != 1) {
            return EL_ERR_SHAPE;
        }
    }
    off = rd32(rec + 20);
    size = rd32(rec + 24);
    t->size = size;
    t->scale = rdf32(rec + 28);
    t->zero_point = (int32_t)rd32(rec + 32);
    if ((uint64_t)size != count * type_size(t->type)) {
        return EL_ERR_BOUNDS;
    }
    if (type_size(t->type) == 4u && (off & 3u) != 0u) {
        return EL_ERR_BOUNDS;
    }
    if (t->flags & EL_F_CONST) {
        if (data == NULL || !in_range(off, size, data_len)) {
            return EL_ERR_BOUNDS;
        }
        t->data = (uint8_t *)(uintptr_t)(data + off); /* never written: op outputs are non-constant */
    } else {
        if (!in_range(off, size, arena_size)) {
            return EL_ERR_ARENA;
        }
        t->data = arena + off;
    }
    if (t->type == EL_T_INT8 && !ok_zp(t->zero_point)) {
        return EL_ERR_BOUNDS;
    }
    if (t->flags & EL_F_PER_CHANNEL) {
        const uint32_t scales_off = rd32(rec + 36);
        if (t->quant_dim >= t->rank || data == NULL || (scales_off & 3u) != 0u
            || !in_range(scales_off, 4u * (uint32_t)t->dims[t->quant_dim], data_len)) {
            return EL_ERR_BOUNDS;
        }
    }
    return EL_OK;
}

static const el_tensor *opt_tensor(const el_model *m, uint16_t idx)
{
    return idx == EL_NO_TENSOR ? NULL : &m->tensors[idx];
}

static int is_t(const el_tensor *t, uint8_t type) { return t != NULL && t->type == type; }

/** Requantization arrays: n == 1, or n == channels. */
static int ok_requant(const el_op *op, uint32_t channels)
{
    uint32_t i;
    if (op->multiplier == NULL || (op->n != 1u && op->n != channels)) {
        return 0;
    }
    for (i = 0; i < op->n; i++) {
        if (!ok_mult(op->multiplier[i], op->shift[i])) {
            return 0;
        }
    }
    return 1;
}

static el_status check_conv_params(const el_op *op, int depthwise)
{
    const int32_t *p = op->p;
    int i;
    if (!ok_offset(p[0]) || !ok_zp(p[1]) || !ok_act(p[2], p[3])) {
        return EL_ERR_BOUNDS;
    }
    for (i = 4; i < 8; i++) { /* strides and dilations */
        if (p[i] < 1 || p[i] > EL_MAX_STRIDE) {
            return EL_ERR_BOUNDS;
        }
    }
    if (p[8] < 0 || p[8] > EL_MAX_PAD || p[9] < 0 || p[9] > EL_MAX_PAD) {
        return EL_ERR_BOUNDS;
    }
    if (depthwise && (p[10] < 1 || p[10] > EL_MAX_DIM)) {
        return EL_ERR_BOUNDS;
    }
    return EL_OK;
}

static el_status check_pool_params(const el_op *op)
{
    const int32_t *p = op->p;
    if (!ok_act(p[2], p[3]) || p[4] < 1 || p[4] > EL_MAX_STRIDE || p[5] < 1 || p[5] > EL_MAX_STRIDE
        || p[6] < 1 || p[6] > EL_MAX_DIM || p[7] < 1 || p[7] > EL_MAX_DIM
        || p[8] < 0 || p[8] > EL_MAX_PAD || p[9] < 0 || p[9] > EL_MAX_PAD) {
        return EL_ERR_BOUNDS;
    }
    return EL_OK;
}

/** Check one op's inputs, output, shapes and parameters against its opcode. */
static el_status validate_op(const el_model *m, const el_op *op)
{
    const el_tensor *in = opt_tensor(m, op->inputs[0]);
    const el_tensor *in1 = op->n_inputs > 1 ? opt_tensor(m, op->inputs[1]) : NULL;
    const el_tensor *bias = op->n_inputs > 2 ? opt_tensor(m, op->inputs[2]) : NULL;
    const el_tensor *out = &m->tensors[op->output];
    el_status st;

    if (in == NULL) {
        return EL_ERR_BOUNDS;
    }
    switch (op->opcode) {
    case EL_OP_FULLY_CONNECTED: {
        int32_t out_depth, accum, batches;
        if (op->n_inputs < 2 || !is_t(in, EL_T_INT8) || !is_t(in1, EL_T_INT8) || !is_t(out, EL_T_INT8)
            || in1->rank != 2 || out->rank < 1) {
            return EL_ERR_SHAPE;
        }
        if (in1->zero_point != 0) {
            return EL_ERR_UNSUPPORTED; /* TFLite requires symmetric weights */
        }
        out_depth = in1->dims[0];
        accum = in1->dims[1];
        if (op->p[4] != accum || op->p[5] != out_depth || out->dims[out->rank - 1] != out_depth) {
            return EL_ERR_SHAPE;
        }
        batches = (int32_t)(elem_count(out) / (uint32_t)out_depth);
        if ((uint64_t)elem_count(in) != (uint64_t)batches * (uint64_t)accum) {
            return EL_ERR_SHAPE;
        }
        if (bias != NULL && (!is_t(bias, EL_T_INT32) || elem_count(bias) != (uint32_t)out_depth)) {
            return EL_ERR_SHAPE;
        }
        if (!ok_offset(op->p[0]) || !ok_zp(op->p[1]) || !ok_act(op->p[2], op->p[3])
            || !ok_requant(op, (uint32_t)out_depth)) {
            return EL_ERR_BOUNDS;
        }
        return EL_OK;
    }
    case EL_OP_CONV_2D:
    case EL_OP_DEPTHWISE_CONV_2D: {
        const int depthwise = op->opcode == EL_OP_DEPTHWISE_CONV_2D;
        if (op->n_inputs < 2 || !is_t(in, EL_T_INT8) || !is_t(in1, EL_T_INT8) || !is_t(out, EL_T_INT8)
            || in->rank != 4 || in1->rank != 4 || out->rank != 4 || in->dims[0] != out->dims[0]) {
            return EL_ERR_SHAPE;
        }
        st = check_conv_params(op, depthwise);
        if (st != EL_OK) {
            return st;
        }
        if (depthwise) {
            if (in1->dims[0] != 1 || in1->dims[3] != out->dims[3]
                || (int64_t)in->dims[3] * op->p[10] != (int64_t)out->dims[3]) {
                return EL_ERR_SHAPE;
            }
        } else {
            const int32_t groups = in->dims[3] / in1->dims[3];
            if (in1->dims[0] != out->dims[3] || in->dims[3] % in1->dims[3] != 0
                || out->dims[3] % groups != 0) {
                return EL_ERR_SHAPE;
            }
        }
        if (bias != NULL && (!is_t(bias, EL_T_INT32) || elem_count(bias) != (uint32_t)out->dims[3])) {
            return EL_ERR_SHAPE;
        }
        return ok_requant(op, (uint32_t)out->dims[3]) ? EL_OK : EL_ERR_BOUNDS;
    }
    case EL_OP_AVERAGE_POOL_2D:
    case EL_OP_MAX_POOL_2D:
        if (!is_t(in, EL_T_INT8) || !is_t(out, EL_T_INT8) || in->rank != 4 || out->rank != 4
            || in->dims[0] != out->dims[0] || in->dims[3] != out->dims[3]) {
            return EL_ERR_SHAPE;
        }
        return check_pool_params(op);
    case EL_OP_MEAN: {
        uint32_t kept = 1;
        uint8_t d;
        const uint32_t mask = (uint32_t)op->p[4];
        if (!is_t(in, EL_T_INT8) || !is_t(out, EL_T_INT8) || in->rank < 1
            || (mask & ~((1u << in->rank) - 1u)) != 0u) {
            return EL_ERR_SHAPE;
        }
        for (d = 0; d < in->rank; d++) {
            if (((mask >> d) & 1u) == 0u) {
                kept *= (uint32_t)in->dims[d];
            }
        }
        if (elem_count(out) != kept) {
            return EL_ERR_SHAPE;
        }
        if (!ok_zp(op->p[0]) || !ok_zp(op->p[1]) || !ok_mult(op->p[2], op->p[3])) {
            return EL_ERR_BOUNDS;
        }
        return EL_OK;
    }
    case EL_OP_RESHAPE:
        if (in->type != out->type || in->size != out->size) {
            return EL_ERR_SHAPE;
        }
        return EL_OK;
    case EL_OP_QUANTIZE:
        if (!is_t(out, EL_T_INT8) || elem_count(in) != elem_count(out)) {
            return EL_ERR_SHAPE;
        }
        if (in->type == EL_T_FLOAT32) {
            return ok_scale(out->scale) ? EL_OK : EL_ERR_BOUNDS;
        }
        if (in->type == EL_T_INT8) {
            return ok_zp(op->p[0]) && ok_zp(op->p[1]) && ok_mult(op->p[2], op->p[3]) ? EL_OK : EL_ERR_BOUNDS;
        }
        return EL_ERR_UNSUPPORTED;
    case EL_OP_DEQUANTIZE:
        if (!is_t(in, EL_T_INT8) || !is_t(out, EL_T_FLOAT32) || elem_count(in) != elem_count(out)) {
            return EL_ERR_SHAPE;
        }
        return EL_OK;
    case EL_OP_SOFTMAX:
        if (!is_t(in, EL_T_INT8) || !is_t(out, EL_T_INT8) || in->rank < 1 || elem_count(in) != elem_count(out)) {
            return EL_ERR_SHAPE;
        }
        if (op->p[0] < 0 || op->p[1] < 0 || op->p[1] > 30 || op->p[2] > 0) {
            return EL_ERR_BOUNDS;
        }
        return EL_OK;
    default:
        return EL_ERR_UNSUPPORTED;
    }
}

static el_status parse_op(el_model *m, el_op *op, const uint8_t *rec, const uint8_t *data, uint32_t data_len)
{
    uint32_t i, mult_off;
    op->opcode = rec[0];
    op->n_inputs = rec[1];
    if (op->n_inputs < 1 || op->n_inputs > 3) {
        return EL_ERR_BOUNDS;
    }
    for (i = 0; i < 3; i++) {
        op->inputs[i] = rd16(rec + 4 + 2 * i);
        if (i >= op->n_inputs) {
            op->inputs[i] = EL_NO_TENSOR;
        } else if (op->inputs[i] != EL_NO_TENSOR && op->inputs[i] >= m->n_tensors) {
            return EL_ERR_BOUNDS;
        }
    }
    op->output = rd16(rec + 10);
    if (op->output >= m->n_tensors || (m->tensors[op->output].flags & EL_F_CONST)) {
        return EL_ERR_BOUNDS;
    }
    mult_off = rd32(rec + 12);
    op->n = rd32(rec + 16);
    op->multiplier = NULL;
    op->shift = NULL;
    if (op->n > 0u) {
        if (op->n > (uint32_t)EL_MAX_DIM || data == NULL || (mult_off & 3u) != 0u
            || !in_range(mult_off, 8u * op->n, data_len)) {
            return EL_ERR_BOUNDS;
        }
        op->multiplier = (const int32_t *)(const void *)(data + mult_off);
        op->shift = op->multiplier + op->n;
    }
    for (i = 0; i < 15; i++) {
        op->p[i] = (int32_t)rd32(rec + 20 + 4 * i);
    }
    return validate_op(m, op);
}

static el_status check_head(const uint8_t *h, uint32_t len)
{
    uint32_t layers, l, off;
    uint64_t need = 0;
    if (len < 4u) {
        return EL_ERR_BOUNDS;
    }
    layers = rd16(h);
    if (layers < 1u || layers > 3u) {
        return EL_ERR_BOUNDS;
    }
    off = 4u + 4u * layers;
    if (off > len) {
        return EL_ERR_BOUNDS;
    }
    for (l = 0; l < layers; l++) {
        const uint32_t n_in = rd16(h + 4 + 4 * l), n_out = rd16(h + 6 + 4 * l);
        if (n_in == 0u || n_out == 0u) {
            return EL_ERR_SHAPE;
        }
        need += 4u * ((uint64_t)n_in * n_out + n_out);
        if (need > len) {
            return EL_ERR_BOUNDS;
        }
    }
    off = (off + 3u) & ~3u;
    return in_range(off, (uint32_t)need, len) ? EL_OK : EL_ERR_BOUNDS;
}

el_status el_model_load(el_model *m, const uint8_t *artifact, uint32_t artifact_len,
                        uint8_t *arena, uint32_t arena_len)
{
    const uint8_t *tens = NULL, *ops = NULL, *data = NULL;
    uint32_t tens_len = 0, ops_len = 0, data_len = 0;
    uint32_t total, n_sections, i;
    int have_tens = 0, have_ops = 0, have_data = 0, have_head = 0;
    el_status st;

    if (m == NULL || artifact == NULL || ((uintptr_t)artifact & 3u) != 0u
        || (arena == NULL && arena_len != 0u) || ((uintptr_t)arena & 3u) != 0u) {
        return EL_ERR_ARG;
    }
    memset(m, 0, sizeof *m);
    if (artifact_len < EL_HEADER_SIZE) {
        return EL_ERR_BOUNDS;
    }
    if (memcmp(artifact, "ELMA", 4) != 0) {
        return EL_ERR_MAGIC;
    }
    if (rd16(artifact + 4) != 1u) {
        return EL_ERR_VERSION;
    }
    total = rd32(artifact + 8);
    if (rd16(artifact + 6) != EL_HEADER_SIZE || total < EL_HEADER_SIZE || total > artifact_len) {
        return EL_ERR_BOUNDS;
    }
    if (el_crc32(0u, artifact + EL_HEADER_SIZE, total - EL_HEADER_SIZE) != rd32(artifact + 12)) {
        return EL_ERR_CRC;
    }
    m->artifact = artifact;
    m->artifact_len = total;
    m->n_tensors = rd16(artifact + 48);
    m->n_ops = rd16(artifact + 50);
    m->arena_size = rd32(artifact + 52);
    m->input = rd16(artifact + 56);
    m->output = rd16(artifact + 58);
    m->cut = rd16(artifact + 60);
    n_sections = rd16(artifact + 62);
    if (m->n_tensors > EL_MAX_TENSORS || m->n_ops > EL_MAX_OPS || n_sections > EL_MAX_SECTIONS
        || !in_range(EL_HEADER_SIZE, EL_SECTION_SIZE * n_sections, total)) {
        return EL_ERR_BOUNDS;
    }
    if (m->arena_size > arena_len) {
        return EL_ERR_ARENA;
    }

    for (i = 0; i < n_sections; i++) {
        const uint8_t *e = artifact + EL_HEADER_SIZE + EL_SECTION_SIZE * i;
        const uint32_t tag = rd32(e), off = rd32(e + 4), size = rd32(e + 8);
        if ((off & 3u) != 0u || off < EL_HEADER_SIZE + EL_SECTION_SIZE * n_sections
            || !in_range(off, size, total)) {
            return EL_ERR_BOUNDS;
        }
        if (tag == EL_TAG_TENS) {
            if (have_tens++) {
                return EL_ERR_BOUNDS;
            }
            tens = artifact + off;
            tens_len = size;
        } else if (tag == EL_TAG_OPS) {
            if (have_ops++) {
                return EL_ERR_BOUNDS;
            }
            ops = artifact + off;
            ops_len = size;
        } else if (tag == EL_TAG_DATA) {
            if (have_data++) {
                return EL_ERR_BOUNDS;
            }
            data = artifact + off;
            data_len = size;
        } else if (tag == EL_TAG_HEAD) {
            if (have_head++) {
                return EL_ERR_BOUNDS;
            }
            m->head = artifact + off;
            m->head_len = size;
        } /* unknown tags are skipped */
    }
    if (tens_len != EL_TENSOR_SIZE * m->n_tensors || ops_len != EL_OP_SIZE * m->n_ops
        || (m->n_tensors > 0u && tens == NULL) || (m->n_ops > 0u && ops == NULL)) {
        return EL_ERR_BOUNDS;
    }

    for (i = 0; i < m->n_tensors; i++) {
        st = parse_tensor(&m->tensors[i], tens + EL_TENSOR_SIZE * i, data, data_len, m->arena_size, arena);
        if (st != EL_OK) {
            return st;
        }
    }
    if (m->input >= m->n_tensors || m->output >= m->n_tensors
        || (m->cut != EL_NO_TENSOR && m->cut >= m->n_tensors)
        || (m->tensors[m->input].flags & EL_F_CONST) || (m->tensors[m->output].flags & EL_F_CONST)) {
        return EL_ERR_BOUNDS;
    }
    if (m->cut != EL_NO_TENSOR && m->tensors[m->cut].type != EL_T_INT8) {
        return EL_ERR_SHAPE;
    }
    for (i = 0; i < m->n_ops; i++) {
        st = parse_op(m, &m->ops[i], ops + EL_OP_SIZE * i, data, data_len);
        if (st != EL_OK) {
            return st;
        }
    }
    if (m->head != NULL) {
        st = check_head(m->head, m->head_len);
        if (st != EL_OK) {
            return st;
        }
    }
    return EL_OK;
}

/* ------------------------------------------------------------------------- */
/* Running                                                                    */

static el_requant requant_of(const el_op *op)
{
    el_requant rq;
    rq.multiplier = op->multiplier;
    rq.shift = op->shift;
    rq.n = op->n;
    return rq;
}

static el_conv_params conv_params_of(const el_op *op)
{
    el_conv_params cp;
    cp.input_offset = op->p[0];
    cp.output_offset = op->p[1];
    cp.act_min = op->p[2];
    cp.act_max = op->p[3];
    cp.stride_w = op->p[4];
    cp.stride_h = op->p[5];
    cp.dilation_w = op->p[6];
    cp.dilation_h = op->p[7];
    cp.pad_w = op->p[8];
    cp.pad_h = op->p[9];
    cp.depth_multiplier = op->p[10];
    return cp;
}

static el_pool_params pool_params_of(const el_op *op)
{
    el_pool_params pp;
    pp.act_min = op->p[2];
    pp.act_max = op->p[3];
    pp.stride_w = op->p[4];
    pp.stride_h = op->p[5];
    pp.filter_w = op->p[6];
    pp.filter_h = op->p[7];
    pp.pad_w = op->p[8];
    pp.pad_h = op->p[9];
    return pp;
}

#define S8(t) ((const int8_t *)(const void *)(t)->data)
#define S8W(t) ((int8_t *)(void *)(t)->data)
#define S32(t) ((t) != NULL ? (const int32_t *)(const void *)(t)->data : NULL)

static el_status run_op(el_model *m, const el_op *op)
{
    const el_tensor *in = &m->tensors[op->inputs[0]];
    const el_tensor *in1 = op->inputs[1] != EL_NO_TENSOR ? &m->tensors[op->inputs[1]] : NULL;
    const el_tensor *bias = op->inputs[2] != EL_NO_TENSOR ? &m->tensors[op->inputs[2]] : NULL;
    el_tensor *out = &m->tensors[op->output];

    switch (op->opcode) {
    case EL_OP_FULLY_CONNECTED: {
        el_fc_params fp;
        const el_requant rq = requant_of(op);
        const int32_t out_depth = in1->dims[0];
        fp.input_offset = op->p[0];
        fp.filter_offset = -in1->zero_point;
        fp.output_offset = op->p[1];
        fp.act_min = op->p[2];
        fp.act_max = op->p[3];
        return el_fully_connected_s8(&fp, &rq, (int32_t)(elem_count(out) / (uint32_t)out_depth),
                                     in1->dims[1], out_depth, S8(in), S8(in1), S32(bias), S8W(out));
    }
    case EL_OP_CONV_2D:
    case EL_OP_DEPTHWISE_CONV_2D: {
        const el_conv_params cp = conv_params_of(op);
        const el_requant rq = requant_of(op);
        const el_dims di = dims4(in), df = dims4(in1), dout = dims4(out);
        if (op->opcode == EL_OP_CONV_2D) {
            return el_conv_s8(&cp, &rq, &di, S8(in), &df, S8(in1), S32(bias), &dout, S8W(out));
        }
        return el_depthwise_conv_s8(&cp, &rq, &di, S8(in), &df, S8(in1), S32(bias), &dout, S8W(out));
    }
    case EL_OP_AVERAGE_POOL_2D:
    case EL_OP_MAX_POOL_2D: {
        const el_pool_params pp = pool_params_of(op);
        const el_dims di = dims4(in), dout = dims4(out);
        if (op->opcode == EL_OP_AVERAGE_POOL_2D) {
            return el_avgpool_s8(&pp, &di, S8(in), &dout, S8W(out));
        }
        return el_maxpool_s8(&pp, &di, S8(in), &dout, S8W(out));
    }
    case EL_OP_MEAN:
        return el_mean_s8(S8(in), in->dims, in->rank, (uint32_t)op->p[4], op->p[0], op->p[1],
                          op->p[2], op->p[3], S8W(out));
    case EL_OP_RESHAPE:
        if (out->data != in->data) {
            memmove(out->data, in->data, in->size);
        }
        return EL_OK;
    case EL_OP_QUANTIZE:
        if (in->type == EL_T_FLOAT32) {
            return el_quantize_f32_s8((const float *)(const void *)in->data, elem_count(in), out->scale,
                                      out->zero_point, S8W(out));
        }
        return el_requantize_s8(S8(in), elem_count(in), op->p[0], op->p[1], op->p[2], op->p[3], S8W(out));
    case EL_OP_DEQUANTIZE:
        return el_dequantize_s8_f32(S8(in), elem_count(in), in->scale, in->zero_point,
                                    (float *)(void *)out->data);
    case EL_OP_SOFTMAX: {
        const int32_t depth = in->dims[in->rank - 1];
        return el_softmax_s8(S8(in), (int32_t)(elem_count(in) / (uint32_t)depth), depth,
                             op->p[0], op->p[1], op->p[2], S8W(out));
    }
    default:
        return EL_ERR_UNSUPPORTED;
    }
}

el_status el_model_invoke_until(el_model *m, uint16_t n_ops)
{
    uint16_t i;
    if (m == NULL || m->artifact == NULL || n_ops > m->n_ops) {
        return EL_ERR_ARG;
    }
    for (i = 0; i < n_ops; i++) {
        const el_status st = run_op(m, &m->ops[i]);
        if (st != EL_OK) {
            return st;
        }
    }
    return EL_OK;
}

el_status el_model_invoke(el_model *m)
{
    if (m == NULL) {
        return EL_ERR_ARG;
    }
    return el_model_invoke_until(m, m->n_ops);
}
