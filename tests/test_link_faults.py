"""Link faults against a real host board: a corrupted frame is retransmitted, garbage is survived, and through a
fault:// link that drops, flips and duplicates bytes both ways, inference stays bit-exact, a training session
captures every update once, and a dead or hopeless link ends in one line."""

import dataclasses
import subprocess
import sys
import time

import numpy as np
import pytest

from edgeleak.boards import load_boards
from edgeleak.capture.store import load_capture
from edgeleak.device.build import build_for_model
from edgeleak.device.model_dir import load_model_dir
from edgeleak.device.verify import compare, reference_outputs, verification_inputs
from edgeleak.errors import EdgeleakError
from edgeleak.firmware.runners import host_board
from edgeleak.fl.session import SessionPlan, run_session
from edgeleak.link.client import DeviceClient, LinkGaveUp, LinkTimeout, open_serial
from edgeleak.link.faults import FaultSpec
from edgeleak.link.retry import RetryPolicy
from edgeleak.train.config import TrainConfig

NOISY = FaultSpec(flip=1e-3, drop=1e-3, dup=1e-3, seed=1)  # per byte, each kind, both directions


class CorruptingPort:
    """A serial port that flips one byte in the first ``count`` frames it writes (a noisy line)."""

    def __init__(self, port, count: int) -> None:
        self._port = port
        self.remaining = count

    def write(self, data: bytes) -> int:
        if self.remaining and len(data) > 6:
            self.remaining -= 1
            data = bytearray(data)
            data[5] = data[5] ^ 0x5A or 0x01  # stays non-zero so the frame still ends where it ended
            data = bytes(data)
        return self._port.write(data)

    def __getattr__(self, name):
        return getattr(self._port, name)


@pytest.fixture(scope="module")
def host_url(zoo_models):
    result, _ = build_for_model(load_boards().get("host"), zoo_models["imu_cnn"])
    with host_board(result.program) as url:
        yield url


def test_a_frame_that_fails_its_crc_is_resent(host_url, zoo_models, basic_motions):
    model = load_model_dir(zoo_models["imu_cnn"])
    x = model.quantize(basic_motions.x_test[:1])[0]
    with DeviceClient(open_serial(host_url), timeout=10) as clean:
        expected = clean.infer(x.tobytes()).output
    port = CorruptingPort(open_serial(host_url), count=2)
    with DeviceClient(port, timeout=10, retries=3) as client:
        assert client.infer(x.tobytes()).output == expected
        assert client.counters.retransmissions == 2 and port.remaining == 0


def test_garbage_on_the_line_does_not_confuse_the_device(host_url):
    serial_port = open_serial(host_url)
    serial_port.write(bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)) + b"\x00")
    with DeviceClient(serial_port, timeout=10) as client:
        info = client.hello()
        assert info.board == "host" and info.protocol_version == 2


def _client(url: str, faults: FaultSpec, **policy) -> DeviceClient:
    return DeviceClient(open_serial(faults.wrap(url)), policy=RetryPolicy.for_virtual_link(**policy))


def test_inferences_through_a_noisy_link_stay_bit_exact(host_url, zoo_models, basic_motions):
    from edgeleak.reference.interpreters import TflmReference

    model = load_model_dir(zoo_models["imu_cnn"])
    inputs = verification_inputs(model, basic_motions.x_test, 120, seed=3)
    with _client(host_url, NOISY) as client:
        assert client.hello().input_bytes == model.input_bytes
        outputs = np.stack([np.frombuffer(client.infer(x.tobytes()).output, np.int8) for x in inputs])
        faults, counters = client.port.faults, client.counters
    agreement = compare("TFLite Micro", outputs, reference_outputs(TflmReference(model.tflite), inputs))
    assert agreement.identical, agreement
    assert faults.written.damaged > 100 and faults.read.damaged > 0  # the line really was noisy, both ways
    assert counters.retransmissions > 100 and counters.gave_up == 0


def test_a_training_session_through_a_noisy_link_captures_every_update_once(zoo_models, basic_motions, tmp_path):
    """The same session on a clean and on a noisy link: the same updates, each captured once, no round redone
    (a SAMPLE stored twice would change the update, a lost UPDATE chunk would abort the round). The mlp's head
    is 38 KB: LOAD_WEIGHTS goes in acknowledged chunks, every UPDATE comes damaged and is fetched in parts."""
    board = load_boards().get("host")
    model = load_model_dir(zoo_models["mlp"])
    plan = SessionPlan(devices=2, rounds=2, config=TrainConfig(learning_rate=0.05, batch_size=4), samples_per_round=8)
    clean = run_session(board, model, basic_motions, plan, tmp_path / "clean")
    noisy = run_session(board, model, basic_motions, dataclasses.replace(plan, faults=NOISY), tmp_path / "noisy")
    assert clean.updates == noisy.updates == 4
    assert [r.redone for r in noisy.rounds] == [0, 0]
    assert noisy.link.gave_up == 0 and noisy.link.retransmissions > 0 and noisy.link.bad_frames > 0
    assert noisy.link.fetched_replies == 4  # (1 - 3e-3)^38,000: no UPDATE crosses whole
    assert clean.link.retransmissions == 0 and clean.link.bad_frames == 0 and clean.link.fetched_replies == 0

    def by_key(path):
        updates = load_capture(path).updates
        keys = [(u.device, u.round) for u in updates]
        assert sorted(keys) == [(d, r) for d in range(2) for r in range(2)]  # every update, once
        return {(u.device, u.round): u for u in updates}

    expected, got = by_key(tmp_path / "clean"), by_key(tmp_path / "noisy")
    for key, update in got.items():
        assert update.meta.samples == 8
        for a, b in zip(expected[key].tensors, update.tensors, strict=True):
            np.testing.assert_array_equal(a, b)


