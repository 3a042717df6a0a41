"""The pyhmmer engine: phmmer (one iteration) or jackhmmer (several), with HMMER's own code.

The database is streamed through :func:`protlm.search.database.iter_database`
and held as pyhmmer digital sequences (one byte per residue, so about the
size of the uncompressed FASTA); for databases that do not fit in memory use
the MMseqs2 engine.  jackhmmer's iterations are pyhmmer's
:class:`~pyhmmer.plan7.IterativeSearch`; the only change is that each
profile search is split over ``threads`` slices of the database, searched in
parallel and merged (pyhmmer itself runs one query on one core).  E-values
are computed for the whole database (``Z`` = its number of sequences) in every
slice, so they do not depend on the number of threads.

Every hit's best included domain becomes one A3M row.  As in HMMER's
jackhmmer, the profile of every iteration keeps the query's columns (hand
architecture over the query's consensus columns), so profile state *k* is
query residue *k*; should a profile ever differ in length, the query is
aligned to it to map states to query columns.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from protlm.errors import SearchError
from protlm.search.database import iter_database
from protlm.search.result import SearchHit, a3m_row, row_stats

__all__ = ["search_pyhmmer"]

log = logging.getLogger(__name__)

_PROGRESS_EVERY = 20000


def _read_database(database, alphabet, callback):
    from pyhmmer import easel

    meta, seqs = [], []
    n_empty = 0
    for rec in iter_database(database):
        seq = rec.sequence.upper().replace("-", "").replace(".", "")
        if not seq:
            n_empty += 1
            continue
        seqs.append(easel.TextSequence(name=str(len(meta)).encode(), sequence=seq).digitize(alphabet))
        meta.append(rec)
        if callback is not None and len(meta) % _PROGRESS_EVERY == 0:
            callback(len(meta), None, stage="reading database")
    if n_empty:
        log.warning("%s: %d empty sequences left out of the search", database, n_empty)
    if not meta:
        raise SearchError(f"{database}: no sequence to search")
    log.info("read %d sequences (%d residues) from %s", len(meta), sum(len(s) for s in seqs), database)
    return meta, easel.DigitalSequenceBlock(alphabet, seqs)


def _state_map(query_digital, hmm, alphabet):
    """0-based query position of each profile state 1..M (index 0 unused; ``None``: no query residue)."""
    from pyhmmer import easel, plan7

    L = len(query_digital)
    if hmm.M == L:  # jackhmmer's hand architecture keeps the query's columns: state k is residue k
        return [None] + list(range(L))
    pipeline = plan7.Pipeline(alphabet, bias_filter=False, F1=1.0, F2=1.0, F3=1.0, E=1e9, domE=1e9, Z=1)
    hits = pipeline.search_hmm(hmm, easel.DigitalSequenceBlock(alphabet, [query_digital]))
    if not len(hits):
        raise SearchError("the query does not align to the last jackhmmer profile; try --iterations 1")
    ali = hits[0].best_domain.alignment
    mapping = [None] * (hmm.M + 1)
    k, t = ali.hmm_from, ali.target_from - 1
    for hc, tc in zip(ali.hmm_sequence, ali.target_sequence):
        if hc == ".":
            t += 1
        elif tc == "-":
            k += 1
        else:
            mapping[k] = t
            k += 1
            t += 1
    return mapping


def _columns(alignment, mapping):
    k = alignment.hmm_from
    for hc, tc in zip(alignment.hmm_sequence, alignment.target_sequence):
        if hc == ".":
            yield None, tc
        else:
            yield mapping[k], tc
            k += 1


def _make_search_class():
    from pyhmmer import plan7

    class ShardedSearch(plan7.IterativeSearch):
        """pyhmmer's jackhmmer iteration, each profile search split over database slices in threads."""

        def _search_hmm(self, hmm):
            if len(self.shards) == 1:
                return self.pipeline.search_hmm(hmm, self.targets)
            results = list(self.pool.map(lambda shard: self.make_pipeline().search_hmm(hmm, shard), self.shards))
            return results[0].merge(*results[1:])

    return ShardedSearch


def search_pyhmmer(query: str, database, *, iterations: int, evalue: float, threads: int, callback=None):
    """Search ``query`` (an uppercase sequence) against ``database`` with pyhmmer.

    Returns
    -------
    (list of SearchHit, dict)
        Hits passing the E-value (inclusion) threshold, best first, and
        ``n_database``, ``iterations`` and ``converged``.
    """
    from pyhmmer import easel, plan7

    alphabet = easel.Alphabet.amino()
    meta, block = _read_database(database, alphabet, callback)
    query_digital = easel.TextSequence(name=b"query", sequence=query).digitize(alphabet)
    thresholds = {"E": evalue, "domE": evalue, "incE": evalue, "incdomE": evalue}

    def make_pipeline():
        return plan7.Pipeline(alphabet, Z=len(block), **thresholds)

    n_shards = max(1, min(threads, len(block) // 1000 or 1))
    step = -(-len(block) // n_shards)
    # as pyhmmer's jackhmmer (and HMMER's): the profile keeps the query's columns from one iteration to the next
    builder = plan7.Builder(alphabet, architecture="hand", seed=42)
    search = _make_search_class()(make_pipeline(), builder, query_digital, block)
    search.make_pipeline = make_pipeline
    search.shards = [block[i : i + step] for i in range(0, len(block), step)]
    result = None
    with ThreadPoolExecutor(max_workers=n_shards) as pool:
        search.pool = pool
        for result in search:
            n_included = sum(1 for h in result.hits if h.included)
            log.info("iteration %d/%d: %d sequences included (E <= %g)%s", result.iteration, iterations,
                     n_included, evalue, ", converged" if result.converged else "")
            if callback is not None:
                callback(result.iteration, iterations, stage="iteration", hits=n_included)
            if result.iteration >= iterations:
                break
    mapping = _state_map(query_digital, result.hmm, alphabet)
    hits = []
    for h in result.hits:
        if not h.included:
            continue
        domains = [d for d in h.domains if d.included]
        if not domains:
            continue
        ali = max(domains, key=lambda d: d.score).alignment
        rec = meta[int(h.name)]
        row, q0, q1, t0, t1 = a3m_row(len(query), _columns(ali, mapping), start=ali.target_from)
        identity, coverage = row_stats(query, row)
        hits.append(SearchHit(rec.id, rec.accession, rec.taxid, rec.organism, rec.description, float(h.evalue), float(h.score),
                              identity, coverage, q0, q1, t0, t1, row))
    hits.sort(key=lambda x: (x.evalue, -x.bits))
    return hits, {"n_database": len(block), "iterations": result.iteration, "converged": bool(result.converged)}
