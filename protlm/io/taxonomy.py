"""Species from taxonomy sources: which NCBI taxon each row of an MSA comes from.

Search tools write MSAs whose headers carry no species (ColabFold/MMseqs2:
``UniRef100_A0A...``, ``UPI...``, ``ACC<TAB>score...``).  :func:`read_taxonomy`
looks those ids up in files that do carry a taxon, streaming each file once
and keeping only the ids asked for, so memory follows the MSA, not the
database.  The formats are sniffed from the content (after gzip/bz2), never
from the file name:

``fasta``
    UniRef FASTA (``>UniRef100_ACC name n= Tax= TaxID=562 RepID=``) or UniProtKB
    FASTA (``>sp|ACC|NAME ... OX=9606 ...``); a record with neither ``TaxID=``
    nor ``OX=`` gives no taxon.
``uniref-xml``
    UniRef XML: the cluster id gets the common taxon, every member's UniProtKB
    accessions and UniParc id get the member's own ``NCBI taxonomy``.
``uniprot-xml``
    UniProtKB XML: every ``<accession>`` of an entry gets its organism's
    ``NCBI Taxonomy`` id.
``idmapping``
    UniProt's ``idmapping.dat``: three columns ``ACC<TAB>ID_TYPE<TAB>VALUE``;
    the rows of type ``NCBI_TaxID`` are read, the others skipped.
``tsv``
    Two columns ``id<TAB>taxon`` (any non-empty text is a taxon: a TaxID or a
    name); ``#`` lines are comments; an optional first line whose second
    column is ``taxid``, ``species``, ``organism``, ``Organism (ID)``, ...
    (UniProt's own TSV export) is a header.

Ids match across the forms that tools write: ``UniRef100_ACC`` /
``UniRef90_ACC`` / ``UniRef50_ACC``, a bare accession with or without a
version (``ACC.2``), ``sp|ACC|NAME`` / ``tr|ACC|NAME``, UniParc ``UPI...``,
and ColabFold A3M header lines (only the first whitespace-separated token
counts).  An id found in the same form (the same UniRef level) wins over a
match by accession only.

The id forms, the sniffing and the per-format scanners are
:mod:`protlm.io.taxonomy_formats` (re-exported here); this module keeps the
map of found taxa and :func:`read_taxonomy`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from protlm.errors import FormatError, TaxonomyFormatError
from protlm.io._open import display_name, open_text
from protlm.io.taxonomy_formats import (  # noqa: F401  (TAXONOMY_FORMATS, sniff_taxonomy: re-exported)
    _SNIFF_CHARS,
    TAXONOMY_FORMATS,
    _Collector,
    _full_of,
    _Prefixed,
    _scan_fasta,
    _scan_tsv,
    _scan_uniprot_xml,
    _scan_uniref_xml,
    _sniff_text,
    accession_of,
    sniff_taxonomy,
)

__all__ = ["TAXONOMY_FORMATS", "TaxonomyMap", "read_taxonomy", "sniff_taxonomy", "accession_of"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaxonomyMap:
    """Taxa found for the ids of some MSAs (see :func:`read_taxonomy`).

    Attributes
    ----------
    exact : mapping of str to str
        Id in its comparable form (UniRef level kept) -> taxon.
    by_accession : mapping of str to str
        Bare accession -> taxon (the first source that named it).
    n_wanted : int
        Distinct accessions asked for.
    files : tuple of dict
        Per source: ``path``, ``format``, ``n_records`` read, ``n_matched``
        (records of a wanted id with a taxon), ``n_without_taxon`` (records of
        a wanted id with none).

    Examples
    --------
    >>> import io
    >>> tax = read_taxonomy([io.StringIO(">UniRef100_P1 x n=1 Tax=E. coli TaxID=562 RepID=X\\nMKV\\n")],
    ...                     ids=["query", "UniRef100_P1", "P1.1"])
    >>> tax.lookup("UniRef100_P1"), tax.lookup("P1.1"), tax.lookup("query")
    ('562', '562', None)
    >>> tax.coverage(["query", "UniRef100_P1"], ["query", "UniRef100_P1\\t90"])
    {'n_rows': 2, 'n_from_taxonomy': 1, 'n_from_header': 0, 'n_without_species': 1}
    """

    exact: Mapping = field(default_factory=dict)
    by_accession: Mapping = field(default_factory=dict)
    n_wanted: int = 0
    files: tuple = ()

    def __len__(self) -> int:
        return len(set(self.by_accession) | {accession_of(k) for k in self.exact})

    def __repr__(self) -> str:
        return f"TaxonomyMap(n_found={len(self)}, n_wanted={self.n_wanted}, files={len(self.files)})"

    def lookup(self, id_: str):
        """The taxon of ``id_`` (any of the forms the module names), or ``None``."""
        full = _full_of(id_)
        hit = self.exact.get(full)
        return hit if hit is not None else self.by_accession.get(accession_of(full))

    def species_key(self, fallback="auto"):
        """A species key ``(id, description) -> str | None``: the taxonomy first, then ``fallback``.

        ``fallback`` is any :func:`protlm.io.species.species_key` specification
        (``None``: the taxonomy only).  The key's ``source(id, description)``
        attribute says which one gave the key (``"taxonomy"``, ``"header"`` or
        ``None``).
        """
        from protlm.io.species import species_key as make_key

        other = make_key(fallback) if fallback is not None else None

        def source(id_, description):
            if self.lookup(id_) is not None:
                return "taxonomy"
            if other is not None and other(id_, description) is not None:
                return "header"
            return None

        def key(id_, description):
            hit = self.lookup(id_)
            if hit is None and other is not None:
                hit = other(id_, description)
            return hit

        key.__name__ = f"taxonomy+{fallback}" if isinstance(fallback, str) else "taxonomy"
        key.source = source
        return key

    def coverage(self, ids: Iterable[str], descriptions: Iterable[str], fallback="auto") -> dict:
        """How many rows get a species from the taxonomy, from their own header, or not at all."""
        source = self.species_key(fallback).source
        counts = {"taxonomy": 0, "header": 0, None: 0}
        n = 0
        for i, d in zip(ids, descriptions):
            counts[source(i, d)] += 1
            n += 1
        return {"n_rows": n, "n_from_taxonomy": counts["taxonomy"], "n_from_header": counts["header"],
                "n_without_species": counts[None]}

    def summary(self) -> dict:
        """JSON-friendly counts (for ``report.json``)."""
        return {"n_wanted": self.n_wanted, "n_found": len(self), "files": [dict(f) for f in self.files]}


def read_taxonomy(sources, ids: Iterable[str]) -> TaxonomyMap:
    """Find the taxon of each of ``ids`` in ``sources``, streaming each source once.

    Parameters
    ----------
    sources : path, handle, or a list of them
        Taxonomy files in any of :data:`TAXONOMY_FORMATS` (plain, gzip or
        bz2), read in the order given; a later source never overrides an
        earlier one's taxon for the same id.
    ids : iterable of str
        The ids to look up (the rows of the MSAs); only these are kept.

    Returns
    -------
    TaxonomyMap

    Raises
    ------
    TaxonomyFormatError
        A source that is none of the formats, or a malformed line (file and
        line named).
    FileNotFoundError
        A path that does not exist.

    Examples
    --------
    >>> import io
    >>> src = io.StringIO("P1\\tNCBI_TaxID\\t9606\\nP1\\tUniProtKB-ID\\tX_HUMAN\\nQ2\\tNCBI_TaxID\\t562\\n")
    >>> tax = read_taxonomy(src, ids=["UniRef100_P1", "UPI00000001"])
    >>> tax.lookup("UniRef100_P1"), tax.lookup("UPI00000001"), tax.files[0]["n_matched"]
    ('9606', None, 1)
    """
    if isinstance(sources, (str, bytes)) or hasattr(sources, "read") or hasattr(sources, "__fspath__"):
        sources = [sources]
    wanted = _Collector(ids)
    files = []
    for src in sources:
        name = display_name(src)
        try:
            with open_text(src) as fh:
                head = fh.read(_SNIFF_CHARS)
                fmt = _sniff_text(head, name)
                stream = _Prefixed(head, fh)
                if fmt == "fasta":
                    n, matched, none = _scan_fasta(stream, name, wanted)
                elif fmt == "uniref-xml":
                    n, matched, none = _scan_uniref_xml(stream, name, wanted)
                elif fmt == "uniprot-xml":
                    n, matched, none = _scan_uniprot_xml(stream, name, wanted)
                else:
                    n, matched, none = _scan_tsv(stream, name, wanted, fmt)
        except TaxonomyFormatError as exc:
            raise TaxonomyFormatError(exc.message, path=name, record=exc.record, line=exc.line) from None
        except FormatError as exc:  # a FASTA/XML error from the shared readers
            raise TaxonomyFormatError(exc.message, path=name, record=exc.record, line=exc.line) from None
        log.info("%s (%s): %d records, %d of the wanted ids with a taxon", name, fmt, n, matched)
        files.append({"path": name, "format": fmt, "n_records": n, "n_matched": matched, "n_without_taxon": none})
    return TaxonomyMap(dict(wanted.exact), dict(wanted.by_accession), len(wanted.accessions), tuple(files))
