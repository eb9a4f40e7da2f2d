"""The device keeps no working copy of the weights (docs/training.md, "A round"; docs/protocol.md, "Message
buffers"): a round trains on theta_0 + d and never writes theta_0, LOAD_WEIGHTS is joined into d's buffer and copied
to theta_0 only when it is whole and valid, and its bytes end the kept update (no RESEND of it, no replayed TRAIN)."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from edgeleak.boards import load_boards
from edgeleak.device.model_dir import load_model_dir
from edgeleak.device.session import open_device
from edgeleak.link.client import DeviceError
from edgeleak.link.messages import ErrorCode, MsgType
from edgeleak.train.config import TrainConfig
from edgeleak.quantize.artifact import read_head
from edgeleak.train.oracle import flatten_layers


def _resend(client, seq: int) -> bytes:
    return client.request(MsgType.RESEND, struct.pack("<HHI", seq, 64, 0), MsgType.PART)


def test_load_weights_ends_the_kept_update_and_a_refused_one_leaves_the_global_weights(zoo_models, basic_motions):
    model = load_model_dir(zoo_models["mlp"])  # P = 9,684: LOAD_WEIGHTS spans 38 chunks into d's buffer
    head = np.concatenate(flatten_layers(list(read_head(model.artifact))))
    rng = np.random.default_rng(3)
    weights = (head + rng.normal(0, 0.01, head.shape)).astype(np.float32)
    inputs = model.quantize(basic_motions.x_train[:4])
    with open_device(load_boards().get("host"), model) as session:
        client = session.client
        for x, y in zip(inputs, basic_motions.y_train[:4]):
            client.add_sample(int(y), x.tobytes())
        client.configure(TrainConfig(learning_rate=0.05, batch_size=2, local_steps=3))  # no noise: deterministic
        client.load_weights(weights)
        first = client.train()
        seq = client.last_seq
        assert len(_resend(client, seq)) > 0  # the kept update, in parts
        assert np.array_equal(client.train(seq=seq).flat(), first.flat())  # a retransmission: the same update
        assert np.array_equal(client.train().flat(), first.flat())  # a new round from the same theta_0: the same
        seq = client.last_seq

        with pytest.raises(DeviceError) as info:  # joined into d, refused: the kept update is gone, theta_0 stays
            client.load_weights(weights[:-1])
        assert info.value.code == ErrorCode.E_LENGTH
        with pytest.raises(DeviceError) as info:
            _resend(client, seq)
        assert info.value.code == ErrorCode.E_STATE
        bad = weights.copy()
        bad[5000] = np.nan
        with pytest.raises(DeviceError) as info:
            client.load_weights(bad)
        assert info.value.code == ErrorCode.E_CONFIG
        assert np.array_equal(client.train(seq=seq).flat(), first.flat())  # a new round, from the kept theta_0

        client.load_weights(np.zeros_like(weights))  # other global weights: another update
        assert not np.array_equal(client.train().flat(), first.flat())
        client.load_weights(weights)
        assert np.array_equal(client.train().flat(), first.flat())
