"""The Autoencoders and Graphs pages, headless with AppTest, on tiny demo models built
once into a temporary zoo by the same functions the pages' Build buttons call."""
import functools
import json

import numpy as np
import pytest

import helpers as app  # puts apps/ on sys.path
import ae_models as am
import graph_models as gm

KARATE_GCN, KARATE_GAT = gm.node_model_name("karate", "gcn"), gm.node_model_name("karate", "gat")
CORA_GCN, CORA_GAT = gm.node_model_name("cora", "gcn"), gm.node_model_name("cora", "gat")
TINY_GAT = {"model": "gat", "num_heads": 2, "per_head_channels": 4}
TINY = {
    am.DENOISER: functools.partial(am.build_denoiser, latent_dim=8, filters=(4, 8), epochs=2),
    am.VAE: functools.partial(am.build_vae, latent_dim=4, hidden_units=(32,), epochs=2),
    am.ANOMALY: functools.partial(am.build_anomaly, held_out=1, latent_dim=8, filters=(4, 8), epochs=3),
    KARATE_GCN: functools.partial(gm.build_node_model, dataset="karate", model="gcn", epochs=30, hidden_units=8),
    KARATE_GAT: functools.partial(gm.build_node_model, dataset="karate", epochs=10, **TINY_GAT),
    CORA_GCN: functools.partial(gm.build_node_model, dataset="cora", model="gcn", epochs=10, hidden_units=8),
    CORA_GAT: functools.partial(gm.build_node_model, dataset="cora", epochs=3, **TINY_GAT),
    gm.GIN: functools.partial(gm.build_gin, epochs=3, hidden_units=8, num_layers=2),
}


@pytest.fixture(scope="module")
def demo_zoo(tmp_path_factory):
    zoo = tmp_path_factory.mktemp("ae_graph_zoo")
    return app.build_zoo(zoo, TINY)


@pytest.fixture
def demo_env(demo_zoo, monkeypatch):
    monkeypatch.setenv("TFMODELS_ZOO", str(demo_zoo))
    return demo_zoo


# -- Autoencoders -----------------------------------------------------------------------


def test_reconstruction_and_denoising_follow_the_image_and_the_noise(demo_env):
    at = app.ok(app.page("views/autoencoders.py"))
    first = app.metrics(at)
    assert set(first) == {"Reconstruction PSNR", "Noisy PSNR", "Denoised PSNR"}
    images = app.images(at)
    assert len(images) == 1
    at.slider(key="ae_noise").set_value(0.9).run()
    noisier = app.metrics(app.ok(at))
    db = lambda m, k: float(m[k].split()[0])  # noqa: E731
    assert db(noisier, "Noisy PSNR") < db(first, "Noisy PSNR") - 3  # more noise, lower PSNR
    assert noisier["Reconstruction PSNR"] == first["Reconstruction PSNR"]  # the clean image did not change
    at.slider(key="ae_noise").set_value(0.0).run()
    assert db(app.metrics(app.ok(at)), "Noisy PSNR") >= 100  # no noise: the noisy input is the image
    at.number_input(key="ae_image").set_value(5).run()
    assert app.metrics(app.ok(at))["Reconstruction PSNR"] != first["Reconstruction PSNR"]
    assert app.images(at) != images


def test_vae_samples_follow_the_seed_and_equal_images_are_a_message(demo_env):
    at = app.page("views/autoencoders.py")
    at.radio(key="ae_task").set_value("VAE").run()
    app.ok(at)
    samples, interpolation = app.images(at)
    at.number_input(key="vae_seed").set_value(7).run()
    assert app.images(app.ok(at)) == [app.images(at)[0], interpolation] and app.images(at)[0] != samples
    at.number_input(key="vae_to").set_value(2).run()
    assert app.images(app.ok(at))[1] != interpolation
    at.number_input(key="vae_to").set_value(0).run()  # the same image as "from"
    assert not at.exception and len(app.images(at)) == 1
    assert "two different test images" in at.warning[0].value


def test_anomaly_auc_matches_the_library_scores(demo_env):
    from common import load_rebuildable
    from sklearn.metrics import roc_auc_score
    from tfmodels.data import load_arrays

    at = app.page("views/autoencoders.py")
    at.radio(key="ae_task").set_value("Anomaly detection").run()
    app.ok(at)
    model, info = load_rebuildable(demo_env / am.ANOMALY)
    x, y = load_arrays("digits", "test")
    auc = roc_auc_score(y == info["held_out"], model.score(x))
    assert app.metrics(at)["ROC AUC"] == f"{auc:.3f}"
    assert len(at.get("vega_lite_chart")) == 1  # the ROC curve
    at.slider(key="anomaly_count").set_value(4).run()
    assert app.ok(at).get("image")[0].proto.imgs[0].caption.count("·") == 3


