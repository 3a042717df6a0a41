"""Preparing paired families for a fair pairing benchmark.

Data sets with known pairs list them in input order, and any method that
breaks ties toward the input order then scores too well.  Benchmarks (and
users checking a method) therefore shuffle each species block of the right
family with a recorded seed and score against the remapped truth.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from protlm.errors import PairingInputError

__all__ = ["keep_species", "shuffle_within_species"]


def _rebuild(paired, left, right, truth):
    from protlm.io.paired import PairedFamilies

    return PairedFamilies.from_msas(left, right, species_key=None, truth=truth)


def keep_species(paired, *, min_pairs: int = 1, species: Iterable[str] | None = None):
    """The families restricted to some species blocks (rows of other species dropped).

    Parameters
    ----------
    paired : protlm.io.PairedFamilies
    min_pairs : int
        Keep blocks with at least this many sequences on *both* sides
        (``2`` drops species with a single pair, as the MI-IPA and DiffPaSS
        papers do).
    species : iterable of str, optional
        Keep only these species.

    Returns
    -------
    protlm.io.PairedFamilies
        New MSAs holding only the kept rows (in their original order), truth remapped.

    Examples
    --------
    >>> from protlm.io import MSA, PairedFamilies
    >>> msa = MSA.from_sequences(["ACKL", "ADKM", "AEKN"], ids=["h1|s1|Pair", "h2|s1|Pair", "h3|s2|Pair"])
    >>> pf = PairedFamilies.from_concatenated(msa, split_at=2, species_key="field:|:2")
    >>> sub = keep_species(pf, min_pairs=2)
    >>> [b.species for b in sub.blocks], sub.left.ids, sub.truth
    (['s1'], ('h1|s1|Pair', 'h2|s1|Pair'), {0: 0, 1: 1})
    """
    wanted = None if species is None else set(species)
    blocks = [b for b in paired.blocks
              if min(len(b.left), len(b.right)) >= min_pairs and (wanted is None or b.species in wanted)]
    if not blocks:
        raise PairingInputError(f"no species block left (min_pairs={min_pairs}, species={species!r})")
    rows_l = np.sort(np.concatenate([b.left for b in blocks]))
    rows_r = np.sort(np.concatenate([b.right for b in blocks]))
    new_l = {int(r): i for i, r in enumerate(rows_l)}
    new_r = {int(r): i for i, r in enumerate(rows_r)}
    truth = None
    if paired.truth is not None:
        truth = {new_l[l]: new_r[r] for l, r in paired.truth.items() if l in new_l and r in new_r}
    return _rebuild(paired, paired.left[rows_l], paired.right[rows_r], truth)


def shuffle_within_species(paired, *, seed: int):
    """Permute the right rows inside each species block; the truth follows them.

    Parameters
    ----------
    paired : protlm.io.PairedFamilies
    seed : int
        Seed of the permutations (record it with the results).

    Returns
    -------
    protlm.io.PairedFamilies
        Same left MSA; right MSA with rows permuted within species.

    Examples
    --------
    >>> from protlm.io import MSA, PairedFamilies
    >>> msa = MSA.from_sequences(["ACKL", "ADKM", "AEKN", "AFKP"], ids=[f"h{i}|s1|Pair" for i in range(4)])
    >>> pf = shuffle_within_species(PairedFamilies.from_concatenated(msa, split_at=2, species_key="field:|:2"), seed=3)
    >>> all(pf.right.sequences[pf.truth[i]] == s for i, s in enumerate(["KL", "KM", "KN", "KP"]))
    True
    """
    rng = np.random.default_rng(seed)
    order = np.arange(paired.right.n_sequences)  # new row k holds old row order[k]
    for b in paired.blocks:
        rows = np.sort(np.asarray(b.right))
        order[rows] = rows[rng.permutation(len(rows))]
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    truth = None if paired.truth is None else {l: int(position[r]) for l, r in paired.truth.items()}
    return _rebuild(paired, paired.left, paired.right[order], truth)
