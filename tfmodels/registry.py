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

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "family": self.family,
            "description": self.description,
            "default_data": self.default_data,
            "edge_ready": self.edge_ready,
        }


_REGISTRY: dict[str, ModelSpec] = {}


def register(name=None, *, family, description=None, default_data=None, edge_ready=False):
    """Decorator that adds a builder to the registry under ``name`` (default: its own).

    The description defaults to the first line of the builder's docstring.
    """

    def wrap(fn):
        key = name or fn.__name__
        if key in _REGISTRY and _REGISTRY[key].builder is not fn:
            raise ValueError(f"model {key!r} is registered twice")
        doc = description or (fn.__doc__ or "").strip().splitlines()[0]
        _REGISTRY[key] = ModelSpec(key, family, doc, fn, default_data, edge_ready)
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
