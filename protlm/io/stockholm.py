"""Stockholm (Pfam, HMMER, jackhmmer): several alignments per file, interleaved blocks.

Per-file (``#=GF``), per-sequence (``#=GS``, ``#=GR``) and per-column
(``#=GC``) annotations are kept in ``MSA.annotations``; a ``#=GS name DE``
line also becomes the row's description (``"name DE-text"``), so species keys
such as UniRef's ``TaxID=`` work on jackhmmer output.

Match columns: with ``keep_insertions=False`` (default) and a ``#=GC RF``
line, the columns whose RF character is not ``.``/``-`` are kept (HMMER's
match states); without RF, columns holding only lowercase letters and ``.``
are insert columns and are dropped.  Kept columns have ``.`` turned into ``-``
and letters uppercased.
"""

from __future__ import annotations

import types
from typing import Iterator

from protlm.errors import StockholmFormatError
from protlm.io._open import display_name, open_text
from protlm.io._interleaved import assemble_rows
from protlm.io.msa import MSA

__all__ = ["iter_stockholm", "read_stockholm"]


def _markup(line: str, tag: str) -> bool:
    """``line`` is ``tag`` markup: the tag followed by whitespace (``#=GR_x ...`` is a comment, as in Biopython)."""
    return line.startswith(tag) and line[len(tag) : len(tag) + 1].isspace()


def _build(name, seqs, first_line, gf, gs, gr, gc, *, keep_insertions, index, end_line):
    if not seqs:
        raise StockholmFormatError("alignment with no sequences", path=name, record=index, line=end_line)
    ids, rows = assemble_rows(seqs, first_line, error=StockholmFormatError, path=name, record=index)
    descriptions = []
    for sid in ids:
        de = gs.get(sid, {}).get("DE")
        descriptions.append(f"{sid} {de}" if de else sid)
    gc = {k: "".join(v) for k, v in gc.items()}
    gr = {s: {k: "".join(v) for k, v in d.items()} for s, d in gr.items()}
    annotations = types.MappingProxyType({"GF": gf, "GS": gs, "GR": gr, "GC": gc})
    msa = MSA.from_sequences(rows, ids=ids, descriptions=descriptions, annotations=annotations, source=name)
    if keep_insertions:
        return msa
    return msa.drop_insertions()


def iter_stockholm(source, *, keep_insertions: bool = False) -> Iterator[MSA]:
    """Stream the alignments of a Stockholm file, one :class:`~protlm.io.msa.MSA` each.

    Parameters
    ----------
    source : str, os.PathLike, handle or ``"-"``
    keep_insertions : bool
        Keep insert columns as written.

    Raises
    ------
    StockholmFormatError
        Missing ``# STOCKHOLM`` header, missing ``//`` terminator, a line that
        is neither annotation nor ``name sequence``, a ragged alignment.

    Examples
    --------
    >>> import io
    >>> text = ("# STOCKHOLM 1.0\\n#=GS a/1-3 DE x OX=9606\\na/1-3 AC\\nb AD\\n\\n"
    ...         "a/1-3 D\\nb -\\n//\\n# STOCKHOLM 1.0\\nc EE\\n//\\n")
    >>> [m.sequences for m in iter_stockholm(io.StringIO(text))]
    [['ACD', 'AD-'], ['EE']]
    """
    name = display_name(source)
    with open_text(source) as fh:
        index = 0
        inside = False
        lineno = 0
        for lineno, raw in enumerate(fh, 1):
            line = raw.rstrip("\r\n")
            if not inside:
                if not line.strip():
                    continue
                if line.startswith("# STOCKHOLM"):
                    inside = True
                    seqs: dict = {}
                    first_line: dict = {}
                    gf: dict = {}
                    gs: dict = {}
                    gr: dict = {}
                    gc: dict = {}
                    continue
                if "\x00" in line:
                    raise StockholmFormatError("binary data, not a Stockholm file", path=name, line=lineno)
                raise StockholmFormatError(
                    "expected '# STOCKHOLM 1.0' to start an alignment", path=name, record=index, line=lineno
                )
            if not line.strip():
                continue
            if line.startswith("//"):
                yield _build(name, seqs, first_line, gf, gs, gr, gc, keep_insertions=keep_insertions, index=index, end_line=lineno)
                index += 1
                inside = False
                continue
            if _markup(line, "#=GF"):
                parts = line.split(None, 2)
                if len(parts) >= 2:
                    text = parts[2] if len(parts) > 2 else ""
                    gf[parts[1]] = f"{gf[parts[1]]}\n{text}" if parts[1] in gf else text
                continue
            if _markup(line, "#=GS"):
                parts = line.split(None, 3)
                if len(parts) < 3:
                    raise StockholmFormatError("#=GS line needs a sequence name and a tag", path=name, record=index, line=lineno)
                d = gs.setdefault(parts[1], {})
                text = parts[3] if len(parts) > 3 else ""
                d[parts[2]] = f"{d[parts[2]]} {text}" if parts[2] in d else text
                continue
            if _markup(line, "#=GR"):
                parts = line.split(None, 3)
                if len(parts) < 4:
                    raise StockholmFormatError("#=GR line needs a name, a tag and annotation text", path=name, record=index, line=lineno)
                gr.setdefault(parts[1], {}).setdefault(parts[2], []).append(parts[3].strip())
                continue
            if _markup(line, "#=GC"):
                parts = line.split(None, 2)
                if len(parts) < 3:
                    raise StockholmFormatError("#=GC line needs a tag and annotation text", path=name, record=index, line=lineno)
                gc.setdefault(parts[1], []).append(parts[2].strip())
                continue
            if line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 2:
                raise StockholmFormatError(
                    f"expected 'name sequence' (2 fields), found {len(parts)}", path=name, record=index, line=lineno
                )
            sid, piece = parts
            if sid not in seqs:
                seqs[sid] = []
                first_line[sid] = lineno
            seqs[sid].append(piece)
        if inside:
            raise StockholmFormatError("missing '//' at the end of the alignment (truncated file?)", path=name, record=index, line=lineno)
        if index == 0:
            raise StockholmFormatError("empty file: no '# STOCKHOLM' alignment", path=name)


def read_stockholm(source, *, keep_insertions: bool = False, species_key=None) -> MSA:
    """The first alignment of a Stockholm file (see :func:`iter_stockholm`).

    Parameters
    ----------
    source : str, os.PathLike, handle or "-"
        Plain, gzip or bz2 (detected from the first bytes).
    keep_insertions : bool
        Keep insert columns (lowercase, ``.`` padding) instead of dropping them.
    species_key : str or callable, optional
        How rows get their species (see :func:`protlm.io.species.species_key`).

    Examples
    --------
    >>> import io
    >>> text = "# STOCKHOLM 1.0\\n#=GS a DE n=1 Tax=E. coli TaxID=562 RepID=X\\na AC\\n//\\n"
    >>> read_stockholm(io.StringIO(text), species_key="auto").species
    ('562',)
    """
    it = iter_stockholm(source, keep_insertions=keep_insertions)
    try:
        msa = next(it)
    finally:
        it.close()
    return msa.with_species(species_key) if species_key is not None else msa
