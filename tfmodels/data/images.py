"""Digit images: bundled scikit-learn digits, USPS (HDF5), MNIST (idx; ``mnist-test``: its
10,000 test digits only). USPS and MNIST download on first use (tfmodels.data.download).

All images come out as float32 in [0, 1], shape (N, H, W, 1), labels int32.
"""
import gzip
import struct

import numpy as np

from tfmodels.data.core import make_splits, partition, register_dataset
from tfmodels.data.download import fetch
from tfmodels.errors import DataError

DIGITS = tuple(str(i) for i in range(10))


def _mnist_like(images8x8: np.ndarray) -> np.ndarray:
    """8x8 digits -> 28x28 the way MNIST is framed: a 20x20 digit in a 4-pixel border."""
    from PIL import Image

    out = np.zeros((len(images8x8), 28, 28), np.float32)
    for i, img in enumerate(images8x8):
        big = Image.fromarray((img * (255 / 16)).astype(np.uint8)).resize((20, 20), Image.BILINEAR)
        out[i, 4:24, 4:24] = np.asarray(big, np.float32) / 255.0
    return out[..., None]


@register_dataset("digits", description="scikit-learn's 1,797 8x8 digits at 28x28 (bundled; 70/15/15 seeded split)")
def digits(data_dir=None):
    from sklearn.datasets import load_digits

    d = load_digits()
    x, y = _mnist_like(d.images), d.target.astype(np.int32)
    train, val, test = partition(x, y, val=0.15, test=0.15, seed=0)
    return make_splits("digits", train, val, test, class_names=DIGITS,
                       description="scikit-learn digits resized to 28x28")


@register_dataset("usps", description="USPS zip-code digits 16x16 (usps/usps.h5; standard 7291/2007 split, val = 10% of train)", needs_data_dir=True)
def usps(data_dir=None):
    import h5py

    path = fetch("usps", data_dir) / "usps.h5"
    try:
        with h5py.File(path, "r") as f:
            arrays = {s: (f[s]["data"][:], f[s]["target"][:]) for s in ("train", "test")}
    except FileNotFoundError:
        raise DataError(f"USPS file not found: {path}") from None
    except (OSError, KeyError) as e:
        raise DataError(f"{path} is not the USPS HDF5 file (train/data, train/target, test/...): {e}") from None
    (xtr, ytr), (xte, yte) = arrays["train"], arrays["test"]
    x = xtr.reshape(-1, 16, 16, 1).astype(np.float32)
    train, val = _hold_out_val(x, ytr.astype(np.int32))
    return make_splits(
        "usps", train, val, (xte.reshape(-1, 16, 16, 1).astype(np.float32), yte.astype(np.int32)),
        class_names=DIGITS, description="USPS digits (Hull 1994)")


def _hold_out_val(x, y):
    """A seeded 10% of the training examples as validation (seed 0)."""
    order = np.random.default_rng(0).permutation(len(x))
    n_val = len(x) // 10
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val])


def _read_idx(path, magic: int, ndim: int) -> np.ndarray:
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise DataError(f"MNIST file not found: {path}") from None
    except (OSError, EOFError) as e:
        raise DataError(f"{path} is not a readable gzip idx file: {e}") from None
    header = 4 + 4 * ndim
    if len(raw) < header or struct.unpack(">I", raw[:4])[0] != magic:
        raise DataError(f"{path}: not an idx file with magic {magic}")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    if len(raw) != header + int(np.prod(dims)):
        raise DataError(f"{path}: truncated, header says {dims} but holds {len(raw) - header} bytes")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims)


@register_dataset("mnist-test", description="MNIST's 10,000 test digits (mnist/t10k-*.gz; seeded 60/10/30 split of them)", needs_data_dir=True)
def mnist_test(data_dir=None):
    x, y = _mnist_part(fetch("mnist-test", data_dir), "t10k")
    train, val, test = partition(x, y, val=0.1, test=0.3, seed=0)
    return make_splits("mnist-test", train, val, test, class_names=DIGITS,
                       description="MNIST test split (LeCun et al.)")


def _mnist_part(root, prefix):
    x = _read_idx(root / f"{prefix}-images-idx3-ubyte.gz", 2051, 3)
    y = _read_idx(root / f"{prefix}-labels-idx1-ubyte.gz", 2049, 1).astype(np.int32)
    if len(x) != len(y):
        raise DataError(f"MNIST {prefix}: {len(x)} images but {len(y)} labels")
    return (x / 255.0).astype(np.float32)[..., None], y


@register_dataset("mnist", description="MNIST 28x28 digits, 60,000 train (val = seeded 10% of them) / 10,000 test; "
                  "downloads once (mnist/*-idx*-ubyte.gz)", needs_data_dir=True)
def mnist(data_dir=None):
    root = fetch("mnist", data_dir)
    train, val = _hold_out_val(*_mnist_part(root, "train"))
    return make_splits("mnist", train, val, _mnist_part(root, "t10k"), class_names=DIGITS,
                       description="MNIST (LeCun et al.)")
