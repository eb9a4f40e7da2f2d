"""Sensor data sets shipped inside installed packages, and partitioning for federated experiments."""

from edgeleak.data.datasets import DATASETS, Dataset, load_dataset
from edgeleak.data.partition import partition

__all__ = ["DATASETS", "Dataset", "load_dataset", "partition"]
