"""Paired families (the data object): two MSAs whose rows are matched within species.

Interacting paralogs (e.g. histidine kinases and response regulators, MalG
and MalK) are paired *within* each species.  :class:`PairedFamilies` groups
the rows of a left and a right MSA into per-species blocks, reports what
cannot be paired (species on one side only, rows with no species key, blocks
of unequal size) and carries the ground truth when it is known.  Reading the
inputs of a pairing into one is :mod:`protlm.io.paired`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from protlm.errors import PairingInputError
from protlm.io.msa import MSA
from protlm.io.context import ContextPairs
from protlm.io.pairs import read_pairs_file, resolve_pairs

__all__ = ["SpeciesBlock", "PairedFamilies"]


@dataclass(frozen=True, eq=False)
class SpeciesBlock:
    """Rows of one species on each side (row indices into the left/right MSA, in input order)."""

    species: str
    left: np.ndarray
    right: np.ndarray

    @property
    def n_left(self) -> int:
        """Number of the species' rows in the left MSA."""
        return int(len(self.left))

    @property
    def n_right(self) -> int:
        """Number of the species' rows in the right MSA."""
        return int(len(self.right))

    def __repr__(self) -> str:
        return f"SpeciesBlock(species={self.species!r}, n_left={self.n_left}, n_right={self.n_right})"


def _group(species) -> dict:
    groups: dict = {}
    for i, s in enumerate(species):
        if s is not None:
            groups.setdefault(s, []).append(i)
    return groups


def _keyed(msa: MSA, species_key) -> MSA:
    if species_key is None:
        if msa.species is None:
            raise PairingInputError("the MSA has no species keys: pass species_key (e.g. 'auto', 'field:|:2')")
        return msa
    return msa.with_species(species_key)