def test_a_dead_link_gives_up_in_one_line_after_bounded_retries(host_url):
    with _client(host_url, FaultSpec(drop=1.0), silence=1.0) as client:
        start = time.monotonic()
        with pytest.raises(LinkGaveUp) as info:
            client.hello()
        elapsed = time.monotonic() - start
    error = info.value
    assert isinstance(error, LinkTimeout) and isinstance(error, EdgeleakError) and error.dead
    assert "\n" not in str(error) and str(error).startswith("no reply from the device to HELLO"), str(error)
    assert 3 <= error.tally.attempts <= 200 and 1.0 <= elapsed < 3.0
    assert client.counters.gave_up == 1 and client.counters.bytes_received == 0


def test_a_hopeless_link_gives_up_naming_what_it_saw(host_url):
    with _client(host_url, FaultSpec(flip=0.05, seed=2), attempts=15) as client:
        with pytest.raises(LinkGaveUp) as info:
            client.infer(bytes(np.random.default_rng(0).integers(0, 256, 600, dtype=np.uint8)))
    error, text = info.value, str(info.value)
    assert not error.dead and error.tally.attempts == 15 and client.counters.retransmissions == 14
    assert "\n" not in text and text.startswith("the link is too noisy: INFER") and "failed 15 attempts" in text, text
    assert error.tally.bad_frames + error.tally.device_crc_errors > 0
    assert f"{error.tally.bad_frames} bad frames" in text and f"{error.tally.timeouts} timeouts" in text


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "edgeleak.cli", *args], capture_output=True, text=True, timeout=300)


def test_the_cli_takes_a_fault_url_as_its_port(host_url, zoo_models, basic_motions, tmp_path):
    from edgeleak.reference.interpreters import TflmReference

    x = basic_motions.x_test[:12]
    np.save(tmp_path / "x.npy", x)
    args = ["infer", "--board", "host", "--model", str(zoo_models["imu_cnn"]), "--input", str(tmp_path / "x.npy"),
            "--output", str(tmp_path / "y.npy")]
    proc = _cli(*args, "--port", NOISY.wrap(host_url))
    assert proc.returncode == 0, proc.stderr
    ref = TflmReference((zoo_models["imu_cnn"] / "model.tflite").read_bytes())
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), np.stack([ref.run(q) for q in ref.quantize_input(x)]))
    dead = _cli(*args, "--port", FaultSpec(drop=1.0).wrap(host_url))
    lines = dead.stderr.strip().splitlines()
    assert dead.returncode == 2 and len(lines) == 1, dead.stderr
    assert lines[0].startswith("edgeleak: error: no reply from the device to HELLO"), lines[0]


@pytest.mark.qemu
def test_an_emulated_board_through_a_noisy_socket(zoo_models, basic_motions):
    """fault://HOST:PORT around QEMU's UART socket: inference bit-exact, a round's update as on a clean link. The
    emulated UART runs at about its baud rate, so the damage is 1e-4 here (1e-3 on the host board above)."""
    from edgeleak.device.session import open_device
    from edgeleak.reference.interpreters import TflmReference

    board = load_boards().get("mps2-an386")
    model = load_model_dir(zoo_models["imu_cnn"])
    inputs = verification_inputs(model, basic_motions.x_test, 30, seed=5)
    samples = model.quantize(basic_motions.x_train[:4])
    config = TrainConfig(learning_rate=0.05, batch_size=2)
    updates = []
    for faults in (None, FaultSpec(flip=1e-4, drop=1e-4, dup=1e-4, seed=2)):
        with open_device(board, model, faults=faults) as session:
            client = session.client
            outputs = np.stack([np.frombuffer(client.infer(x.tobytes()).output, np.int8) for x in inputs])
            assert compare("TFLite Micro", outputs, reference_outputs(TflmReference(model.tflite), inputs)).identical
            client.clear_samples()
            client.load_weights(np.zeros(session.info.trainable_params, np.float32) + 0.01)
            for x, y in zip(samples, basic_motions.y_train[:4]):
                stored = client.add_sample(int(y), x.tobytes())
            assert stored == 4
            client.configure(config)
            updates.append(client.train())
            if faults is not None:
                assert session.url.startswith("fault://127.0.0.1:")
                assert client.counters.retransmissions > 0 and client.port.faults.written.damaged > 0
    for a, b in zip(updates[0].tensors, updates[1].tensors, strict=True):
        np.testing.assert_array_equal(a.values, b.values)
