"""Metric learning: distances, mining on hand-made batches, losses against brute force,
few-shot episodes and recall@k, the siamese/triplet models end to end."""
import itertools

import numpy as np
import pytest

import tfmodels
from tfmodels import convert
from tfmodels._keras import keras
from tfmodels.data import load_splits
from tfmodels.errors import TfmodelsError, UnknownNameError
from tfmodels.models import metric

# Points on a line: labels and 1-D embeddings chosen so each mining rule has one answer.
LABELS = np.array([0, 0, 1, 1, 2])
EMB = np.array([[0.0], [1.0], [1.5], [4.0], [0.2]], np.float32)
D = (EMB - EMB.T) ** 2


@pytest.fixture(scope="module")
def digits(data_dir):
    x, y = load_splits("usps", data_dir).train
    keep = np.isin(y, [0, 1, 2, 3])
    return x[keep][:256], y[keep][:256]


def test_pairwise_distances():
    rng = np.random.default_rng(0)
    e = rng.normal(size=(7, 3)).astype(np.float32)
    expected = ((e[:, None] - e[None]) ** 2).sum(-1)
    np.testing.assert_allclose(metric.pairwise_sq_distances(e), expected, atol=1e-5)


def test_batch_hard_picks_the_closest_negative():
    idx = metric.select_negatives(LABELS, D, "batch_hard").numpy()
    # anchor 0 (at 0.0): negatives at 1.5, 4.0, 0.2 -> index 4 (0.2); anchor 3 (at 4.0):
    # negatives at 0.0, 1.0, 0.2 -> index 1 (1.0); anchor 4 (class 2): every other point -> 0.
    assert idx.tolist() == [4, 2, 1, 1, 0]


def test_semi_hard_picks_the_closest_negative_beyond_the_positive():
    idx = metric.select_negatives(LABELS, D, "semi_hard").numpy()
    # anchor 0, positive 1 (d=1): negatives farther than 1 are 1.5 (2.25) and 4.0 (16);
    # the closest of them is index 2, not the hard negative 0.2 (index 4).
    assert idx[0, 1] == 2
    # anchor 1 (at 1.0), positive 0 (d=1): negatives 1.5 (0.25), 4.0 (9), 0.2 (0.64);
    # only 4.0 is farther than the positive -> index 3.
    assert idx[1, 0] == 3
    # anchor 3 (at 4.0), positive 2 (d=6.25): negatives 0.0 (16), 1.0 (9), 0.2 (14.44): closest farther = 1.
    assert idx[3, 2] == 1
    # anchor 2 (at 1.5), positive 3 (d=6.25): no negative is farther -> the farthest, 0.0 (index 0).
    assert idx[2, 3] == 0


def _brute_force(labels, d, margin, mining):
    n = len(labels)
    if mining == "batch_all":
        losses = [max(d[a, p] - d[a, k] + margin, 0) for a, p, k in itertools.product(range(n), repeat=3)
                  if a != p and labels[a] == labels[p] and labels[k] != labels[a]]
        pos = [v for v in losses if v > 1e-16]
        return sum(pos) / max(len(pos), 1)
    if mining == "batch_hard":
        losses = []
        for a in range(n):
            pos = [d[a, p] for p in range(n) if p != a and labels[p] == labels[a]]
            neg = [d[a, k] for k in range(n) if labels[k] != labels[a]]
            if pos and neg:
                losses.append(max(max(pos) - min(neg) + margin, 0))
        return np.mean(losses)
    losses = []
    for a, p in itertools.product(range(n), repeat=2):
        if a == p or labels[a] != labels[p]:
            continue
        neg = [d[a, k] for k in range(n) if labels[k] != labels[a]]
        beyond = [v for v in neg if v > d[a, p]]
        losses.append(max(d[a, p] - (min(beyond) if beyond else max(neg)) + margin, 0))
    return np.mean(losses)


@pytest.mark.parametrize("mining", metric.MININGS)
def test_triplet_loss_matches_brute_force(mining):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 12)
    emb = rng.normal(size=(12, 4)).astype(np.float32)
    d = ((emb[:, None] - emb[None]) ** 2).sum(-1)
    got = float(metric.triplet_loss(labels, emb, margin=0.5, mining=mining))
    assert got == pytest.approx(_brute_force(labels, d, 0.5, mining), rel=1e-4)
    assert float(metric.triplet_loss(LABELS, EMB, margin=0.2, mining=mining)) == pytest.approx(
        _brute_force(LABELS, D, 0.2, mining), rel=1e-5)


def test_contrastive_loss_numbers():
    labels = np.array([0, 0, 1])
    emb = np.array([[0.0, 0.0], [0.6, 0.0], [0.0, 0.8]], np.float32)
    # same pairs (both orders): d^2 = 0.36; different: d = 0.8 -> (1 - 0.8)^2 = 0.04, d = 1.0 -> 0
    expected = 0.36 + (0.04 + 0.0) / 2
    assert float(metric.contrastive_loss(labels, emb, margin=1.0)) == pytest.approx(expected, rel=1e-4)


