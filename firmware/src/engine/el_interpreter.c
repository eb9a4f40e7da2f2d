/**
 * @file el_interpreter.c
 * @brief Runs a loaded model: each op's eval, in order, on the parameters prepared at load.
 */
#include "el_model.h"

el_status el_model_invoke_until(el_model *m, uint16_t n_ops)
{
    uint16_t i;
    if (m == NULL || m->artifact == NULL || n_ops > m->n_ops) {
        return EL_ERR_ARG;
    }
    for (i = 0; i < n_ops; i++) {
        const el_op *op = &m->ops[i];
        el_status st;
        if (op->eval == NULL) { /* a model whose load failed */
            return EL_ERR_ARG;
        }
        st = op->eval(m, op);
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
