/* Test-only shim: exports the static inline fixed-point helpers and a
 * load-copy-invoke-copy entry point so Python can drive the engine via ctypes.
 * Not part of the firmware. */
#include <string.h>
#include "el_fixedpoint.h"
#include "el_model.h"

int32_t t_srdhm(int32_t a, int32_t b) { return el_srdhm(a, b); }
int32_t t_rdbpot(int32_t x, int32_t e) { return el_rdbpot(x, (int)e); }
int32_t t_mbqm(int32_t x, int32_t m, int32_t s) { return el_mbqm(x, m, (int)s); }
int32_t t_srmbpot(int32_t x, int32_t e) { return el_srmbpot(x, (int)e); }
int32_t t_exp_on_negative_values(int32_t a, int32_t bits) { return el_exp_on_negative_values(a, (int)bits); }
int32_t t_one_over_one_plus_x(int32_t a) { return el_one_over_one_plus_x_for_x_in_0_1(a); }
int32_t t_get_reciprocal(int32_t x, int32_t digits, int32_t *bits)
{
    int b = 0;
    int32_t r = el_get_reciprocal(x, (int)digits, &b);
    *bits = b;
    return r;
}

static el_model g_model;

int32_t t_load(const uint8_t *artifact, uint32_t len, uint8_t *arena, uint32_t arena_len)
{
    return (int32_t)el_model_load(&g_model, artifact, len, arena, arena_len);
}

/* Copy input, run ops [0, n_ops) (all when n_ops < 0), copy out tensor `which`
 * (-1 = graph output). Returns the status; *out_size receives the tensor bytes. */
int32_t t_run(const uint8_t *input, uint32_t in_len, int32_t n_ops, int32_t which,
              uint8_t *out, uint32_t out_len, uint32_t *out_size)
{
    el_tensor *in = el_model_input(&g_model);
    const el_tensor *o;
    el_status st;
    if (in_len != in->size) {
        return -1;
    }
    memcpy(in->data, input, in_len);
    st = n_ops < 0 ? el_model_invoke(&g_model) : el_model_invoke_until(&g_model, (uint16_t)n_ops);
    if (st != EL_OK) {
        return (int32_t)st;
    }
    o = which < 0 ? el_model_output(&g_model) : &g_model.tensors[which];
    *out_size = o->size;
    if (o->size > out_len) {
        return -2;
    }
    memcpy(out, o->data, o->size);
    return 0;
}

uint32_t t_model_field(int32_t what)
{
    switch (what) {
    case 0: return g_model.n_tensors;
    case 1: return g_model.n_ops;
    case 2: return g_model.arena_size;
    case 3: return g_model.input;
    case 4: return g_model.output;
    case 5: return g_model.cut;
    default: return 0xFFFFFFFFu;
    }
}