@dataclass(frozen=True, eq=False)
class PairedFamilies:
    """Two families to pair within species.

    Attributes
    ----------
    left, right : MSA
        The two alignments, with species keys.
    blocks : tuple of SpeciesBlock
        Species present on both sides, in order of first appearance in ``left``.
    left_only, right_only : tuple of str
        Species found on one side only (their rows cannot be paired).
    unequal : tuple of str
        Species whose blocks have different sizes on the two sides.
    n_no_key_left, n_no_key_right : int
        Rows with no species key (left out of every block).
    truth : dict of int to int, optional
        Known true pairs, left row -> right row (only rows inside blocks).
    excluded_left, excluded_right : tuple of int
        Rows left out on purpose (``exclude=``).
    taxonomy : dict, optional
        Where the species keys came from when a taxonomy source was given
        (:func:`read_paired_families` with ``taxonomy=``): per side, rows keyed
        from the taxonomy, from their own header, and without a species, and
        per source file the records read and matched.
    context : ContextPairs, optional
        Correctly paired rows of other species (:func:`read_paired_families`
        with ``context=``); the CLI passes them to the method as ``context=``.
    known_pairs : dict of int to int, optional
        Pairs fixed inside the input (``known_pairs=`` of
        :func:`read_paired_families`), checked to lie in one shared species.
    n_capped_species, n_capped_rows : int
        Species (and their paired-MSA rows) left out by :meth:`cap_rows`.

    Examples
    --------
    >>> left = MSA.from_sequences(["AC", "AD", "AE"], ids=["a OX=1", "b OX=1", "c OX=2"])
    >>> right = MSA.from_sequences(["KL", "KM", "KN"], ids=["x OX=1", "y OX=1", "z OX=3"])
    >>> pf = PairedFamilies.from_msas(left, right, species_key="ox")
    >>> pf
    PairedFamilies(n_species=1, n_left=3, n_right=3, left_only=1, right_only=1, unequal=0, truth=unknown)
    >>> pf.blocks[0]
    SpeciesBlock(species='1', n_left=2, n_right=2)
    >>> pf.left_only, pf.right_only
    (('2',), ('3',))
    """

    left: MSA
    right: MSA
    blocks: tuple
    left_only: tuple
    right_only: tuple
    unequal: tuple
    n_no_key_left: int
    n_no_key_right: int
    truth: dict | None = None
    excluded_left: tuple = field(default=())
    excluded_right: tuple = field(default=())
    taxonomy: dict | None = None
    context: ContextPairs | None = None
    known_pairs: dict | None = None
    n_capped_species: int = 0
    n_capped_rows: int = 0

    # -- construction ------------------------------------------------------
    @classmethod
    def from_msas(cls, left: MSA, right: MSA, *, species_key="auto", truth=None, exclude=None) -> "PairedFamilies":
        """Group two MSAs into per-species blocks.

        Parameters
        ----------
        left, right : MSA
        species_key : str or callable, optional
            Applied to both sides (see :func:`protlm.io.species.species_key`);
            ``None`` uses the keys the MSAs already carry.
        truth : None, "same-order" or path
            ``"same-order"``: row *i* of ``left`` pairs with row *i* of
            ``right`` (MalG/MalK; HK-RR split from one concatenated MSA).
            A path: a two-column TSV ``left_id<TAB>right_id`` (no header, or a
            header line starting with ``#``).
        exclude : str, optional
            Regular expression searched in each row's description; matching
            rows are left out of the blocks (e.g. ``"_DUMMY"`` for the HK-RR
            dataset's dummy last record) and counted in ``excluded_*``.

        Raises
        ------
        PairingInputError
            No species in common, ``same-order`` truth on MSAs of different
            lengths or whose species disagree at the same row, unknown or
            ambiguous ids in a pairs file.
        """
        left = _keyed(left, species_key)
        right = _keyed(right, species_key)
        ex_l: tuple = ()
        ex_r: tuple = ()
        sp_l, sp_r = list(left.species), list(right.species)
        if exclude is not None:
            import re

            rx = re.compile(exclude)
            ex_l = tuple(i for i, d in enumerate(left.descriptions) if rx.search(d))
            ex_r = tuple(i for i, d in enumerate(right.descriptions) if rx.search(d))
            for i in ex_l:
                sp_l[i] = None
            for i in ex_r:
                sp_r[i] = None
        gl, gr = _group(sp_l), _group(sp_r)
        common = [s for s in gl if s in gr]
        if not common:
            hint = "check the species key"
            if not gl or not gr:
                hint += ("; ids such as UniRef100_... or UPI... (ColabFold/MMseqs2 A3Ms) carry no species: "
                         "give a taxonomy source (--taxonomy FILE: UniRef/UniProt FASTA or XML, idmapping, id<TAB>taxid)")
            raise PairingInputError(
                f"no species in common between the two families ({len(gl)} species on the left, {len(gr)} on the right); "
                + hint
            )
        blocks = tuple(SpeciesBlock(s, np.array(gl[s], dtype=np.int64), np.array(gr[s], dtype=np.int64)) for s in common)
        left_only = tuple(s for s in gl if s not in gr)
        right_only = tuple(s for s in gr if s not in gl)
        unequal = tuple(b.species for b in blocks if b.n_left != b.n_right)
        n_nk_l = sum(s is None for s in left.species)
        n_nk_r = sum(s is None for s in right.species)
        truth_map = _resolve_truth(truth, left, right, sp_l, sp_r, blocks)
        return cls(left, right, blocks, left_only, right_only, unequal, n_nk_l, n_nk_r, truth_map, ex_l, ex_r)

    @classmethod
    def from_concatenated(cls, msa: MSA, *, split_at: int, species_key="auto", truth="same-order", exclude=None) -> "PairedFamilies":
        """Split a concatenated alignment (e.g. HK-RR: 64 HisKA + 112 Response_reg columns) at a column.

        Both halves share ids and descriptions, so the same species key applies.

        Examples
        --------
        >>> msa = MSA.from_sequences(["ACKL", "ADKM", "AEKN"], ids=["h1|sp1|Pair_r1", "h2|sp1|Pair_r2", "h3|sp2|Pair_r3"])
        >>> pf = PairedFamilies.from_concatenated(msa, split_at=2, species_key="field:|:2")
        >>> [b.species for b in pf.blocks], pf.left.n_columns, pf.right.n_columns, len(pf.truth)
        (['sp1', 'sp2'], 2, 2, 3)
        """
        if not 0 < split_at < msa.n_columns:
            raise PairingInputError(f"split_at must be between 1 and {msa.n_columns - 1} (the MSA has {msa.n_columns} columns), not {split_at}")
        return cls.from_msas(
            msa.slice_columns(0, split_at), msa.slice_columns(split_at, None), species_key=species_key, truth=truth, exclude=exclude
        )

    def cap_rows(self, max_rows: int, *, query=(0, 0)) -> "PairedFamilies":
        """Keep the species closest to the query until ``max_rows`` paired-MSA rows are used.

        A species takes ``max(n_left, n_right)`` rows of the paired MSA.  Species
        are ranked by the mean of their left rows' best identity to the left
        query and their right rows' best identity to the right query (ties: input
        order) and kept in that order while they fit; the others are left out of
        the pairing (counted in ``n_capped_species`` / ``n_capped_rows``; their
        rows stay in the files as unpaired rows).  Deterministic.

        Parameters
        ----------
        max_rows : int
            At most this many paired-MSA rows in the species blocks.
        query : (int, int)
            Rows of the left and right query (default: the first rows, the
            ColabFold/MMseqs2 convention).

        Examples
        --------
        >>> left = MSA.from_sequences(["ACDE", "ACDF", "GHIK", "ACDE"], ids=["q", "a_1", "b_2", "c_2"])
        >>> right = MSA.from_sequences(["LMNP", "LMNQ", "RSTV", "RSTW"], ids=["q", "x_1", "y_2", "z_2"])
        >>> pf = PairedFamilies.from_msas(left, right, species_key="field:_:-1")
        >>> capped = pf.cap_rows(1)
        >>> [b.species for b in capped.blocks], capped.n_capped_species, capped.n_capped_rows
        (['1'], 1, 2)
        """
        if max_rows < 1:
            raise PairingInputError(f"max_rows must be at least 1, not {max_rows}")
        id_l = self.left.identity_to(query[0])
        id_r = self.right.identity_to(query[1])
        score = [(float(id_l[b.left].max()) + float(id_r[b.right].max())) / 2 for b in self.blocks]
        order = sorted(range(len(self.blocks)), key=lambda k: (-score[k], k))
        kept, used = set(), 0
        for k in order:
            rows = max(self.blocks[k].n_left, self.blocks[k].n_right)
            if used + rows <= max_rows:
                kept.add(k)
                used += rows
        blocks = tuple(b for k, b in enumerate(self.blocks) if k in kept)
        if not blocks:
            raise PairingInputError(f"max_rows {max_rows}: no species fits (the smallest needs "
                                    f"{min(max(b.n_left, b.n_right) for b in self.blocks)} rows)")
        dropped = [b for k, b in enumerate(self.blocks) if k not in kept]
        from dataclasses import replace

        known = self.known_pairs
        if known:
            rows = {int(i) for b in blocks for i in b.left}
            known = {i: j for i, j in known.items() if i in rows}
        return replace(self, blocks=blocks, unequal=tuple(b.species for b in blocks if b.n_left != b.n_right),
                       known_pairs=known,
                       n_capped_species=self.n_capped_species + len(dropped),
                       n_capped_rows=self.n_capped_rows + sum(max(b.n_left, b.n_right) for b in dropped))

    # -- summaries ---------------------------------------------------------
    @property
    def n_species(self) -> int:
        """Number of species blocks (species with rows on both sides)."""
        return len(self.blocks)

    def summary(self) -> dict:
        """Counts as a JSON-friendly dict."""
        sizes_l = [b.n_left for b in self.blocks]
        sizes_r = [b.n_right for b in self.blocks]
        return {
            "n_left": self.left.n_sequences,
            "n_right": self.right.n_sequences,
            "n_columns_left": self.left.n_columns,
            "n_columns_right": self.right.n_columns,
            "n_species": self.n_species,
            "n_rows_in_blocks_left": int(sum(sizes_l)),
            "n_rows_in_blocks_right": int(sum(sizes_r)),
            "max_block_size": int(max(max(sizes_l, default=0), max(sizes_r, default=0))),
            "n_species_with_2_or_more": int(sum(min(a, b) >= 2 for a, b in zip(sizes_l, sizes_r))),
            "n_left_only_species": len(self.left_only),
            "n_right_only_species": len(self.right_only),
            "n_unequal_blocks": len(self.unequal),
            "n_no_key_left": self.n_no_key_left,
            "n_no_key_right": self.n_no_key_right,
            "n_excluded_left": len(self.excluded_left),
            "n_excluded_right": len(self.excluded_right),
            "n_true_pairs": None if self.truth is None else len(self.truth),
            "n_orthologs": int(sum(b.n_left == 1 and b.n_right == 1 for b in self.blocks)),
            "n_known_pairs": len(self.known_pairs or {}),
            "n_capped_species": self.n_capped_species,
            "n_capped_rows": self.n_capped_rows,
            **({"taxonomy": self.taxonomy} if self.taxonomy is not None else {}),
            **({"context": self.context.summary()} if self.context is not None else {}),
        }

    def to_dataframe(self):
        """One row per species block: ``species``, ``n_left``, ``n_right``, ``n_true_pairs``."""
        import pandas as pd

        rows = []
        for b in self.blocks:
            n_true = None
            if self.truth is not None:
                lset = set(b.left.tolist())
                n_true = sum(1 for i in self.truth if i in lset)
            rows.append({"species": b.species, "n_left": b.n_left, "n_right": b.n_right, "n_true_pairs": n_true})
        return pd.DataFrame(rows)

    def write(self, path) -> None:
        """Write :meth:`to_dataframe` as TSV (atomically)."""
        from protlm.io._write import open_dest

        with open_dest(path) as fh:
            self.to_dataframe().to_csv(fh, sep="\t", index=False)

    def __repr__(self) -> str:
        t = "unknown" if self.truth is None else f"{len(self.truth)} pairs"
        return (
            f"PairedFamilies(n_species={self.n_species}, n_left={self.left.n_sequences}, n_right={self.right.n_sequences}, "
            f"left_only={len(self.left_only)}, right_only={len(self.right_only)}, unequal={len(self.unequal)}, truth={t})"
        )


def _resolve_truth(truth, left: MSA, right: MSA, sp_l, sp_r, blocks):
    if truth is None:
        return None
    if isinstance(truth, str) and truth == "same-order":
        if left.n_sequences != right.n_sequences:
            raise PairingInputError(
                f"truth='same-order' needs MSAs of the same length, not {left.n_sequences} and {right.n_sequences} rows"
            )
        pairs = {}
        for i in range(left.n_sequences):  # rows without a species (or excluded) are not true pairs
            if sp_l[i] is None or sp_r[i] is None:
                continue
            if sp_l[i] != sp_r[i]:
                raise PairingInputError(
                    f"truth='same-order' but row {i + 1} has species {sp_l[i]!r} on the left and {sp_r[i]!r} on the right"
                )
            pairs[i] = i
        return pairs
    ids = dict(left_ids=left.ids, right_ids=right.ids, blocks=blocks, same_block=True, what="true pair")
    if isinstance(truth, Mapping):
        return resolve_pairs(truth, n_left=left.n_sequences, n_right=right.n_sequences, **ids)
    if isinstance(truth, (str, os.PathLike)):
        return read_pairs_file(truth, **ids)
    raise PairingInputError(f"truth must be None, 'same-order', a dict or a pairs file path, not {truth!r}")
