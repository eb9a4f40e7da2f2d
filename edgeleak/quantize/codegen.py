"""Emit the model artifact as a C source file the firmware links, with the buffers sized from it:
the model arena, the on-device training buffers (docs/training.md) sized from the HEAD section, and the
link buffer for received messages (LOAD_WEIGHTS is joined into the update d's buffer instead, then copied into the
global weights)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from edgeleak.quantize.artifact import read_header

ARENA_ALIGNMENT = 16
MAX_SAMPLES = 32
"""Samples the device stores per round (EL_MAX_SAMPLES; INFO reports it)."""

TENSOR_RECORD_SIZE = 48
NO_TENSOR = 0xFFFF
CHUNK_BYTES = 1024
SAMPLE_HEAD_BYTES = 4


@dataclass(frozen=True)
class TrainingBuffers:
    """Sizes of the training buffers: P parameters, activation floats, bytes of one stored sample."""

    params: int
    act_floats: int
    sample_bytes: int
    max_samples: int = MAX_SAMPLES
    input_bytes: int = 0
    first_in: int = 0  # in_0, the head's input features

    @property
    def factor_floats(self) -> int:
        """Per-example factors of the steps formed row by row (a build without momentum, EL_TRAIN_NO_MOMENTUM, and
        DP-SGD): per sample a clip coefficient, a_1 .. a_{L-1} and delta_0 .. delta_{L-1} (a_0 comes again from the
        stored sample)."""
        return self.max_samples * (1 + self.act_floats - self.first_in) if self.params else 0

    @property
    def link_bytes(self) -> int:
        """The link buffer every message but INFER and LOAD_WEIGHTS is joined into: a SAMPLE of the model's input or
        a chunk's worth, whichever is larger, rounded up to 4 bytes."""
        need = max(CHUNK_BYTES, SAMPLE_HEAD_BYTES + self.input_bytes)
        return (need + 3) // 4 * 4

    def ram_bytes(self, momentum: bool = True) -> int:
        """theta_0 and delta (2 P floats), the momentum v (P floats, a build with momentum), activations, factors,
        samples and labels, the link buffer."""
        vectors = (3 if momentum else 2) * self.params
        return (4 * (vectors + self.act_floats + self.factor_floats) + self.max_samples * (self.sample_bytes + 1)
                + self.link_bytes)


def _tensor_record(header, index: int) -> int:
    """Byte offset of tensor ``index``'s record in the artifact's TENS section."""
    tens_off, _ = header.sections["TENS"]
    return tens_off + TENSOR_RECORD_SIZE * index


def training_buffers(artifact: bytes) -> TrainingBuffers:
    """Training buffer sizes of an artifact; all 0 when it has no HEAD section."""
    header = read_header(artifact)
    if "HEAD" not in header.sections:
        return TrainingBuffers(0, 0, 0)
    off, _ = header.sections["HEAD"]
    n_layers, _ = struct.unpack_from("<HH", artifact, off)
    shapes = [struct.unpack_from("<HH", artifact, off + 4 + 4 * k) for k in range(n_layers)]
    params = sum(n_in * n_out + n_out for n_in, n_out in shapes)
    act = sum(n_in + n_out for n_in, n_out in shapes)
    cut = header.input_tensor if header.cut_tensor == NO_TENSOR else header.cut_tensor
    (cut_bytes,) = struct.unpack_from("<I", artifact, _tensor_record(header, cut) + 24)
    (input_bytes,) = struct.unpack_from("<I", artifact, _tensor_record(header, header.input_tensor) + 24)
    return TrainingBuffers(params, act, cut_bytes, input_bytes=input_bytes, first_in=shapes[0][0])



def training_buffers_c(buffers: TrainingBuffers) -> list[str]:
    """C definitions of the ``el_train_*`` and ``el_link_buffer*`` symbols (firmware/src/app/el_model_data.h)."""
    p = max(buffers.params, 1)  # C has no zero-length arrays; the lengths say 0
    act = max(buffers.act_floats, 1)
    store = max(buffers.max_samples * buffers.sample_bytes, 1)
    return [
        f"/* on-device training: P = {buffers.params} parameters, {buffers.act_floats} activation floats, "
        f"{buffers.max_samples} samples of {buffers.sample_bytes} bytes; {buffers.ram_bytes()} bytes of RAM with "
        f"momentum, {buffers.ram_bytes(momentum=False)} without */",
        f"__attribute__((aligned(8))) float el_train_theta0[{p}];",
        f"__attribute__((aligned(8))) float el_train_delta[{p}];",
        "#if defined(EL_TRAIN_NO_MOMENTUM) && EL_TRAIN_NO_MOMENTUM /* mu = 0 only: no v */",
        "__attribute__((aligned(8))) float el_train_velocity[1];",
        "const uint32_t el_train_velocity_len = 0u;",
        "#else",
        f"__attribute__((aligned(8))) float el_train_velocity[{p}];",
        f"const uint32_t el_train_velocity_len = {buffers.params}u;",
        "#endif",
        f"__attribute__((aligned(8))) float el_train_factors[{max(buffers.factor_floats, 1)}];",
        f"const uint32_t el_train_factors_len = {buffers.factor_floats}u;",
        f"__attribute__((aligned(8))) float el_train_act[{act}];",
        f"int8_t el_train_samples[{store}];",
        f"uint8_t el_train_labels[{buffers.max_samples}];",
        f"const uint32_t el_train_params_len = {buffers.params}u;",
        f"const uint32_t el_train_act_len = {buffers.act_floats}u;",
        f"const uint32_t el_train_sample_bytes = {buffers.sample_bytes}u;",
        f"const uint32_t el_train_max_samples = {buffers.max_samples}u;",
        f"__attribute__((aligned(4))) uint8_t el_link_buffer[{buffers.link_bytes}];",
        f"const uint32_t el_link_buffer_len = {buffers.link_bytes}u;",
    ]


def artifact_to_c(artifact: bytes) -> str:
    """C definitions of ``el_model_artifact``, ``el_model_artifact_len``, ``el_model_arena``, ``el_model_arena_len``
    and the training buffers ``el_train_*``."""
    header = read_header(artifact)
    arena = max(header.arena_size, ARENA_ALIGNMENT)
    rows = []
    for i in range(0, len(artifact), 16):
        rows.append("  " + ", ".join(f"0x{b:02x}" for b in artifact[i:i + 16]) + ",")
    return "\n".join([
        "/* Generated by edgeleak from a model artifact; do not edit. */",
        f"/* model sha256 {header.sha256} */",
        "#include <stdint.h>",
        "",
        f"__attribute__((aligned({ARENA_ALIGNMENT}))) const uint8_t el_model_artifact[{len(artifact)}] = {{",
        *rows,
        "};",
        f"const uint32_t el_model_artifact_len = {len(artifact)}u;",
        f"__attribute__((aligned({ARENA_ALIGNMENT}))) uint8_t el_model_arena[{arena}];",
        f"const uint32_t el_model_arena_len = {arena}u;",
        "",
        *training_buffers_c(training_buffers(artifact)),
        "",
    ])
