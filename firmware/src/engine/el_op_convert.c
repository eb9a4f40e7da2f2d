/**
 * @file el_op_convert.c
 * @brief Conversions and copies: QUANTIZE (layout REQUANTIZE for an int8 input, none for float32), DEQUANTIZE and
 *        RESHAPE registrations: prepare and eval (el_quantize_f32_s8, el_requantize_s8, el_dequantize_s8_f32).
 */
#include <string.h>
#include "el_ops.h"

static el_status prepare_quantize(const el_model *m, const el_op_record *r, el_op_data *data)
{
    const el_tensor *in = el_rec_input(m, r, 0);
    const el_tensor *out = &m->tensors[r->output];
    const int32_t *p = r->p;
    el_quantize_data *d = &data->quantize;

    if (!el_is_t(out, EL_T_INT8) || el_elem_count(in) != el_elem_count(out)) {
        return EL_ERR_SHAPE;
    }
    memset(d, 0, sizeof *d);
    d->count = el_elem_count(in);
    if (in->type == EL_T_FLOAT32) {
        if (!el_ok_scale(out->scale)) {
            return EL_ERR_BOUNDS;
        }
        d->from_float = 1;
        d->scale = out->scale;
        d->out_zp = out->zero_point;
        return EL_OK;
    }
    if (in->type == EL_T_INT8) {
        if (!el_ok_zp(p[EL_P_REQUANTIZE_INPUT_ZERO_POINT]) || !el_ok_zp(p[EL_P_REQUANTIZE_OUTPUT_ZERO_POINT])
            || !el_ok_mult(p[EL_P_REQUANTIZE_MULTIPLIER], p[EL_P_REQUANTIZE_SHIFT])) {
            return EL_ERR_BOUNDS;
        }
        d->in_zp = p[EL_P_REQUANTIZE_INPUT_ZERO_POINT];
        d->out_zp = p[EL_P_REQUANTIZE_OUTPUT_ZERO_POINT];
        d->multiplier = p[EL_P_REQUANTIZE_MULTIPLIER];
        d->shift = p[EL_P_REQUANTIZE_SHIFT];
        return EL_OK;
    }
    return EL_ERR_UNSUPPORTED;
}

static el_status eval_quantize(el_model *m, const el_op *op)
{
    const el_quantize_data *d = &op->data.quantize;
    const el_tensor *in = el_op_in(m, op, 0);
    el_tensor *out = el_op_out(m, op);
    if (d->from_float) {
        return el_quantize_f32_s8((const float *)(const void *)in->data, d->count, d->scale, d->out_zp, el_s8w(out));
    }
    return el_requantize_s8(el_s8(in), d->count, d->in_zp, d->out_zp, d->multiplier, d->shift, el_s8w(out));
}

static el_status prepare_dequantize(const el_model *m, const el_op_record *r, el_op_data *data)
{
    const el_tensor *in = el_rec_input(m, r, 0);
    const el_tensor *out = &m->tensors[r->output];
    el_dequantize_data *d = &data->dequantize;

    if (!el_is_t(in, EL_T_INT8) || !el_is_t(out, EL_T_FLOAT32) || el_elem_count(in) != el_elem_count(out)) {
        return EL_ERR_SHAPE;
    }
    d->count = el_elem_count(in);
    d->scale = in->scale;
    d->zero_point = in->zero_point;
    return EL_OK;
}

static el_status eval_dequantize(el_model *m, const el_op *op)
{
    const el_dequantize_data *d = &op->data.dequantize;
    return el_dequantize_s8_f32(el_s8(el_op_in(m, op, 0)), d->count, d->scale, d->zero_point,
                                (float *)(void *)el_op_out(m, op)->data);
}

static el_status prepare_reshape(const el_model *m, const el_op_record *r, el_op_data *data)
{
    const el_tensor *in = el_rec_input(m, r, 0);
    const el_tensor *out = &m->tensors[r->output];
    (void)data; /* no parameters */
    return in->type != out->type || in->size != out->size ? EL_ERR_SHAPE : EL_OK;
}

/** The output aliases the input when the host planned it so (always, for the exporter); else a copy. */
static el_status eval_reshape(el_model *m, const el_op *op)
{
    const el_tensor *in = el_op_in(m, op, 0);
    el_tensor *out = el_op_out(m, op);
    if (out->data != in->data) {
        memmove(out->data, in->data, in->size);
    }
    return EL_OK;
}

const el_op_registration el_op_quantize = {EL_OP_QUANTIZE, prepare_quantize, eval_quantize};
const el_op_registration el_op_dequantize = {EL_OP_DEQUANTIZE, prepare_dequantize, eval_dequantize};
const el_op_registration el_op_reshape = {EL_OP_RESHAPE, prepare_reshape, eval_reshape};
