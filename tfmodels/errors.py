"""Errors a user can cause, each saying what was expected and what was given."""
import difflib


class TfmodelsError(ValueError):
    """Base class: the CLI prints these as one line and exits non-zero."""


class UnknownNameError(TfmodelsError, KeyError):
    """A model, dataset, strategy or mode name that is not registered."""

    def __init__(self, kind: str, name: str, valid):
        valid = sorted(valid)
        close = difflib.get_close_matches(str(name), valid, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        super().__init__(
            f"unknown {kind} {name!r}.{hint} Valid {kind}s: {', '.join(valid)}"
        )
        self.name, self.valid = name, valid

    def __str__(self):  # KeyError would otherwise quote the message
        return self.args[0]


class DataError(TfmodelsError):
    """A data file that is missing, truncated or not in the expected format."""
