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
