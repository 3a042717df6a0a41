"""Identify the reference protein of every read, with a false discovery rate (target-decoy search).

Each read is searched against the reference *and* against its decoys (the
reference sequences reversed or shuffled, stored in the index; see
:func:`protlm.sequencing.index.make_decoys`), by the same procedure:

1. **Candidates.**  The read's triples of observed known letters (rarest
   first, up to :data:`SEED_HITS_PER_READ` reference hits) are looked up in the seed table
   (:func:`protlm.sequencing.reference.seed_table`), for all reads at once;
   their hits vote for (protein, band of :data:`DIAGONAL_BIN` diagonals) and the
   :data:`MAX_PROTEINS` most voted proteins are kept, each with the range of
   diagonals its votes span (Edman failures move the diagonal).
2. **Alignment with shifts.**  Each candidate is aligned by a banded Viterbi
   pass in which every read position is either a residue (read position
   ``i`` over reference position ``start + i - d``) or a failed Edman cycle
   (``d`` grows by one: the read shows nothing there, or a false detection).
   Observations follow :class:`~protlm.sequencing.error_model.ErrorModel`
   and the detection efficiency ``e``; a substitution level of
   :data:`IDENTIFICATION_EPS` allows variants but not homologs.  The score is
   the log-likelihood ratio (nats) of the best alignment against a read of
   random residues.
3. **Competition and q-values.**  A read's best target and best decoy
   compete; the winner is its identification.  Over all reads sorted by
   score, ``FDR(t) = (decoys >= t + 1) / (targets >= t)`` and the q-value is
   its running minimum (:func:`q_values`), which controls the FDR (He et al.,
   2015; Levitt's "+1").

All reads are processed in numpy batches; the only Python loop runs over read
positions.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass, field

import numpy as np

from protlm.models.alphabet import AMINO_ACIDS
from protlm.sequencing.error_model import ErrorModel
from protlm.sequencing.index import OTHER, SEPARATOR, ReferenceIndex
from protlm.sequencing.reads import parse_known, validate_read
from protlm.sequencing.reference import SEED_SPAN, _read_items, encode_read, seed_table

__all__ = ["Identifications", "identify_reads", "q_values", "DEFAULT_FDR", "IDENTIFICATION_EPS"]

log = logging.getLogger(__name__)

#: FDR at which reads count as identified.
DEFAULT_FDR = 0.01
#: Substitution probability of the identification score (same protein, variants).
IDENTIFICATION_EPS = 0.01
#: Reference hits of seeds gathered per read, rarest seeds first.
SEED_HITS_PER_READ = 4000
#: Width of the diagonal bands in which a read's seed hits are counted.
DIAGONAL_BIN = 32
#: Spacings of read letters looked up shorter by these amounts (failed cycles between letters).
SPACING_SHIFTS = (0, 1)
#: Candidate proteins aligned per read, in the targets and in the decoys.
MAX_PROTEINS = 3
#: Start positions tried on either side of the best-voted diagonal.
START_SLACK = 3
_CELLS_PER_BATCH = 4_000_000
_COLUMNS = ["read_id", "protein_id", "start", "score", "q_value", "decoy"]


def q_values(scores, decoy) -> np.ndarray:
    """Target-decoy q-values: the least ``(decoys + 1) / targets`` over thresholds at or below each score.

    Reads without a score (NaN) get q = 1.  Tied scores share a q-value.

    Parameters
    ----------
    scores : array-like of float
        Each read's best identification score (higher is better; NaN: none).
    decoy : array-like of bool
        Whether that best match is a decoy.

    Returns
    -------
    numpy.ndarray
        The q-value of each read (float64, in input order, at most 1).

    Examples
    --------
    >>> q_values([9.0, 8.0, 7.0, 6.0, 5.0], [False, False, True, False, True]).round(3).tolist()
    [0.5, 0.5, 0.667, 0.667, 1.0]
    """
    scores = np.asarray(scores, dtype=np.float64)
    decoy = np.asarray(decoy, dtype=bool)
    q = np.ones(len(scores))
    ok = np.flatnonzero(~np.isnan(scores))
    if not len(ok):
        return q
    order = ok[np.argsort(-scores[ok], kind="stable")]
    s = scores[order]
    n_dec = np.cumsum(decoy[order])
    n_tar = np.cumsum(~decoy[order])
    last = np.r_[np.flatnonzero(s[1:] != s[:-1]), len(s) - 1]  # last index of each tie group
    fdr_at = (n_dec[last] + 1) / np.maximum(n_tar[last], 1)
    fdr = np.repeat(fdr_at, np.diff(np.r_[-1, last]))
    q[order] = np.minimum(np.minimum.accumulate(fdr[::-1])[::-1], 1.0)
    return q


def _tables(known, efficiency, frequencies, errors: ErrorModel, eps):
    """Log-ratio tables: residue steps ``(k + 2, 22)`` (observation x reference code) and skip steps ``(k + 2,)``.

    Row ``k + 1`` is padding (0).  A position outside the protein scores 0.
    """
    k, e, f, pf = len(known), efficiency, errors.false_detection, errors.edman_failure
    p = np.zeros((k + 1, 21))  # P(observation | residue), column 20: a failed cycle
    p[:k, :], p[k, :] = f / k, 1.0 - f
    for j, a in enumerate(known):
        c = AMINO_ACIDS.index(a)
        p[:k, c] = (1.0 - e) * f / k
        p[j, c] += e
        p[k, c] = (1.0 - e) * (1.0 - f)
    bg = p[:, :20] @ np.asarray(frequencies, dtype=np.float64)
    res = np.zeros((k + 2, SEPARATOR + 1))
    res[: k + 1, :20] = np.log((1.0 - eps) * p[:, :20] / bg[:, None] + eps) + np.log1p(-pf)
    res[: k + 1, OTHER] = np.log((1.0 - eps) * p[:, 20] / bg + eps) + np.log1p(-pf)
    skip = np.zeros(k + 2)
    skip[: k + 1] = np.log(p[:, 20] / bg) + np.log(pf) if pf > 0 else -1e9
    return res.astype(np.float32), skip.astype(np.float32)


def _max_drift(lengths, pf):
    """Most failed cycles expected in a read (mean + 4 sd + 2)."""
    if pf <= 0:
        return np.zeros(len(lengths), dtype=np.int64)
    m = lengths * pf / (1.0 - pf)
    return np.ceil(m + 4.0 * np.sqrt(m / (1.0 - pf)) + 2.0).astype(np.int64)


def _candidates(seeds, index: ReferenceIndex, flat, read_of, local, lengths, max_drift):
    """Candidate (read, protein, highest diagonal, lowest diagonal) rows for all reads at once."""
    k = seeds.k
    op = np.flatnonzero(flat < k)
    rd, lp, ol = read_of[op], local[op], flat[op]
    keys, qpos, rids = [], [], []
    # consecutive letters, or skipping one (a false detection); each spacing as read, or one shorter
    # (a failed Edman cycle between the two letters)
    for t1, t2, s1, s2 in itertools.product((1, 2), (1, 2), SPACING_SHIFTS, SPACING_SHIFTS):
        a = np.arange(max(len(op) - t1 - t2, 0))
        b, c = a + t1, a + t1 + t2
        d1, d2 = lp[b] - lp[a] - s1, lp[c] - lp[b] - s2
        ok = np.flatnonzero((rd[a] == rd[c]) & (d1 < SEED_SPAN) & (d2 < SEED_SPAN) & (d1 > 0) & (d2 > 0))
        keys.append(seeds._key(ol[a[ok]], ol[b[ok]], ol[c[ok]], d1[ok], d2[ok]))
        qpos.append(lp[a[ok]])
        rids.append(rd[a[ok]])
    keys, qpos, rids = np.concatenate(keys), np.concatenate(qpos), np.concatenate(rids)
    lo = np.searchsorted(seeds.keys, keys, side="left")
    cnt = np.searchsorted(seeds.keys, keys, side="right") - lo
    # seeds of each read, rarest first, up to a budget of reference hits (always the rarest one)
    order = np.lexsort((cnt, rids))
    order = order[cnt[order] > 0]
    r_sorted, c_sorted = rids[order], cnt[order]
    first_of_read = np.searchsorted(r_sorted, r_sorted, side="left")
    csum = np.cumsum(c_sorted)
    within = csum - (csum[first_of_read] - c_sorted[first_of_read])
    keep = order[(within <= SEED_HITS_PER_READ) | (np.arange(len(order)) == first_of_read)]
    lo, cnt, qpos, rids = lo[keep], cnt[keep], qpos[keep], rids[keep]
    tot = int(cnt.sum())
    empty = np.zeros(0, dtype=np.int64)
    if not tot:
        return empty, empty, empty, empty
    rep = np.repeat(np.arange(len(cnt)), cnt)
    anchor = seeds.starts[lo[rep] + np.arange(tot) - np.repeat(np.cumsum(cnt) - cnt, cnt)].astype(np.int64)
    hread = rids[rep]
    seq = index.sequence_of(anchor)
    off = int(lengths.max()) + 1
    rel = anchor - qpos[rep] - index.starts[seq] + off  # diagonal in protein coordinates, shifted >= 0
    width = int(index.lengths.max()) + 2 * off
    n_seq = index.n_sequences
    uniq, votes = np.unique((hread * n_seq + seq) * width + rel, return_counts=True)
    group, diag = uniq // width, uniq % width - off
    g_start = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    row_group = np.repeat(np.arange(len(g_start)), np.diff(np.r_[g_start, len(group)]))
    g_read = group[g_start] // n_seq
    # votes of each (read, protein) in its best band of DIAGONAL_BIN diagonals (bins at two offsets):
    # a read's seeds lie on one diagonal that drifts with failed cycles, chance hits anywhere
    g_votes = np.zeros(len(g_start), dtype=np.int64)
    centre = np.zeros(len(g_start), dtype=np.int64)
    for shift in (0, DIAGONAL_BIN // 2):
        b = (diag + off + shift) // DIAGONAL_BIN
        ub, inv, bc = np.unique(row_group * (width // DIAGONAL_BIN + 2) + b, return_inverse=True, return_counts=True)
        bv = np.bincount(inv, weights=votes).astype(np.int64)
        ug = ub // (width // DIAGONAL_BIN + 2)
        top = np.lexsort((-bv, ug))
        firsts = top[np.r_[True, ug[top][1:] != ug[top][:-1]]]
        better = bv[firsts] > g_votes[ug[firsts]]
        g_votes[ug[firsts[better]]] = bv[firsts[better]]
        centre[ug[firsts[better]]] = (ub[firsts[better]] % (width // DIAGONAL_BIN + 2)) * DIAGONAL_BIN - off - shift \
            + DIAGONAL_BIN // 2
    # the diagonals the band must cover: those near the best band voted for twice or more
    near = (np.abs(diag - centre[row_group]) <= max_drift[g_read][row_group] + DIAGONAL_BIN // 2) & (votes >= 2)
    big = np.iinfo(np.int64).max
    hi = np.maximum.reduceat(np.where(near, diag, -big), g_start)
    low = np.minimum.reduceat(np.where(near, diag, big), g_start)
    none = hi == -big
    hi[none], low[none] = centre[none] + DIAGONAL_BIN // 2, centre[none] - DIAGONAL_BIN // 2
    # the most voted proteins of each read
    pick = np.lexsort((-g_votes, g_read))
    g_rank = np.arange(len(pick)) - np.searchsorted(g_read[pick], g_read[pick], side="left")
    pick = pick[g_rank < MAX_PROTEINS]
    return g_read[pick], group[g_start][pick] % n_seq, hi[pick], low[pick]


def _viterbi(index, residues, obs, lengths, rows_read, rows_seq, rows_hi, rows_lo, max_drift, res, skip, pf, *,
             trace=False):
    """Best alignment score per candidate row (and, with ``trace``, skipped read positions and start)."""
    n = len(rows_read)
    scores = np.full(n, -np.inf)
    starts = np.zeros(n, dtype=np.int64)
    skipped = [None] * n
    # the band spans the diagonals the votes saw, at least the failed cycles expected, at most max_drift
    expected = np.ceil(lengths[rows_read] * pf / (1.0 - pf)).astype(np.int64) if pf > 0 else 0
    span = np.minimum(np.maximum(rows_hi - rows_lo, expected), max_drift[rows_read]) + 2 * START_SLACK
    L = lengths[rows_read]
    order = np.lexsort((span, L))
    pad = res.shape[0] - 1
    i0 = 0
    while i0 < n:
        Lmax, Dmax = int(L[order[i0]]), int(span[order[i0]])
        i1 = i0 + 1
        while i1 < n and (i1 - i0 + 1) * int(L[order[i1]]) * (max(Dmax, int(span[order[i1]])) + 1) <= _CELLS_PER_BATCH:
            Lmax, Dmax = int(L[order[i1]]), max(Dmax, int(span[order[i1]]))
            i1 += 1
        rows = order[i0:i1]
        i0 = i1
        R = len(rows)
        o = np.full((R, Lmax), pad, dtype=np.int64)
        for j, r in enumerate(rows_read[rows]):
            o[j, : lengths[r]] = obs[r]
        seq = rows_seq[rows]
        p0, p1 = index.starts[seq], index.starts[seq] + index.lengths[seq]
        first = p0 + rows_hi[rows] + START_SLACK  # reference position of read position 0 in state d = 0
        d = np.arange(Dmax + 1)
        V = np.where(d[None, :] <= 2 * START_SLACK, 0.0, -np.inf).astype(np.float32) + np.zeros((R, 1), np.float32)
        band = np.where(d[None, :] <= span[rows][:, None], 0.0, -np.inf).astype(np.float32)
        choice = np.zeros((R, Lmax, Dmax + 1), dtype=bool) if trace else None
        sk = skip[o]
        for i in range(Lmax):
            g = first[:, None] + i - d[None, :]
            inside = (g >= p0[:, None]) & (g < p1[:, None])
            codes = np.where(inside, residues[np.clip(g, 0, len(residues) - 1)], SEPARATOR)
            stay = V + res[o[:, i][:, None], codes]
            move = np.full_like(V, -np.inf)
            move[:, 1:] = V[:, :-1] + sk[:, i, None]
            if trace:
                choice[:, i] = move > stay
            V = np.maximum(stay, move) + band
        best = V.argmax(axis=1)
        scores[rows] = V[np.arange(R), best]
        if trace:  # back from the best end state, all rows at once
            dd, Lr = best.copy(), lengths[rows_read[rows]]
            was_skip = np.zeros((R, Lmax), dtype=bool)
            for i in range(Lmax - 1, -1, -1):
                c = choice[np.arange(R), i, dd] & (i < Lr)
                was_skip[:, i] = c
                dd -= c
            starts[rows] = rows_hi[rows] + START_SLACK - dd
            for j, r in enumerate(rows):
                skipped[r] = np.flatnonzero(was_skip[j, : Lr[j]])
    return scores, starts, skipped


@dataclass(frozen=True, eq=False)
class Identifications:
    """The best reference protein of every read, with target-decoy q-values.

    Attributes
    ----------
    read_ids : tuple of str
    protein : numpy.ndarray
        Index of the winning sequence (in the targets, or in the decoys when
        ``decoy``), -1 for a read without a candidate.
    protein_ids : tuple of str
        First header word of the winning record (decoys prefixed ``decoy_``), empty when none.
    start : numpy.ndarray
        0-based reference offset of the read's first residue (-1 when none).
    score, q_value : numpy.ndarray
        Log-likelihood ratio (nats; NaN when none) and q-value (1 when none).
    decoy : numpy.ndarray of bool
    skipped : dict
        For reads identified at ``fdr``: read index -> read positions aligned as failed cycles.
    info : dict
        Options, counts and timings.
    """

    read_ids: tuple
    protein: np.ndarray
    protein_ids: tuple
    start: np.ndarray
    score: np.ndarray
    q_value: np.ndarray
    decoy: np.ndarray
    skipped: dict = field(default_factory=dict, repr=False)
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.read_ids)

    def __repr__(self) -> str:
        return (f"Identifications({len(self)} reads, {int(self.identified().sum())} identified at "
                f"{self.info.get('fdr', DEFAULT_FDR):g} FDR, {int(self.decoy.sum())} decoy winners)")

    def identified(self, fdr: float | None = None) -> np.ndarray:
        """Reads whose target identification has ``q <= fdr`` (default: the search's ``fdr``)."""
        fdr = self.info.get("fdr", DEFAULT_FDR) if fdr is None else fdr
        return (~self.decoy) & (self.q_value <= fdr) & (self.protein >= 0)

    def summary(self) -> dict:
        """Counts for ``report.json`` (JSON-ready), then the search's ``info``.

        Reads, reads with candidates, reads identified at the search's ``fdr``
        (and their fraction) and at 0.05, decoy winners.
        """
        fdr = self.info.get("fdr", DEFAULT_FDR)
        return {"reads": len(self), "reads_with_candidates": int((self.protein >= 0).sum()),
                "identified": int(self.identified().sum()), "fdr": fdr,
                "identified_fraction": float(self.identified().mean()) if len(self) else float("nan"),
                "identified_at_0.05": int(self.identified(0.05).sum()), "decoy_winners": int(self.decoy.sum()),
                **{k: v for k, v in self.info.items() if k not in ("fdr",)}}

    def to_dataframe(self):
        """One row per read: the columns of ``identifications.tsv`` (``start`` 1-based, empty when none)."""
        import pandas as pd

        has = self.protein >= 0
        df = pd.DataFrame({"read_id": list(self.read_ids), "protein_id": list(self.protein_ids),
                             "start": pd.array(np.where(has, self.start + 1, 0), dtype="Int64"),
                             "score": self.score.round(3), "q_value": self.q_value, "decoy": self.decoy.astype(int)},
                          columns=_COLUMNS)
        df.loc[~has, "start"] = pd.NA
        return df

    def write(self, path) -> None:
        """Write ``identifications.tsv`` atomically."""
        from protlm.io.atomic import atomic_write

        with atomic_write(path) as fh:
            self.to_dataframe().to_csv(fh, sep="\t", index=False, float_format="%.6g")


def identify_reads(reads, index: ReferenceIndex, *, known: str, efficiency: float = 1.0,
                   errors: ErrorModel | None = None, fdr: float = DEFAULT_FDR, batch_reads: int = 20_000,
                   callback=None) -> Identifications:
    """Identify each read's reference protein, with q-values from a target-decoy search.

    Parameters
    ----------
    reads : iterable
        ``PartialRead`` objects, ``(read_id, read)`` pairs or a dict (validated reads).
    index : ReferenceIndex
        Built with decoys (the default of :func:`~protlm.sequencing.index.build_index`).
    known : str
    efficiency : float
        Detection efficiency ``e``.
    errors : ErrorModel, optional
        Error rates the search allows for (default: :meth:`ErrorModel.whatprot`,
        which costs error-free reads little).
    fdr : float
        Reads with a target identification at ``q <= fdr`` are "identified"
        (their alignments are kept for reconstruction).
    batch_reads : int
        Reads searched together (memory grows with it).
    callback : callable, optional
        ``callback(reads_done, total)`` after each batch.

    Returns
    -------
    Identifications

    Examples
    --------
    >>> import io
    >>> from protlm.sequencing.index import build_index
    >>> idx = build_index(io.StringIO(">p1\\nMAKLCEEYAGKWLMQAACDEKKLPYTRAMC\\n>p2\\nKAACAYAAAMKKAACAAYAAAMAAACAAKY\\n"))
    >>> ids = identify_reads([("r1", "XXKXCXXYXXKXXMXXXXXXKKXXYXXXMC")], idx, known="KCYM")
    >>> ids.protein_ids[0], int(ids.start[0]), bool(ids.decoy[0]), bool(ids.score[0] > 20)
    ('p1', 0, False, True)
    """
    known = parse_known(known)
    errors = ErrorModel.whatprot() if errors is None else errors
    t0 = time.perf_counter()
    items = [(rid, validate_read(r, known, read_id=rid, record=i)) for i, (rid, r) in enumerate(_read_items(reads))]
    n = len(items)
    decoys = index.decoys()
    res, skip = _tables(known, float(efficiency), index.frequencies, errors, IDENTIFICATION_EPS)
    dbs = [(index, seed_table(index, known)), (decoys, seed_table(decoys, known))]
    best = np.full(n, -np.inf)
    protein = np.full(n, -1, dtype=np.int64)
    start = np.full(n, -1, dtype=np.int64)
    is_decoy = np.zeros(n, dtype=bool)
    hi_lo = {}
    for b0 in range(0, n, batch_reads):
        chunk = items[b0: b0 + batch_reads]
        obs = [encode_read(r, known) for _, r in chunk]
        lengths = np.array([len(o) for o in obs], dtype=np.int64)
        flat = np.concatenate(obs) if obs else np.zeros(0, np.int64)
        read_of = np.repeat(np.arange(len(obs)), lengths)
        local = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        drift = _max_drift(lengths, errors.edman_failure)
        for is_d, (db, seeds) in enumerate(dbs):
            cr, cs, chi, clo = _candidates(seeds, db, flat, read_of, local, lengths, drift)
            sc, st, _ = _viterbi(db, db.residues, obs, lengths, cr, cs, chi, clo, drift, res, skip, errors.edman_failure)
            # the best row of each read in this database, then against the other database
            order = np.lexsort((-sc, cr))
            first = order[np.r_[True, cr[order][1:] != cr[order][:-1]]] if len(order) else order
            r = cr[first] + b0
            better = sc[first] > best[r]
            r, first = r[better], first[better]
            best[r], protein[r], start[r], is_decoy[r] = sc[first], cs[first], st[first], bool(is_d)
            for ri, f in zip(r.tolist(), first.tolist()):
                hi_lo[ri] = (int(chi[f]), int(clo[f]))
        if callback is not None:
            callback(min(b0 + batch_reads, n), n)
    score = np.where(np.isfinite(best), best, np.nan)
    q = q_values(score, is_decoy)
    # alignments (failed cycles, start) of the identified reads, for reconstruction
    ident = np.flatnonzero((~is_decoy) & (q <= fdr) & (protein >= 0))
    skipped = {}
    if len(ident):
        obs = [encode_read(items[i][1], known) for i in ident]
        lengths = np.array([len(o) for o in obs], dtype=np.int64)
        hl = np.array([hi_lo[i] for i in ident], dtype=np.int64).reshape(-1, 2)
        _, st, paths = _viterbi(index, index.residues, obs, lengths, np.arange(len(ident)), protein[ident],
                                hl[:, 0], hl[:, 1], _max_drift(lengths, errors.edman_failure), res, skip,
                                errors.edman_failure, trace=True)
        start[ident] = st
        skipped = {int(i): p for i, p in zip(ident, paths)}
    ids = tuple("" if p < 0 else (decoys.ids[p] if d else index.ids[p]) for p, d in zip(protein.tolist(), is_decoy.tolist()))
    seconds = time.perf_counter() - t0
    info = {"known": known, "efficiency": float(efficiency), "errors": errors.to_dict(), "fdr": fdr,
            "identification_eps": IDENTIFICATION_EPS, "decoys": index.decoy_method, "seconds": round(seconds, 3),
            "reads_per_second": round(n / seconds, 1) if seconds > 0 else None}
    result = Identifications(read_ids=tuple(i for i, _ in items), protein=protein, protein_ids=ids, start=start,
                             score=score, q_value=q, decoy=is_decoy, skipped=skipped, info=info)
    log.info("%r in %.2f s", result, seconds)
    return result
