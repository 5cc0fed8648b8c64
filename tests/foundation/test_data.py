import gzip
import shutil

import numpy as np
import pytest

import tfmodels.data as data
from tfmodels.errors import DataError, UnknownNameError


def test_digits_is_mnist_shaped_seeded_and_disjoint():
    s = data.load_splits("digits")
    assert s.info.input_shape == (28, 28, 1) and s.info.num_classes == 10
    assert sum(s.info.splits.values()) == 1797
    x, y = s.train
    assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
    assert np.all(x[:, :3] == 0) and np.all(x[:, :, -3:] == 0)  # MNIST-style border
    # the same seed gives the same split, and splits do not share images
    train_keys = {a.tobytes() for a in x}
    assert not train_keys & {a.tobytes() for a in s.test[0]}
    assert np.bincount(s.test[1]).min() >= 20  # stratified


def test_load_batches_and_shuffles_train_only(data_dir):
    ds, info = data.load("usps", "test", batch_size=64, data_dir=data_dir)
    x, y = next(iter(ds))
    assert x.shape == (64, 16, 16, 1) and info.splits["test"] == 2007
    ys = np.concatenate([b[1].numpy() for b in ds])
    assert np.array_equal(ys, data.load_arrays("usps", "test", data_dir)[1])  # test not shuffled
    train_x = data.load_splits("usps", data_dir)["train+val"][0]
    assert len(train_x) == 7291


def test_mnist_test_idx_reader(data_dir):
    s = data.load_splits("mnist-test", data_dir)
    assert sum(s.info.splits.values()) == 10000
    assert s.train[0].shape[1:] == (28, 28, 1)


def test_tfds_source_uses_real_loading_code_offline():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=12):
        s = data.load_splits("tfds:mnist")
    assert s.info.class_names == tuple(str(i) for i in range(10))
    assert s.train[0].shape == (12, 28, 28, 1) and s.train[0].max() <= 1.0


def test_unknown_dataset_and_split():
    with pytest.raises(UnknownNameError, match="Did you mean 'digits'"):
        data.load("digit")
    with pytest.raises(UnknownNameError, match="unknown split"):
        data.load_arrays("digits", "valid")


def test_missing_and_corrupt_files_are_clear_errors(tmp_path, data_dir):
    with pytest.raises(DataError, match="data folder not found: .*nowhere"):
        data.load_splits("usps", tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="cannot download usps.*put usps.h5 in .*empty"):
        data.load_splits("usps", tmp_path / "empty")
    (tmp_path / "usps").mkdir()
    (tmp_path / "usps" / "usps.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(DataError, match="not the USPS HDF5"):
        data.load_splits("usps", tmp_path)
    mnist = tmp_path / "mnist"
    mnist.mkdir()
    shutil.copy(data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz", mnist)
    raw = gzip.open(data_dir / "mnist" / "t10k-images-idx3-ubyte.gz").read()
    with gzip.open(mnist / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(raw[: len(raw) // 2])
    with pytest.raises(DataError, match="truncated"):
        data.load_splits("mnist-test", tmp_path)


def test_to_dataset_shuffles_every_example_of_multi_input_arrays():
    from tfmodels.data.core import to_dataset

    x = {"a": np.arange(100, dtype=np.float32), "b": np.arange(100, dtype=np.float32) * 2}
    y = np.arange(100)
    batches = list(to_dataset(x, y, batch_size=100, shuffle=True, seed=1))
    (inputs, labels), = batches
    order = labels.numpy()
    assert sorted(order) == list(range(100)) and order[90:].min() < 50  # a full-buffer shuffle
    np.testing.assert_array_equal(inputs["b"].numpy(), 2 * order)       # inputs stay paired
