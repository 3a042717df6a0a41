"""Exception hierarchy of protlm.

Every error that protlm raises on bad input or a bad environment derives from
:class:`ProtlmError` and from the builtin that best describes it, so callers can
catch either.  The CLI turns a :class:`ProtlmError` into one line on stderr and
exit status 2.
"""

from __future__ import annotations

import os

__all__ = [
    "ProtlmError",
    "FormatError",
    "FastaFormatError",
    "A3MFormatError",
    "StockholmFormatError",
    "ClustalFormatError",
    "UniRefFormatError",
    "TaxonomyFormatError",
    "AlphabetError",
    "SpeciesKeyError",
    "PairingInputError",
    "WeightsNotFoundError",
    "OutputExistsError",
    "ModelLimitError",
    "SearchError",
    "ToolNotFoundError",
    "OutputError",
    "DeviceError",
    "KnownSetError",
    "ReadFormatError",
    "TruthError",
    "IndexMismatchError",
    "ReferenceNotFoundError",
    "DiffPaSSMissingError",
    "ChunkError",
]


class ProtlmError(Exception):
    """Base class of all protlm errors."""


class FormatError(ProtlmError, ValueError):
    """Malformed input file.

    Parameters
    ----------
    message : str
        What is wrong, and what was expected.
    path : str or os.PathLike, optional
        The file (``"<stdin>"`` or ``"<handle>"`` when it has no name).
    record : int, optional
        0-based index of the record that failed (shown 1-based).
    line : int, optional
        1-based line number.

    Examples
    --------
    >>> str(FormatError("sequence line before any header", path="x.fasta", record=0, line=3))
    'x.fasta: record 1, line 3: sequence line before any header'
    """

    format_name = "input"

    def __init__(self, message, *, path=None, record=None, line=None):
        self.message = message
        self.path = os.fspath(path) if path is not None else None
        self.record = record
        self.line = line
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.record is not None:
            where.append(f"record {self.record + 1}")
        if self.line is not None:
            where.append(f"line {self.line}")
        head = self.path or f"<{self.format_name}>"
        if where:
            head += ": " + ", ".join(where)
        return f"{head}: {self.message}"


class FastaFormatError(FormatError):
    format_name = "fasta"


class A3MFormatError(FormatError):
    format_name = "a3m"


class StockholmFormatError(FormatError):
    format_name = "stockholm"


class ClustalFormatError(FormatError):
    format_name = "clustal"


class UniRefFormatError(FormatError):
    format_name = "uniref"


class TaxonomyFormatError(FormatError):
    """A taxonomy source (``--taxonomy``) that is none of the formats protlm reads, or a malformed line of one."""

    format_name = "taxonomy"


class AlphabetError(FormatError):
    """A letter that the target alphabet (e.g. a fair-esm model) cannot take."""

    format_name = "alphabet"


class SpeciesKeyError(ProtlmError, ValueError):
    """A species key specification that cannot be parsed or applied."""


class PairingInputError(ProtlmError, ValueError):
    """Two families that cannot be paired (no common species, sizes, ...)."""


class ModelLimitError(ProtlmError, ValueError):
    """Input larger than a model can take (rows, columns, memory)."""


class SearchError(ProtlmError, ValueError):
    """A sequence search that cannot run as asked (options, query) or whose engine failed."""


class ToolNotFoundError(ProtlmError, FileNotFoundError):
    """An external program that the chosen option needs is not installed (the message says how to get it)."""


class OutputError(ProtlmError, OSError):
    """An output that cannot be written where asked (a file where a folder is wanted, no write permission)."""


class OutputExistsError(OutputError, FileExistsError):
    """An output already exists and ``overwrite`` was not requested."""


class DeviceError(ProtlmError, ValueError):
    """A device or precision name that is invalid or not available on this machine."""


class KnownSetError(ProtlmError, ValueError):
    """A known set that is not a set of standard residue letters."""


class ReadFormatError(FormatError):
    """A partial read with a letter outside the known set."""

    format_name = "reads"


class TruthError(ProtlmError, ValueError):
    """A truth file that does not match the reads (missing id, other length, changed read letter)."""


class IndexMismatchError(ProtlmError, ValueError):
    """An index file that is not a protlm index, or was built from another reference."""


class ReferenceNotFoundError(ProtlmError, FileNotFoundError):
    """A reference proteome (FASTA or index) that does not exist."""


class ChunkError(ProtlmError, ValueError):
    """Chunk scores (``protlm sequence --chunk`` / ``--gather``) that are not chunks 1..N of these reads."""


class DiffPaSSMissingError(ProtlmError, ImportError):
    """``--method diffpass`` without the optional ``diffpass`` package installed."""


class WeightsNotFoundError(ProtlmError, FileNotFoundError):
    """Model weights could not be found.

    The message lists every place searched and how to obtain the weights.
    """
