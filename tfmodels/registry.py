"""One registry: model name -> builder, family, description, default data.

Family modules register their builders with :func:`register`; the CLI, the app and
the benchmarks all go through :func:`build` and :func:`list_models`.
"""
import dataclasses
import importlib
import pkgutil
from typing import Callable

from tfmodels.errors import UnknownNameError


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about one model."""

    name: str
    family: str
    description: str
    builder: Callable
    default_data: str | None = None
    edge_ready: bool = False
    default_kwargs: dict = dataclasses.field(default_factory=dict)  # what `tfmodels train` builds with
    trained_with: str | None = None  # the Python call for models `tfmodels train` cannot train
    inputs: tuple = ()  # kinds of input it trains on (input_kind); () = its default dataset's
    tasks: tuple = ()   # tasks it trains for; () = its default dataset's
    #: Its paper's training setup, what ``train.fit`` uses for arguments not given
    #: (``epochs``, ``batch_size``, ``learning_rate``, ``schedule``, ``select``).
    training: dict = dataclasses.field(default_factory=dict)
    #: Layers an int8 export keeps in float (absolute levels no calibrated range holds).
    float_layers: tuple = ()

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "family": self.family,
            "description": self.description,
            "default_data": self.default_data,
            "edge_ready": self.edge_ready,
            "training": self.training,
            "float_layers": list(self.float_layers),
        }


_REGISTRY: dict[str, ModelSpec] = {}


def register(name=None, *, family, description=None, default_data=None, edge_ready=False,
             default_kwargs=None, trained_with=None, inputs=(), tasks=(), training=None, float_layers=()):
    """Decorator that adds a builder to the registry under ``name`` (default: its own).

    The description defaults to the first line of the builder's docstring.
    ``default_kwargs``: builder keywords the trainer uses unless told otherwise (what the
    default dataset needs). ``trained_with``: for a model that trains outside
    ``tfmodels.train.fit``, the call to use, which the CLI shows. ``inputs`` and
    ``tasks``: what else it trains on beyond its default dataset's kind (e.g. the MLP:
    feature vectors for regression too); see :func:`check_compatible`. ``training``: the
    paper's setup (epochs, batch size, learning rate, schedule, model selection on
    validation) that ``tfmodels train NAME`` uses unless told otherwise. ``float_layers``:
    layer names that an int8 export keeps in float (float inputs and outputs then).
    """

    def wrap(fn):
        key = name or fn.__name__
        if key in _REGISTRY and _REGISTRY[key].builder is not fn:
            raise ValueError(f"model {key!r} is registered twice")
        doc = description or (fn.__doc__ or "").strip().splitlines()[0]
        _REGISTRY[key] = ModelSpec(key, family, doc, fn, default_data, edge_ready,
                                   dict(default_kwargs or {}), trained_with, tuple(inputs), tuple(tasks),
                                   dict(training or {}), tuple(float_layers))
        return fn

    return wrap


def _load_families():
    """Import every module under tfmodels.models so their builders register."""
    import tfmodels.models as models

    for info in pkgutil.iter_modules(models.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{models.__name__}.{info.name}")


def get_spec(name: str) -> ModelSpec:
    _load_families()
    if name not in _REGISTRY:
        raise UnknownNameError("model", name, _REGISTRY)
    return _REGISTRY[name]


def build(name: str, **kwargs):
    """Build the registered model ``name``; keyword arguments go to its builder."""
    return get_spec(name).builder(**kwargs)


def list_models(family: str | None = None) -> list[ModelSpec]:
    """All registered models (of one family if given), sorted by family then name."""
    _load_families()
    specs = sorted(_REGISTRY.values(), key=lambda s: (s.family, s.name))
    if family is not None:
        families = {s.family for s in specs}
        if family not in families:
            raise UnknownNameError("family", family, families)
        specs = [s for s in specs if s.family == family]
    return specs


GRAPH_TASKS = ("node_classification", "graph_classification", "link_prediction", "recommendation")


def input_kind(splits) -> str:
    """The kind of inputs a dataset holds, in words: what a model is matched on."""
    if splits.info.task in GRAPH_TASKS:
        return "graphs"
    x = splits.train[0]
    if isinstance(x, (list, tuple, dict)):
        return f"{len(x)} inputs"
    import numpy as np

    rank = np.ndim(x) - 1
    if np.issubdtype(np.asarray(x).dtype, np.integer):
        return "token-id sequences" if rank == 1 else f"integer arrays of rank {rank}"
    return {1: "feature vectors", 2: "series of feature vectors", 3: "images"}.get(rank, f"rank-{rank} arrays")


def require_trainable(name: str) -> ModelSpec:
    """The spec of a model ``tfmodels.train.fit`` trains by name, else a clear error
    naming the call that trains it (word vectors, seq2seq, the streaming char LM)."""
    from tfmodels.errors import TfmodelsError

    spec = get_spec(name)
    if spec.trained_with:
        raise TfmodelsError(f"{name} does not train through `tfmodels train`; in Python: {spec.trained_with}")
    return spec


def check_compatible(name: str, splits):
    """Refuse a dataset whose inputs or task differ from the model's default dataset's.

    The default dataset is the model's contract: ``gpt`` reads token ids like
    tiny-shakespeare, ``vgg`` images like usps; a model registered with ``inputs`` and
    ``tasks`` says itself what it takes. Without either, or when the default cannot be
    loaded here (no local files), nothing is checked.
    """
    from tfmodels.data import load_splits
    from tfmodels.errors import DataError, TfmodelsError

    spec = require_trainable(name)
    info = splits.info
    given = (input_kind(splits), info.task)
    if (given[0] == "graphs") != ("graphs" in spec.inputs):
        raise TfmodelsError(f"{name} ({spec.family}) cannot train on {info.name} ({given[0]}, {info.task}); "
                            + ("graph data trains a GNN (tfmodels list --family gnn)" if given[0] == "graphs"
                               else f"it trains on graphs, like its default dataset {spec.default_data!r}"))
    if spec.inputs:
        if given[0] not in spec.inputs or given[1] not in (spec.tasks or ("classification",)):
            raise TfmodelsError(f"{name} trains on {' or '.join(spec.inputs)} "
                                f"({' or '.join(spec.tasks or ('classification',))}); {info.name!r} holds "
                                f"{given[0]} ({given[1]}). Pick a model of that kind (tfmodels list) or other data")
        return
    if spec.default_data is None or spec.default_data == info.name:
        return
    try:
        default = load_splits(spec.default_data)
    except DataError:
        return
    want = (input_kind(default), default.info.task)
    if want != given:
        raise TfmodelsError(f"{name} trains on {want[0]} ({want[1]}), like its default dataset "
                            f"{spec.default_data!r}; {info.name!r} holds {given[0]} ({given[1]}). "
                            f"Pick a model of that kind (tfmodels list) or another dataset")
