"""Predicting full sequences from partial reads: windows, batches, constrained decoding, refinement.

:func:`predict_reads` cuts reads into the backend's windows (overlapping for
long reads; each position is taken from the window where it is most central),
sorts the windows by length into batches of about ``batch_tokens`` tokens, runs
one forward pass per window, and decodes every ``X`` with
:func:`~protlm.sequencing.decode.constrained_probabilities`.  With
``refine=R``, the most confident ``X`` of each read are filled in ``R`` steps
and the windows are scored again with those letters in place.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from protlm.models.alphabet import AMINO_ACIDS, MASK_TOKEN, PAD_TOKEN, UNKNOWN, known_vector
from protlm.sequencing.decode import constrained_probabilities, refinement_schedule
from protlm.sequencing.masking import window_bounds, window_tokens
from protlm.sequencing.reads import PartialRead, parse_known

__all__ = ["Prediction", "predict_reads"]

log = logging.getLogger(__name__)

_LETTERS = np.array(list(AMINO_ACIDS))


@dataclass(frozen=True, eq=False)
class Prediction:
    """Predicted sequences with a distribution over the 20 residues at every position.

    Attributes
    ----------
    ids : tuple of str
    reads : tuple of str
        The partial reads (``X`` at unknown positions).
    sequences : tuple of str
        The most probable residue at every position.
    probabilities : numpy.ndarray, shape (total_length, 20)
        Rows of all reads concatenated (see :meth:`read_probabilities`); a read
        letter has probability 1.
    offsets : numpy.ndarray, shape (n_reads + 1,)
        Read ``i`` covers rows ``offsets[i]:offsets[i + 1]``.
    known : str
    efficiency : float
    info : dict
        Backend, options, timings.
    """

    ids: tuple
    reads: tuple
    sequences: tuple
    probabilities: np.ndarray
    offsets: np.ndarray
    known: str
    efficiency: float
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        unknown = self.unknown_mask()
        conf = float(self.probabilities[unknown].max(axis=1).mean()) if unknown.any() else float("nan")
        return (f"Prediction(n_reads={len(self)}, n_residues={len(self.probabilities)}, n_unknown={int(unknown.sum())}, "
                f"known={self.known!r}, efficiency={self.efficiency:g}, mean_confidence={conf:.3f}, "
                f"backend={self.info.get('backend')!r})")

    def read_probabilities(self, i: int) -> np.ndarray:
        """``(length, 20)`` probabilities of read ``i``."""
        return self.probabilities[self.offsets[i]: self.offsets[i + 1]]

    def select(self, indices) -> "Prediction":
        """The prediction of the reads at ``indices`` only (same order as given)."""
        indices = np.asarray(indices, dtype=np.int64)
        lengths = np.diff(self.offsets)[indices]
        rows = np.concatenate([np.arange(self.offsets[i], self.offsets[i + 1]) for i in indices]) if len(indices) \
            else np.zeros(0, dtype=np.int64)
        return Prediction(ids=tuple(self.ids[i] for i in indices), reads=tuple(self.reads[i] for i in indices),
                          sequences=tuple(self.sequences[i] for i in indices), probabilities=self.probabilities[rows],
                          offsets=np.concatenate([[0], np.cumsum(lengths)]), known=self.known,
                          efficiency=self.efficiency, info=self.info)

    def unknown_mask(self) -> np.ndarray:
        """Boolean over all rows: True at an ``X`` of the read."""
        joined = "".join(self.reads).encode("ascii")
        return np.frombuffer(joined, dtype=np.uint8) == ord(UNKNOWN)

    def to_dataframe(self):
        """One row per position: ``read_id, position`` (1-based), ``observed, predicted, probability``,
        and the next two alternatives ``alt1, alt1_probability, alt2, alt2_probability``
        (empty at read letters)."""
        import pandas as pd

        n = len(self.probabilities)
        order = np.argsort(-self.probabilities, axis=1, kind="stable")[:, :3]
        top = np.take_along_axis(self.probabilities, order, axis=1)
        lengths = np.diff(self.offsets)
        read_index = np.repeat(np.arange(len(self)), lengths)
        position = np.arange(n) - np.repeat(self.offsets[:-1], lengths) + 1
        observed = np.frombuffer("".join(self.reads).encode("ascii"), dtype="S1").astype("U1")
        unknown = observed == UNKNOWN
        alt1 = np.where(unknown, _LETTERS[order[:, 1]], "")
        alt2 = np.where(unknown, _LETTERS[order[:, 2]], "")
        return pd.DataFrame({
            "read_id": np.asarray(self.ids, dtype=object)[read_index],
            "position": position,
            "observed": observed,
            "predicted": _LETTERS[order[:, 0]],
            "probability": top[:, 0].round(4),
            "alt1": alt1,
            "alt1_probability": np.where(unknown, top[:, 1].round(4), np.nan),
            "alt2": alt2,
            "alt2_probability": np.where(unknown, top[:, 2].round(4), np.nan),
        })

    def to_records(self):
        """Predicted sequences as :class:`protlm.io.FastaRecord` (header: id, known set, mean probability at X)."""
        from protlm.io import FastaRecord

        out = []
        unknown = self.unknown_mask()
        top = self.probabilities.max(axis=1)
        for i, (rid, seq) in enumerate(zip(self.ids, self.sequences)):
            sl = slice(self.offsets[i], self.offsets[i + 1])
            u = unknown[sl]
            mean = float(top[sl][u].mean()) if u.any() else 1.0
            out.append(FastaRecord(rid, f"{rid} known={self.known} efficiency={self.efficiency:g} "
                                        f"mean_probability_unknown={mean:.3f}", seq))
        return out

    def write_fasta(self, path) -> None:
        """Write the predicted sequences as FASTA (``predictions.fasta``), atomically."""
        from protlm.io import write_fasta

        write_fasta(self.to_records(), path)

    def write_positions(self, path) -> None:
        """Write the per-position table (``positions.tsv``), atomically."""
        from protlm.io.atomic import atomic_write

        with atomic_write(path) as fh:
            self.to_dataframe().to_csv(fh, sep="\t", index=False, float_format="%.4g")

    def write(self, outdir) -> None:
        """Write ``predictions.fasta`` and ``positions.tsv`` into ``outdir``."""
        from pathlib import Path

        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        self.write_fasta(outdir / "predictions.fasta")
        self.write_positions(outdir / "positions.tsv")


def _plan_windows(lengths, max_len, overlap):
    """Per window: read index, start, stop, and the owned range [own_start, own_stop)."""
    plan = []
    for i, n in enumerate(lengths):
        bounds = window_bounds(int(n), max_len, overlap=overlap)
        for k, (s, e) in enumerate(bounds):
            own_s = s if k == 0 else (bounds[k - 1][1] + s) // 2
            own_e = e if k == len(bounds) - 1 else (e + bounds[k + 1][0]) // 2
            plan.append((i, s, e, own_s, own_e))
    return plan


def _score(backend, tokens_all, offsets, lengths, plan, known, efficiency, batch_tokens, out, active=None,
           callback=None, termini=True):
    """Fill ``out`` (total, 20) with the backend's log-scores at owned positions of the planned windows."""
    jobs = [w for w in plan if active is None or active[w[0]]]
    sizes = np.array([(w[2] - w[1]) + termini * (int(w[1] == 0) + int(w[2] == lengths[w[0]])) for w in jobs],
                     dtype=np.int64)
    order = np.argsort(sizes, kind="stable")
    kv = known.astype(np.float32)
    done = 0
    lo = 0
    while lo < len(order):
        width = int(sizes[order[min(len(order) - 1, lo)]])
        # grow the batch while the padded size stays within budget
        hi = lo + 1
        while hi < len(order) and int(sizes[order[hi]]) * (hi - lo + 1) <= batch_tokens:
            hi += 1
        batch = [jobs[j] for j in order[lo:hi]]
        width = int(sizes[order[hi - 1]])
        toks = np.full((len(batch), width), PAD_TOKEN, dtype=np.int64)
        for b, (i, s, e, _, _) in enumerate(batch):
            body = tokens_all[offsets[i]: offsets[i + 1]]
            w = window_tokens(body, s, e, int(lengths[i]), termini=termini)
            toks[b, : len(w)] = w
        logits = backend.window_logits(toks, np.broadcast_to(kv, (len(batch), 20)),
                                       np.full(len(batch), efficiency, dtype=np.float32))
        for b, (i, s, e, own_s, own_e) in enumerate(batch):
            first = 1 if (s == 0 and termini) else 0
            out[offsets[i] + own_s: offsets[i] + own_e] = logits[b, first + own_s - s: first + own_e - s]
        done += len(batch)
        if callback is not None:
            callback(done, total=len(jobs))
        lo = hi


