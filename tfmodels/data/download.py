"""Public datasets' files: found in a local folder, else downloaded once into a cache.

    folder = fetch("usps", data_dir)      # <root>/usps holding usps.h5

``root`` is ``data_dir`` if given, else ``$TFMODELS_DATA_DIR``, else
``~/.keras/datasets/tfmodels``; inside it each dataset keeps the layout of its
original distribution (``usps/usps.h5``, ``planetoid/ind.cora.x``, ``tu/MUTAG/...``),
the same layout as the project's ``shared/data`` folder. Files already there are used
as they are (a local copy wins, and is not re-hashed); missing files are downloaded
from :data:`FILES` into that root.

A download goes to a temporary name beside its target, is checked against its pinned
SHA-256 and only then renamed into place: a mismatch, a cut connection or an error page
leaves nothing in the cache. (``keras.utils.get_file`` was not used: tf_keras 2.21
writes straight to the final name and leaves a file whose hash does not match there.)

``$TFMODELS_DATA_URL`` replaces every file's origin with ``<base>/<path in the
layout>`` (a mirror, or a test's local server).
"""
import contextlib
import dataclasses
import hashlib
import os
import secrets
import urllib.error
import urllib.request
import warnings
from pathlib import Path

from tfmodels.errors import DataError

DEFAULT_CACHE = "~/.keras/datasets/tfmodels"
TIMEOUT_S = 60


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    path: str  # inside the data root, e.g. "usps/usps.h5"
    url: str  # canonical address
    sha256: str | None  # None: no checksum known for sure (see its dataset's note)


def _github(repo: str, commit: str, folder: str, subdir: str, names, sums) -> tuple:
    base = f"https://raw.githubusercontent.com/{repo}/{commit}/{folder}"
    return tuple(RemoteFile(f"{subdir}/{n}", f"{base}/{n}", s) for n, s in zip(names, sums))


_PLANETOID_PARTS = ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")
_PLANETOID_REPO = ("kimiyoung/planetoid", "af6abf468a772cc055bec88c52e4d6f51b7c37e3", "data")
_TU_REPO = ("XuelinHu/Matrix-ResGNN-GraphClassificatio", "f76543d8bd82c7ebe1c16f59d9219d038c62ac8e")
_MNIST = "https://storage.googleapis.com/cvdf-datasets/mnist"


def _planetoid(name, sums):
    names = [f"ind.{name}.{p}" for p in _PLANETOID_PARTS]
    return _github(*_PLANETOID_REPO, "planetoid", names, sums)


def _tu(name, parts, sums):
    return _github(*_TU_REPO, f"data/TUDataset/{name}/raw", f"tu/{name}",
                   [f"{name}_{p}.txt" for p in parts], sums)


def _mnist(names, sums):
    return tuple(RemoteFile(f"mnist/{n}", f"{_MNIST}/{n}", s) for n, s in zip(names, sums))


_MNIST_TEST = _mnist(
    ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
    # tensorflow_datasets 4.9's url_checksums/mnist.txt for these cvdf mirror URLs. The
    # project's shared/data copies are the same idx payload re-gzipped (another gzip
    # header), so their own hashes differ; local copies are used without re-hashing.
    ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
     "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"))

