"""Build the MSA of a query sequence from a UniProt/UniRef database: search, filter, A3M."""

from __future__ import annotations

import logging
import os
import re
import time

from protlm.errors import FastaFormatError, SearchError
from protlm.io.fasta import FastaRecord, iter_fasta

__all__ = ["build_msa", "read_query", "ENGINES", "DEFAULTS"]

log = logging.getLogger(__name__)

ENGINES = ("pyhmmer", "mmseqs2")
# the defaults of build_msa, shown by `protlm msa --help`
DEFAULTS = {
    "engine": "pyhmmer",
    "iterations": 3,
    "evalue": 1e-3,
    "max_hits": None,
    "min_coverage": 0.0,
    "min_identity": 0.0,
    "max_identity": 1.0,
    "threads": 1,
    "sensitivity": 7.5,
}
_NOT_RESIDUE = re.compile(r"[^A-Z]")


def read_query(source, *, record: int | None = None) -> FastaRecord:
    """The query record of a FASTA file.

    Parameters
    ----------
    source : str, os.PathLike, handle or ``"-"``
    record : int, optional
        1-based record to take; required when the file holds several.

    Raises
    ------
    FastaFormatError
        No record, several records and no ``record``, or ``record`` out of range.

    Examples
    --------
    >>> import io
    >>> read_query(io.StringIO(">a\\nMKV\\n>b\\nMKW\\n"), record=2).id
    'b'
    """
    records = list(iter_fasta(source))
    name = source if isinstance(source, (str, os.PathLike)) else None
    if not records:
        raise FastaFormatError("no FASTA record: expected the query sequence", path=name)
    if record is None:
        if len(records) > 1:
            raise FastaFormatError(f"holds {len(records)} records; choose the query with --record N (1 to {len(records)})",
                                   path=name)
        return records[0]
    if not 1 <= record <= len(records):
        raise FastaFormatError(f"--record {record} asked for, but the file holds {len(records)} record(s)", path=name)
    return records[record - 1]


def _clean_query(query) -> FastaRecord:
    if isinstance(query, str):
        query = FastaRecord("query", "query", query)
    seq = query.sequence.upper().replace("-", "").replace(".", "").rstrip("*")
    m = _NOT_RESIDUE.search(seq)
    if m:
        raise SearchError(f"query {query.id!r}: character {m.group(0)!r} at position {m.start() + 1} is not a residue letter")
    if not seq:
        raise SearchError(f"query {query.id!r} has no residues")
    return FastaRecord(query.id, query.description, seq)


def _check_options(engine, iterations, evalue, max_hits, min_coverage, min_identity, max_identity, threads):
    if engine not in ENGINES:
        raise SearchError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    if iterations < 1:
        raise SearchError(f"iterations must be at least 1, not {iterations}")
    if not evalue > 0:
        raise SearchError(f"evalue must be positive, not {evalue}")
    if max_hits is not None and max_hits < 1:
        raise SearchError(f"max_hits must be at least 1 (or None), not {max_hits}")
    if not 0 <= min_coverage <= 1:
        raise SearchError(f"min_coverage must be between 0 and 1, not {min_coverage}")
    if not 0 <= min_identity <= max_identity <= 1:
        raise SearchError(f"need 0 <= min_identity <= max_identity <= 1, not {min_identity} and {max_identity}")
    if threads < 1:
        raise SearchError(f"threads must be at least 1, not {threads}")


