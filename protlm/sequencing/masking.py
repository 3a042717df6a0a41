"""Turning full sequences into training examples: windows, known sets, missed detections.

The same windowing (:func:`window_bounds`) is used at prediction time, so the
model sees windows of the same shape in training and in use.
"""

from __future__ import annotations

import numpy as np

from protlm.models.alphabet import AMINO_ACIDS, BOS_TOKEN, EOS_TOKEN, MASK_TOKEN, PAD_TOKEN

__all__ = ["KNOWN_SET_MIXTURE", "sample_condition", "window_tokens", "window_bounds", "make_batch"]

#: Known sets the training mixture favours (the rest are random subsets).
KNOWN_SET_MIXTURE = (
    ("KCYM", 0.30),
    ("KCYM+1", 0.20),
    ("KCYMRHWST", 0.15),
    ("random", 0.35),
)
_EXTRA = "ADEFGHILNPQRSTVW"


def sample_condition(rng: np.random.Generator, *, p_perfect=0.5, min_efficiency=0.6):
    """Draw a known set (boolean mask over the 20 residues) and a detection efficiency.

    The known set is drawn from :data:`KNOWN_SET_MIXTURE`: ``KCYM``, ``KCYM`` plus
    one other residue, ``KCYMRHWST``, or a random subset of 1 to 12 residues.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    p_perfect : float, default 0.5
        Probability that the efficiency is exactly 1 (every known residue detected).
    min_efficiency : float, default 0.6
        Otherwise the efficiency is uniform in ``[min_efficiency, 1)``.

    Returns
    -------
    known : numpy.ndarray
        Shape (20,) bool, ``True`` for the residues of the known set (in
        :data:`~protlm.models.alphabet.AMINO_ACIDS` order).
    efficiency : float
        Probability that a residue of the known set is detected.

    Examples
    --------
    >>> known, e = sample_condition(np.random.default_rng(0))
    >>> known.shape, 0.6 <= e <= 1.0
    ((20,), True)
    """
    names = [n for n, _ in KNOWN_SET_MIXTURE]
    probs = np.array([p for _, p in KNOWN_SET_MIXTURE])
    kind = names[rng.choice(len(names), p=probs / probs.sum())]
    known = np.zeros(20, dtype=bool)
    if kind == "random":
        known[rng.choice(20, size=int(rng.integers(1, 13)), replace=False)] = True
    else:
        letters = "KCYM" + (_EXTRA[rng.integers(len(_EXTRA))] if kind == "KCYM+1" else "")
        if kind == "KCYMRHWST":
            letters = kind
        for a in letters:
            known[AMINO_ACIDS.index(a)] = True
    eff = 1.0 if rng.random() < p_perfect else float(rng.uniform(min_efficiency, 1.0))
    return known, eff


