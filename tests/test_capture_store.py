"""The capture store is append-only and crash-safe: completed records survive a kill at any moment."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest

from edgeleak.capture.records import CaptureWarning, RecordWriter, encode_record, read_records
from edgeleak.capture.store import CaptureWriter, load_capture
from edgeleak.errors import EdgeleakError
from edgeleak.train.config import ClipMode, Encoding, NoiseKind, NoiseMode, Sparsify
from edgeleak.train.update import TensorUpdate, Update, UpdateMeta


def _update(round_, seed):
    rng = np.random.default_rng(seed)
    meta = UpdateMeta(round=round_, boot_id=7, samples=4, steps=2, learning_rate=0.05, momentum=0.0, batch_size=2,
                      clip_mode=ClipMode.UPDATE, noise_kind=NoiseKind.GAUSSIAN, clip_norm=1.0, noise_multiplier=0.5,
                      noise_mode=NoiseMode.UPDATE, sparsify=Sparsify.NONE, encoding=Encoding.FLOAT16, seeded=False,
                      sparsify_fraction=1.0, pre_clip_norm=2.5, loss=1.2, ticks=1000)
    tensors = tuple(TensorUpdate(k, rng.normal(size=n).astype(np.float32), np.ones(n, bool), Encoding.FLOAT16, 1.0)
                    for k, n in enumerate((24 * 16, 16, 16 * 4, 4)))
    return Update(meta, tensors, 1234)


def test_updates_round_trip_with_their_metadata(tmp_path):
    with CaptureWriter(tmp_path / "cap", {"model_hash": "abc"}) as writer:
        writer.add_global(0, [np.ones(3, np.float32)])
        for device in range(3):
            writer.add_update(device=device, board="host", firmware_version="0.1.0", model_hash="abc", update=_update(0, device))
        writer.add_truth(device=0, round_=0, inputs=np.zeros((4, 100, 6), np.int8), windows=np.zeros((4, 100, 6)),
                         labels=np.arange(4))
    capture = load_capture(tmp_path / "cap")
    assert [u.device for u in capture.updates] == [0, 1, 2]
    first = capture.updates[0]
    assert first.meta == _update(0, 0).meta and first.meta.clip_mode == ClipMode.UPDATE
    for got, want in zip(first.tensors, _update(0, 0).tensors):
        np.testing.assert_array_equal(got, want.values)
    assert capture.globals[0].tensors[0].tolist() == [1, 1, 1]
    truth = capture.truth()
    assert truth[0].labels.tolist() == [0, 1, 2, 3] and truth[0].inputs.dtype == np.int8


def test_unbounded_and_non_finite_figures_are_strict_json_and_read_back(tmp_path):
    import dataclasses
    import math

    unbounded = dataclasses.replace(_update(0, 0).meta, loss=math.nan, sensitivity_units=0, noise_units=0, grid_exponent=0,
                                    compositions=0, rho_total=math.inf, epsilon_total=math.inf, floor_enforced=False)
    old = dataclasses.replace(_update(0, 1).meta, sensitivity_units=None)  # a protocol-1 update: privacy unknown
    with CaptureWriter(tmp_path / "cap", {"model_hash": "abc", "spent": math.inf}) as writer:
        for device, meta in enumerate((unbounded, old)):
            writer.add_update(device=device, board="host", firmware_version="0.1.0", model_hash="abc",
                              update=dataclasses.replace(_update(0, device), meta=meta))
    for name in ("updates.elc", "session.json"):
        raw = (tmp_path / "cap" / name).read_bytes()
        assert b"Infinity" not in raw and b"NaN" not in raw, name
    first, second = load_capture(tmp_path / "cap").updates
    assert first.meta.rho_total == math.inf and first.meta.epsilon_total == math.inf and math.isnan(first.meta.loss)
    assert second.meta.rho_total is None and second.meta.epsilon_total is None


def test_a_torn_last_record_is_skipped_with_a_warning(tmp_path):
    path = tmp_path / "updates.elc"
    with RecordWriter(path, "updates") as writer:
        for k in range(5):
            writer.append({"k": k}, {"x": np.full(100, k, np.float32)})
    full = path.read_bytes()
    last = encode_record({"k": 4}, {"x": np.full(100, 4, np.float32)})
    for cut in (1, 10, len(last) // 2, len(last) - 1):
        path.write_bytes(full[:-cut])
        with pytest.warns(CaptureWarning, match="incomplete|unreadable"):
            records = list(read_records(path, "updates"))
        assert [r.meta["k"] for r in records] == [0, 1, 2, 3]


def test_a_corrupt_record_in_the_middle_is_skipped_and_the_rest_survives(tmp_path):
    path = tmp_path / "updates.elc"
    with RecordWriter(path, "updates") as writer:
        for k in range(4):
            writer.append({"k": k}, {"x": np.full(50, k, np.float32)})
    data = bytearray(path.read_bytes())
    second = data.find(b"ELRC", data.find(b"ELRC") + 1)
    data[second + 40] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.warns(CaptureWarning, match="checksum"):
        assert [r.meta["k"] for r in read_records(path, "updates")] == [0, 2, 3]


def test_killing_the_writer_at_any_moment_keeps_every_completed_record(tmp_path):
    script = textwrap.dedent(f"""
        import numpy as np, sys
        from pathlib import Path
        from edgeleak.capture.records import RecordWriter
        with RecordWriter(Path({str(tmp_path / 'live.elc')!r}), "updates", fsync=False) as w:
            k = 0
            while True:
                w.append({{"k": k}}, {{"x": np.full(20000, k, np.float32)}})
                print(k, flush=True)
                k += 1
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    done = -1
    for _ in range(30):
        done = int(proc.stdout.readline())
    # Read while the writer is still appending: every record seen is intact.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CaptureWarning)
        live = list(read_records(tmp_path / "live.elc", "updates"))
    assert len(live) >= done + 1 and all(np.all(r.arrays["x"] == r.meta["k"]) for r in live)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CaptureWarning)
        records = list(read_records(tmp_path / "live.elc", "updates"))
    assert [r.meta["k"] for r in records] == list(range(len(records)))
    assert len(records) >= done + 1


