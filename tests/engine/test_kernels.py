"""Kernels against plain numpy transcriptions of TFLite's reference kernels.

These cover parameter combinations the Keras parity models do not reach (grouped convolution,
dilation in both axes, per-tensor requantization, depth multiplier > 1 with padding on both sides,
MEAN over arbitrary axes, the float conversions).
"""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from .conftest import ConvParams, Dims, FcParams, PoolParams, ptr, requant
from .tflm_ref import mbqm_np, quantize_multiplier

i8, i32, f32 = ctypes.c_int8, ctypes.c_int32, ctypes.c_float


def _rand_requant(rng, n):
    mult = rng.integers(1 << 30, (1 << 31) - 1, n).astype(np.int32)
    shift = rng.integers(-12, -5, n).astype(np.int32)
    return mult, shift


def _finish(acc, mult, shift, out_off, lo, hi):
    return np.clip(mbqm_np(acc, mult, shift) + out_off, lo, hi).astype(np.int8)


def ref_conv(x, w, bias, mult, shift, p, depthwise=False, dm=1):
    n, h, wd, c = x.shape
    oh, ow = p["out_h"], p["out_w"]
    if depthwise:
        out_c = w.shape[3]
    else:
        out_c = w.shape[0]
        groups = c // w.shape[3]
        per_group = out_c // groups
    acc = np.zeros((n, oh, ow, out_c), dtype=np.int64)
    for oy in range(oh):
        for ox in range(ow):
            for fy in range(w.shape[1]):
                iy = oy * p["sh"] - p["ph"] + p["dh"] * fy
                if not 0 <= iy < h:
                    continue
                for fx in range(w.shape[2]):
                    ix = ox * p["sw"] - p["pw"] + p["dw"] * fx
                    if not 0 <= ix < wd:
                        continue
                    xv = x[:, iy, ix, :].astype(np.int64) + p["in_off"]  # (n, c)
                    if depthwise:
                        acc[:, oy, ox, :] += np.repeat(xv, dm, axis=1) * w[0, fy, fx, :]
                    else:
                        for oc in range(out_c):
                            g = oc // per_group
                            fc = w.shape[3]
                            acc[:, oy, ox, oc] += xv[:, g * fc:(g + 1) * fc] @ w[oc, fy, fx, :].astype(np.int64)
    if bias is not None:
        acc += bias
    m = np.broadcast_to(mult, (out_c,))
    s = np.broadcast_to(shift, (out_c,))
    return _finish(acc, m, s, p["out_off"], p["lo"], p["hi"])


def _conv_params(p, dm=1):
    return ConvParams(p["in_off"], p["out_off"], p["lo"], p["hi"], p["sw"], p["sh"], p["dw"], p["dh"], p["pw"], p["ph"], dm)


