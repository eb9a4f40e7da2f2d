"""The numpy oracle of on-device training, checked against TensorFlow autodiff and Keras SGD."""

import numpy as np
import pytest

from edgeleak.core.head import DenseLayer
from edgeleak.train.config import ClipMode, Encoding, NoiseKind, Sparsify, TrainConfig
from edgeleak.train.defenses import encode_decode, global_norm, top_k_indices
from edgeleak.train.oracle import batch_schedule, flatten_layers, train_round


def _head(rng, sizes=(12, 8, 3)):
    return [DenseLayer(rng.normal(0, 0.4, (o, i)).astype(np.float32), rng.normal(0, 0.1, o).astype(np.float32))
            for i, o in zip(sizes[:-1], sizes[1:])]


def _keras_sgd(layers, x, y, schedule, lr, momentum):
    import keras
    import tensorflow as tf

    inputs = keras.Input((layers[0].weights.shape[1],))
    h = inputs
    for k, layer in enumerate(layers):
        h = keras.layers.Dense(layer.weights.shape[0], activation="relu" if k < len(layers) - 1 else None)(h)
    model = keras.Model(inputs, h)
    for dense, layer in zip(model.layers[1:], layers):
        dense.set_weights([layer.weights.T, layer.bias])
    opt = keras.optimizers.SGD(learning_rate=lr, momentum=momentum)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    start = [v.numpy().copy() for v in model.trainable_variables]
    for batch in schedule:
        with tf.GradientTape() as tape:
            loss = loss_fn(y[batch], model(x[batch]))
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    return [(v.numpy() - s).T.reshape(-1) if v.ndim == 2 else (v.numpy() - s) for v, s in zip(model.trainable_variables, start)]


@pytest.mark.parametrize("batch,steps,momentum", [(1, 1, 0.0), (4, 3, 0.0), (3, 5, 0.9)])
def test_oracle_matches_keras_sgd(batch, steps, momentum):
    rng = np.random.default_rng(batch * 10 + steps)
    layers = _head(rng)
    x = rng.normal(size=(7, 12)).astype(np.float32)
    y = rng.integers(0, 3, 7)
    config = TrainConfig(learning_rate=0.05, momentum=momentum, batch_size=batch, local_steps=steps)
    oracle = train_round(layers, x, y, config)
    expected = _keras_sgd(layers, x, y, batch_schedule(len(x), config), 0.05, momentum)
    assert oracle.steps == steps
    for got, want in zip(oracle.delta, expected):
        assert np.linalg.norm(got - want) <= 1e-4 * np.linalg.norm(want) + 1e-7


def test_batches_follow_the_documented_order():
    assert batch_schedule(5, TrainConfig(batch_size=2, local_steps=4)) == [[0, 1], [2, 3], [4, 0], [1, 2]]
    assert batch_schedule(5, TrainConfig(batch_size=2, local_steps=0, epochs=2)) == [[0, 1], [2, 3], [4]] * 2
    assert batch_schedule(2, TrainConfig(batch_size=4, local_steps=1)) == [[0, 1]]


def test_single_sample_single_step_update_reveals_the_input():
    rng = np.random.default_rng(3)
    layers = _head(rng)
    x = rng.normal(size=(1, 12)).astype(np.float32)
    r = train_round(layers, x, np.array([2]), TrainConfig(learning_rate=0.1))
    w, b = r.delta[0].reshape(8, 12), r.delta[1]
    rows = np.flatnonzero(np.abs(b) > 1e-6)
    assert len(rows) > 0
    np.testing.assert_allclose(w[rows] / b[rows, None], np.repeat(x, len(rows), 0), rtol=1e-4, atol=1e-5)
    assert np.argmin(r.delta[3]) != 2 and r.delta[3][2] > 0  # the label's output bias moves up (delta = -lr (p - onehot))


