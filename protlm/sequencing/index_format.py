"""The reference index as data and as a file: :class:`ReferenceIndex`, its ``.npz`` format and its fingerprint.

An index holds every reference sequence as one array of residue codes (the
20 standard residues in :data:`~protlm.models.alphabet.AMINO_ACIDS` order,
:data:`OTHER` for any other letter, :data:`SEPARATOR` between sequences),
their identifiers, descriptions and offsets, the residue frequencies, a
fingerprint of the FASTA it came from, and one decoy per sequence.  This
module reads and writes it (:meth:`ReferenceIndex.save`, :func:`load_index`);
:mod:`protlm.sequencing.index` builds it and finds or caches it for a
reference, and re-exports what is defined here.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from protlm.errors import IndexMismatchError
from protlm.io.atomic import atomic_write
from protlm.models.alphabet import AMINO_ACIDS

__all__ = ["ReferenceIndex", "IndexMismatchError", "OTHER", "SEPARATOR", "DECOY_PREFIX", "load_index", "fingerprint_file"]

#: Code of a residue letter outside the 20 standard ones (X, B, Z, U, O, ``*``).
OTHER = 20
#: Code placed between (and around) reference sequences.
SEPARATOR = 21

INDEX_FORMAT = "protlm-reference-index"
INDEX_VERSION = 2
#: Prefix of a decoy's identifier.
DECOY_PREFIX = "decoy_"
_HEAD_BYTES = 1 << 20


def fingerprint_file(path) -> dict:
    """What identifies a reference file's content cheaply.

    Size, modification time (ns) and the SHA-256 of the first MiB: any edit,
    replacement or touch of the file changes it.

    Parameters
    ----------
    path : str or os.PathLike
        The reference file.

    Returns
    -------
    dict
        ``size`` (bytes), ``mtime_ns`` and ``head_sha256`` (hex digest).

    Raises
    ------
    OSError
        If the file cannot be read (e.g. :class:`FileNotFoundError`).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "r.fasta")
    >>> _ = open(p, "w").write(">a\\nKCYM\\n")
    >>> sorted(fingerprint_file(p))
    ['head_sha256', 'mtime_ns', 'size']
    """
    st = os.stat(path)
    with open(path, "rb") as fh:
        head = hashlib.sha256(fh.read(_HEAD_BYTES)).hexdigest()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "head_sha256": head}


@dataclass(frozen=True, eq=False)
class ReferenceIndex:
    """Reference sequences in one residue-code array, with identifiers and offsets.

    Attributes
    ----------
    ids, descriptions : tuple of str
        Identifier and full header of each reference sequence.
    starts, lengths : numpy.ndarray
        Offset in :attr:`residues` and length of each sequence (int64).
    residues : numpy.ndarray
        uint8 codes: 0-19 residues, :data:`OTHER`, :data:`SEPARATOR`.
    frequencies : numpy.ndarray
        Frequency of each of the 20 residues over the reference (float64).
    source : str
        The FASTA the index was built from.
    fingerprint : dict or None
        :func:`fingerprint_file` of ``source`` at build time (None for a handle).
    decoy_residues : numpy.ndarray or None
        The decoys, laid out as :attr:`residues` (same starts and lengths).
    decoy_method : str or None
        One of :data:`DECOY_METHODS` (None: no decoys).
    """

    ids: tuple
    descriptions: tuple
    starts: np.ndarray
    lengths: np.ndarray
    residues: np.ndarray
    frequencies: np.ndarray
    source: str
    fingerprint: dict | None
    decoy_residues: np.ndarray | None = field(default=None, repr=False)
    decoy_method: str | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def decoys(self) -> "ReferenceIndex":
        """The decoy sequences as an index of their own (ids prefixed with :data:`DECOY_PREFIX`).

        Raises
        ------
        IndexMismatchError
            When the index was built without decoys.
        """
        if self.decoy_residues is None:
            raise IndexMismatchError(f"{self.source}: index built without decoys; rebuild it with `protlm index`")
        if "decoys" not in self._cache:
            decoys = ReferenceIndex(ids=tuple(DECOY_PREFIX + i for i in self.ids), descriptions=self.descriptions,
                                    starts=self.starts, lengths=self.lengths, residues=self.decoy_residues,
                                    frequencies=self.frequencies, source=f"{self.source} ({self.decoy_method} decoys)",
                                    fingerprint=self.fingerprint)
            if self.path is not None:  # seed tables of the decoys are cached beside the index too
                decoys._cache["path"] = self.path.with_name(self.path.name + ".decoys")
            self._cache["decoys"] = decoys
        return self._cache["decoys"]

    @property
    def n_sequences(self) -> int:
        """Number of reference sequences."""
        return len(self.ids)

    @property
    def n_residues(self) -> int:
        """Residues in all sequences (separators not counted)."""
        return int(self.lengths.sum())

    def __len__(self) -> int:
        return self.n_sequences

    def __repr__(self) -> str:
        return f"ReferenceIndex({self.n_sequences} sequences, {self.n_residues} residues, source={self.source!r})"

    def sequence(self, i: int) -> str:
        """The residues of sequence ``i`` as a string (``X`` for non-standard letters)."""
        s, n = int(self.starts[i]), int(self.lengths[i])
        return "".join((AMINO_ACIDS + "X")[c] for c in self.residues[s : s + n].tolist())

    def sequence_of(self, positions) -> np.ndarray:
        """Index of the sequence holding each position of :attr:`residues`."""
        return np.searchsorted(self.starts, positions, side="right") - 1

    def matches(self, reference) -> bool:
        """Whether this index still describes the FASTA file ``reference``."""
        if self.fingerprint is None:
            return False
        try:
            return fingerprint_file(reference) == self.fingerprint
        except OSError:
            return False

    def save(self, path) -> Path:
        """Write the index to ``path`` (an uncompressed ``.npz``), atomically."""
        path = Path(path)
        meta = {
            "format": INDEX_FORMAT,
            "version": INDEX_VERSION,
            "source": self.source,
            "fingerprint": self.fingerprint,
            "decoy_method": self.decoy_method,
        }
        with atomic_write(path, "wb") as fh:
            np.savez(
                fh,
                meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                ids=np.frombuffer("\n".join(self.ids).encode(), dtype=np.uint8),
                descriptions=np.frombuffer("\n".join(self.descriptions).encode(), dtype=np.uint8),
                starts=self.starts,
                lengths=self.lengths,
                residues=self.residues,
                frequencies=self.frequencies,
                **({} if self.decoy_residues is None else {"decoy_residues": self.decoy_residues}),
            )
        self._cache["path"] = path
        self._cache.pop("decoys", None)
        return path

    @property
    def path(self) -> Path | None:
        """The index file this index was loaded from or saved to (None if only in memory)."""
        return self._cache.get("path")


def _split_lines(arr: np.ndarray, n: int) -> tuple:
    if n == 0:
        return ()
    return tuple(arr.tobytes().decode().split("\n"))


def load_index(path, *, reference=None) -> ReferenceIndex:
    """Read an index written by :meth:`ReferenceIndex.save`.

    Parameters
    ----------
    path : str or os.PathLike
        The index file.
    reference : str or os.PathLike, optional
        When given, the index must have been built from this file as it is
        now (same fingerprint).

    Raises
    ------
    IndexMismatchError
        Not a protlm index, another format version, or built from another
        (or a since-modified) reference.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode())
            if meta.get("format") != INDEX_FORMAT:
                raise KeyError("format")
            arrays = {k: z[k] for k in ("ids", "descriptions", "starts", "lengths", "residues", "frequencies")}
            decoy_residues = z["decoy_residues"] if "decoy_residues" in z.files else None
    except FileNotFoundError:
        raise IndexMismatchError(f"{path}: index file does not exist") from None
    except (OSError, ValueError, KeyError, json.JSONDecodeError):
        raise IndexMismatchError(f"{path}: not a protlm reference index (build one with `protlm index REF -o INDEX`)") from None
    if meta.get("version") != INDEX_VERSION:
        raise IndexMismatchError(
            f"{path}: index format version {meta.get('version')}, this protlm reads {INDEX_VERSION}; rebuild it with `protlm index`"
        )
    n = len(arrays["starts"])
    index = ReferenceIndex(
        ids=_split_lines(arrays["ids"], n),
        descriptions=_split_lines(arrays["descriptions"], n),
        starts=arrays["starts"],
        lengths=arrays["lengths"],
        residues=arrays["residues"],
        frequencies=arrays["frequencies"],
        source=meta["source"],
        fingerprint=meta["fingerprint"],
        decoy_residues=decoy_residues,
        decoy_method=meta.get("decoy_method") if decoy_residues is not None else None,
    )
    index._cache["path"] = path
    if reference is not None and not index.matches(reference):
        raise IndexMismatchError(
            f"{path}: built from {index.source}, which does not match {os.fspath(reference)} as it is now "
            "(file changed since); rebuild with `protlm index`"
        )
    return index


def _is_index_file(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            if fh.read(4) != b"PK\x03\x04":
                return False
        with np.load(path, allow_pickle=False) as z:
            return "meta" in z.files and "residues" in z.files
    except (OSError, ValueError):
        return False
