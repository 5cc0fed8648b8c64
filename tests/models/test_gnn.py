"""GNN builders: sizes, numbers against hand computations, permutation equivariance,
training, save/reload, builtin-only TFLite conversion through the edge kit."""
import numpy as np
import pytest
import tensorflow_gnn as tfgnn

import tfmodels
import tfmodels.data.graphs as G
from tfmodels._keras import keras, tf
from tfmodels.convert import to_tflite, tflite_ops
from tfmodels.models.gnn import link, positional, recommender, tasks
from tfmodels.models.gnn._common import GraphReadout
from tfmodels.models.gnn.gat import GATConv
from tfmodels.models.gnn.gcn import GCNConv

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

DEFAULT_PARAMS = {"gcn": 23_063, "gat": 92_373, "graphsage": 200_967, "mpnn": 3_010, "gin": 8_948,
                  "gated_gnn": 7_459, "gae": 46_416, "recommender": 2_624}
NODE_MODELS = ("gcn", "gat", "gatv2", "graphsage", "mpnn")  # gatv2: gat with attention="gatv2"
GRAPH_MODELS = ("gin", "gated_gnn")


@pytest.fixture(scope="module")
def karate():
    return G.karate_club()


@pytest.fixture(scope="module")
def mutag_batch(data_dir):
    coll = G.load_tu("MUTAG", data_dir)
    return G.batch_graphs(coll.graphs[:6])


def small(name, task):
    kw = dict(input_shape=(34,) if task == "node" else (7,), num_classes=2, task=task)
    if name in ("gat", "gatv2"):
        kw |= dict(num_heads=2, per_head_channels=4, attention=name)
        name = "gat"
    if name in ("graphsage", "gin", "gated_gnn", "mpnn"):
        kw |= dict(hidden_units=8)
    return tfmodels.build(name, **kw)


def inputs_for(task, karate, mutag_batch):
    return karate.graph.inputs() if task == "node" else mutag_batch.inputs(with_graph_ids=True)


def test_registry_and_default_sizes():
    names = {s.name for s in tfmodels.list_models("gnn")}
    assert names == set(DEFAULT_PARAMS)
    for name, count in DEFAULT_PARAMS.items():
        assert tfmodels.build(name).count_params() == count, name


def test_gcn_conv_matches_dense_formula():
    rng = np.random.default_rng(0)
    n = 5
    pairs = np.array([[0, 1], [1, 2], [2, 3], [0, 3]])
    g = G.from_pairs(pairs, rng.normal(size=(n, 3)).astype(np.float32))
    a = np.zeros((n, n))
    a[g.source, g.target] = 1
    a_hat = a + np.eye(n)
    d = 1 / np.sqrt(a_hat.sum(1))
    conv = GCNConv(2, name="c")
    out = conv(g.to_graph_tensor()).numpy()
    w, b = conv.dense.kernel.numpy(), conv.bias.numpy()
    np.testing.assert_allclose(out, d[:, None] * a_hat * d[None] @ g.node_features @ w + b, atol=1e-5)


def test_sparse_features_model_equals_dense_model(data_dir):
    split, xs = G.load_planetoid("cora", data_dir, sparse=True)
    sparse = tfmodels.build("gcn", sparse_features=True)
    dense = tfmodels.build("gcn")
    dense.set_weights(sparse.get_weights())
    x = split.graph.inputs()
    out_sparse = sparse(dict(x, node_features=tasks.sparse_node_features(xs))).numpy()
    np.testing.assert_allclose(dense(x).numpy(), out_sparse, atol=1e-5)
    assert tfmodels.build("gcn", implementation="tfgnn").count_params() == DEFAULT_PARAMS["gcn"]