def test_roc_and_psnr_helpers():
    fpr, tpr, auc = am.roc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([False, False, True, True]))
    assert auc == 0.75 and fpr[0] == tpr[0] == 0 and fpr[-1] == tpr[-1] == 1
    clean = np.full((28, 28, 1), 0.5, np.float32)
    assert am.psnr(clean + 0.1, clean) == pytest.approx(20.0, abs=1e-3)
    noisy = am.add_noise(clean, 2.0)
    assert noisy.min() == 0.0 and noisy.max() == 1.0  # clipped to the image range


def test_empty_zoo_offers_to_build_and_the_button_builds(tmp_path, monkeypatch):
    monkeypatch.setenv("TFMODELS_ZOO", str(tmp_path))
    at = app.page("views/autoencoders.py")
    assert [b.label for b in at.button] == [f"Build {am.DENOISER}"] and not at.metric
    monkeypatch.setattr(am, "build_vae", TINY[am.VAE])  # the button builds a tiny one
    at.radio(key="ae_task").set_value("VAE").run()
    at.button(key=f"build-{am.VAE}").click().run()
    app.ok(at)
    assert (tmp_path / am.VAE / "done.json").exists() and len(app.images(at)) == 2


# -- Graphs -----------------------------------------------------------------------------


def test_karate_club_predicted_and_true_classes_and_the_selected_node(demo_env):
    from common import load_rebuildable

    at = app.ok(app.page("views/graphs.py"))
    charts = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    # predicted beside true: the node layer of each drawing coloured by that column
    assert [c["layer"][-1]["encoding"]["color"]["field"] for c in charts[:2]] == ["predicted", "true"]
    metrics = app.metrics(at)
    _, info = load_rebuildable(demo_env / KARATE_GCN)
    # the reloaded weights give the accuracy the build measured
    assert metrics["Test accuracy"] == f"{info['test_accuracy']:.1%}"
    assert metrics["Node 0: true"] == "Mr. Hi"
    at.number_input(key="graph_node").set_value(33).run()
    metrics = app.metrics(app.ok(at))
    assert metrics["Node 33: true"] == "Officer" and "Node 0: true" not in metrics
    assert "34 nodes, 2 classes" in at.caption[0].value and "the whole graph" in at.caption[0].value


@pytest.mark.parametrize("name, hidden_layer", [(KARATE_GCN, "gcn_0"), (KARATE_GAT, "dropout_1_in")])
def test_the_node_embedding_is_the_hidden_layer_on_its_principal_axes(demo_env, name, hidden_layer):
    from charts import principal_axes
    from common import load_rebuildable
    from tfmodels import keras

    model, _ = load_rebuildable(demo_env / name)
    graph = gm.karate_club().graph
    hidden = gm.node_embeddings(model, graph)
    expected = keras.Model(model.inputs, model.get_layer(hidden_layer).output)(graph.inputs()).numpy()
    assert hidden.shape == (34, expected.shape[1]) and np.allclose(hidden, expected, atol=1e-6)
    at = app.page("views/graphs.py")
    if name == KARATE_GAT:
        at.radio(key="graph_model").set_value("GAT").run()
    spec, [points] = app.charts(app.ok(at))[2]
    assert spec["title"].startswith(f"{expected.shape[1]}-dimensional hidden states")
    assert spec["encoding"]["color"]["field"] == "true" and len(points) == 34
    assert np.allclose(points[["x", "y"]].to_numpy(), principal_axes(hidden), atol=1e-5)
    assert list(points["true"][:1]) == ["Mr. Hi"] and set(points["split"]) <= {"train", "val", "test", "unlabelled"}
    assert np.var(points["x"]) >= np.var(points["y"]) > 0  # the first axis carries the most variance


def test_gat_attention_on_the_selected_nodes_edges(demo_env):
    at = app.page("views/graphs.py")
    at.radio(key="graph_model").set_value("GAT").run()
    table = app.ok(at).dataframe[0].value
    split = gm.karate_club()
    degree = lambda n: int(np.sum(split.graph.target == n))  # noqa: E731
    assert len(table) == degree(0) + 1  # its neighbours and itself
    assert set(table["neighbour"]) == {0, *split.graph.source[split.graph.target == 0].tolist()}
    assert table["weight"].sum() == pytest.approx(1.0, abs=1e-5) and table["weight"].is_monotonic_decreasing
    at.number_input(key="graph_node").set_value(11).run()  # node 11 has one neighbour
    assert len(app.ok(at).dataframe[0].value) == degree(11) + 1 == 2


