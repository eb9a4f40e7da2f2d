"""On-device training through the serial protocol, checked against the numpy oracle, and the defenses
the device applies before anything leaves it (including the privacy floor the server cannot lower)."""

import dataclasses
import struct
import math

import numpy as np
import pytest

from edgeleak.boards import load_boards
from edgeleak.core.head import DenseLayer
from edgeleak.device.model_dir import load_model_dir
from edgeleak.device.session import open_device
from edgeleak.errors import EdgeleakError
from edgeleak.fl.features import cut_features
from edgeleak.link.client import DeviceError
from edgeleak.link.messages import EntropySource, ErrorCode
from edgeleak.privacy.grid import epsilon_zcdp, rho_add, round_cost
from edgeleak.quantize.artifact import read_head
from edgeleak.train.config import ClipMode, Encoding, NoiseKind, NoiseMode, Sparsify, TrainConfig
from edgeleak.train.defenses import global_norm
from edgeleak.train.dgauss import ChaChaWords
from edgeleak.train.oracle import flatten_layers, train_round

TOLERANCE = 1e-5

CONFIGS = {
    "b1-k1": TrainConfig(learning_rate=0.05),
    "b4-k3-momentum": TrainConfig(learning_rate=0.05, momentum=0.9, batch_size=4, local_steps=3),
    "b3-epochs2": TrainConfig(learning_rate=0.02, batch_size=3, local_steps=0, epochs=2),
    "update-clip": TrainConfig(learning_rate=0.5, batch_size=2, local_steps=2, clip_mode=ClipMode.UPDATE, clip_norm=0.05),
    "per-example-clip": TrainConfig(learning_rate=0.5, batch_size=4, local_steps=2, clip_mode=ClipMode.PER_EXAMPLE, clip_norm=0.1),
    "top-k-f16": TrainConfig(learning_rate=0.05, batch_size=2, local_steps=2, sparsify=Sparsify.TOP_K,
                             sparsify_fraction=0.1, encoding=Encoding.FLOAT16),
    "int8": TrainConfig(learning_rate=0.05, batch_size=2, local_steps=2, encoding=Encoding.INT8),
}


@pytest.fixture(scope="module")
def boards():
    return load_boards()


def _round_inputs(model, data, count, seed):
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(data.x_train), count, replace=False)
    return model.quantize(data.x_train[pick]), data.y_train[pick]


def _oracle_features(model, inputs):
    return cut_features(model, inputs)


def _global_weights(model, seed):
    """The artifact's head, perturbed so that LOAD_WEIGHTS is what the round starts from."""
    rng = np.random.default_rng(seed)
    return [DenseLayer((l.weights + rng.normal(0, 0.01, l.weights.shape)).astype(np.float32),
                       (l.bias + rng.normal(0, 0.01, l.bias.shape)).astype(np.float32)) for l in read_head(model.artifact)]


def _relative_errors(update, oracle):
    return [np.linalg.norm(t.values - d) / max(np.linalg.norm(d), 1e-12) for t, d in zip(update.tensors, oracle.delta)]


def _qemu(board_name: str, model_name: str):
    return pytest.param(board_name, model_name, marks=pytest.mark.qemu, id=f"{model_name}-{board_name}")


# mps2-an500 (a boards.yaml entry only) and netduinoplus2 (the bare-metal STM32F4 port) train the convolutional model's
# head; the mlp's all-dense training does not fit netduinoplus2's 128 KB.
BOARD_MODELS = [pytest.param("host", m, id=f"{m}-host") for m in ("imu_cnn", "mlp")] + \
    [_qemu("mps2-an386", m) for m in ("imu_cnn", "mlp")] + [_qemu("mps2-an500", "imu_cnn"), _qemu("netduinoplus2", "imu_cnn")]


