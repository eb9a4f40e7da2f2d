"""The session and the device's floor: refusals are final (never retried), a device with another floor is refused."""

from types import SimpleNamespace

import numpy as np
import pytest

from edgeleak.capture.store import DeviceReport
from edgeleak.errors import EdgeleakError
from edgeleak.fl.session import FloorRefusal, check_floor, device_round
from edgeleak.link.client import DeviceError, LinkTimeout
from edgeleak.privacy.floor import Floor
from edgeleak.train.config import ClipMode, NoiseKind, TrainConfig

CONFIG = TrainConfig(learning_rate=0.05, clip_mode=ClipMode.UPDATE, clip_norm=0.1, noise_kind=NoiseKind.GAUSSIAN,
                     noise_multiplier=0.01)


class RefusingClient:
    """Answers TRAIN with an ERROR frame of ``code`` (after ``timeouts`` link timeouts)."""

    def __init__(self, code, timeouts=0):
        self.code = code
        self.timeouts = timeouts
        self.trains = 0
        self.port = SimpleNamespace(reset_input_buffer=lambda: None)

    def hello(self):
        return SimpleNamespace(boot_id=1)

    def load_weights(self, params):
        pass

    def clear_samples(self):
        pass

    def add_sample(self, label, data):
        pass

    def configure(self, config):
        pass

    def train(self):
        self.trains += 1
        if self.timeouts:
            self.timeouts -= 1
            raise LinkTimeout("no reply")
        raise DeviceError(self.code, "the release would exceed the privacy budget")


def _round(client):
    dev = SimpleNamespace(client=client)
    return device_round(0, dev, np.zeros(4, np.float32), np.zeros((1, 8), np.int8), np.zeros(1, np.int64), CONFIG, None)


@pytest.mark.parametrize("code,name", [(8, "E_FLOOR"), (12, "E_BUDGET"), (13, "E_ENTROPY")])
def test_a_floor_refusal_ends_the_round_at_once(code, name):
    client = RefusingClient(code, timeouts=1)
    with pytest.raises(FloorRefusal) as info:
        _round(client)
    assert client.trains == 2  # the link timeout was retried, the refusal was not
    assert info.value.code == code and info.value.name == name
    assert "refused round 0 under its privacy floor" in str(info.value)


def test_other_device_errors_are_still_retried():
    client = RefusingClient(11)  # E_STATE
    with pytest.raises(EdgeleakError, match="failed round 0 3 times") as info:
        _round(client)
    assert not isinstance(info.value, FloorRefusal) and client.trains == 3


def _report(epsilon, delta):
    return DeviceReport(device=0, board="host", firmware_version="0.1.0", floor_epsilon=epsilon, floor_delta=delta)


def test_a_device_that_enforces_another_floor_is_refused():
    floor = Floor(8.0, 1e-5)
    check_floor(0, _report(float(np.float32(8.0)), float(np.float32(1e-5))), floor)  # as INFO's f32 fields carry it
    check_floor(0, _report(None, None), floor)  # a device that does not report its floor
    check_floor(0, _report(0.0, 1e-5), None)  # nothing asked for
    with pytest.raises(EdgeleakError, match="enforces no floor, not the epsilon_max 8 at delta 1e-05 asked for"):
        check_floor(0, _report(0.0, 1e-5), floor)
    with pytest.raises(EdgeleakError, match="enforces epsilon_max 4 at delta 1e-05"):
        check_floor(0, _report(4.0, 1e-5), floor)
    with pytest.raises(EdgeleakError, match="at delta 1e-06"):
        check_floor(0, _report(8.0, 1e-6), floor)


def test_device_reports_take_what_info_says_and_leave_the_rest_unknown():
    new = SimpleNamespace(board="host", firmware_version="0.2.0", boot_id=5, testing_build=False, floor_epsilon=8.0,
                          floor_delta=1e-5, floor_valid=True, entropy_source=2, rho_spent=0.0, epsilon_spent=0.0,
                          max_round_work=1 << 27)
    report = DeviceReport.from_info(3, new)
    assert (report.device, report.floor_epsilon, report.entropy, report.testing_build) == (3, 8.0, "operating system", False)
    assert DeviceReport.from_json(report.to_json()) == report
    old = SimpleNamespace(board="host", firmware_version="0.1.0", boot_id=5, testing_build=True)  # protocol 1
    report = DeviceReport.from_info(0, old)
    assert report.testing_build is True and report.floor_epsilon is None and report.entropy == "unknown"


def test_a_floored_session_records_the_floor_and_the_device_refuses_what_it_cannot_afford(zoo_models, basic_motions, tmp_path):
    """End to end on the host board (needs the protocol-2 firmware of docs/training.md)."""
    import math

    from edgeleak.boards import load_boards
    from edgeleak.capture.store import load_capture
    from edgeleak.device.model_dir import load_model_dir
    from edgeleak.fl.session import SessionPlan, run_session

    board = load_boards().get("host")
    model = load_model_dir(zoo_models["mlp"])
    floor = Floor(8.0, 1e-5)
    affordable = TrainConfig(learning_rate=0.05, clip_mode=ClipMode.UPDATE, clip_norm=0.1, noise_kind=NoiseKind.GAUSSIAN,
                             noise_multiplier=2.0)  # rho = 2B²/s² ≈ 0.5 per round: epsilon about 4 to 5 at 1e-5
    plan = SessionPlan(devices=1, rounds=2, config=affordable, samples_per_round=1, floor=floor)
    summary = run_session(board, model, basic_motions, plan, tmp_path / "ok")
    capture = load_capture(tmp_path / "ok")
    assert capture.session["floor"] == {"epsilon": 8.0, "delta": 1e-5}
    assert "-DEL_FLOOR_EPSILON=8.0" in capture.session["build_flags"]
    (report,) = capture.device_reports()
    assert report == summary.devices[0]
    assert report.floor_epsilon == pytest.approx(8.0) and report.floor_delta == pytest.approx(1e-5) and report.floor_valid
    assert report.entropy == "operating system" and report.testing_build is False
    for u in capture.updates:
        assert u.meta.floor_enforced is True
        assert 0 < u.meta.epsilon_total <= 8.0 and math.isfinite(u.meta.rho_total)
    too_weak = TrainConfig(**{**affordable.__dict__, "noise_multiplier": 0.5})  # rho ≈ 8: far beyond epsilon 8
    with pytest.raises(FloorRefusal) as info:
        run_session(board, model, basic_motions, SessionPlan(devices=1, rounds=1, config=too_weak, samples_per_round=1,
                                                             floor=floor), tmp_path / "budget")
    assert info.value.name == "E_BUDGET"
    no_noise = TrainConfig(learning_rate=0.05, clip_mode=ClipMode.UPDATE, clip_norm=0.1)
    with pytest.raises(FloorRefusal) as info:
        run_session(board, model, basic_motions, SessionPlan(devices=1, rounds=1, config=no_noise, samples_per_round=1,
                                                             floor=floor), tmp_path / "floor")
    assert info.value.name == "E_FLOOR"
