"""Graphs as numpy arrays, their GraphSchema and GraphTensor, batching and link splits.

A :class:`Graph` holds node features, directed edges (``source[i] -> target[i]``;
undirected graphs list both directions) and optional node or graph labels. Models in
``tfmodels.models.gnn`` take it as plain tensors (``Graph.inputs()``), so the same
model runs on TFLite; :meth:`Graph.to_graph_tensor` gives TF-GNN's GraphTensor.
"""
import dataclasses

import numpy as np

from tfmodels.errors import DataError

NODES, EDGES = "nodes", "edges"
INPUT_NAMES = ("node_features", "source", "target", "graph_ids")


@dataclasses.dataclass(frozen=True)
class Graph:
    """One graph (or several merged into components: see ``graph_ids``)."""

    node_features: np.ndarray  # [N, F] float32
    source: np.ndarray  # [E] int32
    target: np.ndarray  # [E] int32
    node_labels: np.ndarray | None = None  # [N] int, node tasks
    label: int | None = None  # graph task
    graph_ids: np.ndarray | None = None  # [N] component of each node (batched graphs)
    name: str = ""

    def __post_init__(self):
        x, s, t = self.node_features, self.source, self.target
        if x.ndim != 2:
            raise DataError(f"{self.name}: node_features must be [num_nodes, features], given shape {x.shape}")
        if s.shape != t.shape or s.ndim != 1:
            raise DataError(f"{self.name}: source and target must be equal-length vectors, given {s.shape} and {t.shape}")
        if len(s) and (min(s.min(), t.min()) < 0 or max(s.max(), t.max()) >= len(x)):
            raise DataError(f"{self.name}: edge endpoints must lie in [0, {len(x)}), given "
                            f"[{min(s.min(), t.min())}, {max(s.max(), t.max())}]")

    @property
    def num_nodes(self) -> int:
        return len(self.node_features)

    @property
    def num_edges(self) -> int:
        return len(self.source)

    def inputs(self, with_graph_ids: bool = False) -> dict:
        """The model inputs: each array with a leading batch dimension of 1 (one graph)."""
        out = {"node_features": self.node_features[None].astype(np.float32),
               "source": self.source[None].astype(np.int32),
               "target": self.target[None].astype(np.int32)}
        if with_graph_ids:
            ids = self.graph_ids if self.graph_ids is not None else np.zeros(self.num_nodes, np.int32)
            out["graph_ids"] = ids[None].astype(np.int32)
        return out

    def permute(self, perm) -> "Graph":
        """The same graph with node ``perm[i]`` of this one as node ``i`` of the result."""
        perm = np.asarray(perm)
        inverse = np.argsort(perm)
        pick = lambda a: None if a is None else a[perm]  # noqa: E731
        return dataclasses.replace(
            self, node_features=self.node_features[perm], source=inverse[self.source].astype(np.int32),
            target=inverse[self.target].astype(np.int32), node_labels=pick(self.node_labels),
            graph_ids=pick(self.graph_ids))

    def schema(self):
        """TF-GNN GraphSchema: one node set, one edge set, ``label`` on the context."""
        return graph_schema(self.node_features.shape[1], graph_label=self.label is not None,
                            node_label=self.node_labels is not None)

    def to_graph_tensor(self):
        """This graph as a ``tfgnn.GraphTensor`` matching :meth:`schema`."""
        import tensorflow_gnn as tfgnn
        from tfmodels._keras import tf

        node_feats = {tfgnn.HIDDEN_STATE: tf.constant(self.node_features, tf.float32)}
        if self.node_labels is not None:
            node_feats["label"] = tf.constant(self.node_labels, tf.int32)
        context = {} if self.label is None else {"label": tf.constant([self.label], tf.int32)}
        return tfgnn.GraphTensor.from_pieces(
            context=tfgnn.Context.from_fields(features=context, sizes=[1]),
            node_sets={NODES: tfgnn.NodeSet.from_fields(sizes=[self.num_nodes], features=node_feats)},
            edge_sets={EDGES: tfgnn.EdgeSet.from_fields(
                sizes=[self.num_edges],
                adjacency=tfgnn.Adjacency.from_indices((NODES, self.source.astype(np.int32)),
                                                       (NODES, self.target.astype(np.int32))))})


def graph_schema(num_features: int, *, graph_label: bool = False, node_label: bool = False):
    """A homogeneous ``tfgnn.GraphSchema`` with float node features of width ``num_features``."""
    import tensorflow_gnn as tfgnn
    from google.protobuf import text_format

    node_label_txt = 'features { key: "label" value { dtype: DT_INT32 } }' if node_label else ""
    context_txt = ('context { features { key: "label" value { dtype: DT_INT32 shape { dim { size: 1 } } } } }'
                   if graph_label else "")
    text = f"""
      {context_txt}
      node_sets {{ key: "{NODES}" value {{
        features {{ key: "{tfgnn.HIDDEN_STATE}" value {{ dtype: DT_FLOAT shape {{ dim {{ size: {num_features} }} }} }} }}
        {node_label_txt} }} }}
      edge_sets {{ key: "{EDGES}" value {{ source: "{NODES}" target: "{NODES}" }} }}"""
    return text_format.Parse(text, tfgnn.GraphSchema())


