"""The Graphs page's own small GNNs and the drawing of graphs. Plain functions over
the public ``tfmodels`` API (no widgets), so the tests build tiny versions the same
way the page's "Build" buttons do.

Each trains through ``tfmodels.train.fit`` on a registered graph dataset, as
``tfmodels train`` does: node classification (full batch, the best validation epoch
kept) with a GCN or a GAT on the karate club (bundled with networkx) or Cora; graph
classification with a GIN on MUTAG. Every ``build_*(directory, progress, **settings)``
trains in seconds and saves with :func:`common.save_rebuildable`.
"""
import altair as alt
import numpy as np
import pandas as pd

from common import epoch_progress, save_rebuildable
from tfmodels import keras, train
from tfmodels.data import load_splits
from tfmodels.data.graphs import EDGES, karate_club, load_planetoid, load_tu

NODE_DATA = {"karate": ("Karate club", None), "cora": ("Cora", ("planetoid/ind.cora.graph", "Cora (Planetoid)"))}
MUTAG = ("tu/MUTAG", "MUTAG (TU format)")
GIN = "demo_mutag_gin"
CLASS_NAMES = {"karate": ["Mr. Hi", "Officer"],
               "cora": ["Case_Based", "Genetic_Algorithms", "Neural_Networks", "Probabilistic_Methods",
                        "Reinforcement_Learning", "Rule_Learning", "Theory"],
               "mutag": ["not mutagenic", "mutagenic"]}
ATOMS = ["C", "N", "O", "F", "I", "Cl", "Br"]  # MUTAG's node labels, in order


NODE_MODELS = {"gcn": {"epochs": 100, "learning_rate": 0.01}, "gat": {"epochs": 60, "learning_rate": 0.005}}


def node_model_name(dataset: str, model: str) -> str:
    return f"demo_{dataset}_{model}"


def node_split(dataset: str, data_dir=None):
    return karate_club() if dataset == "karate" else load_planetoid("cora", data_dir)


def build_node_model(directory, progress, *, dataset="karate", model="gcn", epochs=100, learning_rate=0.01,
                     data_dir=None, **model_kwargs):
    """A GCN (``model="gcn"``) or GAT (``"gat"``) trained full-batch on ``dataset``'s
    train nodes, keeping the best validation epoch (the page uses ``NODE_MODELS[model]``)."""
    info = load_splits(dataset, data_dir).info
    kwargs = {"input_shape": list(info.input_shape), "num_classes": info.num_classes, **model_kwargs}
    progress(0.05, f"training a {model.upper()} on {dataset}, {epochs} epochs")
    result = train.fit(model, dataset, data_dir=data_dir, epochs=epochs, learning_rate=learning_rate,
                       select="val_accuracy", model_kwargs=kwargs, verbose=0,
                       callbacks=[epoch_progress(progress, epochs, 0.05, 0.9)])
    net = result.model
    save_rebuildable(directory, net, model, kwargs, test_accuracy=result.metrics["test_accuracy"],
                     title=f"{model.upper()}, {net.count_params():,} parameters, {epochs} full-batch epochs")
    progress(1.0, "saved")


def build_gin(directory, progress, *, epochs=40, hidden_units=32, num_layers=3, batch_size=32, data_dir=None):
    """A GIN on the registered ``mutag`` split (150 training molecules, 19 for validation,
    19 test), the best validation epoch kept."""
    splits = load_splits("mutag", data_dir)
    kwargs = {"input_shape": list(splits.info.input_shape), "num_classes": splits.info.num_classes,
              "hidden_units": hidden_units, "num_layers": num_layers}
    progress(0.05, f"training a GIN on {splits.info.splits['train']} molecules, {epochs} epochs")
    result = train.fit("gin", splits, epochs=epochs, batch_size=batch_size, learning_rate=0.01,
                       schedule="constant", select="val_accuracy", model_kwargs=kwargs, verbose=0,
                       callbacks=[epoch_progress(progress, epochs, 0.05, 0.9)])
    net = result.model
    save_rebuildable(directory, net, "gin", kwargs, test=[int(i) for i in splits.indices["test"]],
                     test_accuracy=result.metrics["test_accuracy"],
                     title=f"GIN, {num_layers} layers of {hidden_units}, {net.count_params():,} parameters")
    progress(1.0, "saved")


def predict_nodes(model, graph) -> np.ndarray:
    """Class probabilities ``[N, C]`` of every node."""
    return model(graph.inputs(), training=False).numpy()


