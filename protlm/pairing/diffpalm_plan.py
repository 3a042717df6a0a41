"""DiffPALM's plan: species blocks laid out into sub-MSAs, and the resume folder of finished sub-MSAs.

A sub-MSA holds whole species (never split, nothing dropped) up to the rows
one forward pass takes (:func:`default_max_depth`, from the model and the
device's total memory, so that every run makes the same plan).  Sub-MSAs of
the same depth (and the runs of one sub-MSA) share a forward pass, as many as
the same memory plan holds (:func:`plan_batches`, :func:`default_max_batch`).  Each species is a
:class:`_SpeciesLayout`: its known pairs first (fixed), then its free left and right rows, padded with
``-1`` (all-gap rows) to the same number.  :class:`_Checkpoints` keeps each finished batch of (run,
sub-MSA) under a key of everything it depends on, so that a killed run resumes (``protlm pair`` uses
``OUTDIR/.partial/``).  A context too deep to fit is cut (:func:`context_rows_that_fit`).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import numpy as np

from protlm.errors import ModelLimitError, PairingInputError, ProtlmError
from protlm.pairing.diffpalm_solver import SolverTrace

__all__ = ["MEMORY_SHARE", "context_rows_that_fit", "default_max_batch", "default_max_depth", "device_memory",
           "plan_batches", "plan_sub_msas"]


@dataclass(frozen=True)
class _SpeciesLayout:
    """How one species (a :class:`protlm.io.SpeciesBlock`) is laid out in one sub-MSA: which sequence sits in each row."""

    index: int  # position in paired.blocks
    species: str
    fixed: tuple  # ((left_row, right_row), ...) known pairs, never permuted
    free_left: tuple  # left rows to permute (-1 = all-gap padding)
    free_right: tuple  # right rows of the permuted part (-1 = padding), fixed order

    @property
    def depth(self) -> int:
        return len(self.fixed) + len(self.free_left)


def _validate_pairs(pairs, paired, what, *, same_block=True):
    """Pairs (ids or rows) as ``{left_row: right_row}``, checked by the one validator (:func:`protlm.io.pairs.resolve_pairs`)."""
    from protlm.io.pairs import resolve_pairs

    return resolve_pairs(pairs, n_left=paired.left.n_sequences, n_right=paired.right.n_sequences,
                         left_ids=paired.left.ids, right_ids=paired.right.ids, blocks=paired.blocks,
                         same_block=same_block, what=what)


def _blocks(paired, known):
    out = []
    used_known = set()
    for i, blk in enumerate(paired.blocks):
        left = [int(x) for x in blk.left]
        right = [int(x) for x in blk.right]
        fixed = []
        for l in left:
            if l in known:
                if known[l] not in right:
                    raise PairingInputError(
                        f"known pair ({l}, {known[l]}): right row {known[l]} is not in species {blk.species!r}"
                    )
                fixed.append((l, known[l]))
                used_known.add(l)
        fl = [l for l in left if l not in known]
        fixed_right = {r for _, r in fixed}
        fr = [r for r in right if r not in fixed_right]
        n = max(len(fl), len(fr))
        fl += [-1] * (n - len(fl))
        fr += [-1] * (n - len(fr))
        out.append(_SpeciesLayout(i, blk.species, tuple(fixed), tuple(fl), tuple(fr)))
    stray = set(known) - used_known
    if stray:
        raise PairingInputError(
            f"known pairs: left row(s) {sorted(stray)[:5]} are in no species shared by both families"
        )
    return out


def _orthologs(paired, known) -> dict:
    """``{block index: (left_row, right_row)}`` of the species with one sequence on each side (none known)."""
    known_right = set(known.values())
    out = {}
    for i, b in enumerate(paired.blocks):
        if b.n_left == 1 and b.n_right == 1:
            l, r = int(b.left[0]), int(b.right[0])
            if l not in known and r not in known_right:
                out[i] = (l, r)
    return out


def context_rows_that_fit(paired, *, max_depth: int, known_pairs=None, n_context: int,
                          max_context_rows: int | None = None) -> int:
    """How many of ``n_context`` context rows a DiffPALM run keeps (the rest are cut, most alike the input kept).

    ``max_context_rows`` when given; else all of them when the plan fits beside them, and half of
    ``max_depth`` when it does not (the species being paired keep the other half).

    Parameters
    ----------
    paired, max_depth, known_pairs
        As in :func:`plan_sub_msas`.
    n_context : int
        Context rows given.
    max_context_rows : int, optional
        The user's cap (``--max-context-rows``), >= 0.

    Examples
    --------
    >>> from protlm.io import MSA, PairedFamilies
    >>> fam = PairedFamilies.from_msas(MSA.from_sequences(["AC"] * 4, ids=[f"l{i}_s" for i in range(4)]),
    ...                                MSA.from_sequences(["KL"] * 4, ids=[f"r{i}_s" for i in range(4)]),
    ...                                species_key="field:_:-1")  # one species of four paralogs
    >>> context_rows_that_fit(fam, max_depth=250, n_context=240), context_rows_that_fit(fam, max_depth=242, n_context=240)
    (240, 121)
    """
    if max_context_rows is not None:
        if max_context_rows < 0:
            raise PairingInputError(f"max_context_rows must be >= 0, got {max_context_rows}")
        return min(n_context, int(max_context_rows))
    try:
        plan_sub_msas(paired, max_depth=max_depth, known_pairs=known_pairs, n_context=n_context)
    except ModelLimitError:
        return min(n_context, max_depth // 2)
    return n_context


def plan_sub_msas(paired, *, max_depth: int, known_pairs=None, n_context: int = 0) -> list:
    """Group the species blocks into sub-MSAs of at most ``max_depth`` rows (context rows included).

    Species are never split and nothing is dropped: a species deeper than
    ``max_depth`` raises :class:`ModelLimitError` before any work.  Species
    with exactly one sequence on each side (orthologs, not fixed as known
    pairs) are paired directly and go into no sub-MSA.  The plan depends on
    the input and ``max_depth`` only, so it is the same on every run.

    Parameters
    ----------
    paired : PairedFamilies
        The two families and their species blocks.
    max_depth : int
        Rows per forward pass, context rows included.
    known_pairs : dict of int to int, optional
        Left row -> right row of pairs fixed inside the input; they sit in
        their species' block and are never permuted.
    n_context : int, default 0
        Context rows prepended to every sub-MSA.

    Returns
    -------
    list of list of _SpeciesLayout
        Sub-MSAs in order of the species blocks, each a list of blocks
        (a species' free rows padded to the same number on both sides).

    Raises
    ------
    ModelLimitError
        A species deeper than ``max_depth - n_context``, or no room left
        next to the context rows.
    PairingInputError
        A known pair outside the MSAs, outside one shared species, or a
        right row in two known pairs.
    """
    known = _validate_pairs(known_pairs, paired, "known pair")
    orthologs = _orthologs(paired, known)
    blocks = [b for b in _blocks(paired, known) if b.index not in orthologs]  # orthologs first: paired directly
    room = max_depth - n_context
    if room < 1:
        raise ModelLimitError(f"--max-depth {max_depth} leaves no room next to {n_context} context rows")
    too_deep = [b for b in blocks if b.depth > room]
    if too_deep:
        b = max(too_deep, key=lambda b: b.depth)
        raise ModelLimitError(
            f"species {b.species!r} needs {b.depth} rows (after padding) but a forward pass takes at most {room} "
            f"(max depth {max_depth}, {n_context} context rows); {len(too_deep)} species too deep; raise --max-depth "
            f"(the MSA Transformer takes at most 1024 rows) or drop paralogs"
        )
    subs, current, depth = [], [], 0
    for b in blocks:
        if current and depth + b.depth > room:
            subs.append(current)
            current, depth = [], 0
        current.append(b)
        depth += b.depth
    if current:
        subs.append(current)
    return subs


#: Share of the device's total memory that a forward and backward pass may use when ``max_depth`` is not given.
MEMORY_SHARE = {"cuda": 0.5, "cpu": 0.25, "mps": 0.25}


def device_memory(device) -> int | None:
    """Total memory of ``device`` in bytes (a GPU's memory; the machine's RAM for the CPU), or ``None``.

    A property of the device, not of what is free at the moment, so that plans
    built from it are the same from one run to the next.

    Parameters
    ----------
    device : torch.device or str
        ``"cpu"``, ``"cuda"``, ``"cuda:N"``...
    """
    try:
        if getattr(device, "type", str(device)) == "cuda":
            import torch

            return int(torch.cuda.get_device_properties(device).total_memory)
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError, RuntimeError, AssertionError):
        return None


def _memory_rows(model, n_columns: int, device, *, checkpointing: bool) -> int | None:
    """Rows (of ``n_columns`` columns) whose forward and backward pass fit the planned memory; ``None`` if unknown.

    ``MEMORY_SHARE[device type]`` of :func:`device_memory` divided by the bytes
    one row takes (not capped by the model's 1024 rows: a batch of several
    MSAs may hold more rows in all).
    """
    floats = 32 + 2 * model.args.layers if checkpointing else 32 * model.args.layers
    per_row = 4 * n_columns * model.args.embed_dim * floats
    total = device_memory(device)
    if not total:
        return None
    share = MEMORY_SHARE.get(getattr(device, "type", str(device)).split(":")[0], 0.25)
    return int(total * share) // max(per_row, 1)


def default_max_depth(model, n_columns: int, device, *, checkpointing: bool = False) -> int:
    """Rows per forward pass for a model on a device: deterministic, from the model's size and the device's total memory.

    ``MEMORY_SHARE[device type]`` of :func:`device_memory` (never the free
    memory, which changes from run to run and would change the grouping of
    species into sub-MSAs, and so the result), divided by the bytes one row
    takes, at most 1024.  Calibrated on ``benchmarks/diffpalm_step.py``: a
    frozen-weights step keeps about 24 floats per token, width unit and layer
    for the backward pass (32 assumed here); with gradient checkpointing, one
    layer's worth plus each layer's input.

    Parameters
    ----------
    model : esm.MSATransformer
        Its ``args.layers`` and ``args.embed_dim`` set the bytes per row.
    n_columns : int
        Columns of the paired MSA, ``<cls>`` included.
    device : torch.device or str
        Where the forward and backward passes run.
    checkpointing : bool, default False
        Gradient checkpointing (fewer activations kept, so more rows).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> tiny = NS(args=NS(layers=1, embed_dim=32))
    >>> default_max_depth(tiny, 177, "cpu") == default_max_depth(tiny, 177, "cpu")
    True
    """
    from protlm.models.esm_msa import MAX_ROWS

    rows = _memory_rows(model, n_columns, device, checkpointing=checkpointing)
    if rows is None:
        return MAX_ROWS
    return int(max(2, min(MAX_ROWS, rows)))


def default_max_batch(model, n_columns: int, device, *, rows: int, checkpointing: bool = False) -> int:
    """How many MSAs of ``rows`` rows one batched forward pass takes: deterministic, from the same memory plan.

    The rows the planned memory holds (as for :func:`default_max_depth`, from
    the model's size and the device's *total* memory, never the free memory,
    so that the batches, like the sub-MSAs, are the same on every run) divided
    by ``rows``; at least 1, and 1 when the device's memory is unknown.

    Parameters
    ----------
    model, n_columns, device, checkpointing
        As for :func:`default_max_depth`.
    rows : int
        Rows of one MSA of the batch, context rows included.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> full = NS(args=NS(layers=12, embed_dim=768))
    >>> n = default_max_batch(full, 177, "cpu", rows=50)
    >>> n >= 1 and n == default_max_batch(full, 177, "cpu", rows=50)
    True
    """
    if rows < 1:
        raise ProtlmError(f"rows must be positive, not {rows}")
    budget = _memory_rows(model, n_columns, device, checkpointing=checkpointing)
    return 1 if budget is None else max(1, budget // rows)


def plan_batches(depths, *, runs: int = 1, max_batch=1) -> list:
    """Group the (run, sub-MSA) problems of equal depth into batches, deterministically.

    Only problems of the same depth share a forward pass (all sub-MSAs of one
    input have the same columns and context rows): padding a shallower one
    would change the row attention's scaling (fair-esm divides by the square
    root of the row count) and so its result.  The runs of one sub-MSA always
    have its depth.  Batches come in order of their first problem; within one,
    problems are in (run, sub-MSA) order.  ``max_batch=1`` gives one problem
    per batch, in (run, sub-MSA) order: the unbatched schedule.

    Parameters
    ----------
    depths : sequence of int
        Rows of each sub-MSA (context rows excluded or included alike).
    runs : int, default 1
        Runs of every sub-MSA.
    max_batch : int or callable, default 1
        Problems per forward pass, at most: a number, or a function of the
        depth (e.g. the memory plan, :func:`default_max_batch`).

    Returns
    -------
    list of list of (int, int)
        ``(run, sub_msa)`` pairs, each problem in exactly one batch.

    Raises
    ------
    ProtlmError
        ``max_batch`` (or its value for a depth) not a positive integer.

    Examples
    --------
    >>> plan_batches([20, 18, 20, 20], runs=1, max_batch=2)
    [[(0, 0), (0, 2)], [(0, 1)], [(0, 3)]]
    >>> plan_batches([20, 18], runs=2, max_batch=4)
    [[(0, 0), (1, 0)], [(0, 1), (1, 1)]]
    """
    limit = max_batch if callable(max_batch) else (lambda depth: max_batch)
    by_depth = {}
    for r in range(runs):
        for k, depth in enumerate(depths):
            by_depth.setdefault(int(depth), []).append((r, k))
    batches = []
    for depth, items in by_depth.items():
        n = limit(depth)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ProtlmError(f"max_batch must be a positive integer, not {n!r}")
        batches += [items[i : i + int(n)] for i in range(0, len(items), int(n))]
    return sorted(batches, key=lambda batch: batch[0])


def _layout(sub, *, shuffle_rng, left_tok, right_tok, cls_idx, gap_idx):
    """Rows of one sub-MSA: token arrays with <cls>, groups, maskable, and the row contents."""
    left_rows, right_rows, groups, maskable = [], [], [], []
    start = 0
    for b in sub:
        free_left = list(b.free_left)
        if shuffle_rng is not None and len(free_left) > 1:
            free_left = [free_left[i] for i in shuffle_rng.permutation(len(free_left))]
        rows_l = [l for l, _ in b.fixed] + free_left
        rows_r = [r for _, r in b.fixed] + list(b.free_right)
        left_rows += rows_l
        right_rows += rows_r
        maskable += [False] * len(b.fixed) + [l >= 0 for l in free_left]
        if len(free_left) >= 2:
            groups.append(np.arange(start + len(b.fixed), start + b.depth))
        start += b.depth

    def tokens(rows, tok):
        gap = np.full(tok.shape[1], gap_idx, dtype=np.int64)
        body = np.stack([tok[r] if r >= 0 else gap for r in rows])
        return np.concatenate([np.full((len(rows), 1), cls_idx, dtype=np.int64), body], axis=1)

    return tokens(left_rows, left_tok), tokens(right_rows, right_tok), tuple(groups), np.array(maskable), left_rows, right_rows


def _checkpoint_key(model, left_tok, right_tok, context_tokens, subs, options) -> str:
    """A digest of everything a sub-MSA's result depends on: inputs, plan, model weights, options."""
    import hashlib
    import json

    h = hashlib.sha256()
    for arr in (left_tok, right_tok, context_tokens if context_tokens is not None else np.zeros(0)):
        a = np.ascontiguousarray(arr)
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    h.update(json.dumps([[asdict(b) for b in sub] for sub in subs], default=int).encode())
    h.update(json.dumps(options, sort_keys=True, default=str).encode())
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:20]


