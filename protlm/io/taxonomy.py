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
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from itertools import compress
from typing import Iterable, Mapping

from protlm.errors import FormatError, TaxonomyFormatError
from protlm.io._open import display_name, open_text

__all__ = ["TAXONOMY_FORMATS", "TaxonomyMap", "read_taxonomy", "sniff_taxonomy", "accession_of"]

log = logging.getLogger(__name__)

#: What :func:`sniff_taxonomy` can return.
TAXONOMY_FORMATS = ("fasta", "uniref-xml", "uniprot-xml", "idmapping", "tsv")

_UNIREF = re.compile(r"UniRef(?:50|90|100)_(.+)")
_VERSION = re.compile(r"\.\d+$")
_LEVELS = ("UniRef100_", "UniRef90_", "UniRef50_")
_SNIFF_CHARS = 1 << 16
# second column of a header line of a plain TSV (compared in lowercase)
_TSV_HEADERS = {"taxid", "tax_id", "taxon", "taxon_id", "ncbi_taxid", "ncbi taxid", "species", "organism",
                "organism (id)", "organism id", "organism_id"}


def _full_of(id_: str) -> str:
    """The id as written, reduced to its comparable form (UniRef level kept).

    Examples
    --------
    >>> [_full_of(x) for x in ("UniRef100_P1", "sp|P1|X_HUMAN", "P1.2", "UPI0001\\t77\\t0.5")]
    ['UniRef100_P1', 'P1', 'P1', 'UPI0001']
    """
    id_ = (id_.split(None, 1) or [""])[0]
    if id_[:3] in ("sp|", "tr|"):
        parts = id_.split("|")
        if len(parts) >= 2 and parts[1]:
            id_ = parts[1]
    return _VERSION.sub("", id_)


def accession_of(id_: str) -> str:
    """The accession an id names, whatever tool wrote it.

    The first word is kept; a ``sp|``/``tr|`` id gives its middle field, a
    ``UniRef50_``/``UniRef90_``/``UniRef100_`` prefix and a ``.N`` version
    suffix are dropped.

    Parameters
    ----------
    id_ : str
        A sequence id or header line.

    Returns
    -------
    str
        The bare accession.

    Examples
    --------
    >>> [accession_of(x) for x in ("UniRef90_A0A0B4J2F0", "tr|Q9XYZ1|Q9XYZ1_ECOLI", "XP_0123.1", "UPI0000ABCD")]
    ['A0A0B4J2F0', 'Q9XYZ1', 'XP_0123', 'UPI0000ABCD']
    """
    full = _full_of(id_)
    m = _UNIREF.fullmatch(full)
    return _VERSION.sub("", m.group(1)) if m else full


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


# --------------------------------------------------------------------------- sniffing
class _Prefixed(io.TextIOBase):
    """A text handle that first returns ``prefix``, then the rest of ``fh`` (sniffing without seeking)."""

    def __init__(self, prefix: str, fh):
        self._prefix = prefix
        self._fh = fh

    def readable(self) -> bool:
        return True

    def read(self, n=-1):
        if self._prefix:
            if n is None or n < 0:
                out, self._prefix = self._prefix + self._fh.read(), ""
                return out
            out, self._prefix = self._prefix[:n], self._prefix[n:]
            return out
        return self._fh.read(n)

    def readline(self, size=-1):
        if self._prefix:
            nl = self._prefix.find("\n")
            if nl >= 0:
                out, self._prefix = self._prefix[: nl + 1], self._prefix[nl + 1 :]
                return out
            out, self._prefix = self._prefix + self._fh.readline(), ""
            return out
        return self._fh.readline()


def _sniff_text(text: str, name: str) -> str:
    body = text.lstrip("\ufeff \t\r\n")
    if not body:
        raise TaxonomyFormatError("empty file (expected UniRef/UniProt FASTA or XML, idmapping or a TSV)", path=name)
    if body[0] == ">":
        return "fasta"
    if body[0] == "<":
        m = re.search(r"<(?![?!])(?:[\w.-]+:)?([A-Za-z_][\w.-]*)", body)
        root = m.group(1).lower() if m else ""
        if root.startswith("uniref"):
            return "uniref-xml"
        if root == "uniprot":
            return "uniprot-xml"
        raise TaxonomyFormatError(f"XML with root <{root or '?'}>: expected a UniRef or UniProt XML file", path=name, line=1)
    for lineno, line in enumerate(body.splitlines(), 1):
        line = line.rstrip("\r")
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) == 3:
            return "idmapping"
        if len(cols) == 2:
            return "tsv"
        break
    raise TaxonomyFormatError(
        "not a taxonomy source: expected UniRef/UniProt FASTA ('>'), UniRef/UniProt XML ('<'), idmapping "
        "('ACC<TAB>NCBI_TaxID<TAB>9606') or a two-column TSV ('id<TAB>taxid')", path=name, line=1)


def sniff_taxonomy(source) -> str:
    """Which of :data:`TAXONOMY_FORMATS` ``source`` is, from its first characters.

    Parameters
    ----------
    source : str, os.PathLike, text or binary handle, or ``"-"``
        The taxonomy file (plain, gzip or bz2); its first 64 Ki characters are read.

    Returns
    -------
    str
        One of :data:`TAXONOMY_FORMATS`.

    Raises
    ------
    TaxonomyFormatError
        An empty file or one that is none of them.

    Examples
    --------
    >>> import io
    >>> [sniff_taxonomy(io.StringIO(t)) for t in (">sp|P1|X OX=1\\nM\\n", "P1\\tNCBI_TaxID\\t9606\\n", "P1\\t9606\\n")]
    ['fasta', 'idmapping', 'tsv']
    """
    name = display_name(source)
    with open_text(source) as fh:
        return _sniff_text(fh.read(_SNIFF_CHARS), name)


