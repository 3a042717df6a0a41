"""Soft and hard permutations: Gumbel-Sinkhorn, Hungarian matching, straight-through.

Pure functions on square score matrices (``log_alpha``).  Convention: a
permutation matrix ``P`` has ``P[p, q] = 1`` when item ``p`` goes to slot
``q``; :func:`matrix_to_perm` turns it into ``perm`` with ``perm[q] = p``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "gumbel_noise",
    "log_sinkhorn",
    "gumbel_sinkhorn",
    "hungarian",
    "matrix_to_perm",
    "perm_to_matrix",
    "straight_through",
]

_EPS = 1e-20


def gumbel_noise(uniforms):
    """Standard Gumbel noise ``-log(-log(u + 1e-20) + 1e-20)`` from uniforms in [0, 1).

    Parameters
    ----------
    uniforms : torch.Tensor
        Uniform draws in [0, 1), any shape.

    Examples
    --------
    >>> import torch
    >>> round(float(gumbel_noise(torch.tensor([0.5]))), 6)  # -log(log 2)
    0.366513
    """
    import torch

    return -torch.log(-torch.log(uniforms + _EPS) + _EPS)


def _add_noise(log_alpha, uniforms, noise_factor: float, noise_std: bool):
    import torch

    if uniforms is None or log_alpha.numel() == 1:  # 1x1: one permutation, std undefined
        return log_alpha
    factor = noise_factor * torch.std(log_alpha) if noise_std else noise_factor
    return log_alpha + gumbel_noise(uniforms) * factor


def log_sinkhorn(log_alpha, n_iter: int = 10):
    """Doubly stochastic matrix by ``n_iter`` log-domain Sinkhorn rounds (rows, then columns).

    Parameters
    ----------
    log_alpha : torch.Tensor or numpy.ndarray
        Square score matrix (log domain); a NumPy array gives a NumPy array
        (no torch needed: entropy IPA's soft refinement uses it).
    n_iter : int
        Sinkhorn rounds.

    Examples
    --------
    >>> import torch
    >>> s = log_sinkhorn(torch.tensor([[2.0, 0.0], [0.0, 1.0]]), 50)
    >>> [round(float(v), 4) for v in s.sum(0)]
    [1.0, 1.0]
    >>> [round(float(v), 4) for v in log_sinkhorn(np.array([[2.0, 0.0], [0.0, 1.0]]), 50).sum(1)]
    [1.0, 1.0]
    """
    if isinstance(log_alpha, np.ndarray):
        from scipy.special import logsumexp

        for _ in range(n_iter):
            log_alpha = log_alpha - logsumexp(log_alpha, axis=-1, keepdims=True)
            log_alpha = log_alpha - logsumexp(log_alpha, axis=-2, keepdims=True)
        return np.exp(log_alpha)
    import torch

    for _ in range(n_iter):
        log_alpha = log_alpha - torch.logsumexp(log_alpha, -1, keepdim=True)
        log_alpha = log_alpha - torch.logsumexp(log_alpha, -2, keepdim=True)
    return log_alpha.exp()


def gumbel_sinkhorn(log_alpha, *, uniforms=None, noise_factor: float = 1.0, noise_std: bool = True, tau: float = 1.0, n_iter: int = 10):
    """Soft permutation: Sinkhorn of ``(log_alpha + noise) / tau``.

    Parameters
    ----------
    log_alpha : torch.Tensor
        ``(n, n)`` scores.
    uniforms : torch.Tensor or None
        ``(n, n)`` uniforms for the Gumbel noise; ``None`` for no noise.
    noise_factor : float
        Noise scale; multiplied by ``std(log_alpha)`` (kept in the autograd
        graph, unbiased) when ``noise_std``.
    tau : float
        Temperature.
    n_iter : int
        Sinkhorn rounds.
    """
    return log_sinkhorn(_add_noise(log_alpha, uniforms, noise_factor, noise_std) / tau, n_iter)


def hungarian(log_alpha, *, uniforms=None, noise_factor: float = 1.0, noise_std: bool = True, conjugation=None):
    """Hard permutation maximising the (noisy) scores, as a float matrix on ``log_alpha``'s device.

    Parameters
    ----------
    log_alpha : torch.Tensor
        ``(n, n)`` scores.
    uniforms, noise_factor, noise_std
        As in :func:`gumbel_sinkhorn` (the same draws give the same noise).
    conjugation : tuple of two index arrays, optional
        ``(r0, r1)``: solve on ``R0 @ x @ R1.T`` with ``R[i, r[i]] = 1`` and
        map back with ``R0.T @ M @ R1``; random permutations here break ties
        at random instead of toward the input order.

    Examples
    --------
    >>> import torch
    >>> hungarian(torch.tensor([[0.0, 1.0], [1.0, 0.0]])).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    import torch
    from scipy.optimize import linear_sum_assignment

    x = _add_noise(log_alpha, uniforms, noise_factor, noise_std).detach()
    if conjugation is not None:
        r0, r1 = (torch.as_tensor(r, device=x.device, dtype=torch.long) for r in conjugation)
        x = x[r0][:, r1]
    rows, cols = linear_sum_assignment(x.cpu().numpy(), maximize=True)
    if conjugation is not None:
        rows, cols = r0.cpu().numpy()[rows], r1.cpu().numpy()[cols]
    out = torch.zeros(x.shape, dtype=torch.float32, device=x.device)
    out[torch.as_tensor(rows, device=x.device), torch.as_tensor(cols, device=x.device)] = 1.0
    return out


def matrix_to_perm(matrix) -> np.ndarray:
    """``perm[q] = p`` for a permutation matrix with ``P[p, q] = 1``.

    Parameters
    ----------
    matrix : array-like, shape (n, n)
        A permutation matrix.

    Examples
    --------
    >>> matrix_to_perm(np.array([[0, 1], [1, 0]]))
    array([1, 0])
    """
    m = np.asarray(matrix.detach().cpu() if hasattr(matrix, "detach") else matrix)
    return m.argmax(axis=0)


def perm_to_matrix(perm) -> np.ndarray:
    """Inverse of :func:`matrix_to_perm` (float32).

    Parameters
    ----------
    perm : array-like of int, shape (n,)
        ``perm[q] = p``.

    Examples
    --------
    >>> perm_to_matrix([1, 0]).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    perm = np.asarray(perm)
    m = np.zeros((len(perm), len(perm)), dtype=np.float32)
    m[perm, np.arange(len(perm))] = 1.0
    return m


def straight_through(hard, soft):
    """``hard`` in the forward pass, gradients of ``soft`` in the backward pass.

    Parameters
    ----------
    hard : torch.Tensor
        The hard permutation matrix (forward value).
    soft : torch.Tensor
        The soft permutation matrix (gradient path), same shape.
    """
    return (hard - soft).detach() + soft
