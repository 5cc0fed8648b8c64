"""Graph data: Planetoid (Cora), TU (MUTAG, PROTEINS), networkx graphs, edge lists.

    split = tfmodels.data.graphs.load_planetoid("cora", data_dir)   # NodeSplit
    graphs = tfmodels.data.graphs.load_tu("MUTAG", data_dir)         # GraphCollection
    for train_idx, test_idx in graphs.folds(10): batch = graphs.batch(train_idx)

They are also registered as datasets (``cora``, ``citeseer``, ``pubmed``, ``karate``,
``mutag``, ``proteins``) that ``tfmodels train gcn --data cora`` trains on, as
:class:`NodeSplits` (one graph, its nodes split) and :class:`GraphSplits` (many small
graphs): see :mod:`tfmodels.data.graphs.splits`.
"""

from tfmodels.data.core import register_dataset
from tfmodels.data.graphs.core import (
    EDGES, INPUT_NAMES, NODES, Graph, GraphCollection, LinkSplit, NodeSplit, batch_graphs,
    from_pairs, graph_schema, link_split, sample_negatives, undirected_pairs)
from tfmodels.data.graphs.nx import davis_southern_women, from_networkx, karate_club, read_edge_list
from tfmodels.data.graphs.planetoid import load_planetoid
from tfmodels.data.graphs.safe_pickle import UnsafePickleError, restricted_load
from tfmodels.data.graphs.splits import (
    UNLABELLED, GraphSplits, NodeSplits, graph_splits, node_splits, tu_splits)
from tfmodels.data.graphs.tu import load_tu

__all__ = [
    "EDGES", "INPUT_NAMES", "NODES", "Graph", "GraphCollection", "GraphSplits", "LinkSplit", "NodeSplit",
    "NodeSplits", "UNLABELLED", "graph_splits", "node_splits", "tu_splits",
    "UnsafePickleError", "batch_graphs", "davis_southern_women", "from_networkx", "from_pairs",
    "graph_schema", "karate_club", "link_split", "load_planetoid", "load_tu", "read_edge_list",
    "restricted_load", "sample_negatives", "undirected_pairs",
]


def _register_planetoid(name: str, papers: int, classes: int):
    description = f"{name.capitalize()} citation graph, Planetoid split: {papers} papers, {classes} classes"
    register_dataset(name, description=f"{description} (node classification)", needs_data_dir=True)(
        lambda data_dir: node_splits(name, load_planetoid(name, data_dir), description=description))


def _register_tu(name: str, what: str):
    description = f"{name}, TU format: {what} (graph classification)"
    register_dataset(name.lower(), description=description, needs_data_dir=True)(
        lambda data_dir: tu_splits(name.lower(), load_tu(name, data_dir), description=description))


for _args in (("cora", 2708, 7), ("citeseer", 3327, 6), ("pubmed", 19717, 3)):
    _register_planetoid(*_args)
_register_tu("MUTAG", "188 molecules, mutagenic or not")
_register_tu("PROTEINS", "1113 proteins, enzyme or not")


@register_dataset("karate", description="Zachary's karate club, bundled with networkx: 34 members, 2 clubs "
                  "(node classification)")
def _karate(data_dir):
    return node_splits("karate", karate_club(), class_names=("Mr. Hi", "Officer"),
                       description="karate club, 34 members, 2 clubs")
