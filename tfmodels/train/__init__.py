"""Training on ``tf.distribute``: one trainer (:func:`fit`) and strategy selection."""
from tfmodels.train.strategy import STRATEGIES, describe, get_strategy, split_cpu
from tfmodels.train.trainer import TrainResult, evaluate_arrays, fit, load, save

__all__ = ["fit", "TrainResult", "save", "load", "evaluate_arrays",
           "get_strategy", "describe", "split_cpu", "STRATEGIES"]
