"""The TensorFlow replica of a round equals the numpy oracle (docs/training.md) and is differentiable."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest
import tensorflow as tf

from edgeleak.attacks.replica import RoundSpec, head_tensors, simulate_round
from edgeleak.core.head import DenseLayer
from edgeleak.train.config import ClipMode, TrainConfig
from edgeleak.train.oracle import train_round


def _head(rng, sizes):
    return [DenseLayer(rng.normal(0, 0.4, (o, i)).astype(np.float32), rng.normal(0, 0.1, o).astype(np.float32))
            for i, o in zip(sizes[:-1], sizes[1:])]


CONFIGS = [
    dict(batch_size=1, local_steps=1),
    dict(batch_size=4, local_steps=1),
    dict(batch_size=1, local_steps=3),
    dict(batch_size=4, local_steps=3, momentum=0.9),
    dict(batch_size=3, local_steps=0, epochs=2, momentum=0.5),
    dict(batch_size=2, local_steps=3, clip_mode=ClipMode.PER_EXAMPLE, clip_norm=0.5),
    dict(batch_size=4, local_steps=2, momentum=0.9, clip_mode=ClipMode.UPDATE, clip_norm=0.05),
]


@pytest.mark.parametrize("sizes", [(12, 8, 3), (20, 10, 6, 4)])
@pytest.mark.parametrize("options", CONFIGS)
def test_replica_equals_oracle(sizes, options):
    rng = np.random.default_rng(len(sizes) * 100 + len(str(options)))
    layers = _head(rng, sizes)
    x = rng.normal(size=(7, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], 7)
    config = TrainConfig(learning_rate=0.1, **options)
    want = train_round(layers, x, y, config).delta
    got = simulate_round(head_tensors(layers), tf.constant(x), tf.constant(y), RoundSpec.from_config(config, len(x)))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert np.linalg.norm(g.numpy() - w) <= 1e-5 * np.linalg.norm(w)


def test_replica_accepts_soft_labels_and_gives_input_gradients():
    rng = np.random.default_rng(0)
    layers = _head(rng, (12, 8, 3))
    x = tf.Variable(rng.normal(size=(2, 12)).astype(np.float32))
    y = np.array([0, 2])
    spec = RoundSpec.build(samples=2, learning_rate=0.1, batch_size=2, local_steps=2, momentum=0.9)
    hard = simulate_round(head_tensors(layers), x, tf.constant(y), spec)
    soft = simulate_round(head_tensors(layers), x, tf.one_hot(y, 3), spec)
    for a, b in zip(hard, soft):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-9)
    with tf.GradientTape() as tape:
        loss = tf.add_n([tf.reduce_sum(tf.square(d)) for d in simulate_round(head_tensors(layers), x, tf.constant(y), spec)])
    grad = tf.convert_to_tensor(tape.gradient(loss, x))
    assert grad is not None and np.all(np.isfinite(grad.numpy())) and np.abs(grad.numpy()).max() > 0
