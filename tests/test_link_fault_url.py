"""The fault:// link: URL forms, the byte damage (rates, seed, independence of how bytes are split), and the
pyserial handler over a pseudo-terminal and a TCP socket."""

import os
import pty
import select
import socket
import threading
import time
import tty

import numpy as np
import pytest
import serial
from hypothesis import given, settings, strategies as st

import edgeleak.link  # noqa: F401  (registers fault://)
from edgeleak.errors import EdgeleakError
from edgeleak.link.client import open_serial
from edgeleak.link.faults import READ, WRITTEN, FaultLine, FaultSpec
from edgeleak.link.protocol_fault import parse_fault_url


def test_url_forms():
    tcp = parse_fault_url("fault://127.0.0.1:5555?flip=1e-3&drop=2e-3&dup=3e-3&seed=7")
    assert tcp.inner == "socket://127.0.0.1:5555" and tcp.spec == FaultSpec(flip=1e-3, drop=2e-3, dup=3e-3, seed=7)
    path = parse_fault_url("fault:///dev/pts/5?flip=0.5")
    assert path.inner == "/dev/pts/5" and path.spec == FaultSpec(flip=0.5)
    assert parse_fault_url("fault:///dev/ttyACM0").spec.clean


@pytest.mark.parametrize("url,needle", [
    ("fault://", "no HOST:PORT and no device path"),
    ("fault://localhost?flip=0.1", "is not HOST:PORT"),
    ("fault://localhost:99999", "is not HOST:PORT"),
    ("fault://h:1/dev/x", "not both"),
    ("fault:///dev/x?flip=2", "flip must be a probability in [0, 1], got 2.0"),
    ("fault:///dev/x?drop=nan", "drop must be a probability"),
    ("fault:///dev/x?dup=-0.1", "dup must be a probability"),
    ("fault:///dev/x?seed=-1", "seed must be an integer >= 0"),
    ("fault:///dev/x?seed=1.5", "seed='1.5' is not a number"),
    ("fault:///dev/x?flip=0.1&flip=0.2", "given 2 times"),
    ("fault:///dev/x?noise=0.1", "unknown option 'noise'"),
    ("socket://h:1", "expected"),
])
def test_malformed_urls_are_refused_with_the_expected_form(url, needle):
    with pytest.raises(ValueError, match=None) as info:
        parse_fault_url(url)
    assert needle in str(info.value)


def test_a_spec_wraps_board_urls_and_parses_back():
    spec = FaultSpec(flip=1e-3, drop=0.25, dup=1e-4, seed=3)
    for url, inner in (("socket://127.0.0.1:4321", "socket://127.0.0.1:4321"), ("/dev/pts/9", "/dev/pts/9")):
        parsed = parse_fault_url(spec.wrap(url))
        assert parsed.inner == inner and parsed.spec == spec
    with pytest.raises(ValueError, match="wraps socket://HOST:PORT or a device path"):
        spec.wrap("loop://")


def test_no_damage_at_rate_zero():
    line = FaultLine(FaultSpec(seed=1), WRITTEN)
    data = bytes(range(256)) * 50
    assert line.apply(data) == data and line.counts.bytes == len(data) and line.counts.damaged == 0


def test_damage_rates_and_what_each_kind_does():
    spec = FaultSpec(flip=0.01, drop=0.02, dup=0.03, seed=5)
    data = bytes(np.random.default_rng(0).integers(0, 256, 200_000, dtype=np.uint8))
    line = FaultLine(spec, READ)
    out = line.apply(data)
    c = line.counts
    n = len(data)
    expected = ((c.dropped, spec.drop), (c.flipped, spec.flip * (1 - spec.drop)), (c.duplicated, spec.dup * (1 - spec.drop)))
    for count, rate in expected:
        assert abs(count - n * rate) < 5 * np.sqrt(n * rate), (count, n * rate)
    assert len(out) == n - c.dropped + c.duplicated
    assert c.flipped > 0 and out != data


