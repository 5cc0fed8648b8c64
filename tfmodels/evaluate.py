"""Evaluate a run folder by its task: the Keras model and every exported .tflite on the test split.

    tfmodels.evaluate.evaluate_run("runs/seed_cnn")
    # {"task": "classification", "keras": {"accuracy": 0.97, "per_class_accuracy": {...},
    #  "confusion_matrix": [[...]]}, "tflite": {"int8": {...}, ...}, ...}

Each task has its metrics: classification accuracy, per-class accuracy and the
confusion matrix; regression MAE and RMSE; segmentation mean IoU; localization class
accuracy and mean box IoU; link prediction and recommendation ROC AUC and average
precision; autoencoders reconstruction MSE and MAE; language models loss (nats per
token) and perplexity; metric learning recall@1. A task without an
evaluation here is a clear error, not a made-up 0.0.
"""
import numpy as np

from tfmodels.errors import TfmodelsError
from tfmodels.registry import GRAPH_TASKS


class NoEvaluationError(TfmodelsError):
    """The run's task has no evaluation in tfmodels."""


def _probabilities(out: np.ndarray) -> np.ndarray:
    """Rows that already are distributions stay; logits go through a softmax."""
    if np.all(out >= 0) and np.allclose(out.sum(-1), 1, atol=1e-3):
        return out
    z = np.exp(out - out.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)


def classification(y, out, class_names=()) -> dict:
    """Accuracy, per-class accuracy and the confusion matrix; labels of -1 (nodes outside
    the split, :mod:`tfmodels.data.graphs.splits`) are left out."""
    y, out = np.asarray(y), np.asarray(out)
    y, out = y[y >= 0], out[y >= 0]
    pred = out.argmax(-1)
    k = max(len(class_names), int(out.shape[-1]))
    confusion = np.bincount(y * k + pred, minlength=k * k).reshape(k, k)
    names = list(class_names) or [str(i) for i in range(k)]
    support = confusion.sum(1)
    return {"accuracy": float(np.mean(pred == y)),
            "per_class_accuracy": {names[i]: (float(confusion[i, i] / support[i]) if support[i] else None)
                                   for i in range(k)},
            "confusion_matrix": confusion.tolist()}


