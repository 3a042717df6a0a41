"""UniRef: FASTA headers (``UniRef90_ID name n= Tax= TaxID= RepID=``) and the XML release format."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from protlm.errors import UniRefFormatError
from protlm.io._open import display_name, open_text
from protlm.io.fasta import _parse

__all__ = [
    "UniRefHeader",
    "UniRefRecord",
    "UniRefMember",
    "UniRefEntry",
    "parse_uniref_header",
    "iter_uniref",
    "iter_uniref_xml",
    "read_uniref_xml",
]

_ID = re.compile(r"(UniRef(?:50|90|100))_(\S+)")
_KEYS = re.compile(r"\s(n|Tax|TaxID|RepID)=")


@dataclass(frozen=True, slots=True)
class UniRefHeader:
    """Fields of a UniRef FASTA header (``None`` where absent, e.g. bare ``>UniRef50_X`` ids)."""

    cluster_id: str
    level: str
    name: str
    n_members: int | None = None
    taxon: str | None = None
    taxid: int | None = None
    rep_id: str | None = None


@dataclass(frozen=True, slots=True)
class UniRefRecord:
    """A UniRef FASTA sequence with its parsed header."""

    header: UniRefHeader
    description: str
    sequence: str

    @property
    def id(self) -> str:
        """The record's identifier (the cluster id)."""
        return self.header.cluster_id


def parse_uniref_header(description: str) -> UniRefHeader:
    """Parse a UniRef FASTA header.

    Parameters
    ----------
    description : str
        The header line, e.g. ``UniRef50_Q9H9K5 Endonuclease n=1 Tax=Homo sapiens TaxID=9606 RepID=...``.

    Raises
    ------
    UniRefFormatError
        If it does not start with ``UniRef50_``, ``UniRef90_`` or ``UniRef100_``,
        or ``n=``/``TaxID=`` are not integers.

    Examples
    --------
    >>> h = parse_uniref_header("UniRef90_P12345 Cluster name n=12 Tax=Escherichia coli TaxID=562 RepID=ABC_ECOLI")
    >>> h.cluster_id, h.level, h.name, h.n_members, h.taxon, h.taxid, h.rep_id
    ('UniRef90_P12345', 'UniRef90', 'Cluster name', 12, 'Escherichia coli', 562, 'ABC_ECOLI')
    >>> parse_uniref_header("UniRef50_A0A1E3NP16").n_members is None
    True
    """
    text = description[1:] if description.startswith(">") else description
    m = _ID.match(text)
    if m is None:
        raise UniRefFormatError(f"not a UniRef header (expected 'UniRef50_', 'UniRef90_' or 'UniRef100_'): {text[:60]!r}")
    parts = _KEYS.split(" " + text[m.end() :])
    fields = {parts[k]: parts[k + 1].strip() for k in range(1, len(parts) - 1, 2)}
    try:
        n = int(fields["n"]) if "n" in fields else None
        taxid = int(fields["TaxID"]) if "TaxID" in fields else None
    except ValueError as exc:
        raise UniRefFormatError(f"bad integer in UniRef header ({exc})") from None
    return UniRefHeader(m.group(0), m.group(1), parts[0].strip(), n, fields.get("Tax"), taxid, fields.get("RepID"))


def iter_uniref(source) -> Iterator[UniRefRecord]:
    """Stream a UniRef FASTA file with parsed headers.

    Parameters
    ----------
    source : str, os.PathLike, handle or "-"
        Plain, gzip or bz2 (detected from the first bytes).

    Examples
    --------
    >>> import io
    >>> next(iter_uniref(io.StringIO(">UniRef50_X n=2 TaxID=9606\\nMKV\\n"))).header.taxid
    9606
    """
    return _parse(source, make=lambda h, s: UniRefRecord(parse_uniref_header(h), h, s), error=UniRefFormatError)


# ---------------------------------------------------------------------------
# XML


@dataclass(frozen=True, slots=True)
class UniRefMember:
    """One member of a UniRef cluster (``<representativeMember>`` or ``<member>``)."""

    db_type: str
    db_id: str
    accessions: tuple
    organism: str | None
    taxid: int | None
    protein_name: str | None
    is_representative: bool


@dataclass(frozen=True, slots=True)
class UniRefEntry:
    """One ``<entry>`` of a UniRef XML file."""

    cluster_id: str
    level: str
    updated: str | None
    name: str
    n_members: int | None
    common_taxon: str | None
    common_taxid: int | None
    representative: UniRefMember | None
    sequence: str
    members: tuple

    def __repr__(self) -> str:
        return f"UniRefEntry(cluster_id={self.cluster_id!r}, n_members={self.n_members}, len={len(self.sequence)}, name={self.name!r})"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _props(elem) -> dict:
    out: dict = {}
    for p in elem:
        if _local(p.tag) == "property":
            out.setdefault(p.get("type"), []).append(p.get("value"))
    return out


