"""Graph neural networks on TF-GNN: one module per model, each registers its builder.

Models take plain tensors (see ``_common``); ``tasks`` trains them full-batch or on
batches of small graphs; ``link`` and ``recommender`` hold the edge-level models.
"""
from tfmodels.models.gnn import gat, gated_gnn, gcn, gin, graphsage, link, mpnn, recommender  # noqa: F401
