"""What every page shares: the zoo directory, cached models, and error containment.

The app uses only the public APIs of ``tfmodels`` and of the edge kit.
"""
import functools
import os
import time
import traceback
from pathlib import Path

import numpy as np
import streamlit as st


def zoo_dir() -> Path:
    """Where trained artifacts live: ``$TFMODELS_ZOO``, else the repo's saved_models/."""
    return Path(os.environ.get("TFMODELS_ZOO", Path(__file__).resolve().parents[1] / "saved_models"))


MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_PIXELS = 4_000_000  # a 2000 x 2000 photo of a digit is plenty; refused before decoding


def guarded(page):
    """Run a page body; any exception becomes a message, never a traceback on the page."""

    @functools.wraps(page)
    def run():
        try:
            page()
        except Exception as e:  # noqa: BLE001  (the page must survive anything)
            st.error(f"Something went wrong: {e}")
            print(traceback.format_exc(), flush=True)  # for the server log only

    return run


def artifacts() -> list[dict]:
    return _artifacts(str(zoo_dir()))


@st.cache_data(ttl=5)
def _artifacts(zoo: str) -> list[dict]:
    import tfmodels.zoo

    return tfmodels.zoo.list_artifacts(zoo)


@st.cache_resource
def keras_model(path: str):
    import tfmodels.train

    return tfmodels.train.load(path)


@st.cache_resource
def edge_model(path: str):
    """One EdgeModel per file; it serializes invokes with its own lock."""
    from tfmodels_edge import EdgeModel

    return EdgeModel(path)


@st.cache_data
def test_split(dataset: str):
    import tfmodels.data

    return tfmodels.data.load_arrays(dataset, "test", data_dir())


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return out, (time.perf_counter() - start) * 1e3


def epoch_progress(progress, epochs: int, start: float = 0.0, share: float = 1.0, label: str = ""):
    """A Keras callback that moves ``progress(fraction, text)`` after every epoch; the
    run covers ``share`` of the bar from ``start`` (several runs can share one bar)."""
    from tfmodels import keras

    class EpochProgress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            progress(min(start + share * (epoch + 1) / epochs, 1.0),
                     f"{label} epoch {epoch + 1}/{epochs}".strip())

    return EpochProgress()


def build_defaults_button():
    """First start: offer to build the default artifacts, with a progress bar."""
    import tfmodels.zoo

    zoo = zoo_dir()
    st.info(f"No trained models in `{zoo}` yet. Build the default ones from bundled data "
            "(a few minutes on a laptop CPU).")
    if not st.button("Build default models", type="primary"):
        return
    bar = st.progress(0.0, text="starting")
    recipes = tfmodels.zoo.DEFAULTS
    for i, recipe in enumerate(recipes):
        if not tfmodels.zoo.is_complete(zoo / recipe.name):
            callback = epoch_progress(lambda f, t: bar.progress(f, text=t), recipe.epochs,
                                      start=i / len(recipes), share=1 / len(recipes), label=recipe.name)
            tfmodels.zoo.build(recipe, zoo, verbose=0, callbacks=[callback])
    _artifacts.clear()
    bar.progress(1.0, text="done")
    st.rerun()


def is_built(name: str, zoo=None) -> bool:
    """True when the page model ``<zoo>/<name>/`` is complete (it holds ``done.json``)."""
    return (Path(zoo or zoo_dir()) / name / "done.json").exists()


def build_artifact(name: str, build, progress=lambda fraction, text="": None, *, zoo=None) -> Path:
    """Build the page model ``<zoo>/<name>/`` (default zoo: :func:`zoo_dir`) the one way
    the pages' Build buttons and ``apps/prebuild.py`` do: ``build(directory, progress)``
    writes into a temp directory beside it, then ``done.json``; the temp directory
    replaces ``<zoo>/<name>`` only when both succeeded, so an interrupted build leaves
    nothing half-written (and nothing that :func:`is_built`)."""
    from tfmodels.files import atomic_directory, write_json

    run_dir = Path(zoo or zoo_dir()) / name
    with atomic_directory(run_dir) as tmp:
        build(tmp, progress)
        write_json(tmp / "done.json", {"name": name, "built": time.strftime("%Y-%m-%d %H:%M:%S")})
    return run_dir


def demo_artifact(name: str, build, *, what: str) -> Path | None:
    """A page's own small trained model, kept in ``<zoo>/<name>/``.

    Returns the directory when it is complete (it holds ``done.json``). Otherwise shows
    a button; on click runs :func:`build_artifact` (``build(directory, progress)``,
    ``progress(fraction, text)`` moving a progress bar). ``apps/prebuild.py`` builds
    every page's models ahead the same way; tests with small settings.
    """
    run_dir = zoo_dir() / name
    if is_built(name):
        return run_dir
    st.info(f"This page needs {what}, not built yet in `{run_dir}`.")
    if not st.button(f"Build {name}", type="primary", key=f"build-{name}"):
        return None
    bar = st.progress(0.0, text="starting")
    build_artifact(name, build, lambda fraction, text="": bar.progress(fraction, text=text))
    st.rerun()


def to_mnist_frame(gray: np.ndarray) -> np.ndarray:
    """A drawn or uploaded digit (white on black, any size) framed like MNIST: 28x28,
    the digit scaled into 20x20 and centred by its bounding box."""
    from PIL import Image

    gray = gray.astype(np.float32)
    if gray.max() > 1.0:
        gray /= 255.0
    ys, xs = np.nonzero(gray > 0.1)
    frame = np.zeros((28, 28), np.float32)
    if len(ys) == 0:
        return frame[..., None]
    crop = gray[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    scale = 20.0 / max(crop.shape)
    h, w = max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale))
    small = np.asarray(Image.fromarray((crop * 255).astype(np.uint8)).resize((w, h), Image.BILINEAR),
                       np.float32) / 255.0
    top, left = (28 - h) // 2, (28 - w) // 2
    frame[top:top + h, left:left + w] = small
    return frame[..., None]


def data_dir() -> Path:
    """Where the real datasets live: ``$TFMODELS_DATA_DIR``, else ``../shared/data`` beside the repo."""
    return Path(os.environ.get("TFMODELS_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))


def missing_data(relative: str, what: str) -> bool:
    """True (with a message saying where to put it) when ``data_dir() / relative`` is missing."""
    path = data_dir() / relative
    if path.exists():
        return False
    st.warning(f"{what} is not here: `{path}` is missing. Put the files there, or set "
               "`TFMODELS_DATA_DIR` to the folder that holds them, then reload this page.")
    return True


def save_rebuildable(directory, model, builder: str, kwargs: dict, **info):
    """Save a registry model as its weights plus how to build it again
    (``tfmodels.build(builder, **kwargs)``) and what the build measured (``info``).
    Works for every family, custom layers and subclassed models included."""
    from tfmodels.files import write_json

    model.save_weights(Path(directory) / "model.weights.h5")
    write_json(Path(directory) / "model.json", {"builder": builder, "kwargs": kwargs, **info})


def load_rebuildable(run_dir):
    """``(model, info)`` saved by :func:`save_rebuildable`, cached per build of ``run_dir``."""
    return _rebuildable(str(run_dir), (Path(run_dir) / "done.json").read_text())


@st.cache_resource
def _rebuildable(path: str, built: str):
    import json

    import tfmodels

    info = json.loads((Path(path) / "model.json").read_text())
    model = tfmodels.build(info["builder"], **info["kwargs"])
    model.load_weights(Path(path) / "model.weights.h5")
    return model, info
