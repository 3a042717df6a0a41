"""Partial reads: sequences where only residues of a known set were read, ``X`` elsewhere.

A read file is FASTA.  Each read holds only letters of the declared known set
(e.g. ``KCYM``) and unknown marks (``X``, or ``.``); lowercase is accepted.
Anything else is an error that names the file, the read and the position.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from protlm.errors import KnownSetError, ReadFormatError
from protlm.models.alphabet import AMINO_ACIDS, MASK_TOKEN, UNKNOWN, encode_residues

__all__ = [
    "KnownSetError",
    "ReadFormatError",
    "PartialRead",
    "parse_known",
    "validate_read",
    "iter_reads",
    "read_reads",
    "write_reads",
]


def parse_known(known: str) -> str:
    """Validate a known set and return it in canonical order (that of ``ACDEFGHIKLMNPQRSTVWY``).

    Parameters
    ----------
    known : str
        Letters of the known set, in any order and case (surrounding
        whitespace is ignored), e.g. ``"KCYM"``.

    Returns
    -------
    str
        The letters, upper-case, in alphabet order.

    Raises
    ------
    KnownSetError
        Empty, repeated or non-standard letters, or all 20 letters.

    Examples
    --------
    >>> parse_known("kcym")
    'CKMY'
    >>> try:
    ...     parse_known("KCZ")
    ... except KnownSetError as exc:
    ...     print(exc)
    known set 'KCZ': 'Z' is not a standard residue; use letters of ACDEFGHIKLMNPQRSTVWY
    """
    text = str(known).strip().upper()
    if not text:
        raise KnownSetError(f"known set is empty; use letters of {AMINO_ACIDS}, e.g. KCYM")
    for letter in text:
        if letter not in AMINO_ACIDS:
            raise KnownSetError(f"known set {known!r}: {letter!r} is not a standard residue; use letters of {AMINO_ACIDS}")
    if len(set(text)) != len(text):
        raise KnownSetError(f"known set {known!r} repeats a letter")
    if len(text) == 20:
        raise KnownSetError("known set holds all 20 residues: nothing is left to predict")
    return "".join(a for a in AMINO_ACIDS if a in text)


def validate_read(read: str, known: str, *, read_id: str = "read", path=None, record=None) -> str:
    """Check a read against the known set; return it upper-case with ``.`` turned into ``X``.

    Parameters
    ----------
    read : str
        The read: known letters and ``X`` or ``.`` (any case).
    known : str
        The known set, already canonical (from :func:`parse_known`).
    read_id : str, default "read"
        The read's id, for the error message.
    path : str, optional
        The file the read came from, for the error message.
    record : int, optional
        0-based index of the read in that file (the message shows it 1-based).

    Returns
    -------
    str
        The read, upper-case, with ``X`` for every unknown position.

    Raises
    ------
    ReadFormatError
        Naming the read and the 1-based position of the first bad letter.

    Examples
    --------
    >>> validate_read("xK.c", "KC")
    'XKXC'
    >>> try:
    ...     validate_read("XKA", "KC", read_id="r1", path="reads.fasta", record=0)
    ... except ReadFormatError as exc:
    ...     print(exc)
    reads.fasta: record 1: read 'r1', position 3: 'A' is not in the known set KC (a read holds only known letters and X or .)
    """
    text = read.upper().replace(".", UNKNOWN)
    allowed = set(known) | {UNKNOWN}
    if not text:
        raise ReadFormatError(f"read {read_id!r} is empty", path=path, record=record)
    if not set(text) <= allowed:
        pos = next(i for i, c in enumerate(text) if c not in allowed)
        raise ReadFormatError(
            f"read {read_id!r}, position {pos + 1}: {read[pos]!r} is not in the known set {known} "
            "(a read holds only known letters and X or .)",
            path=path, record=record,
        )
    return text


@dataclass(frozen=True, slots=True)
class PartialRead:
    """One partial read.

    Attributes
    ----------
    id : str
    read : str
        Known letters where read, ``X`` elsewhere.
    description : str
        The FASTA header (id included), or empty.

    Examples
    --------
    >>> r = PartialRead("r1", "XKXXC")
    >>> r.unknown_positions().tolist(), r.tokens().tolist()
    ([0, 2, 3], [20, 8, 20, 20, 1])
    """

    id: str
    read: str
    description: str = ""

    def __len__(self) -> int:
        return len(self.read)

    def unknown_positions(self) -> np.ndarray:
        """0-based positions of the ``X``."""
        return np.flatnonzero(np.frombuffer(self.read.encode("ascii"), dtype=np.uint8) == ord(UNKNOWN))

    def tokens(self) -> np.ndarray:
        """Model tokens: residue index where read, ``MASK_TOKEN`` at an ``X``."""
        idx = encode_residues(self.read)
        return np.where(idx >= 0, idx, MASK_TOKEN)


def iter_reads(source, *, known: str):
    """Stream validated :class:`PartialRead` from a FASTA path or handle.

    Parameters
    ----------
    source : str, os.PathLike or file handle
        FASTA (plain, gzip or bz2).
    known : str
        The known set (validated with :func:`parse_known`).

    Raises
    ------
    ReadFormatError, KnownSetError, FastaFormatError
    """
    from protlm.io import display_name, iter_fasta

    known = parse_known(known)
    name = display_name(source)
    for i, rec in enumerate(iter_fasta(source)):
        yield PartialRead(rec.id, validate_read(rec.sequence, known, read_id=rec.id, path=name, record=i), rec.description)


def read_reads(source, *, known: str) -> list:
    """All reads of a file, validated (see :func:`iter_reads`); duplicate ids are an error.

    Parameters
    ----------
    source : str, os.PathLike or file handle
        FASTA (plain, gzip or bz2).
    known : str
        The known set (validated with :func:`parse_known`).

    Returns
    -------
    list of PartialRead
        In file order.

    Raises
    ------
    ReadFormatError
        A bad read, or an id that appears twice (naming the second record).
    KnownSetError, FastaFormatError
        As from :func:`iter_reads`.
    """
    reads = list(iter_reads(source, known=known))
    seen = set()
    from protlm.io import display_name

    for i, r in enumerate(reads):
        if r.id in seen:
            raise ReadFormatError(f"read id {r.id!r} appears twice; ids must be unique", path=display_name(source), record=i)
        seen.add(r.id)
    return reads


def write_reads(reads, dest) -> None:
    """Write reads as FASTA (one line per sequence), atomically when ``dest`` is a path.

    Parameters
    ----------
    reads : iterable of PartialRead
        The reads; a read's ``description`` is its header, or its id when empty.
    dest : str, os.PathLike or text handle
        Where to write (see :func:`protlm.io.write_fasta`).
    """
    from protlm.io import FastaRecord, write_fasta

    write_fasta((FastaRecord(r.id, r.description or r.id, r.read) for r in reads), dest)