@pytest.mark.parametrize("board_name,model_name", BOARD_MODELS)
def test_device_update_equals_the_oracle(zoo_models, basic_motions, boards, board_name, model_name):
    model = load_model_dir(zoo_models[model_name])
    inputs, labels = _round_inputs(model, basic_motions, 6, seed=len(model_name))
    features = _oracle_features(model, inputs)
    layers = _global_weights(model, seed=1)
    with open_device(boards.get(board_name), model, build_flags=TESTING) as session:  # testing: norm and loss sent
        client = session.client
        assert session.info.trainable_params == sum(p.size for p in flatten_layers(layers))
        client.load_weights(np.concatenate(flatten_layers(layers)))
        client.clear_samples()
        for x, y in zip(inputs, labels):
            stored = client.add_sample(int(y), x.tobytes())
        assert stored == len(inputs)
        for name, config in CONFIGS.items():
            client.configure(config)
            update = client.train()
            oracle = train_round(layers, features, labels, config)
            assert update.meta.steps == oracle.steps and update.meta.samples == len(inputs), name
            assert update.meta.encoding == config.encoding and update.meta.clip_mode == config.clip_mode, name
            assert update.meta.epochs == (config.epochs if config.local_steps == 0 else 0), name
            assert update.meta.pre_clip_norm == pytest.approx(oracle.pre_clip_norm, rel=1e-4), name
            if config.encoding == Encoding.FLOAT32:
                assert max(_relative_errors(update, oracle)) <= TOLERANCE, name
            else:  # rounding to 16 or 8 bits may flip at a boundary; the decoded update still agrees closely
                assert max(_relative_errors(update, oracle)) <= 1e-2, name
            if config.sparsify == Sparsify.TOP_K:
                for t, d in zip(update.tensors, oracle.delta):
                    assert t.sent.sum() == max(1, int(np.ceil(0.1 * len(d))))
            if config.clip_mode == ClipMode.UPDATE:
                assert global_norm([t.values for t in update.tensors]) <= config.clip_norm * (1 + 1e-5)
        # A round starts from the global weights every time: the same request gives the same update.
        client.configure(CONFIGS["b1-k1"])
        first, second = client.train(), client.train()
        np.testing.assert_array_equal(first.flat(), second.flat())


def test_protocol_errors_leave_the_device_usable(zoo_models, basic_motions, boards):
    model = load_model_dir(zoo_models["imu_cnn"])
    inputs, labels = _round_inputs(model, basic_motions, 2, seed=5)
    with open_device(boards.get("host"), model) as session:
        client = session.client
        client.clear_samples()
        with pytest.raises(DeviceError) as info:
            client.train()
        assert info.value.code == ErrorCode.E_STATE
        with pytest.raises(DeviceError) as info:
            client.load_weights(np.zeros(7, np.float32))
        assert info.value.code == ErrorCode.E_LENGTH
        with pytest.raises(DeviceError) as info:
            client.add_sample(200, inputs[0].tobytes())  # no such class
        assert info.value.code == ErrorCode.E_CONFIG
        with pytest.raises(DeviceError) as info:
            client.add_sample(1, inputs[0].tobytes()[:-1])
        assert info.value.code == ErrorCode.E_LENGTH
        capacity = session.info.max_samples
        for k in range(capacity):
            client.add_sample(int(labels[k % 2]), inputs[k % 2].tobytes())
        with pytest.raises(DeviceError) as info:
            client.add_sample(0, inputs[0].tobytes())
        assert info.value.code == ErrorCode.E_FULL
        with pytest.raises(DeviceError) as info:
            client.request(0x05, bytes(44), 0x80)  # learning rate 0
        assert info.value.code == ErrorCode.E_CONFIG
        client.configure(TrainConfig(learning_rate=0.01, batch_size=capacity))
        assert client.train().meta.samples == capacity
        # the compute cap: K x B' x P example-parameter products per round at most
        client.configure(TrainConfig(learning_rate=0.01, batch_size=capacity, local_steps=0xFFFF))
        assert 0xFFFF * capacity * session.info.trainable_params > session.info.max_round_work
        with pytest.raises(DeviceError) as info:
            client.train()
        assert info.value.code == ErrorCode.E_CONFIG and "compute cap" in str(info.value)
        client.clear_samples()
        for mean, std in ((np.full(6, np.nan), basic_motions.std), (basic_motions.mean, np.full(6, np.inf)),
                          (np.full(6, -np.inf), basic_motions.std), (basic_motions.mean, np.zeros(6))):
            with pytest.raises(DeviceError) as info:  # a normalisation that is not finite is refused first
                client.sense(1, 2, mean, std)
            assert info.value.code == ErrorCode.E_CONFIG
        with pytest.raises(DeviceError) as info:  # sensor mode needs a board with a sensor
            client.sense(1, 2, basic_motions.mean, basic_motions.std)
        assert info.value.code == ErrorCode.E_STATE and "no sensor" in str(info.value)
        with pytest.raises(DeviceError) as info:
            client.request(0x0A, bytes([1, 6, 2, 0]), 0x80)  # mean and std missing
        assert info.value.code == ErrorCode.E_LENGTH


