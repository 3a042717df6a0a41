"""Scoring a partial read against reference windows: the observation model, window scores, the banded gapped alignment and the :class:`Hit` record.

The model and the scores are described in :mod:`protlm.sequencing.reference`,
whose search (:func:`protlm.sequencing.reference.search_reads`) calls these.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from protlm.errors import ProtlmError
from protlm.models.alphabet import AMINO_ACIDS
from protlm.sequencing.index import SEPARATOR, ReferenceIndex

__all__ = ["SUBSTITUTION_LEVELS", "ObservationModel", "Hit"]

#: Substitution probabilities the score averages over (same protein ... remote homolog).
SUBSTITUTION_LEVELS = (0.01, 0.1, 0.3, 0.6)
_HIT_COLUMNS = [
    "read_id",
    "rank",
    "ref_id",
    "ref_start",
    "ref_end",
    "score",
    "evalue",
    "posterior",
    "identity",
    "n_known",
    "n_match",
    "identity_known",
    "n_conflict",
    "coverage",
    "n_gaps",
]

#: Hits with a lower identity are realigned with gaps (homologs with insertions/deletions).
GAPPED_IDENTITY = 0.9
#: Half-width of the alignment band around the seed diagonal, and the cost of one gap position (nats).
BAND = 12
GAP_COST = 2.0


@dataclass(frozen=True)
class ObservationModel:
    """How a sequencer shows a residue, and how likely each observation is by chance.

    Parameters
    ----------
    known : str
        Known letters, e.g. ``"KCYM"``.
    efficiency : float
        Probability that a known-type residue is detected (0 < e <= 1).
    frequencies : numpy.ndarray
        Background frequency of the 20 residues.

    Examples
    --------
    >>> import numpy as np
    >>> m = ObservationModel("KCYM", 1.0, np.full(20, 0.05))
    >>> round(float(m.background[-1]), 3)   # P(X) for a random residue
    0.8
    >>> t = m.score_table(0.01)  # rows: K, C, Y, M, X
    >>> bool(t[0, AMINO_ACIDS.index("K")] > 2) and bool(t[0, AMINO_ACIDS.index("A")] < -2)
    True
    """

    known: str
    efficiency: float
    frequencies: np.ndarray = field(repr=False)

    def __post_init__(self):
        if not 0.0 < self.efficiency <= 1.0:
            raise ProtlmError(f"detection efficiency must be in (0, 1], not {self.efficiency}")

    @property
    def known_codes(self) -> np.ndarray:
        """Residue index (in :data:`AMINO_ACIDS`) of each known letter, in the order of ``known`` (int64)."""
        return np.array([AMINO_ACIDS.index(a) for a in self.known], dtype=np.int64)

    @property
    def background(self) -> np.ndarray:
        """``P_bg(o)`` for o = each known letter, then ``X``."""
        e = self.efficiency
        f = np.asarray(self.frequencies, dtype=np.float64)
        pk = e * f[self.known_codes]
        return np.append(pk, 1.0 - pk.sum())

    def detection(self) -> np.ndarray:
        """``P_det(o | r)``: rows o (known letters, X), columns r (20 residues)."""
        k, e = len(self.known), self.efficiency
        p = np.zeros((k + 1, 20))
        p[k, :] = 1.0
        for j, c in enumerate(self.known_codes):
            p[j, c] = e
            p[k, c] = 1.0 - e
        return p

    def score_table(self, eps: float) -> np.ndarray:
        """Log-likelihood ratios ``(k + 1, 22)``: observation x reference code (0 for OTHER/SEPARATOR)."""
        bg = self.background
        ratio = (1.0 - eps) * self.detection() / bg[:, None] + eps
        table = np.zeros((len(bg), SEPARATOR + 1))
        with np.errstate(divide="ignore"):
            table[:, :20] = np.log(ratio)
        return table


@dataclass(frozen=True)
class Hit:
    """One reference window consistent with a read.

    ``ref_start`` is the 0-based offset, in the reference sequence, of the
    read's first residue on the hit's diagonal (negative when the read starts
    before the sequence); ``ref_index`` the sequence's index in the reference
    index.  ``score``, ``evalue`` and ``posterior`` are those of the ungapped
    window.  For a distant hit (identity below :data:`GAPPED_IDENTITY`) the
    read is also aligned with gaps in a band around that diagonal:
    ``aligned`` then holds, per read position, the 0-based reference offset
    it is aligned to (-1: inserted in the read), ``n_gaps`` the gap positions,
    and ``identity`` comes from the gapped alignment.
    """

    read_id: str
    rank: int
    ref_index: int
    ref_id: str
    ref_start: int
    ref_end: int
    score: float
    evalue: float
    posterior: float
    identity: float
    n_known: int
    n_match: int
    n_conflict: int
    coverage: float
    n_gaps: int = 0
    aligned: np.ndarray | None = field(default=None, repr=False, compare=False)

    def reference_offsets(self, length: int) -> np.ndarray:
        """0-based offset in the reference sequence of each read position (-1 where unaligned)."""
        if self.aligned is not None:
            return self.aligned
        return self.ref_start + np.arange(length)

    @property
    def identity_known(self) -> float:
        """Fraction of the read's known letters that the reference has too."""
        return self.n_match / self.n_known if self.n_known else float("nan")

    def row(self) -> dict:
        """The hit as one row of ``hits.tsv``: column name -> value, ``ref_start`` 1-based."""
        d = {c: getattr(self, c) for c in _HIT_COLUMNS}
        d["ref_start"] = self.ref_start + 1  # 1-based in tables
        return d