def test_few_shot_and_recall_numbers():
    labels = np.repeat(np.arange(6), 20)
    separable = np.eye(6, dtype=np.float32)[labels] * 10
    assert metric.few_shot_accuracy(separable, labels, n_way=5, k_shot=1, episodes=20)["accuracy"] == 1.0
    same = np.zeros((len(labels), 3), np.float32)  # every distance ties -> always the first class
    assert metric.few_shot_accuracy(same, labels, n_way=5, k_shot=1, episodes=20)["accuracy"] == pytest.approx(0.2)
    emb = np.array([[0.0], [0.1], [5.0], [5.2], [0.05]], np.float32)
    r = metric.recall_at_k(emb, np.array([0, 0, 1, 1, 1]), ks=(1, 2))
    # 0 and 1 have 4 (class 1) nearest, then each other: miss at k=1, hit at k=2;
    # 4 (at 0.05) has 0 and 1 (class 0) nearest: misses at both; 2 and 3 always hit.
    assert r == {"recall@1": 0.4, "recall@2": 0.8}
    with pytest.raises(TfmodelsError, match="10-way"):
        metric.few_shot_accuracy(separable, labels, n_way=10)


def test_transformed_classes_are_rotations_and_mirrors_with_their_own_labels():
    img = np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1)  # [[0 1 2] [3 4 5] [6 7 8]]
    x, y = metric.transformed_classes(np.concatenate([img, img + 10]), np.array([0, 1]), 8)
    assert x.shape == (16, 3, 3, 1) and y.tolist() == [0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15]
    assert x[2, :, :, 0].tolist() == [[2, 5, 8], [1, 4, 7], [0, 3, 6]]  # rotated 90 degrees counter-clockwise
    assert x[8, :, :, 0].tolist() == [[2, 1, 0], [5, 4, 3], [8, 7, 6]]  # mirrored
    assert len({x[i].tobytes() for i in range(0, 16, 2)}) == 8  # eight distinct shapes
    with pytest.raises(ValueError, match="square images"):
        metric.transformed_classes(np.zeros((2, 3, 4, 1)), np.zeros(2), 4)
    with pytest.raises(ValueError, match="transforms must be"):
        metric.transformed_classes(img, np.zeros(1), 3)


def test_registered_with_documented_param_counts():
    for name in ("siamese", "triplet"):
        model = tfmodels.build(name)
        assert model.count_params() == 219_585
        assert "219,585" in tfmodels.get_spec(name).builder.__doc__


@pytest.mark.parametrize("name,kwargs", [("triplet", {"mining": "batch_all"}), ("triplet", {"mining": "batch_hard"}),
                                         ("triplet", {"mining": "semi_hard"}), ("siamese", {})])
def test_trains_to_unit_embeddings_and_reloads(name, kwargs, digits, tmp_path):
    x, y = digits
    model = tfmodels.build(name, input_shape=(16, 16, 1), filters=(8,), embedding_dim=8, **kwargs)
    model.compile(keras.optimizers.Adam(3e-3))
    hist = model.fit(x, y, batch_size=64, epochs=2, verbose=0).history
    assert np.all(np.isfinite(hist["loss"])) and hist["loss"][1] < hist["loss"][0]
    emb = model.predict(x[:32], verbose=0)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    if name == "siamese":
        acc = model.fit_threshold(x[:100], x[100:200], y[:100] == y[100:200])
        assert acc > 0.6 and model.same(x[:3], x[:3]).all()
    model.save(tmp_path / "sm", save_format="tf")
    loaded = keras.models.load_model(tmp_path / "sm")
    assert isinstance(loaded, metric.MetricModel) and loaded.mining == model.mining
    assert float(loaded.threshold.numpy()) == float(model.threshold.numpy())
    np.testing.assert_allclose(loaded.predict(x[:8], verbose=0), emb[:8], atol=1e-6)


def test_embedder_converts_builtin_only_and_runs_on_the_edge(digits, tmp_path):
    x, y = digits
    model = tfmodels.build("triplet", input_shape=(16, 16, 1), filters=(8,), embedding_dim=8)
    keras_emb = model.predict(x[:16], verbose=0)
    from tfmodels_edge import EdgeModel

    for mode, tol in (("float32", 1e-5), ("int8", 0.05)):
        flat = convert.to_tflite(model.embedder, mode, representative=x)
        assert "L2_NORMALIZATION" in convert.tflite_ops(flat)
        assert not any(op.startswith("CUSTOM") for op in convert.tflite_ops(flat))
        (tmp_path / f"{mode}.tflite").write_bytes(flat)
        emb = EdgeModel(tmp_path / f"{mode}.tflite").predict(x[:16])
        np.testing.assert_allclose(emb, keras_emb, atol=tol)


def test_errors():
    with pytest.raises(UnknownNameError, match="semi_hard"):
        tfmodels.build("triplet", mining="hardest")
    model = tfmodels.build("triplet", input_shape=(16, 16, 1), filters=(8,), embedding_dim=8)
    model.compile("adam")
    with pytest.raises(Exception, match="metric learning trains on \\(images, labels\\) batches"):
        model.fit(np.zeros((8, 16, 16, 1), np.float32), epochs=1, verbose=0)