FLOOR = ("-DEL_FLOOR_EPSILON=30", "-DEL_FLOOR_DELTA=1e-5")
NOISY = TrainConfig(learning_rate=0.1, clip_mode=ClipMode.UPDATE, clip_norm=0.8, noise_kind=NoiseKind.GAUSSIAN,
                    noise_multiplier=1.5, round=3)


def test_the_privacy_floor_is_a_budget_the_server_cannot_lower_or_reset(zoo_models, basic_motions, boards):
    model = load_model_dir(zoo_models["imu_cnn"])
    inputs, labels = _round_inputs(model, basic_motions, 4, seed=7)
    with open_device(boards.get("host"), model, build_flags=FLOOR) as session:
        client = session.client
        info = session.info
        assert info.floor_epsilon == 30 and info.floor_delta == pytest.approx(1e-5) and info.floored and info.floor_valid
        assert not info.testing_build and info.entropy_source == EntropySource.OS and info.epsilon_spent == 0
        for x, y in zip(inputs, labels):
            client.add_sample(int(y), x.tobytes())
        with pytest.raises(DeviceError) as err:
            client.train()  # nothing configured yet: the defaults add no noise
        assert err.value.code == ErrorCode.E_FLOOR
        refused = {
            ErrorCode.E_FLOOR: [TrainConfig(learning_rate=0.1),
                                TrainConfig(learning_rate=0.1, clip_mode=ClipMode.UPDATE, clip_norm=1.0),
                                TrainConfig(learning_rate=0.1, clip_mode=ClipMode.UPDATE, clip_norm=1.0,
                                            noise_kind=NoiseKind.LAPLACE, noise_multiplier=5.0),
                                TrainConfig(learning_rate=0.1, clip_mode=ClipMode.UPDATE, clip_norm=1.0,
                                            noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=0.0)],
            ErrorCode.E_CONFIG: [TrainConfig(learning_rate=0.1, clip_norm=1e-30, noise_kind=NoiseKind.GAUSSIAN,
                                             noise_multiplier=0.5),  # noise without clipping
                                 TrainConfig(learning_rate=0.1, clip_mode=ClipMode.UPDATE, clip_norm=1.0,
                                             noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=500.0)],  # off the grid
            ErrorCode.E_SEED: [dataclasses.replace(NOISY, seed=42)],
        }
        for code, configs in refused.items():
            for config in configs:
                with pytest.raises(DeviceError) as err:
                    client.configure(config)
                assert err.value.code == code, config
        client.configure(NOISY)
        grid, per_round, rho_round = round_cost(NOISY, samples=4, params=info.trainable_params)
        update = client.train()
        train_seq = client.last_seq
        meta = update.meta
        assert (meta.round, meta.clip_mode, meta.noise_kind, meta.floor_enforced) == (3, ClipMode.UPDATE, NoiseKind.GAUSSIAN, True)
        assert (meta.sensitivity_units, meta.noise_units, meta.grid_exponent) == (grid.sens, grid.scale, grid.exponent)
        assert meta.compositions == per_round == 1 and meta.rho_total == rho_add(0.0, rho_round)
        assert meta.epsilon_total == pytest.approx(epsilon_zcdp(meta.rho_total, 1e-5), rel=1e-6)
        # no side channels outside testing builds
        assert meta.pre_clip_norm == 0 and meta.loss == 0 and meta.ticks == 0 and not meta.seeded
        assert client.stats().ticks == 0
        # the noise is there and on the grid: multiples of 2^e with the spread of s grid steps
        values = update.flat() / grid.step
        np.testing.assert_array_equal(values, np.round(values))
        assert np.std(values) == pytest.approx(grid.scale, rel=0.1)
        # a retransmitted TRAIN (same sequence number) gets the same update back and costs nothing
        again = client.train(seq=train_seq)
        np.testing.assert_array_equal(again.flat(), update.flat())
        assert again.meta.rho_total == meta.rho_total and client.hello().rho_spent == meta.rho_total
        # the budget: rounds until the next one would pass epsilon_max, then E_BUDGET and nothing more is charged
        released = 1
        while True:
            try:
                client.train()
            except DeviceError as err:
                assert err.code == ErrorCode.E_BUDGET
                break
            released += 1
            assert released < 100
        spent = client.hello()
        rho = 0.0
        for _ in range(released):
            rho = rho_add(rho, rho_round)
        assert spent.rho_spent == rho and spent.epsilon_spent <= 30
        assert epsilon_zcdp(rho_add(rho, rho_round), 1e-5) > 30
        with pytest.raises(DeviceError) as err:
            client.train()
        assert err.value.code == ErrorCode.E_BUDGET and client.hello().rho_spent == rho
        # the budget is only ever reset together with the samples
        client.clear_samples()
        assert client.hello().rho_spent == 0
        with pytest.raises(DeviceError) as err:
            client.train()
        assert err.value.code == ErrorCode.E_STATE and "no samples" in str(err.value)
        # hostile weights are refused
        with pytest.raises(DeviceError) as err:
            client.load_weights(np.full(info.trainable_params, np.nan, np.float32))
        assert err.value.code == ErrorCode.E_CONFIG


