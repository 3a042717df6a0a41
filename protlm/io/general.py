"""Format detection and :func:`read_msa`: the one entry point above the format readers.

As in biotite's ``general`` module, this sits above :mod:`protlm.io.fasta`,
:mod:`protlm.io.a3m`, :mod:`protlm.io.stockholm` and :mod:`protlm.io.clustal`
(each of which builds :class:`~protlm.io.msa.MSA` objects), so the format
modules never import one another or this module.
"""

from __future__ import annotations

import os

import numpy as np

from protlm.errors import FormatError
from protlm.io.clustal import _CLUSTAL_HEADS
from protlm.io.msa import _DELETE_INSERTIONS, MSA, _is_lower

__all__ = ["detect_format", "read_msa", "MSA_FORMATS"]

MSA_FORMATS = ("auto", "fasta", "a3m", "stockholm", "clustal")

_EXT = {
    ".a3m": "a3m",
    ".sto": "stockholm",
    ".sth": "stockholm",
    ".stk": "stockholm",
    ".stockholm": "stockholm",
    ".aln": "clustal",
    ".clustal": "clustal",
    ".clw": "clustal",
}
_SNIFF_CHARS = 1 << 20


def _sniff_text(text: str, name: str, *, complete: bool = True) -> str:
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise FormatError("empty file", path=name)
    first = stripped.split("\n", 1)[0].strip()
    if first.startswith("# STOCKHOLM"):
        return "stockholm"
    if first.upper().startswith(_CLUSTAL_HEADS):
        return "clustal"
    if first.startswith("#"):
        return "a3m"  # ColabFold '#len\tcard' header
    if not first.startswith(">"):
        if "\x00" in text[:4096]:
            raise FormatError("binary data, not a sequence file", path=name)
        raise FormatError(
            "unknown format: expected '>' (FASTA/A3M), '# STOCKHOLM' or a CLUSTAL header on the first line",
            path=name,
            line=1,
        )
    # FASTA-like: insertions (lowercase or '.') in rows of unequal length mean A3M,
    # if the rows have equal numbers of match columns (else: unaligned FASTA with lowercase).
    lengths, matches, lower = set(), set(), False
    recs = stripped[1:].split("\n>")
    if not complete and len(recs) > 1:
        recs = recs[:-1]  # the last one may be cut
    for rec in recs:
        body = rec.split("\n", 1)
        if len(body) < 2 or body[0].startswith(("ss_", "sa_")):
            continue
        seq = "".join(body[1].split())
        lengths.add(len(seq))
        matches.add(len(seq.translate(_DELETE_INSERTIONS)))
        if not lower and (seq != seq.upper() or "." in seq):
            lower = True
    if lower and len(lengths) > 1 and len(matches) == 1:
        return "a3m"
    return "fasta"


def detect_format(source) -> str:
    """Detect ``"fasta"``, ``"a3m"``, ``"stockholm"`` or ``"clustal"`` from the content.

    Parameters
    ----------
    source : str, os.PathLike, handle or "-"
        Plain, gzip or bz2 (detected from the first bytes).

    Stockholm and Clustal are recognised by their first line, A3M by a
    leading ``#`` line or by lowercase/``.`` insertions in rows of different
    lengths; otherwise ``>`` files are FASTA, unless the name ends in ``.a3m``
    (an A3M without insertions is also valid aligned FASTA).  Only the first
    MiB is read.

    Raises
    ------
    FormatError
        Empty file, binary data, or a first line no format starts with.

    Examples
    --------
    >>> import io
    >>> detect_format(io.StringIO(">q\\nACD\\n>h\\nAcCD\\n"))
    'a3m'
    >>> detect_format(io.StringIO("# STOCKHOLM 1.0\\n//\\n"))
    'stockholm'
    """
    from protlm.io._open import display_name, open_text

    name = display_name(source)
    seekable_handle = not isinstance(source, (str, os.PathLike)) and hasattr(source, "seek") and source.seekable()
    pos = source.tell() if seekable_handle else None
    with open_text(source) as fh:
        text = fh.read(_SNIFF_CHARS)
    if seekable_handle:
        source.seek(pos)
    fmt = _sniff_text(text, name, complete=len(text) < _SNIFF_CHARS)
    if fmt == "fasta" and isinstance(source, (str, os.PathLike)):
        ext = os.path.splitext(os.fspath(source).removesuffix(".gz").removesuffix(".bz2"))[1].lower()
        if _EXT.get(ext) == "a3m":
            return "a3m"
    return fmt


