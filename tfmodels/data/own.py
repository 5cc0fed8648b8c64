"""Your own data: a folder of images or a CSV/TSV file -> :class:`~tfmodels.data.Splits`.

    splits = from_directory("photos/", image_size=(64, 64))          # photos/<class>/*.jpg
    splits = from_csv("wine.csv", target="quality")                   # table -> MLP
    splits = from_csv("co2.csv", column="ppm", window=24)             # series -> rnn_forecaster
    splits = from_csv("reviews.tsv", text="review", target="label")   # text -> lstm, conv1d, ...

The CLI reads the same through ``tfmodels train NAME --data PATH`` (with ``--image-size``,
``--target``, ``--text-column``, ``--column``, ``--window``). Everything is read into
memory once, checked, and split with a seed: train/val/test 80/10/10, stratified by class
(a folder with ``train/``, ``val/``, ``test/`` subfolders keeps its own split); a series
keeps time order (the last 20% test, the 10% before it val). What a model needs from
the data travels with it in ``info.model_kwargs`` (input mean and variance for the MLP, a
forecaster's scale, a text model's vocabulary size) and ``info.vocabulary`` (saved with
the run and beside its .tflite files). ``info.source`` records the path, the options and
a fingerprint of the files, so a run resumes, exports and evaluates on the same data.
"""
import csv
import hashlib
import inspect
import logging
from pathlib import Path

import numpy as np

from tfmodels.data.core import make_splits, shuffled, stratified
from tfmodels.errors import DataError
from tfmodels.files import sha256_file

log = logging.getLogger("tfmodels.data")

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
SPLIT_FOLDERS = {"train": "train", "val": "val", "validation": "val", "test": "test"}
GRAY_MODES = ("1", "L", "LA", "I", "I;16", "F")
MAX_CLASSES_AUTO = 20  # an integer target with at most this many values is a class label


def open_path(path, **options):
    """A folder (images, or graphs in TU or Planetoid format) or a .csv/.tsv/.txt file
    (table, series, text, or a node table with ``edges``), by what it is."""
    path = Path(path).expanduser()
    if path.is_dir() or path.is_file():
        reader = from_directory if path.is_dir() else from_csv
        if path.is_dir() and graph_format(path):
            reader = from_graph_folder
        valid = [k for k in inspect.signature(reader).parameters if k != "path"]
        wrong = [k for k in options if k not in valid]
        if wrong:
            kind = {from_directory: "an image folder", from_csv: "a CSV file"}.get(reader, "a graph folder")
            raise DataError(f"{', '.join(wrong)} does not apply to {path} ({kind}: {', '.join(valid)})")
        return reader(path, **options)
    raise DataError(f"data not found: {path} is neither a registered dataset (tfmodels datasets) "
                    "nor an existing folder or file")


# -- images from a folder ---------------------------------------------------------------

def from_directory(path, *, image_size=None, color_mode: str = "auto", val: float = 0.1,
                   test: float = 0.1, seed: int = 0):
    """Images in one subfolder per class (``image_dataset_from_directory``'s layout).

    Args:
      image_size: ``(height, width)`` every image is resized to; None keeps their size
        (they must then all be the same size).
      color_mode: "grayscale", "rgb", or "auto" (grayscale when every image is).
      val, test: fractions of each class held out (unless the folder is pre-split).
    Class names are the subfolder names in sorted order; pixels become float32 in [0, 1].
    """
    root = Path(path).expanduser().resolve()
    if color_mode not in ("auto", "grayscale", "rgb"):
        raise DataError(f"color_mode must be auto, grayscale or rgb, given {color_mode!r}")
    size = _image_size(image_size)
    parts = {SPLIT_FOLDERS[d.name]: d for d in _subfolders(root) if d.name in SPLIT_FOLDERS}
    presplit = "train" in parts and "test" in parts
    tops = [parts[s] for s in ("train", "val", "test") if s in parts] if presplit else [root]
    classes = sorted({d.name for top in tops for d in _subfolders(top)})
    if len(classes) < 2:
        raise DataError(f"{root} needs one subfolder per class (at least two), each holding "
                        f"{'/'.join(e[1:] for e in IMAGE_EXTENSIONS)} images; found {classes or 'none'}")
    files = {top: _image_files(top, classes) for top in tops}
    mode = color_mode if color_mode != "auto" else _auto_mode(f for fs in files.values() for f, _ in fs)
    arrays = {top: _read_images(fs, size, mode) for top, fs in files.items()}
    options = {"image_size": list(size) if size else None, "color_mode": mode}
    if presplit:
        train, test_ = arrays[parts["train"]], arrays[parts["test"]]
        valid = arrays[parts["val"]] if "val" in parts else None
        if valid is None:  # a seeded share of train/ as validation
            (x, y), order = train, np.random.default_rng(seed).permutation(len(train[0]))
            n_val = max(1, int(round(len(x) * val)))
            train, valid = (x[order[n_val:]], y[order[n_val:]]), (x[order[:n_val]], y[order[:n_val]])
            options |= {"val": val, "seed": seed}
    else:
        train, valid, test_ = stratified(*arrays[root], val=val, test=test, seed=seed)
        options |= {"val": val, "test": test, "seed": seed}
    fingerprint = _fingerprint((str(f.relative_to(root)), f.stat().st_size)
                               for fs in files.values() for f, _ in fs)
    return make_splits(root.name, train, valid, test_, class_names=classes, num_classes=len(classes),
                       description=f"{sum(len(fs) for fs in files.values())} images from {root}",
                       source=_source(root, options, fingerprint))