# --------------------------------------------------------------------------- reading
class _Collector:
    """Wanted ids and what the sources say about them."""

    def __init__(self, ids):
        self.accessions = set()
        self.full = set()
        for i in ids:
            full = _full_of(i)
            self.full.add(full)
            self.accessions.add(accession_of(full))
        # the raw forms that UniRef/UniProt FASTA ids take, checked at C level
        self.raw = set(self.accessions)
        for level in _LEVELS:
            self.raw.update(level + a for a in self.accessions)
        self.exact: dict = {}
        self.by_accession: dict = {}

    def add(self, id_: str, taxon) -> bool:
        """Record ``taxon`` for ``id_`` if it is wanted; True when it was."""
        full = _full_of(id_)
        acc = accession_of(full)
        if acc not in self.accessions:
            return False
        if taxon is None:
            return True
        taxon = str(taxon)
        if full in self.full:
            self.exact.setdefault(full, taxon)
        self.by_accession.setdefault(acc, taxon)
        return True


def _scan_fasta(fh, name, wanted: _Collector) -> tuple:
    from protlm.io.fasta import _ids, _parse
    from protlm.io.species import species_key

    taxid, ox = species_key("taxid"), species_key("ox")
    raw = wanted.raw.__contains__
    counts = [0, 0, 0]  # records, matched, without taxon

    def batch(descs, seqs):
        ids = _ids(descs)
        counts[0] += len(ids)
        if ids and "|" in ids[0]:  # UniProtKB: sp|ACC|NAME
            keys = [x.split("|", 2)[1] if x.count("|") >= 2 else x for x in ids]
        else:
            keys = ids
        for k in compress(range(len(keys)), map(raw, keys)):
            d = descs[k]
            t = taxid(ids[k], d) or ox(ids[k], d)
            wanted.add(keys[k], t)
            counts[1 if t is not None else 2] += 1
        return ()

    for _ in _parse(fh, make_batch=batch, error=TaxonomyFormatError):
        pass
    return tuple(counts)


def _scan_uniref_xml(fh, name, wanted: _Collector) -> tuple:
    from protlm.io.uniref import iter_uniref_xml

    n = matched = none = 0
    for entry in iter_uniref_xml(fh):
        n += 1
        hits = []
        for m in ((entry.representative,) if entry.representative else ()) + entry.members:
            for acc in m.accessions + ((m.db_id,) if m.db_type == "UniParc ID" else ()):
                hits.append(wanted.add(acc, m.taxid) and m.taxid is not None)
        if wanted.add(entry.cluster_id, entry.common_taxid):
            hits.append(entry.common_taxid is not None)
        if hits:
            matched += any(hits)
            none += not any(hits)
    return n, matched, none


def _scan_uniprot_xml(fh, name, wanted: _Collector) -> tuple:
    from protlm.io.uniref import _local, iter_xml_entries

    n = matched = none = 0
    for elem in iter_xml_entries(fh, name, TaxonomyFormatError):
        n += 1
        accessions = [(a.text or "").strip() for a in elem if _local(a.tag) == "accession"]
        taxon = None
        for org in elem:
            if _local(org.tag) == "organism":
                for ref in org:
                    if _local(ref.tag) == "dbReference" and ref.get("type") == "NCBI Taxonomy":
                        taxon = ref.get("id")
        if any([wanted.add(a, taxon) for a in accessions if a]):
            matched += taxon is not None
            none += taxon is None
    return n, matched, none


def _scan_tsv(fh, name, wanted: _Collector, fmt: str) -> tuple:
    n = matched = none = 0
    ncols = 3 if fmt == "idmapping" else 2
    accessions = wanted.accessions
    first = True
    for lineno, line in enumerate(fh, 1):
        line = line.rstrip("\r\n")
        if not line or line[0] == "#" or not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) != ncols:
            what = "'ACC<TAB>ID_TYPE<TAB>VALUE' (UniProt idmapping)" if ncols == 3 else "'id<TAB>taxon'"
            raise TaxonomyFormatError(f"expected {ncols} tab-separated columns {what}, found {len(cols)}",
                                      path=name, line=lineno)
        if first:
            first = False
            if ncols == 2 and cols[1].strip().lower() in _TSV_HEADERS:
                continue  # a header line
        if ncols == 3:
            if cols[1] != "NCBI_TaxID":
                continue
            value = cols[2].strip()
            if not value.isdigit():
                raise TaxonomyFormatError(f"NCBI_TaxID {value!r} is not a number", path=name, line=lineno)
        else:
            value = cols[1].strip()
            if not value:
                raise TaxonomyFormatError("empty taxon in the second column", path=name, line=lineno)
        n += 1
        key = cols[0].strip()
        if not key:
            raise TaxonomyFormatError("empty id in the first column", path=name, line=lineno)
        if key in accessions or accession_of(key) in accessions:
            wanted.add(key, value)
            matched += 1
    return n, matched, none


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
