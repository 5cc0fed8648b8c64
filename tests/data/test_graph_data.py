"""Graphs through the one trainer and the real CLI: registered graph datasets, a node table
with an edge list, a TU folder and a hand-made Planetoid folder whose test ids have a gap."""
import collections
import csv
import pickle

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from benchmarks.reliability import in_process, one_error_line
from tfmodels.data import load_splits
from tfmodels.data.graphs import UNLABELLED, NodeSplits, load_planetoid
from tfmodels.evaluate import evaluate_run
from tfmodels.rundir import RunDir


def _train(*args) -> tuple[int, str]:
    code, _, err = in_process(["train", *map(str, args)])
    return code, err


@pytest.fixture(scope="module")
def karate_files(tmp_path_factory):
    """Zachary's karate club as a user would have it: a node table (id, club; no features,
    four members unlabelled) and an edge list of names."""
    root = tmp_path_factory.mktemp("karate")
    g = nx.karate_club_graph()
    with open(root / "members.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "club"])
        for n in g.nodes:
            w.writerow([f"m{n}", "" if n in (5, 12, 20, 27) else g.nodes[n]["club"]])
    with open(root / "friends.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["source", "target"])
        w.writerows([f"m{a}", f"m{b}"] for a, b in g.edges)
    return root


def test_node_table_and_edge_list_train_export_and_eval(karate_files, tmp_path):
    nodes, edges, out = karate_files / "members.csv", karate_files / "friends.csv", tmp_path / "run"
    splits = load_splits(str(nodes), target="club", edges=str(edges))
    assert isinstance(splits, NodeSplits) and splits.info.class_names == ("Mr. Hi", "Officer")
    x, y = splits.train
    assert x[0].shape == (1, 34, 34) and x[1].shape[1] == 2 * 78  # one-hot ids; 78 friendships both ways
    assert sum(splits.info.splits.values()) == 30  # the four unlabelled members are in no split
    for part in ("train", "val", "test"):
        assert (splits[part][1][[5, 12, 20, 27]] == UNLABELLED).all()
    code, err = _train("gcn", "--data", nodes, "--edges", edges, "--target", "club", "--epochs", "60",
                       "--learning-rate", "0.05", "--out", out)
    assert code == 0, err
    run = RunDir(out)
    m = run.metrics()
    assert m["task"] == "node_classification" and m["epochs"] == 60 and m["select"] == "val_accuracy"
    assert m["test_accuracy"] >= 0.6
    assert in_process(["export", str(out), "--quant", "float32,int8"])[0] == 0
    assert (run.export_dir / "labels.txt").read_text().split("\n")[:2] == ["Mr. Hi", "Officer"]
    result = evaluate_run(out)
    assert result["test_examples"] == splits.info.splits["test"]
    assert result["keras"]["accuracy"] == pytest.approx(m["test_accuracy"], abs=1e-6)
    assert result["tflite"]["float32"]["accuracy"] == result["keras"]["accuracy"]
    assert sum(map(sum, result["keras"]["confusion_matrix"])) == splits.info.splits["test"]


def test_graph_file_mistakes_are_one_line_errors(karate_files, tmp_path):
    nodes = karate_files / "members.csv"
    bad = tmp_path / "bad_edges.csv"
    bad.write_text("source,target\nm0,m1\nm2,nobody\n")
    empty = tmp_path / "no_edges.csv"
    empty.write_text("source,target\n")
    cases = {
        "an edge to a node missing from the table": (["--edges", bad, "--target", "club"], "bad_edges.csv:3"),
        "no edges": (["--edges", empty, "--target", "club"], "no_edges.csv"),
        "edges without a target": (["--edges", karate_files / "friends.csv"], "--target"),
        "a missing edge list": (["--edges", tmp_path / "none.csv", "--target", "club"], "not found"),
    }
    for what, (args, expected) in cases.items():
        code, err = _train("gcn", "--data", nodes, *args, "--epochs", "1", "--out", tmp_path / "r")
        assert one_error_line(code, err) and expected in err, (what, err)
    code, err = _train("seed_cnn", "--data", "karate", "--epochs", "1", "--out", tmp_path / "r2")
    assert one_error_line(code, err) and "graph data trains a GNN" in err
    code, err = _train("gcn", "--data", "digits", "--epochs", "1", "--out", tmp_path / "r3")
    assert one_error_line(code, err) and "it trains on graphs" in err


def test_tu_folder_trains_graph_classification(tmp_path):
    """A TU folder made by hand: cycles (class 1) and paths (class 0) of 4-9 nodes."""
    root = tmp_path / "RINGS"
    root.mkdir()
    rng = np.random.default_rng(0)
    edges, indicator, labels, offset = [], [], [], 0
    for g in range(60):
        n, ring = int(rng.integers(4, 10)), g % 2
        pairs = [(i, i + 1) for i in range(n - 1)] + ([(n - 1, 0)] if ring else [])
        edges += [(offset + a + 1, offset + b + 1) for a, b in pairs] + [(offset + b + 1, offset + a + 1)
                                                                          for a, b in pairs]
        indicator += [g + 1] * n
        labels.append(ring)
        offset += n
    np.savetxt(root / "RINGS_A.txt", edges, fmt="%d", delimiter=", ")
    np.savetxt(root / "RINGS_graph_indicator.txt", indicator, fmt="%d")
    np.savetxt(root / "RINGS_graph_labels.txt", labels, fmt="%d")
    out = tmp_path / "run"
    code, err = _train("gin", "--data", root, "--epochs", "3", "--batch-size", "8", "--out", out)
    assert code == 0, err
    m = RunDir(out).metrics()
    assert m["task"] == "graph_classification" and m["dataset"] == "RINGS"
    assert m["schedule"] == "step" and m["epochs"] == 3  # GIN's setup, epochs as asked
    result = evaluate_run(out)
    assert result["evaluation"] == "classification" and result["test_examples"] == 6  # 10% of 60


def _pickle(path, obj):
    path.write_bytes(pickle.dumps(obj, protocol=2))


def test_planetoid_folder_with_a_gap_in_the_test_ids(tmp_path):
    """Citeseer's quirk, by hand: test ids 9..13 with 11 missing (an isolated paper with no
    row in tx). Kipf & Welling's loader gives node 11 zero features and no split."""
    root = tmp_path / "tiny"
    root.mkdir()
    rng = np.random.default_rng(0)
    classes, allx_n, test_ids = 2, 9, [13, 9, 12, 10]  # shuffled, as the files store them
    feats = lambda n: sp.csr_matrix(rng.random((n, 5)).astype(np.float32))  # noqa: E731
    onehot = lambda ys: np.eye(classes, dtype=np.int64)[ys]  # noqa: E731
    ally = [i % 2 for i in range(allx_n)]
    _pickle(root / "ind.tiny.x", feats(4))
    _pickle(root / "ind.tiny.y", onehot(ally[:4]))
    _pickle(root / "ind.tiny.allx", feats(allx_n))
    _pickle(root / "ind.tiny.ally", onehot(ally))
    _pickle(root / "ind.tiny.tx", feats(len(test_ids)))
    _pickle(root / "ind.tiny.ty", onehot([i % 2 for i in test_ids]))
    links = collections.defaultdict(list, {i: [i + 1] for i in range(13)})
    del links[10], links[11]  # node 11 is isolated
    links[10] = [12]
    _pickle(root / "ind.tiny.graph", links)
    (root / "ind.tiny.test.index").write_text("\n".join(map(str, test_ids)) + "\n")

    split = load_planetoid("tiny", folder=root)
    assert split.graph.num_nodes == 14 and list(split.test) == [9, 10, 12, 13]
    assert not split.graph.node_features[11].any()  # the gap: a zero row
    splits = load_splits(str(root))
    assert splits.info.splits == {"train": 4, "val": 5, "test": 4}
    assert all(splits[p][1][11] == UNLABELLED for p in ("train", "val", "test"))
    out = tmp_path / "run"
    code, err = _train("gcn", "--data", root, "--epochs", "5", "--out", out)
    assert code == 0, err
    assert RunDir(out).config()["data"]["ref"] == str(root.resolve())


def test_registered_graph_resumes_and_selects_over_every_epoch(tmp_path):
    """A run continued with more epochs chooses its epoch among all of them: the best
    weights and their score are saved in every epoch checkpoint."""
    import tensorflow as tf

    from tfmodels.train.checkpoints import checkpoint_paths

    out = tmp_path / "run"
    assert _train("mpnn", "--data", "karate", "--epochs", "8", "--learning-rate", "0.05", "--out", out)[0] == 0
    run = RunDir(out)
    saved = {name for name, _ in tf.train.list_variables(checkpoint_paths(run.checkpoints)[-1])}
    assert any(name.startswith("best/score") for name in saved) and any(n.startswith("best/weights") for n in saved)
    code, err = _train("mpnn", "--data", "karate", "--epochs", "16", "--learning-rate", "0.05", "--out", out)
    assert code == 0, err
    m = run.metrics()
    assert m["resumed_from_epoch"] == 8 and m["epochs_run_this_process"] == 8
    h = m["history"]
    assert len(h["val_accuracy"]) == 16
    scores = [(a, -loss) for a, loss in zip(h["val_accuracy"], h["val_loss"])]
    assert m["selected_epoch"] == 1 + scores.index(max(scores))
