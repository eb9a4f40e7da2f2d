"""Training messages on a model without a HEAD section (the tiny model): nothing trains, every
request is answered, the INFO training fields say so. Oracle comparisons with zoo models live in
tests/test_device_training.py."""

from __future__ import annotations

import struct

import pytest

from conftest import QEMU_ENVS, needs_qemu
from test_board import board
from wire import frame

HELLO, ERROR, ACK, INFO = 0x01, 0x7F, 0x80, 0x81
CONFIGURE, LOAD_WEIGHTS, SAMPLE, CLEAR_SAMPLES, TRAIN, RESEND, CHUNK_ACK = 0x05, 0x06, 0x07, 0x08, 0x09, 0x0B, 0x84
OFFSET = 0x02
E_LENGTH, E_CONFIG, E_SEED, E_STATE = 3, 7, 9, 11

ENVS = ["host"] + [pytest.param(e, marks=[needs_qemu, pytest.mark.qemu]) for e in QEMU_ENVS]


def configure(lr=0.01, batch=1, steps=1, seed=None) -> bytes:
    return struct.pack("<ffHHHBBffBBBBfQI", lr, 0.0, batch, steps, 1, 0, 0, 0.0, 0.0, 0, 0, 0,
                       int(seed is not None), 1.0, seed or 0, 0)


def error_code(reply) -> int:
    t, _, body = reply
    assert t == ERROR, reply
    return struct.unpack_from("<H", body)[0]


@pytest.mark.parametrize("env", ENVS)
def test_a_model_without_a_head_trains_nothing(env, built):
    with board(env, built) as link:
        t, _, body = link.request(frame(HELLO, 1))
        assert t == INFO
        assert struct.unpack_from("<H", body, 58)[0] == 0  # max samples
        tail = body[60:].split(b"\0", 2)[2]
        params, layers, eps_max, delta, testing, entropy, flags, _, rho, eps, cap = struct.unpack("<IHffBBBBdfI", tail)
        assert (params, layers, eps_max, testing, flags, rho, eps) == (0, 0, 0.0, 0, 1, 0.0, 0.0)  # no floor, valid
        assert delta == pytest.approx(1e-5) and cap == 1 << 27
        assert entropy == (2 if env == "host" else 3)  # the OS, or the emulator's host
        assert error_code(link.request(frame(TRAIN, 2))) == E_STATE
        assert error_code(link.request(frame(SAMPLE, 3, bytes(4 + 8)))) == E_STATE
        assert error_code(link.request(frame(LOAD_WEIGHTS, 4, bytes(8)))) == E_STATE
        assert link.request(frame(CLEAR_SAMPLES, 5))[0] == ACK
        assert error_code(link.request(frame(CLEAR_SAMPLES, 6, b"x"))) == E_LENGTH
        assert link.request(frame(CONFIGURE, 7, configure()))[0] == ACK
        assert error_code(link.request(frame(CONFIGURE, 8, configure()[:-1]))) == E_LENGTH
        assert error_code(link.request(frame(CONFIGURE, 9, bytes(44)))) == E_CONFIG
        assert error_code(link.request(frame(CONFIGURE, 10, configure(batch=33)))) == E_CONFIG
        assert error_code(link.request(frame(CONFIGURE, 11, configure(seed=5)))) == E_SEED
        assert error_code(link.request(frame(RESEND, 12, struct.pack("<HHI", 2, 64, 0)))) == E_STATE  # no UPDATE
        assert error_code(link.request(frame(RESEND, 13, b"\x02\x00"))) == E_LENGTH
        # an acknowledged chunk is acknowledged with the bytes held; a chunk after a gap changes nothing
        assert link.request(frame(CONFIGURE, 14, struct.pack("<I", 0) + configure()[:20], flags=OFFSET | 1)) \
            == (CHUNK_ACK, 14, struct.pack("<I", 20))
        assert link.request(frame(CONFIGURE, 14, struct.pack("<I", 30) + b"x", flags=OFFSET | 1)) \
            == (CHUNK_ACK, 14, struct.pack("<I", 20))
        assert link.request(frame(CONFIGURE, 14, struct.pack("<I", 20) + configure()[20:], flags=OFFSET))[0] == ACK