def _window(index: ReferenceIndex, length: int, diag: int, seq: int):
    """Reference codes under a window, :data:`SEPARATOR` outside sequence ``seq``, and the inside mask."""
    gpos = diag + np.arange(length)
    s0 = int(index.starts[seq])
    inside = (gpos >= s0) & (gpos < s0 + int(index.lengths[seq]))
    codes = np.where(inside, index.residues[np.clip(gpos, 0, len(index.residues) - 1)], SEPARATOR)
    return codes, inside


def _score_windows(index: ReferenceIndex, obs, diag, anchor, tables):
    """Sequence of each candidate window and its scores at each substitution level ``(C, levels)``."""
    L, n = len(obs), len(index.residues)
    seq = index.sequence_of(anchor)
    s0 = index.starts[seq]
    s1 = s0 + index.lengths[seq]
    gpos = diag[:, None] + np.arange(L)[None, :]
    if diag.min() < 0 or diag.max() + L > n:
        gpos = np.clip(gpos, 0, n - 1)
    codes = index.residues[gpos]
    over = np.flatnonzero((diag < s0) | (diag + L > s1))  # windows reaching outside their sequence
    if over.size:
        g = gpos[over]
        codes[over] = np.where((g >= s0[over, None]) & (g < s1[over, None]), codes[over], SEPARATOR)
    # histogram of (observation, reference code) pairs per window, times the score tables
    n_pairs = tables.shape[1]
    pair = (obs * (SEPARATOR + 1))[None, :] + codes + (np.arange(len(diag)) * n_pairs)[:, None]
    hist = np.bincount(pair.ravel(), minlength=len(diag) * n_pairs).reshape(len(diag), n_pairs)
    return seq, hist @ tables.T