@pytest.mark.parametrize("seed", range(12))
def test_conv_grouped_dilated_per_tensor_and_per_channel(engine, seed):
    rng = np.random.default_rng(seed)
    groups = int(rng.integers(1, 3))
    fc = int(rng.integers(1, 4))
    c = groups * fc
    out_c = groups * int(rng.integers(1, 4))
    n, h, wd = int(rng.integers(1, 3)), int(rng.integers(1, 7)), int(rng.integers(3, 10))
    fh, fw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    p = dict(sh=int(rng.integers(1, 3)), sw=int(rng.integers(1, 3)), dh=int(rng.integers(1, 3)), dw=int(rng.integers(1, 3)),
             ph=int(rng.integers(0, 3)), pw=int(rng.integers(0, 3)), in_off=int(rng.integers(-127, 129)),
             out_off=int(rng.integers(-128, 128)))
    p["lo"], p["hi"] = sorted(int(v) for v in rng.integers(-128, 128, 2))
    p["out_h"] = max(1, (h + 2 * p["ph"] - p["dh"] * (fh - 1) - 1) // p["sh"] + 1)
    p["out_w"] = max(1, (wd + 2 * p["pw"] - p["dw"] * (fw - 1) - 1) // p["sw"] + 1)
    x = rng.integers(-128, 128, (n, h, wd, c), dtype=np.int8)
    w = rng.integers(-127, 128, (out_c, fh, fw, fc), dtype=np.int8)
    bias = rng.integers(-5000, 5000, out_c).astype(np.int32) if seed % 3 else None
    mult, shift = _rand_requant(rng, 1 if seed % 2 else out_c)
    want = ref_conv(x, w, bias, mult, shift, p)
    out = np.zeros((n, p["out_h"], p["out_w"], out_c), dtype=np.int8)
    rq, keep = requant(mult, shift)
    st = engine.el_conv_s8(ctypes.byref(_conv_params(p)), ctypes.byref(rq), ctypes.byref(Dims(n, h, wd, c)), ptr(x, i8),
                           ctypes.byref(Dims(out_c, fh, fw, fc)), ptr(w, i8), ptr(bias, i32) if bias is not None else None,
                           ctypes.byref(Dims(n, p["out_h"], p["out_w"], out_c)), ptr(out, i8))
    assert st == 0
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("seed", range(12))
def test_depthwise_multiplier_padding(engine, seed):
    rng = np.random.default_rng(100 + seed)
    c, dm = int(rng.integers(1, 5)), int(rng.integers(1, 4))
    out_c = c * dm
    n, h, wd = 1, int(rng.integers(1, 6)), int(rng.integers(3, 12))
    fh, fw = int(rng.integers(1, 4)), int(rng.integers(1, 5))
    p = dict(sh=int(rng.integers(1, 3)), sw=int(rng.integers(1, 3)), dh=int(rng.integers(1, 3)), dw=int(rng.integers(1, 3)),
             ph=int(rng.integers(0, 3)), pw=int(rng.integers(0, 3)), in_off=int(rng.integers(-127, 129)),
             out_off=int(rng.integers(-128, 128)), lo=-128, hi=127)
    p["out_h"] = max(1, (h + 2 * p["ph"] - p["dh"] * (fh - 1) - 1) // p["sh"] + 1)
    p["out_w"] = max(1, (wd + 2 * p["pw"] - p["dw"] * (fw - 1) - 1) // p["sw"] + 1)
    x = rng.integers(-128, 128, (n, h, wd, c), dtype=np.int8)
    w = rng.integers(-127, 128, (1, fh, fw, out_c), dtype=np.int8)
    bias = rng.integers(-5000, 5000, out_c).astype(np.int32)
    mult, shift = _rand_requant(rng, out_c if seed % 2 else 1)
    want = ref_conv(x, w, bias, mult, shift, p, depthwise=True, dm=dm)
    out = np.zeros((n, p["out_h"], p["out_w"], out_c), dtype=np.int8)
    rq, keep = requant(mult, shift)
    st = engine.el_depthwise_conv_s8(ctypes.byref(_conv_params(p, dm)), ctypes.byref(rq), ctypes.byref(Dims(n, h, wd, c)),
                                     ptr(x, i8), ctypes.byref(Dims(1, fh, fw, out_c)), ptr(w, i8), ptr(bias, i32),
                                     ctypes.byref(Dims(n, p["out_h"], p["out_w"], out_c)), ptr(out, i8))
    assert st == 0
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("per_channel", [False, True])
def test_fully_connected(engine, per_channel):
    rng = np.random.default_rng(7)
    batches, depth, out_d = 3, 37, 9
    x = rng.integers(-128, 128, (batches, depth), dtype=np.int8)
    w = rng.integers(-127, 128, (out_d, depth), dtype=np.int8)
    bias = rng.integers(-20000, 20000, out_d).astype(np.int32)
    mult, shift = _rand_requant(rng, out_d if per_channel else 1)
    in_off, out_off, f_off = 17, -5, 0
    acc = (x.astype(np.int64) + in_off) @ (w.astype(np.int64) + f_off).T + bias
    want = _finish(acc, np.broadcast_to(mult, (out_d,)), np.broadcast_to(shift, (out_d,)), out_off, -100, 120)
    out = np.zeros((batches, out_d), dtype=np.int8)
    rq, keep = requant(mult, shift)
    st = engine.el_fully_connected_s8(ctypes.byref(FcParams(in_off, f_off, out_off, -100, 120)), ctypes.byref(rq),
                                      batches, depth, out_d, ptr(x, i8), ptr(w, i8), ptr(bias, i32), ptr(out, i8))
    assert st == 0
    np.testing.assert_array_equal(out, want)
    bad, keep2 = requant(mult[:1].repeat(2), shift[:1].repeat(2))
    assert engine.el_fully_connected_s8(ctypes.byref(FcParams(0, 0, 0, -128, 127)), ctypes.byref(bad), batches, depth,
                                        out_d, ptr(x, i8), ptr(w, i8), None, ptr(out, i8)) != 0


def _ref_pool(x, p, avg):
    n, h, wd, c = x.shape
    out = np.zeros((n, p["oh"], p["ow"], c), dtype=np.int8)
    for oy in range(p["oh"]):
        for ox in range(p["ow"]):
            y0, x0 = oy * p["sh"] - p["ph"], ox * p["sw"] - p["pw"]
            ys = slice(max(0, y0), min(h, y0 + p["fh"]))
            xs = slice(max(0, x0), min(wd, x0 + p["fw"]))
            win = x[:, ys, xs, :].astype(np.int64).reshape(n, -1, c)
            if avg:
                s, k = win.sum(axis=1), win.shape[1]
                v = np.where(s > 0, (s + k // 2) // k, -((-(s - k // 2)) // k))  # C truncation for negatives
            else:
                v = win.max(axis=1)
            out[:, oy, ox, :] = np.clip(v, p["lo"], p["hi"])
    return out


@pytest.mark.parametrize("avg", [True, False])
@pytest.mark.parametrize("seed", range(6))
def test_pooling(engine, avg, seed):
    rng = np.random.default_rng(200 + seed)
    n, h, wd, c = 2, int(rng.integers(1, 6)), int(rng.integers(2, 12)), int(rng.integers(1, 5))
    p = dict(fh=int(rng.integers(1, 4)), fw=int(rng.integers(1, 5)), sh=int(rng.integers(1, 3)), sw=int(rng.integers(1, 3)))
    p["ph"], p["pw"] = int(rng.integers(0, p["fh"])), int(rng.integers(0, p["fw"]))
    p["oh"] = max(1, (h + p["ph"] - p["fh"]) // p["sh"] + 1)
    p["ow"] = max(1, (wd + p["pw"] - p["fw"]) // p["sw"] + 1)
    p["lo"], p["hi"] = (-128, 127) if seed % 2 else (-90, 100)
    x = rng.integers(-128, 128, (n, h, wd, c), dtype=np.int8)
    want = _ref_pool(x, p, avg)
    out = np.zeros_like(want)
    params = PoolParams(p["sw"], p["sh"], p["fw"], p["fh"], p["pw"], p["ph"], p["lo"], p["hi"])
    fn = engine.el_avgpool_s8 if avg else engine.el_maxpool_s8
    assert fn(ctypes.byref(params), ctypes.byref(Dims(n, h, wd, c)), ptr(x, i8),
              ctypes.byref(Dims(n, p["oh"], p["ow"], c)), ptr(out, i8)) == 0
    np.testing.assert_array_equal(out, want)


def test_avgpool_empty_window_is_an_error(engine):
    x = np.zeros((1, 1, 2, 1), dtype=np.int8)
    out = np.zeros((1, 1, 1, 1), dtype=np.int8)
    params = PoolParams(1, 1, 1, 1, 3, 0, -128, 127)  # the window starts three cells left of the image
    assert engine.el_avgpool_s8(ctypes.byref(params), ctypes.byref(Dims(1, 1, 2, 1)), ptr(x, i8),
                                ctypes.byref(Dims(1, 1, 1, 1)), ptr(out, i8)) != 0


def _ref_mean(x, mask, in_zp, out_zp, mult, shift):
    axes = tuple(d for d in range(x.ndim) if mask >> d & 1)
    count = int(np.prod([x.shape[d] for d in axes])) if axes else 1
    k = min(count.bit_length() - 1, 32, 31 + shift)
    m2 = (mult << k) // count
    s2 = shift - k
    total = x.astype(np.int64).sum(axis=axes) if axes else x.astype(np.int64)
    return np.clip(mbqm_np(total - in_zp * count, m2, s2) + out_zp, -128, 127).astype(np.int8).reshape(-1)


@pytest.mark.parametrize("shape,mask", [((1, 37, 5), 0b010), ((1, 6, 5, 4), 0b0110), ((2, 3, 4, 5), 0b1001),
                                        ((3, 8), 0b11), ((1, 200, 3), 0b010), ((4, 1, 9, 2), 0b1110)])
def test_mean(engine, shape, mask):
    rng = np.random.default_rng(len(shape) * 31 + mask)
    x = rng.integers(-128, 128, shape, dtype=np.int8)
    for ratio in (1.0, 0.37, 2.9):
        mult, shift = quantize_multiplier(ratio)
        in_zp, out_zp = int(rng.integers(-128, 128)), int(rng.integers(-128, 128))
        want = _ref_mean(x, mask, in_zp, out_zp, mult, shift)
        out = np.zeros(want.size, dtype=np.int8)
        dims = np.array(list(shape) + [1] * (4 - len(shape)), dtype=np.int32)
        assert engine.el_mean_s8(ptr(x, i8), ptr(dims, i32), len(shape), mask, in_zp, out_zp, mult, shift, ptr(out, i8)) == 0
        np.testing.assert_array_equal(out, want)


def test_requantize(engine):
    x = np.arange(-128, 128, dtype=np.int8)
    for ratio, in_zp, out_zp in ((0.5, 3, -7), (1.7, -128, 0), (1.0, 10, 10), (0.013, 0, 5)):
        mult, shift = quantize_multiplier(ratio)
        want = np.clip(mbqm_np(x.astype(np.int64) - in_zp, mult, shift) + out_zp, -128, 127).astype(np.int8)
        out = np.zeros_like(x)
        assert engine.el_requantize_s8(ptr(x, i8), x.size, in_zp, out_zp, mult, shift, ptr(out, i8)) == 0
        np.testing.assert_array_equal(out, want)


def test_quantize_and_dequantize(engine):
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(0, 3, 5000), np.arange(-300, 300) * 0.05, [0.025, -0.025, 0.075, -0.075, 1e30, -1e30, np.inf, -np.inf]]).astype(np.float32)
    scale, zp = np.float32(0.05), -3
    # TFLite: static_cast<int32>(round(x / (float)scale)) + zp, round half away from zero, float32 arithmetic.
    with np.errstate(over="ignore", invalid="ignore"):
        q = x / scale
        r = np.sign(q) * np.floor(np.abs(q) + np.float32(0.5))
        want = np.clip(np.clip(r, -1e9, 1e9).astype(np.int64) + zp, -128, 127).astype(np.int8)
    out = np.zeros(x.size, dtype=np.int8)
    assert engine.el_quantize_f32_s8(ptr(x, f32), x.size, float(scale), zp, ptr(out, i8)) == 0
    np.testing.assert_array_equal(out, want)

    qs = np.arange(-128, 128, dtype=np.int8)
    for s in (0.05, 0.0123456, 3.3e-5, 1.7):
        fs = np.float32(s)
        want_f = (np.float64(fs) * (qs.astype(np.float64) - zp)).astype(np.float32)  # TFLite: double product, then float
        got = np.zeros(qs.size, dtype=np.float32)
        assert engine.el_dequantize_s8_f32(ptr(qs, i8), qs.size, float(fs), zp, ptr(got, f32)) == 0
        np.testing.assert_array_equal(got.view(np.uint32), want_f.view(np.uint32))
