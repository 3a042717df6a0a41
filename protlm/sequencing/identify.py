"""Identify the reference protein of every read, with a false discovery rate (target-decoy search).

Each read is searched against the reference *and* against its decoys (the
reference sequences reversed or shuffled, stored in the index; see
:func:`protlm.sequencing.index.make_decoys`), by the same procedure:

1. **Candidates.**  The read's triples of observed known letters are looked
   up in the seed table (:func:`protlm.sequencing.seeds.seed_table`), each
   read as it is or with a skipped letter (a false detection) or a shortened
   spacing (:data:`SPACING_SHIFTS` failed cycles), in increasing order of hits over the prior odds
   of that reading, up to :data:`SEED_HITS_PER_READ` reference hits; their
   hits vote for (protein, band of :data:`DIAGONAL_BIN` diagonals, sheared by
   the failed cycles expected before each seed) and the
   :data:`MAX_PROTEINS` most voted proteins (more for a short read: up to
   :data:`ALIGN_RESIDUES` residues' worth, at most :data:`MAX_CANDIDATES`) are kept, each with the range of
   diagonals its votes span (Edman failures move the diagonal), unless they
   have fewer than :data:`MIN_VOTE_FRACTION` of the top protein's votes.
   A reading's prior includes the chance that no cycle of its spacings failed
   (beyond its shift), so long spacings, rare in the table but often shifted
   in a read, are not looked up first.
2. **Alignment with shifts.**  Each candidate is aligned in a band in which
   every read position is either a residue (read position ``i`` over
   reference position ``start + i - d``) or a failed Edman cycle (``d`` grows
   by one: the read shows nothing there, or a false detection).
   Observations follow :class:`~protlm.sequencing.error_model.ErrorModel`
   and the detection efficiency ``e``; a substitution level of
   :data:`IDENTIFICATION_EPS` allows variants but not homologs.  The score is
   the log-likelihood ratio (nats) of the read against a read of random
   residues, at its likeliest start, summed over the placements of its
   failed cycles (the forward algorithm: a failed
   cycle in a run of empty positions can sit at any of them, and the best
   single alignment of a read with many failures is a small part of its
   likelihood), mixed with weight :data:`FAILURE_FREE_WEIGHT` with the
   failure-free reading (in case the reads have fewer failures than the
   error model says).  The Viterbi path gives the counts and the start.
3. **Competition and q-values.**  A read's best target and best decoy
   compete; the winner is its identification.  Over all reads sorted by
   score, ``FDR(t) = (decoys >= t + 1) / (targets >= t)`` and the q-value is
   its running minimum (:func:`q_values`), which controls the FDR (He et al.,
   2015; Levitt's "+1").  With a digest the score is the winner's log
   posterior odds against the read's other candidates (the runners-up of
   targets and decoys, and the other side's best) and a background of the
   digest's windows (:func:`~protlm.sequencing.identify_model.posterior_scores`):
   a short read that another peptide explains as well ranks lower.

4. **Explained reads.**  Decoys model chance matches, not related proteins:
   a homolog of an absent protein outscores every decoy.  An identification
   therefore also has to explain its read (:func:`explained_pvalues`): the
   letters its residues do not account for, and its known-type residues the
   read shows as nothing, must be no more than the error model allows
   (binomial tails >= :data:`EXPLAINED_ALPHA`).  And it has to be
   unambiguous: every protein tied on seed votes with the best
   :data:`MAX_PROTEINS` is aligned (up to :data:`MAX_TIED`), and the winner
   must outscore every other one whose residues under the alignment differ
   (``margin > 0``; a paralog sharing a short read's letters is not evidence
   for either).  Neither criterion changes the q-values.

Steps 1-2 run compiled (numba, :mod:`protlm.sequencing._identify_kernels`),
reads in parallel threads, most voted candidate first.  An alignment is cut
short as soon as its score provably cannot matter (an upper bound: what is
scored so far plus the best every remaining read position could add): a decoy
that cannot beat the read's best target or best decoy (with a digest: more
than :data:`RUNNER_WINDOW` below the best decoy, as its runner-up counts), a
target more than :data:`RUNNER_WINDOW` below the read's best.  Scores,
q-values and identifications are those of the full search; margins are exact
below the window.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from protlm.sequencing.digest import parse_digest, start_mask
from protlm.sequencing.error_model import ErrorModel
from protlm.sequencing.identify_model import (BACKGROUND_OFFSET, IDENTIFICATION_EPS, _expected_drift, _lut, _max_drift,
                                              _seed_prior, _tables, explained_pvalues, posterior_scores, q_values)
from protlm.sequencing.index import ReferenceIndex
from protlm.sequencing.reads import parse_known, validate_read
from protlm.sequencing.chunks import ReadScores
from protlm.sequencing.seeds import SEED_SPAN, _read_items, encode_read, seed_table

__all__ = ["Identifications", "identify_reads", "q_values", "explained_pvalues", "DEFAULT_FDR", "IDENTIFICATION_EPS",
           "EXPLAINED_ALPHA"]

log = logging.getLogger(__name__)

#: FDR at which reads count as identified.
DEFAULT_FDR = 0.01
#: Reference hits of seeds gathered per read, rarest seeds first.
SEED_HITS_PER_READ = 8000
#: Width of the diagonal bands in which a read's seed hits are counted.
DIAGONAL_BIN = 32
#: Spacings of read letters looked up shorter by these amounts (failed cycles between letters).  Two: at
#: Whatprot's Edman failure rate (0.06) a spacing of 20 cycles holds two or more failures a third of the
#: time.  Measured against (0, 1), KCYM whole proteins with errors: E. coli 0.935 -> 0.960, and 0.9475 ->
#: 0.950, 0.965 -> 0.9575 on two other samples of 400 proteins; half-absent test 0.8775 -> 0.920 (error-free
#: 0.9425 -> 0.935); 20k-sample throughput set 0.802 -> 0.813 at the same FDP, 10 % slower.
SPACING_SHIFTS = (0, 1, 2)
#: Candidate proteins aligned per read, in the targets and in the decoys.
MAX_PROTEINS = 3
#: Most proteins aligned per read when more tie on votes with the last of the MAX_PROTEINS (paralogs).
MAX_TIED = 12
#: A read of length L aligns up to ``ALIGN_RESIDUES // L`` most voted candidates (at most MAX_CANDIDATES, and
#: four times as many tied) if that is more than MAX_PROTEINS: a short read's votes hardly rank its protein
#: (one with a repeat of its letters gets more from the shifted and skipped readings; README "Short reads find
#: their own protein" has the measurements).
ALIGN_RESIDUES = 720
MAX_CANDIDATES = 48
#: Candidates with fewer seed votes than this fraction of the read's most voted protein are not aligned.
MIN_VOTE_FRACTION = 0.25
#: Target candidates that provably score more than this (nats) below the read's best are cut short: the
#: margin to the runner-up is exact when below it, and at least it otherwise.
RUNNER_WINDOW = 10.0
#: Start positions tried on either side of the best-voted diagonal.
START_SLACK = 3
#: Prior weight of the failure-free reading of a read in its score (a mixture with the error model's rates).
FAILURE_FREE_WEIGHT = 0.5
#: Least :func:`explained_pvalues` of an identified read (the second criterion, beside ``q <= fdr``).
EXPLAINED_ALPHA = 1e-3
_COLUMNS = ["read_id", "protein_id", "start", "score", "q_value", "decoy", "explained", "margin"]


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
        Log-likelihood ratio (nats; NaN when none; with a digest, the log posterior odds of
        :func:`~protlm.sequencing.identify_model.posterior_scores`) and q-value (1 when none).
    decoy : numpy.ndarray of bool
    margin : numpy.ndarray
        Log-likelihood ratio minus the best one of another target protein
        aligned to the read whose residues under the alignment differ (inf when none; an
        identical copy does not count); a read counts as identified only when
        it is > 0.  None: every read unambiguous.
    explained : numpy.ndarray
        How well the alignment explains the read (:func:`explained_pvalues`);
        a read counts as identified only when it is at least
        :data:`EXPLAINED_ALPHA`.  None: every read explained (1).
    skipped : dict
        For reads identified at ``fdr``: read index -> read positions aligned as failed cycles.
    info : dict
        Options, counts and timings.
    scores : ReadScores or None
        The raw search results the q-values were computed from (what
        ``protlm sequence --chunk`` writes; ``identify_reads(..., scores=)``
        takes them back).
    """

    read_ids: tuple
    protein: np.ndarray
    protein_ids: tuple
    start: np.ndarray
    score: np.ndarray
    q_value: np.ndarray
    decoy: np.ndarray
    explained: np.ndarray | None = field(default=None, repr=False)
    margin: np.ndarray | None = field(default=None, repr=False)
    skipped: dict = field(default_factory=dict, repr=False)
    info: dict = field(default_factory=dict)
    scores: ReadScores | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.read_ids)

    def __repr__(self) -> str:
        return (f"Identifications({len(self)} reads, {int(self.identified().sum())} identified at "
                f"{self.info.get('fdr', DEFAULT_FDR):g} FDR, {int(self.decoy.sum())} decoy winners)")

    def identified(self, fdr: float | None = None) -> np.ndarray:
        """Reads whose target identification has ``q <= fdr`` (default: the search's ``fdr``) and explains the read.

        The second criterion (``explained >= EXPLAINED_ALPHA``) rejects related
        proteins that outscore the decoys (see :func:`explained_pvalues`); the
        third (:meth:`is_unambiguous`) reads that another protein explains as
        well.
        """
        fdr = self.info.get("fdr", DEFAULT_FDR) if fdr is None else fdr
        return self.significant(fdr) & self.is_explained() & self.is_unambiguous()

    def is_unambiguous(self) -> np.ndarray:
        """Reads whose protein outscores every other one aligned to them (``margin > 0``; all when not computed)."""
        if self.margin is None:
            return np.ones(len(self), dtype=bool)
        return self.margin > 0

    def significant(self, fdr: float | None = None) -> np.ndarray:
        """Reads whose target identification has ``q <= fdr``, whether or not it explains the read."""
        fdr = self.info.get("fdr", DEFAULT_FDR) if fdr is None else fdr
        return (~self.decoy) & (self.q_value <= fdr) & (self.protein >= 0)

    def is_explained(self) -> np.ndarray:
        """Reads whose alignment explains them (``explained >= EXPLAINED_ALPHA``; all when not computed)."""
        if self.explained is None:
            return np.ones(len(self), dtype=bool)
        return self.explained >= self.info.get("explained_alpha", EXPLAINED_ALPHA)

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
                "significant_not_explained": int((self.significant() & ~self.is_explained()).sum()),
                "significant_ambiguous": int((self.significant() & ~self.is_unambiguous()).sum()),
                **{k: v for k, v in self.info.items() if k not in ("fdr",)}}

    def to_dataframe(self):
        """One row per read: the columns of ``identifications.tsv`` (``start`` 1-based, empty when none)."""
        import pandas as pd

        has = self.protein >= 0
        df = pd.DataFrame({"read_id": list(self.read_ids), "protein_id": list(self.protein_ids),
                             "start": pd.array(np.where(has, self.start + 1, 0), dtype="Int64"),
                             "score": self.score.round(3), "q_value": self.q_value, "decoy": self.decoy.astype(int),
                             "explained": np.ones(len(self)) if self.explained is None else self.explained,
                             "margin": np.full(len(self), np.inf) if self.margin is None else self.margin.round(3)},
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
                   digest: str | None = None, callback=None, scores: ReadScores | None = None) -> Identifications:
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
    digest : str, optional
        The protease that made the reads' peptides (a key of
        :data:`~protlm.sequencing.digest.DIGESTS`, e.g. ``"trypsin"``): reads
        are placed only where its peptides start (after a cleavage site, or
        at a sequence's N-terminus or after its initiator M), in the targets
        and the decoys alike.  Where they end is left free (missed
        cleavages, read-length limits).  None: anywhere.
    callback : callable, optional
        ``callback(reads_done, total)`` after each batch.
    scores : ReadScores, optional
        The search results of these reads (all chunks of a ``protlm sequence
        --chunk`` run, :func:`~protlm.sequencing.chunks.gather_scores`): the
        search is skipped and the q-values computed over them, which gives
        what the unchunked search gives.

    Returns
    -------
    Identifications

    Raises
    ------
    ChunkError
        If ``scores`` are not of these reads, this index and these options.

    Examples
    --------
    >>> import io
    >>> from protlm.sequencing.index import build_index
    >>> idx = build_index(io.StringIO(">p1\\nMAKLCEEYAGKWLMQAACDEKKLPYTRAMC\\n>p2\\nKAACAYAAAMKKAACAAYAAAMAAACAAKY\\n"))
    >>> ids = identify_reads([("r1", "MXKXCXXYXXKXXMXXXXXXKKXXYXXXMC")], idx, known="KCYM")
    >>> ids.protein_ids[0], int(ids.start[0]), bool(ids.decoy[0]), bool(ids.score[0] > 20)
    ('p1', 0, False, True)
    """
    from protlm.sequencing import _identify_kernels as kern

    known = parse_known(known)
    digest = parse_digest(digest)
    errors = ErrorModel.whatprot() if errors is None else errors
    t0 = time.perf_counter()
    items = [(rid, validate_read(r, known, read_id=rid, record=i)) for i, (rid, r) in enumerate(_read_items(reads))]
    n = len(items)
    decoys = index.decoys()
    res, skip = _tables(known, float(efficiency), index.frequencies, errors, IDENTIFICATION_EPS)
    res, skip = res.astype(np.float64), skip.astype(np.float64)
    lut, k, shifts = _lut(known), len(known), np.asarray(SPACING_SHIFTS, dtype=np.int64)
    prior = _seed_prior(known, float(efficiency), index.frequencies, errors)
    target_starts = _starts_of(index, digest)  # for the search and the traceback alike
    decoy_starts = _starts_of(decoys, digest)
    dbs = [(index, seed_table(index, known), target_starts),
           (decoys, seed_table(decoys, known), decoy_starts)] if scores is None else []
    best = np.full(n, -np.inf)
    counts = np.full((n, len(kern.COUNT_COLUMNS)), -1, dtype=np.int64)
    is_decoy = np.zeros(n, dtype=bool)
    side = np.full((2, 2, n), -np.inf)  # (target, decoy) x (best, runner-up)
    runner = side[0, 1]  # the targets' runner-up (margins)
    competitors = np.full(n, -np.inf)
    reads_only = [r for _, r in items]  # encoded a batch at a time (one array, not one per read)
    if scores is not None:  # searched in chunks: only the q-values and alignments are left to do
        scores.check([i for i, _ in items], index, known=known, efficiency=efficiency, errors=errors.to_dict(),
                     digest=digest, search=_search_settings())
        best, counts, is_decoy, runner = scores.score, scores.counts, scores.decoy, scores.runner
        competitors = scores.competitors
    for b0 in range(0, n, batch_reads):
        flat, offsets, lengths = _pack(reads_only[b0: b0 + batch_reads], known)
        drift, expected = _max_drift(lengths, errors.edman_failure), _expected_drift(lengths, errors.edman_failure)
        for is_d, (db, seeds, start_ok) in enumerate(dbs):
            sc, cn, ru = kern.search_batch(flat, offsets, lengths, drift, expected, k, seeds.keys, seeds.key_bounds(),
                                           seeds.starts, seeds.entry_sequences(db), db.starts, db.lengths, db.residues, res, skip, lut,
                                           SEED_HITS_PER_READ, SEED_SPAN, shifts, DIAGONAL_BIN, MAX_PROTEINS, MAX_TIED,
                                           START_SLACK, *prior, FAILURE_FREE_WEIGHT if errors.edman_failure > 0 else 0.0,
                                           best[b0: b0 + len(lengths)], MIN_VOTE_FRACTION,
                                           bool(is_d) and digest is None, RUNNER_WINDOW, start_ok, ALIGN_RESIDUES,
                                           MAX_CANDIDATES)
            better = np.flatnonzero(sc > best[b0: b0 + len(lengths)])
            best[b0 + better], counts[b0 + better], is_decoy[b0 + better] = sc[better], cn[better], bool(is_d)
            side[is_d, 0, b0: b0 + len(lengths)], side[is_d, 1, b0: b0 + len(lengths)] = sc, ru
        if callback is not None:
            callback(min(b0 + batch_reads, n), n)
    if scores is None:
        if digest is not None:  # the winner's side's runner-up and the other side's best and runner-up
            other = np.logaddexp(np.where(is_decoy, side[0, 0], side[1, 0]), np.where(is_decoy, side[0, 1], side[1, 1]))
            competitors = np.logaddexp(np.where(is_decoy, side[1, 1], side[0, 1]), other)
        scores = ReadScores(tuple(i for i, _ in items), best, is_decoy, runner, counts,
                            {"known": known, "efficiency": float(efficiency), "errors": errors.to_dict(),
                             "reference": index.source, "reference_sequences": index.n_sequences,
                             "reference_residues": index.n_residues, "decoys": index.decoy_method, "n_reads": n,
                             "digest": digest, "search": _search_settings()}, competitors)
    protein, start = counts[:, 0].copy(), counts[:, 1].copy()
    llr = np.where(np.isfinite(best), best, np.nan)
    score = llr if digest is None else posterior_scores(  # against the other candidates and the digest's windows
        best, competitors, int(target_starts.sum()) + int(decoy_starts.sum()))
    q = q_values(score, is_decoy)
    has = protein >= 0
    least_q = float(q[has & ~is_decoy].min()) if (has & ~is_decoy).any() else 1.0
    if n and 0 < fdr < least_q:  # (a chunk searches at fdr 0: its q-values come when gathered)
        log.warning(_too_few_message(score, is_decoy, fdr, least_q))
    explained = np.ones(n)
    explained[has] = explained_pvalues(counts[has, 4], counts[has, 5], counts[has, 6], counts[has, 7], known=known,
                                       efficiency=efficiency, errors=errors, frequencies=index.frequencies)
    # alignments (failed cycles, start) of the reads significant at fdr, for reconstruction
    ident = np.flatnonzero((~is_decoy) & (q <= fdr) & has)
    skipped = {}
    if len(ident):
        flat, offsets, lengths = _pack([reads_only[i] for i in ident], known)
        st, sk = kern.trace_batch(flat, offsets, lengths, protein[ident], counts[ident, 2], counts[ident, 3],
                                  _max_drift(lengths, errors.edman_failure),
                                  _expected_drift(lengths, errors.edman_failure), k, index.starts, index.lengths,
                                  index.residues, res, skip, lut, START_SLACK, target_starts)
        start[ident] = st
        skipped = {int(i): np.flatnonzero(sk[o: o + ln]) for i, o, ln in zip(ident, offsets, lengths)}
    ids = tuple("" if p < 0 else (decoys.ids[p] if d else index.ids[p]) for p, d in zip(protein.tolist(), is_decoy.tolist()))
    seconds = time.perf_counter() - t0
    info = {"known": known, "efficiency": float(efficiency), "errors": errors.to_dict(), "fdr": fdr,
            "identification_eps": IDENTIFICATION_EPS, "explained_alpha": EXPLAINED_ALPHA, "decoys": index.decoy_method,
            "digest": digest, "score": "log_likelihood_ratio" if digest is None else "log_posterior_odds",
            "least_q_value": round(least_q, 6),
            "seconds": round(seconds, 3), "reads_per_second": round(n / seconds, 1) if seconds > 0 else None}
    result = Identifications(read_ids=tuple(i for i, _ in items), protein=protein, protein_ids=ids, start=start,
                             score=score, q_value=q, decoy=is_decoy, explained=explained,
                             margin=np.where(is_decoy, np.inf, llr - runner), skipped=skipped, info=info,
                             scores=scores)
    log.info("%r in %.2f s", result, seconds)
    return result


def _too_few_message(score, is_decoy, fdr, least_q) -> str:
    """Why no read reaches ``q <= fdr``: how many targets outscore the first decoy, against the ``1 / fdr`` needed."""
    ok = np.flatnonzero(~np.isnan(score))
    ranked = is_decoy[ok[np.argsort(-score[ok], kind="stable")]]
    ahead = int(np.argmax(ranked)) if ranked.any() else len(ranked)
    return (f"no read reaches q <= {fdr:g} (least q-value {least_q:.3g}): {ahead} reads outscore the best decoy, and "
            f"the estimate (decoys + 1) / targets needs at least {int(np.ceil(1 / fdr - 1e-9))} for that; a larger "
            f"experiment, or a looser FDR (--fdr), gives identifications")


def _search_settings() -> dict:
    """The search's settings and code digest, which its scores depend on (chunks searched otherwise are refused)."""
    return {"code": _search_code_digest(), "seed_hits": SEED_HITS_PER_READ, "shifts": list(SPACING_SHIFTS),
            "max_proteins": MAX_PROTEINS, "max_tied": MAX_TIED, "align_residues": ALIGN_RESIDUES,
            "max_candidates": MAX_CANDIDATES, "min_vote_fraction": MIN_VOTE_FRACTION, "runner_window": RUNNER_WINDOW,
            "start_slack": START_SLACK, "failure_free_weight": FAILURE_FREE_WEIGHT, "eps": IDENTIFICATION_EPS,
            "background_offset": BACKGROUND_OFFSET}


@functools.lru_cache(maxsize=1)
def _search_code_digest() -> str:
    """SHA-256 (16 hex digits) of the search's source files: this module, its kernels and its seed and score tables."""
    here = Path(__file__).parent
    h = hashlib.sha256()
    for name in ("identify.py", "identify_model.py", "_identify_kernels.py", "_seed_kernels.py", "seeds.py"):
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


def _starts_of(db, digest):
    """Where reads may start in ``db`` under ``digest`` (:func:`~protlm.sequencing.digest.start_mask`; empty: anywhere)."""
    if digest is None:
        return np.zeros(0, dtype=np.bool_)
    return start_mask(db.residues, db.starts, db.lengths, digest)


def _pack(reads, known):
    """Observation codes of validated reads concatenated (:func:`~protlm.sequencing.seeds.encode_read`'s
    codes, one array for all), their offsets and lengths."""
    lengths = np.fromiter((len(r) for r in reads), dtype=np.int64, count=len(reads))
    offsets = np.r_[0, np.cumsum(lengths)[:-1]].astype(np.int64) if len(lengths) else lengths
    flat = encode_read("".join(reads), known) if len(reads) else np.zeros(0, np.int64)
    return flat, offsets, lengths