def test_wrong_files_are_refused(tmp_path):
    (tmp_path / "x.elc").write_bytes(b"hello world, not a capture")
    with pytest.raises(EdgeleakError, match="not an edgeleak capture file"):
        list(read_records(tmp_path / "x.elc", "updates"))
    with RecordWriter(tmp_path / "t.elc", "truth") as w:
        w.append({}, {})
    with pytest.raises(EdgeleakError, match="not updates"):
        list(read_records(tmp_path / "t.elc", "updates"))
    with pytest.raises(EdgeleakError, match="is not a capture"):
        load_capture(tmp_path)
    with CaptureWriter(tmp_path / "cap", {"model_hash": "abc"}):
        pass
    with pytest.raises(EdgeleakError, match="another model"):
        CaptureWriter(tmp_path / "cap", {"model_hash": "def"})


OLD_META = {"round": 0, "boot_id": 7, "samples": 4, "steps": 2, "learning_rate": 0.05, "momentum": 0.0, "batch_size": 2,
            "clip_mode": 1, "noise_kind": 1, "clip_norm": 1.0, "noise_multiplier": 0.5, "noise_mode": 0, "sparsify": 0,
            "encoding": 0, "seeded": 0, "sparsify_fraction": 1.0, "pre_clip_norm": 2.5, "loss": 1.2, "ticks": 1000,
            "epochs": 0}


def _old_capture(path):
    """A capture as edgeleak wrote it before the floor was recorded: no device_info or floor in session.json, no
    privacy fields in the update metadata."""
    import json

    path.mkdir()
    (path / "session.json").write_text(json.dumps({"model_hash": "abc", "dataset": "basic_motions", "devices": 2,
                                                   "board": "host", "head_shapes": [[3, 1]], "build_flags": []}))
    with RecordWriter(path / "updates.elc", "updates") as writer:
        writer.append({"type": "global", "round": 0}, {"t0": np.zeros(3, np.float32), "t1": np.zeros(1, np.float32)})
        for device in range(2):
            writer.append({"type": "update", "device": device, "board": "host", "firmware_version": "0.1.0",
                           "model_hash": "abc", "received_at": 0.0, "payload_bytes": 32, "meta": {**OLD_META}},
                          {"t0": np.ones(3, np.float32), "m0": np.ones(3, bool), "t1": np.ones(1, np.float32),
                           "m1": np.ones(1, bool)})


