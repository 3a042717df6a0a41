"""Find the reference windows a partial read could come from, and score them.

A partial read is a string over the known letters (e.g. ``KCYM``) and ``X``.
Its observed known letters, with their exact spacings, are very specific;
its ``X`` positions add that the residue there is *not* a known letter (when
the detection efficiency ``e`` is 1) or probably not one (``e < 1``).

Search
------
1. **Seeds.**  For each known set, every triple of nearby known letters in
   the reference (each with any of its next three known letters, spacings
   below 64) is keyed by its letters and spacings and sorted.  A read's
   triples of observed known letters (consecutive ones, and ones that skip a
   letter, to tolerate substitutions) are looked up; reference triples that
   skip known letters tolerate missed detections in the read.  Every hit
   votes for a diagonal (the reference position of the read's first residue).
   Reads with only two observed known letters are seeded by the pair.
2. **Verification.**  The best-voted diagonals are scored over the whole
   read, vectorised, with the observation model below.

Observation model and scores
----------------------------
At a read position over reference residue ``r`` the read shows ``o`` with
probability ``P(o | r) = (1 - eps) P_det(o | r) + eps P_bg(o)``, where
``P_det`` is the sequencer (a known letter is shown with probability ``e``,
else ``X``; any other residue shows ``X``), ``P_bg(o)`` the probability of
``o`` for a random residue with the reference's composition, and ``eps`` the
chance that the read's residue differs from the reference's (a homolog, or a
variant).  The score of a hit is the log-likelihood ratio (nats) of the read
under this model against the background, averaged over
``eps`` in :data:`SUBSTITUTION_LEVELS` (the ratio of the two mixtures).
Positions outside the reference sequence, or over non-standard letters,
score 0.

Because a likelihood ratio has expectation 1 under the null (the read
unrelated to the reference), ``P(score >= s) <= exp(-s)`` for one window, and
the **E-value** ``N exp(-s)``, with ``N`` the number of reference windows
(residues), bounds the expected number of windows scoring ``s`` by chance.
The **posterior** of a hit is that of "the read comes from this window"
given a prior probability ``prior`` that the read's protein (or a homolog) is
in the reference, spread evenly over its windows, and the scored candidates:
``w_j = LR_j / ((1 - prior)/prior N + sum_k LR_k)``.  The hit's **identity**
is the posterior mean of ``1 - eps``.

This module is the search (seeds, candidate diagonals, the loop over reads)
and its result :class:`ReferenceHits`; the observation model, the window
scores, the gapped alignment and the :class:`Hit` record are
:mod:`protlm.sequencing.alignment`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from protlm.errors import ProtlmError
from protlm.models.alphabet import AMINO_ACIDS
from protlm.sequencing.alignment import (  # noqa: F401  (re-exported: the names this module always had)
    _HIT_COLUMNS,
    BAND,
    GAP_COST,
    GAPPED_IDENTITY,
    SUBSTITUTION_LEVELS,
    Hit,
    ObservationModel,
    _banded_alignment,
    _logmeanexp,
    _make_hit,
    _score_windows,
)
from protlm.sequencing.index import ReferenceIndex
from protlm.sequencing.reads import parse_known, validate_read
from protlm.sequencing.seeds import (
    SEED_SPAN,
    _read_items,
    _Seeds,
    encode_read,
    seed_table,
)

__all__ = [
    "SUBSTITUTION_LEVELS",
    "ObservationModel",
    "Hit",
    "ReferenceHits",
    "search_reads",
]

log = logging.getLogger(__name__)

# hits kept beyond the reported ones (for the hybrid), and their least posterior
_MAX_KEPT = 50
_MIN_KEPT_POSTERIOR = 1e-4



@dataclass(frozen=True)
class ReferenceHits:
    """Top reference hits of every read, from :func:`search_reads`.

    Attributes
    ----------
    hits : tuple of Hit
        Sorted by read (input order), then rank: the ``max_hits`` reported
        per read, then further ones (up to 50, posterior at least 1e-4) that
        the hybrid uses too (several identical copies of a protein share the
        posterior).
    read_ids : tuple of str
        Every read searched, hit or not.
    n_skipped : int
        Reads with too few observed known letters to reach ``max_evalue``
        even with a perfect match; they were not searched.
    n_windows : int
        Number of reference windows (residues) the E-values refer to.
    known, efficiency : str, float
        The observation model used.
    seconds : float
        Search time (seed tables included, index loading not).
    max_hits : int
        Hits reported per read (``hits.tsv``).
    """

    hits: tuple
    read_ids: tuple
    n_skipped: int
    n_windows: int
    known: str
    efficiency: float
    seconds: float
    max_hits: int = 5
    _by_read: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        for h in self.hits:
            self._by_read.setdefault(h.read_id, []).append(h)

    def __repr__(self) -> str:
        hit_reads = len(self._by_read)
        return (
            f"ReferenceHits({len(self.read_ids)} reads, {hit_reads} with hits, {len(self.reported())} hits reported, "
            f"{self.n_skipped} skipped, known={self.known!r}, efficiency={self.efficiency})"
        )

    def by_read(self, read_id: str, *, reported_only: bool = False) -> list:
        """Hits of one read, best first (empty list when none)."""
        hits = self._by_read.get(read_id, ())
        return [h for h in hits if h.rank <= self.max_hits] if reported_only else list(hits)

    def reported(self) -> list:
        """The hits of ``hits.tsv``: at most ``max_hits`` per read."""
        return [h for h in self.hits if h.rank <= self.max_hits]

    def summary(self) -> dict:
        """Counts for ``report.json`` (JSON-ready).

        Reads, reads with hits, reads whose hits' posteriors sum to at least
        0.9 (``reads_with_confident_match``), reads skipped as uninformative,
        hits reported, reference windows and search seconds.
        """
        mass = [sum(h.posterior for h in hs) for hs in self._by_read.values()]
        return {
            "reads": len(self.read_ids),
            "reads_with_hits": len(self._by_read),
            "reads_with_confident_match": sum(m >= 0.9 for m in mass),
            "reads_skipped_uninformative": self.n_skipped,
            "hits_reported": len(self.reported()),
            "reference_windows": self.n_windows,
            "search_seconds": round(self.seconds, 3),
        }

    def to_dataframe(self):
        """One row per hit: the columns of ``hits.tsv``."""
        import pandas as pd

        return pd.DataFrame([h.row() for h in self.reported()], columns=_HIT_COLUMNS)

    def write(self, path) -> None:
        """Write ``hits.tsv`` (tab-separated, ``ref_start`` 1-based), atomically."""
        from protlm.io.atomic import atomic_write

        with atomic_write(path) as fh:
            self.to_dataframe().to_csv(fh, sep="\t", index=False, float_format="%.6g")


def _candidate_diagonals(seeds: _Seeds, residues, obs, *, max_candidates, max_seed_hits):
    """Diagonals (reference position of read position 0) with their anchor positions, best voted first."""
    k = seeds.k
    op = np.flatnonzero(obs < k)
    ol = obs[op]
    m = len(op)
    diag_parts, anchor_parts = [], []
    if m >= 3:
        qk, qp = [], []
        for t1 in (1, 2):
            for t2 in (1, 2):
                n = m - t1 - t2
                if n <= 0:
                    continue
                a, b, c = op[:n], op[t1 : t1 + n], op[t1 + t2 : t1 + t2 + n]
                d1, d2 = b - a, c - b
                ok = (d1 < SEED_SPAN) & (d2 < SEED_SPAN)
                qk.append(seeds._key(ol[:n][ok], ol[t1 : t1 + n][ok], ol[t1 + t2 : t1 + t2 + n][ok], d1[ok], d2[ok]))
                qp.append(a[ok])
        if qk:
            qk, qp = np.concatenate(qk), np.concatenate(qp)
            lo = np.searchsorted(seeds.keys, qk, side="left")
            hi = np.searchsorted(seeds.keys, qk, side="right")
            cnt = hi - lo
            # rarest seeds first, up to max_seed_hits reference hits in all (always the rarest one)
            by_rarity = np.argsort(cnt, kind="stable")
            within = np.cumsum(cnt[by_rarity]) <= max_seed_hits
            within[:1] = True
            keep = by_rarity[within]
            lo, cnt, qp = lo[keep], cnt[keep], qp[keep]
            tot = int(cnt.sum())
            if tot:
                rep = np.repeat(np.arange(len(cnt)), cnt)
                offs = np.arange(tot) - np.repeat(np.cumsum(cnt) - cnt, cnt)
                anchor = seeds.starts[lo[rep] + offs]
                diag_parts.append(anchor - qp[rep])
                anchor_parts.append(anchor)
    if not diag_parts and m >= 2:
        # pair seed: the two observed letters closest together
        g = np.diff(op)
        i = int(np.argmin(g))
        d = int(g[i])
        first = seeds.letter_pos[ol[i]]
        first = first[first + d < len(residues)]
        code_b = AMINO_ACIDS.index(seeds.known[ol[i + 1]])
        hit = first[residues[first + d] == code_b]
        diag_parts.append(hit - op[i])
        anchor_parts.append(hit)
    if not diag_parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    diag = np.concatenate(diag_parts)
    qpos = np.concatenate(anchor_parts) - diag  # read position of each seed, 0 <= qpos < L
    # sort (diagonal, read position) pairs as one integer: cheaper than argsort
    width = len(obs) + 1
    packed = np.sort(diag * width + qpos)
    diag_sorted = packed // width
    first = np.flatnonzero(np.r_[True, diag_sorted[1:] != diag_sorted[:-1]])
    votes = np.diff(np.r_[first, len(packed)])
    if len(first) > max_candidates:
        first = first[np.argpartition(-votes, max_candidates - 1)[:max_candidates]]
    uniq = diag_sorted[first]
    return uniq, uniq + packed[first] % width


def search_reads(
    reads,
    index: ReferenceIndex,
    *,
    known: str,
    efficiency: float = 1.0,
    max_hits: int = 5,
    max_evalue: float = 10.0,
    prior: float = 0.5,
    max_candidates: int = 2000,
    max_seed_hits: int = 50_000,
    max_cells: int = 100_000,
    gapped: bool = True,
    callback=None,
) -> ReferenceHits:
    """Top reference hits of each partial read.

    Parameters
    ----------
    reads : iterable
        ``(read_id, sequence)`` pairs, a ``{read_id: sequence}`` dict, or
        objects with ``.id`` and ``.sequence`` (e.g. FASTA records).  A
        sequence holds known letters and ``X`` (or ``.``) only.
    index : ReferenceIndex
        From :func:`protlm.sequencing.index.open_reference` or ``build_index``.
    known : str
        Known letters, e.g. ``"KCYM"``.
    efficiency : float
        Detection efficiency ``e`` of the known letters.
    max_hits : int
        Hits reported per read.
    max_evalue : float
        Hits with a larger E-value are not reported; reads that cannot reach
        it even with a perfect match are not searched (``n_skipped``).
    prior : float
        Prior probability that a read's protein, or a homolog, is in the
        reference (enters the posteriors).
    max_candidates : int
        Best-voted diagonals verified per read (at most ``max_cells`` read
        positions times candidates, and at least 50).
    max_seed_hits : int
        Seed occurrences gathered per read, rarest seeds first (frequent,
        low-complexity seeds are left out once rarer ones fill the budget).
    max_cells : int
        Budget of window cells verified per read (see ``max_candidates``).
    gapped : bool
        Realign distant hits (identity below :data:`GAPPED_IDENTITY`) with
        gaps in a band of +-:data:`BAND` around their diagonal.
    callback : callable, optional
        ``callback(reads_done, None)`` every 100 reads.

    Returns
    -------
    ReferenceHits

    Raises
    ------
    protlm.errors.ReadFormatError
        A read with a letter other than a known letter, ``X`` or ``.``.

    Examples
    --------
    >>> import io
    >>> from protlm.sequencing.index import build_index
    >>> idx = build_index(io.StringIO(">p1\\nMAKLCEEYAGKWLMQAACDEKKLPYTRAMC\\n>p2\\nAAAAGGGSSSTTTLLLVVVEEEDDDNNNQQ\\n"))
    >>> hits = search_reads([("r1", "XXKXCXXYXXKXXMXXXXXXKKXXYXXXMC")], idx, known="KCYM")
    >>> h = hits.by_read("r1")[0]
    >>> h.ref_id, h.ref_start, h.n_match, h.n_known
    ('p1', 0, 10, 10)
    """
    known = parse_known(known)
    if not 0.0 < prior < 1.0:
        raise ProtlmError(f"prior must be in (0, 1), not {prior}")
    t0 = time.perf_counter()
    model = ObservationModel(known, float(efficiency), index.frequencies)
    tables_2d = np.stack([model.score_table(eps) for eps in SUBSTITUTION_LEVELS])  # (levels, k + 1, 22)
    best = tables_2d.max(axis=0)[:, :20].max(axis=1)  # best score per observation
    tables = tables_2d.reshape(len(tables_2d), -1)
    n_windows = index.n_residues
    log_null = np.log((1.0 - prior) / prior) + np.log(n_windows)
    seeds = seed_table(index, known)
    k = len(known)
    known_codes = model.known_codes
    hits, read_ids, n_skipped = [], [], 0
    for r, (rid, seq) in enumerate(_read_items(reads)):
        read_ids.append(rid)
        obs = encode_read(validate_read(seq, known, read_id=rid, record=r), known)
        if callback is not None and (r + 1) % 100 == 0:
            callback(r + 1, None)
        if len(obs) == 0 or np.log(n_windows) - best[obs].sum() > np.log(max_evalue):
            n_skipped += 1
            continue
        n_cand = max(50, min(max_candidates, max_cells // len(obs)))
        diag, anchor = _candidate_diagonals(seeds, index.residues, obs, max_candidates=n_cand, max_seed_hits=max_seed_hits)
        if len(diag) == 0:
            continue
        seq_idx, level_scores = _score_windows(index, obs, diag, anchor, tables)
        score = _logmeanexp(level_scores, axis=1)
        log_total = np.logaddexp(log_null, np.logaddexp.reduce(score))
        order = np.argsort(-score, kind="stable")[: max(max_hits, _MAX_KEPT)]
        rank = 0
        for c in order:
            s = float(score[c])
            evalue = float(n_windows * np.exp(-s))
            posterior = float(np.exp(s - log_total))
            if evalue > max_evalue or (rank >= max_hits and posterior < _MIN_KEPT_POSTERIOR):
                break
            rank += 1
            hits.append(_make_hit(index, obs, k, known_codes, tables_2d, level_scores[c], int(diag[c]),
                                  int(seq_idx[c]), gapped=gapped and posterior >= _MIN_KEPT_POSTERIOR,
                                  read_id=rid, rank=rank, score=s, evalue=evalue, posterior=posterior))
    seconds = time.perf_counter() - t0
    result = ReferenceHits(
        hits=tuple(hits),
        read_ids=tuple(read_ids),
        n_skipped=n_skipped,
        n_windows=n_windows,
        known=known,
        efficiency=float(efficiency),
        seconds=seconds,
        max_hits=max_hits,
    )
    log.info("%r in %.2f s", result, seconds)
    return result
