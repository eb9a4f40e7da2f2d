"""The model zoo: small Keras models for sensor windows, each with a named cut between backbone and head."""

from edgeleak.models.zoo import MODELS, ModelSpec, get_model_spec

__all__ = ["MODELS", "ModelSpec", "get_model_spec"]
