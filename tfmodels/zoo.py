"""A model zoo directory: trained, exported artifacts that the app and demos read.

Each artifact is a run folder ``<zoo>/<name>/`` (:class:`tfmodels.rundir.RunDir`)
trained by ``tfmodels.train.fit`` and exported by ``tfmodels.convert.export``.
"""
import dataclasses
from pathlib import Path

from tfmodels.convert import MODES, export
from tfmodels.rundir import RunDir
from tfmodels.train import fit


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How to build one default artifact from bundled data only."""

    model: str
    data: str
    epochs: int
    batch_size: int = 32
    learning_rate: float = 2e-3
    schedule: str | None = "cosine"

    @property
    def name(self) -> str:
        return f"{self.model}_{self.data}"


DEFAULTS = (
    Recipe("seed_cnn", "digits", epochs=40),
    Recipe("mlp", "digits", epochs=40),
)


def is_complete(run_dir) -> bool:
    return RunDir(run_dir).is_complete()


def build(recipe: Recipe, zoo_dir="saved_models", *, modes=MODES, verbose: int = 1,
          callbacks=()) -> Path:
    """Train and export one artifact into ``zoo_dir`` (resuming if it was interrupted)."""
    run_dir = Path(zoo_dir) / recipe.name
    fit(recipe.model, recipe.data, epochs=recipe.epochs, batch_size=recipe.batch_size,
        learning_rate=recipe.learning_rate, schedule=recipe.schedule, out_dir=run_dir,
        verbose=verbose, callbacks=callbacks)
    export(run_dir, modes=modes)
    return run_dir


def ensure_defaults(zoo_dir="saved_models", recipes=DEFAULTS, verbose: int = 1) -> list[Path]:
    """Build every default artifact that ``zoo_dir`` lacks; keep the ones it has."""
    built = []
    for recipe in recipes:
        run_dir = Path(zoo_dir) / recipe.name
        if not is_complete(run_dir):
            print(f"building {recipe.name}: {recipe.model} on {recipe.data}, {recipe.epochs} epochs", flush=True)
            build(recipe, zoo_dir, verbose=verbose)
        built.append(run_dir)
    return built


def list_artifacts(zoo_dir="saved_models") -> list[dict]:
    """Every complete artifact in ``zoo_dir`` with its metrics and export report."""
    rows = []
    for run_dir in sorted(Path(zoo_dir).glob("*/")):
        run = RunDir(run_dir)
        if run.is_complete():
            rows.append({"name": run_dir.name, "path": str(run_dir), "run": run,
                         "metrics": run.metrics(), "export": run.export_report()})
    return rows