def window_bounds(length: int, max_len: int, *, overlap: int = 64):
    """Windows ``(start, stop)`` covering a protein of ``length`` residues.

    Each window holds at most ``max_len - 2`` residues (room for the terminus
    markers); consecutive windows overlap by about ``overlap`` residues (at
    most half a window).

    Parameters
    ----------
    length : int
        Number of residues of the protein.
    max_len : int
        Model window length in tokens, terminus markers included.
    overlap : int, default 64
        Wanted overlap of consecutive windows, in residues (capped at half a window).

    Returns
    -------
    list of tuple of int
        Half-open residue ranges ``(start, stop)``, in order; the first starts at 0
        and the last stops at ``length``.

    Examples
    --------
    >>> window_bounds(10, 256)
    [(0, 10)]
    >>> window_bounds(600, 256, overlap=64)
    [(0, 254), (173, 427), (346, 600)]
    """
    body = max_len - 2
    if length <= body:
        return [(0, length)]
    overlap = min(overlap, body // 2)
    n = int(np.ceil((length - overlap) / (body - overlap)))
    starts = np.round(np.linspace(0, length - body, n)).astype(int)
    return [(int(s), int(s) + body) for s in starts]


def window_tokens(body_tokens: np.ndarray, start: int, stop: int, length: int, *, termini: bool = True) -> np.ndarray:
    """Tokens of window ``[start, stop)`` of a whole protein's tokens, BOS/EOS added where it touches the termini.

    With ``termini=False`` (a peptide, whose ends are not its protein's) no markers are added.

    Parameters
    ----------
    body_tokens : numpy.ndarray
        Tokens of the whole protein, without terminus markers.
    start, stop : int
        Half-open residue range of the window (as from :func:`window_bounds`).
    length : int
        Length of the whole protein: a window with ``stop == length`` gets EOS.
    termini : bool, default True
        Add BOS at ``start == 0`` and EOS at ``stop == length``.

    Returns
    -------
    numpy.ndarray
        The window's tokens, with the markers added.

    Examples
    --------
    >>> window_tokens(np.arange(6), 2, 6, 6).tolist()
    [2, 3, 4, 5, 23]
    >>> window_tokens(np.arange(6), 2, 6, 6, termini=False).tolist()
    [2, 3, 4, 5]
    """
    return _with_markers(body_tokens[start:stop], termini and start == 0, termini and stop == length)


def _with_markers(window: np.ndarray, at_start: bool, at_end: bool) -> np.ndarray:
    parts = [np.array([BOS_TOKEN])] if at_start else []
    parts.append(window)
    if at_end:
        parts.append(np.array([EOS_TOKEN]))
    return np.concatenate(parts)


def make_batch(sequences, rng: np.random.Generator, *, max_len=256, p_hint=0.25, max_hint_fraction=0.6,
               conditions=None, p_fragment=0.0, fragment_lengths=(6, 60)):
    """One training batch from residue-index arrays (0-19, -1 for other letters).

    For each sequence: a random window, a known set and efficiency
    (:func:`sample_condition`, or ``conditions[i]``), observed positions (known
    type and detected with probability ``e``) shown as their residue, the rest
    as ``MASK``.  With probability ``p_hint`` a random fraction of the masked
    positions is revealed (as iterative refinement does) and excluded from the
    loss.  With probability ``p_fragment`` the window is instead a peptide: a
    random stretch of ``fragment_lengths`` residues (inclusive bounds) with no
    terminus markers, as :func:`~protlm.sequencing.predictor.predict_reads`
    shows peptide reads (``termini=False``).

    Parameters
    ----------
    sequences : sequence of numpy.ndarray
        Residue-index arrays, one per example (0-19, -1 for other letters); a
        position holding -1 is never observed and takes no loss.
    rng : numpy.random.Generator
        Source of randomness (windows, conditions, detections, hints).
    max_len : int, default 256
        Window length in tokens, terminus markers included.
    p_hint : float, default 0.25
        Probability that an example gets hints.
    max_hint_fraction : float, default 0.6
        The fraction of masked positions revealed as hints is uniform in
        ``[0, max_hint_fraction)``.
    conditions : sequence of (numpy.ndarray, float), optional
        ``(known, efficiency)`` per sequence, instead of drawing them with
        :func:`sample_condition`.
    p_fragment : float, default 0.0
        Probability that an example is a peptide fragment rather than a window.
    fragment_lengths : tuple of int, default (6, 60)
        Inclusive bounds of a fragment's length (capped at the sequence length).

    Returns
    -------
    dict of numpy arrays
        ``tokens`` (B, L) int64, ``known`` (B, 20) float32, ``efficiency`` (B,)
        float32, ``targets`` (B, L) int64 with -100 where no loss is taken,
        ``log_px`` (B, 20) float32: ``log P(X | a)``.
    """
    rows, knowns, effs, targets = [], [], [], []
    for i, seq in enumerate(sequences):
        known, eff = conditions[i] if conditions is not None else sample_condition(rng)
        length = len(seq)
        body = max_len - 2
        fragment = p_fragment > 0 and rng.random() < p_fragment
        if fragment:
            body = min(length, int(rng.integers(fragment_lengths[0], fragment_lengths[1] + 1)))
        start = int(rng.integers(0, length - body + 1)) if length > body else 0
        stop = min(length, start + body)
        truth = seq[start:stop]
        std = truth >= 0
        is_known = std & known[np.where(std, truth, 0)]
        observed = is_known & (rng.random(len(truth)) < eff)
        tok = np.where(observed, truth, MASK_TOKEN)
        tgt = np.where(~observed & std, truth, -100)
        if rng.random() < p_hint:
            masked = np.flatnonzero(tgt >= 0)
            n_hint = int(rng.uniform(0, max_hint_fraction) * len(masked))
            if n_hint:
                hint = rng.choice(masked, size=n_hint, replace=False)
                tok[hint] = truth[hint]
                tgt[hint] = -100
        # tok and tgt already hold the window: add the markers without slicing again
        ends = (False, False) if fragment else (start == 0, stop == length)
        tok = _with_markers(tok, *ends)
        tgt = _with_markers(tgt, *ends)
        tgt[(tgt == tok) & (tgt >= 20)] = -100  # the terminus markers
        rows.append(tok)
        targets.append(tgt)
        knowns.append(known)
        effs.append(eff)
    width = max(len(r) for r in rows)
    tokens = np.full((len(rows), width), PAD_TOKEN, dtype=np.int64)
    tg = np.full((len(rows), width), -100, dtype=np.int64)
    for i, (r, t) in enumerate(zip(rows, targets)):
        tokens[i, : len(r)] = r
        tg[i, : len(t)] = t
    known = np.array(knowns, dtype=np.float32)
    eff = np.array(effs, dtype=np.float32)
    return {"tokens": tokens, "known": known, "efficiency": eff, "targets": tg, "log_px": log_px(known, eff)}


def log_px(known: np.ndarray, efficiency: np.ndarray) -> np.ndarray:
    """``log P(X | a)``: 0 outside the known set, ``log(1 - e)`` inside (``-inf`` at e = 1).

    ``X`` is "a position shown as masked"; a residue outside the known set is
    always masked, one inside is masked when its detection failed.

    Parameters
    ----------
    known : numpy.ndarray
        Known sets, shape (20,) or (B, 20), boolean (or 0/1).
    efficiency : float or numpy.ndarray
        Detection efficiency, one value or one per row of ``known``.

    Returns
    -------
    numpy.ndarray
        Shape (B, 20) float32.

    Examples
    --------
    >>> log_px(np.eye(20, dtype=bool)[:1], np.array([1.0]))[0, :2].tolist()
    [-inf, 0.0]
    """
    known = np.atleast_2d(known).astype(bool)
    eff = np.broadcast_to(np.asarray(efficiency, dtype=np.float64).reshape(-1), (known.shape[0],))
    with np.errstate(divide="ignore"):
        inside = np.log1p(-eff)[:, None]
    return np.where(known, inside, 0.0).astype(np.float32)
