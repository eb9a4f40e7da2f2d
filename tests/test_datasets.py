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


def test_the_other_wrist_task_splits_by_recording_and_mirrors_the_users():
    from edgeleak.data import load_dataset
    from edgeleak.data.other_wrist import other_wrist, windows_of

    d = load_dataset("basic_motions_other_wrist")
    assert d.x_train.shape == (120, 50, 6) and d.x_base.shape == (120, 50, 6) and d.x_test.shape == (240, 50, 6)
    assert np.bincount(d.y_base).tolist() == [30] * 4 and np.bincount(d.y_test).tolist() == [60] * 4
    # The server's windows come from other recordings than the users': no window of one is a window of the other,
    # mirrored or not.
    flat = lambda x: {w.tobytes() for w in np.round(x, 4)}  # noqa: E731
    mirrored_base = other_wrist(d.x_base * d.std + d.mean, d.channel_names)
    assert not flat(d.x_base) & flat(d.x_train) and not flat((mirrored_base - d.mean) / d.std) & flat(d.x_train)
    # Normalised with the server's statistics only.
    assert np.allclose(d.x_base.mean(axis=(0, 1)), 0, atol=1e-5) and np.allclose(d.x_base.std(axis=(0, 1)), 1, atol=1e-4)
    # Windows of 50 steps at a stride of 10, recording by recording.
    x = np.arange(2 * 100 * 1, dtype=np.float32).reshape(2, 100, 1)
    w, y = windows_of(x, np.array([0, 1]))
    assert w.shape == (12, 50, 1) and y.tolist() == [0] * 6 + [1] * 6 and w[1, 0, 0] == 10 and w[6, 0, 0] == 100
    assert other_wrist(np.ones((1, 1, 6), np.float32), d.channel_names).ravel().tolist() == [-1, 1, 1, 1, -1, -1]
