/**
 * @file el_op_registry.c
 * @brief The op resolver: every opcode the engine runs, with its prepare and eval (el_ops.h).
 *
 * A new op is one el_op_<family>.c defining its registration, a line here, and its parameter
 * layout in edgeleak/quantize/op_spec.py (which generates el_op_params.h).
 */
#include "el_ops.h"

static const el_op_registration *const k_registrations[] = {
    &el_op_fully_connected,
    &el_op_conv_2d,
    &el_op_depthwise_conv_2d,
    &el_op_average_pool_2d,
    &el_op_max_pool_2d,
    &el_op_mean,
    &el_op_reshape,
    &el_op_quantize,
    &el_op_dequantize,
    &el_op_softmax,
};

const el_op_registration *el_op_find(uint8_t opcode)
{
    uint32_t i;
    for (i = 0; i < sizeof k_registrations / sizeof k_registrations[0]; i++) {
        if (k_registrations[i]->opcode == opcode) {
            return k_registrations[i];
        }
    }
    return NULL;
}
