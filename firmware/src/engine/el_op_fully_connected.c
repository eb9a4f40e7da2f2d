/**
 * @file el_op_fully_connected.c
 * @brief FULLY_CONNECTED registration: prepare (checks, typed parameters) and eval (el_fully_connected_s8).
 */
#include "el_ops.h"

static el_status prepare(const el_model *m, const el_op_record *r, el_op_data *data)
{
    const el_tensor *in = el_rec_input(m, r, 0), *w = el_rec_input(m, r, 1), *bias = el_rec_input(m, r, 2);
    const el_tensor *out = &m->tensors[r->output];
    const int32_t *p = r->p;
    el_fc_data *d = &data->fc;
    int32_t out_depth, accum, batches;

    if (r->n_inputs < 2 || !el_is_t(in, EL_T_INT8) || !el_is_t(w, EL_T_INT8) || !el_is_t(out, EL_T_INT8)
        || w->rank != 2 || out->rank < 1) {
        return EL_ERR_SHAPE;
    }
    if (w->zero_point != 0) {
        return EL_ERR_UNSUPPORTED; /* TFLite requires symmetric weights */
    }
    out_depth = w->dims[0];
    accum = w->dims[1];
    if (p[EL_P_FC_ACCUM_DEPTH] != accum || p[EL_P_FC_OUT_DEPTH] != out_depth
        || out->dims[out->rank - 1] != out_depth) {
        return EL_ERR_SHAPE;
    }
    batches = (int32_t)(el_elem_count(out) / (uint32_t)out_depth);
    if ((uint64_t)el_elem_count(in) != (uint64_t)batches * (uint64_t)accum) {
        return EL_ERR_SHAPE;
    }
    if (bias != NULL && (!el_is_t(bias, EL_T_INT32) || el_elem_count(bias) != (uint32_t)out_depth)) {
        return EL_ERR_SHAPE;
    }
    if (!el_ok_offset(p[EL_P_FC_INPUT_OFFSET]) || !el_ok_zp(p[EL_P_FC_OUTPUT_OFFSET])
        || !el_ok_act(p[EL_P_FC_ACT_MIN], p[EL_P_FC_ACT_MAX]) || !el_ok_requant(r, (uint32_t)out_depth)) {
        return EL_ERR_BOUNDS;
    }
    d->params.input_offset = p[EL_P_FC_INPUT_OFFSET];
    d->params.filter_offset = -w->zero_point;
    d->params.output_offset = p[EL_P_FC_OUTPUT_OFFSET];
    d->params.act_min = p[EL_P_FC_ACT_MIN];
    d->params.act_max = p[EL_P_FC_ACT_MAX];
    d->rq = el_requant_of(r);
    d->batches = batches;
    d->accum_depth = accum;
    d->out_depth = out_depth;
    return EL_OK;
}

static el_status eval(el_model *m, const el_op *op)
{
    const el_fc_data *d = &op->data.fc;
    return el_fully_connected_s8(&d->params, &d->rq, d->batches, d->accum_depth, d->out_depth,
                                 el_s8(el_op_in(m, op, 0)), el_s8(el_op_in(m, op, 1)), el_op_s32_opt(m, op, 2),
                                 el_s8w(el_op_out(m, op)));
}

const el_op_registration el_op_fully_connected = {EL_OP_FULLY_CONNECTED, prepare, eval};