def test_a_floor_the_device_cannot_enforce_is_refused_at_build_time(zoo_models, boards):
    model = load_model_dir(zoo_models["imu_cnn"])
    for flags in (("-DEL_FLOOR_EPSILON=-1",), ("-DEL_FLOOR_EPSILON=nan",), ("-DEL_FLOOR_EPSILON=8", "-DEL_FLOOR_DELTA=0.5"),
                  ("-DEL_FLOOR_MAX_CLIP=1.0f",)):
        with pytest.raises(EdgeleakError):
            with open_device(boards.get("host"), model, build_flags=flags):
                pass


TESTING = ("-DEL_TESTING_BUILD=1",)


def test_seeded_noise_repeats_only_in_testing_builds(zoo_models, basic_motions, boards):
    model = load_model_dir(zoo_models["imu_cnn"])
    inputs, labels = _round_inputs(model, basic_motions, 3, seed=8)
    config = TrainConfig(learning_rate=0.1, batch_size=3, clip_mode=ClipMode.PER_EXAMPLE, clip_norm=0.5,
                         noise_kind=NoiseKind.LAPLACE, noise_multiplier=0.2, noise_mode=NoiseMode.STEP, seed=1234)
    with open_device(boards.get("host"), model, build_flags=TESTING) as session:
        client = session.client
        assert session.info.testing_build
        for x, y in zip(inputs, labels):
            client.add_sample(int(y), x.tobytes())
        client.configure(config)
        a = client.train()
        client.configure(config)
        b = client.train()
        client.configure(TrainConfig(**{**config.__dict__, "seed": 99}))
        c = client.train()
    assert a.meta.seeded and a.meta.noise_mode == NoiseMode.STEP
    np.testing.assert_array_equal(a.flat(), b.flat())
    assert not np.array_equal(a.flat(), c.flat())
    # Laplace noise of scale sigma*C = 0.1 on the summed batch gradient, divided by B = 3, times lr 0.1.
    features = _oracle_features(model, inputs)
    clean = train_round(read_head(model.artifact), features, labels,
                        TrainConfig(**{**config.__dict__, "noise_kind": NoiseKind.NONE, "seed": None}))
    residual = a.flat() - np.concatenate(clean.delta)
    assert np.std(residual) == pytest.approx(0.1 * np.sqrt(2) / 3 * 0.1, rel=0.1)