class _Checkpoints:
    """Finished batches of (run, sub-MSA) traces in ``folder/key/``, one file per batch, written atomically.

    A batch's file (named after its first problem) holds the traces of all its
    problems, so a kill leaves each batch either whole or absent, and a resumed
    run redoes exactly the batched passes an uninterrupted one does.
    """

    def __init__(self, folder, key):
        from pathlib import Path

        self.root = Path(folder)
        self.path = self.root / key
        self.n_loaded = 0

    def _file(self, batch):
        r, k = batch[0]
        return self.path / f"run{r}_sub{k}.npz"

    def n_found(self) -> int:
        return len(list(self.path.glob("run*_sub*.npz"))) if self.path.is_dir() else 0

    def load(self, batch):
        """The traces of ``batch`` (a list of ``(run, sub_msa)``), or ``None`` if it did not finish."""
        f = self._file(batch)
        if not f.exists():
            return None
        with np.load(f) as z:
            if z["members"].tolist() != [list(p) for p in batch]:
                return None
            traces = [SolverTrace(losses=[float(x) for x in z[f"losses{i}"]], perms=z[f"perms{i}"], scores=[],
                                  lrs=[float(x) for x in z[f"lrs{i}"]]) for i in range(len(batch))]
        self.n_loaded += len(batch)
        return traces

    def save(self, batch, traces) -> None:
        """Write the traces of ``batch`` in one file, atomically."""
        from protlm.io.atomic import atomic_write

        self.path.mkdir(parents=True, exist_ok=True)
        arrays = {"members": np.asarray(batch, dtype=np.int64).reshape(len(batch), 2)}
        for i, trace in enumerate(traces):
            arrays[f"losses{i}"] = np.asarray(trace.losses, dtype=np.float64)
            arrays[f"perms{i}"] = np.asarray(trace.perms)
            arrays[f"lrs{i}"] = np.asarray(trace.lrs, dtype=np.float64)
        with atomic_write(self._file(batch), "wb", encoding=None) as fh:  # the temp file is not *.npz
            np.savez(fh, **arrays)

    def remove(self) -> None:
        import shutil

        shutil.rmtree(self.path, ignore_errors=True)
        try:
            self.root.rmdir()  # only when no other key is left in it
        except OSError:
            pass
