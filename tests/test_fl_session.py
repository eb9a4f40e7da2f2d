"""Federated sessions over the serial protocol: FedAvg, capture integrity, recovery from resets."""

import subprocess
import sys

import numpy as np
import pytest

from edgeleak.boards import load_boards
from edgeleak.capture.store import load_capture
from edgeleak.device.model_dir import load_model_dir
from edgeleak.fl.fedavg import fedavg, layers_from_params
from edgeleak.fl.features import cut_features
from edgeleak.fl.session import SessionPlan, run_session
from edgeleak.train.config import TrainConfig
from edgeleak.train.oracle import train_round

CONFIG = TrainConfig(learning_rate=0.1, batch_size=4, local_steps=2)


def _check_capture_against_oracle(capture, model, rtol=1e-5):
    shapes = [tuple(s) for s in capture.session["head_shapes"]]
    truth = {(t.device, t.round): t for t in capture.truth()}
    for u in capture.updates:
        t = truth[(u.device, u.round)]
        layers = layers_from_params(list(capture.globals[u.round].tensors), shapes)
        config = TrainConfig(**{**CONFIG.__dict__, "round": u.round})
        oracle = train_round(layers, cut_features(model, t.inputs), t.labels, config)
        for got, want in zip(u.tensors, oracle.delta):
            assert np.linalg.norm(got - want) <= rtol * np.linalg.norm(want)
    for r in range(len(capture.globals) - 1):
        updates = [u for u in capture.updates if u.round == r]
        expected = fedavg(list(capture.globals[r].tensors), [(u.meta.samples, list(u.tensors)) for u in updates])
        for got, want in zip(capture.globals[r + 1].tensors, expected):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("board_name,devices,rounds", [("host", 3, 3), pytest.param("mps2-an386", 2, 2, marks=pytest.mark.qemu)])
def test_session_captures_every_update_exactly(zoo_models, basic_motions, tmp_path, board_name, devices, rounds):
    model = load_model_dir(zoo_models["imu_cnn"])
    plan = SessionPlan(devices=devices, rounds=rounds, config=CONFIG, samples_per_round=6)
    summary = run_session(load_boards().get(board_name), model, basic_motions, plan, tmp_path / "cap")
    assert summary.updates == devices * rounds and len(summary.rounds) == rounds
    assert all(0.0 <= r.accuracy <= 1.0 and r.wire_bytes > 0 for r in summary.rounds)
    capture = load_capture(tmp_path / "cap")
    assert sorted((u.round, u.device) for u in capture.updates) == [(r, d) for r in range(rounds) for d in range(devices)]
    assert {u.model_hash for u in capture.updates} == {model.sha256}
    assert {u.board for u in capture.updates} == {board_name}
    shares = [set(s) for s in capture.session["shares"]]
    assert all(a.isdisjoint(b) for i, a in enumerate(shares) for b in shares[i + 1:])
    _check_capture_against_oracle(capture, model)


def test_a_device_reset_mid_round_redoes_the_round_without_mixing(zoo_models, basic_motions, tmp_path):
    model = load_model_dir(zoo_models["imu_cnn"])
    resets = []

    def reset_once(event, device, round_, session):
        if event == "samples_sent" and (device, round_) == (1, 1) and not resets:
            resets.append(session.client.hello().boot_id)
            session.client.reset()  # the device forgets its samples, weights and configuration

    plan = SessionPlan(devices=2, rounds=3, config=CONFIG, samples_per_round=5)
    summary = run_session(load_boards().get("host"), model, basic_motions, plan, tmp_path / "cap", on_event=reset_once)
    assert resets and [r.redone for r in summary.rounds] == [0, 1, 0]
    capture = load_capture(tmp_path / "cap")
    assert len(capture.updates) == 6  # one per device and round: the interrupted one was not kept
    boots = {u.meta.boot_id for u in capture.updates if u.device == 1}
    assert len(boots) == 2 and resets[0] in boots  # a new boot id after the reset
    _check_capture_against_oracle(capture, model)


def test_cli_train_and_capture_inspect(zoo_models, tmp_path):
    out = tmp_path / "cap"
    proc = subprocess.run([sys.executable, "-m", "edgeleak.cli", "train", "--board", "host", "--model", str(zoo_models["mlp"]),
                           "--devices", "2", "--rounds", "2", "--batch", "1", "--clip", "1.0", "--noise", "0.1",
                           "--encoding", "int8", "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "4 updates from 2 devices over 2 rounds" in proc.stdout and "global accuracy" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "edgeleak.cli", "capture", "inspect", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "2 rounds, 4 updates" in proc.stdout and "clip update C=1" in proc.stdout and "encoding int8" in proc.stdout
    bad = subprocess.run([sys.executable, "-m", "edgeleak.cli", "capture", "inspect", str(tmp_path)], capture_output=True, text=True)
    assert bad.returncode == 2 and "is not a capture" in bad.stderr


@pytest.mark.qemu
def test_client_sampling_on_a_mixed_fleet_captures_only_the_picked_devices(zoo_models, basic_motions, tmp_path):
    """An emulated board and host stand-ins in one session; the server samples 2 of 4 devices a round."""
    from edgeleak.fl.session import participants_by_round

    model = load_model_dir(zoo_models["imu_cnn"])
    boards = load_boards()
    fleet = [boards.get("mps2-an386")] + [boards.get("host")] * 3
    plan = SessionPlan(devices=4, rounds=5, config=CONFIG, samples_per_round=3, participants=2, seed=3)
    summary = run_session(fleet, model, basic_motions, plan, tmp_path / "cap")
    picked = participants_by_round(plan)
    assert all(len(p) == 2 for p in picked) and len({tuple(p) for p in picked}) > 1  # it does sample
    capture = load_capture(tmp_path / "cap")
    assert capture.session["participants"] == [p.tolist() for p in picked]
    assert capture.session["boards"] == ["mps2-an386", "host", "host", "host"]
    assert sorted((u.round, u.device) for u in capture.updates) == sorted((r, int(d)) for r, p in enumerate(picked) for d in p)
    assert {u.board for u in capture.updates if u.device == 0} <= {"mps2-an386"}
    # Each device walks through its share over the rounds it took part in; every release is counted per window.
    assert summary.participations == tuple(int(sum(k in p for p in picked)) for k in range(4))
    assert sum(summary.window_releases) == 3 * 2 * 5
    truth = capture.truth()
    for k in range(4):
        sent = [t for t in sorted(truth, key=lambda t: t.round) if t.device == k]
        share = capture.session["shares"][k]
        expected = [share[(turn * 3 + i) % len(share)] for turn in range(len(sent)) for i in range(3)]
        got = [int(np.flatnonzero((basic_motions.x_train == w).all(axis=(1, 2)))[0]) for t in sent for w in t.windows]
        assert got == expected
    # float32 on two machines, one update as small as 1e-3 in norm: agreement to 1e-4 of it
    _check_capture_against_oracle(capture, model, rtol=1e-4)


def test_a_plan_samples_no_more_devices_than_it_has():
    from edgeleak.errors import EdgeleakError

    with pytest.raises(EdgeleakError, match="participants per round must be between 1 and 3"):
        SessionPlan(devices=3, rounds=1, config=CONFIG, participants=4)
