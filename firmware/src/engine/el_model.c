/**
 * @file el_model.c
 * @brief Artifact loader (docs/model-format.md, version 1): header, sections, tensor records, op records.
 *
 * el_model_load() is the only place that looks at untrusted bytes: it bounds every count, offset and
 * size, and hands each op record to its opcode's prepare (el_ops.h), which checks the op's shapes and
 * parameters and stores them typed, so that el_model_invoke() (el_interpreter.c) only dispatches.
 */
#include <string.h>
#include "el_model.h"
#include "el_crc32.h"
#include "el_ops.h"

#define EL_HEADER_SIZE 64u
#define EL_SECTION_SIZE 12u
#define EL_TENSOR_SIZE 48u
#define EL_OP_SIZE 80u
#define EL_MAX_SECTIONS 8u

#define EL_TAG(a, b, c, d) ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))
#define EL_TAG_TENS EL_TAG('T', 'E', 'N', 'S')
#define EL_TAG_OPS EL_TAG('O', 'P', 'S', ' ')
#define EL_TAG_DATA EL_TAG('D', 'A', 'T', 'A')
#define EL_TAG_HEAD EL_TAG('H', 'E', 'A', 'D')

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
    if ((uint64_t)size != count * el_type_size(t->type)) {
        return EL_ERR_BOUNDS;
    }
    if (el_type_size(t->type) == 4u && (off & 3u) != 0u) {
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
    if (t->type == EL_T_INT8 && !el_ok_zp(t->zero_point)) {
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

/** Decode one op record, bound its indices and arrays, then prepare it with its opcode's registration. */
static el_status parse_op(const el_model *m, el_op *op, const uint8_t *rec, const uint8_t *data, uint32_t data_len)
{
    el_op_record r;
    const el_op_registration *reg;
    uint32_t i, mult_off;
    el_status st;
    r.opcode = rec[0];
    r.n_inputs = rec[1];
    if (r.n_inputs < 1 || r.n_inputs > 3) {
        return EL_ERR_BOUNDS;
    }
    for (i = 0; i < 3; i++) {
        r.inputs[i] = rd16(rec + 4 + 2 * i);
        if (i >= r.n_inputs) {
            r.inputs[i] = EL_NO_TENSOR;
        } else if (r.inputs[i] != EL_NO_TENSOR && r.inputs[i] >= m->n_tensors) {
            return EL_ERR_BOUNDS;
        }
    }
    r.output = rd16(rec + 10);
    if (r.output >= m->n_tensors || (m->tensors[r.output].flags & EL_F_CONST)) {
        return EL_ERR_BOUNDS;
    }
    mult_off = rd32(rec + 12);
    r.n = rd32(rec + 16);
    r.multiplier = NULL;
    r.shift = NULL;
    if (r.n > 0u) {
        if (r.n > (uint32_t)EL_MAX_DIM || data == NULL || (mult_off & 3u) != 0u
            || !in_range(mult_off, 8u * r.n, data_len)) {
            return EL_ERR_BOUNDS;
        }
        r.multiplier = (const int32_t *)(const void *)(data + mult_off);
        r.shift = r.multiplier + r.n;
    }
    for (i = 0; i < EL_OP_N_PARAMS; i++) {
        r.p[i] = (int32_t)rd32(rec + 20 + 4 * i);
    }
    if (r.inputs[0] == EL_NO_TENSOR) {
        return EL_ERR_BOUNDS;
    }
    reg = el_op_find(r.opcode);
    if (reg == NULL) {
        return EL_ERR_UNSUPPORTED;
    }
    st = reg->prepare(m, &r, &op->data);
    if (st != EL_OK) {
        return st;
    }
    op->opcode = r.opcode;
    op->n_inputs = r.n_inputs;
    for (i = 0; i < 3; i++) {
        op->inputs[i] = r.inputs[i];
    }
    op->output = r.output;
    op->eval = reg->eval;
    return EL_OK;
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
