"""The statistical model of read identification: observation scores, drift bounds, seed prior, explained reads.

What :func:`protlm.sequencing.identify.identify_reads` hands its compiled
search (:mod:`protlm.sequencing._identify_kernels`): the log-ratio tables of
an observation over a reference residue or a failed Edman cycle under an
:class:`~protlm.sequencing.error_model.ErrorModel` and a detection efficiency
(against a read of random residues), the band of failed cycles a read's
alignment allows, the prior odds by which seeds are ordered, and the test of
whether an alignment explains its read (:func:`explained_pvalues`).
"""

from __future__ import annotations

import numpy as np

from protlm.models.alphabet import AMINO_ACIDS
from protlm.sequencing.error_model import ErrorModel
from protlm.sequencing.index import OTHER, SEPARATOR

__all__ = ["IDENTIFICATION_EPS", "BACKGROUND_OFFSET", "explained_pvalues", "posterior_scores", "q_values"]

#: Substitution probability of the identification score (same protein, variants).
IDENTIFICATION_EPS = 0.01
#: Nats below log(windows) of the background of :func:`posterior_scores`: prior odds of about 1 in 7.4 that a
#: read matches no window.  Chosen on validation reads (E. coli seeds 7 and 8; 4, 0 and -2 were also tried).
BACKGROUND_OFFSET = 2.0


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


def _expected_drift(lengths, pf):
    """Failed cycles expected in a read (the least band of its alignment)."""
    if pf <= 0:
        return np.zeros(len(lengths), dtype=np.int64)
    return np.ceil(lengths * pf / (1.0 - pf)).astype(np.int64)


def _max_drift(lengths, pf):
    """Most failed cycles expected in a read (mean + 4 sd + 2)."""
    if pf <= 0:
        return np.zeros(len(lengths), dtype=np.int64)
    m = lengths * pf / (1.0 - pf)
    return np.ceil(m + 4.0 * np.sqrt(m / (1.0 - pf)) + 2.0).astype(np.int64)


def _seed_prior(known, efficiency, frequencies, errors: ErrorModel):
    """Log odds that a read letter is a false detection, and the log Edman failure rate (seed order; floor -50)."""
    qk = float(sum(frequencies[AMINO_ACIDS.index(a)] for a in known)) / float(np.sum(frequencies))
    pf, f = errors.edman_failure, errors.false_detection
    true = (1.0 - pf) * qk * efficiency
    false = ((1.0 - pf) * (1.0 - qk * efficiency) + pf) * f
    return (max(np.log(false / true), -50.0) if false > 0 and true > 0 else -50.0,
            max(np.log(pf), -50.0) if pf > 0 else -50.0)


def _lut(known):
    """Reference residue code -> index in ``known`` (-1 for the other residues, OTHER and the separator)."""
    lut = np.full(SEPARATOR + 1, -1, dtype=np.int64)
    for j, a in enumerate(known):
        lut[AMINO_ACIDS.index(a)] = j
    return lut