def build_msa(
    query,
    database,
    *,
    engine: str = DEFAULTS["engine"],
    iterations: int = DEFAULTS["iterations"],
    evalue: float = DEFAULTS["evalue"],
    max_hits: int | None = DEFAULTS["max_hits"],
    min_coverage: float = DEFAULTS["min_coverage"],
    min_identity: float = DEFAULTS["min_identity"],
    max_identity: float = DEFAULTS["max_identity"],
    threads: int = DEFAULTS["threads"],
    sensitivity: float = DEFAULTS["sensitivity"],
    callback=None,
):
    """Search ``database`` for homologs of ``query`` and align them to it (A3M rows).

    Parameters
    ----------
    query : FastaRecord or str
        The query (a bare sequence is named ``query``).  Gaps are removed,
        case is ignored, a final ``*`` is dropped.
    database : str or os.PathLike
        UniProtKB or UniRef FASTA, plain, gzip or bz2
        (see :mod:`protlm.search.database`).
    engine : {"pyhmmer", "mmseqs2"}
        ``pyhmmer``: HMMER's phmmer (``iterations=1``) or jackhmmer, through
        pyhmmer; the database is held in memory (about one byte per residue).
        ``mmseqs2``: ``mmseqs easy-search`` (the binary must be on ``PATH``),
        for larger databases.
    iterations : int
        Search iterations (jackhmmer ``-N``; MMseqs2 ``--num-iterations``).
    evalue : float
        E-value threshold for a hit to be reported and included in the next
        iteration's profile (jackhmmer ``-E``/``--incE``/``--domE``/``--incdomE``;
        MMseqs2 ``-e``/``--e-profile``).
    max_hits : int, optional
        Keep at most this many hits (the best E-values), after the filters.
    min_coverage : float
        Drop hits with residues in fewer than this fraction of the query's columns.
    min_identity, max_identity : float
        Drop hits whose identity to the query (over the columns they cover)
        is outside this range (``max_identity=0.95`` drops near-copies).
    threads : int
        pyhmmer: the database is searched in this many slices in parallel;
        MMseqs2 ``--threads``.
    sensitivity : float
        MMseqs2 ``-s`` (ignored by pyhmmer).
    callback : callable, optional
        ``callback(done, total, **info)``: while the database is read
        (``stage="reading database"``), after each iteration
        (``stage="iteration"``, ``hits=``), and around the MMseqs2 run.

    Returns
    -------
    MSASearchResult
        ``.write(path)`` writes the A3M: the query first, then one row per
        hit (``>ID/START-END evalue= bits= identity= coverage=`` followed by
        the database header's text, which keeps ``OX=`` or ``TaxID=``).

    Raises
    ------
    SearchError
        An option out of range, a query with non-residue characters, or an engine that failed.
    ToolNotFoundError
        ``engine="mmseqs2"`` without the ``mmseqs`` binary.
    FormatError
        A malformed database record (file, record and line).

    Examples
    --------
    >>> import os, tempfile
    >>> from protlm.io.fasta import write_fasta, FastaRecord
    >>> db = os.path.join(tempfile.mkdtemp(), "db.fasta")
    >>> rr = "MQKRILVVDDDPQLLRLLELALEEEGYEVDTAANGEEALALLRENRPDLVILDLMMPGMDGLELLRELRQ"
    >>> _ = write_fasta([FastaRecord("sp|P1|RR1_ECOLI", "sp|P1|RR1_ECOLI RR OS=E. coli OX=562 PE=1 SV=1", rr[:40] + "W" + rr[41:]),
    ...                  FastaRecord("sp|P2|UNR_ECOLI", "sp|P2|UNR_ECOLI Unrelated OS=E. coli OX=562 PE=1 SV=1", "GSGSGSPPPGSGSGS" * 4)], db)
    >>> result = build_msa(rr, db, iterations=1)
    >>> [(h.accession, h.taxid, round(h.identity, 3), h.coverage) for h in result.hits]
    [('P1', 562, 0.986, 1.0)]
    >>> result.records()[1].description.split()[0]
    'sp|P1|RR1_ECOLI/1-70'
    """
    _check_options(engine, iterations, evalue, max_hits, min_coverage, min_identity, max_identity, threads)
    query = _clean_query(query)
    started = time.monotonic()
    if engine == "pyhmmer":
        from protlm.search.hmmer import search_pyhmmer

        found, info = search_pyhmmer(query.sequence, database, iterations=iterations, evalue=evalue, threads=threads,
                                     callback=callback)
    else:
        from protlm.search.mmseqs import search_mmseqs

        found, info = search_mmseqs(query.sequence, database, iterations=iterations, evalue=evalue, threads=threads,
                                    sensitivity=sensitivity, max_hits=max_hits, callback=callback)
    low_cov = [h for h in found if h.coverage < min_coverage]
    kept = [h for h in found if h.coverage >= min_coverage]
    ident = [h for h in kept if not min_identity <= h.identity <= max_identity]
    kept = [h for h in kept if min_identity <= h.identity <= max_identity]
    over = kept[max_hits:] if max_hits is not None else []
    kept = kept[:max_hits] if max_hits is not None else kept
    counts = {
        "n_database": info["n_database"],
        "n_found": len(found),
        "n_low_coverage": len(low_cov),
        "n_identity": len(ident),
        "n_over_max_hits": len(over),
        "n_kept": len(kept),
        "n_no_taxonomy": sum(h.taxid is None for h in kept),
        "iterations": info["iterations"],
        "converged": info["converged"],
    }
    log.info("%d hits with E <= %g; dropped %d below coverage %g, %d outside identity [%g, %g], %d beyond --max-hits; "
             "%d kept", counts["n_found"], evalue, counts["n_low_coverage"], min_coverage, counts["n_identity"],
             min_identity, max_identity, counts["n_over_max_hits"], counts["n_kept"])
    if counts["n_no_taxonomy"]:
        log.warning("%d of %d hits have no taxonomy id in their database header (no OX= or TaxID=): they are kept, "
                    "and protlm pair --species-key auto counts them as species-less (--species-key os reads UniProt's "
                    "organism names instead)", counts["n_no_taxonomy"], counts["n_kept"])
    options = {"engine": engine, "iterations": iterations, "evalue": evalue, "max_hits": max_hits,
               "min_coverage": min_coverage, "min_identity": min_identity, "max_identity": max_identity,
               "threads": threads}
    if engine == "mmseqs2":
        options["sensitivity"] = sensitivity
    from protlm.search.result import MSASearchResult

    return MSASearchResult(query, tuple(kept), engine, options, counts, time.monotonic() - started)
