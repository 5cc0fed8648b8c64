"""Graph data: Planetoid (Cora), TU (MUTAG, PROTEINS), networkx graphs, edge lists.

    split = tfmodels.data.graphs.load_planetoid("cora", data_dir)   # NodeSplit
    graphs = tfmodels.data.graphs.load_tu("MUTAG", data_dir)         # GraphCollection
    for train_idx, test_idx in graphs.folds(10): batch = graphs.batch(train_idx)

They are also registered as datasets (``cora``, ``karate``, ``mutag``, ``proteins``)
whose arrays are node (or graph) indices and labels; models need the graph itself,
which these loaders return.
"""
import numpy as np

from tfmodels.data.core import make_splits, register_dataset
from tfmodels.data.graphs.core import (
    EDGES, INPUT_NAMES, NODES, Graph, GraphCollection, LinkSplit, NodeSplit, batch_graphs,
    from_pairs, graph_schema, link_split, sample_negatives, undirected_pairs)
from tfmodels.data.graphs.nx import davis_southern_women, from_networkx, karate_club, read_edge_list
from tfmodels.data.graphs.planetoid import load_planetoid
from tfmodels.data.graphs.safe_pickle import UnsafePickleError, restricted_load
from tfmodels.data.graphs.tu import load_tu

__all__ = [
    "EDGES", "INPUT_NAMES", "NODES", "Graph", "GraphCollection", "LinkSplit", "NodeSplit",
    "UnsafePickleError", "batch_graphs", "davis_southern_women", "from_networkx", "from_pairs",
    "graph_schema", "karate_club", "link_split", "load_planetoid", "load_tu", "read_edge_list",
    "restricted_load", "sample_negatives", "undirected_pairs",
]


def _node_splits(name, split: NodeSplit, description):
    y = split.graph.node_labels
    parts = [(getattr(split, s), y[getattr(split, s)]) for s in ("train", "val", "test")]
    return make_splits(name, *parts, task="node_classification", num_classes=split.num_classes,
                       class_names=tuple(map(str, range(split.num_classes))), description=description)


@register_dataset("cora", description="Cora citation graph, Planetoid split (node indices -> class; "
                  "graph via tfmodels.data.graphs.load_planetoid)", needs_data_dir=True)
def _cora(data_dir):
    return _node_splits("cora", load_planetoid("cora", data_dir), "Cora, 2708 papers, 7 classes")


@register_dataset("karate", description="Zachary's karate club, bundled with networkx (node indices -> club)")
def _karate(data_dir):
    return _node_splits("karate", karate_club(), "karate club, 34 members, 2 clubs")


def _tu_splits(name, data_dir):
    coll = load_tu(name, data_dir)
    train_val, test = coll.folds(10)[0]
    idx = np.arange(len(coll.labels))
    trv = idx[train_val]
    sub = GraphCollection(tuple(coll.graphs[i] for i in trv), coll.labels[trv], coll.num_classes)
    tr, va = sub.folds(9, seed=1)[0]  # a validation fold out of the other nine
    parts = [(trv[tr], coll.labels[trv[tr]]), (trv[va], coll.labels[trv[va]]), (test, coll.labels[test])]
    return make_splits(name.lower(), *parts, task="graph_classification", num_classes=coll.num_classes,
                       class_names=tuple(map(str, range(coll.num_classes))),
                       description=f"{name}, {len(coll.labels)} graphs (graph indices -> class)")


@register_dataset("mutag", description="MUTAG molecules, TU format (graph indices -> mutagenic); "
                  "graphs via tfmodels.data.graphs.load_tu", needs_data_dir=True)
def _mutag(data_dir):
    return _tu_splits("MUTAG", data_dir)


@register_dataset("proteins", description="PROTEINS, TU format (graph indices -> enzyme or not); "
                  "graphs via tfmodels.data.graphs.load_tu", needs_data_dir=True)
def _proteins(data_dir):
    return _tu_splits("PROTEINS", data_dir)
