/**
 * @file el_op_softmax.c
 * @brief SOFTMAX registration (layout SOFTMAX): prepare and eval (el_softmax_s8).
 */
#include "el_ops.h"

static el_status prepare(const el_model *m, const el_op_record *r, el_op_data *data)
{
    const el_tensor *in = el_rec_input(m, r, 0);
    const el_tensor *out = &m->tensors[r->output];
    const int32_t *p = r->p;
    el_softmax_data *d = &data->softmax;

    if (!el_is_t(in, EL_T_INT8) || !el_is_t(out, EL_T_INT8) || in->rank < 1
        || el_elem_count(in) != el_elem_count(out)) {
        return EL_ERR_SHAPE;
    }
    if (p[EL_P_SOFTMAX_INPUT_MULTIPLIER] < 0 || p[EL_P_SOFTMAX_INPUT_LEFT_SHIFT] < 0
        || p[EL_P_SOFTMAX_INPUT_LEFT_SHIFT] > 30 || p[EL_P_SOFTMAX_DIFF_MIN] > 0) {
        return EL_ERR_BOUNDS;
    }
    d->depth = in->dims[in->rank - 1];
    d->outer = (int32_t)(el_elem_count(in) / (uint32_t)d->depth);
    d->input_multiplier = p[EL_P_SOFTMAX_INPUT_MULTIPLIER];
    d->input_left_shift = p[EL_P_SOFTMAX_INPUT_LEFT_SHIFT];
    d->diff_min = p[EL_P_SOFTMAX_DIFF_MIN];
    return EL_OK;
}

static el_status eval(el_model *m, const el_op *op)
{
    const el_softmax_data *d = &op->data.softmax;
    return el_softmax_s8(el_s8(el_op_in(m, op, 0)), d->outer, d->depth, d->input_multiplier, d->input_left_shift,
                         d->diff_min, el_s8w(el_op_out(m, op)));
}

const el_op_registration el_op_softmax = {EL_OP_SOFTMAX, prepare, eval};
