"""Your own data, end to end through the real CLI: one row per kind of file a user brings.

    python -m benchmarks owndata     # -> benchmarks/results/owndata.json

Each source is written out as a user would have it (real data from ../shared/data or
from the installed libraries), then ``tfmodels train`` (the model's defaults unless
named below), ``tfmodels export --quant int8``, ``tfmodels eval`` (the Keras model
and the int8 .tflite, run by the edge kit, on the same test split) and one
``tfmodels-edge predict`` on a copy of the .tflite alone in a folder, to see whether the
device names the class from the labels embedded in the file.

- ``image_folder``: the 2,007 USPS test digits as PNG files in ten folders named
  ``zero`` ... ``nine`` -> ``seed_cnn``.
- ``csv_table``: scikit-learn's wine table -> ``mlp``; ``csv_series``: Mauna Loa CO2
  as a column -> ``rnn_forecaster``; ``text_csv``: the UCI sentiment sentences as a
  CSV -> ``lstm``.
- ``edge_list``: Cora written as two CSV files (papers with their words and topic;
  citations) -> ``gcn`` (random 80/10/10 split of the labelled papers, not Planetoid's).
- ``tu_folder``: the MUTAG folder by path -> ``gin`` (Xu et al.'s setup, one split).
- ``planetoid_citeseer_format``: a folder of Planetoid files by path -> ``gcn``; only
  Cora's files lie here, so this row reads Cora through that path (the test-id gaps of
  Citeseer's files are tested on a hand-made set in tests/data/test_graph_data.py).
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _cli(*args, module="tfmodels", timeout=3600) -> str:
    proc = subprocess.run([sys.executable, "-m", module, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(map(str, args[:2]))} failed: {proc.stderr[-800:]}")
    return proc.stdout


def _json(text: str) -> dict:
    return json.loads(text[text.index("{"):text.rindex("}") + 1])


def _image_folder(root: Path, data_dir) -> tuple[list, Path]:
    from PIL import Image

    from tfmodels.data import load_arrays

    x, y = load_arrays("usps", "test", data_dir=data_dir)
    for i, (img, label) in enumerate(zip(x, y)):
        folder = root / "usps_digits" / DIGITS[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((img[..., 0] * 255).round().astype(np.uint8)).save(folder / f"{i}.png")
    sample = next((root / "usps_digits" / "seven").glob("*.png"))
    return ["--data", root / "usps_digits", "--epochs", 15], ["--input", sample]


def _csv_table(root: Path, data_dir):
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame
    frame.to_csv(root / "wine.csv", index=False)
    np.save(root / "wine_row.npy", frame.drop(columns="target").to_numpy(np.float32)[:1])
    return ["--data", root / "wine.csv", "--target", "target", "--epochs", 30], ["--input", root / "wine_row.npy"]


def _csv_series(root: Path, data_dir):
    from tfmodels.data.series import raw_series

    with (root / "co2.csv").open("w") as f:
        f.write("month,ppm\n" + "".join(f"{i},{v:.3f}\n" for i, v in enumerate(raw_series("co2"))))
    return ["--data", root / "co2.csv", "--column", "ppm", "--window", 24, "--epochs", 15], None


def _text_csv(root: Path, data_dir):
    from tfmodels.data.text import read_sentiment

    sentences, labels, _ = read_sentiment(data_dir)
    with (root / "sentences.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sentence", "feeling"])
        w.writerows((s, ("negative", "positive")[int(v)]) for s, v in zip(sentences, labels))
    return (["--data", root / "sentences.csv", "--text-column", "sentence", "--target", "feeling", "--epochs", 6],
            ["--text", "the battery works great and I love it"])


def _edge_list(root: Path, data_dir):
    from tfmodels.data.graphs import load_planetoid, undirected_pairs

    g = load_planetoid("cora", data_dir).graph
    topics = ("Case_Based", "Genetic_Algorithms", "Neural_Networks", "Probabilistic_Methods",
              "Reinforcement_Learning", "Rule_Learning", "Theory")
    with (root / "papers.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "topic", *(f"w{i}" for i in range(g.node_features.shape[1]))])
        for i in range(g.num_nodes):
            w.writerow([f"paper{i}", topics[g.node_labels[i]], *(f"{v:.6g}" for v in g.node_features[i])])
    with (root / "cites.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["source", "target"])
        w.writerows((f"paper{a}", f"paper{b}") for a, b in undirected_pairs(g))
    return ["--data", root / "papers.csv", "--edges", root / "cites.csv", "--target", "topic"], "graph"


def _tu_folder(root: Path, data_dir):
    from tfmodels.data.download import fetch

    return ["--data", fetch("mutag", data_dir)], "graph"


def _planetoid(root: Path, data_dir):
    from tfmodels.data.download import fetch

    folder = root / "planetoid_files"
    folder.mkdir()
    for path in Path(fetch("cora", data_dir)).glob("ind.cora.*"):
        shutil.copy(path, folder / path.name)
    return ["--data", folder], "graph"


SOURCES = {  # row -> (model, write the files and return the train flags and a device input)
    "image_folder": ("seed_cnn", _image_folder), "csv_table": ("mlp", _csv_table),
    "csv_series": ("rnn_forecaster", _csv_series), "text_csv": ("lstm", _text_csv),
    "edge_list": ("gcn", _edge_list), "tu_folder": ("gin", _tu_folder),
    "planetoid_citeseer_format": ("gcn", _planetoid),
}


def _graph_input(run: Path, work: Path) -> list:
    """The test graph of a run as .npy files, one per model input, for ``--input NAME=FILE``."""
    from tfmodels.rundir import RunDir

    x, _ = RunDir(run).load_data().test
    names = ("node_features", "source", "target", "graph_ids")
    flags = []
    for name, array in zip(names, x):
        np.save(work / f"{name}.npy", array)
        flags += ["--input", f"{name}={work / f'{name}.npy'}"]
    return flags


def one(name: str, work: Path, data_dir) -> dict:
    model, write = SOURCES[name]
    flags, device_input = write(work, data_dir)
    run = work / "runs" / name
    start = time.perf_counter()
    _cli("train", model, *flags, "--out", run)
    seconds = time.perf_counter() - start
    _cli("export", run, "--quant", "int8")
    result = _json(_cli("eval", run))
    metric = {"classification": "accuracy", "regression": "mae"}[result["evaluation"]]
    row = {"model": model, "dataset": result["dataset"], "task": result["task"], "test_metric": metric,
           "test_value": result["keras"][metric], "tflite_int8_value": result["tflite"]["int8"][metric],
           "train_seconds": round(seconds, 1), "test_examples": result["test_examples"],
           "labels_on_device": None}
    if device_input is not None:  # classifiers: does the lone .tflite name the class?
        lone = work / "device" / name
        lone.mkdir(parents=True)
        shutil.copy(run / "tflite" / "model_int8.tflite", lone / "model.tflite")
        if device_input == "graph":
            device_input = _graph_input(run, lone)
        answer = _json(_cli("predict", lone / "model.tflite", *device_input, module="tfmodels_edge"))
        names = json.loads((run / "config.json").read_text())["class_names"]
        row["labels_on_device"] = bool(answer.get("top1_label")) and set(answer["top1_label"]) <= set(names)
    return row


def run(data_dir=None) -> dict:
    os.environ.setdefault("TFMODELS_DATA_DIR", str(data_dir or ""))
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in SOURCES:
            print(f"-- {name}", file=sys.stderr, flush=True)
            work = Path(tmp) / name
            work.mkdir()
            out[name] = one(name, work, data_dir)
            print(json.dumps(out[name]), file=sys.stderr, flush=True)
    return out
