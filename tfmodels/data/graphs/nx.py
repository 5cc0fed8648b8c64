"""Graphs from networkx (karate club, Davis Southern Women) and edge-list/CSV files."""
import csv

import numpy as np

from tfmodels.data.graphs.core import Graph, NodeSplit, from_pairs
from tfmodels.errors import DataError


def from_networkx(g, *, feature_key: str | None = None, label_key: str | None = None,
                  label_values=None, name: str = "") -> tuple:
    """``(Graph, nodes)``: a networkx graph with its node list (index -> original node).

    Features come from node attribute ``feature_key`` (else a one-hot identity);
    labels from ``label_key``, encoded by position in ``label_values`` (else sorted).
    """
    nodes = list(g.nodes())
    index = {v: i for i, v in enumerate(nodes)}
    pairs = [(index[u], index[v]) for u, v in g.edges() if u != v]
    if feature_key is None:
        x = np.eye(len(nodes), dtype=np.float32)
    else:
        x = np.array([np.atleast_1d(g.nodes[v][feature_key]) for v in nodes], np.float32)
    labels = None
    if label_key is not None:
        raw = [g.nodes[v][label_key] for v in nodes]
        values = list(label_values) if label_values is not None else sorted(set(raw))
        labels = np.array([values.index(r) for r in raw], np.int32)
    if g.is_directed():
        p = np.array(pairs, np.int32).reshape(-1, 2)
        graph = Graph(x, p[:, 0].copy(), p[:, 1].copy(), node_labels=labels, name=name)
    else:
        graph = from_pairs(pairs, x, node_labels=labels, name=name)
    return graph, nodes


def karate_club(*, train_per_class: int = 2, seed: int = 0) -> NodeSplit:
    """Zachary's karate club (34 members; label = the club each joined after the split).

    Semi-supervised: ``train_per_class`` labelled members per club (always including
    the two leaders, nodes 0 and 33, first), the rest split evenly into val and test.
    """
    import networkx as nx

    graph, _ = from_networkx(nx.karate_club_graph(), label_key="club",
                             label_values=["Mr. Hi", "Officer"], name="karate")
    rng = np.random.default_rng(seed)
    train = []
    for c, leader in ((0, 0), (1, 33)):
        others = [i for i in rng.permutation(graph.num_nodes) if graph.node_labels[i] == c and i != leader]
        train += [leader] + others[:train_per_class - 1]
    rest = rng.permutation(np.setdiff1d(np.arange(graph.num_nodes), train))
    half = len(rest) // 2
    return NodeSplit(graph, np.array(sorted(train)), np.sort(rest[:half]), np.sort(rest[half:]), 2)


def davis_southern_women():
    """networkx's Davis Southern Women graph: 18 women x 14 events, 89 attendances.

    Returns ``(women, events, pairs)`` with ``pairs[k] = (woman index, event index)``.
    """
    import networkx as nx

    g = nx.davis_southern_women_graph()
    women = [v for v, d in g.nodes(data=True) if d["bipartite"] == 0]
    events = [v for v, d in g.nodes(data=True) if d["bipartite"] == 1]
    wi, ei = {w: i for i, w in enumerate(women)}, {e: i for i, e in enumerate(events)}
    pairs = sorted((wi[u], ei[v]) if u in wi else (wi[v], ei[u]) for u, v in g.edges())
    return women, events, np.array(pairs, np.int32)


def read_edge_list(path, *, directed: bool = False, delimiter: str | None = None,
                   node_features=None, name: str | None = None) -> tuple:
    """``(Graph, nodes)`` from a text edge list ("u v" per line, ``#`` comments) or a
    CSV whose header has ``source`` and ``target`` columns. Node ids may be any strings.
    """
    rows = []
    with open(path, newline="") as f:
        text = f.read()
    first = next((line for line in text.splitlines() if line.strip() and not line.startswith("#")), "")
    if "source" in first and "target" in first:
        reader = csv.DictReader(text.splitlines(), delimiter=delimiter or ",")
        rows = [(r["source"].strip(), r["target"].strip()) for r in reader]
    else:
        for i, line in enumerate(text.splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            cols = line.replace(",", " ").split() if delimiter is None else line.split(delimiter)
            if len(cols) < 2:
                raise DataError(f"{path}:{i}: expected 'source target', given {line!r}")
            rows.append((cols[0].strip(), cols[1].strip()))
    if not rows:
        raise DataError(f"{path}: no edges found")
    nodes = list(dict.fromkeys(v for r in rows for v in r))
    index = {v: i for i, v in enumerate(nodes)}
    x = np.eye(len(nodes), dtype=np.float32) if node_features is None else np.asarray(node_features, np.float32)
    if len(x) != len(nodes):
        raise DataError(f"{path}: node_features has {len(x)} rows, the edge list names {len(nodes)} nodes")
    pairs = np.array([(index[a], index[b]) for a, b in rows], np.int32)
    name = name or str(path)
    if directed:
        return Graph(x, pairs[:, 0].copy(), pairs[:, 1].copy(), name=name), nodes
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    pairs = np.unique(np.sort(pairs, 1), axis=0)
    return from_pairs(pairs, x, name=name), nodes
