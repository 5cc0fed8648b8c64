"""Localization and segmentation data made from real USPS digits, and their metrics."""
import numpy as np
import pytest

from tfmodels.data import load_splits
from tfmodels.data.vision_tasks import box_iou, pair_with_masks, place_on_canvas, segmentation_metrics


def test_digit_boxes_hold_each_digit_inside_its_box(data_dir):
    splits = load_splits("digit-boxes", data_dir)
    usps = load_splits("usps", data_dir)
    assert splits.info.task == "localization" and splits.info.input_shape == (40, 40, 1)
    assert splits.info.splits == {"train": 6562, "val": 729, "test": 2007}
    x, y = splits.test
    np.testing.assert_array_equal(y["class"], usps.test[1])  # made only of USPS test digits
    box = y["box"]
    assert box.min() >= 0 and box.max() <= 1 and np.all(box[:, 2] > box[:, 0]) and np.all(box[:, 3] > box[:, 1])
    sides = (box[:, 2:] - box[:, :2]) * 40
    assert sides.max() <= 28 + 1e-4 and sides.min() >= 1 - 1e-4
    for img, b in zip(x[:200, ..., 0], (box[:200] * 40).round().astype(int)):
        outside = img.copy()
        outside[b[0]:b[2], b[1]:b[3]] = 0
        assert outside.max() <= 0.1 and img[b[0]:b[2], b[1]:b[3]].max() > 0.1


def test_digit_masks_label_ink_with_the_digit_class(data_dir):
    splits = load_splits("digit-masks", data_dir)
    assert splits.info.task == "segmentation" and splits.info.num_classes == 11
    x, m = splits.test
    assert x.shape == (2007, 32, 48, 1) and m.shape == (2007, 32, 48) and m.dtype == np.int32
    np.testing.assert_array_equal(m > 0, x[..., 0] > 0.5)  # ink <=> labelled (no overlap)
    usps_test_labels = load_splits("usps", data_dir).test[1]
    left = np.array([np.bincount(r[r > 0]).argmax() - 1 if (r > 0).any() else -1 for r in m[:, :, :24].reshape(len(m), -1)])
    seen = left >= 0
    np.testing.assert_array_equal(left[seen], usps_test_labels[seen])  # left digit = i-th test digit
    assert (m[:, :, :24] > 0).any((1, 2)).mean() > 0.99 and (m[:, :, 24:] > 0).any((1, 2)).mean() > 0.99
    assert len(np.unique(m)) == 11


def test_generators_are_seeded():
    digits = np.random.default_rng(0).random((5, 16, 16, 1), np.float32)
    a, ya = place_on_canvas(digits, np.arange(5), seed=7)
    b, yb = place_on_canvas(digits, np.arange(5), seed=7)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya["box"], yb["box"])
    c, _ = place_on_canvas(digits, np.arange(5), seed=8)
    assert not np.array_equal(a, c)
    _, m1 = pair_with_masks(digits, np.arange(5), seed=1)
    _, m2 = pair_with_masks(digits, np.arange(5), seed=1)
    np.testing.assert_array_equal(m1, m2)


def test_box_iou_known_values():
    a = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1]], float)
    b = np.array([[0, 0, 1, 1], [2, 2, 3, 3], [0, 0.5, 1, 1.5], [0, 0, 0.5, 0.5]], float)
    np.testing.assert_allclose(box_iou(a, b), [1.0, 0.0, 1 / 3, 0.25])
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        box_iou(a, b[:, :3])


def test_localization_scores_device_outputs_as_the_keras_ones():
    from tfmodels import evaluate

    y = {"class": np.array([3, 1]), "box": np.array([[0, 0, 1, 1], [0, 0, 1, 1]], float)}
    scores, boxes = np.eye(10)[[3, 2]], np.array([[0, 0, 1, 1], [0, 0, 0.5, 0.5]])
    keras_side = evaluate.localization(y, {"class": scores, "box": boxes})
    assert keras_side == {"class_accuracy": 0.5, "mean_iou": pytest.approx(0.625), "iou_over_0.5": 0.5}
    for file_order in ([scores, boxes], [boxes, scores]):  # the device's list, either order
        assert evaluate.localization(y, evaluate.localizer_outputs(file_order)) == keras_side


def test_segmentation_metrics_by_hand():
    truth = np.array([[[0, 0], [1, 2]]])
    pred = np.array([[[0, 1], [1, 2]]])
    m = segmentation_metrics(truth, pred, 4)
    assert m["pixel_accuracy"] == 0.75
    # class 0: 1/2, class 1: 1/2, class 2: 1, class 3 absent (not averaged)
    assert m["per_class_iou"] == [0.5, 0.5, 1.0, None] and m["mean_iou"] == pytest.approx(2 / 3)
    scores = np.eye(4)[pred]  # per-pixel one-hot scores give the same answer
    assert segmentation_metrics(truth, scores, 4) == m


def test_localizer_names_a_digit_wherever_it_stands_and_boxes_it_where_it_is(data_dir):
    """The class head pools the map globally, the box head reads positions: move a digit
    by 8 px (the base's stride) and, even untrained, the class scores stay, the box moves."""
    import tfmodels

    digit = load_splits("usps", data_dir).test[0][:1, ..., 0]
    canvases = np.zeros((2, 40, 40, 1), np.float32)
    canvases[0, 8:24, 8:24, 0] = canvases[1, 16:32, 16:32, 0] = digit[0]
    out = tfmodels.build("localizer")(canvases, training=False)
    class_moved = np.abs(out["class"][0] - out["class"][1]).max()
    box_moved = np.abs(out["box"][0] - out["box"][1]).max()
    assert class_moved < 1e-4 and box_moved > 100 * class_moved  # (borders of "same" padding: not 0)


def test_localization_loss_is_the_box_corners_l1_beside_the_class_cross_entropy():
    from tfmodels.train.trainer import BOX_LOSS_WEIGHT, box_loss

    truth = np.array([[0.1, 0.2, 0.5, 0.6]], np.float32)
    moved = truth + np.array([[0.02, -0.02, 0.04, 0.0]], np.float32)
    assert float(box_loss(truth, moved)[0]) == pytest.approx(BOX_LOSS_WEIGHT * 0.02)
