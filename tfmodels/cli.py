"""The ``tfmodels`` command: list, train, export and evaluate models.

    tfmodels list [--family cnn] [--json]
    tfmodels datasets
    tfmodels train seed_cnn --data digits --epochs 20 --out runs/seed_cnn
    tfmodels train mobilenet_v2 --data photos/ --image-size 96x96 --out runs/photos
    tfmodels train mlp --data wine.csv --target quality --out runs/wine
    tfmodels train gcn --data cora --out runs/gcn        # the paper's setup: 200 epochs, best val epoch
    tfmodels train gcn --data papers.csv --edges cites.csv --target topic --out runs/papers
    tfmodels train gin --data path/to/TU_folder --out runs/molecules
    tfmodels export runs/seed_cnn --quant float32,int8
    tfmodels eval runs/seed_cnn
    tfmodels launch --workers 2 -- train mlp --data digits --out runs/mw
    tfmodels zoo --dir saved_models
    tfmodels app [--port 8501] [--zoo saved_models]   # the Streamlit app (extra: tfmodels[app])
    tfmodels --version
    tfmodels --verbose list   # show TensorFlow's start-up and C++ log lines (or TFMODELS_VERBOSE=1)

TensorFlow's C++ start-up lines are hidden unless ``--verbose`` (see :mod:`tfmodels._keras`).
Errors a user can cause print one line (``error: ...``) and exit with status 2.
"""
import argparse
import json
import re
import sys
from pathlib import Path

from tfmodels.errors import TfmodelsError


def _table(rows: list[dict], cols: list[str]) -> str:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols}
    line = lambda r: "  ".join(str(r.get(c, "")).ljust(widths[c]) for c in cols)  # noqa: E731
    return "\n".join([line({c: c for c in cols}), line({c: "-" * widths[c] for c in cols}),
                      *map(line, rows)])


def cmd_list(args):
    import tfmodels

    rows = [s.as_dict() for s in tfmodels.list_models(args.family)]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(_table(rows, ["name", "family", "edge_ready", "default_data", "description"]))


def cmd_datasets(args):
    from tfmodels.data import list_datasets

    rows = [{"name": n, "description": d} for n, d in list_datasets().items()]
    print(_table(rows + [{"name": "tfds:NAME", "description": "any TensorFlow Datasets image classification set"}],
                 ["name", "description"]))


def cmd_train(args):
    from tfmodels.registry import require_trainable
    from tfmodels.train import fit

    data = args.data or require_trainable(args.model).default_data
    if data is None:
        raise TfmodelsError(f"{args.model} has no default dataset: pass --data (tfmodels datasets)")
    options = {key: value for key, value in (
        ("image_size", args.image_size), ("target", args.target), ("text", args.text_column),
        ("column", args.column), ("window", args.window), ("task", args.task), ("edges", args.edges))
        if value is not None}
    result = fit(args.model, data, data_dir=args.data_dir, data_options=options, epochs=args.epochs,
                 batch_size=args.batch_size, learning_rate=args.learning_rate,
                 schedule=args.schedule, select=args.select, optimizer=args.optimizer,
                 strategy=args.strategy, mixed_precision=args.mixed_precision,
                 jit_compile=args.jit_compile, out_dir=args.out, overwrite=args.overwrite,
                 seed=args.seed, verbose=1)
    shown = {k: v for k, v in result.metrics.items() if k.startswith(("test_", "val_")) or
             k in ("wall_seconds", "samples_per_s", "strategy", "replicas", "epochs",
                   "resumed_from_epoch", "weights_sha256")}
    print(json.dumps(shown, indent=2))
    print(f"saved to {args.out}")