def _to_int(v):
    try:
        return int(v) if v is not None else None
    except ValueError:
        return None


def _member(elem, rep: bool) -> UniRefMember | None:
    for db in elem:
        if _local(db.tag) == "dbReference":
            props = _props(db)
            first = lambda k: (props.get(k) or [None])[0]  # noqa: E731
            return UniRefMember(
                db.get("type") or "",
                db.get("id") or "",
                tuple(props.get("UniProtKB accession", [])),
                first("source organism"),
                _to_int(first("NCBI taxonomy")),
                first("protein name"),
                rep,
            )
    return None


def iter_uniref_xml(source) -> Iterator[UniRefEntry]:
    """Stream the entries of a UniRef XML file (plain, gzip or bz2) in constant memory.

    Parameters
    ----------
    source : str, os.PathLike, handle or "-"
        Plain, gzip or bz2 (detected from the first bytes).

    Each ``<entry>`` is turned into a :class:`UniRefEntry` and its element is
    then cleared, so memory does not grow with the file.

    Raises
    ------
    UniRefFormatError
        Malformed XML (with line), or an entry without an ``id``.

    Examples
    --------
    >>> import io
    >>> xml = ('<UniRef xmlns="http://uniprot.org/uniref"><entry id="UniRef90_P1"><name>Cluster: X</name>'
    ...        '<property type="member count" value="2"/><representativeMember><dbReference type="UniProtKB ID" id="X_HUMAN">'
    ...        '<property type="UniProtKB accession" value="P1"/></dbReference><sequence length="3">MKV</sequence>'
    ...        '</representativeMember></entry></UniRef>')
    >>> e = next(iter_uniref_xml(io.BytesIO(xml.encode())))
    >>> e.cluster_id, e.name, e.n_members, e.sequence, e.representative.accessions
    ('UniRef90_P1', 'X', 2, 'MKV', ('P1',))
    """
    name = display_name(source)
    with open_text(source) as fh:
        for index, elem in enumerate(iter_xml_entries(fh, name, UniRefFormatError)):
            yield _entry(elem, name, index)


def iter_xml_entries(fh, name: str, error):
    """Stream the ``<entry>`` elements of a UniRef or UniProt XML text handle, each cleared once consumed.

    Raises ``error`` (a :class:`~protlm.errors.FormatError` class) for
    malformed XML, naming ``name``, the entry and the line, and for a file
    with no element.

    Examples
    --------
    >>> import io
    >>> [e.get("id") for e in iter_xml_entries(io.StringIO('<r><entry id="a"/><entry id="b"/></r>'), "x", UniRefFormatError)]
    ['a', 'b']
    """
    import xml.etree.ElementTree as ET

    root = None
    index = 0
    try:
        for event, elem in ET.iterparse(fh, events=("start", "end")):
            if event == "start":
                if root is None:
                    root = elem
                continue
            if _local(elem.tag) != "entry":
                continue
            yield elem
            index += 1
            elem.clear()
            root.clear()
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise error(f"malformed XML ({exc.msg if hasattr(exc, 'msg') else exc})", path=name, record=index, line=line) from None
    if root is None:
        raise error("empty file", path=name)


def _entry(elem, name: str, index: int) -> UniRefEntry:
    cid = elem.get("id")
    if not cid:
        raise UniRefFormatError("<entry> without an id attribute", path=name, record=index)
    props = _props(elem)
    title = ""
    rep = None
    seq = ""
    members = []
    for child in elem:
        tag = _local(child.tag)
        if tag == "name":
            title = (child.text or "").strip()
            if title.startswith("Cluster: "):
                title = title[len("Cluster: ") :]
        elif tag == "representativeMember":
            rep = _member(child, True)
            for s in child:
                if _local(s.tag) == "sequence":
                    seq = "".join((s.text or "").split())
        elif tag == "member":
            m = _member(child, False)
            if m is not None:
                members.append(m)
    return UniRefEntry(
        cid,
        cid.split("_", 1)[0],
        elem.get("updated"),
        title,
        _to_int((props.get("member count") or [None])[0]),
        (props.get("common taxon") or [None])[0],
        _to_int((props.get("common taxon ID") or [None])[0]),
        rep,
        seq,
        tuple(members),
    )


def read_uniref_xml(source) -> list:
    """All entries of :func:`iter_uniref_xml`.

    Parameters
    ----------
    source : str, os.PathLike, handle or "-"
        Plain, gzip or bz2 (detected from the first bytes).
    """
    return list(iter_uniref_xml(source))
