"""The red team: its probes and scores as pure functions, then the whole command against the host board,
built with a privacy floor (every attack stopped, exit 0) and as an unfloored testing build (the attacks
the floor exists for get through, exit 1)."""

import dataclasses
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from edgeleak.boards import load_boards
from edgeleak.core.head import DenseLayer
from edgeleak.errors import EdgeleakError
from edgeleak.redteam import RedteamPlan, redteam, redteam_build_flags
from edgeleak.redteam.registry import all_attacks, select_attacks
from edgeleak.redteam.report import report_json, report_lines
from edgeleak.redteam.results import AttackResult, DeviceFacts, Figure, Outcome, RedteamReport, ReplayMode
from edgeleak.redteam.score import (cosine, epsilon_of_rho, head_shapes, int8_of_features, label_from_loss,
                                    label_probe, off_grid, value_from_loss, value_probe)
from edgeleak.train.oracle import example_gradient, features_from_cut

FLOORED = ("-DEL_FLOOR_EPSILON=8", "-DEL_FLOOR_DELTA=1e-5")
TESTING = ("-DEL_TESTING_BUILD=1",)
PLAN = RedteamPlan(rounds=150, probe_values=8)


def _split(flat, shapes):
    params, at = [], 0
    for n_in, n_out in shapes:
        params += [flat[at:at + n_in * n_out], flat[at + n_in * n_out:at + n_in * n_out + n_out]]
        at += n_in * n_out + n_out
    return params


@pytest.mark.parametrize("shapes", [[(24, 4)], [(24, 16), (16, 4)], [(600, 16), (16, 8), (8, 3)]])
def test_probes_recover_label_and_stored_values_from_the_oracles_loss(shapes):
    rng = np.random.default_rng(len(shapes))
    scale, zero_point = 0.0371, -7
    q = rng.integers(-128, 128, shapes[0][0])
    x = features_from_cut(q.astype(np.int8), scale, zero_point)
    classes = shapes[-1][1]
    for label in range(classes):
        _, loss = example_gradient(_split(label_probe(shapes), shapes), shapes, x, label)
        assert label_from_loss(np.float32(loss), classes) == label
        probed = (label + 1) % classes
        for j in (0, 1, shapes[0][0] - 1):
            weights = value_probe(shapes, j, probed, scale, zero_point)
            _, loss = example_gradient(_split(weights, shapes), shapes, x, label)
            assert value_from_loss(float(np.float32(loss)), classes) == q[j]
    np.testing.assert_array_equal(int8_of_features(x, scale, zero_point), q)


def test_scores():
    a = np.array([1.0, 0.0, 0.0])
    assert cosine(a, a) == pytest.approx(1.0) and cosine(a, -a) == pytest.approx(-1.0)
    assert math.isnan(cosine(a, np.zeros(3))) and math.isnan(cosine(a, np.array([np.nan, 0, 0])))
    assert 0 <= epsilon_of_rho(0.0, 1e-5) < 0.01 and math.isinf(epsilon_of_rho(math.inf, 1e-5))
    eps = [epsilon_of_rho(r, 1e-5) for r in (0.01, 0.1, 1.0, 10.0)]
    assert eps == sorted(eps) and eps[2] == pytest.approx(1 + 2 * math.sqrt(math.log(1e5)), rel=0.15)
    grid = np.ldexp(np.array([3.0, -17.0, 0.0]), -20).astype(np.float32)
    assert off_grid(grid, -20) == 0 and off_grid(grid + np.float32(1e-9), -20) == 3


def test_report_json_is_strict_and_has_one_record_per_attack():
    facts = DeviceFacts(board="host", firmware_version="0.1.0", protocol_version=2, model_hash="ab" * 32, boot_id=1,
                        trainable_params=10, max_samples=32, floor_epsilon=0.0, floor_delta=1e-5, floor_valid=True,
                        testing_build=True, entropy_source=2, rho_spent=math.inf, epsilon_spent=math.inf,
                        max_round_work=1 << 27)
    results = (AttackResult(2, "averaging", "averaging", Outcome("tried", False, "cosine 0.9",
                                                                 figures=(Figure("cosine", np.float32(0.9)),
                                                                          Figure("eps", math.inf), Figure("x", math.nan)))),
               AttackResult(6, "seed", "seed", Outcome("tried", True, "E_SEED", error="E_SEED")))
    report = RedteamReport(facts, "host", "model", ReplayMode(4, 0), results)
    text = report_json(report)
    data = json.loads(text, parse_constant=lambda token: pytest.fail(f"non-strict JSON token {token}"))
    assert [a["name"] for a in data["attacks"]] == ["averaging", "seed"]
    assert data["attacks"][0]["figures"] == {"cosine": pytest.approx(0.9), "eps": None, "x": None}
    assert data["device"]["epsilon_spent"] is None and data["all_stopped"] is False
    lines = report_lines(report)
    assert any("SUCCEEDED" in line and "averaging" in line for line in lines)
    assert lines[-1] == "1 of 2 attacks stopped; succeeded: averaging"


def test_registry_and_plan_refuse_what_they_do_not_know():
    names = [spec.name for spec in all_attacks()]
    assert len(names) == len(set(names)) >= 11
    assert [s.name for s in select_attacks(("seed", "metadata"))] == ["metadata", "seed"]
    with pytest.raises(EdgeleakError, match="unknown attack"):
        select_attacks(("nope",))
    with pytest.raises(EdgeleakError, match="rounds"):
        RedteamPlan(rounds=1)