def read_msa(source, *, format: str = "auto", keep_insertions: bool = False, species_key=None) -> MSA:
    """Read an alignment in any supported format.

    Parameters
    ----------
    source : str, os.PathLike or handle
        Plain, gzip or bz2.  With ``format="auto"``, stdin (``"-"``) and
        one-pass handles are read into memory first (the format is sniffed,
        then the text parsed).
    format : {"auto", "fasta", "a3m", "stockholm", "clustal"}
    keep_insertions : bool
        Keep A3M/Stockholm insert columns (lowercase, ``.`` padding).
    species_key : str or callable, optional
        Compute per-row species keys (see :func:`protlm.io.species.species_key`).

    Returns
    -------
    MSA
        For Stockholm, the first alignment of the file.

    Raises
    ------
    FormatError
        On malformed input, naming file, record and line.

    Examples
    --------
    >>> import io
    >>> read_msa(io.StringIO(">q\\nAC-D\\n>h OX=9606\\nACcDE\\n"), species_key="auto").species
    (None, '9606')
    """
    if format not in MSA_FORMATS:
        raise ValueError(f"format must be one of {', '.join(MSA_FORMATS)}, not {format!r}")
    if format == "auto":
        source = _seekable(source)
        format = detect_format(source)
    if format == "a3m":
        from protlm.io.a3m import read_a3m

        return read_a3m(source, keep_insertions=keep_insertions, species_key=species_key)
    if format == "stockholm":
        from protlm.io.stockholm import read_stockholm

        return read_stockholm(source, keep_insertions=keep_insertions, species_key=species_key)
    if format == "clustal":
        from protlm.io.clustal import read_clustal

        return read_clustal(source, species_key=species_key)
    msa = _read_aligned_fasta(source)
    if not keep_insertions and (msa.has_insertions or _needs_normalising(msa.array)):
        msa = msa.drop_insertions()
    return msa.with_species(species_key) if species_key is not None else msa


def _seekable(source):
    """Stdin or a one-pass handle, read into memory so that it can be sniffed and then parsed."""
    import io

    if isinstance(source, (str, os.PathLike)):
        if os.fspath(source) != "-":
            return source
        import sys

        buf = io.BytesIO(sys.stdin.buffer.read())
        buf.name = "<stdin>"
        return buf
    if hasattr(source, "seekable") and source.seekable():
        return source
    data = source.read()
    return io.BytesIO(data) if isinstance(data, bytes) else io.StringIO(data)


def _read_aligned_fasta(source) -> MSA:
    from protlm.errors import FastaFormatError
    from protlm.io._open import display_name
    from protlm.io.fasta import FastaRecord, _parse

    width = None

    def make(header, seq):
        nonlocal width
        if width is None:
            width = len(seq)
        elif len(seq) != width:
            raise FastaFormatError(
                f"ragged alignment: {len(seq)} columns, the first record has {width} (unaligned FASTA? use read_fasta)"
            )
        sp = header.split(None, 1)
        return FastaRecord(sp[0] if sp else "", header, seq)

    records = list(_parse(source, make=make))
    if not records:
        raise FastaFormatError("no sequences", path=display_name(source))
    return MSA.from_records(records, source=display_name(source))


def _needs_normalising(arr: np.ndarray) -> bool:
    return bool((arr == 46).any() or _is_lower(arr).any())