#: Every downloadable dataset: its files, their canonical address and SHA-256. Checksums
#: are those of the files in the project's shared/data (computed from them, matching
#: each PROVENANCE.md) unless a comment says otherwise.
FILES: dict[str, tuple] = {
    "usps": _github("niuers/Learning-From-Data-A-Short-Course", "879a698b960e5867f7c2b11f8938fa89c3d21839",
                    "data", "usps", ["usps.h5"],
                    ["734f88c541104a956d88be2c95d03b4a463ffd74ccc2ba9c80841fb98e3fcb36"]),
    "mnist-test": _MNIST_TEST,
    "mnist": _MNIST_TEST + _mnist(
        ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
        # tensorflow_datasets 4.9's url_checksums/mnist.txt (not in shared/data)
        ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
         "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c")),
    "cora": _planetoid("cora", (
        "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
        "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
        "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
        "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
        "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
        "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
        "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
        "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875")),
    # Citeseer and PubMed: no SHA-256 is known for sure here (not in shared/data, none
    # published by the source repository), so none is invented: they download unchecked
    # with a warning. Their pickles are read with the restricted unpickler either way.
    "citeseer": _planetoid("citeseer", (None,) * 8),
    "pubmed": _planetoid("pubmed", (None,) * 8),
    "mutag": _tu("MUTAG", ("A", "graph_indicator", "graph_labels", "node_labels"), (
        "d9656ca7493f3445d737c711710bb36fd432dddd1c0ea32e1d4713c86ebd28e2",
        "7d520a4d6c7961c0cdeabe076d8fe27e795b6d373485c9a2b744987e560a2056",
        "a1518ea39ba3426bd42f57396b9c4baffe68e9adc718caeeab0119c6591a5f2c",
        "678f429965490e84dd27713017538c995fc05d1621beac910848b600015ee863")),
    "proteins": _tu("PROTEINS", ("A", "graph_indicator", "graph_labels", "node_labels", "node_attributes"), (
        "4c4b33e272fc95cac6d27ed6d5d12b9a852c8610e91fff59f8f0dbdd5a20df67",
        "8d4ff1e852a5c28561e9bffb44cf9490bc552b13a3b6156dd12dc7f44e9afc4a",
        "c0ef9810c440775252872318d0c8adc385588e14bc4c47a2c34aa96ee3c7cdcd",
        "f758e8ad3d6e3c026b50833d75f6f90735b94eb3345e4243707f495ca8afea8d",
        "54eef829abb37e458a5fbf3a3c581e48e5810e220463c2cd951856b9ceb08f07")),
    # tensorflow_datasets' tiny_shakespeare checksums.tsv pins the same URL and hash.
    "tiny-shakespeare": (RemoteFile(
        "tinyshakespeare/input.txt",
        "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"),),
    # UCI's own zip has no published SHA-256; these are the individual files of the copy
    # in shared/data, at its source repository's commit.
    "sentiment": _github("weichiao-cs07/dm_2018_hw_1", "0374ca715881de56a6fe264cfd7cf52acf99d6ee",
                         "data/sentiment_labelled_sentences", "text/sentiment_labelled_sentences",
                         ["amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt"],
                         ["47003fc0a0d4840b00e96e715b6189bad09e7443a3da41c4cbe12ffc79f86ae3",
                          "aef2e49e3da25714d61175e3a6e68eeef74a20a2f914318dc3be9947ea86512d",
                          "c76468b7b5c6e56a0804d728345c5f84aa2142ddb214420f61cc9cfd4c00d2ea"]),
}
FILES["tiny_shakespeare"] = FILES["tiny-shakespeare"]


def data_root(data_dir=None) -> Path:
    """Where a dataset's files are looked for and downloaded to (see the module doc)."""
    root = data_dir or os.environ.get("TFMODELS_DATA_DIR") or DEFAULT_CACHE
    return Path(root).expanduser()


def origin(f: RemoteFile) -> str:
    base = os.environ.get("TFMODELS_DATA_URL", "").strip()
    return f"{base.rstrip('/')}/{f.path}" if base else f.url


def _download(f: RemoteFile, dest: Path) -> None:
    """One file to ``dest`` via a temporary name, renamed only once its hash matches."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.part")
    url = origin(f)
    h = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, open(tmp, "wb") as out:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                h.update(chunk)
                out.write(chunk)
        digest = h.hexdigest()
        if f.sha256 is None:
            warnings.warn(f"{url}: no pinned checksum for this file; downloaded unchecked "
                          f"(sha256 {digest})", stacklevel=3)
        elif digest != f.sha256:
            raise DataError(f"checksum mismatch for {url}: expected sha256 {f.sha256}, downloaded "
                            f"{digest}; nothing was saved to {dest.parent}")
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def fetch(dataset: str, data_dir=None) -> Path:
    """The folder holding ``dataset``'s files under the data root, downloading any missing.

    Returns ``<root>/<subdir>`` (e.g. ``<root>/tu/MUTAG``). Raises :class:`DataError`
    naming every missing file and the folder to put it in when a download fails, and
    when a root the user named (``data_dir``, ``$TFMODELS_DATA_DIR``) does not exist:
    a typo in a path is not a reason to start a download.
    """
    files = FILES[dataset]
    root = data_root(data_dir)
    if root != Path(DEFAULT_CACHE).expanduser() and not root.is_dir():  # a folder the user named
        raise DataError(f"data folder not found: {root}")
    missing = [f for f in files if not (root / f.path).is_file()]
    for i, f in enumerate(missing):
        try:
            _download(f, root / f.path)
        except (urllib.error.URLError, OSError) as e:  # HTTP errors, refused, timeouts
            left = missing[i:]
            folders = sorted({str((root / m.path).parent) for m in left})
            raise DataError(
                f"cannot download {dataset} ({type(e).__name__}: {getattr(e, 'reason', e)}); "
                f"put {', '.join(Path(m.path).name for m in left)} in {' and '.join(folders)} "
                f"(from {', '.join(origin(m) for m in left)}), or pass data_dir= (CLI: --data-dir) "
                "to a folder that holds them") from None
    return root / Path(files[0].path).parent