def test_seeded_discrete_gaussian_noise_is_the_oracles_draw_for_draw(zoo_models, basic_motions, boards):
    model = load_model_dir(zoo_models["mlp"])
    inputs, labels = _round_inputs(model, basic_motions, 3, seed=9)
    layers = read_head(model.artifact)
    features = _oracle_features(model, inputs)
    configs = [TrainConfig(learning_rate=0.2, batch_size=3, clip_mode=ClipMode.PER_EXAMPLE, clip_norm=0.5,
                           noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=0.8, seed=77),
               TrainConfig(learning_rate=0.2, batch_size=2, local_steps=2, clip_mode=ClipMode.PER_EXAMPLE, clip_norm=0.5,
                           noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=0.8, noise_mode=NoiseMode.STEP, seed=78)]
    with open_device(boards.get("host"), model, build_flags=TESTING) as session:
        client = session.client
        for x, y in zip(inputs, labels):
            client.add_sample(int(y), x.tobytes())
        for config in configs:
            client.configure(config)
            update = client.train()
            oracle = train_round(layers, features, labels, config, words=ChaChaWords(config.seed))
            device, reference = update.flat(), np.concatenate(oracle.delta)
            grid, _, _ = round_cost(config, samples=3, params=len(device))
            if config.noise_mode == NoiseMode.UPDATE:  # integers on the grid: equal but for rounding at a boundary
                assert np.mean(device == reference) > 0.999 and np.max(np.abs(device - reference)) <= grid.step
            else:  # the noisy steps feed the next ones: equal to float tolerance
                assert np.linalg.norm(device - reference) <= 1e-4 * np.linalg.norm(reference)
            assert update.meta.noise_units == grid.scale and update.meta.pre_clip_norm > 0  # testing build


def test_the_devices_epsilon_agrees_with_the_hosts_on_a_grid_of_configurations(zoo_models, basic_motions, boards):
    """Host (dp-accounting) and device agree for every configuration the device accepts: the device's figure is
    never below dp-accounting's RDP and within 1% of it, and at most 12% above PLD's."""
    from edgeleak.privacy.accounting import privacy_spend

    model = load_model_dir(zoo_models["imu_cnn"])
    inputs, labels = _round_inputs(model, basic_motions, 5, seed=10)
    grid = [dict(clip_mode=ClipMode.UPDATE, clip_norm=c, noise_multiplier=z) for c in (0.1, 1.0, 4.0) for z in (0.4, 1.0, 3.0)]
    grid += [dict(clip_mode=ClipMode.PER_EXAMPLE, clip_norm=0.5, noise_multiplier=z, noise_mode=NoiseMode.STEP,
                  batch_size=b, local_steps=k) for z in (0.8, 2.0) for b, k in ((2, 3), (5, 2))]
    grid += [dict(clip_mode=ClipMode.PER_EXAMPLE, clip_norm=0.5, noise_multiplier=1.2, noise_mode=NoiseMode.STEP,
                  batch_size=2, local_steps=0, epochs=2)]
    with open_device(boards.get("host"), model) as session:
        client = session.client
        for fields in grid:
            config = TrainConfig(learning_rate=0.05, noise_kind=NoiseKind.GAUSSIAN, **fields)
            client.clear_samples()
            for x, y in zip(inputs, labels):
                client.add_sample(int(y), x.tobytes())
            client.configure(config)
            for _ in range(2):
                update = client.train()
            host = privacy_spend(config, rounds=2, samples_per_round=5, parameters=session.info.trainable_params)
            device = update.meta.epsilon_total
            assert update.meta.rho_total == host.rho, fields
            assert device == pytest.approx(host.epsilon_device, rel=1e-6), fields
            assert host.epsilon_rdp * (1 - 1e-6) <= device <= host.epsilon_rdp * 1.01 + 1e-6, fields
            if not math.isnan(host.epsilon_pld):
                assert device <= host.epsilon_pld * 1.12 + 1e-6, fields