def predict_reads(reads, *, known, backend, efficiency=1.0, refine=0, prior=None, batch_tokens=16384,
                  overlap=64, termini=True, callback=None) -> Prediction:
    """Most probable full sequence, and a distribution at every ``X``, for each read.

    Parameters
    ----------
    reads : sequence of PartialRead
        Validated reads (:func:`~protlm.sequencing.reads.read_reads`).
    known : str
        The known set.
    backend : SequencerBackend
        E.g. :meth:`ModelBackend.from_weights() <protlm.sequencing.backends.ModelBackend.from_weights>`.
    efficiency : float
        Detection efficiency in (0, 1].
    refine : int
        Refinement passes (0: one pass).
    prior : sequence of (array (length, 20) or None), optional
        Per-read, per-position prior probabilities multiplied into the
        decoded distribution (e.g. from reference hits); ``None`` for a read
        without one.
    batch_tokens : int
        Padded tokens per forward pass.
    overlap : int
        Residues shared by consecutive windows of a long read.
    termini : bool
        Whether a read's ends are its protein's N- and C-terminus (whole
        proteins: the model is told, as in training).  ``False`` for peptides
        (tryptic or other fragments), whose ends lie inside the protein: the
        model then sees them as it sees the inner edges of training windows.
    callback : callable, optional
        ``callback(windows_done, total=n_windows)``.

    Returns
    -------
    Prediction

    Examples
    --------
    >>> from protlm.sequencing.backends import FrequencyBackend
    >>> freq = np.full(20, 0.04); freq[9] = 0.24  # L most frequent
    >>> p = predict_reads([PartialRead("r", "MXXKX")], known="KCYM", backend=FrequencyBackend(freq))
    >>> p.sequences
    ('MLLKL',)
    """
    known = parse_known(known)
    if not 0.0 < efficiency <= 1.0:
        raise ValueError(f"efficiency must be in (0, 1], not {efficiency}")
    if refine < 0:
        raise ValueError(f"refine must be >= 0, not {refine}")
    started = time.perf_counter()
    kv = known_vector(known)
    reads = list(reads)
    for r in reads:
        if not isinstance(r, PartialRead):
            raise TypeError(f"expected PartialRead, got {type(r).__name__}")
    lengths = np.array([len(r) for r in reads], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    total = int(offsets[-1])
    tokens = np.concatenate([r.tokens() for r in reads]) if reads else np.zeros(0, dtype=np.int64)
    unknown = tokens == MASK_TOKEN
    log_prior = None
    if prior is not None:
        if len(prior) != len(reads):
            raise ValueError(f"prior has {len(prior)} entries for {len(reads)} reads")
        log_prior = np.zeros((total, 20), dtype=np.float32)
        for i, p in enumerate(prior):
            if p is None:
                continue
            p = np.asarray(p, dtype=np.float64)
            if p.shape != (lengths[i], 20):
                raise ValueError(f"prior of read {reads[i].id!r} has shape {p.shape}, expected ({lengths[i]}, 20)")
            with np.errstate(divide="ignore"):
                log_prior[offsets[i]: offsets[i + 1]] = np.log(p)
    plan = _plan_windows(lengths, backend.max_len, overlap)
    scores = np.zeros((total, 20), dtype=np.float32)
    probs = np.zeros((total, 20), dtype=np.float32)
    fixed = ~unknown
    probs[fixed, tokens[fixed]] = 1.0
    pending = unknown.copy()
    read_of = np.repeat(np.arange(len(reads)), lengths)
    schedule_rows = [refinement_schedule(int(unknown[offsets[i]: offsets[i + 1]].sum()), refine) for i in range(len(reads))]
    n_passes = 0
    for rnd in range(refine + 1):
        active = np.bincount(read_of[pending], minlength=len(reads)) > 0 if len(reads) else np.zeros(0, bool)
        if not active.any():
            break
        _score(backend, tokens, offsets, lengths, plan, kv, efficiency, batch_tokens, scores, active=active,
               callback=callback, termini=termini)
        n_passes += 1
        rows = np.flatnonzero(pending)
        p = constrained_probabilities(scores[rows], kv, efficiency,
                                      log_prior=None if log_prior is None else log_prior[rows])
        probs[rows] = p
        if rnd == refine:
            break
        # fill the most confident pending positions of each read
        conf = p.max(axis=1)
        rd = read_of[rows]
        order = np.lexsort((-conf, rd))
        rank = np.empty(len(rows), dtype=np.int64)
        starts = np.searchsorted(rd[order], np.arange(len(reads)))
        rank[order] = np.arange(len(rows)) - starts[rd[order]]
        quota = np.array([s[rnd] if s else 0 for s in schedule_rows], dtype=np.int64)
        take = rank < quota[rd]
        chosen = rows[take]
        tokens = tokens.copy()
        tokens[chosen] = p[take].argmax(axis=1)
        pending[chosen] = False
    best = probs.argmax(axis=1)
    letters = _LETTERS[best]
    sequences = tuple("".join(letters[offsets[i]: offsets[i + 1]]) for i in range(len(reads)))
    info = {"backend": backend.name, "refine": refine, "passes": n_passes, "windows": len(plan),
            "batch_tokens": batch_tokens, "overlap": overlap, "termini": termini, "prior": prior is not None,
            "seconds": round(time.perf_counter() - started, 3)}
    log.info("predicted %d reads (%d residues, %d unknown) in %.1f s", len(reads), total, int(unknown.sum()),
             info["seconds"])
    return Prediction(ids=tuple(r.id for r in reads), reads=tuple(r.read for r in reads), sequences=sequences,
                      probabilities=probs, offsets=offsets, known=known, efficiency=float(efficiency), info=info)