def node_embeddings(model, graph) -> np.ndarray:
    """Every node's hidden state ``[N, hidden]`` as the model's last graph layer receives
    it: the input of its last Dropout (the GCN and the GAT drop out before each layer),
    which at inference passes it through unchanged."""
    dropouts = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    if not dropouts:
        raise ValueError(f"{model.name} has no Dropout before its last layer to read node states from")
    hidden = keras.Model(model.inputs, dropouts[-1].input)
    return hidden(graph.inputs(), training=False).numpy()


def predict_graph(model, graph) -> np.ndarray:
    """Class probabilities ``[C]`` of one molecule."""
    return model(graph.inputs(with_graph_ids=True), training=False).numpy()[0]


def gat_attention(model, graph) -> tuple:
    """The first GAT layer's attention: ``(source, target, weights [E, heads])`` over the
    edges the layer attends to (the graph's plus a self-loop per node), from
    ``GATConv.attention`` at inference. Each node's weights over its incoming edges sum
    to one.
    """
    inputs = graph.inputs()
    tensor = model.get_layer("graph")([inputs["node_features"], inputs["source"], inputs["target"]])
    adjacency = tensor.edge_sets[EDGES].adjacency
    _, weights = model.get_layer("gat_0").attention(tensor)
    return adjacency.source.numpy(), adjacency.target.numpy(), weights.numpy()


def neighbourhood(graph, node: int, hops: int = 2, limit: int = 120) -> np.ndarray:
    """Nodes within ``hops`` of ``node`` (``node`` first), nearest first, at most ``limit``."""
    keep, frontier = [node], {node}
    for _ in range(hops):
        frontier = set(graph.target[np.isin(graph.source, list(frontier))].tolist()) - set(keep)
        keep += sorted(frontier)
    return np.array(keep[:limit])


def layout(graph, nodes, seed: int = 0) -> dict:
    """networkx spring layout (fixed seed) of the subgraph on ``nodes``: {node: (x, y)}."""
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(int(n) for n in nodes)
    inside = np.isin(graph.source, nodes) & np.isin(graph.target, nodes)
    g.add_edges_from(zip(graph.source[inside].tolist(), graph.target[inside].tolist()))
    return {n: tuple(p) for n, p in nx.spring_layout(g, seed=seed).items()}


def graph_chart(graph, positions: dict, node_frame: pd.DataFrame, colour: str, *, domain, title: str,
                selected: int | None = None, edges: pd.DataFrame | None = None, size: int = 120):
    """Edges as lines and nodes as circles at ``positions``; nodes coloured by column
    ``colour`` of ``node_frame`` (one row per node: ``node`` and any tooltip columns),
    whose values are among ``domain`` (fixed, so two charts share their colours); the
    ``selected`` node ringed. ``edges`` (``source``, ``target``, ``weight``) drawn on
    top, width and colour by weight."""
    def segments(s, t):
        return pd.DataFrame({"x": [positions[a][0] for a in s], "y": [positions[a][1] for a in s],
                             "x2": [positions[b][0] for b in t], "y2": [positions[b][1] for b in t]})

    inside = np.isin(graph.source, list(positions)) & np.isin(graph.target, list(positions))
    axis = alt.Axis(labels=False, ticks=False, title=None, grid=False)
    base = alt.Chart(segments(graph.source[inside], graph.target[inside])).mark_rule(color="#ccc").encode(
        x=alt.X("x:Q", axis=axis), y=alt.Y("y:Q", axis=axis), x2="x2:Q", y2="y2:Q")
    layers = [base]
    if edges is not None and len(edges):
        frame = segments(edges["source"], edges["target"]).assign(weight=edges["weight"].to_numpy())
        layers.append(alt.Chart(frame).mark_rule().encode(
            x="x:Q", y="y:Q", x2="x2:Q", y2="y2:Q",
            strokeWidth=alt.StrokeWidth("weight:Q", scale=alt.Scale(range=[1, 8]), legend=None),
            color=alt.Color("weight:Q", scale=alt.Scale(scheme="reds"), title="attention"),
            tooltip=[alt.Tooltip("weight:Q", format=".3f")]))
    nodes = node_frame.assign(x=[positions[n][0] for n in node_frame["node"]],
                              y=[positions[n][1] for n in node_frame["node"]])
    layers.append(alt.Chart(nodes).mark_circle(size=size, opacity=1, stroke="black").encode(
        x="x:Q", y="y:Q", color=alt.Color(f"{colour}:N", title=colour, legend=alt.Legend(orient="bottom", columns=2),
                                          scale=alt.Scale(domain=list(domain), scheme="category10")),
        strokeWidth=alt.condition(alt.datum.node == (-1 if selected is None else selected), alt.value(3),
                                  alt.value(0.5)),
        tooltip=list(node_frame.columns)))
    # node classes and attention weights: a nominal and a quantitative colour scale
    return alt.layer(*layers).resolve_scale(color="independent").properties(title=title, height=360)