def _image_size(image_size):
    if image_size is None:
        return None
    if isinstance(image_size, str):  # "64x48" or "64"
        try:
            image_size = [int(v) for v in image_size.lower().split("x")]
        except ValueError:
            raise DataError(f"image size is HEIGHTxWIDTH, e.g. 64x64, given {image_size!r}") from None
    size = tuple(int(v) for v in np.atleast_1d(image_size))
    size = size * 2 if len(size) == 1 else size
    if len(size) != 2 or min(size) < 1:
        raise DataError(f"image size is (height, width) of at least 1 pixel, given {image_size!r}")
    return size


def _subfolders(folder: Path) -> list[Path]:
    return sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))


def _image_files(top: Path, classes) -> list[tuple[Path, int]]:
    found, skipped = [], 0
    for label, name in enumerate(classes):
        folder = top / name
        for f in sorted(folder.rglob("*")) if folder.is_dir() else ():
            if f.is_file() and not f.name.startswith("."):
                if f.suffix.lower() in IMAGE_EXTENSIONS:
                    found.append((f, label))
                else:
                    skipped += 1
    if skipped:
        log.warning("%s: skipped %d files that are not %s images", top, skipped, "/".join(IMAGE_EXTENSIONS))
    if not found:
        raise DataError(f"no images in the class folders of {top} ({', '.join(IMAGE_EXTENSIONS)})")
    return found


def _open(path: Path):
    from tfmodels_edge import InputError, open_image

    try:
        return open_image(path)
    except InputError as e:
        raise DataError(f"{path}: {e}") from None


def _auto_mode(paths) -> str:
    for path in paths:
        with _open(path) as img:
            if img.mode not in GRAY_MODES:
                return "rgb"
    return "grayscale"


def _read_images(files, size, mode) -> tuple[np.ndarray, np.ndarray]:
    from tqdm.auto import tqdm

    pil_mode = "L" if mode == "grayscale" else "RGB"
    images, first = [], None
    for path, _ in tqdm(files, desc="reading images", unit="image", disable=len(files) < 2000):
        try:
            with _open(path) as img:
                img = img.convert(pil_mode)
                if size is not None:
                    img = img.resize(size[::-1], resample=2)  # PIL takes (width, height); 2 = bilinear
                array = np.asarray(img, np.uint8)
        except DataError:
            raise
        except Exception as e:  # noqa: BLE001  (Pillow raises many types on a damaged file)
            raise DataError(f"cannot read image {path}: {e}") from None
        if first is None:
            first = (path, array.shape)
        elif array.shape != first[1]:
            raise DataError(f"images differ in size: {first[0]} is {first[1][1]}x{first[1][0]}, {path} is "
                            f"{array.shape[1]}x{array.shape[0]}; pass image_size (CLI: --image-size 64x64)")
        images.append(array)
    x = np.stack(images).astype(np.float32) / 255.0
    return (x[..., None] if x.ndim == 3 else x), np.array([label for _, label in files], np.int32)


# -- CSV / TSV: tables, series, text ----------------------------------------------------

