"""The one source of random draws of the DiffPALM solver.

Every random number the solver uses comes from a :class:`Draws` object:
standard normals for the initial scores, uniforms for the Gumbel noise, the
two random permutations that break ties before each Hungarian matching, and
the uniforms that decide which tokens are masked.  :class:`TorchDraws` (the
default) takes them from a seeded :class:`torch.Generator` in the same order
as the authors' code takes them from torch's global generator, so
``TorchDraws(seed)`` with the ``"authors"`` preset reproduces a run of their
code seeded with ``torch.manual_seed(seed)``.  :class:`RecordedDraws` replays
recorded draws; :class:`RecordingDraws` records any source in that format.

Recorded draws are a mapping of arrays (an ``.npz`` file): ``noise_u_{k}``
with ``k = iteration * n_blocks + block``, ``randperm_{j}`` with
``j = iteration * 2 * n_blocks + 2 * block + {0, 1}``, ``mask_u_{iteration}``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Draws", "TorchDraws", "RecordedDraws", "RecordingDraws"]


@runtime_checkable
class Draws(Protocol):
    """Source of the solver's random draws (all on the CPU, float32 / int64)."""

    def initial_normals(self, block: int, n: int):
        """``(n, n)`` standard normals (scaled by ``std_init`` for the initial scores)."""

    def noise_uniforms(self, iteration: int, block: int, n: int):
        """``(n, n)`` uniforms in [0, 1) for the Gumbel noise of ``block``."""

    def conjugation(self, iteration: int, block: int, n: int):
        """Two random permutations of ``range(n)`` (``r0``, ``r1``) for tie-breaking."""

    def mask_uniforms(self, iteration: int, shape):
        """Uniforms in [0, 1) of ``shape``; a token is masked where ``u < p_mask``."""


class TorchDraws:
    """Draws from a :class:`torch.Generator` seeded with ``seed``.

    Examples
    --------
    >>> d = TorchDraws(0)
    >>> tuple(d.noise_uniforms(0, 0, 3).shape)
    (3, 3)
    >>> sorted(d.conjugation(0, 0, 4)[0].tolist())
    [0, 1, 2, 3]
    """

    def __init__(self, seed: int = 0):
        import torch

        self.seed = int(seed)
        self.generator = torch.Generator().manual_seed(self.seed)

    def initial_normals(self, block, n):
        """``(n, n)`` standard normals (scaled by ``std_init`` for the initial scores). (see :class:`Draws`)"""
        import torch

        return torch.randn((n, n), generator=self.generator)

    def noise_uniforms(self, iteration, block, n):
        """``(n, n)`` uniforms in [0, 1) for the Gumbel noise of ``block``. (see :class:`Draws`)"""
        import torch

        return torch.rand((n, n), generator=self.generator)

    def conjugation(self, iteration, block, n):
        """Two random permutations of ``range(n)`` (``r0``, ``r1``) for tie-breaking. (see :class:`Draws`)"""
        import torch

        return tuple(torch.randperm(n, generator=self.generator) for _ in range(2))

    def mask_uniforms(self, iteration, shape):
        """Uniforms in [0, 1) of ``shape``; a token is masked where ``u < p_mask``. (see :class:`Draws`)"""
        import torch

        return torch.rand(tuple(shape), generator=self.generator)

    def __repr__(self):
        return f"TorchDraws(seed={self.seed})"


class RecordedDraws:
    """Replays recorded draws (see the module docstring for the keys).

    Initial normals are not recorded: they are zeros, which is exact whenever
    ``std_init == 0`` (protlm's default and the authors' setting in practice).

    Parameters
    ----------
    arrays : mapping of str to array
        E.g. ``numpy.load("train_rng.npz")``.
    n_blocks : int
        Number of optimised blocks (species) per iteration.
    """

    def __init__(self, arrays, n_blocks: int):
        self.arrays = {k: np.asarray(arrays[k]) for k in arrays}
        self.n_blocks = int(n_blocks)

    def _get(self, key):
        import torch

        if key not in self.arrays:
            raise KeyError(f"recorded draws hold no {key!r} (the run asks for more draws than were recorded)")
        return torch.from_numpy(self.arrays[key].copy())

    def initial_normals(self, block, n):
        """``(n, n)`` standard normals (scaled by ``std_init`` for the initial scores). (see :class:`Draws`)"""
        import torch

        return torch.zeros((n, n))

    def noise_uniforms(self, iteration, block, n):
        """``(n, n)`` uniforms in [0, 1) for the Gumbel noise of ``block``. (see :class:`Draws`)"""
        return self._get(f"noise_u_{iteration * self.n_blocks + block}")

    def conjugation(self, iteration, block, n):
        """Two random permutations of ``range(n)`` (``r0``, ``r1``) for tie-breaking. (see :class:`Draws`)"""
        j = iteration * 2 * self.n_blocks + 2 * block
        return self._get(f"randperm_{j}"), self._get(f"randperm_{j + 1}")

    def mask_uniforms(self, iteration, shape):
        """Uniforms in [0, 1) of ``shape``; a token is masked where ``u < p_mask``. (see :class:`Draws`)"""
        u = self._get(f"mask_u_{iteration}")
        return u.reshape(tuple(shape))


class RecordingDraws:
    """Wraps a :class:`Draws` and keeps every draw, in :class:`RecordedDraws`' format.

    Examples
    --------
    >>> rec = RecordingDraws(TorchDraws(1), n_blocks=1)
    >>> u = rec.noise_uniforms(0, 0, 2)
    >>> bool((RecordedDraws(rec.arrays, 1).noise_uniforms(0, 0, 2) == u).all())
    True
    """

    def __init__(self, inner, n_blocks: int):
        self.inner = inner
        self.n_blocks = int(n_blocks)
        self.arrays: dict[str, np.ndarray] = {}

    def initial_normals(self, block, n):
        """``(n, n)`` standard normals (scaled by ``std_init`` for the initial scores). (see :class:`Draws`)"""
        return self.inner.initial_normals(block, n)

    def noise_uniforms(self, iteration, block, n):
        """``(n, n)`` uniforms in [0, 1) for the Gumbel noise of ``block``. (see :class:`Draws`)"""
        u = self.inner.noise_uniforms(iteration, block, n)
        self.arrays[f"noise_u_{iteration * self.n_blocks + block}"] = np.asarray(u)
        return u

    def conjugation(self, iteration, block, n):
        """Two random permutations of ``range(n)`` (``r0``, ``r1``) for tie-breaking. (see :class:`Draws`)"""
        r0, r1 = self.inner.conjugation(iteration, block, n)
        j = iteration * 2 * self.n_blocks + 2 * block
        self.arrays[f"randperm_{j}"], self.arrays[f"randperm_{j + 1}"] = np.asarray(r0), np.asarray(r1)
        return r0, r1

    def mask_uniforms(self, iteration, shape):
        """Uniforms in [0, 1) of ``shape``; a token is masked where ``u < p_mask``. (see :class:`Draws`)"""
        u = self.inner.mask_uniforms(iteration, shape)
        self.arrays[f"mask_u_{iteration}"] = np.asarray(u)
        return u