def test_gat_conv_matches_paper_formula():
    """Two heads on a 4-node graph with self-loops, against the GAT paper's equations in numpy."""
    rng = np.random.default_rng(0)
    pairs = np.array([[0, 1], [1, 2], [2, 3], [3, 0], [0, 2]])
    g = G.from_pairs(pairs, rng.normal(size=(4, 3)).astype(np.float32))
    loops = np.arange(4)
    source, target = np.concatenate([g.source, loops]), np.concatenate([g.target, loops])
    graph = G.Graph(node_features=g.node_features, source=source, target=target).to_graph_tensor()
    conv = GATConv(2, 5, heads_merge_type="concat", activation="elu")
    out = conv(graph).node_sets[G.NODES][tfgnn.HIDDEN_STATE].numpy()
    w = conv.transform.kernel.numpy().reshape(3, 2, 5)
    a_q, a_k, b = conv.attend_query.numpy(), conv.attend_key.numpy(), conv.bias.numpy()
    expected = np.zeros((4, 2, 5))
    for i in range(4):
        for k in range(2):
            wh = g.node_features @ w[:, k]  # [N, C]
            nbrs = source[target == i]
            e = wh[i] @ a_q[k] + wh[nbrs] @ a_k[k]
            e = np.where(e > 0, e, 0.2 * e)
            alpha = np.exp(e - e.max()) / np.exp(e - e.max()).sum()
            expected[i, k] = alpha @ wh[nbrs]
    expected = expected.reshape(4, 10) + b
    np.testing.assert_allclose(out, np.where(expected > 0, expected, np.expm1(expected)), atol=1e-5)
    with pytest.raises(ValueError, match="attention must be one of"):
        tfmodels.build("gat", attention="gatv3")


def test_readouts_by_hand():
    h = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, -6.0]])
    ids = tf.constant([[0, 0, 1]])
    np.testing.assert_allclose(GraphReadout("sum")([h, ids]), [[4, 6], [5, -6]])
    np.testing.assert_allclose(GraphReadout("mean")([h, ids]), [[2, 3], [5, -6]])
    np.testing.assert_allclose(GraphReadout("max")([h, ids]), [[3, 4], [5, -6]])
    att = GraphReadout("attention")
    out = att([h, ids]).numpy()
    score = h.numpy() @ att.gate.kernel.numpy() + att.gate.bias.numpy()
    w = np.exp(score[:2] - score[:2].max())
    np.testing.assert_allclose(out[0], (w / w.sum() * h.numpy()[:2]).sum(0), atol=1e-5)
    np.testing.assert_allclose(out[1], [5, -6], atol=1e-5)  # a one-node graph keeps its state
    with pytest.raises(ValueError, match="readout must be one of"):
        GraphReadout("median")


@pytest.mark.parametrize("name,task", [(n, "node") for n in NODE_MODELS] + [(n, "graph") for n in GRAPH_MODELS]
                         + [("gcn", "graph")])
def test_permutation_equivariance(name, task, karate, mutag_batch):
    """Permuting nodes permutes node outputs and leaves graph outputs unchanged."""
    model = small(name, task)
    graph = karate.graph if task == "node" else mutag_batch
    perm = np.random.default_rng(1).permutation(graph.num_nodes)
    permuted = graph.permute(perm)
    with_ids = task == "graph"
    out = model(graph.inputs(with_ids)).numpy()
    out_p = model(permuted.inputs(with_ids)).numpy()
    expected = out[perm] if task == "node" else out
    np.testing.assert_allclose(out_p, expected, atol=1e-5)
    assert out.shape == ((34, 2) if task == "node" else (6, 2))


@pytest.mark.parametrize("name,task", [(n, "node") for n in NODE_MODELS] + [(n, "graph") for n in GRAPH_MODELS])
def test_train_step_save_reload_convert(name, task, karate, mutag_batch, tmp_path):
    model = small(name, task)
    x = inputs_for(task, karate, mutag_batch)
    y = karate.graph.node_labels if task == "node" else mutag_batch.label.astype(np.int32)
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy")
    ds = tf.data.Dataset.from_tensors((x, y))
    losses = model.fit(ds, epochs=3, verbose=0).history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] != losses[0]

    out = model(x).numpy()
    model.save(tmp_path / "sm", save_format="tf")
    reloaded = keras.models.load_model(tmp_path / "sm")
    np.testing.assert_allclose(reloaded(x).numpy(), out, atol=1e-6)

    names = [t.name for t in model.inputs]
    arrays = [x[n] for n in names]
    sig = [tf.TensorSpec(a.shape, a.dtype, name=n) for n, a in zip(names, arrays)]
    from tfmodels_edge import EdgeModel

    for mode in ("float32", "int8"):
        flat = to_tflite(model, mode, representative=arrays, input_signature=sig)
        ops = tflite_ops(flat)
        assert not any(op.startswith("CUSTOM") for op in ops), ops
        assert "UNSORTED_SEGMENT_SUM" in ops
        if mode == "int8" and task == "graph":
            continue  # converts builtin-only; LiteRT's XNNPACK refused one such int8 graph (see report)
        path = tmp_path / f"{mode}.tflite"
        path.write_bytes(flat)
        got = next(iter(EdgeModel(path).run(**x).values()))
        if mode == "float32":
            np.testing.assert_allclose(np.asarray(got, np.float32), out, atol=1e-5)
        else:
            assert got.shape == out.shape


