"""Graph data: Planetoid (Cora), TU (MUTAG, PROTEINS), networkx graphs, edge lists.

    split = tfmodels.data.graphs.load_planetoid("cora", data_dir)   # NodeSplit
    graphs = tfmodels.data.graphs.load_tu("MUTAG", data_dir)         # GraphCollection
    for train_idx, test_idx in graphs.folds(10): batch = graphs.batch(train_idx)

They are also registered as datasets (``cora``, ``citeseer``, ``pubmed``, ``karate``,
``mutag``, ``proteins``, ``cora-links``, ``davis-women``) that ``tfmodels train gcn
--data cora`` trains on, as :class:`NodeSplits` (one graph, its nodes split),
:class:`GraphSplits` (many small graphs) and :class:`PairSplits` (pairs of nodes to
score): see :mod:`tfmodels.data.graphs.splits`.
"""

from tfmodels.data.core import register_dataset
from tfmodels.data.graphs.core import (
    EDGES, INPUT_NAMES, NODES, Graph, GraphCollection, LinkSplit, NodeSplit, batch_graphs,
    from_pairs, graph_schema, link_split, sample_negatives, undirected_pairs)
from tfmodels.data.graphs.nx import davis_southern_women, from_networkx, karate_club, read_edge_list
from tfmodels.data.graphs.planetoid import load_planetoid
from tfmodels.data.graphs.safe_pickle import UnsafePickleError, restricted_load
from tfmodels.data.graphs.splits import (
    UNLABELLED, GraphSplits, NodeSplits, PairSplits, graph_splits, holdout_interactions, interaction_splits,
    link_splits, node_splits, pair_splits, tu_splits)
from tfmodels.data.graphs.tu import load_tu

__all__ = [
    "EDGES", "INPUT_NAMES", "NODES", "Graph", "GraphCollection", "GraphSplits", "LinkSplit", "NodeSplit",
    "NodeSplits", "PairSplits", "UNLABELLED", "graph_splits", "holdout_interactions", "interaction_splits",
    "link_splits", "node_splits", "pair_splits", "tu_splits",
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


@register_dataset("cora-links", description="Cora's citations for link prediction: 85/5/10% of the edges, "
                  "held-out ones against as many non-edges", needs_data_dir=True)
def _cora_links(data_dir):
    graph = load_planetoid("cora", data_dir, normalize_features=False).graph
    return link_splits("cora-links", graph, description="Cora citations, Kipf & Welling (2016)'s GAE split")


@register_dataset("davis-women", description="Davis Southern Women, bundled with networkx: 18 women x 14 "
                  "events, 20% of each woman's attendances held out (recommendation)")
def _davis(data_dir):
    women, events, pairs = davis_southern_women()
    return interaction_splits("davis-women", pairs, len(women), len(events),
                              description="89 attendances of 18 women at 14 events")