def from_csv(path, *, target: str | None = None, features=None, task: str | None = None,
             text: str | None = None, max_len: int | None = None, max_tokens: int = 20000,
             column: str | None = None, window: int = 24, horizon: int = 1, edges=None,
             val: float = 0.1, test: float | None = None, seed: int = 0):
    """A CSV (or TSV) file with a header row, read one of four ways:

    - ``target`` alone: a table; the other columns (or ``features``) are numeric inputs.
      ``task`` "classification" or "regression"; None guesses: text labels, or whole
      numbers with at most 20 values, are classes.
    - ``text`` and ``target``: sentences and their labels; a word vocabulary of the
      training split only (``max_tokens`` words), padded to ``max_len`` words (default:
      the 95th percentile of training lengths).
    - ``column``: one time series; windows of ``window`` values predict the value
      ``horizon`` steps after, in time order.
    - ``edges`` (the path of an edge list) with ``target``: a node table for node
      classification. Its first column (or one named ``id``) names the nodes; the edge
      list's first two columns (or ``source`` and ``target``) join them (both ways);
      the other numeric columns (or ``features``) are node features; nodes whose target
      is empty are unlabelled (they pass messages, and are in no split).
    ``test`` defaults to 0.1 (0.2 for a series, the held-out tail).
    """
    path = Path(path).expanduser().resolve()
    header, rows = _read_csv(path)
    modes = {"table": target is not None and text is None, "text": text is not None, "series": column is not None}
    if sum(modes.values()) != 1 or (text is not None and target is None) or (edges and not modes["table"]):
        raise DataError(f"say how to read {path.name} (columns: {', '.join(header)}): target=COLUMN for a "
                        "table, text=COLUMN with target=COLUMN for text, column=COLUMN for a time series, "
                        "or edges=EDGE_LIST with target=COLUMN for a graph's nodes "
                        "(CLI: --target, --text-column with --target, --column, --edges with --target)")
    fingerprint = _fingerprint([(path.name, path.stat().st_size, sha256_file(path))])
    if edges:
        return _nodes(path, header, rows, Path(edges).expanduser().resolve(), target, features,
                      val, 0.1 if test is None else test, seed, fingerprint)
    if modes["series"]:
        return _series(path, header, rows, column, window, horizon, val, 0.2 if test is None else test,
                       fingerprint)
    test = 0.1 if test is None else test
    if modes["text"]:
        return _text(path, header, rows, text, target, max_len, max_tokens, val, test, seed, fingerprint)
    return _table(path, header, rows, target, features, task, val, test, seed, fingerprint)


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            sample = f.read(65536)
            f.seek(0)
            delimiter = "\t" if path.suffix.lower() == ".tsv" else _sniff(sample)
            table = list(csv.reader(f, delimiter=delimiter))
    except UnicodeDecodeError as e:
        raise DataError(f"{path} is not UTF-8 text ({e})") from None
    except csv.Error as e:
        raise DataError(f"{path} is not a readable CSV file: {e}") from None
    table = [row for row in table if any(cell.strip() for cell in row)]
    if len(table) < 2:
        raise DataError(f"{path} needs a header row and at least one row of data")
    header = [h.strip() for h in table[0]]
    for n, row in enumerate(table[1:], 2):
        if len(row) != len(header):
            raise DataError(f"{path}:{n}: {len(row)} fields, but the header has {len(header)}")
    return header, table[1:]


