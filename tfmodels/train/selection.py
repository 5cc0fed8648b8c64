"""Model selection on validation: keep the weights of the best epoch, not the last.

Papers such as GCN (Kipf & Welling 2017) and GAT (Velickovic et al. 2018) report the
test accuracy of the epoch that did best on the validation nodes. :class:`BestEpoch`
does that for any run: after every epoch it compares the validation score with the
best so far and copies the weights when it is better; when training ends the best
weights are put back. The copy and its score are variables that the run's epoch
checkpoints save too (:class:`tfmodels.train.checkpoints.EpochCheckpoints` ``extra``),
so a killed and resumed run selects among all its epochs, as an uninterrupted one does.
"""
import math

from tfmodels._keras import keras, tf

#: What ``fit(select=...)`` takes: "last" keeps the last epoch's weights, the others
#: the best epoch's by that validation figure (what :class:`BestEpoch` monitors).
SELECT = ("last", "val_accuracy", "val_auc", "val_loss")


class BestEpoch(keras.callbacks.Callback):
    """Keep the weights of the epoch with the best ``monitor`` (create under the strategy scope).

    ``val_accuracy`` or ``val_auc``: highest wins, ties go to the lower ``val_loss``;
    ``val_loss``: lowest wins. ``selected_epoch`` is 1-based (0: no epoch finished yet).
    """

    def __init__(self, model, monitor: str):
        super().__init__()
        if monitor not in SELECT[1:]:
            raise ValueError(f"monitor must be one of {SELECT[1:]}, given {monitor!r}")
        self.monitor = monitor
        self.weights = [tf.Variable(w, trainable=False, name=f"best_{i}") for i, w in enumerate(model.weights)]
        self.score = tf.Variable([-math.inf, -math.inf], trainable=False, dtype=tf.float64, name="best_score")
        self.epoch = tf.Variable(0, trainable=False, dtype=tf.int64, name="best_epoch")

    @property
    def state(self) -> "tf.train.Checkpoint":
        """What the epoch checkpoints save beside the model, so a resume keeps the selection."""
        return tf.train.Checkpoint(weights=self.weights, score=self.score, epoch=self.epoch)

    @property
    def selected_epoch(self) -> int:
        return int(self.epoch.numpy())

    def _score(self, logs) -> tuple[float, float]:
        loss = float(logs.get("val_loss", math.inf))
        if self.monitor == "val_loss":
            return (-loss, 0.0)
        if self.monitor not in logs:
            raise ValueError(f"select={self.monitor!r} needs that metric on validation; "
                             f"the run logs {sorted(logs)} (use select='val_loss')")
        return (float(logs[self.monitor]), -loss)

    def on_epoch_end(self, epoch, logs=None):
        score = self._score(logs or {})
        if any(math.isnan(v) for v in score) or score <= tuple(self.score.numpy()):
            return
        self.score.assign(score)
        self.epoch.assign(epoch + 1)
        for kept, current in zip(self.weights, self.model.weights):
            kept.assign(current)

    def on_train_end(self, logs=None):
        if self.selected_epoch:
            for kept, current in zip(self.weights, self.model.weights):
                current.assign(kept)
