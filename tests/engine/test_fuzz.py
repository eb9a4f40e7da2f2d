"""Coverage-guided fuzzing of the firmware (firmware/fuzz/, edgeleak.firmware.fuzz): the link targets (every byte a
server can send, into the device core with a trainable model) and the model loader target, built with clang's
libFuzzer, AddressSanitizer and UBSan, each run for a bounded slice (EDGELEAK_FUZZ_SECONDS, default 60) that must
end without a finding. Under CI a missing clang or libFuzzer runtime is a failure, not a skip. The seeds are
checked without clang too: the framed records are valid frames, and every seed artifact loads and runs."""

from __future__ import annotations

import os
import re
import struct

import numpy as np
import pytest

from edgeleak.firmware.fuzz import TARGETS, build_target, missing_toolchain, replay, run_target, summary
from edgeleak.firmware.fuzz_corpus import (BOARD_FRAMED, CHUNK_SIZES, CTL_ACKED, CTL_BAD_CRC, CTL_MORE, CTL_OLD_VERSION,
                                           CTL_RAW, Record, chunk_ctl, framed_input, link_model, link_seeds,
                                           loader_models, raw_input)
from edgeleak.link.messages import MsgType
from edgeleak.link.packet import FrameSplitter, PacketError, decode_frame

SECONDS = int(os.environ.get("EDGELEAK_FUZZ_SECONDS", "60"))

REPLIES_OF_THE_SEEDS = {
    "link": {0x7F, 0x80, 0x81, 0x82, 0x83, 0x84, 0x89, 0x8B},
    "link_floor": {0x7F, 0x80, 0x81, 0x82, 0x83, 0x84, 0x89, 0x8B},
}
"""Reply types the seeds must draw from the core (ERROR, ACK, INFO, OUTPUT, STATS_REPLY, CHUNK_ACK, UPDATE, PART): a
harness that
stopped reaching a handler (a model that no longer trains, a broken framing) fails here, not silently."""


def _toolchain():
    problem = missing_toolchain()
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"under CI the fuzz targets must build: {problem}")
    pytest.skip(problem)


@pytest.mark.parametrize("name", list(TARGETS))
def test_fuzz_target_runs_without_a_finding(name, tmp_path):
    _toolchain()
    built = build_target(TARGETS[name], tmp_path / "build")
    seeds = sorted(built.inputs.seeds.iterdir())
    first = replay(built, seeds, trace=True)
    assert first.returncode == 0, f"a seed input fails:\n{first.stderr[-6000:]}"
    if name in REPLIES_OF_THE_SEEDS:
        seen = {int(t, 16) for t in re.findall(r"^reply type 0x([0-9A-F]{2})", first.stderr, re.MULTILINE)}
        assert REPLIES_OF_THE_SEEDS[name] <= seen, f"the seeds drew only replies {sorted(map(hex, seen))}"
        assert re.search(r"^reset$", first.stderr, re.MULTILINE), "no seed reached RESET"
    result = run_target(built, tmp_path / "run", seconds=SECONDS)
    print(summary(result))
    if result.findings:
        pytest.fail(f"{summary(result)}\nreproducer(s) kept in {result.findings[0].parent}; replay one with\n"
                    f"  EL_FUZZ_TRACE=1 {built.binary} {result.findings[0]}\n\n{result.report}")
    assert result.clean, f"libFuzzer exited with {result.exit_code}:\n{result.log[-4000:]}"
    assert result.executions > 0 and result.cov > 0, result.log[-3000:]


# --- the seeds, without clang -----------------------------------------------------------------------------------

def _frames(wire: bytes) -> list:
    out = []
    for frame in FrameSplitter(max_frame=1 << 16).feed(wire):
        try:
            out.append(decode_frame(frame))
        except PacketError as exc:
            out.append(exc)
    return out


def test_framed_records_put_valid_frames_on_the_wire():
    body = bytes(range(256)) * 9  # 2304 bytes, zeros included
    for size in CHUNK_SIZES:
        packets = _frames(Record(MsgType.LOAD_WEIGHTS, 0x1234, body, chunk_ctl(size)).wire())
        assert b"".join(p.body for p in packets) == body
        assert all(p.type == MsgType.LOAD_WEIGHTS and p.seq == 0x1234 for p in packets)
        assert [p.more for p in packets] == [True] * (len(packets) - 1) + [False]
        assert all(len(p.body) == size for p in packets[:-1])
    (unfinished,) = _frames(Record(MsgType.CONFIGURE, 1, b"\x01\x02", CTL_MORE).wire())
    assert unfinished.more
    (bad,) = _frames(Record(MsgType.HELLO, 2, ctl=CTL_BAD_CRC).wire())
    assert isinstance(bad, PacketError) and bad.crc
    (old,) = _frames(Record(MsgType.HELLO, 3, ctl=CTL_OLD_VERSION).wire())
    assert isinstance(old, PacketError) and not old.crc
    assert Record(0, 0, b"\x01\x00garbage", CTL_RAW).wire() == b"\x01\x00garbage"
    acked = _frames(Record(MsgType.LOAD_WEIGHTS, 5, body, CTL_ACKED | chunk_ctl(1024), base=7).wire())
    assert [p.offset for p in acked] == [7, 1027, 2047] and [len(p.body) for p in acked] == [1024, 1024, 268]
    assert b"".join(p.body[4:] for p in acked) == body and [p.more for p in acked] == [True, True, False]


def test_framed_and_raw_seeds_encode_the_same_records():
    model = link_model()
    for name, (board, records) in link_seeds(model).items():
        framed = framed_input(board, records)
        assert framed[0] == board | BOARD_FRAMED, name
        at, decoded = 1, []
        while at < len(framed):
            mtype, ctl, seq, n = struct.unpack_from("<BBHH", framed, at)
            body = framed[at + 6:at + 6 + n]
            if ctl & CTL_ACKED:
                decoded.append(Record(mtype, seq, body[4:], ctl, struct.unpack_from("<I", body)[0]))
            else:
                decoded.append(Record(mtype, seq, body, ctl))
            at += 6 + n
        assert decoded == records, name
        assert raw_input(board, records)[1:] == b"".join(r.wire() for r in records)


def test_seed_artifacts_load_and_run_on_the_engine(engine):
    for name, model in loader_models().items():
        status, keep = engine.load(model.artifact)
        assert status == 0, name
        x = np.random.default_rng(0).integers(-128, 128, int(np.prod(model.input_shape)), dtype=np.int8)
        status, out = engine.run(x)
        assert status == 0 and len(out) == int(np.prod(model.output_shape)), name
        del keep