def test_head_shapes():
    layers = [DenseLayer(np.zeros((16, 24), np.float32), np.zeros(16, np.float32)),
              DenseLayer(np.zeros((4, 16), np.float32), np.zeros(4, np.float32))]
    assert head_shapes(layers) == [(24, 16), (16, 4)]


# -- against the host board -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def host():
    return load_boards().get("host")


def test_build_flags_take_the_boards_floor_unless_one_is_given(host):
    from edgeleak.privacy.floor import Floor

    assert redteam_build_flags(host, ("EL_TESTING_BUILD=1",)) == ("-DEL_TESTING_BUILD=1",)
    floored = dataclasses.replace(host, floor=Floor(4.0))
    assert redteam_build_flags(floored, ()) == Floor(4.0).to_build_flags()
    assert redteam_build_flags(floored, FLOORED) == FLOORED
    with pytest.raises(EdgeleakError, match="not to a board on a port"):
        redteam_build_flags(host, TESTING, port="loop://")


def test_a_floored_build_stops_every_attack(zoo_models, host):
    progress = []
    report = redteam(host, zoo_models["mlp"], build_flags=FLOORED, plan=PLAN, progress=progress.append)
    print("\n".join(report_lines(report)))
    assert report.device.floor_epsilon == pytest.approx(8.0) and not report.device.testing_build
    assert [r.name for r in report.succeeded] == []
    by_name = {r.name: r for r in report.results}
    assert len(by_name) == len(all_attacks())
    assert by_name["no-defense"].outcome.error == "E_FLOOR"
    assert by_name["seed"].outcome.error == "E_SEED"
    assert by_name["metadata"].figure("values_recovered") == 0
    averaging = by_name["averaging"]
    assert averaging.figure("epsilon_spent") <= 8.0 and not averaging.figure("cosine_best") > 0.5
    assert by_name["replay"].figure("same_bytes") is True
    imprint = by_name["imprint"]  # crafted weights: refused without noise, nothing read out through it
    assert imprint.figure("recovered (no clip, no noise)") is None and imprint.outcome.error is None
    assert all(f.value in (None, 0) for f in imprint.outcome.figures)
    assert any(line.startswith("[") and "] averaging: averaging" in line for line in progress)


def test_an_unfloored_testing_build_lets_the_attacks_through(zoo_models, host):
    report = redteam(host, zoo_models["mlp"], build_flags=TESTING, plan=PLAN)
    print("\n".join(report_lines(report)))
    by_name = {r.name: r for r in report.results}
    assert report.device.testing_build and not report.device.floored
    for name in ("no-defense", "metadata", "averaging", "dpsgd-steps", "seed", "imprint"):
        assert not by_name[name].stopped, name
    imprint = by_name["imprint"]  # crafted weights read stored windows out of a batch, clipped or not, not through noise
    assert imprint.figure("recovered (no clip, no noise)") >= 2 and imprint.figure("recovered (update clip C=1, no noise)") >= 2
    assert imprint.figure("recovered (update clip C=1, Gaussian σ=1)") == 0
    metadata = by_name["metadata"]
    assert metadata.figure("values_recovered") == metadata.figure("values_probed") == PLAN.probe_values
    assert metadata.figure("label_recovered") is True
    averaging = by_name["averaging"]
    assert averaging.figure("cosine_single") < 0.3 < 0.5 < averaging.figure("cosine_average")
    assert by_name["seed"].figure("updates_identical") is True
    # What the firmware fixes in every build, floor or not.
    for name in ("useless-clip", "replay", "budget-reset", "hostile-weights", "float-noise"):
        assert by_name[name].stopped, name


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "edgeleak.cli", *args], capture_output=True, text=True, timeout=300)


def test_command_line_exit_codes(zoo_models, tmp_path):
    helped = _cli("redteam", "--help")
    assert helped.returncode == 0 and "--build-flag" in helped.stdout and "malicious server" in helped.stdout
    unknown = _cli("redteam", "--board", "host", "--model", str(zoo_models["mlp"]), "--attack", "nope")
    assert unknown.returncode == 2 and "unknown attack 'nope'" in unknown.stderr
    assert "Traceback" not in unknown.stderr and len(unknown.stderr.strip().splitlines()) == 1
    out = tmp_path / "redteam.json"
    floored = _cli("redteam", "--board", "host", "--model", str(zoo_models["mlp"]), "--attack", "seed",
                   "--attack", "no-defense", *(f"--build-flag={f}" for f in FLOORED), "--json", str(out))
    assert floored.returncode == 0, floored.stdout + floored.stderr
    assert "redteam: [1/2] no-defense" in floored.stderr and "2 of 2 attacks stopped" in floored.stdout
    assert [a["name"] for a in json.loads(out.read_text())["attacks"]] == ["no-defense", "seed"]
    unfloored = _cli("redteam", "--board", "host", "--model", str(zoo_models["mlp"]), "--attack", "seed",
                     "--build-flag", "EL_TESTING_BUILD=1")
    assert unfloored.returncode == 1 and "succeeded: seed" in unfloored.stdout


@pytest.mark.qemu
def test_a_floored_emulated_cortex_m4_stops_every_attack(zoo_models):
    """The same on the emulated Cortex-M4F (QEMU): a functional test, since its key comes from the host."""
    board = load_boards().get("mps2-an386")
    report = redteam(board, zoo_models["imu_cnn"], build_flags=FLOORED, plan=RedteamPlan(rounds=40, probe_values=4))
    print("\n".join(report_lines(report)))
    assert report.device.floor_epsilon == pytest.approx(8.0)
    assert [r.name for r in report.succeeded] == []
    assert "emulator" in {r.name: r for r in report.results}["entropy"].outcome.evidence
