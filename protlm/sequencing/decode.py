"""Constrained decoding: from the model's scores to a distribution at every ``X``.

At an unknown position the read says only "not detected", so

    P(a | X, context)  is proportional to  P_model(a | context) x P(X | a) [x prior(a)]

with ``P(X | a) = 1`` for ``a`` outside the known set and ``1 - e`` inside it
(``e`` the detection efficiency; at ``e = 1`` a known-set letter is impossible
at an ``X``).  The optional per-position ``prior`` (e.g. residues of reference
hits) multiplies in the same way, so other evidence combines with the model
without retraining.

Functions take torch tensors or numpy arrays (log-space scores, last axis the
20 residues of :data:`~protlm.models.alphabet.AMINO_ACIDS`).
"""

from __future__ import annotations

import numpy as np

from protlm.sequencing.masking import log_px

__all__ = ["log_px", "constrained_probabilities", "refinement_schedule"]


def constrained_probabilities(log_model, known, efficiency, *, log_prior=None):
    """Normalised ``P(a | X)`` for each row of ``log_model``.

    Parameters
    ----------
    log_model : numpy.ndarray or torch.Tensor, shape (..., 20)
        Model log-probabilities or logits.
    known : array of bool, shape (20,)
        The known set.
    efficiency : float
        Detection efficiency in (0, 1].
    log_prior : array, shape (..., 20), optional
        Log of a per-position prior (``-inf`` allowed); broadcast against
        ``log_model``.

    Returns
    -------
    Same type as ``log_model``: probabilities summing to 1 over the last axis.

    Examples
    --------
    >>> from protlm.models.alphabet import known_vector
    >>> p = constrained_probabilities(np.zeros((1, 20)), known_vector("KCYM"), 1.0)
    >>> round(float(p[0].sum()), 6), float(p[0, 8]), round(float(p[0, 0]), 4)
    (1.0, 0.0, 0.0625)
    >>> p = constrained_probabilities(np.zeros((1, 20)), known_vector("KCYM"), 0.5)
    >>> round(float(p[0, 8] / p[0, 0]), 3)
    0.5
    """
    lpx = log_px(np.asarray(known, dtype=bool), np.array([efficiency]))[0]
    try:
        import torch

        is_torch = isinstance(log_model, torch.Tensor)
    except ImportError:  # pragma: no cover
        is_torch = False
    if is_torch:
        import torch

        scores = log_model.float() + torch.as_tensor(lpx, device=log_model.device)
        if log_prior is not None:
            scores = scores + torch.as_tensor(log_prior, device=log_model.device, dtype=scores.dtype)
        return torch.softmax(scores, dim=-1)
    scores = np.asarray(log_model, dtype=np.float64) + lpx
    if log_prior is not None:
        scores = scores + np.asarray(log_prior, dtype=np.float64)
    scores = scores - scores.max(axis=-1, keepdims=True)
    p = np.exp(scores)
    return (p / p.sum(axis=-1, keepdims=True)).astype(np.float32)


def refinement_schedule(n_unknown: int, rounds: int) -> list:
    """How many still-unknown positions to fill after each pass (mask-predict style).

    With ``rounds`` refinement passes the unknown positions are filled in
    ``rounds`` equal steps, most confident first; the last pass predicts the rest.

    Parameters
    ----------
    n_unknown : int
        Number of unknown positions.
    rounds : int
        Number of refinement passes (0 or less: one pass predicts everything).

    Returns
    -------
    list of int
        ``n_unknown // (rounds + 1)`` for each of the ``rounds`` passes.

    Examples
    --------
    >>> refinement_schedule(10, 0)
    []
    >>> refinement_schedule(10, 2)
    [3, 3]
    """
    if rounds <= 0:
        return []
    per = n_unknown // (rounds + 1)
    return [per] * rounds
