"""Localization and segmentation datasets made from real USPS digits, and their metrics.

- ``digit-boxes``: one USPS digit, rescaled to 12..28 px, at a random place on a 40x40
  canvas; targets ``{"class": digit, "box": (y0, x0, y1, x1)}``, the tight box around
  the ink as fractions of the canvas (task "localization").
- ``digit-masks``: two USPS digits side by side on a 32x48 canvas (left one at x 0..8,
  right one at x 24..32, y 0..16, so they never overlap); target a per-pixel label map,
  0 = background and 1 + digit where the digit's ink is > 0.5 (task "segmentation",
  11 classes).

Each split is built from the same USPS split (train, val, test), with a fixed seed per
split, so test images are made only of USPS test digits.
"""
import numpy as np

from tfmodels.data.core import load_splits, make_splits, register_dataset

BOX_CANVAS = 40
BOX_SIZES = (12, 28)
MASK_CANVAS = (32, 48)
INK = 0.5
SEEDS = {"train": 1, "val": 2, "test": 3}


def _resize(img: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    pil = Image.fromarray(img.astype(np.float32), mode="F").resize((size, size), Image.BILINEAR)
    return np.clip(np.asarray(pil, np.float32), 0.0, 1.0)


def place_on_canvas(x, y, *, seed: int, canvas: int = BOX_CANVAS, sizes=BOX_SIZES):
    """Digits (N, h, w, 1) -> canvases (N, canvas, canvas, 1) and tight ink boxes (N, 4)."""
    rng = np.random.default_rng(seed)
    images = np.zeros((len(x), canvas, canvas, 1), np.float32)
    boxes = np.zeros((len(x), 4), np.float32)
    for i, digit in enumerate(x[..., 0]):
        size = int(rng.integers(sizes[0], sizes[1] + 1))
        patch = _resize(digit, size)
        top, left = rng.integers(0, canvas - size + 1, size=2)
        images[i, top:top + size, left:left + size, 0] = patch
        rows, cols = np.nonzero(patch > 0.1)
        if len(rows) == 0:  # blank digit: the whole patch
            rows, cols = np.array([0, size - 1]), np.array([0, size - 1])
        boxes[i] = (top + rows.min(), left + cols.min(), top + rows.max() + 1, left + cols.max() + 1)
    return images, {"class": np.asarray(y, np.int32), "box": boxes / canvas}


def pair_with_masks(x, y, *, seed: int, canvas=MASK_CANVAS):
    """Digits (N, 16, 16, 1) -> two-digit canvases (N, H, W, 1) and label maps (N, H, W)."""
    rng = np.random.default_rng(seed)
    h, w = x.shape[1:3]
    partner = rng.permutation(len(x))
    images = np.zeros((len(x), *canvas, 1), np.float32)
    masks = np.zeros((len(x), *canvas), np.int32)
    for i in range(len(x)):
        for j, x_lo in ((i, 0), (partner[i], canvas[1] // 2)):
            top = int(rng.integers(0, canvas[0] - h + 1))
            left = x_lo + int(rng.integers(0, canvas[1] // 2 - w + 1))
            digit = x[j, ..., 0]
            images[i, top:top + h, left:left + w, 0] = digit
            masks[i, top:top + h, left:left + w] = np.where(digit > INK, y[j] + 1, 0)
    return images, masks


def _derived(name, make, data_dir, **info):
    usps = load_splits("usps", data_dir)
    parts = {s: make(*usps[s], seed=SEEDS[s]) for s in SEEDS}
    return make_splits(name, parts["train"], parts["val"], parts["test"], **info)


@register_dataset("digit-boxes", description="USPS digits at random places and sizes on a 40x40 canvas, with class and box (localization)", needs_data_dir=True)
def digit_boxes(data_dir=None):
    return _derived("digit-boxes", place_on_canvas, data_dir, task="localization",
                    num_classes=10, class_names=tuple("0123456789"),
                    description="USPS digits on a 40x40 canvas with tight ink boxes")


@register_dataset("digit-masks", description="two USPS digits on a 32x48 canvas with per-pixel labels (segmentation, 11 classes)", needs_data_dir=True)
def digit_masks(data_dir=None):
    return _derived("digit-masks", pair_with_masks, data_dir, task="segmentation",
                    num_classes=11, class_names=("background", *"0123456789"),
                    description="pairs of USPS digits with per-pixel digit masks")


def box_iou(a, b) -> np.ndarray:
    """Intersection over union of matching rows of two (N, 4) (y0, x0, y1, x1) arrays."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.shape[-1] != 4:
        raise ValueError(f"expected two (N, 4) box arrays of one shape, given {a.shape} and {b.shape}")
    inter = (np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
             * np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None))
    area = lambda r: np.clip(r[:, 2] - r[:, 0], 0, None) * np.clip(r[:, 3] - r[:, 1], 0, None)  # noqa: E731
    union = area(a) + area(b) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def segmentation_metrics(y_true, y_pred, num_classes: int) -> dict:
    """Pixel accuracy and mean IoU over the classes present in truth or prediction.

    ``y_pred``: label maps (N, H, W), or per-pixel scores (N, H, W, C) (argmax taken).
    """
    y_true = np.asarray(y_true).reshape(-1)
    y_pred = np.asarray(y_pred)
    y_pred = (y_pred.argmax(-1) if y_pred.ndim == 4 else y_pred).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"label maps differ in size: truth {y_true.shape}, prediction {y_pred.shape}")
    confusion = np.bincount(y_true * num_classes + y_pred, minlength=num_classes ** 2)
    confusion = confusion.reshape(num_classes, num_classes)
    inter = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - inter
    iou = np.where(union > 0, inter / np.maximum(union, 1), np.nan)
    return {"pixel_accuracy": float(inter.sum() / confusion.sum()),
            "mean_iou": float(np.nanmean(iou)),
            "per_class_iou": [None if np.isnan(v) else float(v) for v in iou]}
