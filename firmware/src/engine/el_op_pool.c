/**
 * @file el_op_pool.c
 * @brief Reductions: AVERAGE_POOL_2D and MAX_POOL_2D (layout POOL) and MEAN (layout MEAN)
 *        registrations: prepare and eval (el_avgpool_s8, el_maxpool_s8, el_mean_s8).
 */
#include "el_ops.h"

static el_status prepare_pool(const el_model *m, const el_op_record *r, el_op_data *data)
{
    const el_tensor *in = el_rec_input(m, r, 0);
    const el_tensor *out = &m->tensors[r->output];
    const int32_t *p = r->p;
    el_pool_params *d = &data->pool;

    if (!el_is_t(in, EL_T_INT8) || !el_is_t(out, EL_T_INT8) || in->rank != 4 || out->rank != 4
        || in->dims[0] != out->dims[0] || in->dims[3] != out->dims[3]) {
        return EL_ERR_SHAPE;
    }
    if (!el_ok_act(p[EL_P_POOL_ACT_MIN], p[EL_P_POOL_ACT_MAX])
        || p[EL_P_POOL_STRIDE_W] < 1 || p[EL_P_POOL_STRIDE_W] > EL_MAX_STRIDE
        || p[EL_P_POOL_STRIDE_H] < 1 || p[EL_P_POOL_STRIDE_H] > EL_MAX_STRIDE
        || p[EL_P_POOL_FILTER_W] < 1 || p[EL_P_POOL_FILTER_W] > EL_MAX_DIM
        || p[EL_P_POOL_FILTER_H] < 1 || p[EL_P_POOL_FILTER_H] > EL_MAX_DIM
        || p[EL_P_POOL_PAD_W] < 0 || p[EL_P_POOL_PAD_W] > EL_MAX_PAD
        || p[EL_P_POOL_PAD_H] < 0 || p[EL_P_POOL_PAD_H] > EL_MAX_PAD) {
        return EL_ERR_BOUNDS;
    }
    d->act_min = p[EL_P_POOL_ACT_MIN];
    d->act_max = p[EL_P_POOL_ACT_MAX];
    d->stride_w = p[EL_P_POOL_STRIDE_W];
    d->stride_h = p[EL_P_POOL_STRIDE_H];
    d->filter_w = p[EL_P_POOL_FILTER_W];
    d->filter_h = p[EL_P_POOL_FILTER_H];
    d->pad_w = p[EL_P_POOL_PAD_W];
    d->pad_h = p[EL_P_POOL_PAD_H];
    return EL_OK;
}

static el_status eval_avgpool(el_model *m, const el_op *op)
{
    const el_tensor *in = el_op_in(m, op, 0);
    el_tensor *out = el_op_out(m, op);
    const el_dims di = el_dims4(in), dout = el_dims4(out);
    return el_avgpool_s8(&op->data.pool, &di, el_s8(in), &dout, el_s8w(out));
}

static el_status eval_maxpool(el_model *m, const el_op *op)
{
    const el_tensor *in = el_op_in(m, op, 0);
    el_tensor *out = el_op_out(m, op);
    const el_dims di = el_dims4(in), dout = el_dims4(out);
    return el_maxpool_s8(&op->data.pool, &di, el_s8(in), &dout, el_s8w(out));
}

static el_status prepare_mean(const el_model *m, const el_op_record *r, el_op_data *data)
{
    const el_tensor *in = el_rec_input(m, r, 0);
    const el_tensor *out = &m->tensors[r->output];
    const int32_t *p = r->p;
    const uint32_t mask = (uint32_t)p[EL_P_MEAN_AXIS_MASK];
    el_mean_data *d = &data->mean;
    uint32_t kept = 1;
    uint8_t k;

    if (!el_is_t(in, EL_T_INT8) || !el_is_t(out, EL_T_INT8) || in->rank < 1
        || (mask & ~((1u << in->rank) - 1u)) != 0u) {
        return EL_ERR_SHAPE;
    }
    for (k = 0; k < in->rank; k++) {
        if (((mask >> k) & 1u) == 0u) {
            kept *= (uint32_t)in->dims[k];
        }
    }
    if (el_elem_count(out) != kept) {
        return EL_ERR_SHAPE;
    }
    if (!el_ok_zp(p[EL_P_MEAN_INPUT_ZERO_POINT]) || !el_ok_zp(p[EL_P_MEAN_OUTPUT_ZERO_POINT])
        || !el_ok_mult(p[EL_P_MEAN_MULTIPLIER], p[EL_P_MEAN_SHIFT])) {
        return EL_ERR_BOUNDS;
    }
    d->axis_mask = mask;
    d->in_zp = p[EL_P_MEAN_INPUT_ZERO_POINT];
    d->out_zp = p[EL_P_MEAN_OUTPUT_ZERO_POINT];
    d->multiplier = p[EL_P_MEAN_MULTIPLIER];
    d->shift = p[EL_P_MEAN_SHIFT];
    return EL_OK; /* keep_dims does not change the bytes */
}

static el_status eval_mean(el_model *m, const el_op *op)
{
    const el_tensor *in = el_op_in(m, op, 0);
    const el_mean_data *d = &op->data.mean;
    return el_mean_s8(el_s8(in), in->dims, in->rank, d->axis_mask, d->in_zp, d->out_zp, d->multiplier, d->shift,
                      el_s8w(el_op_out(m, op)));
}

const el_op_registration el_op_average_pool_2d = {EL_OP_AVERAGE_POOL_2D, prepare_pool, eval_avgpool};
const el_op_registration el_op_max_pool_2d = {EL_OP_MAX_POOL_2D, prepare_pool, eval_maxpool};
const el_op_registration el_op_mean = {EL_OP_MEAN, prepare_mean, eval_mean};