def test_gat_attention_is_what_the_first_layer_computes(demo_env):
    """The recomputed weights, applied to the layer's values, give the layer's output."""
    from common import load_rebuildable
    from tfmodels._keras import keras

    model, _ = load_rebuildable(demo_env / KARATE_GAT)
    graph = gm.karate_club().graph
    source, target, weights = gm.gat_attention(model, graph)
    assert len(source) == graph.num_edges + graph.num_nodes and weights.shape[1] == 2  # self-loops; 2 heads
    for head in range(2):
        assert np.allclose(np.bincount(target, weights[:, head]), 1.0, atol=1e-5)
    assert weights.std() > 0
    conv = model.get_layer("gat_0")
    value = conv.transform(graph.node_features).numpy().reshape(graph.num_nodes, 2, -1)  # [N, heads, channels]
    pooled = np.zeros_like(value)
    np.add.at(pooled, target, weights[..., None] * value[source])
    expected = keras.activations.elu(pooled.reshape(graph.num_nodes, -1) + conv.bias.numpy()).numpy()
    layer_output = keras.Model(model.inputs, model.get_layer("dropout_1_in").output)(graph.inputs())
    assert np.allclose(layer_output, expected, atol=1e-5)


def test_cora_draws_the_neighbourhood_of_the_selected_node(demo_env):
    at = app.page("views/graphs.py")
    at.radio(key="graph_data").set_value("Cora").run()
    app.ok(at)
    assert "2,708 nodes, 7 classes" in at.caption[0].value and "within two hops of node 0" in at.caption[0].value
    first = app.metrics(at)
    at.number_input(key="graph_node").set_value(1000).run()
    second = app.metrics(app.ok(at))
    assert "within two hops of node 1000" in at.caption[0].value and "Node 1000: predicted" in second
    assert second["Test accuracy"] == first["Test accuracy"]
    graph = gm.node_split("cora").graph
    near = gm.neighbourhood(graph, 1000)
    assert near[0] == 1000 and len(near) == len(set(near)) <= 120
    one_hop = set(graph.target[graph.source == 1000].tolist())
    assert set(near[1:1 + len(one_hop)]) == one_hop  # nearest first


def test_mutag_molecule_prediction_follows_the_chosen_molecule(demo_env):
    from common import load_rebuildable

    at = app.page("views/graphs.py")
    at.radio(key="graph_data").set_value("MUTAG molecules").run()
    app.ok(at)
    _, info = load_rebuildable(demo_env / gm.GIN)
    labels = gm.load_tu("MUTAG").labels
    captions = set()
    for position in (1, 2, 5):
        at.number_input(key="mutag_molecule").set_value(position).run()
        metrics = app.metrics(app.ok(at))
        index = info["test"][position - 1]
        assert metrics["True"] == gm.CLASS_NAMES["mutag"][labels[index]]
        assert metrics["Predicted"] in gm.CLASS_NAMES["mutag"]
        assert at.get("vega_lite_chart")[0].proto.spec.count(f"MUTAG molecule {index}") == 1
        captions.add(at.caption[0].value)
    assert len(captions) > 1  # atom and bond counts differ between molecules


def test_missing_data_is_a_message_and_the_bundled_karate_club_still_builds(tmp_path, monkeypatch):
    monkeypatch.setenv("TFMODELS_ZOO", str(tmp_path / "zoo"))
    monkeypatch.setenv("TFMODELS_DATA_DIR", str(tmp_path / "data"))
    at = app.page("views/graphs.py")
    assert [b.label for b in at.button] == [f"Build {KARATE_GCN}"] and not at.metric
    at.button(key=f"build-{KARATE_GCN}").click().run()  # the page's own settings: seconds
    app.ok(at)
    assert (tmp_path / "zoo" / KARATE_GCN / "done.json").exists() and "Test accuracy" in app.metrics(at)
    for choice, path in (("Cora", "planetoid/ind.cora.graph"), ("MUTAG molecules", "tu/MUTAG")):
        at.radio(key="graph_data").set_value(choice).run()
        assert not at.exception and not at.error and not at.button and not at.metric
        assert str(tmp_path / "data" / path) in at.warning[0].value