@dataclasses.dataclass(frozen=True)
class NodeSplit:
    """A graph for node classification with train/val/test node indices."""

    graph: Graph
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    num_classes: int

    def mask(self, split: str) -> np.ndarray:
        """Float [N] mask of one split's nodes (a sample weight for full-batch training)."""
        m = np.zeros(self.graph.num_nodes, np.float32)
        m[getattr(self, split)] = 1.0
        return m


@dataclasses.dataclass(frozen=True)
class GraphCollection:
    """Many small labelled graphs (TU format) with stratified k-fold splits."""

    graphs: tuple
    labels: np.ndarray
    num_classes: int
    name: str = ""

    def folds(self, k: int = 10, seed: int = 0) -> list:
        """``[(train_idx, test_idx)] * k``, stratified by label, shuffled with ``seed``."""
        from sklearn.model_selection import StratifiedKFold

        kf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        return list(kf.split(np.zeros(len(self.labels)), self.labels))

    def batch(self, indices) -> Graph:
        return batch_graphs([self.graphs[i] for i in indices])


def batch_graphs(graphs) -> Graph:
    """Merge graphs into one graph of disconnected components; ``graph_ids`` says which.

    Edge indices are offset by the nodes before them; the result's ``node_labels``
    are concatenated and graph labels go to ``Graph.label`` as an array ``[G]``.
    """
    graphs = list(graphs)
    if not graphs:
        raise DataError("batch_graphs needs at least one graph, given none")
    widths = {g.node_features.shape[1] for g in graphs}
    if len(widths) > 1:
        raise DataError(f"all graphs must have the same node feature width, given {sorted(widths)}")
    offsets = np.cumsum([0] + [g.num_nodes for g in graphs[:-1]])
    cat = np.concatenate
    node_labels = (cat([g.node_labels for g in graphs]) if all(g.node_labels is not None for g in graphs)
                   else None)
    labels = np.array([g.label for g in graphs]) if all(g.label is not None for g in graphs) else None
    return Graph(
        node_features=cat([g.node_features for g in graphs]).astype(np.float32),
        source=cat([g.source + o for g, o in zip(graphs, offsets)]).astype(np.int32),
        target=cat([g.target + o for g, o in zip(graphs, offsets)]).astype(np.int32),
        node_labels=node_labels, label=labels,
        graph_ids=cat([np.full(g.num_nodes, i, np.int32) for i, g in enumerate(graphs)]),
        name=f"batch of {len(graphs)}")


def undirected_pairs(graph: Graph) -> np.ndarray:
    """Unique undirected edges ``[M, 2]`` with ``u < v`` (self-loops dropped)."""
    s, t = graph.source, graph.target
    pairs = np.stack([np.minimum(s, t), np.maximum(s, t)], 1)
    return np.unique(pairs[pairs[:, 0] != pairs[:, 1]], axis=0)


def from_pairs(pairs, node_features, **fields) -> Graph:
    """A symmetric :class:`Graph` from undirected ``[M, 2]`` pairs."""
    pairs = np.asarray(pairs, np.int32).reshape(-1, 2)
    return Graph(node_features=np.asarray(node_features, np.float32),
                 source=np.concatenate([pairs[:, 0], pairs[:, 1]]),
                 target=np.concatenate([pairs[:, 1], pairs[:, 0]]), **fields)


@dataclasses.dataclass(frozen=True)
class LinkSplit:
    """Held-out positive edges and as many sampled non-edges, per split."""

    train_graph: Graph  # the message-passing graph: held-out edges removed
    train_pos: np.ndarray  # [M, 2]
    val_pos: np.ndarray
    val_neg: np.ndarray
    test_pos: np.ndarray
    test_neg: np.ndarray


def sample_negatives(num_nodes: int, count: int, exclude: set, rng) -> np.ndarray:
    """``count`` distinct node pairs ``u < v`` not in ``exclude`` (uniform)."""
    out = set()
    while len(out) < count:
        u, v = rng.integers(0, num_nodes, size=(2, 2 * (count - len(out)) + 16))
        for a, b in zip(np.minimum(u, v), np.maximum(u, v)):
            if a != b and (a, b) not in exclude and (a, b) not in out:
                out.add((int(a), int(b)))
                if len(out) == count:
                    break
    return np.array(sorted(out), np.int32).reshape(-1, 2)


def link_split(graph: Graph, *, val: float = 0.05, test: float = 0.10, seed: int = 0) -> LinkSplit:
    """GAE-style split: hold out ``val``/``test`` fractions of the undirected edges.

    Negatives are node pairs that are not edges of the full graph, sampled uniformly,
    one per held-out positive.
    """
    if not (0 < val and 0 < test and val + test < 1):
        raise ValueError(f"val and test must be positive fractions summing below 1, given {val}, {test}")
    rng = np.random.default_rng(seed)
    pairs = undirected_pairs(graph)
    pairs = pairs[rng.permutation(len(pairs))]
    n_val, n_test = int(round(val * len(pairs))), int(round(test * len(pairs)))
    val_pos, test_pos, train_pos = pairs[:n_val], pairs[n_val:n_val + n_test], pairs[n_val + n_test:]
    existing = {(int(a), int(b)) for a, b in pairs}
    neg = sample_negatives(graph.num_nodes, n_val + n_test, existing, rng)
    neg = neg[rng.permutation(len(neg))]
    train_graph = from_pairs(train_pos, graph.node_features, name=f"{graph.name} (train edges)")
    return LinkSplit(train_graph, train_pos, val_pos, neg[:n_val], test_pos, neg[n_val:])
