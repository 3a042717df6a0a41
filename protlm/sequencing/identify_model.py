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

__all__ = ["IDENTIFICATION_EPS", "explained_pvalues"]

#: Substitution probability of the identification score (same protein, variants).
IDENTIFICATION_EPS = 0.01


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
