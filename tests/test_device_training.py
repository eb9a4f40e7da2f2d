"""On-device training through the serial protocol, checked against the numpy oracle, and the defenses
the device applies before anything leaves it (including the privacy floor the server cannot lower)."""

import numpy as np
import pytest

from edgeleak.boards import load_boards
from edgeleak.device.model_dir import load_model_dir
from edgeleak.device.session import open_device
from edgeleak.errors import EdgeleakError
from edgeleak.link.client import DeviceError
from edgeleak.link.messages import ErrorCode
from edgeleak.quantize.artifact import DenseLayer, read_head
from edgeleak.fl.features import cut_features
from edgeleak.train.config import ClipMode, Encoding, NoiseKind, NoiseMode, Sparsify, TrainConfig
from edgeleak.train.defenses import global_norm
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


@pytest.mark.parametrize("board_name", ["host", pytest.param("mps2-an386", marks=pytest.mark.qemu)])
@pytest.mark.parametrize("model_name", ["imu_cnn", "mlp"])
def test_device_update_equals_the_oracle(zoo_models, basic_motions, boards, board_name, model_name):
    model = load_model_dir(zoo_models[model_name])
    inputs, labels = _round_inputs(model, basic_motions, 6, seed=len(model_name))
    features = _oracle_features(model, inputs)
    layers = _global_weights(model, seed=1)
    with open_device(boards.get(board_name), model) as session:
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
        client.clear_samples()
        with pytest.raises(DeviceError) as info:  # sensor mode needs a board with a sensor
            client.sense(1, 2, basic_motions.mean, basic_motions.std)
        assert info.value.code == ErrorCode.E_STATE and "no sensor" in str(info.value)
        with pytest.raises(DeviceError) as info:
            client.request(0x0A, bytes([1, 6, 2, 0]), 0x80)  # mean and std missing
        assert info.value.code == ErrorCode.E_LENGTH


FLOOR = ("-DEL_FLOOR_MAX_CLIP=1.0f", "-DEL_FLOOR_MIN_NOISE=0.5f")


def test_the_privacy_floor_cannot_be_lowered_by_the_server(zoo_models, basic_motions, boards):
    model = load_model_dir(zoo_models["imu_cnn"])
    inputs, labels = _round_inputs(model, basic_motions, 4, seed=7)
    with open_device(boards.get("host"), model, build_flags=FLOOR) as session:
        client = session.client
        assert session.info.floor_max_clip == pytest.approx(1.0) and session.info.floor_min_noise == pytest.approx(0.5)
        assert not session.info.testing_build
        for x, y in zip(inputs, labels):
            client.add_sample(int(y), x.tobytes())
        with pytest.raises(DeviceError) as info:
            client.train()  # nothing configured yet: the defaults would be below the floor
        assert info.value.code == ErrorCode.E_FLOOR
        weaker = [
            TrainConfig(learning_rate=0.1),
            TrainConfig(learning_rate=0.1, clip_mode=ClipMode.UPDATE, clip_norm=5.0, noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=1.0),
            TrainConfig(learning_rate=0.1, clip_mode=ClipMode.UPDATE, clip_norm=1.0, noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=0.1),
            TrainConfig(learning_rate=0.1, clip_mode=ClipMode.UPDATE, clip_norm=1.0),
        ]
        for config in weaker:
            with pytest.raises(DeviceError) as info:
                client.configure(config)
            assert info.value.code == ErrorCode.E_FLOOR
        with pytest.raises(DeviceError) as info:
            client.configure(TrainConfig(learning_rate=0.1, clip_mode=ClipMode.UPDATE, clip_norm=1.0,
                                         noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=0.5, seed=42))
        assert info.value.code == ErrorCode.E_SEED  # only builds marked for testing take a seed
        client.configure(TrainConfig(learning_rate=0.1, clip_mode=ClipMode.UPDATE, clip_norm=0.8,
                                     noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=0.75, round=3))
        update = client.train()
        meta = update.meta
        assert (meta.round, meta.clip_mode, meta.noise_kind) == (3, ClipMode.UPDATE, NoiseKind.GAUSSIAN)
        assert meta.clip_norm == pytest.approx(0.8) and meta.noise_multiplier == pytest.approx(0.75) and not meta.seeded
        # The noise is really there: its spread matches sigma * C over the head's coordinates.
        clipped_norm = min(meta.pre_clip_norm, 0.8)
        spread = np.std(update.flat())
        assert spread == pytest.approx(0.75 * 0.8, rel=0.1)
        assert np.linalg.norm(update.flat()) > 3 * clipped_norm


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