def test_update_clipping_bounds_the_norm_and_reports_the_pre_clip_norm():
    rng = np.random.default_rng(4)
    layers = _head(rng)
    x, y = rng.normal(size=(6, 12)).astype(np.float32), rng.integers(0, 3, 6)
    free = train_round(layers, x, y, TrainConfig(learning_rate=0.5, batch_size=2, local_steps=3))
    clipped = train_round(layers, x, y, TrainConfig(learning_rate=0.5, batch_size=2, local_steps=3,
                                                     clip_mode=ClipMode.UPDATE, clip_norm=0.01))
    assert clipped.pre_clip_norm == pytest.approx(global_norm(list(free.delta)), rel=1e-6)
    assert global_norm(list(clipped.delta)) == pytest.approx(0.01, rel=1e-5)
    cosine = np.dot(np.concatenate(free.delta), np.concatenate(clipped.delta)) / (
        np.linalg.norm(np.concatenate(free.delta)) * np.linalg.norm(np.concatenate(clipped.delta)))
    assert cosine > 0.9999


def test_per_example_clipping_bounds_each_sample():
    rng = np.random.default_rng(5)
    layers = _head(rng)
    x, y = rng.normal(size=(4, 12)).astype(np.float32) * 10, rng.integers(0, 3, 4)
    r = train_round(layers, x, y, TrainConfig(learning_rate=1.0, batch_size=4, clip_mode=ClipMode.PER_EXAMPLE, clip_norm=0.5))
    # The mean of 4 vectors of norm <= 0.5, times lr 1.
    assert global_norm(list(r.delta)) <= 0.5 + 1e-6


def test_noise_has_the_documented_scale():
    rng = np.random.default_rng(6)
    layers = _head(rng, (200, 50, 4))
    x, y = rng.normal(size=(2, 200)).astype(np.float32), np.array([0, 1])
    base = TrainConfig(learning_rate=0.01, clip_mode=ClipMode.UPDATE, clip_norm=1.0)
    clean = np.concatenate(train_round(layers, x, y, base).delta)
    noisy_cfg = TrainConfig(learning_rate=0.01, clip_mode=ClipMode.UPDATE, clip_norm=1.0,
                            noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=0.02)
    noisy = np.concatenate(train_round(layers, x, y, noisy_cfg, rng=np.random.default_rng(0)).delta)
    assert np.std(noisy - clean) == pytest.approx(0.02, rel=0.05)
    with pytest.raises(ValueError, match="rng"):
        train_round(layers, x, y, noisy_cfg)


def test_top_k_keeps_the_largest_and_breaks_ties_by_index():
    v = np.array([0.1, -3.0, 3.0, 0.0, -0.2], np.float32)
    assert top_k_indices(v, 0.4).tolist() == [1, 2]
    assert top_k_indices(np.ones(5, np.float32), 0.4).tolist() == [0, 1]
    assert top_k_indices(v, 0.01).tolist() == [1]  # at least one


def test_encodings_round_as_documented():
    v = np.array([0.0, 1.0, -2.5, 1e5, 3.0e-8], np.float32)
    f16 = encode_decode(v, Encoding.FLOAT16)
    assert f16[3] == 65504.0 and f16[1] == 1.0
    q = encode_decode(np.array([1.27, -0.635, 0.0049], np.float32), Encoding.INT8)
    np.testing.assert_allclose(q, [1.27, -0.64, 0.0], atol=1e-6)  # -63.5 rounds away from zero
    assert np.all(encode_decode(np.zeros(3, np.float32), Encoding.INT8) == 0)


def test_invalid_configurations_are_refused():
    from edgeleak.errors import EdgeleakError

    with pytest.raises(EdgeleakError, match="learning rate"):
        TrainConfig(learning_rate=0)
    with pytest.raises(EdgeleakError, match="clip norm"):
        TrainConfig(clip_mode=ClipMode.UPDATE)
    with pytest.raises(EdgeleakError, match="per-example"):
        TrainConfig(noise_kind=NoiseKind.GAUSSIAN, noise_multiplier=1, clip_norm=1, noise_mode=1)
    assert len(TrainConfig(sparsify=Sparsify.TOP_K, sparsify_fraction=0.1).pack()) == 44