def test_noise_is_refused_on_a_weak_entropy_source_outside_testing_builds(zoo_models, basic_motions, boards, monkeypatch):
    monkeypatch.setenv("EL_HOST_ENTROPY", "weak")  # the host board plays a board without a hardware RNG
    model = load_model_dir(zoo_models["imu_cnn"])
    inputs, labels = _round_inputs(model, basic_motions, 2, seed=11)
    for flags, refused in (((), True), (TESTING, False)):
        with open_device(boards.get("host"), model, build_flags=flags) as session:
            client = session.client
            assert session.info.entropy_source == EntropySource.WEAK
            for x, y in zip(inputs, labels):
                client.add_sample(int(y), x.tobytes())
            client.configure(TrainConfig(learning_rate=0.1))
            client.train()  # no noise asked: no key needed
            client.configure(NOISY)
            if refused:
                with pytest.raises(DeviceError) as err:
                    client.train()
                assert err.value.code == ErrorCode.E_ENTROPY
            else:
                assert client.train().meta.noise_units > 0


def test_a_retransmitted_request_is_answered_again_without_running_twice(zoo_models, basic_motions, boards):
    """The link may lose a reply; the host resends the request with its sequence number. A SAMPLE stored once
    stays stored once, a CONFIGURE applied once answers the same, and a new sequence number runs again."""
    from edgeleak.link.messages import MsgType

    model = load_model_dir(zoo_models["imu_cnn"])
    inputs, labels = _round_inputs(model, basic_motions, 2, seed=12)
    body = bytes([int(labels[0]), 0, 0, 0]) + inputs[0].tobytes()
    with open_device(boards.get("host"), model) as session:
        client = session.client
        assert client.add_sample(int(labels[0]), inputs[0].tobytes()) == 1
        seq = client.last_seq
        for _ in range(3):  # the same SAMPLE again: the same reply, nothing stored
            assert client.request(MsgType.SAMPLE, body, MsgType.ACK, seq=seq) == struct.pack("<H", 1)
        assert client.add_sample(int(labels[1]), inputs[1].tobytes()) == 2  # a new request runs
        with pytest.raises(DeviceError) as err:
            client.request(MsgType.SAMPLE, bytes(3), MsgType.ACK)
        seq = client.last_seq
        with pytest.raises(DeviceError) as again:  # an error is answered the same way
            client.request(MsgType.SAMPLE, bytes(3), MsgType.ACK, seq=seq)
        assert err.value.code == again.value.code == ErrorCode.E_LENGTH
        client.configure(TrainConfig(learning_rate=0.1, batch_size=2))
        client.request(MsgType.CONFIGURE, TrainConfig(learning_rate=0.1, batch_size=2).pack(), MsgType.ACK,
                       seq=client.last_seq)
        assert client.train().meta.samples == 2


@pytest.mark.qemu
def test_the_emulated_stm32f4_reports_weak_entropy_and_refuses_noise(zoo_models, basic_motions, boards):
    """QEMU models no RNG on the STM32F405: the port must not claim one, so noise is refused outside testing builds."""
    model = load_model_dir(zoo_models["imu_cnn"])
    inputs, labels = _round_inputs(model, basic_motions, 2, seed=12)
    with open_device(boards.get("netduinoplus2"), model) as session:
        client = session.client
        assert session.info.board == "netduinoplus2" and session.info.entropy_source == EntropySource.WEAK
        for x, y in zip(inputs, labels):
            client.add_sample(int(y), x.tobytes())
        client.configure(TrainConfig(learning_rate=0.1))
        client.train()  # no noise asked: no key needed
        client.configure(NOISY)
        with pytest.raises(DeviceError) as err:
            client.train()
        assert err.value.code == ErrorCode.E_ENTROPY
