"""Turn files and text into model inputs on the device: .npy arrays, images, text.

Images (PNG, JPEG, BMP, GIF; needs Pillow) are converted to the input's channels
(1: grayscale, 3: RGB), resized to its height and width and scaled to [0, 1] — the
range the tfmodels image datasets use. Text is encoded with the vocabulary JSON that
tfmodels saves beside a model (``vocab.json``: ``char_vocab`` or ``word_vocab``, id 0
padding, word id 1 out-of-vocabulary), the same ids as in training.

An image's size is read from its header and checked against a pixel limit
(:data:`DEFAULT_MAX_PIXELS`, ``max_pixels=`` or ``$TFMODELS_EDGE_MAX_PIXELS``) before
any pixel is decoded: a 140 KB PNG can claim 144 Mpx and cost gigabytes once decoded.
"""

from __future__ import annotations

import io
import json
import os
import re
import warnings
import zipfile
from pathlib import Path

import numpy as np

from .errors import InputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
PAD, OOV = "<pad>", "<oov>"
_WORD = re.compile(r"[a-z0-9']+|[^\sa-z0-9']")  # tfmodels.data.text.words
DEFAULT_MAX_PIXELS = 25_000_000  # a 5000 x 5000 photo; decoded RGB that is 75 MB
PIXELS_ENV = "TFMODELS_EDGE_MAX_PIXELS"


def max_pixels_limit(max_pixels: int | None = None) -> int:
    """The pixel limit: the argument, else ``$TFMODELS_EDGE_MAX_PIXELS``, else the default."""
    if max_pixels is None:
        raw = os.environ.get(PIXELS_ENV, "").strip()
        if not raw:
            return DEFAULT_MAX_PIXELS
        try:
            max_pixels = int(raw)
        except ValueError:
            raise InputError(f"{PIXELS_ENV} must be a whole number of pixels, given {raw!r}") from None
    if max_pixels < 1:
        raise InputError(f"the pixel limit must be at least 1, given {max_pixels}")
    return max_pixels


def _pillow():
    """Pillow's Image module, or an ImportError that says how to get it."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("reading images needs Pillow: pip install pillow (or pass a .npy array)") from None
    return Image


def open_image(source, max_pixels: int | None = None):
    """A Pillow image opened lazily from a path or file object, its size checked against
    the pixel limit before anything is decoded (:func:`max_pixels_limit`)."""
    Image = _pillow()
    limit = max_pixels_limit(max_pixels)
    name = getattr(source, "name", source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit decides
            img = Image.open(source)
    except Image.DecompressionBombError as e:  # Pillow's own last resort, far above our limit
        raise InputError(f"image {name} is too large to decode: {e}") from None
    except OSError as e:
        raise InputError(f"cannot read image {name}: {e}") from None
    width, height = img.size
    if width * height > limit:
        img.close()
        raise InputError(f"image {name} is {width} x {height} = {width * height:,} pixels, over the limit of "
                         f"{limit:,} (max_pixels=, ${PIXELS_ENV}); it was not decoded")
    return img


def load_array(path: str | Path, detail: dict, max_pixels: int | None = None) -> np.ndarray:
    """A .npy file as is, or an image file fitted to the input tensor ``detail``."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input file not found: {path}")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return load_image(path, detail, max_pixels)
    if path.suffix.lower() != ".npy":
        raise InputError(f"unsupported input file {path.name!r}: expected .npy or an image "
                         f"({', '.join(IMAGE_SUFFIXES)})")
    return np.load(path, allow_pickle=False)  # never unpickle a file someone sent


def load_image(path: Path, detail: dict, max_pixels: int | None = None) -> np.ndarray:
    """(1, H, W, C) float32 in [0, 1] for an NHWC image input."""
    shape = [int(n) for n in detail.get("shape_signature", detail["shape"])]
    if len(shape) != 4 or shape[3] not in (1, 3) or min(shape[1:3]) < 1:
        raise InputError(f"{path.name} is an image but the model's input has shape {shape}, "
                         "not (batch, height, width, 1 or 3)")
    height, width, channels = shape[1:]
    Image = _pillow()
    try:
        with open_image(path, max_pixels) as img:
            img = img.convert("L" if channels == 1 else "RGB").resize((width, height), Image.BILINEAR)
            pixels = np.asarray(img, np.float32) / 255.0
    except (OSError, SyntaxError, ValueError) as e:  # Pillow's ways of saying "damaged file"
        raise InputError(f"cannot read image {path}: {e}") from None
    return pixels.reshape(1, height, width, channels)


