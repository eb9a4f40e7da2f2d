"""The device main loop over a real link: the host board (pty) and QEMU boards (TCP socket)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import time

import pytest
import serial

from conftest import QEMU_ENVS, needs_qemu
from edgeleak.firmware.runners import host_board, qemu_board
from tiny_model import INPUT_SIZE, OUTPUT_SIZE, expected_output, tiny_artifact
from wire import FrameReader, cobs_encode, frame, message_frames, packet

HELLO, INFER, STATS, RESET, ERROR, ACK, INFO, OUTPUT, STATS_REPLY = 1, 2, 3, 4, 0x7F, 0x80, 0x81, 0x82, 0x83


class Link:
    def __init__(self, url: str):
        self.port = serial.serial_for_url(url, timeout=0.2)
        self.reader = FrameReader()

    def send(self, *frames: bytes) -> None:
        for f in frames:
            self.port.write(f)

    def recv(self, timeout: float = 10.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            msgs = self.reader.feed(self.port.read(self.port.in_waiting or 1))
            if msgs:
                assert len(msgs) == 1, msgs
                return msgs[0]
        raise TimeoutError("no reply")

    def request(self, *frames: bytes, timeout: float = 10.0):
        self.send(*frames)
        return self.recv(timeout)

    def close(self):
        self.port.close()


@contextlib.contextmanager
def board(env, built, icount=False):
    result = built(env)
    runner = host_board(result.program) if env == "host" else qemu_board(result.program, machine=env, icount=icount)
    with runner as url:
        link = Link(url)
        try:
            yield link
        finally:
            link.close()


def parse_info(body: bytes) -> dict:
    proto, fmt, boot = struct.unpack_from("<HHI", body)
    arena, sram, hz = struct.unpack_from("<III", body, 40)
    n_in, n_out, largest = struct.unpack_from("<HHH", body, 52)
    name, version = body[60:].split(b"\0")[:2]
    return dict(proto=proto, fmt=fmt, boot=boot, hash=body[8:40], arena=arena, sram=sram, hz=hz,
                n_in=n_in, n_out=n_out, largest=largest, name=name.decode(), version=version.decode())


ENVS = ["host"] + [pytest.param(e, marks=[needs_qemu, pytest.mark.qemu]) for e in QEMU_ENVS]


@pytest.mark.parametrize("env", ENVS)
def test_protocol_session(env, built):
    with board(env, built) as link:
        t, seq, body = link.request(frame(HELLO, 100))
        assert (t, seq) == (INFO, 100)
        info = parse_info(body)
        assert info["proto"] == 2 and info["fmt"] == 1 and info["name"] == env and info["version"] == "0.1.0"
        assert info["hash"] == hashlib.sha256(tiny_artifact()[64:]).digest()
        assert (info["n_in"], info["n_out"], info["arena"]) == (INPUT_SIZE, OUTPUT_SIZE, 32)
        assert info["largest"] >= 1024
        if env != "host":
            assert info["hz"] == 25_000_000 and 0 < info["sram"] < 256 * 1024

        for x in (bytes(8), bytes([10, 20, 255, 1, 128, 127, 3, 4]), bytes(range(0x78, 0x80))):
            t, seq, body = link.request(frame(INFER, 7, x))
            assert (t, seq) == (OUTPUT, 7)
            assert body[4:] == expected_output(x)

        t, _, body = link.request(frame(STATS, 8))
        ticks, high_water, stack, runs = struct.unpack("<IIII", body)
        assert t == STATS_REPLY and runs == 3
        if env != "host":
            assert 0 < high_water < stack

        # errors
        t, seq, body = link.request(frame(INFER, 9, bytes(7)))
        assert (t, seq, struct.unpack_from("<H", body)[0]) == (ERROR, 9, 3)  # E_LENGTH
        t, seq, body = link.request(frame(INFER, 10, bytes(9)))
        assert (t, struct.unpack_from("<H", body)[0]) == (ERROR, 3)
        t, seq, body = link.request(frame(0x55, 11))
        assert (t, seq, struct.unpack_from("<H", body)[0]) == (ERROR, 11, 2)  # E_UNKNOWN
        t, seq, body = link.request(frame(HELLO, 12, b"x"))
        assert (t, struct.unpack_from("<H", body)[0]) == (ERROR, 3)
        bad = bytearray(packet(HELLO, 13))
        bad[-1] ^= 1
        t, seq, body = link.request(cobs_encode(bytes(bad)) + b"\0")
        assert (t, seq, struct.unpack_from("<H", body)[0]) == (ERROR, 13, 1)  # E_CRC
        t, seq, body = link.request(*message_frames(STATS, 14, bytes(5000)))
        assert (t, seq, struct.unpack_from("<H", body)[0]) == (ERROR, 14, 4)  # E_TOO_BIG

        # hostile bytes: nothing is answered, nothing hangs, the next HELLO works
        link.send(os.urandom(3000).replace(b"\0", b"\1") + b"\0" + bytes(range(1, 256)) * 3 + b"\0\0")
        t, seq, _ = link.request(frame(HELLO, 15))
        assert (t, seq) == (INFO, 15)

        # reset: ACK, then a new boot id
        t, seq, _ = link.request(frame(RESET, 16))
        assert (t, seq) == (ACK, 16)
        time.sleep(0.1)
        t, seq, body = link.request(frame(HELLO, 17))
        assert parse_info(body)["boot"] != info["boot"]
        t, _, body = link.request(frame(STATS, 18))
        assert struct.unpack("<IIII", body)[3] == 0


@needs_qemu
@pytest.mark.qemu
def test_icount_ticks_repeat(built):
    """Under -icount shift=0 the inference tick count repeats from run to run, to within the one-tick
    quantisation (a tick is 40 instructions; the start phase depends on when the request arrived)."""
    counts = []
    for _ in range(3):
        with board("mps2-an386", built, icount=True) as link:
            x = bytes([1, 2, 3, 4, 5, 6, 7, 8])
            counts.append(struct.unpack_from("<I", link.request(frame(INFER, 1, x))[2])[0])
    assert max(counts) - min(counts) <= 1 and min(counts) > 0


@needs_qemu
@pytest.mark.qemu
def test_boards_side_by_side(built):
    with board("mps2-an386", built) as a, board("mps2-an385", built) as b, board("host", built) as c:
        for link, name in ((a, "mps2-an386"), (b, "mps2-an385"), (c, "host")):
            assert parse_info(link.request(frame(HELLO, 1))[2])["name"] == name


@needs_qemu
@pytest.mark.qemu
def test_qemu_is_stopped_on_exception(built):
    elf = built("mps2-an386").program
    with pytest.raises(RuntimeError):
        with qemu_board(elf) as url:
            port = int(url.rsplit(":", 1)[1])
            raise RuntimeError("boom")
    time.sleep(0.2)
    with open("/proc/net/tcp", encoding="ascii") as f:
        assert ":%04X 00000000:0000 0A" % port not in f.read()
