"""Graph data: safe Planetoid unpickling, Cora/TU/networkx/edge-list loaders, schema,
batching, link splits."""
import io
import os
import pickle

import numpy as np
import pytest

import tfmodels.data as data
import tfmodels.data.graphs as G
from tfmodels.errors import DataError


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_restricted_unpickler_rejects_code_execution(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Exploit(marker))
    with pytest.raises(G.UnsafePickleError, match=r"refusing to load (posix|os)\.system"):
        G.restricted_load(payload, source="evil.pkl")
    assert not marker.exists()
    with pytest.raises(G.UnsafePickleError, match="builtins.eval"):
        G.restricted_load(pickle.dumps(eval), source="evil2.pkl")


def test_restricted_unpickler_loads_allowed_classes_and_reports_truncation():
    import collections

    adjacency = collections.defaultdict(list, {0: [1, 2], 2: [0]})
    back = G.restricted_load(pickle.dumps(adjacency, protocol=4))
    assert back == adjacency and isinstance(back, collections.defaultdict)
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(G.restricted_load(pickle.dumps(array, protocol=4)), array)
    with pytest.raises(DataError, match="not a readable pickle"):
        G.restricted_load(pickle.dumps([1, 2, 3])[:-3])


def test_planetoid_file_with_foreign_class_is_refused(tmp_path, data_dir):
    folder = tmp_path / "planetoid"
    folder.mkdir()
    for f in (data_dir / "planetoid").glob("ind.cora.*"):
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "ind.cora.x").write_bytes(pickle.dumps(_Exploit(tmp_path / "pwned")))
    with pytest.raises(G.UnsafePickleError, match="ind.cora.x"):
        G.load_planetoid("cora", tmp_path)
    assert not (tmp_path / "pwned").exists()


def test_cora_standard_split(data_dir):
    split = G.load_planetoid("cora", data_dir)
    g = split.graph
    assert (g.num_nodes, g.node_features.shape[1], g.num_edges) == (2708, 1433, 2 * 5278)
    assert (len(split.train), len(split.val), len(split.test), split.num_classes) == (140, 500, 1000, 7)
    assert np.bincount(g.node_labels[split.train]).tolist() == [20] * 7
    assert split.test.min() == 1708 and split.test.max() == 2707
    pairs = set(zip(g.source.tolist(), g.target.tolist()))
    assert all((t, s) in pairs for s, t in pairs)  # symmetric
    np.testing.assert_allclose(g.node_features.sum(1), 1.0, atol=1e-5)  # row-normalized
    assert split.mask("train").sum() == 140
    info = data.info("cora", data_dir)
    assert info.task == "node_classification" and info.splits == {"train": 140, "val": 500, "test": 1000}


def test_tu_mutag_and_proteins_with_stratified_folds(data_dir):
    mutag = G.load_tu("MUTAG", data_dir)
    assert len(mutag.graphs) == 188 and mutag.num_classes == 2
    assert mutag.graphs[0].node_features.shape == (17, 7) and mutag.graphs[0].num_edges == 38
    np.testing.assert_array_equal(mutag.graphs[0].node_features.sum(1), 1.0)  # one-hot atom types
    folds = mutag.folds(10, seed=0)
    tests = np.concatenate([t for _, t in folds])
    assert sorted(tests.tolist()) == list(range(188))  # each graph tested exactly once
    ratio = mutag.labels.mean()
    for train, test in folds:
        assert not set(train) & set(test)
        assert abs(mutag.labels[test].mean() - ratio) < 0.08
    proteins = G.load_tu("PROTEINS", data_dir)
    assert len(proteins.graphs) == 1113 and proteins.graphs[0].node_features.shape[1] == 3
    assert sum(g.num_nodes for g in proteins.graphs) == 43471
    with pytest.raises(DataError, match="not found"):
        G.load_tu("NOPE", data_dir)


def test_karate_and_davis_bundled_graphs():
    split = G.karate_club()
    assert split.graph.num_nodes == 34 and split.graph.num_edges == 156
    assert {0, 33} <= set(split.train.tolist()) and len(split.train) == 4
    assert split.graph.node_labels[0] == 0 and split.graph.node_labels[33] == 1
    assert not set(split.train) & set(split.val) and not set(split.val) & set(split.test)
    women, events, pairs = G.davis_southern_women()
    assert (len(women), len(events), len(pairs)) == (18, 14, 89)
    assert pairs[:, 0].max() == 17 and pairs[:, 1].max() == 13


