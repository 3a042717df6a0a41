"""Paired families: two MSAs whose rows are matched within species.

Interacting paralogs (e.g. histidine kinases and response regulators, MalG
and MalK) are paired *within* each species.  :class:`PairedFamilies` groups
the rows of a left and a right MSA into per-species blocks, reports what
cannot be paired (species on one side only, rows with no species key, blocks
of unequal size) and carries the ground truth when it is known.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field

import numpy as np

from protlm.errors import PairingInputError
from protlm.io.msa import MSA

__all__ = ["SpeciesBlock", "ContextPairs", "PairedFamilies", "read_paired_families", "read_context",
           "check_paired_layout"]


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
class ContextPairs:
    """Correctly paired rows of other species: what every pairing method may learn from.

    MI-IPA and the entropy bootstrap take them as their initial training set
    and as fixed statistics; DiffPALM prepends them to every sub-MSA as
    unmasked rows (the paper's "known pairs").  Their columns are those of
    the two families being paired.

    Attributes
    ----------
    left, right : MSA
        The context alignments (same columns as the left and right family).
    pairs : tuple of (int, int)
        ``(left_row, right_row)`` of each context pair.
    source : dict
        Where they came from (files, or ``"same-order"``).

    Examples
    --------
    >>> ctx = ContextPairs.from_msas(MSA.from_sequences(["AC", "AD"], ids=["a", "b"]),
    ...                              MSA.from_sequences(["KL", "KM"], ids=["x", "y"]))
    >>> ctx, ctx.pairs
    (ContextPairs(n_pairs=2, n_left=2, n_right=2), ((0, 0), (1, 1)))
    """

    left: MSA
    right: MSA
    pairs: tuple
    source: dict = field(default_factory=dict)

    @classmethod
    def from_msas(cls, left: MSA, right: MSA, *, pairs=None, source=None) -> "ContextPairs":
        """Context from two MSAs: row *i* with row *i* (``pairs=None``), a ``{left_row: right_row}`` dict or a pairs TSV.

        Raises
        ------
        PairingInputError
            MSAs of different lengths without ``pairs``, an unknown id or a row
            used twice in a pairs file (file and line named).
        """
        if pairs is None:
            if left.n_sequences != right.n_sequences:
                raise PairingInputError(
                    f"context: row i of one MSA pairs with row i of the other, but they hold {left.n_sequences} and "
                    f"{right.n_sequences} rows (give a pairs file, --context-pairs)")
            mapping = {i: i for i in range(left.n_sequences)}
        elif isinstance(pairs, dict):
            mapping = {int(k): int(v) for k, v in pairs.items()}
        else:
            mapping = _read_pairs_file(pairs, left, right, sides=("context left", "context right"))
        return cls(left, right, tuple(sorted(mapping.items())), dict(source or {}))

    @property
    def n_pairs(self) -> int:
        """Number of context pairs."""
        return len(self.pairs)

    @property
    def left_rows(self) -> np.ndarray:
        """Left-MSA row of each context pair (int64, in the order of :attr:`pairs`)."""
        return np.array([l for l, _ in self.pairs], dtype=np.int64)

    @property
    def right_rows(self) -> np.ndarray:
        """Right-MSA row of each context pair (int64, in the order of :attr:`pairs`)."""
        return np.array([r for _, r in self.pairs], dtype=np.int64)

    def check_columns(self, n_left: int, n_right: int, *, names=("left", "right")) -> None:
        """Refuse context alignments whose columns are not those of the families being paired."""
        for msa, n, name in ((self.left, n_left, names[0]), (self.right, n_right, names[1])):
            if msa.n_columns != n:
                raise PairingInputError(
                    f"{name}: the context MSA has {msa.n_columns} columns but the family it gives context for has {n}; "
                    "align the context to the same columns")

    def summary(self) -> dict:
        """Counts (``n_pairs``, ``n_left``, ``n_right`` rows) and the :attr:`source` fields, JSON-friendly."""
        return {"n_pairs": self.n_pairs, "n_left": self.left.n_sequences, "n_right": self.right.n_sequences,
                **self.source}

    def __repr__(self) -> str:
        return f"ContextPairs(n_pairs={self.n_pairs}, n_left={self.left.n_sequences}, n_right={self.right.n_sequences})"


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
    context: "ContextPairs | None" = None
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
        truth_map = _resolve_truth(truth, left, right, sp_l, sp_r)
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


def _resolve_truth(truth, left: MSA, right: MSA, sp_l, sp_r):
    if truth is None:
        return None
    if isinstance(truth, dict):
        pairs = {int(k): int(v) for k, v in truth.items()}
    elif isinstance(truth, str) and truth == "same-order":
        if left.n_sequences != right.n_sequences:
            raise PairingInputError(
                f"truth='same-order' needs MSAs of the same length, not {left.n_sequences} and {right.n_sequences} rows"
            )
        pairs = {}
        for i in range(left.n_sequences):
            if sp_l[i] is None or sp_r[i] is None:
                continue
            if sp_l[i] != sp_r[i]:
                raise PairingInputError(
                    f"truth='same-order' but row {i + 1} has species {sp_l[i]!r} on the left and {sp_r[i]!r} on the right"
                )
            pairs[i] = i
    elif isinstance(truth, (str, os.PathLike)):
        pairs = _read_pairs_file(truth, left, right)
    else:
        raise PairingInputError(f"truth must be None, 'same-order', a dict or a pairs file path, not {truth!r}")
    for i, j in pairs.items():
        if not (0 <= i < left.n_sequences and 0 <= j < right.n_sequences):
            raise PairingInputError(f"true pair ({i}, {j}) is out of range")
        if sp_l[i] is None or sp_r[j] is None or sp_l[i] != sp_r[j]:
            if isinstance(truth, str) and truth == "same-order":
                continue
            raise PairingInputError(
                f"true pair {left.ids[i]!r} - {right.ids[j]!r} crosses species ({sp_l[i]!r} vs {sp_r[j]!r}) or lies outside the blocks"
            )
    return pairs


#: The optional header line of a pairs file (and the first two columns of protlm's pairs.tsv).
PAIRS_HEADER = ("left_id", "right_id")


def _read_pairs_file(path, left: MSA, right: MSA, *, sides=("left", "right"), lines=None) -> dict:
    """``{left_row: right_row}`` from a TSV ``left_id<TAB>right_id``; ``lines`` (a dict) receives each left row's line."""
    from protlm.io._open import open_text

    def index(ids, side):
        where: dict = {}
        dup = set()
        for i, x in enumerate(ids):
            if x in where:
                dup.add(x)
            where[x] = i
        return where, dup

    li, ldup = index(left.ids, "left")
    ri, rdup = index(right.ids, "right")
    pairs: dict = {}
    used_right: set = set()
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise PairingInputError(f"{name}: no such pairs file (expected lines 'left_id<TAB>right_id', "
                                "or 'same-order' when row i of one MSA pairs with row i of the other)")
    first = True
    with open_text(path) as fh:
        for lineno, row in enumerate(csv.reader(fh, delimiter="\t"), 1):
            if not row or not "".join(row).strip() or row[0].startswith("#"):
                continue
            if first and [c.strip().lower() for c in row[:2]] == list(PAIRS_HEADER):
                first = False  # an optional header line
                continue
            first = False
            if len(row) < 2:
                raise PairingInputError(f"{name}: line {lineno}: expected 'left_id<TAB>right_id'")
            a, b = row[0].strip(), row[1].strip()
            for x, table, dup, side in ((a, li, ldup, sides[0]), (b, ri, rdup, sides[1])):
                if x not in table:
                    raise PairingInputError(f"{name}: line {lineno}: id {x!r} is not in the {side} MSA")
                if x in dup:
                    raise PairingInputError(f"{name}: line {lineno}: id {x!r} occurs more than once in the {side} MSA")
            if li[a] in pairs or ri[b] in used_right:
                raise PairingInputError(f"{name}: line {lineno}: {a!r} or {b!r} is already in an earlier pair")
            pairs[li[a]] = ri[b]
            used_right.add(ri[b])
            if lines is not None:
                lines[li[a]] = lineno
    return pairs


def check_paired_layout(right, split_at) -> None:
    """Refuse, before any work, anything but two MSAs or one MSA with ``split_at``.

    Parameters
    ----------
    right : path, handle or None
        The right family's MSA, or ``None`` when the left one is the concatenation.
    split_at : int or None
        The column that splits a concatenated MSA.

    Raises
    ------
    PairingInputError
        Unless exactly one of ``right`` and ``split_at`` is given.

    Examples
    --------
    >>> check_paired_layout("right.a3m", None)
    >>> check_paired_layout(None, None)
    Traceback (most recent call last):
    ...
    protlm.errors.PairingInputError: give either LEFT and RIGHT, or one concatenated MSA with --split-at
    """
    if (right is None) == (split_at is None):
        raise PairingInputError("give either LEFT and RIGHT, or one concatenated MSA with --split-at")


def read_context(left, right, *, pairs=None) -> ContextPairs:
    """Read context MSAs (correctly paired rows of other species): row *i* with row *i*, or a pairs TSV.

    Parameters
    ----------
    left, right : str, os.PathLike or handle
        The context MSAs, in any format :func:`protlm.io.read_msa` reads.
    pairs : str, os.PathLike or handle, optional
        A TSV ``left_id<TAB>right_id`` of the context pairs; without it row *i*
        pairs with row *i*.

    Returns
    -------
    ContextPairs
        With ``source`` naming the files (``"<handle>"`` for a handle) and
        whether pairs came from ``"same-order"`` or a ``"file"``.

    Raises
    ------
    PairingInputError
        See :meth:`ContextPairs.from_msas`.

    Examples
    --------
    >>> import io
    >>> ctx = read_context(io.StringIO(">a\\nAC\\n>b\\nAD\\n"), io.StringIO(">x\\nKL\\n>y\\nKM\\n"))
    >>> ctx.pairs
    ((0, 0), (1, 1))
    """
    from protlm.io.general import read_msa

    names = [left, right] + ([pairs] if pairs is not None else [])
    source = {"files": [os.fspath(x) if isinstance(x, (str, os.PathLike)) else "<handle>" for x in names],
              "pairs": "same-order" if pairs is None else "file"}
    return ContextPairs.from_msas(read_msa(left), read_msa(right), pairs=pairs, source=source)


def _check_known_pairs(path, paired) -> dict:
    """Known pairs from a TSV, each inside one species block of ``paired`` (file and line named)."""
    lines: dict = {}
    pairs = _read_pairs_file(path, paired.left, paired.right, lines=lines)
    block_l = {int(i): b.species for b in paired.blocks for i in b.left}
    block_r = {int(j): b.species for b in paired.blocks for j in b.right}
    for i, j in pairs.items():
        if i not in block_l or block_r.get(j) != block_l[i]:
            raise PairingInputError(
                f"{os.fspath(path)}: line {lines[i]}: known pair {paired.left.ids[i]!r} - {paired.right.ids[j]!r} is "
                f"not inside one species of both inputs (species {block_l.get(i)!r} and {block_r.get(j)!r})")
    return pairs


def read_paired_families(left, right=None, *, split_at=None, species_key="auto", truth=None, exclude=None,
                         taxonomy=None, context=None, context_pairs=None, known_pairs=None, max_rows=None,
                         query=(0, 0)):
    """Read two MSAs, or one concatenated MSA split at a column, into :class:`PairedFamilies`.

    Parameters
    ----------
    left, right : path or handle
        The two families' MSAs; ``right`` is ``None`` when ``left`` is their concatenation.
    split_at : int, optional
        With one concatenated MSA: the left chain is its first ``split_at`` columns.
    species_key, truth, exclude
        As in :meth:`PairedFamilies.from_msas`.
    taxonomy : path, handle or list of them, optional
        Taxonomy sources (:func:`protlm.io.taxonomy.read_taxonomy`), streamed
        once for the ids of the MSAs.  A row's species is its taxon there, else
        what ``species_key`` finds in its header; rows with neither are
        counted (``n_no_key_*``) and stay unpaired.  The counts are in
        :attr:`PairedFamilies.taxonomy`.
    context : (path, path), optional
        Context MSAs (:func:`read_context`), same columns as the two families;
        row *i* pairs with row *i* unless ``context_pairs`` names a pairs TSV.
        Stored as :attr:`PairedFamilies.context`.
    known_pairs : path, optional
        A TSV ``left_id<TAB>right_id`` of pairs fixed inside the input, each
        within one shared species; stored as :attr:`PairedFamilies.known_pairs`.
    max_rows : int, optional
        :meth:`PairedFamilies.cap_rows` with ``query`` (rows of the queries).

    Raises
    ------
    PairingInputError
        Unless exactly one of ``right`` and ``split_at`` is given.
    TaxonomyFormatError
        A malformed taxonomy source.

    Examples
    --------
    >>> import io
    >>> left = io.StringIO(">101\\nMKV\\n>UniRef100_P1\\tscore\\nMKI\\n>UPI0001\\nMRV\\n")
    >>> right = io.StringIO(">102\\nAC\\n>UniRef100_Q1\\nAD\\n")
    >>> tax = io.StringIO("P1\\t562\\nQ1\\t562\\n")
    >>> pf = read_paired_families(left, right, taxonomy=[tax])
    >>> pf.blocks[0], pf.taxonomy["left"]
    (SpeciesBlock(species='562', n_left=1, n_right=1), {'n_rows': 3, 'n_from_taxonomy': 1, 'n_from_header': 0, 'n_without_species': 2})
    """
    from dataclasses import replace

    from protlm.io.general import read_msa

    check_paired_layout(right, split_at)
    msas = [read_msa(left)] + ([read_msa(right)] if right is not None else [])
    coverage = None
    if taxonomy is not None:
        from protlm.io.taxonomy import read_taxonomy

        tax = read_taxonomy(taxonomy, ids=[i for m in msas for i in m.ids])
        sides = ("left", "right") if right is not None else ("rows",)
        coverage = {side: tax.coverage(m.ids, m.descriptions, species_key) for side, m in zip(sides, msas)}
        coverage.update(tax.summary())
        species_key = tax.species_key(fallback=species_key)
    if right is None:
        paired = PairedFamilies.from_concatenated(
            msas[0], split_at=split_at, species_key=species_key, truth=truth, exclude=exclude
        )
    else:
        paired = PairedFamilies.from_msas(msas[0], msas[1], species_key=species_key, truth=truth, exclude=exclude)
    if context_pairs is not None and context is None:
        raise PairingInputError("--context-pairs names the pairs of context MSAs: give them with --context CTX_LEFT CTX_RIGHT")
    extra = {}
    if coverage is not None:
        extra["taxonomy"] = coverage
    if context is not None:
        ctx = read_context(context[0], context[1], pairs=context_pairs)
        ctx.check_columns(paired.left.n_columns, paired.right.n_columns,
                          names=tuple(os.fspath(c) if isinstance(c, (str, os.PathLike)) else "context" for c in context))
        extra["context"] = ctx
    if known_pairs is not None:
        extra["known_pairs"] = _check_known_pairs(known_pairs, paired)
    if extra:
        paired = replace(paired, **extra)
    if max_rows is not None:
        paired = paired.cap_rows(max_rows, query=query)
    return paired