def _sniff(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _column(path, header, rows, name) -> list[str]:
    if name not in header:
        from tfmodels.errors import UnknownNameError

        raise UnknownNameError("column", name, header)
    i = header.index(name)
    return [row[i].strip() for row in rows]


def _numbers(path, header, rows, name) -> np.ndarray:
    values = _column(path, header, rows, name)
    out = np.empty(len(values), np.float64)
    for n, value in enumerate(values):
        try:
            out[n] = float(value)
        except ValueError:
            if not value:
                raise DataError(f"{path}:{n + 2}: column {name!r} is empty; fill in or drop the row") from None
            raise DataError(f"{path}:{n + 2}: column {name!r} holds {value[:30]!r}, not a number. Features "
                            f"are numeric: drop or encode that column, choose features=[...], or for text "
                            f"classification read it as text (text={name!r}; CLI --text-column {name})") from None
    if not np.all(np.isfinite(out)):
        raise DataError(f"{path}: column {name!r} holds nan or inf at row {int(np.argmin(np.isfinite(out))) + 2}")
    return out


def _labels(values, task):
    """Class ids and names from a label column (sorted: numbers numerically)."""
    try:
        numeric = sorted({float(v) for v in values})
        names = sorted(set(values), key=float)
    except ValueError:
        numeric, names = None, sorted(set(values))
    if task is None:
        task = "classification" if numeric is None or (
            all(v.is_integer() for v in numeric) and len(numeric) <= MAX_CLASSES_AUTO) else "regression"
    if task == "classification":
        index = {name: i for i, name in enumerate(names)}
        return task, np.array([index[v] for v in values], np.int32), names
    if task != "regression":
        raise DataError(f"task must be classification or regression, given {task!r}")
    if numeric is None:
        raise DataError("a regression target must be numeric")
    return task, np.array([float(v) for v in values], np.float32)[:, None], ()


def _table(path, header, rows, target, features, task, val, test, seed, fingerprint):
    task, y, names = _labels(_column(path, header, rows, target), task)
    features = list(features) if features else [h for h in header if h != target]
    if target in features:
        raise DataError(f"the target {target!r} cannot also be a feature")
    x = np.stack([_numbers(path, header, rows, f) for f in features], axis=1).astype(np.float32)
    if task == "classification":
        train, valid, test_ = stratified(x, y, val=val, test=test, seed=seed)
    else:
        train, valid, test_ = shuffled(x, y, val=val, test=test, seed=seed)
    hints = {"input_mean": train[0].mean(0).tolist(), "input_variance": train[0].var(0).tolist()}
    if task == "regression":
        hints |= {"target_mean": float(train[1].mean()), "target_std": float(train[1].std()) or 1.0}
    options = {"target": target, "features": features, "task": task, "val": val, "test": test, "seed": seed}
    return make_splits(path.stem, train, valid, test_, task=task, class_names=names,
                       num_classes=len(names) or None, model_kwargs=hints,
                       description=f"{len(rows)} rows of {path.name}: {len(features)} features -> {target}",
                       source=_source(path, options, fingerprint))


def _series(path, header, rows, column, window, horizon, val, test, fingerprint):
    from tfmodels.data.series import series_stats, split_tail, windows

    x, y = windows(_numbers(path, header, rows, column), int(window), int(horizon))
    train, valid, test_ = split_tail(x, y, val=val, test=test)
    if min(len(train[0]), len(valid[0]), len(test_[0])) < 1:
        raise DataError(f"{path}: {len(x)} windows of {window} values are too few to split; use a smaller window")
    options = {"column": column, "window": int(window), "horizon": int(horizon), "val": val, "test": test}
    return make_splits(path.stem, train, valid, test_, task="regression",
                       model_kwargs={"scale": max(series_stats(*train).diff_std, 1e-6)},
                       description=f"{column} of {path.name}: {window} values -> {horizon} step(s) ahead",
                       source=_source(path, options, fingerprint))


def _text(path, header, rows, text, target, max_len, max_tokens, val, test, seed, fingerprint):
    from tfmodels.data.text import WordVocab, words

    sentences = _column(path, header, rows, text)
    _, y, names = _labels(_column(path, header, rows, target), "classification")
    idx = np.arange(len(sentences))
    parts = stratified(idx, y, val=val, test=test, seed=seed)
    train_texts = [sentences[i] for i in parts[0][0]]
    vocab = WordVocab.from_texts(train_texts, max_tokens=max_tokens)
    lengths = [len(words(s)) for s in train_texts]
    max_len = int(max_len or max(8, np.percentile(lengths, 95)))
    arrays = [(vocab.encode_batch([sentences[i] for i in ids], max_len), labels) for ids, labels in parts]
    options = {"text": text, "target": target, "max_len": max_len, "max_tokens": max_tokens,
               "val": val, "test": test, "seed": seed}
    return make_splits(path.stem, *arrays, class_names=names, num_classes=len(names),
                       vocabulary=vocab.to_json(), model_kwargs={"vocab_size": vocab.size},
                       description=f"{len(rows)} texts of {path.name} as word ids ({vocab.size} words)",
                       source=_source(path, options, fingerprint))


# -- graphs: a node table and an edge list, or a folder in TU or Planetoid format ----------

def _nodes(path, header, rows, edges_path, target, features, val, test, seed, fingerprint):
    from tfmodels.data.graphs import NodeSplit, from_pairs, node_splits

    id_name = "id" if "id" in header else header[0]
    ids = _column(path, header, rows, id_name)
    index = {v: i for i, v in enumerate(ids)}
    if len(index) != len(ids):
        dup = next(v for i, v in enumerate(ids) if ids.index(v) != i)
        raise DataError(f"{path}: node {dup!r} appears twice in column {id_name!r}")
    labels = _column(path, header, rows, target)
    known = np.array([v != "" for v in labels])
    _, y_known, names = _labels([v for v in labels if v], "classification")
    y = np.zeros(len(ids), np.int32)
    y[known] = y_known
    features = list(features) if features else [h for h in header if h not in (target, id_name)]
    x = (np.stack([_numbers(path, header, rows, f) for f in features], axis=1).astype(np.float32)
         if features else np.eye(len(ids), dtype=np.float32))  # no features: one-hot node ids
    source, dest = _edge_list(edges_path, index)
    labelled = np.flatnonzero(known)
    (train, _), (valid, _), (test_, _) = stratified(labelled, y[labelled], val=val, test=test, seed=seed)
    pairs = np.unique(np.sort(np.stack([source, dest], 1), 1), axis=0)  # undirected, each once
    graph = from_pairs(pairs[pairs[:, 0] != pairs[:, 1]], x, node_labels=y, name=path.stem)
    fingerprint = _fingerprint([(fingerprint,), (edges_path.name, edges_path.stat().st_size, sha256_file(edges_path))])
    options = {"target": target, "edges": str(edges_path), "features": features, "val": val, "test": test,
               "seed": seed}
    return node_splits(path.stem, NodeSplit(graph, np.sort(train), np.sort(valid), np.sort(test_), len(names)),
                       class_names=names, source=_source(path, options, fingerprint),
                       description=f"{len(ids)} nodes of {path.name}, {len(source)} edges of {edges_path.name}")


def _edge_list(path: Path, index: dict) -> tuple[np.ndarray, np.ndarray]:
    """Node numbers of each edge's two ends (columns ``source``/``target``, else the first two)."""
    if not path.is_file():
        raise DataError(f"edge list not found: {path}")
    header, rows = _read_csv(path)
    ends = ["source", "target"] if {"source", "target"} <= set(header) else header[:2]
    if len(ends) < 2:
        raise DataError(f"{path}: an edge list needs two columns (source, target); the header has {header}")
    pairs = list(zip(_column(path, header, rows, ends[0]), _column(path, header, rows, ends[1])))
    for n, (a, b) in enumerate(pairs, 2):
        for v in (a, b):
            if v not in index:
                raise DataError(f"{path}:{n}: node {v!r} is not in the node table")
    if not pairs:
        raise DataError(f"{path}: no edges")
    return (np.array([index[a] for a, _ in pairs], np.int32), np.array([index[b] for _, b in pairs], np.int32))


def graph_format(folder: Path) -> str | None:
    """"tu" or "planetoid" for a folder of graph files in that format, else None."""
    from tfmodels.data.graphs.tu import tu_folder_name

    if tu_folder_name(folder):
        return "tu"
    return "planetoid" if len(list(folder.glob("ind.*.graph"))) == 1 else None


def from_graph_folder(path, *, seed: int = 0):
    """Graphs in a folder: TU format (``DS_A.txt``, ``DS_graph_indicator.txt``, ...; graph
    classification, a seeded stratified 80/10/10 split) or Planetoid format
    (``ind.NAME.{x,y,tx,ty,allx,ally,graph,test.index}``; node classification on its own
    split, test ids with gaps handled as Kipf & Welling's loader does)."""
    from tfmodels.data.graphs import load_planetoid, load_tu, node_splits, tu_splits

    root = Path(path).expanduser().resolve()
    files = sorted(p for p in root.iterdir() if p.is_file())
    fingerprint = _fingerprint([(p.name, p.stat().st_size, sha256_file(p)) for p in files])
    source = _source(root, {"seed": seed}, fingerprint)
    if graph_format(root) == "tu":
        collection = load_tu(root)
        return tu_splits(root.name, collection, seed=seed, source=source,
                         description=f"{len(collection.labels)} graphs of {root.name} (TU format)")
    if graph_format(root) != "planetoid":
        raise DataError(f"{root} holds neither TU files (DS_A.txt, DS_graph_indicator.txt) nor Planetoid "
                        "files (ind.NAME.graph, ...)")
    name = next(root.glob("ind.*.graph")).name[len("ind."):-len(".graph")]
    return node_splits(name, load_planetoid(name, folder=root), source=source,
                       description=f"{name} (Planetoid files in {root.name})")


# -- provenance ---------------------------------------------------------------------------

def _fingerprint(entries) -> str:
    """SHA-256 over what identifies the files (names and sizes; a CSV's own digest)."""
    digest = hashlib.sha256()
    for entry in sorted(entries):
        digest.update(repr(entry).encode())
    return digest.hexdigest()


def _source(path: Path, options: dict, fingerprint: str) -> dict:
    return {"ref": str(path), "name": path.stem if path.is_file() else path.name, "options": options,
            "fingerprint": fingerprint}
