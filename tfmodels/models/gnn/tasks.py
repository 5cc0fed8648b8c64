"""Training the GNN models: full-batch node classification, batches of small graphs.

Full-batch training is one step per epoch on the whole graph, so it runs a compiled
train step directly (``model.fit`` also works: :func:`node_dataset` is a one-element
``tf.data.Dataset`` of ``(inputs, labels, train mask)``). Graph classification
merges shuffled batches of graphs into components (``batch_graphs``).
"""
import time

import numpy as np

from tfmodels._keras import keras, tf
from tfmodels.data.graphs import GraphCollection, NodeSplit, batch_graphs
from tfmodels.errors import TfmodelsError


def sparse_node_features(features, dtype=tf.float32) -> "tf.SparseTensor":
    """A ``scipy.sparse`` matrix ``[N, F]`` -> ``tf.SparseTensor [1, N, F]`` (for ``sparse_features``)."""
    coo = features.tocoo()
    idx = np.stack([np.zeros_like(coo.row), coo.row, coo.col], 1).astype(np.int64)
    order = np.lexsort((idx[:, 2], idx[:, 1]))
    return tf.SparseTensor(idx[order], tf.constant(coo.data[order], dtype), [1, *coo.shape])


def node_dataset(split: NodeSplit, inputs=None) -> "tf.data.Dataset":
    """``(inputs, labels, train mask)`` as one element, for ``model.fit`` full-batch."""
    inputs = inputs or split.graph.inputs()
    return tf.data.Dataset.from_tensors((inputs, split.graph.node_labels, split.mask("train")))


def _masked_loss(labels, probs, mask):
    ce = keras.losses.sparse_categorical_crossentropy(labels, probs)
    return tf.reduce_sum(ce * mask) / tf.reduce_sum(mask)


def fit_nodes(model, split: NodeSplit, *, inputs=None, epochs: int = 200, learning_rate: float = 0.01,
              seed: int = 0, select: str = "val_accuracy", strategy=None) -> dict:
    """Train full-batch on the train nodes; keep the weights of the best validation epoch.

    ``select``: "val_accuracy" (ties broken by lower val loss) or "last". Returns test
    and val accuracy of the kept weights, the best epoch and the mean train-step time.

    ``strategy``: a ``tf.distribute`` strategy (or a name for
    ``tfmodels.train.get_strategy``) under whose scope ``model`` was built; it places
    the variables and the step (``"cpu"``, ``"gpu"``). Full-batch training has one
    example, the graph, and the models take it as a batch of 1, which Keras refuses to
    split over several replicas; so ``mirrored`` and ``multiworker`` do not apply here.
    """
    from tfmodels.train.strategy import get_strategy

    strategy = get_strategy(strategy) if isinstance(strategy, str) else strategy or tf.distribute.get_strategy()
    keras.utils.set_random_seed(seed)
    inputs = {k: tf.convert_to_tensor(v) if not isinstance(v, tf.SparseTensor) else v
              for k, v in (inputs or split.graph.inputs()).items()}
    labels = tf.constant(split.graph.node_labels)
    train_mask, val_mask = tf.constant(split.mask("train")), tf.constant(split.mask("val"))
    with strategy.scope():
        optimizer = keras.optimizers.Adam(learning_rate)
    replicas = strategy.num_replicas_in_sync
    if replicas > 1:
        raise TfmodelsError(f"full-batch GNN training runs on one replica; {type(strategy).__name__} "
                            f"has {replicas} (use strategy='cpu' or 'gpu')")

    def replica_step():
        with tf.GradientTape() as tape:
            loss = _masked_loss(labels, model(inputs, training=True), train_mask)
            loss += tf.add_n(model.losses) if model.losses else 0.0
            scaled = loss / replicas  # the all-reduce sums replica gradients
        grads = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def train_step():
        return strategy.reduce("MEAN", strategy.run(replica_step), axis=None)

    @tf.function
    def evaluate():
        probs = model(inputs, training=False)
        return probs, _masked_loss(labels, probs, val_mask)

    y = split.graph.node_labels
    best, best_weights, best_epoch, step_seconds = None, None, -1, []
    for epoch in range(epochs):
        start = time.perf_counter()
        train_step().numpy()
        step_seconds.append(time.perf_counter() - start)
        if select == "last":
            continue
        probs, val_loss = evaluate()
        val_acc = float(np.mean(probs.numpy().argmax(1)[split.val] == y[split.val]))
        score = (val_acc, -float(val_loss))
        if best is None or score > best:
            best, best_weights, best_epoch = score, model.get_weights(), epoch
    if best_weights is not None:
        model.set_weights(best_weights)
    pred = model(inputs, training=False).numpy().argmax(1)
    return {"test_accuracy": float(np.mean(pred[split.test] == y[split.test])),
            "val_accuracy": float(np.mean(pred[split.val] == y[split.val])),
            "best_epoch": best_epoch, "epoch_ms": 1000 * float(np.mean(step_seconds[1:] or step_seconds))}


