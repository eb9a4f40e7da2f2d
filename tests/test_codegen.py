"""The generated model file sizes the training buffers and the link buffer from the model: two P-float vectors
(theta_0 and d) and the momentum v, no working copy of the weights; LOAD_WEIGHTS is joined into d's buffer, so the
link buffer holds only a SAMPLE of the model's input or a chunk."""

from __future__ import annotations

from edgeleak.device.model_dir import load_model_dir
from edgeleak.quantize.codegen import TrainingBuffers, artifact_to_c, training_buffers, training_buffers_c


def test_the_link_buffer_holds_a_sample_or_a_chunk():
    assert TrainingBuffers(9684, 636, 600, input_bytes=600).link_bytes == 1024  # the mlp: a chunk
    assert TrainingBuffers(468, 60, 24, input_bytes=1868).link_bytes == 1872  # a SAMPLE of 4 + 1,868 B
    assert TrainingBuffers(468, 60, 24, input_bytes=1869).link_bytes == 1876  # rounded up to 4
    assert TrainingBuffers(0, 0, 0).link_bytes == 1024  # nothing trains


def test_the_zoo_models_have_no_working_copy_of_the_weights(zoo_models):
    for name in ("imu_cnn", "mlp"):
        artifact = load_model_dir(zoo_models[name]).artifact
        buffers = training_buffers(artifact)
        assert buffers.params > 0 and buffers.input_bytes > 0, name
        source = artifact_to_c(artifact)
        assert "el_train_theta[" not in source and f"float el_train_theta0[{buffers.params}];" in source, name
        assert f"el_link_buffer_len = {buffers.link_bytes}u;" in source, name


def test_factors_in_every_build_and_v_only_with_momentum():
    mlp = TrainingBuffers(9684, 636, 600, input_bytes=600, first_in=600)  # 600 -> 16 -> 4
    assert mlp.factor_floats == 32 * (1 + 16 + 16 + 4)  # s_n / B', a_1, delta_0, delta_1 per stored sample
    source = "\n".join(training_buffers_c(mlp))
    no_v, with_v = source.split("#else")
    assert "float el_train_velocity[1];" in no_v and "float el_train_velocity[9684];" in with_v
    assert "float el_train_factors[1184];" in with_v.split("#endif")[1]  # after the choice: both builds
    assert mlp.ram_bytes(momentum=False) == 4 * (2 * 9684 + 636 + 1184) + 32 * 601 + 1024
    assert mlp.ram_bytes() - mlp.ram_bytes(momentum=False) == 4 * 9684
    assert TrainingBuffers(0, 0, 0).factor_floats == 0