def cmd_export(args):
    from tfmodels.convert import QUANT_MODES, export, format_report
    from tfmodels.errors import UnknownNameError

    modes = [m.strip() for m in args.quant.split(",") if m.strip()]
    for m in modes:  # before any conversion starts
        if m not in QUANT_MODES:
            raise UnknownNameError("mode", m, QUANT_MODES)
    if not modes:
        raise TfmodelsError(f"--quant names no mode; choose from {', '.join(QUANT_MODES)}")
    report = export(args.run_dir, modes=modes, allow_flex=args.allow_flex, data_dir=args.data_dir)
    print(format_report(report))
    print(f"report: {report['report_file']}")


def cmd_eval(args):
    from tfmodels.evaluate import evaluate_run

    text = json.dumps(evaluate_run(args.run_dir, data_dir=args.data_dir), indent=2, allow_nan=False)
    print(re.sub(r"\[\s+([-\d.,\s]+?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text))


def cmd_launch(args):
    from tfmodels.train.launch import launch

    command = args.command_args[1:] if args.command_args[:1] == ["--"] else args.command_args
    if not command:
        raise TfmodelsError("nothing to launch: give the command after --, e.g. "
                            "tfmodels launch --workers 2 -- train mlp --data digits --out runs/mw")
    sys.exit(launch(args.workers, command))


def cmd_zoo(args):
    from tfmodels import zoo

    for run_dir in zoo.ensure_defaults(args.dir):
        print(f"ready: {run_dir}")


def cmd_app(args):
    import importlib.util
    import os
    import subprocess

    if importlib.util.find_spec("streamlit") is None:
        raise TfmodelsError("tfmodels app needs Streamlit: pip install 'tfmodels[app]'")
    spec = importlib.util.find_spec("tfmodels_app")
    if spec is None or not spec.submodule_search_locations:
        raise TfmodelsError("the app is not installed with this tfmodels (no tfmodels_app package)")
    script = Path(next(iter(spec.submodule_search_locations))) / "app.py"
    env = dict(os.environ)
    env["TFMODELS_ZOO"] = str(Path(args.zoo or env.get("TFMODELS_ZOO") or "saved_models").resolve())
    command = [sys.executable, "-m", "streamlit", "run", str(script),
               "--server.port", str(args.port), "--server.headless", "true",
               "--browser.gatherUsageStats", "false",
               *(args.streamlit_args[1:] if args.streamlit_args[:1] == ["--"] else args.streamlit_args)]
    print(f"tfmodels app: http://localhost:{args.port}  (models from {env['TFMODELS_ZOO']}; Ctrl-C stops it)",
          flush=True)
    try:
        sys.exit(subprocess.call(command, env=env))
    except KeyboardInterrupt:
        sys.exit(130)


def parser() -> argparse.ArgumentParser:
    from tfmodels import __version__

    p = argparse.ArgumentParser(prog="tfmodels", description=__doc__.split("\n")[0])
    p.add_argument("--version", action="version", version=f"tfmodels {__version__}")
    p.add_argument("--verbose", action="store_true",
                   help="show TensorFlow's start-up and C++ log lines (also: TFMODELS_VERBOSE=1)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("list", help="registered models")
    s.add_argument("--family")
    s.add_argument("--json", action="store_true", help="print a JSON list")
    s.set_defaults(fn=cmd_list)

    s = sub.add_parser("datasets", help="registered datasets")
    s.set_defaults(fn=cmd_datasets)

    s = sub.add_parser("train", help="train a registered model on a dataset")
    s.add_argument("model")
    s.add_argument("--data", help="dataset name (tfmodels datasets), a folder of images (one subfolder "
                   "per class) or of graphs (TU or Planetoid files), or a .csv/.tsv file; default: the "
                   "model's own dataset")
    s.add_argument("--data-dir", help="folder with local data files (default $TFMODELS_DATA_DIR)")
    own = s.add_argument_group("your own files (--data PATH)")
    own.add_argument("--image-size", help="HEIGHTxWIDTH images are resized to (default: the model's input)")
    own.add_argument("--target", help="CSV column to predict (a table, or with --text-column the label)")
    own.add_argument("--text-column", help="CSV column of text (with --target: text classification)")
    own.add_argument("--column", help="CSV column of one time series (forecasting)")
    own.add_argument("--window", type=int, help="values per series window (default 24)")
    own.add_argument("--edges", help="CSV edge list (source, target) of the node table --data names: "
                     "node classification of --target")
    own.add_argument("--task", choices=["classification", "regression"],
                     help="for --target: what to predict (default: guessed from the column)")
    paper = "default: the model's paper setup (tfmodels list --json shows it), else "
    s.add_argument("--epochs", type=int, help=paper + "10")
    s.add_argument("--batch-size", type=int, help="per replica (graphs per batch for graph "
                   "classification; node classification takes the whole graph); " + paper + "32")
    s.add_argument("--learning-rate", type=float, help=paper + "0.001")
    s.add_argument("--schedule", choices=["constant", "cosine", "step"],
                   help="cosine: decay to 0 by the end; step: halve every 50 epochs; " + paper + "constant")
    s.add_argument("--select", choices=["last", "val_accuracy", "val_auc", "val_loss"],
                   help="which epoch's weights the run keeps: the last, or the best on validation; "
                   + paper + "last")
    s.add_argument("--optimizer", default="adam", help="a Keras optimizer name (adam, sgd, adamw, ...)")
    s.add_argument("--strategy", default="auto", help="auto, cpu, gpu, mirrored, multiworker, tpu")
    s.add_argument("--mixed-precision", action="store_true")
    s.add_argument("--jit-compile", action="store_true")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True, help="run folder (the same arguments resume it)")
    s.add_argument("--overwrite", action="store_true",
                   help="start over in --out even if it holds a run of other arguments")
    s.set_defaults(fn=cmd_train)

    s = sub.add_parser("export", help="convert a run to TFLite with a parity report")
    s.add_argument("run_dir")
    s.add_argument("--quant", default="float32,dynamic,float16,int8",
                   help="comma-separated: float32, dynamic, float16, int8, int16x8, selective")
    s.add_argument("--data-dir", help="local data files (default: where the run was trained from)")
    s.add_argument("--allow-flex", action="store_true", help="permit TensorFlow (Flex) ops")
    s.set_defaults(fn=cmd_export)

    s = sub.add_parser("eval", help="test metrics of a run's Keras model and every .tflite")
    s.add_argument("run_dir")
    s.add_argument("--data-dir", help="local data files (default: where the run was trained from)")
    s.set_defaults(fn=cmd_eval)

    s = sub.add_parser("launch", help="run a command as N local workers (MultiWorkerMirroredStrategy)")
    s.add_argument("--workers", type=int, default=2)
    s.add_argument("command_args", nargs=argparse.REMAINDER, help="-- train ...")
    s.set_defaults(fn=cmd_launch)

    s = sub.add_parser("zoo", help="build the default trained artifacts that are missing")
    s.add_argument("--dir", default="saved_models")
    s.set_defaults(fn=cmd_zoo)

    s = sub.add_parser("app", help="start the Streamlit app (needs tfmodels[app])")
    s.add_argument("--port", type=int, default=8501)
    s.add_argument("--zoo", help="folder of trained artifacts (default $TFMODELS_ZOO, else ./saved_models)")
    s.add_argument("streamlit_args", nargs=argparse.REMAINDER,
                   help="more `streamlit run` options after --, e.g. -- --server.address 0.0.0.0")
    s.set_defaults(fn=cmd_app)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.verbose:
        import os

        from tfmodels import _keras

        os.environ["TFMODELS_VERBOSE"] = "1"  # for the processes it starts (launch, app)
        if _keras.STARTUP_LOG:  # TensorFlow was imported (quietly) before argv was read
            sys.stderr.write(_keras.STARTUP_LOG)
    try:
        args.fn(args)
    except (TfmodelsError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # an --out or --data-dir the user cannot write or read
        where = f": {e.filename}" if e.filename else ""
        print(f"error: {e.strerror or e}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted (the run folder resumes from its last finished epoch)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