def fit_graphs(model, collection: GraphCollection, train_idx, test_idx, *, epochs: int = 100,
               batch_size: int = 32, learning_rate: float = 0.01, seed: int = 0) -> np.ndarray:
    """Train on batches of ``train_idx`` graphs; test accuracy after every epoch ``[epochs]``."""
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    width = collection.graphs[0].node_features.shape[1]
    spec = {"node_features": tf.TensorSpec((1, None, width), tf.float32),
            **{k: tf.TensorSpec((1, None), tf.int32) for k in ("source", "target", "graph_ids")}}
    optimizer = keras.optimizers.Adam(learning_rate)
    decay = keras.optimizers.schedules.ExponentialDecay(learning_rate, 50 * -(-len(train_idx) // batch_size), 0.5,
                                                        staircase=True)
    optimizer.learning_rate = decay

    @tf.function(input_signature=[spec, tf.TensorSpec((None,), tf.int32)])
    def train_step(inputs, labels):
        with tf.GradientTape() as tape:
            probs = model(inputs, training=True)
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(labels, probs))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    @tf.function(input_signature=[spec])
    def predict(inputs):
        return model(inputs, training=False)

    test = batch_graphs([collection.graphs[i] for i in test_idx])
    test_inputs = test.inputs(with_graph_ids=True)
    accuracies = []
    for _ in range(epochs):
        order = rng.permutation(train_idx)
        for lo in range(0, len(order), batch_size):
            batch = batch_graphs([collection.graphs[i] for i in order[lo:lo + batch_size]])
            train_step(batch.inputs(with_graph_ids=True), batch.label.astype(np.int32))
        pred = predict(test_inputs).numpy().argmax(1)
        accuracies.append(float(np.mean(pred == test.label)))
    return np.array(accuracies)


def cross_validate(build, collection: GraphCollection, *, folds: int = 10, seed: int = 0, **fit_kw) -> dict:
    """Stratified k-fold CV: ``build()`` a fresh model per fold, :func:`fit_graphs` it.

    Reports the last-epoch accuracy over folds and, as in the GIN paper's protocol, the
    accuracy at the single epoch whose mean over folds is best.
    """
    curves = []
    for k, (train_idx, test_idx) in enumerate(collection.folds(folds, seed)):
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed + k)
        curves.append(fit_graphs(build(), collection, train_idx, test_idx, seed=seed + k, **fit_kw))
    curves = np.array(curves)
    best = int(curves.mean(0).argmax())
    return {"cv_accuracy_mean": float(curves[:, best].mean()), "cv_accuracy_std": float(curves[:, best].std()),
            "best_epoch": best, "last_epoch_accuracy_mean": float(curves[:, -1].mean()),
            "last_epoch_accuracy_std": float(curves[:, -1].std()), "folds": folds}
