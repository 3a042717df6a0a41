"""Sequence databases for MSA searches: UniProtKB or UniRef FASTA (plain, gzip or bz2), streamed.

The kind of file is recognised from its first header and the file is then
read with protlm's streaming reader for that kind
(:func:`~protlm.io.uniprot.iter_uniprot`, :func:`~protlm.io.uniref.iter_uniref`),
so every record carries its accession and, when the header holds one, its
NCBI taxonomy id (UniProt ``OX=``, UniRef ``TaxID=``).  Any other FASTA is
read with :func:`~protlm.io.fasta.iter_fasta`; its taxonomy is taken from an
``OX=`` or ``TaxID=`` field in the header when there is one.
"""

from __future__ import annotations

import os
from typing import Iterator, NamedTuple

from protlm.errors import FastaFormatError
from protlm.io.fasta import iter_fasta
from protlm.io.species import species_key
from protlm.io.uniprot import iter_uniprot, parse_uniprot_header
from protlm.io.uniref import iter_uniref, parse_uniref_header

__all__ = ["DatabaseRecord", "database_kind", "iter_database", "parse_database_header", "DATABASE_KINDS"]

DATABASE_KINDS = ("uniprot", "uniref", "fasta")


class DatabaseRecord(NamedTuple):
    """One database sequence.

    Attributes
    ----------
    id : str
        First word of the header (``sp|P0AEJ4|ENVZ_ECOLI``, ``UniRef90_P0AEJ4``).
    accession : str
        UniProtKB accession, UniRef cluster id, or the id for other FASTA.
    taxid : int or None
        NCBI taxonomy id from ``OX=`` / ``TaxID=``; ``None`` when the header has none.
    organism : str or None
        UniProt ``OS=``, UniRef ``Tax=``; ``None`` when the header has none.
    description : str
        The whole header line, without ``>``.
    sequence : str
    """

    id: str
    accession: str
    taxid: int | None
    organism: str | None
    description: str
    sequence: str


def database_kind(path) -> str:
    """``"uniprot"``, ``"uniref"`` or ``"fasta"``, from the first header of ``path``.

    Raises
    ------
    FastaFormatError
        If the file holds no FASTA record (or is not FASTA).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "db.fasta")
    >>> _ = open(path, "w").write(">UniRef90_P1 X n=1 Tax=E. coli TaxID=562 RepID=X_ECOLI\\nMKV\\n")
    >>> database_kind(path)
    'uniref'
    """
    first = next(iter(iter_fasta(path)), None)
    if first is None:
        raise FastaFormatError("no FASTA record: a sequence database needs at least one '>' header", path=os.fspath(path))
    if first.id.startswith(("sp|", "tr|")):
        return "uniprot"
    if first.id.startswith(("UniRef50_", "UniRef90_", "UniRef100_")):
        return "uniref"
    return "fasta"


_TAXID = species_key("taxid")
_OX = species_key("ox")
_OS = species_key("os")


def _fasta_taxid(id_: str, description: str) -> int | None:
    value = _TAXID(id_, description) or _OX(id_, description)
    return int(value) if value is not None else None


def parse_database_header(description: str, kind: str) -> tuple:
    """``(id, accession, taxid, organism)`` of one header of a database of ``kind`` (as :func:`iter_database` gives them).

    For headers that a search engine reports back (MMseqs2's ``theader``).

    Examples
    --------
    >>> parse_database_header("sp|P0AEJ4|ENVZ_ECOLI Osmolarity sensor protein EnvZ OS=Escherichia coli OX=83333 PE=1 SV=1", "uniprot")
    ('sp|P0AEJ4|ENVZ_ECOLI', 'P0AEJ4', 83333, 'Escherichia coli')
    >>> parse_database_header("seq7 no taxonomy here", "fasta")
    ('seq7', 'seq7', None, None)
    """
    id_ = (description.split(None, 1) or [""])[0]
    if kind == "uniprot":
        header = parse_uniprot_header(description)
        return id_, header.accession, header.taxid, header.organism
    if kind == "uniref":
        header = parse_uniref_header(description)
        return id_, header.cluster_id, header.taxid, header.taxon
    return id_, id_, _fasta_taxid(id_, description), _OS(id_, description)


def iter_database(path, *, kind: str | None = None) -> Iterator[DatabaseRecord]:
    """Stream the records of a sequence database in constant memory.

    Parameters
    ----------
    path : str or os.PathLike
        UniProtKB or UniRef FASTA, plain, gzip or bz2 (sniffed from the bytes).
    kind : {"uniprot", "uniref", "fasta"}, optional
        Default: recognised from the first header (:func:`database_kind`).
        In a UniProt or UniRef file every header must be of that kind.

    Raises
    ------
    FastaFormatError, UniRefFormatError
        A malformed record, with file, record and line.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "db.fasta")
    >>> _ = open(path, "w").write(">sp|P1|X_ECOLI Protein X OS=Escherichia coli OX=562 PE=1 SV=1\\nMKV\\n"
    ...                           ">sp|P2|Y_ECOLI Protein Y OS=Escherichia coli PE=1 SV=1\\nMKW\\n")
    >>> [(r.accession, r.taxid) for r in iter_database(path)]
    [('P1', 562), ('P2', None)]
    """
    if kind is None:
        kind = database_kind(path)
    if kind == "uniprot":
        for r in iter_uniprot(path):
            yield DatabaseRecord(r.id, r.header.accession, r.header.taxid, r.header.organism, r.description, r.sequence)
    elif kind == "uniref":
        for r in iter_uniref(path):
            yield DatabaseRecord(r.id, r.header.cluster_id, r.header.taxid, r.header.taxon, r.description, r.sequence)
    elif kind == "fasta":
        for r in iter_fasta(path):
            yield DatabaseRecord(r.id, r.id, _fasta_taxid(r.id, r.description), _OS(r.id, r.description), r.description,
                                 r.sequence)
    else:
        raise ValueError(f"unknown database kind {kind!r}; choose one of: {', '.join(DATABASE_KINDS)}")
