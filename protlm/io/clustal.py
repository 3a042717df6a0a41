"""Clustal (CLUSTAL W/X/Omega, MUSCLE, PROBCONS ... headers): interleaved blocks.

The consensus lines (starting with whitespace) are skipped; residue counts at
the end of a line are allowed.  Columns are kept as written.
"""

from __future__ import annotations

from protlm.errors import ClustalFormatError
from protlm.io._open import display_name, open_text
from protlm.io._interleaved import assemble_rows
from protlm.io.fasta import _BAD_SEQ_CHAR
from protlm.io.msa import MSA

#: First words of the header line of the Clustal-style formats read here.
_CLUSTAL_HEADS = ("CLUSTAL", "MUSCLE", "PROBCONS", "T-COFFEE", "MSAPROBS", "KALIGN")

__all__ = ["read_clustal"]


def read_clustal(source, *, species_key=None) -> MSA:
    """Read a Clustal alignment.

    Parameters
    ----------
    source : str, os.PathLike, handle or "-"
        Plain, gzip or bz2 (detected from the first bytes).
    species_key : str or callable, optional
        How rows get their species (see :func:`protlm.io.species.species_key`).

    Raises
    ------
    ClustalFormatError
        No Clustal header, a sequence line with no sequence, bad characters,
        a ragged alignment.

    Examples
    --------
    >>> import io
    >>> text = "CLUSTAL W (1.81) multiple sequence alignment\\n\\n\\na  AC-D 3\\nb  ACED 4\\n   ** *\\n\\na  EF\\nb  E-\\n"
    >>> read_clustal(io.StringIO(text)).sequences
    ['AC-DEF', 'ACEDE-']
    """
    name = display_name(source)
    seqs: dict = {}
    first_line: dict = {}
    header_seen = False
    with open_text(source) as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.rstrip("\r\n")
            if not header_seen:
                if not line.strip():
                    continue
                if line.strip().upper().startswith(_CLUSTAL_HEADS):
                    header_seen = True
                    continue
                if "\x00" in line:
                    raise ClustalFormatError("binary data, not a Clustal file", path=name, line=lineno)
                raise ClustalFormatError("expected a CLUSTAL (or MUSCLE/PROBCONS) header line", path=name, line=lineno)
            if not line.strip() or line[0] in " \t":
                continue  # blank or consensus line
            parts = line.split()
            if len(parts) >= 3 and parts[-1].isdigit():
                parts = parts[:-1]
            if len(parts) != 2:
                raise ClustalFormatError(
                    f"expected 'name sequence [count]', found {len(parts)} fields",
                    path=name,
                    record=len(seqs),
                    line=lineno,
                )
            sid, piece = parts
            m = _BAD_SEQ_CHAR.search(piece)
            if m is not None:
                raise ClustalFormatError(
                    f"sequence {sid!r}: character {piece[m.start()]!r} is not a letter, gap or '*'",
                    path=name,
                    record=list(seqs).index(sid) if sid in seqs else len(seqs),
                    line=lineno,
                )
            if sid not in seqs:
                seqs[sid] = []
                first_line[sid] = lineno
            seqs[sid].append(piece)
    if not header_seen:
        raise ClustalFormatError("empty file", path=name)
    if not seqs:
        raise ClustalFormatError("no sequences after the header", path=name)
    ids, rows = assemble_rows(seqs, first_line, error=ClustalFormatError, path=name)
    msa = MSA.from_sequences(rows, ids=ids, descriptions=ids, source=name)
    return msa.with_species(species_key) if species_key is not None else msa
