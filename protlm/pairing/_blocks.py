"""Species blocks shared by the weights-free pairing methods (MI-IPA, random, DiffPaSS).

A *block* is one species: the left rows and the right rows that may pair with
each other, as the one species-block type :class:`protlm.io.SpeciesBlock`.
Methods work on blocks and return, per block, a matching
``{left_row: right_row}``; :func:`build_result` turns those into one
:class:`~protlm.pairing.result.PairingResult`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from protlm.errors import PairingInputError
from protlm.io.families import SpeciesBlock
from protlm.io.pairs import resolve_pairs
from protlm.pairing.result import PairingResult

__all__ = ["blocks_from_species", "blocks_from_paired", "resolve_known_pairs", "ortholog_pairs",
           "routes", "random_matching", "build_result"]


def blocks_from_species(left_species: Sequence, right_species: Sequence | None = None) -> list[SpeciesBlock]:
    """Group rows by species label; keep species present on both sides.

    Rows labelled ``None`` are left out.  Blocks come in order of first
    appearance on the left.

    Examples
    --------
    >>> [(b.species, b.left.tolist(), b.right.tolist()) for b in blocks_from_species(["a", "b", "a", "c"], ["b", "a", "a", None])]
    [('a', [0, 2], [1, 2]), ('b', [1], [0])]
    """
    if right_species is None:
        right_species = left_species
    right_rows: dict = {}
    for i, s in enumerate(right_species):
        if s is not None:
            right_rows.setdefault(s, []).append(i)
    left_rows: dict = {}
    for i, s in enumerate(left_species):
        if s is not None:
            left_rows.setdefault(s, []).append(i)
    blocks = [
        SpeciesBlock(str(s), np.asarray(rows, dtype=np.int64), np.asarray(right_rows[s], dtype=np.int64))
        for s, rows in left_rows.items()
        if s in right_rows
    ]
    if not blocks:
        raise PairingInputError("no species is present in both families: nothing to pair")
    return blocks


def blocks_from_paired(paired) -> list[SpeciesBlock]:
    """The species blocks of a :class:`protlm.io.PairedFamilies`."""
    blocks = [
        SpeciesBlock(str(b.species), np.asarray(b.left, dtype=np.int64), np.asarray(b.right, dtype=np.int64))
        for b in paired.blocks
    ]
    if not blocks:
        raise PairingInputError("no species is present in both families: nothing to pair")
    return blocks


def resolve_known_pairs(known_pairs, blocks: Sequence[SpeciesBlock], *, left_ids=None, right_ids=None,
                        n_left: int, n_right: int) -> dict:
    """Known pairs (ids or rows) as ``{left_row: right_row}``, each inside one species block.

    The one validator, :func:`protlm.io.pairs.resolve_pairs` with
    ``same_block=True``; see it for the parameters and errors.

    Parameters
    ----------
    known_pairs : mapping or iterable of (left, right), or None
        Rows (int) or identifiers (str) of pairs known to interact.
    blocks : sequence of protlm.io.SpeciesBlock
        Both rows of a pair must sit in the same block.
    left_ids, right_ids : sequence of str, optional
        Identifiers, to resolve string entries.
    n_left, n_right : int
        Number of rows on each side.

    Examples
    --------
    >>> blocks = blocks_from_species(["a", "a"], ["a", "a"])
    >>> resolve_known_pairs([(0, 1)], blocks, n_left=2, n_right=2)
    {0: 1}
    """
    return resolve_pairs(known_pairs, n_left=n_left, n_right=n_right, left_ids=left_ids, right_ids=right_ids,
                         blocks=blocks, same_block=True, what="known pair")


def ortholog_pairs(blocks: Sequence[SpeciesBlock], known: Mapping | None = None) -> dict:
    """Orthologs first: the species with exactly one sequence on each side are paired directly.

    Returns ``{left_row: right_row}`` of those species (rows already in
    ``known`` left aside); only species with paralogs need a pairing method.

    Examples
    --------
    >>> ortholog_pairs(blocks_from_species(["a", "b", "b"], ["a", "b", "b"]))
    {0: 0}
    """
    known = known or {}
    known_right = set(known.values())
    out = {}
    for b in blocks:
        if len(b.left) == 1 and len(b.right) == 1 and int(b.left[0]) not in known and int(b.right[0]) not in known_right:
            out[int(b.left[0])] = int(b.right[0])
    return out


def routes(blocks: Sequence[SpeciesBlock], known: Mapping, orthologs: Mapping, n_context: int = 0) -> dict:
    """How many pairs came from each route (recorded in ``PairingResult.info["routes"]``).

    Examples
    --------
    >>> routes(blocks_from_species(["a", "b", "b"], ["a", "b", "b"]), {}, {0: 0})
    {'orthologs': 1, 'known_pairs': 0, 'optimised': 2, 'context_pairs': 0}
    """
    fixed = set(known) | set(orthologs)
    fixed_right = set(known.values()) | set(orthologs.values())
    optimised = sum(min(sum(int(r) not in fixed for r in b.left), sum(int(r) not in fixed_right for r in b.right))
                    for b in blocks)
    return {"orthologs": len(orthologs), "known_pairs": len(known), "optimised": int(optimised),
            "context_pairs": int(n_context)}


def random_matching(left: np.ndarray, right: np.ndarray, rng: np.random.Generator) -> dict:
    """Pair ``min(len(left), len(right))`` rows uniformly at random.

    Examples
    --------
    >>> m = random_matching(np.array([3, 4]), np.array([7, 8, 9]), np.random.default_rng(0))
    >>> sorted(m), len(set(m.values()))
    ([3, 4], 2)
    """
    n = min(len(left), len(right))
    lp = rng.permutation(len(left))[:n]
    rp = rng.permutation(len(right))[:n]
    return {int(left[i]): int(right[j]) for i, j in zip(lp, rp)}


def build_result(method: str, blocks: Sequence[SpeciesBlock], matchings: Sequence[Mapping], confidences: Sequence[Mapping], *,
                 agreements: Mapping | None = None, left_ids=None, right_ids=None, history=None, info=None,
                 device: str = "cpu") -> PairingResult:
    """One :class:`PairingResult` from per-block matchings.

    Each block contributes its left rows in input order (partner ``-1`` when
    unpaired), then its unpaired right rows.  ``agreements`` maps left rows to
    the fraction of runs agreeing (absent: NaN).  Unpaired entries get NaN
    confidence and agreement.
    """
    nan = float("nan")
    agreements = agreements or {}
    species, lrows, rrows, conf, agree = [], [], [], [], []
    for block, match, cmap in zip(blocks, matchings, confidences):
        for lr in block.left:
            lr = int(lr)
            species.append(block.species)
            lrows.append(lr)
            rr = match.get(lr, -1)
            rrows.append(rr)
            conf.append(float(cmap.get(lr, nan)) if rr >= 0 else nan)
            agree.append(float(agreements.get(lr, nan)) if rr >= 0 else nan)
        paired_right = set(match.values())
        for rr in block.right:
            if int(rr) not in paired_right:
                species.append(block.species)
                lrows.append(-1)
                rrows.append(int(rr))
                conf.append(nan)
                agree.append(nan)

    def ids(rows, names):
        if names is None:
            return tuple(str(r) if r >= 0 else None for r in rows)
        return tuple(names[r] if r >= 0 else None for r in rows)

    return PairingResult(
        method=method,
        species=tuple(species),
        left_rows=np.asarray(lrows, dtype=np.int64),
        right_rows=np.asarray(rrows, dtype=np.int64),
        left_ids=ids(lrows, left_ids),
        right_ids=ids(rrows, right_ids),
        confidence=np.asarray(conf, dtype=float),
        agreement=np.asarray(agree, dtype=float),
        history=dict(history or {}),
        info=dict(info or {}),
        device=device,
    )
