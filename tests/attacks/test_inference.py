"""Activity-mix and identity inference: on oracle updates (no device) and on a capture of a host-board session."""

import json
import shutil

import numpy as np
import pytest

from edgeleak import strict_json
from edgeleak.attacks.inference import (InferenceResult, ObservedUpdate, activity_mix_attack, identity_attack,
                                        infer_from_capture, observed_updates, simulate_updates, update_features)
from edgeleak.capture.store import TRUTH_FILE, load_capture
from edgeleak.device.model_dir import load_model_dir
from edgeleak.errors import EdgeleakError, NotApplicable
from edgeleak.fl.features import cut_features
from edgeleak.quantize.artifact import read_head
from edgeleak.train.config import TrainConfig
from edgeleak.train.oracle import train_round

CONFIG = TrainConfig(learning_rate=0.05, batch_size=8, local_steps=1)


@pytest.fixture(scope="module")
def mlp(zoo_models, basic_motions):
    """The mlp's head and the head features of every training window."""
    model = load_model_dir(zoo_models["mlp"])
    return read_head(model.artifact), cut_features(model, model.quantize(basic_motions.x_train)), basic_motions.y_train


def _skewed_device(head, features, labels, dominant, rng, samples=8, majority=6):
    """A device round of ``samples`` windows, ``majority`` of them of class ``dominant``, the rest of other classes."""
    others = np.flatnonzero(labels != dominant)
    picks = np.concatenate([rng.choice(np.flatnonzero(labels == dominant), majority),
                            rng.choice(others, samples - majority)])
    picks = picks[rng.permutation(samples)]
    delta = train_round(head, features[picks], labels[picks], CONFIG).delta
    mix = np.bincount(labels[picks], minlength=len(head[-1].bias)) / samples
    return delta, mix


def test_activity_mix_beats_chance_on_skewed_batches_of_8(mlp):
    head, features, labels = mlp
    # The server's auxiliary windows and the devices' windows are disjoint halves of the same split.
    aux = np.arange(len(labels)) % 2 == 0
    rng = np.random.default_rng(3)
    observed, truth = [], {}
    for device in range(24):
        delta, mix = _skewed_device(head, features[~aux], labels[~aux], device % 4, rng)
        observed.append(ObservedUpdate(device, 0, tuple(head), delta, CONFIG, 8))
        truth[device] = mix
    result = activity_mix_attack(observed, features[aux], labels[aux], truth, simulations=400, seed=0)
    assert result.property == "activity_mix" and result.targets == 24
    assert result.chance == pytest.approx(0.25)  # balanced classes: every class is a mode of the prior
    assert result.accuracy >= result.chance + 0.4, result
    assert result.error < 0.75 * result.chance_error, result


def test_simulated_updates_report_their_mixes(mlp):
    head, features, labels = mlp
    rng = np.random.default_rng(0)
    x, mixes = simulate_updates(head, features, labels, CONFIG, samples=8, count=12, rng=rng)
    assert x.shape == (12, 4 * (16 + 1) + 4) and mixes.shape == (12, 4)
    np.testing.assert_allclose(mixes.sum(axis=1), 1.0)
    assert np.all(np.isclose(mixes * 8, np.round(mixes * 8)))  # fractions of 8 windows
    _, fixed = simulate_updates(head, features, labels, CONFIG, samples=8, count=5, rng=rng,
                                class_mix=np.array([0.0, 0.0, 1.0, 0.0]))
    np.testing.assert_array_equal(fixed, np.tile([0.0, 0.0, 1.0, 0.0], (5, 1)))
    with pytest.raises(ValueError):
        simulate_updates(head, features, labels, CONFIG, samples=8, count=1, rng=rng, class_mix=np.ones(3))


def test_update_features_are_invariant_to_scaling(mlp):
    head, features, labels = mlp
    delta = train_round(head, features[:8], labels[:8], CONFIG).delta
    phi = update_features(delta, head)
    for c in (1e-3, 0.37, 12.0):
        np.testing.assert_allclose(update_features([d * np.float32(c) for d in delta], head), phi, rtol=1e-5, atol=1e-7)
    # One plain step is linear in the learning rate, so its features do not depend on it.
    tenfold = train_round(head, features[:8], labels[:8], TrainConfig(learning_rate=0.5, batch_size=8)).delta
    np.testing.assert_allclose(update_features(tenfold, head), phi, rtol=1e-4, atol=1e-6)
    other = train_round(head, features[8:16], labels[8:16], CONFIG).delta
    assert np.linalg.norm(update_features(other, head) - phi) > 1e-3  # not a constant
    assert not update_features([np.zeros_like(d) for d in delta], head).any()
    with pytest.raises(ValueError):
        update_features(delta[:2], head)


def _session(zoo_models, basic_motions, out, *, devices, rounds):
    from edgeleak.boards import load_boards
    from edgeleak.fl.session import SessionPlan, run_session

    plan = SessionPlan(devices=devices, rounds=rounds, config=TrainConfig(learning_rate=0.1, batch_size=4, local_steps=1),
                       partition="by-class", samples_per_round=4)
    run_session(load_boards().get("host"), load_model_dir(zoo_models["mlp"]), basic_motions, plan, out)
    return out


@pytest.fixture(scope="module")
def by_class_capture(zoo_models, basic_motions, tmp_path_factory):
    return _session(zoo_models, basic_motions, tmp_path_factory.mktemp("inference") / "cap", devices=4, rounds=6)


def test_a_host_capture_is_scored_for_mix_and_identity(by_class_capture):
    mix, identity = infer_from_capture(by_class_capture, seed=0, simulations=300)
    assert isinstance(mix, InferenceResult) and mix.property == "activity_mix" and identity.property == "identity"
    assert mix.targets == 4 and identity.targets == 4 * 3  # rounds 3..5 are the test half
    for result in (mix, identity):
        assert 0.0 <= result.accuracy <= 1.0 and 0.0 < result.chance <= 1.0
        plain = result.to_json()
        assert json.loads(strict_json.dumps(plain)) == json.loads(json.dumps(plain, allow_nan=False))
        assert set(plain) == {"property", "accuracy", "chance", "targets", "error", "chance_error", "notes"}
    assert identity.chance == pytest.approx(0.25) and identity.error is None and identity.chance_error is None
    assert 0.0 <= mix.error <= 2.0 and mix.chance_error == pytest.approx(1.5)  # one class per device, uniform prior
    # By class, every device holds one activity: both are far above chance.
    assert mix.accuracy > mix.chance and identity.accuracy > identity.chance
    assert mix.error < mix.chance_error


def test_the_attack_never_reads_the_truth_and_scoring_needs_it(by_class_capture, tmp_path):
    # The features the attack uses are functions of the update record alone.
    observed = observed_updates(load_capture(by_class_capture))
    assert len(observed) == 24 and {u.config.noise_multiplier for u in observed} == {0.0}
    blind = tmp_path / "blind"
    shutil.copytree(by_class_capture, blind)
    (blind / TRUTH_FILE).unlink()
    with pytest.raises(EdgeleakError, match="no ground truth"):
        infer_from_capture(blind)


def test_a_single_round_cannot_be_reidentified(zoo_models, basic_motions, tmp_path):
    capture = _session(zoo_models, basic_motions, tmp_path / "one", devices=2, rounds=1)
    with pytest.raises(NotApplicable) as caught:
        identity_attack(observed_updates(load_capture(capture)))
    assert caught.value.reason == "fewer than 2 rounds"
    with pytest.raises(NotApplicable):
        infer_from_capture(capture)