def explained_pvalues(n_letters, n_wrong, n_ref_known, n_missed, *, known: str, efficiency: float,
                      errors: ErrorModel, frequencies) -> np.ndarray:
    """How well an alignment explains its read: the smaller binomial tail of its two error counts, doubled.

    If the read comes from the aligned protein, a letter the residue under it
    does not explain is a false detection (or a variant, rate
    :data:`IDENTIFICATION_EPS`), so ``n_wrong`` of ``n_letters`` follows a
    binomial with the error model's rate ``p_wrong``; and a known-type residue
    shown as nothing is a missed detection, so ``n_missed`` of ``n_ref_known``
    follows a binomial with rate ``1 - e`` (plus variants).  A related protein
    (a homolog), which decoys do not model, leaves more of both.  Returns
    ``min(1, 2 min(P(W >= n_wrong), P(M >= n_missed)))`` per read.

    Parameters
    ----------
    n_letters, n_wrong : array_like of int
        Letters of each read, and those the aligned residue does not explain.
    n_ref_known, n_missed : array_like of int
        Known-type residues under each alignment, and those the read shows as nothing.
    known : str
        The known residue types (e.g. ``"KCYM"``).
    efficiency : float
        Detection efficiency of a known-type residue.
    errors : ErrorModel
        Edman failure and false-detection rates.
    frequencies : array_like
        Residue frequencies of the reference (20 amino acids, any scale).

    Returns
    -------
    numpy.ndarray
        One p-value per read, in [0, 1].

    Examples
    --------
    >>> from protlm.sequencing.error_model import ErrorModel
    >>> f = [0.05] * 20
    >>> p = explained_pvalues([40, 40], [2, 15], [45, 45], [5, 20], known="KCYM", efficiency=0.9,
    ...                       errors=ErrorModel.whatprot(), frequencies=f)
    >>> bool(p[0] > 0.1), bool(p[1] < 1e-6)
    (True, True)
    """
    from scipy.stats import binom

    k, e = len(known), float(efficiency)
    f, pf, eps = errors.false_detection, errors.edman_failure, IDENTIFICATION_EPS
    qk = float(sum(frequencies[AMINO_ACIDS.index(a)] for a in known)) / float(np.sum(frequencies))
    letter = (1.0 - pf) * (qk * (e + (1.0 - e) * f) + (1.0 - qk) * f) + pf * f
    wrong = (1.0 - pf) * ((1.0 - qk) * f + qk * (1.0 - e) * f * (k - 1) / k) + pf * f
    p_wrong = min(wrong / letter + eps, 1.0) if letter > 0 else 1.0
    p_missed = min((1.0 - e) * (1.0 - f) + eps, 1.0)
    n_letters, n_wrong = np.asarray(n_letters), np.asarray(n_wrong)
    n_ref_known, n_missed = np.asarray(n_ref_known), np.asarray(n_missed)
    tail_w = binom.sf(n_wrong - 1, n_letters, p_wrong)
    tail_m = binom.sf(n_missed - 1, n_ref_known, p_missed)
    return np.minimum(1.0, 2.0 * np.minimum(tail_w, tail_m))


def posterior_scores(best, competitors, n_windows: int, *, offset: float = BACKGROUND_OFFSET) -> np.ndarray:
    """Log posterior odds of each read's best window against its competitors and the background (nats).

    Under a uniform prior over ``n_windows`` windows (targets and decoys) and the random-residue null of the
    log-likelihood ratios, the best window's posterior odds are ``exp(best)`` against the sum of
    ``exp(competitors)`` (the read's other candidates) and ``n_windows`` times the null's prior odds.  So a
    read that another candidate explains nearly as well scores lower than one explained by one window only,
    at the same log-likelihood ratio.  Scores that no window explains stay NaN.

    Parameters
    ----------
    best : array-like of float
        Each read's best log-likelihood ratio (-inf or NaN: no candidate).
    competitors : array-like of float
        Log of the summed likelihood ratios of its other candidates (-inf: none).
    n_windows : int
        Windows a read can be placed at (where a digest's peptides start, in the targets and the decoys).
    offset : float
        Nats the background sits below ``log(n_windows)`` (:data:`BACKGROUND_OFFSET`).

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> s = posterior_scores([20.0, 20.0, 3.0], [-np.inf, 19.0, -np.inf], 1000, offset=0.0)
    >>> s.round(2).tolist()
    [13.09, 1.0, -3.91]
    """
    best = np.asarray(best, dtype=np.float64)
    competitors = np.asarray(competitors, dtype=np.float64)
    background = np.log(max(int(n_windows), 1)) - offset
    with np.errstate(invalid="ignore"):
        out = best - np.logaddexp(competitors, background)
    return np.where(np.isfinite(best), out, np.nan)


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