def load_labels(path: str | Path) -> list[str]:
    """Class names, one per line (the ``labels.txt`` tfmodels exports beside a model)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read class names from {path}: {e}") from None
    return parse_labels(text, str(path))


MAX_EMBEDDED_BYTES = 16 * 2**20  # an embedded labels or vocabulary file larger than this is refused


def embedded_files(content: bytes) -> dict[str, int]:
    """Files a .tflite carries in its metadata archive (TFLite model metadata: a zip after
    the flatbuffer), name -> size; empty when it has none."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return {info.filename: info.file_size for info in archive.infolist()}
    except Exception:  # noqa: BLE001  (a damaged archive raises many types: it then holds nothing)
        return {}


def embedded_file(content: bytes, name: str) -> bytes | None:
    """One embedded file's bytes (None when absent), read only under MAX_EMBEDDED_BYTES."""
    size = embedded_files(content).get(name)
    if size is None:
        return None
    if size > MAX_EMBEDDED_BYTES:
        raise InputError(f"the model's embedded {name} claims {size:,} bytes, over {MAX_EMBEDDED_BYTES:,}")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            data = archive.read(name)
    except Exception as e:  # noqa: BLE001  (CRC errors, unknown compression, truncation, ...)
        raise InputError(f"the model's embedded {name} is damaged: {type(e).__name__}: {e}") from None
    return data[:MAX_EMBEDDED_BYTES]


def parse_labels(text: str | bytes, where: str) -> list[str]:
    """Class names, one per line, from a labels file's text (or its UTF-8 bytes)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InputError(f"{where} is not UTF-8 ({e})") from None
    lines = text.splitlines()
    if not lines or any(not line.strip() for line in lines):
        raise InputError(f"{where} must hold one class name per line, none empty")
    return lines


def load_vocab(path: str | Path) -> dict:
    """A tfmodels vocabulary JSON as ``{"kind", "tokens"}`` (tokens indexed by id)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read a vocabulary from {path}: {e}") from None
    return parse_vocab(text, str(path))


def parse_vocab(text: str | bytes, where: str) -> dict:
    """:func:`load_vocab` of a vocabulary's text (e.g. the one embedded in a model)."""
    try:
        data = json.loads(text)
    except ValueError as e:
        raise InputError(f"cannot read a vocabulary from {where}: {e}") from None
    path = where
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind == "char_vocab":
        return {"kind": kind, "tokens": [PAD, *data.get("specials", []), *data["chars"]],
                "specials": 1 + len(data.get("specials", []))}
    if kind in ("word_vocab", "vocab"):
        return {"kind": kind, "tokens": list(data["tokens"]), "specials": 2 if kind == "word_vocab" else 1}
    raise InputError(f"{path} is not a tfmodels vocabulary (kind char_vocab or word_vocab), given kind={kind!r}")


def encode_text(text: str, vocab: dict, length: int) -> tuple[np.ndarray, int]:
    """(1, length) int32 ids and how many are real (the rest is padding 0 at the end).

    Longer texts keep their first ``length`` words (classifiers, as in training) or their
    last ``length`` characters (the context a character LM continues from).
    """
    index = {t: i for i, t in enumerate(vocab["tokens"])}
    if vocab["kind"] == "char_vocab":
        unknown = sorted({c for c in text if c not in index})
        if unknown:
            raise InputError(f"characters {unknown} are not in the model's vocabulary")
        ids = [index[c] for c in text][-length:]
    else:
        ids = [index.get(w, 1) for w in _WORD.findall(text.lower())][:length]
    if not ids:
        raise InputError("the text has no tokens")
    out = np.zeros((1, length), np.int32)
    out[0, : len(ids)] = ids
    return out, len(ids)


def decode(ids, vocab: dict) -> list[str]:
    return [vocab["tokens"][i] if 0 <= i < len(vocab["tokens"]) else f"<{i}>" for i in np.ravel(ids).tolist()]
