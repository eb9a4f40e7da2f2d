"""Builds the firmware engine as a host shared library and exposes it through ctypes."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
ENGINE_DIR = REPO / "firmware" / "src" / "engine"
SHIM = Path(__file__).resolve().parent / "engine_shim.c"
HOST_CFLAGS = ["-std=c99", "-O2", "-g", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared"]


def engine_sources() -> list[Path]:
    return sorted(ENGINE_DIR.glob("*.c"))


# --- ctypes mirrors of el_kernels.h ---------------------------------------------------------

class Dims(ctypes.Structure):
    _fields_ = [("n", ctypes.c_int32), ("h", ctypes.c_int32), ("w", ctypes.c_int32), ("c", ctypes.c_int32)]


class Requant(ctypes.Structure):
    _fields_ = [("multiplier", ctypes.POINTER(ctypes.c_int32)), ("shift", ctypes.POINTER(ctypes.c_int32)),
                ("n", ctypes.c_uint32)]


class FcParams(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int32) for name in
                ("input_offset", "filter_offset", "output_offset", "act_min", "act_max")]


class ConvParams(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int32) for name in
                ("input_offset", "output_offset", "act_min", "act_max", "stride_w", "stride_h",
                 "dilation_w", "dilation_h", "pad_w", "pad_h", "depth_multiplier")]


class PoolParams(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int32) for name in
                ("stride_w", "stride_h", "filter_w", "filter_h", "pad_w", "pad_h", "act_min", "act_max")]


def ptr(array: np.ndarray, ctype):
    assert array.flags["C_CONTIGUOUS"]
    return array.ctypes.data_as(ctypes.POINTER(ctype))


def requant(mult: np.ndarray, shift: np.ndarray) -> tuple[Requant, tuple]:
    m = np.ascontiguousarray(mult, dtype=np.int32)
    s = np.ascontiguousarray(shift, dtype=np.int32)
    return Requant(ptr(m, ctypes.c_int32), ptr(s, ctypes.c_int32), len(m)), (m, s)


class Engine:
    """The engine library with typed entry points."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.lib = lib
        i32, u32 = ctypes.c_int32, ctypes.c_uint32
        p8, p32, pf = ctypes.POINTER(ctypes.c_int8), ctypes.POINTER(ctypes.c_int32), ctypes.POINTER(ctypes.c_float)
        pu8 = ctypes.POINTER(ctypes.c_uint8)
        sig = {
            "t_srdhm": (i32, [i32, i32]), "t_rdbpot": (i32, [i32, i32]), "t_mbqm": (i32, [i32, i32, i32]),
            "t_srmbpot": (i32, [i32, i32]), "t_exp_on_negative_values": (i32, [i32, i32]),
            "t_one_over_one_plus_x": (i32, [i32]), "t_get_reciprocal": (i32, [i32, i32, p32]),
            "t_load": (i32, [pu8, u32, pu8, u32]),
            "t_run": (i32, [pu8, u32, i32, i32, pu8, u32, ctypes.POINTER(u32)]),
            "t_model_field": (u32, [i32]),
            "el_crc32": (u32, [u32, pu8, u32]),
            "el_fully_connected_s8": (i32, [ctypes.POINTER(FcParams), ctypes.POINTER(Requant), i32, i32, i32, p8, p8, p32, p8]),
            "el_conv_s8": (i32, [ctypes.POINTER(ConvParams), ctypes.POINTER(Requant), ctypes.POINTER(Dims), p8,
                                 ctypes.POINTER(Dims), p8, p32, ctypes.POINTER(Dims), p8]),
            "el_depthwise_conv_s8": (i32, [ctypes.POINTER(ConvParams), ctypes.POINTER(Requant), ctypes.POINTER(Dims), p8,
                                           ctypes.POINTER(Dims), p8, p32, ctypes.POINTER(Dims), p8]),
            "el_avgpool_s8": (i32, [ctypes.POINTER(PoolParams), ctypes.POINTER(Dims), p8, ctypes.POINTER(Dims), p8]),
            "el_maxpool_s8": (i32, [ctypes.POINTER(PoolParams), ctypes.POINTER(Dims), p8, ctypes.POINTER(Dims), p8]),
            "el_mean_s8": (i32, [p8, p32, ctypes.c_int, u32, i32, i32, i32, i32, p8]),
            "el_softmax_s8": (i32, [p8, i32, i32, i32, i32, i32, p8]),
            "el_quantize_f32_s8": (i32, [pf, u32, ctypes.c_float, i32, p8]),
            "el_requantize_s8": (i32, [p8, u32, i32, i32, i32, i32, p8]),
            "el_dequantize_s8_f32": (i32, [p8, u32, ctypes.c_float, i32, pf]),
        }
        for name, (res, args) in sig.items():
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = res, args

    def __getattr__(self, name):
        return getattr(self.lib, name)

    # -- whole-model helpers --
    def load(self, artifact: bytes, arena_len: int | None = None) -> tuple[int, object]:
        """Load an artifact; returns (status, keep-alive buffers). Buffers are 16-byte aligned."""
        art = _aligned(len(artifact))
        art[:] = np.frombuffer(artifact, dtype=np.uint8)
        if arena_len is None:
            arena_len = int.from_bytes(artifact[52:56], "little") if len(artifact) >= 56 else 0
        arena = _aligned(max(arena_len, 1))
        status = self.lib.t_load(ptr(art, ctypes.c_uint8), len(artifact), ptr(arena, ctypes.c_uint8), arena_len)
        return status, (art, arena)

    def run(self, x: np.ndarray, n_ops: int = -1, which: int = -1, out_len: int = 1 << 20) -> tuple[int, bytes]:
        inp = np.ascontiguousarray(x).view(np.uint8).reshape(-1)
        out = np.zeros(out_len, dtype=np.uint8)
        size = ctypes.c_uint32(0)
        status = self.lib.t_run(ptr(inp, ctypes.c_uint8), inp.size, n_ops, which, ptr(out, ctypes.c_uint8), out_len,
                                ctypes.byref(size))
        return status, out[:size.value].tobytes()


def _aligned(n: int) -> np.ndarray:
    """An n-byte buffer aligned to 4 (16 when padding is needed); exact-size when possible so that a
    sanitizer build sees reads past the end."""
    exact = np.zeros(n, dtype=np.uint8)
    if exact.ctypes.data % 4 == 0:
        return exact
    raw = np.zeros(n + 16, dtype=np.uint8)
    start = (-raw.ctypes.data) % 16
    return raw[start:start + n]


@pytest.fixture(scope="session")
def engine(tmp_path_factory) -> Engine:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no host C compiler")
    out = tmp_path_factory.mktemp("engine") / "libelengine.so"
    cmd = [cc, *HOST_CFLAGS, f"-I{ENGINE_DIR}", "-o", str(out), *map(str, engine_sources()), str(SHIM), "-lm"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return Engine(ctypes.CDLL(str(out)))