def regression(y, out) -> dict:
    err = np.asarray(out, np.float64).reshape(len(y), -1) - np.asarray(y, np.float64).reshape(len(y), -1)
    return {"mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err ** 2)))}


def segmentation(y, out, num_classes) -> dict:
    """Mean IoU over the classes present, pixel accuracy and each class's IoU."""
    from tfmodels.data.vision_tasks import segmentation_metrics

    return segmentation_metrics(y, out, num_classes)


def localization(y, out) -> dict:
    """Class accuracy, mean box IoU and the share of boxes with IoU over 0.5; ``out`` as
    the Keras model names it ({"class", "box"}; see :func:`localizer_outputs`)."""
    from tfmodels.data.vision_tasks import box_iou

    iou = box_iou(y["box"], out["box"])
    return {"class_accuracy": float(np.mean(np.asarray(out["class"]).argmax(-1) == y["class"])),
            "mean_iou": float(iou.mean()), "iou_over_0.5": float(np.mean(iou > 0.5))}


def localizer_outputs(outputs) -> dict:
    """A localizer's outputs as a device returns them (a list, in file order), named as
    the Keras model names them: the 4-wide one is the box, the other the class scores."""
    return {"box" if np.shape(p)[-1] == 4 else "class": p for p in outputs}


def language_model(y, out) -> dict:
    probs = _probabilities(np.asarray(out, np.float64))
    picked = np.take_along_axis(probs, np.asarray(y)[..., None], -1)[..., 0]
    loss = float(-np.mean(np.log(np.clip(picked, 1e-12, None))))
    return {"loss": loss, "perplexity": float(np.exp(loss))}


def recall_at_1(y, embeddings) -> dict:
    """Share of test examples whose nearest other test example has the same label."""
    e = np.asarray(embeddings, np.float64).reshape(len(y), -1)
    d = (e ** 2).sum(1)[:, None] - 2 * e @ e.T + (e ** 2).sum(1)[None]
    np.fill_diagonal(d, np.inf)
    return {"recall_at_1": float(np.mean(y[d.argmin(1)] == y))}


def ranking(y, scores) -> dict:
    """ROC AUC and average precision of scored pairs (1: a true link or interaction)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    y, scores = np.asarray(y).ravel(), np.asarray(scores, np.float64).ravel()
    return {"auc": float(roc_auc_score(y, scores)), "ap": float(average_precision_score(y, scores))}


def reconstruction(x, out) -> dict:
    """How far an autoencoder's output is from its input (pixel values in [0, 1])."""
    err = np.asarray(out, np.float64) - np.asarray(x, np.float64)
    return {"mse": float(np.mean(err ** 2)), "mae": float(np.mean(np.abs(err)))}


def kind(task: str, family: str, x, y, out) -> str:
    """Which evaluation a run gets, from its task, its model's family and the shapes."""
    if task == "localization" and isinstance(y, dict) and isinstance(out, dict):
        return task
    y, out = np.asarray(y), np.asarray(out)
    if family == "metric":
        return "metric_learning"
    if task in ("link_prediction", "recommendation"):
        return "ranking"
    if family == "autoencoder" and out.shape == np.shape(x):
        return "reconstruction"
    if task in ("classification", *GRAPH_TASKS) and y.ndim == 1 and out.ndim == 2:
        return "classification"
    if task == "classification" and y.ndim == 2 and out.ndim == 3:
        return "language_model"
    if task in ("regression", "segmentation"):
        return task
    raise NoEvaluationError(f"tfmodels has no evaluation for the task {task!r} of this run "
                            f"(labels {y.shape[1:]}, outputs {out.shape[1:]}); evaluate it in Python "
                            "with the model from tfmodels.train.load(RUN_DIR)")


def score(which: str, x, y, out, info) -> dict:
    if which == "reconstruction":
        return reconstruction(x, out)
    if which == "classification":
        return classification(y, out, info.get("class_names", ()))
    if which == "regression":
        return regression(y, out)
    if which == "segmentation":
        return segmentation(y, out, len(info.get("class_names", ())) or int(np.asarray(out).shape[-1]))
    if which == "language_model":
        return language_model(y, out)
    if which == "localization":
        return localization(y, out)
    if which == "ranking":
        return ranking(y, out)
    return recall_at_1(y, out)


def evaluate_run(run_dir, data_dir=None) -> dict:
    """Test metrics of ``run_dir``'s Keras model and of each .tflite of its current export."""
    from tfmodels.registry import get_spec
    from tfmodels.rundir import RunDir
    from tfmodels.train import load
    from tfmodels.errors import UnknownNameError

    run = RunDir(run_dir).require()
    metrics, config = run.metrics(), run.checked_config()
    model = load(run.path)  # checks the SavedModel's files first
    files = run.export_files() if run.report_file.exists() or run.export_dir.exists() else {}
    x, y = run.load_data(data_dir).test
    if hasattr(model, "inference_model"):
        model = model.inference_model()
    out = model.predict(x, batch_size=256, verbose=0)
    try:
        family = get_spec(config.get("model", metrics.get("model"))).family
    except UnknownNameError:
        family = ""
    task = config.get("task") or metrics.get("task") or "classification"
    which = kind(task, family, x, y, out)
    examples = int(np.sum(np.asarray(y) >= 0)) if task in GRAPH_TASKS else len(y)  # nodes or graphs
    results = {"run": str(run.path), "dataset": metrics.get("dataset"), "task": task, "evaluation": which,
               "test_examples": examples, "keras": score(which, x, y, out, config), "tflite": {}}
    if files:
        from tfmodels.convert.export import edge_outputs
        from tfmodels_edge import EdgeError

        for mode, path in files.items():
            try:
                pred = edge_outputs(path, x, model.input_names)
            except EdgeError as e:
                raise TfmodelsError(f"{path}: {e}") from e
            if which == "localization":
                pred = localizer_outputs(pred)
            results["tflite"][mode] = score(which, x, y, pred, config)
    return results
