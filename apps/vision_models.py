"""The Vision page's localization and segmentation models, trained on canvases made
from the BUNDLED digits (28x28) with the library's own canvas makers
(:func:`tfmodels.data.vision_tasks.place_on_canvas`, ``pair_with_masks``), so the
page needs no downloaded data. Plain functions (no widgets): the tests build tiny
versions the same way the page's "Build" buttons do.
"""
import functools

import numpy as np

from common import epoch_progress, save_rebuildable
from tfmodels import evaluate, keras
from tfmodels.data import load_splits
from tfmodels.data.core import make_splits
from tfmodels.data.vision_tasks import SEEDS, pair_with_masks, place_on_canvas
from tfmodels.train import fit

LOCALIZER, SEGMENTER = "demo_localizer", "demo_unet"
MASK_CANVAS = (16, 32)  # two 14x14 digits side by side; a multiple of 2**depth for the U-Net
CLASS_NAMES = ("background", *"0123456789")


@functools.cache
def box_splits():
    """Each bundled digit at a random place and size on a 40x40 canvas, with its ink box."""
    digits = load_splits("digits")
    parts = [place_on_canvas(*digits[s], seed=SEEDS[s]) for s in SEEDS]
    return make_splits("digits-boxes", *parts, task="localization", num_classes=10)


@functools.cache
def mask_splits():
    """Two bundled digits, halved to 14x14, on a 16x32 canvas with per-pixel labels
    (0 background, 1 + digit)."""
    digits = load_splits("digits")
    half = lambda x: x.reshape(len(x), 14, 2, 14, 2, 1).mean((2, 4))  # noqa: E731  (2x2 mean pooling)
    parts = [pair_with_masks(half(digits[s][0]), digits[s][1], seed=SEEDS[s], canvas=MASK_CANVAS) for s in SEEDS]
    return make_splits("digits-masks", *parts, task="segmentation", num_classes=len(CLASS_NAMES),
                       class_names=CLASS_NAMES)


def _train(builder, kwargs, splits, progress, *, epochs, learning_rate, label, **compile_args):
    result = fit(builder, splits, epochs=epochs, batch_size=32, learning_rate=learning_rate, verbose=0,
                 model_kwargs=kwargs, callbacks=[epoch_progress(progress, epochs, share=0.95, label=label)],
                 **compile_args)
    return result.model


def build_localizer(directory, progress, *, filters=(16, 32, 32), dense_units=64, epochs=15, learning_rate=2e-3):
    """A small localizer: digit class and its box (y0, x0, y1, x1) from one image."""
    splits = box_splits()
    kwargs = {"input_shape": list(splits.info.input_shape), "filters": list(filters), "dense_units": dense_units}
    model = _train("localizer", kwargs, splits, progress, epochs=epochs, learning_rate=learning_rate,
                   label="localizer")  # the trainer's localization loss: cross-entropy + box L1
    x, y = splits.test
    m = evaluate.localization(y, model.predict(x, batch_size=256, verbose=0))
    save_rebuildable(directory, model, "localizer", kwargs,
                     test_accuracy=m["class_accuracy"], test_mean_iou=m["mean_iou"],
                     title=f"localizer, {model.count_params():,} parameters, {epochs} epochs")


def build_segmenter(directory, progress, *, filters=8, depth=2, epochs=12, learning_rate=3e-3):
    """A small U-Net: one of 11 labels per pixel."""
    splits = mask_splits()
    kwargs = {"input_shape": list(splits.info.input_shape), "num_classes": splits.info.num_classes,
              "filters": filters, "depth": depth}
    model = _train("unet", kwargs, splits, progress, epochs=epochs, learning_rate=learning_rate, label="U-Net",
                   loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    x, y = splits.test
    m = evaluate.segmentation(y, model.predict(x, batch_size=128, verbose=0), splits.info.num_classes)
    save_rebuildable(directory, model, "unet", kwargs, test_mean_iou=m["mean_iou"],
                     test_pixel_accuracy=m["pixel_accuracy"],
                     title=f"U-Net (filters {filters}, depth {depth}), {model.count_params():,} parameters, "
                           f"{epochs} epochs")


ZOOM = 8
PALETTE = np.array([(0, 0, 0), (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
                    (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 190)], np.uint8)


def _rgb(image) -> np.ndarray:
    """A (H, W, 1) image in [0, 1] as an enlarged RGB uint8 array."""
    gray = (np.clip(image[..., 0], 0, 1) * 255).astype(np.uint8)
    return np.repeat(np.kron(gray, np.ones((ZOOM, ZOOM), np.uint8))[..., None], 3, -1)


def draw_boxes(image, boxes: dict):
    """``image`` (H, W, 1) enlarged, with each ``{colour: (y0, x0, y1, x1) fractions}`` box drawn."""
    from PIL import Image, ImageDraw

    rgb = Image.fromarray(_rgb(image))
    draw = ImageDraw.Draw(rgb)
    for colour, box in boxes.items():  # a regressed box may come out inverted or off the image
        (y0, y1), (x0, x1) = (sorted(np.clip(box[i::2], 0.0, 1.0)) for i in (0, 1))
        draw.rectangle([x0 * rgb.width, y0 * rgb.height, max(x0 * rgb.width, x1 * rgb.width - 1),
                        max(y0 * rgb.height, y1 * rgb.height - 1)],
                       outline=colour, width=3)
    return rgb


def overlay(image, labels, alpha: float = 0.6) -> np.ndarray:
    """``image`` (H, W, 1) enlarged with the label map (H, W) painted over it in colour."""
    colours = np.kron(PALETTE[labels], np.ones((ZOOM, ZOOM, 1), np.uint8)).astype(np.float32)
    painted = np.kron(labels > 0, np.ones((ZOOM, ZOOM), bool))[..., None]
    mixed = np.where(painted, (1 - alpha) * _rgb(image) + alpha * colours, _rgb(image))
    return mixed.astype(np.uint8)