def _banded_alignment(obs, ref, start, table, *, band=BAND, gap=GAP_COST):
    """Align a read to one reference sequence with gaps, in a band around diagonal ``start``.

    Read position ``i`` on band offset ``d`` is aligned to reference offset
    ``start + i + d``; a read position may be left unaligned (an insertion in
    the read) and reference residues may be skipped (a deletion), each gap
    position costing ``gap``.  The whole read is aligned (reference ends are
    free).  Linear-gap dynamic programming, one numpy step per read position.

    Returns
    -------
    offsets : numpy.ndarray
        Reference offset per read position, -1 where unaligned.
    score : float
    n_gaps : int
    """
    L, n = len(obs), len(ref)
    ds = np.arange(-band, band + 1)
    width = len(ds)
    j = start + np.arange(L)[:, None] + ds[None, :]
    inside = (j >= 0) & (j < n)
    codes = np.where(inside, ref[np.clip(j, 0, max(n - 1, 0))], SEPARATOR)
    match = table[obs[:, None], codes]  # (L, width)
    neg = -1e18
    prev = np.zeros(width)
    choice = np.zeros((L, width), dtype=bool)  # True: read position inserted (unaligned)
    came = np.zeros((L, width), dtype=np.int64)  # band index the aligned step came from (reference gap)
    gd = gap * np.arange(width)
    band_idx = np.arange(width)
    inserted = np.empty(width)
    inserted[-1] = neg
    for i in range(L):
        # reference gaps: best previous band index d' <= d, paying gap per skipped residue
        shifted = prev + gd
        acc = np.maximum.accumulate(shifted)
        came[i] = np.maximum.accumulate(np.where(shifted >= acc, band_idx, 0))
        aligned = acc - gd + match[i]
        inserted[:-1] = prev[1:] - gap
        take_ins = inserted > aligned
        prev = np.where(take_ins, inserted, aligned)
        choice[i] = take_ins
    d = int(np.argmax(prev))
    score = float(prev[d])
    offsets = np.full(L, -1, dtype=np.int64)
    n_gaps = 0
    for i in range(L - 1, -1, -1):
        if choice[i, d]:
            n_gaps += 1
            d += 1
            continue
        offsets[i] = start + i + ds[d]
        d_prev = int(came[i, d])
        n_gaps += d - d_prev
        d = d_prev
    offsets[(offsets < 0) | (offsets >= n)] = -1
    return offsets, score, n_gaps


def _logmeanexp(x, axis):
    mx = np.max(x, axis=axis, keepdims=True)
    return (mx + np.log(np.mean(np.exp(x - mx), axis=axis, keepdims=True))).squeeze(axis)


def _level_weights(level_scores):
    lv = np.exp(level_scores - level_scores.max())
    return lv / lv.sum()


def _make_hit(index, obs, k, known_codes, tables_2d, level_scores, diag, seq, *, gapped, **fields) -> Hit:
    """A :class:`Hit` for the window of sequence ``seq`` on diagonal ``diag``, realigned with gaps when distant."""
    ident_levels = 1.0 - np.asarray(SUBSTITUTION_LEVELS)
    w = _level_weights(level_scores)
    s_ref, length = int(index.starts[seq]), int(index.lengths[seq])
    start = diag - s_ref
    aligned, n_gaps = None, 0
    if gapped and float(w @ ident_levels) < GAPPED_IDENTITY:
        ref = index.residues[s_ref: s_ref + length]
        aligned, _, n_gaps = _banded_alignment(obs, ref, start, tables_2d[int(np.argmax(level_scores))])
        codes = np.where(aligned >= 0, ref[np.maximum(aligned, 0)], SEPARATOR)
        w = _level_weights(tables_2d[:, obs, codes].sum(axis=1))
        inside = aligned >= 0
    else:
        codes, inside = _window(index, len(obs), diag, seq)
    is_known = (obs < k) & inside
    ref_known_code = np.where(obs < k, known_codes[np.minimum(obs, k - 1)], -1)
    return Hit(
        ref_index=seq,
        ref_id=index.ids[seq],
        ref_start=start,
        ref_end=min(start + len(obs), length),
        identity=float(w @ ident_levels),
        n_known=int(is_known.sum()),
        n_match=int(((codes == ref_known_code) & is_known).sum()),
        n_conflict=int(((obs == k) & np.isin(codes, known_codes)).sum()),
        coverage=float(inside.mean()),
        n_gaps=int(n_gaps),
        aligned=aligned,
        **fields,
    )
