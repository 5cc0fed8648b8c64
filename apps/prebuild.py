"""Build ahead every model the app's pages show, so that every page opens alive.

    python apps/prebuild.py [--zoo saved_models] [--data-dir DIR] [--quick]

Builds what the zoo (``--zoo``, default ``$TFMODELS_ZOO`` or the repo's saved_models/)
lacks and keeps what it has:

* the default classifiers (:data:`tfmodels.zoo.DEFAULTS`, trained and exported as
  :func:`tfmodels.zoo.ensure_defaults` does; the digit CNN on real MNIST when it is
  there), which the Vision, Model zoo and Edge pages read;
* each page's own models: every name the pages pass to :func:`common.demo_artifact`,
  built by the same functions with the same settings, through the same
  :func:`common.build_artifact` (temp folder, ``done.json``, then rename) as the
  pages' Build buttons.

A model whose data is missing from the data folder (``--data-dir``, default
``$TFMODELS_DATA_DIR`` or ``../shared/data`` beside the repo) is skipped with a
one-line note; its page then says where to put the data. ``--quick`` builds small
versions for tests: the pages' models tiny (an epoch or a few, small layers), the
default classifiers with a quarter of their epochs (the digit CNN still reads drawn
digits: about 97% on MNIST). A progress bar per model, then
a summary with the seconds each took. Exit status 1 when a build failed.
"""
import argparse
import dataclasses
import functools
import os
import sys
import time
from pathlib import Path
from typing import Callable

APPS = Path(__file__).resolve().parent
sys.path.insert(0, str(APPS))


@dataclasses.dataclass(frozen=True)
class PageModel:
    """One page's own model: ``build(directory, progress)`` as the page calls it."""

    name: str
    page: str
    build: Callable
    quick: dict  # the settings --quick passes on top (tiny epochs and sizes)
    data: tuple[str, str] | None = None  # (path under the data folder, what it is) when it reads real data


def page_models(data_dir: Path) -> list[PageModel]:
    """Every model that a page builds with :func:`common.demo_artifact`, in page order,
    with the arguments the page gives it (keep in step with ``views/*.py``)."""
    import ae_models as am
    import graph_models as gm
    import text_models as tm
    import vision_models as vm

    def reads(build):  # the Text and Embeddings pages: tm.demo_model passes data_dir
        return functools.partial(build, data_dir=data_dir)

    def node(dataset, kind):  # the Graphs page's node_classification()
        return functools.partial(gm.build_node_model, dataset=dataset, model=kind, data_dir=data_dir,
                                 **gm.NODE_MODELS[kind])

    tiny_gat = {"num_heads": 2, "per_head_channels": 4}
    return [
        PageModel(vm.LOCALIZER, "Vision", vm.build_localizer, {"filters": (4, 8, 8), "dense_units": 8, "epochs": 1}),
        PageModel(vm.SEGMENTER, "Vision", vm.build_segmenter, {"filters": 4, "depth": 2, "epochs": 1}),
        PageModel(tm.CHAR_LM, "Text", reads(tm.build_char_lm),
                  {"units": 16, "embedding_dim": 8, "seq_len": 32, "windows": 64, "epochs": 1}, tm.SHAKESPEARE),
        PageModel(tm.GPT, "Text", reads(tm.build_gpt),
                  {"n_layer": 1, "n_head": 2, "n_embd": 16, "block_size": 32, "windows": 64, "epochs": 1},
                  tm.SHAKESPEARE),
        # a SimpleRNN traces in a fraction of a GRU's time; 300 divides the 2100 training sentences
        PageModel(tm.SENTIMENT, "Text", reads(tm.build_sentiment),
                  {"epochs": 1, "batch_size": 300, "max_tokens": 800, "cell": "simple_rnn", "embedding_dim": 8,
                   "units": 8, "attention_units": 8}, tm.SENTIMENT_SENTENCES),
        PageModel(tm.WORD_VECTORS, "Embeddings", reads(tm.build_word_vectors),
                  {"lines": 4000, "epochs": 1, "embedding_dim": 16}, tm.SHAKESPEARE),
        PageModel(am.DENOISER, "Autoencoders", am.build_denoiser, {"latent_dim": 8, "filters": (4, 8), "epochs": 2}),
        PageModel(am.VAE, "Autoencoders", am.build_vae, {"latent_dim": 4, "hidden_units": (32,), "epochs": 2}),
        PageModel(am.ANOMALY, "Autoencoders", am.build_anomaly, {"latent_dim": 8, "filters": (4, 8), "epochs": 3}),
        PageModel(gm.node_model_name("karate", "gcn"), "Graphs", node("karate", "gcn"),
                  {"epochs": 30, "hidden_units": 8}),
        PageModel(gm.node_model_name("karate", "gat"), "Graphs", node("karate", "gat"), {"epochs": 10, **tiny_gat}),
        PageModel(gm.node_model_name("cora", "gcn"), "Graphs", node("cora", "gcn"),
                  {"epochs": 10, "hidden_units": 8}, gm.NODE_DATA["cora"][1]),
        PageModel(gm.node_model_name("cora", "gat"), "Graphs", node("cora", "gat"), {"epochs": 3, **tiny_gat},
                  gm.NODE_DATA["cora"][1]),
        PageModel(gm.GIN, "Graphs", functools.partial(gm.build_gin, data_dir=data_dir),
                  {"epochs": 3, "hidden_units": 8, "num_layers": 2}, gm.MUTAG),
    ]


