"""Pairs of rows across two MSAs: the one known-pair validator and the pairs-file reader.

Known pairs (fixed inside the input), true pairs (``truth``), context pairs
(rows of other species every method may learn from) are all given the same
way: ``{left: right}`` or ``[(left, right), ...]`` where each side is a row
index (int) or a sequence id (str), or a TSV file ``left_id<TAB>right_id``.
:func:`resolve_pairs` checks them all, with one set of messages; the reader
:func:`read_pairs_file` only parses lines and hands each pair with its line
number to it.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping

import numpy as np

from protlm.errors import PairingInputError

__all__ = ["PAIRS_HEADER", "resolve_pairs", "read_pairs_file"]

#: The optional header line of a pairs file (and the first two columns of protlm's pairs.tsv).
PAIRS_HEADER = ("left_id", "right_id")


def _id_table(ids) -> tuple[dict, set]:
    where: dict = {}
    dup: set = set()
    for i, x in enumerate(ids):
        if x in where:
            dup.add(x)
        where[x] = i
    return where, dup


def _row(item, table, side: str, n_rows: int, at: str) -> int:
    if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
        row = int(item)
        if not 0 <= row < n_rows:
            raise PairingInputError(f"{at}: {side} row {row} is out of range (the {side} MSA has rows 0..{n_rows - 1})")
        return row
    if table is None:
        raise PairingInputError(f"{at}: {item!r} is not a row index, and no {side} ids were given to look it up")
    where, dup = table
    if item not in where:
        raise PairingInputError(f"{at}: id {item!r} is not in the {side} MSA")
    if item in dup:
        raise PairingInputError(f"{at}: id {item!r} occurs more than once in the {side} MSA")
    return where[item]


def resolve_pairs(pairs, *, n_left: int, n_right: int, left_ids=None, right_ids=None, blocks=None,
                  same_block: bool | None = True, what: str = "known pair", where=None,
                  sides=("left", "right")) -> dict:
    """Check pairs given by row index or id and return them as ``{left_row: right_row}``.

    The one validator of known pairs, true pairs and context pairs: every
    method and reader calls it.

    Parameters
    ----------
    pairs : mapping or iterable of (left, right), or None
        Each side a 0-based row (int) or a sequence id (str).
    n_left, n_right : int
        Rows of the left and right MSA.
    left_ids, right_ids : sequence of str, optional
        Ids of the rows, to resolve str entries (an id that occurs twice is
        refused when used).
    blocks : sequence of protlm.io.SpeciesBlock, optional
        The species blocks, for ``same_block``.
    same_block : bool or None, default True
        ``True``: both rows must lie in one species block (known and true
        pairs).  ``False``: neither row may lie in any block (DiffPALM's
        context pairs inside the MSAs, which are never permuted).  ``None``:
        no block check (context MSAs).
    what : str, default "known pair"
        What the pairs are, for the messages.
    where : sequence of str, optional
        Where each pair came from (e.g. ``"pairs.tsv: line 3"``), in the order
        of ``pairs``; messages start with it.  Default: ``what``.
    sides : (str, str)
        Names of the two MSAs in messages (``"context left"``, ...).

    Returns
    -------
    dict of int to int
        Left row -> right row, in the order given.

    Raises
    ------
    PairingInputError
        An entry that is not a pair, a row out of range, an unknown or
        ambiguous id, a sequence in two pairs, or a pair that breaks
        ``same_block``; the message names the pair (and its line).

    Examples
    --------
    >>> from protlm.io import SpeciesBlock
    >>> blocks = [SpeciesBlock("a", np.array([0, 1]), np.array([0, 1])), SpeciesBlock("b", np.array([2]), np.array([2]))]
    >>> resolve_pairs([("L0", 1), (2, "R2")], n_left=3, n_right=3, left_ids=["L0", "L1", "L2"],
    ...               right_ids=["R0", "R1", "R2"], blocks=blocks)
    {0: 1, 2: 2}
    >>> resolve_pairs({0: 2}, n_left=3, n_right=3, blocks=blocks)
    Traceback (most recent call last):
    ...
    protlm.errors.PairingInputError: known pair 0 - 2 is not inside one species of both inputs (species 'a' and 'b'; both sequences must be in the same species block)
    """
    if pairs is None:
        return {}
    items = list(pairs.items() if isinstance(pairs, Mapping) else pairs)
    ltab = _id_table(left_ids) if left_ids is not None else None
    rtab = _id_table(right_ids) if right_ids is not None else None
    if same_block is not None:
        if blocks is None:
            raise PairingInputError(f"{what}s: the species blocks are needed to check them (blocks=)")
        block_l = {int(r): b.species for b in blocks for r in b.left}
        block_r = {int(r): b.species for b in blocks for r in b.right}
    out: dict = {}
    used_right: dict = {}
    for k, pair in enumerate(items):
        try:
            left, right = pair
        except (TypeError, ValueError):
            raise PairingInputError(f"{where[k] if where is not None else what}: {pair!r} is not a (left, right) pair") from None
        name = f"{what} {left!r} - {right!r}"
        at = where[k] if where is not None else name  # a file's pair is named by its line
        lrow = _row(left, ltab, sides[0], n_left, at)
        rrow = _row(right, rtab, sides[1], n_right, at)
        named = f"{where[k]}: {name}" if where is not None else name
        if lrow in out or rrow in used_right:
            raise PairingInputError(f"{named}: {left!r} or {right!r} is already in an earlier pair (a sequence "
                                    f"appears in two {what}s)")
        if same_block is True and (lrow not in block_l or block_r.get(rrow) != block_l[lrow]):
            raise PairingInputError(
                f"{named} is not inside one species of both inputs (species {block_l.get(lrow)!r} and "
                f"{block_r.get(rrow)!r}; both sequences must be in the same species block)")
        if same_block is False and (lrow in block_l or rrow in block_r):
            raise PairingInputError(
                f"{named} belongs to species being paired ({block_l.get(lrow, block_r.get(rrow))!r}); "
                "pass it as known_pairs instead")
        out[lrow] = rrow
        used_right[rrow] = lrow
    return out


def read_pairs_file(path, *, left_ids, right_ids, blocks=None, same_block: bool | None = None,
                    what: str = "pair", sides=("left", "right")) -> dict:
    """``{left_row: right_row}`` from a TSV ``left_id<TAB>right_id``, checked by :func:`resolve_pairs`.

    Lines starting with ``#`` and blank lines are skipped; the first line may
    be the header ``left_id<TAB>right_id`` (:data:`PAIRS_HEADER`).  Messages
    name the file and the line.

    Parameters
    ----------
    path : str or PathLike
        The pairs file (plain or compressed).
    left_ids, right_ids : sequence of str
        Ids of the two MSAs' rows.
    blocks, same_block, what, sides
        As in :func:`resolve_pairs`.

    Raises
    ------
    PairingInputError
        No such file, a line without two columns, or a pair :func:`resolve_pairs` refuses.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "pairs.tsv"
    >>> _ = p.write_text("left_id\\tright_id\\nb\\tx\\n")
    >>> read_pairs_file(p, left_ids=["a", "b"], right_ids=["x", "y"])
    {1: 0}
    """
    from protlm.io._open import open_text

    name = os.fspath(path)
    if not os.path.isfile(name):
        raise PairingInputError(f"{name}: no such pairs file (expected lines 'left_id<TAB>right_id', "
                                "or 'same-order' when row i of one MSA pairs with row i of the other)")
    pairs, where = [], []
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
            pairs.append((row[0].strip(), row[1].strip()))
            where.append(f"{name}: line {lineno}")
    return resolve_pairs(pairs, n_left=len(left_ids), n_right=len(right_ids), left_ids=left_ids, right_ids=right_ids,
                         blocks=blocks, same_block=same_block, what=what, where=where, sides=sides)

