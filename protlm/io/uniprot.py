"""UniProtKB FASTA headers: ``sp|ACC|NAME desc OS=... OX=... GN=... PE=... SV=...``."""

from __future__ import annotations

import re
from itertools import repeat
from typing import Iterator, NamedTuple

from protlm.errors import FastaFormatError
from protlm.io.fasta import BatchError, _parse

__all__ = ["UniProtHeader", "UniProtRecord", "parse_uniprot_header", "iter_uniprot", "read_uniprot"]

_HEAD = re.compile(r"(sp|tr)\|([^|\s]+)\|(\S*)\s*")
_KEYS = re.compile(r"\s(OS|OX|GN|PE|SV)=")
_INT = re.compile(r"\d+")


class UniProtHeader(NamedTuple):
    """Fields of a UniProtKB FASTA header (``None`` where absent).

    ``extra`` holds any text after the SV field (e.g. MMseqs2's ``Split=0``).
    """

    db: str
    accession: str
    entry_name: str
    protein_name: str
    organism: str | None = None
    taxid: int | None = None
    gene: str | None = None
    pe: int | None = None
    sv: int | None = None
    extra: str = ""


class UniProtRecord(NamedTuple):
    """A UniProtKB sequence with its parsed header."""

    header: UniProtHeader
    description: str
    sequence: str

    @property
    def id(self) -> str:
        """The record's identifier (first word of the header)."""
        return (self.description.split(None, 1) or [""])[0]


def _headers_batch(descs) -> list:
    """Parse many headers at once: the same results as :func:`parse_uniprot_header` on each.

    One compiled regular expression runs over all the headers joined by
    ``"\n"`` (``re.findall`` builds every field in C); numbers are converted
    once per distinct value and the named tuples are built at C level, so no
    Python code runs per header.  A header the expression does not match in
    full (missing or repeated keys, keys out of order, ``'='`` inside the
    protein, organism or gene name, tabs, an empty ``GN=``, ...) is parsed by
    :func:`parse_uniprot_header` itself, which also raises for a header that
    is not a UniProtKB header (as a :class:`~protlm.io.fasta.BatchError`
    naming its index).
    """
    return list(_headers(descs))


def _headers(descs):
    """:func:`_headers_batch`'s headers, as a lazy iterator when all are canonical (built as consumed)."""
    n = len(descs)
    if not n:
        return []
    joined = "\n".join(descs) + "\n"
    if "\t" in joined:  # parse_uniprot_header treats tabs its own way
        return _careful_headers(descs, range(n), [None] * n)
    rows = _CANONICAL.findall(joined)
    if len(rows) != n:
        # a canonical match ran over a line end (a header lacking some delimiter): match line by line
        rows = _CANONICAL_STRICT.findall(joined)
        if len(rows) != n:  # a header holding a line break: never from a FASTA file
            return _careful_headers(descs, range(n), [None] * n)
    db, acc, entry, protein, organism, ox, gene, tail = zip(*rows)
    if any(ox):
        taxids = {v: int(v) for v in set(ox) if v}
        taxids[""] = None
        taxid = map(taxids.__getitem__, ox)
    else:
        taxid = repeat(None)
    # 'PE=p SV=s extra' is parsed once per distinct text
    tails = {t: _pe_sv_extra(t) for t in set(tail)}
    pe, sv, extra = ({t: v[j] for t, v in tails.items()} for j in range(3))
    columns = (
        db,
        acc,
        entry,
        map(str.strip, protein),
        organism,
        taxid,
        map(_NONE_IF_EMPTY.get, gene, gene),
        map(pe.__getitem__, tail),
        map(sv.__getitem__, tail),
        map(extra.__getitem__, tail),
    )
    headers = map(tuple.__new__, repeat(UniProtHeader), zip(*columns))
    odd = {t for t, v in tails.items() if v is _NOT_CANONICAL}
    if odd:
        careful = [i for i, t in enumerate(tail) if t in odd]
        return _careful_headers(descs, careful, list(headers))
    return headers


def _pe_sv_extra(tail: str):
    """``(pe, sv, extra)`` from ``'p SV=s extra'`` (the text after ``PE=``).

    :data:`_NOT_CANONICAL` for the lines the expression does not match (empty
    text) and where the extra text holds ``' OX='`` or ``' GN='``:
    parse_uniprot_header reads a key there when it is absent before.
    """
    if not tail or " OX=" in tail or " GN=" in tail:
        return _NOT_CANONICAL
    pe, _, rest = tail.partition(" SV=")
    sv, extra = _int_and_rest(rest)
    return int(pe), sv, extra


def _careful_headers(descs, indices, headers) -> list:
    """``headers`` with those at ``indices`` replaced by :func:`parse_uniprot_header`'s."""
    for i in indices:
        try:
            headers[i] = parse_uniprot_header(descs[i])
        except FastaFormatError as exc:
            raise BatchError(i, exc) from None
    return headers


_NONE_IF_EMPTY = {"": None}
_NOT_CANONICAL = (None, None, "")
# One header of UniProt's canonical layout, with the fields parse_uniprot_header gives it, or
# (last alternative, no group) any other line.  No protein, organism or gene name holds '=', so
# each key is found once, in order, where parse_uniprot_header finds it; the OX and PE numbers are
# whole (digits up to the next key); SV's digits are followed by the 'extra' text.
_LAYOUT = r"(sp|tr)\|([^|{nl}]+)\|([^ {nl}]*) ([^={nl}]*) OS=([^={nl}]*)(?: OX=(\d+)|)(?: GN=([^={nl}]+)|) PE=(\d+ SV=\d+[^\n]*)\n|[^\n]*\n"
# ('(?: OX=(\d+)|)' is '(?: OX=(\d+))?' written as a branch, which the re engine runs faster)
# [^=]* runs faster than [^=\n]* but may run over a line end: then the number of matches tells
_CANONICAL = re.compile(_LAYOUT.format(nl=""))
_CANONICAL_STRICT = re.compile(_LAYOUT.format(nl=r"\n"))