def _bar(name: str):
    """A tqdm bar for one model and the ``progress(fraction, text)`` that moves it."""
    from tqdm import tqdm

    bar = tqdm(total=100, desc=name, bar_format="{desc:<22} {percentage:3.0f}%|{bar:24}| {elapsed} {postfix}",
               file=sys.stdout, dynamic_ncols=True)

    def progress(fraction, text=""):
        bar.n = round(100 * min(max(float(fraction), 0.0), 1.0), 1)
        bar.set_postfix_str(text, refresh=False)
        bar.refresh()

    return bar, progress


def _run(name: str, build) -> tuple[str, float]:
    """``build(progress)`` under a bar: ``("built" | "FAILED: ...", seconds)``."""
    bar, progress = _bar(name)
    start = time.perf_counter()
    try:
        build(progress)
        progress(1.0, "done")
        status = "built"
    except Exception as e:  # noqa: BLE001  (one failed model must not stop the others)
        status = f"FAILED: {type(e).__name__}: {e}".splitlines()[0]
    finally:
        bar.close()
    return status, time.perf_counter() - start


def prebuild(zoo, data_dir, *, quick: bool = False) -> list[dict]:
    """Build every missing model into ``zoo``; one row per model (name, page, status, seconds)."""
    import tfmodels.zoo
    from common import build_artifact, epoch_progress, is_built
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # retracing warnings would break the bars' lines
    zoo, data_dir = Path(zoo), Path(data_dir)
    rows = []

    def row(name, page, status, seconds=0.0):
        rows.append({"name": name, "page": page, "status": status, "seconds": seconds})
        if status.startswith(("skipped", "FAILED")):
            print(f"{name}: {status}", flush=True)

    for recipe in tfmodels.zoo.DEFAULTS:
        if quick:
            recipe = dataclasses.replace(recipe, epochs=max(1, recipe.epochs // 4))
        if tfmodels.zoo.is_complete(zoo / recipe.name):
            row(recipe.name, "Vision, Model zoo, Edge", "already built")
            continue

        def build(progress, recipe=recipe):
            progress(0.0, f"{recipe.epochs} epochs on {recipe.data}")
            callback = epoch_progress(progress, recipe.epochs, share=0.8, label="train")
            tfmodels.zoo.build(recipe, zoo, verbose=0, callbacks=[callback])

        row(recipe.name, "Vision, Model zoo, Edge", *_run(recipe.name, build))

    for model in page_models(data_dir):
        if is_built(model.name, zoo):
            row(model.name, model.page, "already built")
        elif model.data and not (data_dir / model.data[0]).exists():
            row(model.name, model.page, f"skipped: {model.data[1]} is not here ({data_dir / model.data[0]} "
                                        "is missing)")
        else:
            build = functools.partial(model.build, **model.quick) if quick else model.build
            row(model.name, model.page,
                *_run(model.name, lambda progress, m=model, b=build: build_artifact(m.name, b, progress, zoo=zoo)))
    return rows


def summary(rows: list[dict]) -> str:
    width = max(len(r["name"]) for r in rows)
    lines = [f"{'model':<{width}}  {'page':<23}  {'seconds':>7}  status"]
    lines += [f"{r['name']:<{width}}  {r['page']:<23}  {r['seconds']:7.1f}  {r['status']}" for r in rows]
    built = [r for r in rows if r["status"] == "built"]
    lines.append(f"{len(built)} built in {sum(r['seconds'] for r in rows):.0f} s, "
                 f"{sum(r['status'] == 'already built' for r in rows)} already built, "
                 f"{sum(r['status'].startswith('skipped') for r in rows)} skipped, "
                 f"{sum(r['status'].startswith('FAILED') for r in rows)} failed")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zoo", help="the zoo folder (default: $TFMODELS_ZOO, else the repo's saved_models/)")
    parser.add_argument("--data-dir", help="the real datasets' folder (default: $TFMODELS_DATA_DIR, else "
                                           "../shared/data beside the repo)")
    parser.add_argument("--quick", action="store_true", help="small epochs and sizes (for tests)")
    args = parser.parse_args(argv)
    # Set before anything reads them: the pages' helpers (common.zoo_dir, common.data_dir)
    # and the tfmodels loaders that the default classifiers train from.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.zoo:
        os.environ["TFMODELS_ZOO"] = str(Path(args.zoo).resolve())
    if args.data_dir:
        os.environ["TFMODELS_DATA_DIR"] = str(Path(args.data_dir).resolve())
    from common import data_dir, zoo_dir

    os.environ["TFMODELS_DATA_DIR"] = str(data_dir())
    start = time.perf_counter()
    print(f"prebuild{' --quick' if args.quick else ''}: zoo {zoo_dir()}, data {data_dir()}", flush=True)
    rows = prebuild(zoo_dir(), data_dir(), quick=args.quick)
    print(summary(rows))
    print(f"total {time.perf_counter() - start:.0f} s (wall clock, imports included)", flush=True)
    return 1 if any(r["status"].startswith("FAILED") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
