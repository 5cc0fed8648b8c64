"""Graphs: the karate club and Cora with nodes coloured by a GCN's or GAT's predicted
class beside the true one, GAT attention on a selected node's edges, the nodes' learned
embedding in 2-D, and MUTAG molecules with a GIN's predicted label."""
import functools

import numpy as np
import pandas as pd
import streamlit as st

import graph_models as gm
from charts import principal_axes, scatter_chart
from common import data_dir, demo_artifact, guarded, load_rebuildable, missing_data


@st.cache_resource
def node_split(dataset: str, folder: str):
    return gm.node_split(dataset, folder)


@st.cache_resource
def mutag(folder: str):
    return gm.load_tu("MUTAG", folder)


@st.cache_data
def cached_layout(dataset: str, folder: str, nodes: tuple) -> dict:
    return gm.layout(node_split(dataset, folder).graph, np.array(nodes))


def node_classification(dataset: str):
    title, data = gm.NODE_DATA[dataset]
    if data and missing_data(*data):
        return
    kind = st.radio("Model", ["GCN", "GAT"], horizontal=True, key="graph_model").lower()
    build = functools.partial(gm.build_node_model, dataset=dataset, model=kind, data_dir=data_dir(),
                              **gm.NODE_MODELS[kind])
    run_dir = demo_artifact(gm.node_model_name(dataset, kind), build, what=f"a small {kind.upper()} on {title}")
    if run_dir is None:
        return
    model, info = load_rebuildable(run_dir)
    split = node_split(dataset, str(data_dir()))
    graph, names = split.graph, gm.CLASS_NAMES[dataset]
    probs = gm.predict_nodes(model, graph)
    predicted = probs.argmax(1)
    node = int(st.number_input("Selected node", 0, graph.num_nodes - 1, 0, key="graph_node"))
    nodes = np.arange(graph.num_nodes) if graph.num_nodes <= 200 else gm.neighbourhood(graph, node)
    positions = cached_layout(dataset, str(data_dir()), tuple(int(n) for n in nodes))
    frame = pd.DataFrame({"node": nodes, "predicted": [names[c] for c in predicted[nodes]],
                          "true": [names[c] for c in graph.node_labels[nodes]],
                          "confidence": probs[nodes].max(1).round(3)})
    attention = None
    if kind == "gat":
        source, target, weights = gm.gat_attention(model, graph)
        mine = target == node
        attention = pd.DataFrame({"source": source[mine], "target": target[mine],
                                  "weight": weights[mine].mean(1)})
        attention = attention[attention["source"].isin(nodes)].sort_values("weight", ascending=False)
    left, right = st.columns(2)
    for col, colour in ((left, "predicted"), (right, "true")):
        col.altair_chart(gm.graph_chart(graph, positions, frame, colour, domain=names, title=f"{colour} class",
                                        selected=node, edges=attention), width="stretch")
    cols = st.columns(3)
    cols[0].metric(f"Node {node}: predicted", names[predicted[node]], f"{probs[node].max():.1%}", delta_color="off")
    cols[1].metric(f"Node {node}: true", names[graph.node_labels[node]])
    test_acc = float(np.mean(predicted[split.test] == graph.node_labels[split.test]))
    cols[2].metric("Test accuracy", f"{test_acc:.1%}", help=f"{len(split.test)} test nodes")
    if attention is not None:
        st.subheader(f"GAT attention of node {node} over its neighbours (first layer, mean of the heads)")
        st.dataframe(attention.rename(columns={"source": "neighbour"})[["neighbour", "weight"]],
                     hide_index=True)
    embedding(model, split, names, predicted)
    shown = ("the whole graph" if len(nodes) == graph.num_nodes
             else f"the {len(nodes)} nodes within two hops of node {node}")
    st.caption(f"{title}: {graph.num_nodes:,} nodes, {split.num_classes} classes, trained on {len(split.train)} "
               f"labelled nodes; drawn: {shown}. {info['title']}.")


def embedding(model, split, names, predicted):
    """Every node's hidden state on its first two principal axes, coloured by true class."""
    graph = split.graph
    hidden = gm.node_embeddings(model, graph)
    role = np.full(graph.num_nodes, "unlabelled", object)
    for part in ("train", "val", "test"):
        role[getattr(split, part)] = part
    frame = pd.DataFrame({"node": np.arange(graph.num_nodes), "true": [names[c] for c in graph.node_labels],
                          "predicted": [names[c] for c in predicted], "split": role})
    st.subheader("Learned node embedding")
    st.altair_chart(scatter_chart(principal_axes(hidden), frame, "true", domain=names,
                                  title=f"{hidden.shape[1]}-dimensional hidden states, first two principal axes"),
                    width="stretch")


def molecules():
    if missing_data(*gm.MUTAG):
        return
    build = functools.partial(gm.build_gin, data_dir=data_dir())
    run_dir = demo_artifact(gm.GIN, build, what="a small GIN on MUTAG")
    if run_dir is None:
        return
    model, info = load_rebuildable(run_dir)
    collection = mutag(str(data_dir()))
    test = info["test"]
    position = int(st.number_input(f"Test molecule (1-{len(test)})", 1, len(test), 1, key="mutag_molecule"))
    index = test[position - 1]
    graph = collection.graphs[index]
    probs = gm.predict_graph(model, graph)
    names = gm.CLASS_NAMES["mutag"]
    atoms = [gm.ATOMS[a] for a in graph.node_features.argmax(1)]
    positions = gm.layout(graph, np.arange(graph.num_nodes))
    frame = pd.DataFrame({"node": np.arange(graph.num_nodes), "atom": atoms})
    left, right = st.columns([2, 1])
    left.altair_chart(gm.graph_chart(graph, positions, frame, "atom", domain=gm.ATOMS,
                                     title=f"MUTAG molecule {index}", size=200),
                      width="stretch")
    right.metric("Predicted", names[int(probs.argmax())], f"{probs.max():.1%}", delta_color="off")
    right.metric("True", names[int(collection.labels[index])])
    right.caption(f"{graph.num_nodes} atoms, {graph.num_edges // 2} bonds. {info['title']}; "
                  f"test accuracy {info['test_accuracy']:.1%} on the {len(test)} held-out molecules.")


GRAPHS = {"Karate club": functools.partial(node_classification, "karate"),
          "Cora": functools.partial(node_classification, "cora"),
          "MUTAG molecules": molecules}


@guarded
def page():
    st.title("Graphs: node classes, attention, molecules")
    choice = st.radio("Graph", list(GRAPHS), horizontal=True, label_visibility="collapsed", key="graph_data")
    GRAPHS[choice]()


page()
