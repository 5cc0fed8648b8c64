"""Evaluate a run directory: the Keras model and every exported .tflite on the test split."""
import json
from pathlib import Path

import numpy as np

from tfmodels.errors import DataError


def evaluate_run(run_dir, data_dir=None) -> dict:
    """Test accuracy of ``run_dir/saved_model`` and of each ``run_dir/tflite/*.tflite``."""
    from tfmodels.data import load_splits
    from tfmodels.train import evaluate_arrays, load
    from tfmodels_edge import EdgeModel

    run_dir = Path(run_dir)
    metrics_file = run_dir / "metrics.json"
    if not metrics_file.exists():
        raise DataError(f"{run_dir} is not a run directory (no metrics.json); train one with `tfmodels train`")
    dataset = json.loads(metrics_file.read_text())["dataset"]
    x, y = load_splits(dataset, data_dir).test
    results = {"dataset": dataset, "test_examples": int(len(y)),
               "keras_test_accuracy": evaluate_arrays(load(run_dir), x, y)}
    for path in sorted((run_dir / "tflite").glob("model_*.tflite")):
        pred = EdgeModel(path).predict(x)
        mode = path.stem.removeprefix("model_")
        results[f"{mode}_test_accuracy"] = float(np.mean(pred.argmax(-1) == y))
    return results