def test_only_bit_flips_keep_the_length_and_flip_one_bit_each():
    data = bytes(np.random.default_rng(1).integers(0, 256, 50_000, dtype=np.uint8))
    line = FaultLine(FaultSpec(flip=0.01, seed=2), WRITTEN)
    out = line.apply(data)
    assert len(out) == len(data)
    diff = np.frombuffer(out, np.uint8) ^ np.frombuffer(data, np.uint8)
    changed = diff[diff != 0]
    assert len(changed) == line.counts.flipped > 0
    assert all(bin(int(d)).count("1") == 1 for d in changed)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 5000), min_size=1, max_size=12), st.integers(0, 2**31), st.sampled_from([WRITTEN, READ]))
def test_damage_depends_on_the_seed_and_position_not_on_how_bytes_are_split(sizes, seed, direction):
    data = bytes(np.random.default_rng(seed).integers(0, 256, sum(sizes), dtype=np.uint8))
    spec = FaultSpec(flip=0.01, drop=0.01, dup=0.01, seed=seed)
    whole = FaultLine(spec, direction).apply(data)
    line = FaultLine(spec, direction)
    pieces, at = [], 0
    for size in sizes:
        pieces.append(line.apply(data[at:at + size]))
        at += size
    assert b"".join(pieces) == whole
    other = FaultLine(FaultSpec(flip=0.01, drop=0.01, dup=0.01, seed=seed + 1), direction).apply(data)
    assert other != whole or len(data) < 200  # another seed, other damage (short inputs may see none)


def _read_for(port, seconds):
    got = b""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        got += port.read(65536)
    return got


def _os_read_for(fd, n, seconds):
    got = b""
    end = time.monotonic() + seconds
    while len(got) < n and time.monotonic() < end:
        if select.select([fd], [], [], 0.05)[0]:
            got += os.read(fd, 65536)
    return got


def _write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


def test_the_handler_damages_both_directions_of_a_pseudo_terminal():
    spec = FaultSpec(flip=0.01, drop=0.01, dup=0.01, seed=11)
    data = bytes(np.random.default_rng(3).integers(0, 256, 20_000, dtype=np.uint8))
    master, slave = pty.openpty()
    tty.setraw(master)
    try:
        port = serial.serial_for_url(spec.wrap(os.ttyname(slave)), timeout=0.05)
        try:
            sent = FaultLine(spec, WRITTEN).apply(data)
            got = []
            reader = threading.Thread(target=lambda: got.append(_os_read_for(master, len(sent), 5)))
            reader.start()  # a pseudo-terminal holds a few KB: read while writing
            port.write(data)
            port.flush()
            reader.join(10)
            assert got == [sent]
            writer = threading.Thread(target=_write_all, args=(master, data))
            writer.start()
            assert _read_for(port, 0.5) == FaultLine(spec, READ).apply(data)
            writer.join(10)
            faults = port.faults
            assert faults.written.bytes == faults.read.bytes == len(data)
            assert faults.written.damaged > 0 and faults.read.damaged > 0
        finally:
            port.close()
    finally:
        os.close(master)
        os.close(slave)


def test_the_handler_wraps_a_tcp_socket():
    spec = FaultSpec(flip=0.02, drop=0.02, dup=0.02, seed=4)
    data = bytes(np.random.default_rng(4).integers(0, 256, 10_000, dtype=np.uint8))
    server = socket.create_server(("127.0.0.1", 0))
    received = []

    def serve():
        conn, _ = server.accept()
        with conn:
            got = b""
            conn.settimeout(5)
            expected = len(FaultLine(spec, WRITTEN).apply(data))
            while len(got) < expected:
                got += conn.recv(65536)
            received.append(got)
            conn.sendall(data)
            time.sleep(0.5)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        port = serial.serial_for_url(f"fault://127.0.0.1:{server.getsockname()[1]}?{spec.query()}", timeout=0.05)
        try:
            port.write(data)
            echoed = _read_for(port, 0.4)
        finally:
            port.close()
    finally:
        thread.join(10)
        server.close()
    assert received == [FaultLine(spec, WRITTEN).apply(data)]
    assert echoed == FaultLine(spec, READ).apply(data)


def test_open_serial_reports_a_missing_device_under_fault():
    with pytest.raises(EdgeleakError, match="does not exist; is the board connected"):
        open_serial("fault:///dev/ttyEDGELEAK-NONE?flip=0.001")
    with pytest.raises(EdgeleakError, match="cannot open serial port"):
        open_serial("fault:///dev/x?flip=7")
