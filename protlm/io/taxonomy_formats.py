"""Taxonomy sources, format by format: the id forms, sniffing the format from the content, and one scanner per format.

Used by :func:`protlm.io.taxonomy.read_taxonomy` (see :mod:`protlm.io.taxonomy`
for the formats and how ids match).  Each scanner streams one source once and
records, through :class:`_Collector`, the taxa of the wanted ids only.
"""

from __future__ import annotations

import io
import re
from itertools import compress

from protlm.errors import TaxonomyFormatError
from protlm.io._open import display_name, open_text

__all__ = ["TAXONOMY_FORMATS", "sniff_taxonomy", "accession_of"]

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
