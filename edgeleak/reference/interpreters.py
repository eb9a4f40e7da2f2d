"""Thin wrappers with one call shape over TFLite Micro's Python interpreter and LiteRT."""

from __future__ import annotations

import numpy as np

from edgeleak.core.quant import quantize_int8
from edgeleak.quantize.tflite_graph import parse_tflite


class _Quantizer:
    def __init__(self, tflite_model: bytes) -> None:
        graph = parse_tflite(tflite_model)
        t = graph.tensors[graph.inputs[0]]
        self.input_shape = t.shape
        self.input_scale = t.scale
        self.input_zero_point = t.zero_point

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        """Float windows ``(n, *shape[1:])`` to int8 with the model's input scale and zero point."""
        return quantize_int8(x, self.input_scale, self.input_zero_point)


class TflmReference(_Quantizer):
    """TFLite Micro's reference kernels compiled for the host: the firmware's bit-exact target."""

    def __init__(self, tflite_model: bytes, *, preserve_tensors: bool = False) -> None:
        from tflite_micro.python.tflite_micro import runtime

        super().__init__(tflite_model)
        config = runtime.InterpreterConfig.kPreserveAllTensors if preserve_tensors else runtime.InterpreterConfig.kAllocationRecording
        self._interp = runtime.Interpreter.from_bytes(tflite_model, intrepreter_config=config)

    def tensor_after_run(self, x_int8: np.ndarray, tensor_index: int) -> np.ndarray:
        """Run the model and return an intermediate tensor (needs ``preserve_tensors=True``)."""
        self.run(x_int8)
        tensor = self._interp.GetTensor(tensor_index, 0)  # {"dtype", "shape", "tensor_data"}
        return np.asarray(tensor["tensor_data"]).reshape(-1)

    def run(self, x_int8: np.ndarray) -> np.ndarray:
        self._interp.set_input(x_int8.reshape(self.input_shape).astype(np.int8), 0)
        self._interp.invoke()
        return np.array(self._interp.get_output(0)).reshape(-1)


class LiteRtReference(_Quantizer):
    """LiteRT with its built-in (optimised) kernels and no delegate."""

    def __init__(self, tflite_model: bytes) -> None:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        super().__init__(tflite_model)
        self._interp = Interpreter(model_content=tflite_model,
                                   experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        self._interp.allocate_tensors()
        self._in = self._interp.get_input_details()[0]["index"]
        self._out = self._interp.get_output_details()[0]["index"]

    def run(self, x_int8: np.ndarray) -> np.ndarray:
        self._interp.set_tensor(self._in, x_int8.reshape(self.input_shape).astype(np.int8))
        self._interp.invoke()
        return np.array(self._interp.get_tensor(self._out)).reshape(-1)
