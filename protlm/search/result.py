"""Search hits, their A3M rows, and the result of an MSA search."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from protlm.io.fasta import FastaRecord

__all__ = ["SearchHit", "MSASearchResult", "a3m_row", "HIT_COLUMNS"]

# columns of MSASearchResult.to_dataframe(), documented once here
HIT_COLUMNS = {
    "rank": "1-based row of the hit in the A3M after the query (best E-value first)",
    "id": "first word of the database header",
    "accession": "UniProtKB accession or UniRef cluster id (the id for other FASTA)",
    "taxid": "NCBI taxonomy id from the database header (OX= or TaxID=), empty when it has none",
    "organism": "organism from the database header (UniProt OS=, UniRef Tax=), empty when it has none",
    "evalue": "E-value of the hit (pyhmmer: whole sequence, last iteration; MMseqs2: the alignment)",
    "bits": "bit score",
    "identity": "identical residues / query columns the hit has a residue in",
    "coverage": "query columns the hit has a residue in / query length",
    "query_start": "first query residue aligned (1-based)",
    "query_end": "last query residue aligned (1-based, inclusive)",
    "target_start": "first hit residue written (1-based)",
    "target_end": "last hit residue written (1-based, inclusive)",
}


def a3m_row(length: int, columns: Iterable, *, start: int = 1):
    """Turn one pairwise alignment into an A3M row over ``length`` query columns.

    Parameters
    ----------
    length : int
        Query length (the A3M's match columns).
    columns : iterable of (int or None, str)
        The alignment column by column: the 0-based query position (``None``
        where the query has no residue, i.e. an insertion in the hit) and the
        hit's character (a residue, or ``"-"`` where the hit has none).
    start : int
        1-based position in the hit of its first residue in ``columns``.

    Returns
    -------
    (str, int, int, int, int)
        The row (uppercase match residues, ``-`` gaps, lowercase insertions;
        residues outside the first and last aligned query columns are left
        out), the 1-based first and last query positions aligned, and the
        1-based first and last hit residues written.

    Examples
    --------
    >>> a3m_row(6, [(1, "A"), (None, "K"), (2, "C"), (3, "-"), (4, "E")], start=10)
    ('-AkC-E-', 2, 5, 10, 13)
    """
    row = ["-"] * length
    inserts = [""] * length  # insertion after query column i
    first_q = last_q = None
    first_t = last_t = None
    pending = []  # hit residues after the last aligned column, kept only if another one follows
    t = start - 1
    for q, ch in columns:
        residue = ch not in "-."
        if residue:
            t += 1
        if q is None:
            if residue and last_q is not None:
                pending.append((ch.lower(), t))
            continue
        if first_q is None:
            first_q = q
        if pending:
            inserts[last_q] += "".join(c for c, _ in pending)
            last_t = pending[-1][1]
            pending = []
        if residue:
            row[q] = ch.upper()
            if first_t is None:
                first_t = t
            last_t = t
        last_q = q
    if first_q is None:
        return "-" * length, 0, 0, 0, 0
    text = "".join(r + i for r, i in zip(row, inserts))
    return text, first_q + 1, last_q + 1, first_t or 0, last_t or 0


def row_stats(query: str, row: str):
    """``(identity, coverage)`` of an A3M row against the query.

    Examples
    --------
    >>> row_stats("ACDEF", "AC-kkEW")
    (0.75, 0.8)
    """
    match = [c for c in row if not c.islower()]
    aligned = [(a, b) for a, b in zip(query, match) if b != "-"]
    if not aligned:
        return 0.0, 0.0
    same = sum(a == b for a, b in aligned)
    return same / len(aligned), len(aligned) / len(query)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One database sequence found by the search, aligned to the query (see :data:`HIT_COLUMNS`)."""

    id: str
    accession: str
    taxid: int | None
    organism: str | None
    description: str
    evalue: float
    bits: float
    identity: float
    coverage: float
    query_start: int
    query_end: int
    target_start: int
    target_end: int
    row: str

    @property
    def header(self) -> str:
        """The A3M header: ``ID/START-END evalue= bits= identity= coverage=`` then the database header's text.

        The database header's text (after its first word) keeps ``OX=``/``OS=``
        (UniProt) or ``Tax=``/``TaxID=`` (UniRef), which ``protlm pair
        --species-key auto`` reads.
        """
        rest = self.description.split(None, 1)
        rest = " " + rest[1].strip() if len(rest) > 1 else ""
        return (f"{self.id}/{self.target_start}-{self.target_end} evalue={self.evalue:.3g} bits={self.bits:.1f} "
                f"identity={self.identity:.3f} coverage={self.coverage:.3f}{rest}")


@dataclass(frozen=True)
class MSASearchResult:
    """Query, hits and counts of one MSA search (:func:`protlm.search.build_msa`).

    Attributes
    ----------
    query : FastaRecord
        The query (first row of the A3M).
    hits : tuple of SearchHit
        Hits kept after the filters, best E-value first.
    engine : str
        ``"pyhmmer"`` or ``"mmseqs2"``.
    options : dict
        The search options as resolved (iterations, E-value, filters, threads).
    counts : dict
        ``n_database`` (sequences searched), ``n_found`` (hits passing the
        E-value), ``n_low_coverage``, ``n_identity`` (dropped by the
        coverage and identity filters), ``n_over_max_hits``, ``n_kept``,
        ``n_no_taxonomy`` (kept hits whose database header has no taxonomy:
        ``protlm pair`` counts them as species-less), ``iterations`` run and
        ``converged`` (pyhmmer).
    seconds : float
        Wall time of the search, reading the database included.
    """

    query: FastaRecord
    hits: tuple
    engine: str
    options: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.hits)

    def __repr__(self) -> str:
        return (f"MSASearchResult(query={self.query.id!r}, length={len(self.query.sequence)}, engine={self.engine!r}, "
                f"hits={len(self.hits)}, no_taxonomy={self.counts.get('n_no_taxonomy', 0)}, "
                f"database={self.counts.get('n_database')}, seconds={self.seconds:.1f})")

    def records(self) -> list:
        """The A3M rows as :class:`~protlm.io.fasta.FastaRecord`, query first."""
        rows = [FastaRecord(self.query.id, self.query.description or self.query.id, self.query.sequence)]
        rows += [FastaRecord(h.header.split(None, 1)[0], h.header, h.row) for h in self.hits]
        return rows

    def to_dataframe(self):
        """One row per hit, the columns of :data:`HIT_COLUMNS`."""
        import pandas as pd

        rows = [
            {"rank": k, "id": h.id, "accession": h.accession, "taxid": h.taxid, "organism": h.organism,
             "evalue": h.evalue, "bits": h.bits,
             "identity": h.identity, "coverage": h.coverage, "query_start": h.query_start, "query_end": h.query_end,
             "target_start": h.target_start, "target_end": h.target_end}
            for k, h in enumerate(self.hits, 1)
        ]
        df = pd.DataFrame(rows, columns=list(HIT_COLUMNS))
        df["taxid"] = df["taxid"].astype("Int64")
        return df

    def write(self, path, *, table=None) -> None:
        """Write the A3M (query first, insertions lowercase) atomically; ``table``: also the hits TSV."""
        from protlm.io._write import open_dest
        from protlm.io.a3m import write_a3m

        write_a3m(self.records(), path)
        if table is not None:
            with open_dest(table) as fh:
                self.to_dataframe().to_csv(fh, sep="\t", index=False, float_format="%.4g")