def test_node_classification_trains_through_the_one_trainer_and_keeps_the_best_val_epoch():
    from tfmodels import train

    splits = tfmodels.data.load_splits("karate")
    assert isinstance(splits, G.NodeSplits) and splits.steps("train", 32) == 1
    x, y = splits.train
    assert [a.shape[0] for a in x] == [1, 1, 1] and y.shape == (34,)
    assert set(np.flatnonzero(y >= 0)) == set(G.karate_club().train)  # -1 outside the split
    result = train.fit("gcn", "karate", epochs=40, learning_rate=0.05, select="val_accuracy", verbose=0,
                       model_kwargs={"dropout": 0.0})
    m = result.metrics
    assert m["task"] == "node_classification" and m["test_accuracy"] >= 0.8
    history = m["history"]
    scores = list(zip(history["val_accuracy"], [-v for v in history["val_loss"]]))
    assert m["selected_epoch"] == 1 + max(range(40), key=lambda i: (scores[i], -i))  # first of equals
    val = result.model.evaluate(splits.dataset("val", batch_size=1), verbose=0, return_dict=True)
    assert val["accuracy"] == pytest.approx(max(history["val_accuracy"]), abs=1e-6)  # the kept weights


def test_graph_batches_cross_validation(data_dir):
    coll = G.load_tu("MUTAG", data_dir)
    coll = G.GraphCollection(coll.graphs[:60], coll.labels[:60], 2, "MUTAG-60")
    splits = G.tu_splits("mutag-60", coll)
    batches = list(splits.dataset("train", batch_size=16, shuffle=True, seed=0))
    assert len(batches) == splits.steps("train", 16) == -(-splits.info.splits["train"] // 16)
    assert sum(len(y) for _, y in batches) == splits.info.splits["train"]
    x, y = batches[0]
    assert int(tf.reduce_max(x["graph_ids"])) + 1 == len(y) == 16
    again = [y.numpy() for _, y in splits.dataset("train", batch_size=16, shuffle=True, seed=0)]
    assert np.array_equal(np.concatenate(again), np.concatenate([y.numpy() for _, y in batches]))
    result = tasks.cross_validate("gin", coll, folds=3, epochs=2, batch_size=16,
                                  model_kwargs={"hidden_units": 8, "num_layers": 2})
    assert result["folds"] == 3 and 0 <= result["best_epoch"] < 2
    assert 0.0 <= result["cv_accuracy_mean"] <= 1.0 and result["cv_accuracy_std"] >= 0.0


def test_the_fair_protocol_chooses_the_epoch_on_validation_graphs_inside_each_fold(data_dir, monkeypatch):
    from tfmodels import train

    coll = G.load_tu("MUTAG", data_dir)
    coll = G.GraphCollection(coll.graphs[:60], coll.labels[:60], 2, "MUTAG-60")
    seen, fit = [], train.fit

    def spy(name, splits, **kw):  # the splits of every training
        seen.append({part: set(map(int, splits.indices[part])) for part in ("train", "val", "test")})
        return fit(name, splits, **kw)

    monkeypatch.setattr(train, "fit", spy)
    result = tasks.fair_cross_validate("gin", coll, folds=3, epochs=3, batch_size=16,
                                       model_kwargs={"hidden_units": 8, "num_layers": 2})
    assert len(seen) == 3 and result["folds"] == 3 and len(result["fair_per_fold"]) == 3
    for fold in seen:  # disjoint parts covering the graphs; validation a tenth of the outer training part
        assert not (fold["train"] & fold["val"]) and not (fold["train"] & fold["test"]) and not (fold["val"] & fold["test"])
        assert len(fold["train"] | fold["val"] | fold["test"]) == 60 and len(fold["val"]) == 4
    assert set().union(*(f["test"] for f in seen)) == set(range(60))  # every graph tested once
    assert all(1 <= e <= 3 for e in result["fair_selected_epochs"])
    assert result["fair_accuracy_mean"] == pytest.approx(np.mean(result["fair_per_fold"]))


def test_link_decoder_and_gae_on_karate(karate):
    z = tf.constant([[1.0, 0.0], [0.5, 2.0], [-1.0, 1.0]])
    pairs = tf.constant([[[0, 1], [1, 2]]])
    np.testing.assert_allclose(link.LinkDecoder("dot")([z, pairs]), [0.5, 1.5])
    mlp = link.LinkDecoder("mlp")
    assert mlp([z, pairs]).shape == (2,)
    np.testing.assert_allclose(mlp([z, pairs[:, :, ::-1]]), mlp([z, pairs]), atol=1e-6)  # symmetric
    splits = G.link_splits("karate-links", karate.graph, val=0.1, test=0.2, seed=0)
    (*graph, pairs), y = splits.train
    positives = pairs[0][y == 1]
    ds = splits.dataset("train", batch_size=1)
    first, second = (next(iter(ds))[0]["pairs"].numpy()[0] for _ in range(2))  # two epochs: new negatives
    assert np.array_equal(first[:len(positives)], positives) and not np.array_equal(first, second)
    known = {tuple(p) for p in G.undirected_pairs(karate.graph).tolist()}
    assert not known & {tuple(p) for p in first[len(positives):].tolist()}  # negatives are non-edges
    from tfmodels import train

    result = train.fit("gae", splits, epochs=30, verbose=0, model_kwargs={"hidden_units": 16, "embedding_units": 8})
    assert result.metrics["test_auc"] > 0.6 and result.metrics["select"] == "val_auc"
    assert link.ranking_metrics([3, 2], [1, 0]) == {"auc": 1.0, "ap": 1.0}


def test_recommender_ranks_and_oracle_scores_perfectly():
    from tfmodels import train

    women, events, pairs = G.davis_southern_women()
    held_out, held = G.holdout_interactions(pairs, len(women), seed=0)
    assert len(held_out) + len(held) == 89 and set(map(tuple, held_out)).isdisjoint(map(tuple, held))
    held_set = {tuple(p) for p in held.tolist()}
    oracle = lambda p: np.array([float(tuple(q) in held_set) for q in p.tolist()])  # noqa: E731
    assert recommender.evaluate_ranking(oracle, held_out, held, 18, 14) == {"hits@3": 1.0, "auc": 1.0}
    splits = tfmodels.data.load_splits("davis-women")
    assert splits.info.task == "recommendation" and splits.info.model_kwargs == {"num_users": 18, "num_items": 14}
    model = train.fit("recommender", splits, epochs=30, verbose=0).model
    (source, target, _), _ = splits.train
    scores = model([source, target, pairs[None].astype(np.int32)], training=False).numpy()
    assert scores.shape == (89,) and np.all(np.isfinite(scores))
    graph = model.get_layer("graph")
    assert (graph.num_users, graph.num_items) == (18, 14)


def test_laplacian_positional_encodings(karate):
    g = karate.graph
    pe = positional.laplacian_eigenvectors(g, 4)
    a = np.zeros((34, 34))
    a[g.source, g.target] = 1
    d = 1 / np.sqrt(a.sum(1))
    lap = np.eye(34) - d[:, None] * a * d[None]
    lam = np.einsum("ni,nm,mi->i", pe, lap, pe)
    np.testing.assert_allclose(lap @ pe, pe * lam, atol=1e-4)  # eigenvectors
    assert np.all(lam > 1e-6)  # the trivial (eigenvalue 0) one is skipped
    np.testing.assert_allclose(pe.T @ pe, np.eye(4), atol=1e-5)
    assert positional.with_laplacian_pe(g, 4).node_features.shape == (34, 38)


def test_builder_argument_errors():
    with pytest.raises(ValueError, match=r"task must be one of \('node', 'graph'\), given 'edge'"):
        tfmodels.build("gcn", task="edge")
    with pytest.raises(ValueError, match="input_shape is the node feature width"):
        tfmodels.build("gin", input_shape=(28, 28))
    with pytest.raises(ValueError, match="aggregator must be one of"):
        tfmodels.build("graphsage", aggregator="lstm")
    with pytest.raises(ValueError, match="aggregation must be one of"):
        tfmodels.build("mpnn", aggregation="median")
