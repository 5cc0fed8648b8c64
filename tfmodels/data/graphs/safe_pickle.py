"""Unpickle data files without running code: only an allowlist of classes may load.

``pickle.load`` imports and calls whatever the file names, so a crafted file runs
arbitrary code. :func:`restricted_load` resolves only the (module, name) pairs in
``allowed`` and raises :class:`UnsafePickleError` for anything else, before importing it.
"""
import io
import pickle

from tfmodels.errors import DataError

# What the Planetoid files reference (checked with pickletools), under the module names
# Python 2, old and new numpy/scipy use for them; ``_codecs.encode`` is how Python 3
# writes bytes (numpy's buffers) at protocol 2, as files made in Planetoid format today are.
PLANETOID_CLASSES = frozenset({
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("scipy.sparse.csr", "csr_matrix"), ("scipy.sparse._csr", "csr_matrix"),
    ("collections", "defaultdict"), ("__builtin__", "list"), ("builtins", "list"),
    ("_codecs", "encode"),
})


class UnsafePickleError(DataError):
    """A pickle referenced a class outside the allowlist."""


def _resolve(module: str, name: str):
    if name == "csr_matrix":  # scipy moved it; the public name is stable
        from scipy.sparse import csr_matrix
        return csr_matrix
    if name == "_reconstruct":
        import numpy as np
        return np.ndarray.__reduce__(np.zeros(0))[0]  # numpy's own _reconstruct
    if name == "list":
        return list
    if module == "_codecs":  # str -> bytes, no other effect
        import codecs
        return codecs.encode
    if module == "collections":
        import collections
        return collections.defaultdict
    import numpy as np
    return getattr(np, name)


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, allowed, source):
        super().__init__(file, encoding="latin1")
        self.allowed, self.source = allowed, source

    def find_class(self, module, name):
        if (module, name) not in self.allowed:
            raise UnsafePickleError(
                f"{self.source}: refusing to load {module}.{name} from a pickle; expected "
                f"only {sorted('.'.join(p) for p in self.allowed)}")
        return _resolve(module, name)


def restricted_load(data: bytes, *, allowed=PLANETOID_CLASSES, source: str = "pickle"):
    """Unpickle ``data`` (Python 2 or 3 protocol) admitting only ``allowed`` classes."""
    try:
        return _RestrictedUnpickler(io.BytesIO(data), allowed, source).load()
    except UnsafePickleError:
        raise
    except Exception as e:  # truncated or corrupt files raise assorted types
        raise DataError(f"{source}: not a readable pickle ({type(e).__name__}: {e})") from e
