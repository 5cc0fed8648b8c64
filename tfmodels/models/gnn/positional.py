"""Laplacian eigenvector positional encodings (the spectral view of a graph).

L = I - D^-1/2 A D^-1/2; its eigenvectors for the smallest non-zero eigenvalues are
smooth "coordinates" on the graph (Dwivedi et al. 2020). Their signs are arbitrary, so
training with random sign flips (``flip_signs``) keeps a model from relying on them.
"""
import dataclasses

import numpy as np
import scipy.sparse as sp

from tfmodels.data.graphs import Graph


def laplacian_eigenvectors(graph: Graph, k: int) -> np.ndarray:
    """``[N, k]`` eigenvectors of the normalized Laplacian (trivial ones skipped), per
    component of a batched graph; zero-padded when a graph has fewer than ``k + 1`` nodes.
    """
    ids = graph.graph_ids if graph.graph_ids is not None else np.zeros(graph.num_nodes, np.int64)
    out = np.zeros((graph.num_nodes, k), np.float32)
    a = sp.coo_matrix((np.ones(graph.num_edges), (graph.source, graph.target)),
                      shape=(graph.num_nodes,) * 2).tocsr()
    a = ((a + a.T) > 0).astype(np.float64)
    for g in np.unique(ids):
        nodes = np.flatnonzero(ids == g)
        sub = a[nodes][:, nodes].toarray()
        deg = sub.sum(1)
        inv = np.where(deg > 0, 1 / np.sqrt(np.maximum(deg, 1e-12)), 0.0)
        lap = np.eye(len(nodes)) - inv[:, None] * sub * inv[None]
        _, vecs = np.linalg.eigh(lap)
        take = vecs[:, 1:k + 1]
        out[nodes, :take.shape[1]] = take
    return out


def with_laplacian_pe(graph: Graph, k: int, *, flip_signs: bool = False, seed: int = 0) -> Graph:
    """``graph`` with ``k`` Laplacian eigenvectors appended to its node features."""
    pe = laplacian_eigenvectors(graph, k)
    if flip_signs:
        pe *= np.random.default_rng(seed).choice([-1.0, 1.0], size=(1, k)).astype(np.float32)
    return dataclasses.replace(graph, node_features=np.concatenate([graph.node_features, pe], 1))