def _int_and_rest(value: str):
    m = _INT.match(value)
    if not m:
        return None, value.strip()
    return int(m.group(0)), value[m.end() :].strip()


def _bad_header(text: str) -> FastaFormatError:
    return FastaFormatError(f"not a UniProtKB header (expected 'sp|ACC|NAME' or 'tr|ACC|NAME'): {text[:60]!r}")


def parse_uniprot_header(description: str) -> UniProtHeader:
    """Parse a UniProtKB header (with or without the leading ``>``).

    Parameters
    ----------
    description : str
        The header line, e.g. ``sp|P69905|HBA_HUMAN Hemoglobin subunit alpha OS=Homo sapiens OX=9606 ...``.

    Raises
    ------
    FastaFormatError
        If the header does not start with ``sp|ACC|NAME`` or ``tr|ACC|NAME``.

    Examples
    --------
    >>> h = parse_uniprot_header("sp|P0A7B8|HSLV_ECOLI ATP-dependent protease subunit HslV "
    ...                          "OS=Escherichia coli (strain K12) OX=83333 GN=hslV PE=1 SV=1")
    >>> h.accession, h.entry_name, h.protein_name, h.organism, h.taxid, h.gene, h.pe, h.sv
    ('P0A7B8', 'HSLV_ECOLI', 'ATP-dependent protease subunit HslV', 'Escherichia coli (strain K12)', 83333, 'hslV', 1, 1)
    >>> parse_uniprot_header("tr|W0FSK4|W0FSK4_9FLAV Genome polyprotein OS=Dengue virus 3 PE=4 SV=1 Split=0").extra
    'Split=0'
    """
    text = description[1:] if description[:1] == ">" else description
    db = text[:2]
    bar = text.find("|", 3)
    if text[2:3] != "|" or (db != "sp" and db != "tr") or bar < 4:
        raise _bad_header(text)
    # Fast path: the canonical layout, keys in UniProt's order, single spaces.
    sp = text.find(" ", bar)
    if sp < 0:
        return UniProtHeader(db, text[3:bar], text[bar + 1 :], "")
    rest = text[sp:]
    pos = [rest.find(" OS="), rest.find(" OX="), rest.find(" GN="), rest.find(" PE="), rest.find(" SV=")]
    found = [p for p in pos if p >= 0]
    if "\t" in text or found != sorted(found):
        return _parse_general(text, db, bar)
    ends = found[1:] + [len(rest)]
    values = [None] * 5
    for j, p in enumerate(pos):
        if p >= 0:
            values[j] = rest[p + 4 : ends[found.index(p)]]
    os_, ox, gn, pe, sv = values
    extra = ""
    taxid = pe_i = sv_i = None
    if ox is not None:
        taxid, r = _int_and_rest(ox)
        extra = r or extra
    if pe is not None:
        pe_i, r = _int_and_rest(pe)
        extra = r or extra
    if sv is not None:
        sv_i, r = _int_and_rest(sv)
        extra = r or extra
    protein = rest[: found[0]] if found else rest
    return UniProtHeader(db, text[3:bar], text[bar + 1 : sp], protein.strip(), os_, taxid, gn, pe_i, sv_i, extra)


def _parse_general(text: str, db: str, bar: int) -> UniProtHeader:
    m = _HEAD.match(text)
    if m is None:
        raise _bad_header(text)
    parts = _KEYS.split(" " + text[m.end() :])
    fields = {parts[k]: parts[k + 1] for k in range(1, len(parts) - 1, 2)}
    extra = ""
    ints = {}
    for key in ("OX", "PE", "SV"):
        if key in fields:
            ints[key], r = _int_and_rest(fields[key])
            extra = r or extra
    organism, gene = fields.get("OS"), fields.get("GN")
    return UniProtHeader(
        m.group(1),
        m.group(2),
        m.group(3),
        parts[0].strip(),
        organism.strip() if organism is not None else None,
        ints.get("OX"),
        gene.strip() if gene is not None else None,
        ints.get("PE"),
        ints.get("SV"),
        extra,
    )


def iter_uniprot(source) -> Iterator[UniProtRecord]:
    """Stream a UniProtKB FASTA file with parsed headers.

    Parameters
    ----------
    source : str, os.PathLike, handle or "-"
        Plain, gzip or bz2 (detected from the first bytes).

    Raises
    ------
    FastaFormatError
        Any FASTA error, or a header that is not a UniProtKB header (with file,
        record and line).

    Examples
    --------
    >>> import io
    >>> rec = next(iter_uniprot(io.StringIO(">sp|P1|X_HUMAN Protein X OS=Homo sapiens OX=9606 PE=1 SV=2\\nMKV\\n")))
    >>> rec.header.taxid, rec.sequence
    (9606, 'MKV')
    """
    return _parse(source, make_batch=_records_batch)


def _records_batch(descs, seqs) -> list:
    return list(map(tuple.__new__, repeat(UniProtRecord), zip(_headers(descs), descs, seqs)))


def read_uniprot(source) -> list:
    """All records of :func:`iter_uniprot`.

    Parameters
    ----------
    source : str, os.PathLike, handle or "-"
        Plain, gzip or bz2 (detected from the first bytes).
    """
    return list(iter_uniprot(source))
