"""Sets of digit images with a label computed from the set (sum or max of the digits).

``make_digit_sets`` turns any labelled digit images into zero-padded sets of 1 to
``max_size`` images plus a mask. ``digit-sums`` (bundled scikit-learn digits, no files
needed) and ``usps-digit-sums`` register them with sums as labels, each split built from
the matching split of the digits (test sets only from test digits).
"""
import numpy as np

from tfmodels.data.core import DatasetInfo, Splits, load_splits, register_dataset
from tfmodels.errors import UnknownNameError

TARGETS = ("sum", "max")


def make_digit_sets(x, y, *, n_sets: int, max_size: int = 5, min_size: int = 1,
                    target: str = "sum", seed: int = 0):
    """``((elements, mask), labels)``: elements (n_sets, max_size, *x.shape[1:]) with
    zeros after each set's size, mask (n_sets, max_size) float32, labels float32."""
    if target not in TARGETS:
        raise UnknownNameError("set target", target, TARGETS)
    if not 1 <= min_size <= max_size:
        raise ValueError(f"need 1 <= min_size <= max_size, given {min_size}, {max_size}")
    rng = np.random.default_rng(seed)
    sizes = rng.integers(min_size, max_size + 1, n_sets)
    idx = rng.integers(0, len(x), (n_sets, max_size))
    mask = (np.arange(max_size)[None] < sizes[:, None]).astype(np.float32)
    elements = x[idx] * mask.reshape(n_sets, max_size, *([1] * (x.ndim - 1)))
    digits = np.where(mask > 0, y[idx], 0 if target == "sum" else -1)
    labels = digits.sum(1) if target == "sum" else digits.max(1)
    return (elements.astype(np.float32), mask), labels.astype(np.float32)


def _sum_splits(name, digits: Splits, sizes, max_size: int = 5) -> Splits:
    parts = [make_digit_sets(*digits[s], n_sets=n, max_size=max_size, seed=i)
             for i, (s, n) in enumerate(zip(("train", "val", "test"), sizes))]
    info = DatasetInfo(
        name=name, task="regression", input_shape=parts[0][0][0].shape[1:],
        splits={s: len(p[1]) for s, p in zip(("train", "val", "test"), parts)},
        description=f"sum of the digits in sets of 1-{max_size} {digits.info.name} images; "
                    "inputs (elements, element_mask)")
    return Splits(*parts, info=info)


@register_dataset("usps-digit-sums", needs_data_dir=True,
                  description="sets of 1-5 USPS digits labelled with their sum (12000/1500/3000 sets)")
def usps_digit_sums(data_dir=None):
    return _sum_splits("usps-digit-sums", load_splits("usps", data_dir), (12000, 1500, 3000))


@register_dataset("digit-sums", description="sets of 1-5 bundled scikit-learn digits (28x28) labelled with their sum (4000/500/1000 sets)")
def digit_sums(data_dir=None):
    return _sum_splits("digit-sums", load_splits("digits"), (4000, 500, 1000))
