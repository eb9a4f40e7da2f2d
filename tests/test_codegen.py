"""The generated model file sizes the link buffer from the model: none apart from theta when theta can be it."""

from __future__ import annotations

from edgeleak.device.model_dir import load_model_dir
from edgeleak.quantize.codegen import LINK_BUFFER_BYTES, TrainingBuffers, artifact_to_c, training_buffers, training_buffers_c


def test_theta_is_the_link_buffer_when_it_holds_a_sample_and_a_chunk():
    assert TrainingBuffers(9684, 636, 600, input_bytes=600).link_bytes == 0  # the mlp's head: 38,736 B
    assert TrainingBuffers(256, 60, 24, input_bytes=600).link_bytes == 0  # exactly 1,024 B
    assert TrainingBuffers(255, 60, 24, input_bytes=600).link_bytes == LINK_BUFFER_BYTES  # below one chunk
    assert TrainingBuffers(468, 60, 24, input_bytes=1868).link_bytes == 0  # a SAMPLE of 4 + 1,868 B fits 1,872
    assert TrainingBuffers(468, 60, 24, input_bytes=1869).link_bytes == LINK_BUFFER_BYTES
    assert TrainingBuffers(0, 0, 0).link_bytes == LINK_BUFFER_BYTES  # nothing trains


def test_the_zoo_models_need_no_link_buffer_apart(zoo_models):
    for name in ("imu_cnn", "mlp"):
        artifact = load_model_dir(zoo_models[name]).artifact
        buffers = training_buffers(artifact)
        assert buffers.params > 0 and buffers.input_bytes > 0 and buffers.link_bytes == 0, name
        source = artifact_to_c(artifact)
        assert "uint8_t el_link_buffer[1];" in source and "const uint32_t el_link_buffer_len = 0u;" in source, name


def test_a_build_without_momentum_keeps_factors_instead_of_v():
    mlp = TrainingBuffers(9684, 636, 600, input_bytes=600, first_in=600)  # 600 -> 16 -> 4
    assert mlp.factor_floats == 32 * (1 + 16 + 16 + 4)  # s_n / B', a_1, delta_0, delta_1 per stored sample
    source = "\n".join(training_buffers_c(mlp))
    no_v, with_v = source.split("#else")
    assert "float el_train_velocity[1];" in no_v and "float el_train_factors[1184];" in no_v
    assert "float el_train_velocity[9684];" in with_v and "el_train_factors_len = 0u;" in with_v
    assert TrainingBuffers(0, 0, 0).factor_floats == 0
