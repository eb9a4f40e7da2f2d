/**
 * @file el_op_conv.c
 * @brief CONV_2D and DEPTHWISE_CONV_2D registrations (layout CONV): prepare and eval
 *        (el_conv_s8, el_depthwise_conv_s8).
 */
#include "el_ops.h"

static el_status prepare(const el_model *m, const el_op_record *r, el_op_data *data, int depthwise)
{
    const el_tensor *in = el_rec_input(m, r, 0), *f = el_rec_input(m, r, 1), *bias = el_rec_input(m, r, 2);
    const el_tensor *out = &m->tensors[r->output];
    const int32_t *p = r->p;
    el_conv_data *d = &data->conv;

    if (r->n_inputs < 2 || !el_is_t(in, EL_T_INT8) || !el_is_t(f, EL_T_INT8) || !el_is_t(out, EL_T_INT8)
        || in->rank != 4 || f->rank != 4 || out->rank != 4 || in->dims[0] != out->dims[0]) {
        return EL_ERR_SHAPE;
    }
    if (!el_ok_offset(p[EL_P_CONV_INPUT_OFFSET]) || !el_ok_zp(p[EL_P_CONV_OUTPUT_OFFSET])
        || !el_ok_act(p[EL_P_CONV_ACT_MIN], p[EL_P_CONV_ACT_MAX])
        || p[EL_P_CONV_STRIDE_W] < 1 || p[EL_P_CONV_STRIDE_W] > EL_MAX_STRIDE
        || p[EL_P_CONV_STRIDE_H] < 1 || p[EL_P_CONV_STRIDE_H] > EL_MAX_STRIDE
        || p[EL_P_CONV_DILATION_W] < 1 || p[EL_P_CONV_DILATION_W] > EL_MAX_STRIDE
        || p[EL_P_CONV_DILATION_H] < 1 || p[EL_P_CONV_DILATION_H] > EL_MAX_STRIDE
        || p[EL_P_CONV_PAD_W] < 0 || p[EL_P_CONV_PAD_W] > EL_MAX_PAD
        || p[EL_P_CONV_PAD_H] < 0 || p[EL_P_CONV_PAD_H] > EL_MAX_PAD
        || (depthwise && (p[EL_P_CONV_DEPTH_MULTIPLIER] < 1 || p[EL_P_CONV_DEPTH_MULTIPLIER] > EL_MAX_DIM))) {
        return EL_ERR_BOUNDS;
    }
    if (depthwise) {
        if (f->dims[0] != 1 || f->dims[3] != out->dims[3]
            || (int64_t)in->dims[3] * p[EL_P_CONV_DEPTH_MULTIPLIER] != (int64_t)out->dims[3]) {
            return EL_ERR_SHAPE;
        }
    } else {
        const int32_t groups = in->dims[3] / f->dims[3];
        if (f->dims[0] != out->dims[3] || in->dims[3] % f->dims[3] != 0 || out->dims[3] % groups != 0) {
            return EL_ERR_SHAPE;
        }
    }
    if (bias != NULL && (!el_is_t(bias, EL_T_INT32) || el_elem_count(bias) != (uint32_t)out->dims[3])) {
        return EL_ERR_SHAPE;
    }
    if (!el_ok_requant(r, (uint32_t)out->dims[3])) {
        return EL_ERR_BOUNDS;
    }
    d->params.input_offset = p[EL_P_CONV_INPUT_OFFSET];
    d->params.output_offset = p[EL_P_CONV_OUTPUT_OFFSET];
    d->params.act_min = p[EL_P_CONV_ACT_MIN];
    d->params.act_max = p[EL_P_CONV_ACT_MAX];
    d->params.stride_w = p[EL_P_CONV_STRIDE_W];
    d->params.stride_h = p[EL_P_CONV_STRIDE_H];
    d->params.dilation_w = p[EL_P_CONV_DILATION_W];
    d->params.dilation_h = p[EL_P_CONV_DILATION_H];
    d->params.pad_w = p[EL_P_CONV_PAD_W];
    d->params.pad_h = p[EL_P_CONV_PAD_H];
    d->params.depth_multiplier = p[EL_P_CONV_DEPTH_MULTIPLIER];
    d->rq = el_requant_of(r);
    return EL_OK;
}

static el_status prepare_conv(const el_model *m, const el_op_record *r, el_op_data *data)
{
    return prepare(m, r, data, 0);
}

static el_status prepare_depthwise(const el_model *m, const el_op_record *r, el_op_data *data)
{
    return prepare(m, r, data, 1);
}

static el_status eval_conv(el_model *m, const el_op *op)
{
    const el_tensor *in = el_op_in(m, op, 0), *f = el_op_in(m, op, 1);
    el_tensor *out = el_op_out(m, op);
    const el_dims di = el_dims4(in), df = el_dims4(f), dout = el_dims4(out);
    return el_conv_s8(&op->data.conv.params, &op->data.conv.rq, &di, el_s8(in), &df, el_s8(f),
                      el_op_s32_opt(m, op, 2), &dout, el_s8w(out));
}

static el_status eval_depthwise(el_model *m, const el_op *op)
{
    const el_tensor *in = el_op_in(m, op, 0), *f = el_op_in(m, op, 1);
    el_tensor *out = el_op_out(m, op);
    const el_dims di = el_dims4(in), df = el_dims4(f), dout = el_dims4(out);
    return el_depthwise_conv_s8(&op->data.conv.params, &op->data.conv.rq, &di, el_s8(in), &df, el_s8(f),
                                el_op_s32_opt(m, op, 2), &dout, el_s8w(out));
}

const el_op_registration el_op_conv_2d = {EL_OP_CONV_2D, prepare_conv, eval_conv};
const el_op_registration el_op_depthwise_conv_2d = {EL_OP_DEPTHWISE_CONV_2D, prepare_depthwise, eval_depthwise};