def test_an_old_capture_loads_and_its_floor_is_unknown(tmp_path):
    _old_capture(tmp_path / "old")
    capture = load_capture(tmp_path / "old")
    assert len(capture.updates) == 2 and capture.updates[0].meta.clip_mode == ClipMode.UPDATE
    for name in ("rho_total", "epsilon_total", "floor_enforced", "compositions"):
        assert getattr(capture.updates[0].meta, name, None) is None
    reports = capture.device_reports()
    assert [(r.device, r.board, r.firmware_version) for r in reports] == [(0, "host", "0.1.0"), (1, "host", "0.1.0")]
    assert all(r.floor_epsilon is None and r.testing_build is None and r.entropy == "unknown" for r in reports)


def test_capture_inspect_shows_unknown_for_an_old_capture(tmp_path):
    _old_capture(tmp_path / "old")
    proc = subprocess.run([sys.executable, "-m", "edgeleak.cli", "capture", "inspect", str(tmp_path / "old")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "floor asked for at build: unknown" in out
    device_lines = [l for l in out.splitlines() if "host 0.1.0:" in l]
    assert len(device_lines) == 2
    assert all("floor unknown" in l and "entropy unknown" in l and "testing build unknown" in l
               and "epsilon spent unknown" in l for l in device_lines)
    rows = [l.split() for l in out.splitlines() if l.split()[:2] in (["0", "0"], ["0", "1"])]
    assert len(rows) == 2 and all(r[-3:] == ["unknown", "unknown", "unknown"] for r in rows)


def test_a_capture_keeps_what_each_device_reported(tmp_path):
    from edgeleak.capture.store import DeviceReport

    reports = [DeviceReport(device=k, board="mps2-an386", firmware_version="0.2.0", boot_id=9, testing_build=False,
                            floor_epsilon=8.0, floor_delta=1e-5, floor_valid=True, entropy_source=3, rho_spent=0.0,
                            epsilon_spent=0.0, max_round_work=1 << 27) for k in range(2)]
    session = {"model_hash": "abc", "devices": 2, "board": "mps2-an386", "floor": {"epsilon": 8.0, "delta": 1e-5},
               "device_info": [r.to_json() for r in reports]}
    with CaptureWriter(tmp_path / "cap", session) as writer:
        writer.add_global(0, [np.ones(3, np.float32)])
        writer.add_update(device=0, board="mps2-an386", firmware_version="0.2.0", model_hash="abc", update=_update(0, 0))
    assert load_capture(tmp_path / "cap").device_reports() == tuple(reports)
    proc = subprocess.run([sys.executable, "-m", "edgeleak.cli", "capture", "inspect", str(tmp_path / "cap")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "floor asked for at build: epsilon_max 8 at delta 1e-05" in proc.stdout
    assert proc.stdout.count("floor epsilon_max 8 at delta 1e-05, entropy emulator host (a functional test, "
                             "not a security claim), testing build no, epsilon spent 0 (rho 0)") == 2


def test_the_spend_after_each_release_round_trips_and_is_shown(tmp_path):
    import dataclasses
    import math

    base = _update(0, 0)
    meta = dataclasses.replace(base.meta, sensitivity_units=4000, noise_units=4000, grid_exponent=-20, compositions=1,
                               rho_total=0.5, epsilon_total=4.25, floor_enforced=True)
    unbounded = dataclasses.replace(meta, round=1, rho_total=math.inf, epsilon_total=math.inf, floor_enforced=False)
    with CaptureWriter(tmp_path / "cap", {"model_hash": "abc"}) as writer:
        writer.add_update(device=0, board="host", firmware_version="0.2.0", model_hash="abc", update=Update(meta, base.tensors, 1))
        writer.add_update(device=0, board="host", firmware_version="0.2.0", model_hash="abc",
                          update=Update(unbounded, base.tensors, 1))
    loaded = load_capture(tmp_path / "cap").updates
    assert loaded[0].meta == meta and loaded[1].meta == unbounded and loaded[0].meta.floor_enforced is True
    proc = subprocess.run([sys.executable, "-m", "edgeleak.cli", "capture", "inspect", str(tmp_path / "cap")],
                          capture_output=True, text=True)
    rows = [l.split() for l in proc.stdout.splitlines() if l.split()[:2] in (["0", "0"], ["1", "0"])]
    assert rows[0][-3:] == ["0.5", "4.25", "yes"] and rows[1][-3:] == ["inf", "inf", "no"]
