"""A3M (HHblits, ColabFold, AlphaFold/OpenFold MSAs).

A3M rows are aligned to the first row's match columns: uppercase letters and
``-`` are match columns, lowercase letters are insertions (``.`` and ``*`` are
tolerated and treated like insertions).  Every row must have the same number
of match columns.  ColabFold's first line ``#len1,len2\\tcard1,card2`` is kept
in ``MSA.annotations["header"]``; HH-suite annotation rows (``>ss_dssp``,
``>ss_pred``, ``>ss_conf``, ``>sa_dssp``, ``>Consensus``, ``>NAME_consensus``)
are not sequences and are skipped, whatever they hold (``ss_conf`` digits)
and however their lines are wrapped.
"""

from __future__ import annotations

import re
from typing import Iterator

from protlm.errors import A3MFormatError
from protlm.io._open import display_name
from protlm.io.fasta import FastaRecord, _parse
from protlm.io.msa import _DELETE_INSERTIONS, MSA

__all__ = ["iter_a3m", "read_a3m", "write_a3m", "is_annotation_row"]

_MATCH_CHAR = re.compile(r"[A-Z\-]")
_ANNOTATION_IDS = ("ss_dssp", "ss_pred", "ss_conf", "sa_dssp", "Consensus")


def is_annotation_row(record_id: str) -> bool:
    """True for HH-suite annotation rows (``ss_dssp``, ``ss_pred``, ..., ``hhconsensus``'s ``NAME_consensus``), which are not sequences.

    Parameters
    ----------
    record_id : str
        The row's identifier.

    Examples
    --------
    >>> is_annotation_row("ss_pred"), is_annotation_row("1abc_A_consensus"), is_annotation_row("sp|P1|X")
    (True, True, False)
    """
    return record_id in _ANNOTATION_IDS or record_id.startswith(("ss_", "sa_")) or record_id.endswith("_consensus")


def _is_annotation_header(header: str) -> bool:
    sp = header.split(None, 1)
    return is_annotation_row(sp[0] if sp else "")


def _iter_a3m_records(source, *, keep_insertions: bool, preamble=None):
    n_match = None

    def make(header, seq):
        nonlocal n_match
        sp = header.split(None, 1)
        rid = sp[0] if sp else ""
        if is_annotation_row(rid):
            return None
        match = seq.translate(_DELETE_INSERTIONS)
        if n_match is None:
            n_match = len(match)
            if n_match == 0:
                raise A3MFormatError("the first row has no match columns (all lowercase)")
        elif len(match) != n_match:
            raise A3MFormatError(
                f"row {rid!r} has {len(match)} match columns (uppercase letters and '-'), expected {n_match} as in the first row"
            )
        return FastaRecord(rid, header, seq if keep_insertions else match)

    return _parse(source, make=make, error=A3MFormatError, preamble=preamble, unchecked=_is_annotation_header)


def iter_a3m(source, *, keep_insertions: bool = True) -> Iterator[FastaRecord]:
    """Stream A3M rows.

    Parameters
    ----------
    source : str, os.PathLike, handle or ``"-"``
    keep_insertions : bool
        ``True`` yields rows as written (lowercase insertions included);
        ``False`` yields match columns only.

    Raises
    ------
    A3MFormatError
        A row whose number of match columns differs from the first row's, or
        any FASTA-level error.

    Examples
    --------
    >>> import io
    >>> text = "#5\\t1\\n>q\\nACDEF\\n>ss_pred\\nCCHHC\\n>h\\nAC-kkEF\\n"
    >>> [r.sequence for r in iter_a3m(io.StringIO(text), keep_insertions=False)]
    ['ACDEF', 'AC-EF']
    """
    return _iter_a3m_records(source, keep_insertions=keep_insertions)


def _expand_insertions(rows: list) -> list:
    """A2M-style expansion: every insertion slot padded with '.' to its widest row."""
    segs = [_MATCH_CHAR.split(r.replace(".", "")) for r in rows]
    matches = [_MATCH_CHAR.findall(r) for r in rows]
    n_slots = len(segs[0]) if segs else 0
    widths = [max(len(s[i]) for s in segs) for i in range(n_slots)]
    out = []
    for s, m in zip(segs, matches):
        parts = []
        for i, w in enumerate(widths):
            if w:
                parts.append(s[i].ljust(w, "."))
            if i < len(m):
                parts.append(m[i])
        out.append("".join(parts))
    return out


def read_a3m(source, *, keep_insertions: bool = False, species_key=None) -> MSA:
    """Read an A3M file into an :class:`~protlm.io.msa.MSA`.

    Parameters
    ----------
    source : str, os.PathLike, handle or ``"-"``
    keep_insertions : bool
        ``False`` (default): match columns only.  ``True``: insert columns are
        added A2M style (lowercase letters, ``.`` padding).
    species_key : str or callable, optional
        See :func:`protlm.io.species.species_key`.

    Examples
    --------
    >>> import io
    >>> text = ">q\\nACDEF\\n>h\\nAC-kkEF\\n"
    >>> read_a3m(io.StringIO(text)).sequences
    ['ACDEF', 'AC-EF']
    >>> read_a3m(io.StringIO(text), keep_insertions=True).sequences
    ['ACD..EF', 'AC-kkEF']
    """
    name = display_name(source)
    preamble: list = []
    records = list(_iter_a3m_records(source, keep_insertions=keep_insertions, preamble=preamble))
    if not records:
        raise A3MFormatError("no sequences", path=name)
    annotations = {"header": preamble[0]} if preamble else {}
    if keep_insertions:
        rows = _expand_insertions([r.sequence for r in records])
        records = [FastaRecord(r.id, r.description, s) for r, s in zip(records, rows)]
    return MSA.from_records(records, species_key=species_key, annotations=annotations, source=name)


def write_a3m(msa_or_records, dest, *, header: str | None = None) -> int:
    """Write A3M.

    Parameters
    ----------
    msa_or_records : MSA or iterable of FastaRecord
        An MSA is written without its ``.`` padding, so an MSA read with
        ``keep_insertions=True`` round-trips exactly.
    dest : str, os.PathLike or text handle
        A path is written atomically.
    header : str, optional
        First line, e.g. ColabFold's ``"#len1,len2\\tcard1,card2"`` (``#`` added
        if missing).  Defaults to the MSA's ``annotations["header"]``.

    Returns
    -------
    int
        Rows written.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> write_a3m(read_a3m(io.StringIO(">q\\nACD\\n>h\\nAcCD\\n"), keep_insertions=True), out, header="3\\t1")
    2
    >>> out.getvalue().splitlines()
    ['#3\\t1', '>q', 'ACD', '>h', 'AcCD']
    """
    from protlm.io._write import write_rows

    if isinstance(msa_or_records, MSA):
        return msa_or_records.write(dest, format="a3m", header=header)
    return write_rows(((r.description, r.sequence) for r in msa_or_records), dest, header=header)
