"""Species-wise sampling of paired MSAs: train/test splits and depth-limited samples.

Pairing only happens inside a species, so every sample is made of *whole*
species blocks.  These helpers are pure numpy; the training loop and the
pairing benchmark share them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from protlm.errors import PairingInputError

__all__ = ["group_by_species", "split_species", "sample_species", "sample_depth_window"]


def group_by_species(species: Sequence) -> dict:
    """Row indices of each species, in order of first appearance.

    Parameters
    ----------
    species : sequence
        One species key per row (``None`` for a row without one).

    Rows whose species is ``None`` are left out.

    Examples
    --------
    >>> group_by_species(["a", "b", "a", None])
    {'a': array([0, 2]), 'b': array([1])}
    """
    groups: dict = {}
    for i, s in enumerate(species):
        if s is not None:
            groups.setdefault(s, []).append(i)
    return {s: np.asarray(rows, dtype=np.int64) for s, rows in groups.items()}


def split_species(names: Sequence[str], *, test_fraction: float, seed: int = 0) -> tuple[tuple, tuple]:
    """Split species names into (train, test) at random, reproducibly.

    Parameters
    ----------
    names : sequence of str
        Species names (order does not matter: they are sorted first).
    test_fraction : float
        In (0, 1): share of species put on the test side (at least one on each side).
    seed : int
        Seed of the split.

    Returns
    -------
    train, test : tuple of str
        Sorted species names.

    Examples
    --------
    >>> train, test = split_species(["a", "b", "c", "d"], test_fraction=0.5, seed=1)
    >>> sorted(train + test), len(test)
    (['a', 'b', 'c', 'd'], 2)
    """
    names = sorted(set(names))
    if not 0.0 < test_fraction < 1.0:
        raise PairingInputError(f"test_fraction must be in (0, 1), got {test_fraction}")
    if len(names) < 2:
        raise PairingInputError(f"need at least 2 species to split, got {len(names)}")
    n_test = min(len(names) - 1, max(1, int(round(test_fraction * len(names)))))
    order = np.random.default_rng(seed).permutation(len(names))
    test = tuple(sorted(names[i] for i in order[:n_test]))
    train = tuple(sorted(names[i] for i in order[n_test:]))
    return train, test


def sample_species(sizes: Mapping[str, int], *, depth: int, rng: np.random.Generator) -> list:
    """Draw whole species at random until their rows fill ``depth`` as far as possible.

    Species are visited in random order and kept when they still fit; a species
    larger than ``depth`` is only taken alone (the caller subsamples it).

    Parameters
    ----------
    sizes : mapping of str to int
        Number of rows of each species.
    depth : int
        Wanted total number of rows.
    rng : numpy.random.Generator
        Source of the drawing order.

    Returns
    -------
    list of str
        The chosen species, in drawing order.

    Raises
    ------
    PairingInputError
        If ``sizes`` is empty.

    Examples
    --------
    >>> chosen = sample_species({"a": 3, "b": 4, "c": 10}, depth=7, rng=np.random.default_rng(0))
    >>> sum({"a": 3, "b": 4, "c": 10}[s] for s in chosen) <= 10
    True
    """
    names = list(sizes)
    if not names:
        raise PairingInputError("no species to sample from")
    chosen, total = [], 0
    for i in rng.permutation(len(names)):
        s = names[i]
        n = int(sizes[s])
        if total + n <= depth:
            chosen.append(s)
            total += n
        elif not chosen:
            return [s]
        if total == depth:
            break
    return chosen


def sample_depth_window(
    sizes: Mapping[str, int],
    *,
    depth: int = 50,
    tolerance: float = 0.1,
    min_size: int = 2,
    max_size: int = 100,
    n_samples: int = 10,
    seed: int = 0,
    max_tries: int = 10_000,
) -> list:
    """Samples of whole species whose total size lies within ``depth`` ± ``tolerance``.

    The protocol of the DiffPALM paper's benchmarks: only species with
    ``min_size`` to ``max_size`` sequences are eligible; each sample holds
    between ``ceil(depth * (1 - tolerance))`` and ``floor(depth * (1 + tolerance))``
    sequences.  Samples avoid reusing species while enough unused ones remain,
    so they are as independent as the data allow.

    Parameters
    ----------
    sizes : mapping of str to int
        Number of sequences of each species.
    depth : int, default 50
        Wanted number of sequences per sample.
    tolerance : float, default 0.1
        Relative half-width of the accepted window around ``depth``.
    min_size, max_size : int, default 2, 100
        Sizes of the eligible species (a species larger than the window's
        upper bound is never eligible).
    n_samples : int, default 10
        Number of samples to draw.
    seed : int, default 0
        Seed of the drawing.
    max_tries : int, default 10000
        Draws (with :func:`sample_species`) allowed per sample before giving up.

    Returns
    -------
    list of list of str
        ``n_samples`` lists of species names.

    Raises
    ------
    PairingInputError
        If the eligible species cannot fill the window, or no draw lands in it
        within ``max_tries``.

    Examples
    --------
    >>> sizes = {f"s{i}": 2 + i % 5 for i in range(60)}
    >>> samples = sample_depth_window(sizes, depth=20, n_samples=3, seed=0)
    >>> [18 <= sum(sizes[s] for s in sample) <= 22 for sample in samples]
    [True, True, True]
    """
    lo = int(np.ceil(depth * (1 - tolerance) - 1e-9))
    hi = int(np.floor(depth * (1 + tolerance) + 1e-9))
    eligible = {s: int(n) for s, n in sizes.items() if min_size <= n <= max_size and n <= hi}
    if sum(eligible.values()) < lo:
        raise PairingInputError(
            f"species with {min_size}-{max_size} sequences hold {sum(eligible.values())} sequences in all, "
            f"fewer than one sample of {lo}-{hi}"
        )
    rng = np.random.default_rng(seed)
    unused = set(eligible)
    samples = []
    for _ in range(n_samples):
        pool = {s: eligible[s] for s in sorted(unused)} if sum(eligible[s] for s in unused) >= depth else eligible
        for _try in range(max_tries):
            chosen = sample_species(pool, depth=depth, rng=rng)
            total = sum(pool[s] for s in chosen)
            if lo <= total <= hi:
                break
            # top up from the whole eligible set when the unused pool is nearly empty
            pool = eligible
        else:
            raise PairingInputError(f"could not draw a sample of {lo}-{hi} sequences in {max_tries} tries")
        samples.append(chosen)
        unused.difference_update(chosen)
    return samples
