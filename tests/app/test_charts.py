"""The app's shared charts (apps/charts.py) from their numbers."""
import numpy as np

import helpers  # noqa: F401  (puts apps/ on sys.path)
from charts import confusion_chart, curves, principal_axes


def test_curves_pair_train_and_validation_and_skip_missing_values():
    history = {"loss": [1.0, 0.5, 0.25], "val_loss": [1.2, float("nan"), 0.4], "accuracy": [0.5, 0.7, 0.9],
               "lr": [1e-3, 5e-4, 1e-4]}
    frames = curves(history)
    assert list(frames) == ["accuracy", "loss", "lr"]
    loss = frames["loss"]
    assert list(loss[loss["split"] == "train"]["value"]) == [1.0, 0.5, 0.25]
    assert list(loss[loss["split"] == "validation"]["epoch"]) == [1, 3]  # the NaN epoch left out
    assert set(frames["accuracy"]["split"]) == {"train"}  # no val_accuracy recorded
    assert curves({}) == {}


def test_confusion_chart_holds_every_cell_with_its_share_of_the_true_class():
    matrix = [[8, 2, 0], [0, 5, 5], [0, 0, 0]]
    chart = confusion_chart(matrix, ["cat", "dog", "eel"], title="t")
    cells = chart.data.set_index(["true", "predicted"])
    assert len(cells) == 9 and cells["count"].sum() == 20
    assert cells.loc[("cat", "dog"), "count"] == 2 and cells.loc[("cat", "dog"), "share of true"] == 0.2
    assert cells.loc[("dog", "eel"), "share of true"] == 0.5
    assert cells.loc[("eel", "eel"), "share of true"] == 0  # a class without examples: no division by zero
    assert chart.to_dict()["title"] == "t"


def test_principal_axes_order_the_directions_by_variance():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 3)) * [5.0, 0.1, 1.0]
    xy = principal_axes(x)
    assert xy.shape == (500, 2) and np.allclose(xy.mean(0), 0, atol=1e-9)
    assert np.var(xy[:, 0]) > np.var(xy[:, 1]) > 0.5  # the axes of x's first and third columns
    assert np.var(xy[:, 0]) + np.var(xy[:, 1]) > 0.99 * (np.var(x[:, 0]) + np.var(x[:, 2]))