def test_edge_list_and_csv(tmp_path):
    (tmp_path / "e.txt").write_text("# comment\na b\nb c\nc a\na a\n")
    g, nodes = G.read_edge_list(tmp_path / "e.txt")
    assert nodes == ["a", "b", "c"] and g.num_edges == 6  # self-loop dropped, both directions
    (tmp_path / "e.csv").write_text("source,target,weight\nx,y,1\ny,z,2\n")
    g, nodes = G.read_edge_list(tmp_path / "e.csv", directed=True)
    assert nodes == ["x", "y", "z"] and g.source.tolist() == [0, 1] and g.target.tolist() == [1, 2]
    (tmp_path / "bad.txt").write_text("a b\nlonely\n")
    with pytest.raises(DataError, match="bad.txt:2: expected 'source target'"):
        G.read_edge_list(tmp_path / "bad.txt")


def test_graph_validation_and_permutation():
    with pytest.raises(DataError, match=r"edge endpoints must lie in \[0, 2\)"):
        G.Graph(np.zeros((2, 1), np.float32), np.array([0, 5]), np.array([1, 0]))
    g = G.Graph(np.arange(4, dtype=np.float32)[:, None], np.array([0, 1, 2]), np.array([1, 2, 3]),
                node_labels=np.array([0, 1, 2, 3]))
    perm = np.array([2, 0, 3, 1])
    p = g.permute(perm)
    np.testing.assert_array_equal(p.node_features[:, 0], [2, 0, 3, 1])
    edges = {(int(p.node_features[s, 0]), int(p.node_features[t, 0])) for s, t in zip(p.source, p.target)}
    assert edges == {(0, 1), (1, 2), (2, 3)}


def test_batching_offsets_components():
    a = G.Graph(np.ones((2, 3), np.float32), np.array([0]), np.array([1]), label=1)
    b = G.Graph(np.zeros((3, 3), np.float32), np.array([0, 2]), np.array([2, 1]), label=0)
    batch = G.batch_graphs([a, b])
    assert batch.graph_ids.tolist() == [0, 0, 1, 1, 1]
    assert batch.source.tolist() == [0, 2, 4] and batch.target.tolist() == [1, 4, 3]
    assert batch.label.tolist() == [1, 0]
    inputs = batch.inputs(with_graph_ids=True)
    assert inputs["node_features"].shape == (1, 5, 3) and inputs["graph_ids"].shape == (1, 5)
    with pytest.raises(DataError, match="same node feature width"):
        G.batch_graphs([a, G.Graph(np.ones((1, 2), np.float32), np.array([], int), np.array([], int))])


def test_link_split_holds_out_edges_and_samples_non_edges(data_dir):
    g = G.karate_club().graph
    s = G.link_split(g, val=0.1, test=0.2, seed=3)
    all_pairs = {tuple(p) for p in G.undirected_pairs(g).tolist()}
    assert len(s.val_pos) == 8 and len(s.test_pos) == 16 and len(s.train_pos) == 78 - 24
    assert len(s.val_neg) == len(s.val_pos) and len(s.test_neg) == len(s.test_pos)
    train_edges = {tuple(p) for p in G.undirected_pairs(s.train_graph).tolist()}
    held = {tuple(p) for p in np.concatenate([s.val_pos, s.test_pos]).tolist()}
    assert not train_edges & held and train_edges | held == all_pairs
    negatives = {tuple(p) for p in np.concatenate([s.val_neg, s.test_neg]).tolist()}
    assert not negatives & all_pairs and len(negatives) == 24


def test_schema_matches_graph_tensor():
    import tensorflow_gnn as tfgnn

    split = G.karate_club()
    gt = split.graph.to_graph_tensor()
    spec = tfgnn.create_graph_spec_from_schema_pb(split.graph.schema())
    assert spec.is_compatible_with(gt.spec)
    assert gt.node_sets[G.NODES][tfgnn.HIDDEN_STATE].shape == (34, 34)
    assert int(gt.edge_sets[G.EDGES].sizes[0]) == 156
    mutag = G.graph_schema(7, graph_label=True)
    assert mutag.node_sets[G.NODES].features[tfgnn.HIDDEN_STATE].shape.dim[0].size == 7
    assert "label" in mutag.context.features
