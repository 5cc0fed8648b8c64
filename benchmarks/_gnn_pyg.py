"""PyTorch Geometric's GCN on the exact arrays our benchmark uses (run in the PyG venv).

Usage: python _gnn_pyg.py DATA.npz EPOCHS SEED -> one JSON line on stdout.
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch_geometric.nn import GCNConv


class GCN(torch.nn.Module):
    def __init__(self, n_in, hidden, n_out):
        super().__init__()
        self.conv1 = GCNConv(n_in, hidden, cached=True)
        self.conv2 = GCNConv(hidden, n_out, cached=True)

    def forward(self, x, edge_index):
        x = F.dropout(x, p=0.5, training=self.training)
        x = F.relu(self.conv1(x, edge_index))
        x = F.dropout(x, p=0.5, training=self.training)
        return self.conv2(x, edge_index)


def main(path, epochs, seed):
    torch.manual_seed(seed)
    d = np.load(path)
    x = torch.tensor(d["x"])
    edge_index = torch.tensor(np.stack([d["source"], d["target"]]).astype(np.int64))
    y = torch.tensor(d["y"].astype(np.int64))
    train, val, test = (torch.tensor(d[k].astype(np.int64)) for k in ("train", "val", "test"))
    model = GCN(x.shape[1], int(d["hidden"]), int(y.max()) + 1)
    opt = torch.optim.Adam([dict(params=model.conv1.parameters(), weight_decay=5e-4),
                            dict(params=model.conv2.parameters(), weight_decay=0)], lr=0.01)
    times, best_val, test_acc = [], -1.0, 0.0
    for _ in range(epochs):
        start = time.perf_counter()
        model.train()
        opt.zero_grad()
        loss = F.cross_entropy(model(x, edge_index)[train], y[train])
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
        model.eval()
        with torch.no_grad():
            pred = model(x, edge_index).argmax(1)
        val_acc = float((pred[val] == y[val]).float().mean())
        if val_acc > best_val:
            best_val, test_acc = val_acc, float((pred[test] == y[test]).float().mean())
    print(json.dumps({"epoch_ms": 1000 * float(np.mean(times[1:])), "test_accuracy": test_acc,
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
