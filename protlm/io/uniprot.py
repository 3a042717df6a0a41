"""UniProtKB FASTA headers: ``sp|ACC|NAME desc OS=... OX=... GN=... PE=... SV=...``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from protlm.errors import FastaFormatError
from protlm.io.fasta import iter_fasta_lines

__all__ = ["UniProtHeader", "UniProtRecord", "parse_uniprot_header", "iter_uniprot", "read_uniprot"]

_HEAD = re.compile(r"(sp|tr)\|([^|\s]+)\|(\S*)\s*")
_KEYS = re.compile(r"\s(OS|OX|GN|PE|SV)=")
_INT = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class UniProtHeader:
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


@dataclass(frozen=True, slots=True)
class UniProtRecord:
    """A UniProtKB sequence with its parsed header."""

    header: UniProtHeader
    description: str
    sequence: str

    @property
    def id(self) -> str:
        return (self.description.split(None, 1) or [""])[0]


def _int_and_rest(value: str):
    m = _INT.match(value)
    if not m:
        return None, value.strip()
    return int(m.group(0)), value[m.end() :].strip()


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
    text = description[1:] if description.startswith(">") else description
    m = _HEAD.match(text)
    if m is None:
        raise FastaFormatError(f"not a UniProtKB header (expected 'sp|ACC|NAME' or 'tr|ACC|NAME'): {text[:60]!r}")
    db, acc, entry = m.group(1), m.group(2), m.group(3)
    parts = _KEYS.split(" " + text[m.end() :])
    protein = parts[0].strip()
    fields = {}
    for k in range(1, len(parts) - 1, 2):
        fields[parts[k]] = parts[k + 1]
    extra = ""
    taxid = pe = sv = None
    if "OX" in fields:
        taxid, rest = _int_and_rest(fields["OX"])
        extra = rest or extra
    if "PE" in fields:
        pe, rest = _int_and_rest(fields["PE"])
        extra = rest or extra
    if "SV" in fields:
        sv, rest = _int_and_rest(fields["SV"])
        extra = rest or extra
    organism = fields.get("OS")
    gene = fields.get("GN")
    return UniProtHeader(
        db,
        acc,
        entry,
        protein,
        organism.strip() if organism is not None else None,
        taxid,
        gene.strip() if gene is not None else None,
        pe,
        sv,
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
    from protlm.io._open import display_name

    name = display_name(source)
    for index, (rec, line) in enumerate(iter_fasta_lines(source)):
        try:
            header = parse_uniprot_header(rec.description)
        except FastaFormatError as exc:
            raise FastaFormatError(exc.message, path=name, record=index, line=line) from None
        yield UniProtRecord(header, rec.description, rec.sequence)


def read_uniprot(source) -> list:
    """All records of :func:`iter_uniprot`."""
    return list(iter_uniprot(source))
