"""Real time series that install with statsmodels, windowed for one-step forecasting.

    splits = load_splits("co2")          # monthly Mauna Loa CO2, 24-month windows
    x, y = splits.test                   # x: (n, 24, 1) ppm, y: (n, 1) ppm next month

The held-out tail is the end of the series: the last 20% of the windows' targets are
"test", the 10% before them "val", and no training window overlaps a later target.
Values stay in their original units; models normalise inside (see ``SeriesStats``).
"""
import dataclasses

import numpy as np

from tfmodels.data.core import make_splits, register_dataset
from tfmodels.errors import DataError, UnknownNameError

SEASONS = {"co2": 12, "sunspots": 11}  # monthly seasonality; the ~11-year solar cycle
WINDOWS = {"co2": 24, "sunspots": 22}


def raw_series(name: str) -> np.ndarray:
    """The whole series as float32: ``co2`` (526 monthly means, 1958-03..2001-12, gaps
    interpolated) or ``sunspots`` (309 yearly values, 1700-2008)."""
    import statsmodels.api as sm

    if name == "co2":
        weekly = sm.datasets.co2.load_pandas().data["co2"]
        values = weekly.resample("MS").mean().interpolate().to_numpy()
    elif name == "sunspots":
        values = sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
    else:
        raise UnknownNameError("series", name, SEASONS)
    return values.astype(np.float32)


def windows(values, window: int, horizon: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``x[i] = values[i:i+window]`` (as ``(n, window, 1)``), ``y[i]`` the value ``horizon`` later."""
    values = np.asarray(values, np.float32)
    n = len(values) - window - horizon + 1
    if n < 1:
        raise DataError(f"series of {len(values)} values is too short for window={window}, horizon={horizon}")
    idx = np.arange(n)[:, None] + np.arange(window)
    return values[idx][..., None], values[np.arange(n) + window + horizon - 1][:, None]


def split_tail(x, y, *, val: float = 0.1, test: float = 0.2):
    """Chronological split: train, then val, then the test tail."""
    n = len(x)
    n_test, n_val = int(round(n * test)), int(round(n * val))
    a, b = n - n_test - n_val, n - n_test
    return (x[:a], y[:a]), (x[a:b], y[a:b]), (x[b:], y[b:])


def naive_forecasts(x, season: int) -> dict:
    """Baseline forecasts of the value after each window: the last value, and the value
    one season before the target (``x[:, -season]``, needs ``window >= season``)."""
    if x.shape[1] < season:
        raise DataError(f"seasonal-naive needs window >= season, given {x.shape[1]} < {season}")
    return {"last_value": x[:, -1, :], "seasonal_naive": x[:, -season, :]}


@dataclasses.dataclass(frozen=True)
class SeriesStats:
    """Scale of the training windows: a forecaster sees ``(x - last) / scale``."""

    mean: float
    std: float
    diff_std: float  # std of one-step changes: the scale of what is left to predict


def series_stats(train_x, train_y) -> SeriesStats:
    deltas = train_y[:, 0] - train_x[:, -1, 0]
    return SeriesStats(float(train_x.mean()), float(train_x.std()), float(deltas.std()))


def series_splits(name: str, window: int | None = None):
    values = raw_series(name)
    x, y = windows(values, window or WINDOWS[name])
    train, val, test = split_tail(x, y)
    return make_splits(name, train, val, test, task="regression",
                       model_kwargs={"scale": series_stats(*train).diff_std},  # rnn_forecaster's
                       description=f"{name} one-step forecast, held-out tail")


@register_dataset("co2", description="statsmodels Mauna Loa CO2, monthly, 24-month windows -> next month")
def co2_splits(data_dir=None):
    return series_splits("co2")


@register_dataset("sunspots", description="statsmodels yearly sunspots, 22-year windows -> next year")
def sunspots_splits(data_dir=None):
    return series_splits("sunspots")
