"""Exact discrete Gaussian sampling over a 32-bit word stream: the host's twin of
``firmware/src/train/el_dgauss.c`` (Canonne, Kamath, Steinke 2020; docs/training.md), in Python integers.

Given the same words, it returns the same integers as the device. ``ChaChaWords`` is the device's ChaCha20
stream (a seeded testing build); ``GeneratorWords`` draws the words from numpy for simulations."""

from __future__ import annotations

import struct
from typing import Protocol

import numpy as np

MAX_ABS = 1 << 18
_BERN_EXP_MAX_K = 1 << 14


class Words(Protocol):
    def u32(self) -> int: ...


class ChaChaWords:
    """ChaCha20 (RFC 8439) as the device uses it: key = seed little-endian then zeros, zero nonce, counter 0, 1, ...
    words little-endian in order."""

    _CHUNK = 4096

    def __init__(self, seed: int):
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

        key = struct.pack("<Q", seed) + bytes(24)
        self._enc = Cipher(algorithms.ChaCha20(key, bytes(16)), mode=None).encryptor()
        self._buf = np.empty(0, "<u4")
        self._at = 0

    def u32(self) -> int:
        if self._at == len(self._buf):
            self._buf = np.frombuffer(self._enc.update(bytes(4 * self._CHUNK)), "<u4")
            self._at = 0
        w = int(self._buf[self._at])
        self._at += 1
        return w


class GeneratorWords:
    """Words from a numpy Generator, drawn in blocks."""

    def __init__(self, rng: np.random.Generator):
        self._rng = rng
        self._buf = np.empty(0, np.uint32)
        self._at = 0

    def u32(self) -> int:
        if self._at == len(self._buf):
            self._buf = self._rng.integers(0, 1 << 32, 4096, dtype=np.uint64).astype(np.uint32)
            self._at = 0
        w = int(self._buf[self._at])
        self._at += 1
        return w


def uniform(words: Words, n: int) -> int:
    """Uniform on {0..n-1} by rejection: below 2^32 one word w, redrawn while w < 2^32 mod n, then w mod n;
    else the low k = bit length of n-1 bits of two words (low word first), redrawn while >= n; n = 1 draws nothing."""
    if n <= 1:
        return 0
    if n < 1 << 32:
        low = (1 << 32) % n
        while True:
            u = words.u32()
            if u >= low:
                return u % n
    k = (n - 1).bit_length()
    mask = (1 << k) - 1
    while True:
        u = words.u32()
        if k > 32:
            u |= words.u32() << 32
        u &= mask
        if u < n:
            return u


def _bern_exp_unit(words: Words, num: int, den: int) -> bool:
    k = 1
    while k < _BERN_EXP_MAX_K and uniform(words, den * k) < num:
        k += 1
    return bool(k & 1)


def bern_exp(words: Words, num: int, den: int) -> bool:
    """True with probability exp(-num/den)."""
    while num >= den:
        if not _bern_exp_unit(words, 1, 1):
            return False
        num -= den
    return _bern_exp_unit(words, num, den)


def discrete_laplace(words: Words, t: int) -> int:
    while True:
        u = uniform(words, t)
        if not bern_exp(words, u, t):
            continue
        v = 0
        while v <= MAX_ABS and bern_exp(words, 1, 1):
            v += 1
        x = u + t * v
        negative = words.u32() & 1
        if negative and x == 0:
            continue
        return -x if negative else x


def discrete_gaussian(words: Words, s: int) -> int:
    """N_Z(0, s²): P[x] ∝ exp(-x²/(2s²))."""
    s2 = s * s
    t = s + 1
    den = 2 * s2 * t * t
    while True:
        y = discrete_laplace(words, t)
        a = abs(y)
        if a > MAX_ABS:
            continue
        if bern_exp(words, (a * t - s2) ** 2, den):
            return y


def discrete_gaussian_vector(words: Words, s: int, n: int) -> np.ndarray:
    return np.fromiter((discrete_gaussian(words, s) for _ in range(n)), np.int64, n)
