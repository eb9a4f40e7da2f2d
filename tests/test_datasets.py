import numpy as np
import pytest

from edgeleak.data import DATASETS, load_dataset, partition
from edgeleak.errors import EdgeleakError


@pytest.mark.parametrize("name,shape,classes", [
    ("basic_motions", (100, 6), 4), ("pickup_gesture", (361, 1), 10), ("japanese_vowels", (25, 12), 9), ("digits", (8, 8), 10),
])
def test_datasets_load_offline_with_expected_shapes(name, shape, classes):
    d = load_dataset(name)
    assert d.input_shape == shape and d.num_classes == classes
    assert d.x_train.dtype == np.float32 and np.isfinite(d.x_train).all() and np.isfinite(d.x_test).all()
    assert set(np.unique(d.y_train)) <= set(range(classes)) and len(d.x_train) == len(d.y_train)


def test_basic_motions_is_normalised_per_channel_with_training_statistics(basic_motions):
    assert np.allclose(basic_motions.x_train.mean(axis=(0, 1)), 0, atol=1e-4)
    assert np.allclose(basic_motions.x_train.std(axis=(0, 1)), 1, atol=1e-3)
    assert basic_motions.x_train.shape == (40, 100, 6) and basic_motions.x_test.shape == (40, 100, 6)
    assert basic_motions.class_names == ("badminton", "running", "standing", "walking")


def test_unknown_dataset_names_the_choices():
    with pytest.raises(EdgeleakError, match="choose one of: " + ", ".join(DATASETS)):
        load_dataset("speech_commands")


def test_iid_partition_covers_every_sample_once():
    labels = np.arange(103) % 4
    parts = partition(labels, 5, "iid", seed=1)
    joined = np.concatenate(parts)
    assert sorted(joined.tolist()) == list(range(103))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_by_class_partition_keeps_classes_together():
    labels = np.repeat(np.arange(4), 10)
    parts = partition(labels, 2, "by-class")
    assert sorted(np.concatenate(parts).tolist()) == list(range(40))
    assert all(len(set(labels[p].tolist())) == 2 for p in parts)
    split = partition(labels, 8, "by-class")  # more devices than classes: each class split in two
    assert all(len(set(labels[p].tolist())) == 1 and len(p) == 5 for p in split)


def test_by_subject_needs_subjects():
    jv = load_dataset("japanese_vowels")
    parts = partition(jv.y_train, 3, "by-subject", subjects=jv.subjects_train)
    assert all(set(jv.subjects_train[p]).isdisjoint(set(jv.subjects_train[q])) for i, p in enumerate(parts) for q in parts[i + 1:])
    with pytest.raises(EdgeleakError, match="no subject ids"):
        partition(np.zeros(10), 2, "by-subject")
