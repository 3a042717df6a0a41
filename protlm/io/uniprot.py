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
        return (self.description.split(None, 1) or [""])[0]


_KEY_NAMES = (" OS=", " OX=", " GN=", " PE=", " SV=")


def _opt_int(values):
    return [None if v is None else int(v) for v in values]


def _headers_batch(descs) -> list:
    """Parse many headers at once with column-wise C-level string operations.

    Headers in UniProt's canonical layout (``db|ACC|NAME protein OS= OX= GN=
    PE= SV=``, any key may be missing, keys in that order, no tabs) are split
    with ``str.find`` and slicing over whole columns; the others go through
    :func:`parse_uniprot_header` one by one.
    """
    import numpy as np

    n = len(descs)
    parts = list(map(str.split, descs, repeat("|"), repeat(2)))
    if set(map(len, parts)) != {3} or any(map(str.__contains__, descs, repeat("\t"))):
        return list(map(parse_uniprot_header, descs))
    db, acc, rest = zip(*parts)
    if not set(db) <= {"sp", "tr"} or "" in acc:
        return list(map(parse_uniprot_header, descs))
    entry, sep, tail = zip(*map(str.partition, rest, repeat(" ")))
    tail = [" " + t if s else "" for t, s in zip(tail, sep)]
    lengths = np.fromiter(map(len, tail), dtype=np.int64, count=n)
    pos = np.array([list(map(str.find, tail, repeat(k))) for k in _KEY_NAMES], dtype=np.int64).reshape(5, n)
    found = pos >= 0
    # keys must appear in canonical order: each found key after every earlier found key
    running = np.maximum.accumulate(np.where(found, pos, -1), axis=0)
    canonical = ~(found & (pos < running)).any(axis=0)
    # each value ends where the next found key starts (or at the end of the header)
    ends = np.where(found, pos, lengths[None, :])
    ends = np.minimum.accumulate(ends[::-1], axis=0)[::-1]
    value_end = np.vstack([ends[1:], lengths[None, :]])
    first = ends[0]
    protein = list(map(str.strip, map(str.__getitem__, tail, map(slice, repeat(1), first.tolist()))))
    cols = []
    for j in range(5):
        vals = list(map(str.__getitem__, tail, map(slice, (pos[j] + 4).tolist(), value_end[j].tolist())))
        cols.append([v if f else None for v, f in zip(vals, found[j].tolist())])
    os_, ox, gn, pe, sv = cols
    sv_parts = [None if v is None else v.partition(" ") for v in sv]
    sv = [None if p is None else p[0] for p in sv_parts]
    extra = ["" if p is None else p[2].strip() for p in sv_parts]
    try:
        ox_i, pe_i, sv_i = _opt_int(ox), _opt_int(pe), _opt_int(sv)
    except ValueError:
        return list(map(parse_uniprot_header, descs))
    headers = list(map(tuple.__new__, repeat(UniProtHeader), zip(db, acc, entry, protein, os_, ox_i, gn, pe_i, sv_i, extra)))
    if not canonical.all():
        for k in np.flatnonzero(~canonical).tolist():
            headers[k] = parse_uniprot_header(descs[k])
    return headers


def _int_and_rest(value: str):
    m = _INT.match(value)
    if not m:
        return None, value.strip()
    return int(m.group(0)), value[m.end() :].strip()


def _bad_header(text: str) -> FastaFormatError:
    return FastaFormatError(f"not a UniProtKB header (expected 'sp|ACC|NAME' or 'tr|ACC|NAME'): {text[:60]!r}")


def parse_uniprot_header(description: str) -> UniProtHeader:
    """Parse a UniProtKB header (with or without the leading ``>``).

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
    try:
        headers = _headers_batch(descs)
    except FastaFormatError as exc:
        k = next(i for i, d in enumerate(descs) if not _is_uniprot(d))
        raise BatchError(k, exc) from None
    return list(map(tuple.__new__, repeat(UniProtRecord), zip(headers, descs, seqs)))


def _is_uniprot(description: str) -> bool:
    try:
        parse_uniprot_header(description)
    except FastaFormatError:
        return False
    return True


def read_uniprot(source) -> list:
    """All records of :func:`iter_uniprot`."""
    return list(iter_uniprot(source))
