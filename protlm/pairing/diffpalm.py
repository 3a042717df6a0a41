"""DiffPALM: pairing paralogs by differentiable permutations scored by the MSA Transformer.

Method of Lupo, Sgarbossa & Bitbol (PNAS 2024), as the authors' code
(Bitbol-Lab/DiffPALM v1.0) computes it; ``tests/pairing/test_parity.py``
checks protlm's numbers against theirs.  Rows of the paired MSA are
``<cls> + left + right``.  For each group of left rows that may be permuted
(a species), a score matrix ``log_alpha`` (mean-centred before each step)
gives a soft permutation (Gumbel-Sinkhorn) and a hard one (Hungarian on the
same noisy scores, ties broken by a random conjugation); the left rows are
permuted with the hard matrix in the forward pass and the soft one in the
backward pass (straight-through).  Left tokens are masked with probability
``p_mask``; the loss is the cross-entropy of the masked tokens against the
permuted one-hot MSA (gradients also flow through that target).  Only
``log_alpha`` is optimised (Adadelta, ReduceLROnPlateau).

Two layers:

* :func:`optimize_permutations` and :func:`diffpalm_iteration` work on one-hot
  tensors (a :class:`PermutationProblem`);
* :func:`pair_diffpalm` pairs a :class:`~protlm.io.PairedFamilies`: layout of
  species blocks (padding, known pairs, context pairs, shuffling, splitting
  into sub-MSAs), several runs, aggregation, a
  :class:`~protlm.pairing.result.PairingResult`.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from protlm.errors import ModelLimitError, PairingInputError, ProtlmError
from protlm.pairing.draws import Draws, TorchDraws
from protlm.pairing.result import PairingResult
from protlm.pairing.sinkhorn import gumbel_sinkhorn, hungarian, matrix_to_perm, straight_through

__all__ = [
    "DiffPALMSettings",
    "PRESETS",
    "PermutationProblem",
    "Iteration",
    "SolverTrace",
    "diffpalm_iteration",
    "optimize_permutations",
    "plan_sub_msas",
    "pair_diffpalm",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DiffPALMSettings:
    """Hyper-parameters of the solver (see :data:`PRESETS`).

    ``scheduler_factor`` / ``scheduler_patience`` of ``None`` mean torch's
    ReduceLROnPlateau defaults (factor 0.1, patience 10).  ``shuffle`` puts
    the left rows of each species in a random (recorded) order before
    optimising, so that ties cannot favour the input order.
    """

    lr: float = 9.0
    weight_decay: float = 0.1
    rho: float = 0.9
    eps: float = 1e-6
    tau: float = 1.0
    n_sink_iter: int = 10
    noise_factor: float = 0.1
    noise_std: bool = True
    noise_scheduler: bool = True
    p_mask: float = 0.7
    std_init: float = 0.0
    mean_centering: bool = True
    conjugation: bool = True
    scheduler_factor: float | None = 0.8
    scheduler_patience: int | None = 20
    shuffle: bool = True

    def scheduler_kwargs(self) -> dict:
        """Keyword arguments for torch's ``ReduceLROnPlateau``: ``mode="min"``, and ``factor``/``patience`` where set."""
        kw = {"mode": "min"}
        if self.scheduler_factor is not None:
            kw["factor"] = self.scheduler_factor
        if self.scheduler_patience is not None:
            kw["patience"] = self.scheduler_patience
        return kw


#: ``"protlm"``: the schedule the authors intended (ReduceLROnPlateau factor 0.8,
#: patience 20) and species blocks shuffled with a recorded seed.
#: ``"authors"``: what their code runs (it drops its scheduler settings, so
#: torch's defaults, factor 0.1 and patience 10, apply) and no shuffling.
PRESETS = {
    "protlm": DiffPALMSettings(),
    "authors": DiffPALMSettings(scheduler_factor=None, scheduler_patience=None, shuffle=False),
}


@dataclass(frozen=True, eq=False)
class PermutationProblem:
    """One forward pass worth of rows, as one-hot tensors.

    Parameters
    ----------
    left : torch.Tensor
        ``(D, 1 + L1, A)`` one-hot left chain, column 0 ``<cls>``; its rows are permuted.
    right : torch.Tensor
        ``(D, 1 + L2, A)`` one-hot right chain (column 0 ignored); fixed, never masked.
    groups : tuple of numpy arrays
        Row indices whose left sequences are permuted among themselves
        (one score matrix each; at least 2 rows).  Rows in no group are fixed.
    maskable : numpy array of bool
        ``(D,)``: whether the left sequence that *starts* in each row may be
        masked (not fixed pairs, not padding).  The mask follows the sequences
        as they are permuted, so padding never hides a real sequence from the loss.
    context : torch.Tensor or None
        ``(C, 1 + L1 + L2, A)`` rows prepended unmasked (known pairs used as context).
    mask_idx : int
        Index of ``<mask>`` in the alphabet.
    """

    left: object
    right: object
    groups: tuple
    maskable: np.ndarray
    context: object = None
    mask_idx: int = 32

    @classmethod
    def from_tokens(cls, left, right, groups, *, n_tokens: int = 33, maskable=None, context=None,
                    mask_idx: int = 32, device="cpu") -> "PermutationProblem":
        """Build from token arrays ``(D, 1 + L)`` (column 0 ``<cls>``), e.g. ``MSA.tokenize`` plus a ``<cls>`` column.

        Examples
        --------
        >>> import numpy as np
        >>> p = PermutationProblem.from_tokens(np.zeros((4, 6), int), np.zeros((4, 3), int), [np.arange(4)])
        >>> p.depth, p.length_left, tuple(p.left.shape)
        (4, 5, (4, 6, 33))
        """
        import torch

        def onehot(t):
            return torch.nn.functional.one_hot(torch.as_tensor(np.asarray(t), device=device), n_tokens).float()

        maskable = np.ones(len(left), dtype=bool) if maskable is None else np.asarray(maskable, dtype=bool)
        return cls(
            left=onehot(left), right=onehot(right), groups=tuple(np.asarray(g) for g in groups), maskable=maskable,
            context=None if context is None else onehot(context), mask_idx=mask_idx,
        )

    @property
    def depth(self) -> int:
        """Number of rows ``D`` of the problem (context rows not included)."""
        return int(self.left.shape[0])

    @property
    def length_left(self) -> int:
        """Number of columns ``L`` of the left family (the ``<cls>`` column not counted)."""
        return int(self.left.shape[1]) - 1


@dataclass(eq=False)
class Iteration:
    """What one iteration computed (tensors keep their autograd graph)."""

    loss: object
    logits: object
    soft: object
    hard: object
    perm: np.ndarray
    mask: object


@dataclass(frozen=True, eq=False)
class SolverTrace:
    """Per-iteration record of :func:`optimize_permutations` (``steps + 1`` iterations, the last one only evaluates).

    ``perms[i][q]`` is the row whose left sequence sat in row ``q`` at iteration
    ``i`` (hard assignment); ``scores[i]`` the ``(D, D)`` scores before centring
    (NaN outside the groups); ``lrs`` the learning rate after each step.
    """

    losses: list
    perms: np.ndarray
    scores: list
    lrs: list
    soft: list = field(default_factory=list)
    hard: list = field(default_factory=list)


def _full_matrix(blocks, problem, device):
    """Assemble the (D, D) matrix from per-group blocks; fixed rows map to themselves."""
    import torch

    D = problem.depth
    rows, cols, vals = [], [], []
    in_group = np.zeros(D, dtype=bool)
    for g, b in zip(problem.groups, blocks):
        g = np.asarray(g)
        in_group[g] = True
        rows.append(np.repeat(g, len(g)))
        cols.append(np.tile(g, len(g)))
        vals.append(b.reshape(-1))
    fixed = np.flatnonzero(~in_group)
    if len(fixed):
        rows.append(fixed)
        cols.append(fixed)
        vals.append(torch.ones(len(fixed), device=device))
    r = torch.as_tensor(np.concatenate(rows), device=device)
    c = torch.as_tensor(np.concatenate(cols), device=device)
    return torch.zeros((D, D), device=device).index_put((r, c), torch.cat(vals))


def diffpalm_iteration(
    model,
    problem: PermutationProblem,
    scores,
    *,
    mask,
    settings: DiffPALMSettings = PRESETS["protlm"],
    noise_factor: float = 0.0,
    uniforms=None,
    conjugations=None,
    precision: str = "fp32",
):
    """One DiffPALM iteration: permutations from ``scores``, masked forward pass, loss.

    Parameters
    ----------
    model : esm.MSATransformer
        Frozen, eval mode.
    problem : PermutationProblem
    scores : list of torch.Tensor
        One ``(n, n)`` score matrix per group (leaf tensors to get gradients).
    mask : torch.Tensor
        ``(1, D, L1)`` bool, True = masked, by row of the permuted MSA; rows
        whose (permuted) left sequence is not ``maskable`` are unmasked here.
    settings : DiffPALMSettings
        ``tau``, ``n_sink_iter``, ``noise_std``.
    noise_factor : float
        Gumbel noise scale before the ``std(log_alpha)`` factor.
    uniforms : list of torch.Tensor or None
        Per-group uniforms for the noise (``None``: no noise).
    conjugations : list of (r0, r1) or None
        Per-group tie-breaking permutations for the Hungarian matching.
    precision : {"fp32", "bf16"}
        Arithmetic of the model's forward and backward passes
        (:func:`~protlm.models.esm_msa.onehot_logits`); the permutations and
        the loss are float32 either way.

    Returns
    -------
    Iteration
    """
    import torch

    from protlm.models.esm_msa import onehot_logits

    device = problem.left.device
    n_groups = len(problem.groups)
    uniforms = uniforms if uniforms is not None else [None] * n_groups
    conjugations = conjugations if conjugations is not None else [None] * n_groups
    common = {"noise_factor": noise_factor, "noise_std": settings.noise_std}
    hard_blocks = [
        hungarian(s, uniforms=u, conjugation=c, **common) for s, u, c in zip(scores, uniforms, conjugations)
    ]
    soft_blocks = [
        gumbel_sinkhorn(s, uniforms=u, tau=settings.tau, n_iter=settings.n_sink_iter, **common)
        for s, u in zip(scores, uniforms)
    ]
    hard = _full_matrix(hard_blocks, problem, device)
    soft = _full_matrix(soft_blocks, problem, device)
    perm = matrix_to_perm(hard)
    maskable = np.asarray(problem.maskable, dtype=bool)[perm]
    if not maskable.all():
        mask = mask & torch.as_tensor(maskable, device=device)[None, :, None]
    x = problem.left[None]
    x_ord = straight_through(
        torch.einsum("pq,bprs->bqrs", hard, x), torch.einsum("pq,bprs->bqrs", soft, x)
    )
    masked = x_ord.clone()
    vec_mask = torch.zeros(x.shape[-1], device=device)
    vec_mask[problem.mask_idx] = 1
    masked[..., 1:, :][mask] = vec_mask
    inputs = torch.cat((masked, problem.right[None, :, 1:, :]), dim=2)
    n_context = 0
    if problem.context is not None and len(problem.context):
        n_context = problem.context.shape[0]
        inputs = torch.cat((problem.context[None], inputs), dim=1)
    logits = onehot_logits(model, inputs, precision=precision)[:, n_context:, 1 : x.shape[2], :]
    loss = torch.nn.functional.cross_entropy(logits[mask], x_ord[..., 1:, :][mask])
    return Iteration(loss=loss, logits=logits, soft=soft, hard=hard, perm=perm, mask=mask)


def _center_(scores) -> None:
    import torch

    with torch.no_grad():
        for s in scores:
            s[...] -= s.mean()


def _scores_matrix(scores, problem) -> np.ndarray:
    out = np.full((problem.depth, problem.depth), np.nan, dtype=np.float32)
    for g, s in zip(problem.groups, scores):
        out[np.ix_(np.asarray(g), np.asarray(g))] = s.detach().cpu().numpy()
    return out


def optimize_permutations(
    model,
    problem: PermutationProblem,
    *,
    steps: int = 100,
    settings: DiffPALMSettings = PRESETS["protlm"],
    draws: Draws | None = None,
    checkpointing: bool = False,
    record_matrices: bool = False,
    callback=None,
    precision: str = "fp32",
) -> SolverTrace:
    """Optimise the scores of ``problem`` for ``steps`` steps (plus one evaluation).

    Parameters
    ----------
    model : esm.MSATransformer
        Frozen, eval mode, on ``problem``'s device.
    problem : PermutationProblem
    steps : int
        Optimiser steps; ``steps + 1`` iterations are run, the last one only
        evaluates (as in the authors' code).
    settings : DiffPALMSettings
    draws : Draws, optional
        Source of random draws (default ``TorchDraws(0)``).
    checkpointing : bool
        Recompute activations in the backward pass (less memory, slower).
    precision : {"fp32", "bf16"}
        See :func:`diffpalm_iteration`.
    record_matrices : bool
        Keep the soft and hard matrices of every iteration in the trace.
    callback : callable, optional
        ``callback(iteration, total, loss=...)`` after each iteration.

    Returns
    -------
    SolverTrace
    """
    import torch

    from protlm.models.esm_msa import gradient_checkpointing

    draws = draws if draws is not None else TorchDraws(0)
    device = problem.left.device
    sizes = [len(g) for g in problem.groups]
    scores = [
        (settings.std_init * draws.initial_normals(b, n)).to(device).requires_grad_(True) for b, n in enumerate(sizes)
    ]
    optimizer = None
    if scores:
        optimizer = torch.optim.Adadelta(
            [{"params": s} for s in scores], lr=settings.lr, rho=settings.rho, eps=settings.eps,
            weight_decay=settings.weight_decay,
        )
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **settings.scheduler_kwargs())
    losses, perms, score_trace, lrs, softs, hards = [], [], [], [], [], []
    total = steps + 1
    with gradient_checkpointing(model, checkpointing), torch.enable_grad():
        for it in range(total):
            score_trace.append(_scores_matrix(scores, problem))
            uniforms = [draws.noise_uniforms(it, b, n).to(device) for b, n in enumerate(sizes)]
            conj = [draws.conjugation(it, b, n) for b, n in enumerate(sizes)] if settings.conjugation else None
            noise_factor = settings.noise_factor
            if settings.noise_scheduler and optimizer is not None:
                noise_factor = settings.noise_factor * optimizer.param_groups[0]["lr"] / settings.lr
            if settings.mean_centering:
                _center_(scores)
            u = draws.mask_uniforms(it, (1, problem.depth, problem.length_left)).to(device)
            mask = u < settings.p_mask
            out = diffpalm_iteration(
                model, problem, scores, mask=mask, settings=settings, noise_factor=noise_factor,
                uniforms=uniforms, conjugations=conj, precision=precision,
            )
            loss = float(out.loss.detach())
            losses.append(loss)
            perms.append(out.perm)
            if record_matrices:
                softs.append(out.soft.detach().cpu().numpy())
                hards.append(out.hard.detach().cpu().numpy())
            if it < steps and optimizer is not None:
                out.loss.backward()
                optimizer.step()
                optimizer.zero_grad()
                scheduler.step(loss)
                lrs.append(optimizer.param_groups[0]["lr"])
            del out
            log.debug("iteration %d/%d loss %.5f", it + 1, total, loss)
            if callback is not None:
                callback(it + 1, total, loss=loss)
    return SolverTrace(losses=losses, perms=np.array(perms), scores=score_trace, lrs=lrs, soft=softs, hard=hards)


# ---------------------------------------------------------------------------
# Pairing two families: layout of species blocks, runs, aggregation.


@dataclass(frozen=True)
class _Block:
    """One species in one sub-MSA: which sequence sits in each of its rows."""

    index: int  # position in paired.blocks
    species: str
    fixed: tuple  # ((left_row, right_row), ...) known pairs, never permuted
    free_left: tuple  # left rows to permute (-1 = all-gap padding)
    free_right: tuple  # right rows of the permuted part (-1 = padding), fixed order

    @property
    def depth(self) -> int:
        return len(self.fixed) + len(self.free_left)


def _validate_pairs(pairs, paired, what):
    if pairs is None:
        return {}
    pairs = {int(k): int(v) for k, v in dict(pairs).items()}
    n_left, n_right = paired.left.n_sequences, paired.right.n_sequences
    for left, right in pairs.items():
        if not (0 <= left < n_left and 0 <= right < n_right):
            raise PairingInputError(
                f"{what}: pair ({left}, {right}) refers to a row outside the MSAs ({n_left} left, {n_right} right rows)"
            )
    if len(set(pairs.values())) != len(pairs):
        raise PairingInputError(f"{what}: a right row appears in more than one pair")
    return pairs


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
        out.append(_Block(i, blk.species, tuple(fixed), tuple(fl), tuple(fr)))
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
    list of list of _Block
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
    known = _validate_pairs(known_pairs, paired, "known pairs")
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
    """
    try:
        if getattr(device, "type", str(device)) == "cuda":
            import torch

            return int(torch.cuda.get_device_properties(device).total_memory)
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError, RuntimeError, AssertionError):
        return None


def default_max_depth(model, n_columns: int, device, *, checkpointing: bool = False) -> int:
    """Rows per forward pass for a model on a device: deterministic, from the model's size and the device's total memory.

    ``MEMORY_SHARE[device type]`` of :func:`device_memory` (never the free
    memory, which changes from run to run and would change the grouping of
    species into sub-MSAs, and so the result), divided by the bytes one row
    takes, at most 1024.  Calibrated on ``benchmarks/diffpalm_step.py``: a
    frozen-weights step keeps about 24 floats per token, width unit and layer
    for the backward pass (32 assumed here); with gradient checkpointing, one
    layer's worth plus each layer's input.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> tiny = NS(args=NS(layers=1, embed_dim=32))
    >>> default_max_depth(tiny, 177, "cpu") == default_max_depth(tiny, 177, "cpu")
    True
    """
    from protlm.models.esm_msa import MAX_ROWS

    floats = 32 + 2 * model.args.layers if checkpointing else 32 * model.args.layers
    per_row = 4 * n_columns * model.args.embed_dim * floats
    total = device_memory(device)
    if not total:
        return MAX_ROWS
    share = MEMORY_SHARE.get(getattr(device, "type", str(device)).split(":")[0], 0.25)
    return int(max(2, min(MAX_ROWS, int(total * share) // max(per_row, 1))))


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


def _check_args(steps, runs, preset, draws):
    if preset not in PRESETS:
        raise ProtlmError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    if not isinstance(steps, int) or steps < 0:
        raise ProtlmError(f"steps must be a non-negative integer, not {steps!r}")
    if not isinstance(runs, int) or runs < 1:
        raise ProtlmError(f"runs must be a positive integer, not {runs!r}")
    if draws is not None and runs != 1:
        raise ProtlmError("an explicit `draws` source drives one run: use runs=1")


def pair_diffpalm(
    paired,
    *,
    model,
    alphabet,
    steps: int = 100,
    runs: int = 1,
    seed: int = 0,
    preset: str = "protlm",
    device="auto",
    max_depth: int | None = None,
    known_pairs=None,
    context=None,
    context_pairs=None,
    checkpointing: bool = False,
    precision: str = "auto",
    callback=None,
    checkpoint_dir=None,
    draws: Draws | None = None,
    settings: DiffPALMSettings | None = None,
) -> PairingResult:
    """Pair the left and right sequences of each species with DiffPALM.

    Parameters
    ----------
    paired : protlm.io.PairedFamilies
        The two families and their shared species blocks.
    model, alphabet
        A frozen MSA Transformer and its alphabet
        (:func:`protlm.models.esm_msa.load_msa_transformer`).
    steps : int
        Optimiser steps per run (100 as in the paper).
    runs : int
        Independent runs; the final assignment of each species is the Hungarian
        matching of the run-agreement counts.
    seed : int
        Run ``r`` draws from ``TorchDraws(seed + r)``; shuffling (protlm preset)
        uses ``numpy.random.default_rng([seed, r, sub_msa])``.
    preset : {"protlm", "authors"}
        See :data:`PRESETS`.
    device : str
        ``"auto"`` (CUDA if present), ``"cpu"``, ``"cuda"``...
    max_depth : int, optional
        Rows per forward pass (context rows included); species are grouped
        into sub-MSAs of at most this depth, each optimised on its own.
        Default: :func:`default_max_depth`, set by the model and the device
        (never by the memory free at the moment), so the same input gives
        the same plan and result on every run.
    known_pairs : dict of int to int, optional
        ``{left_row: right_row}`` pairs that are fixed inside their species
        (never permuted, never masked).  Orthologs first: a species with one
        sequence on each side is paired directly and goes into no sub-MSA
        (``info["routes"]`` counts each route).
    context : protlm.io.ContextPairs, optional
        Correctly paired rows of other species (e.g. ``paired.context``),
        prepended to every sub-MSA as unmasked rows: the paper's "known pairs",
        as the authors' code uses them.  They count against ``max_depth``.
    context_pairs : dict of int to int, optional
        ``{left_row: right_row}`` pairs of the input itself, outside the species
        being paired, prepended likewise.
    checkpointing : bool
        Gradient checkpointing: less memory, slower (benchmarks/diffpalm_step.py: 0.3x the peak
        memory, 1.7x the time of a step without it).
    precision : {"auto", "fp32", "bf16"}
        Arithmetic of the frozen model (:data:`protlm.models.device.PRECISIONS`):
        ``auto`` is ``bf16`` on CPUs with AMX-BF16 and on CUDA GPUs of compute
        capability >= 8, else ``fp32``; with ``preset="authors"`` it is ``fp32``.
        Recorded in ``info["precision"]``.
    callback : callable, optional
        ``callback(iteration, total, loss=..., sub_msa="k/n")``, counting all
        runs and sub-MSAs.
    checkpoint_dir : path, optional
        Resume folder: each finished (run, sub-MSA) is written there
        atomically under a key of the inputs, the model's weights and every
        option; a rerun with the same key loads them instead of recomputing
        (bit-for-bit the same result where the device is deterministic), and
        the key's folder is removed when the result is complete.
    draws : Draws, optional
        Explicit source of random draws (one run, one sub-MSA).
    settings : DiffPALMSettings, optional
        Override the preset's hyper-parameters.

    Returns
    -------
    PairingResult
        ``confidence``: fraction of the second half of a run's iterations
        (``steps // 2 + 1`` of them, the final one included) whose hard
        assignment, on the noisy scores, chose the pair, averaged over runs, in
        [0, 1]: a sample of how often the perturbed optimum holds the pair,
        informative with one run (on planted problems it ranks a correct pair
        above a wrong one 85-99 % of the time; the noise-free Sinkhorn
        probability of the final scores did so 48-69 %, as it mostly reflects
        the species' size).  Known pairs and a species' single free sequence
        get 1.  ``agreement``: fraction of runs whose final hard assignment
        chose the pair (NaN when ``runs`` is 1).
        ``device``: the torch device used.  ``history["loss"]`` (mean over runs
        and sub-MSAs per iteration) and, when ``paired.truth`` is known,
        ``history["precision"]`` (unpaired true pairs count as wrong).

    Raises
    ------
    PairingInputError
        No species in common, or invalid known/context pairs.
    ModelLimitError
        Columns beyond the model's limit, or a species deeper than ``max_depth``.

    Examples
    --------
    >>> from protlm.io import MSA, PairedFamilies
    >>> from protlm.models.esm_msa import build_msa_transformer, freeze
    >>> model, alphabet, _ = build_msa_transformer(layers=1, embed_dim=32, heads=4, ffn_dim=64)
    >>> left = MSA.from_sequences(["ACDE", "ACDF", "GHIK"], ids=["a_1", "b_1", "c_2"])
    >>> right = MSA.from_sequences(["LMNP", "LMNQ", "RSTV"], ids=["x_1", "y_1", "z_2"])
    >>> paired = PairedFamilies.from_msas(left, right, species_key="field:_:-1", truth="same-order")
    >>> res = pair_diffpalm(paired, model=freeze(model), alphabet=alphabet, steps=2, device="cpu")
    >>> res.n_pairs, len(res.history["loss"])
    (3, 3)
    """
    from protlm.models.device import resolve_device, resolve_precision
    from protlm.models.esm_msa import check_msa_limits

    _check_args(steps, runs, preset, draws)
    settings = settings if settings is not None else PRESETS[preset]
    if not paired.blocks:
        raise PairingInputError("the two families share no species: nothing to pair")
    known = _validate_pairs(known_pairs, paired, "known pairs")
    context_in = _validate_pairs(context_pairs, paired, "context pairs")
    in_blocks = {("left", int(i)) for b in paired.blocks for i in b.left} | {("right", int(j)) for b in paired.blocks for j in b.right}
    clash = [(l, r) for l, r in context_in.items() if ("left", l) in in_blocks or ("right", r) in in_blocks]
    if clash:
        raise PairingInputError(
            f"context pairs: {len(clash)} pair(s), e.g. {clash[0]}, belong to species being paired; "
            "pass them as known_pairs instead"
        )
    dev = resolve_device(device)
    precision = "fp32" if precision == "auto" and preset == "authors" else resolve_precision(precision, dev)
    n_columns = 1 + paired.left.n_columns + paired.right.n_columns
    check_msa_limits(model, 1, n_columns, what="paired MSA")
    if context is not None:
        context.check_columns(paired.left.n_columns, paired.right.n_columns)
    n_context = len(context_in) + (context.n_pairs if context is not None else 0)
    if max_depth is None:
        max_depth = default_max_depth(model, n_columns, dev, checkpointing=checkpointing)
        log.info("max depth per forward pass (from the model and the device's total memory): %d rows", max_depth)
    check_msa_limits(model, max_depth, n_columns, what="--max-depth")
    subs = plan_sub_msas(paired, max_depth=max_depth, known_pairs=known, n_context=n_context)
    orthologs = _orthologs(paired, known)
    if draws is not None and len(subs) != 1:
        raise ProtlmError(f"an explicit `draws` source drives one sub-MSA, but the input needs {len(subs)}")
    if len(subs) > 1:
        log.info("%d species split into %d sub-MSAs of at most %d rows", len(paired.blocks), len(subs), max_depth)
        if not checkpointing:
            roomier = default_max_depth(model, n_columns, dev, checkpointing=True)
            if roomier > max_depth:
                log.warning("sub-MSAs see fewer species as context; --checkpointing would allow about %d rows per "
                            "forward pass", roomier)

    left_tok = paired.left.tokenize(alphabet)
    right_tok = paired.right.tokenize(alphabet)
    cls_idx, gap_idx, n_tok = alphabet.cls_idx, alphabet.get_idx("-"), len(alphabet)
    context_rows = [np.concatenate([[cls_idx], left_tok[l], right_tok[r]]) for l, r in context_in.items()]
    if context is not None and context.n_pairs:
        cl, cr = context.left.tokenize(alphabet), context.right.tokenize(alphabet)
        context_rows += [np.concatenate([[cls_idx], cl[l], cr[r]]) for l, r in context.pairs]
    context_tokens = np.array(context_rows) if context_rows else None
    model = model.to(dev)
    store = None
    if checkpoint_dir is not None:
        store = _Checkpoints(checkpoint_dir, _checkpoint_key(
            model, left_tok, right_tok, context_tokens, subs,
            {"settings": asdict(settings), "steps": steps, "runs": runs, "seed": seed, "precision": precision,
             "device": dev.type, "draws": repr(draws), "truth": sorted((paired.truth or {}).items())}))
        log.info("checkpoints of finished sub-MSAs in %s (%d found)", store.path, store.n_found())

    truth = paired.truth or {}
    # counts[block index][(left_row, right_row)] = runs choosing that pair;
    # late[block index][(left_row, right_row)] = fraction of a run's late iterations choosing it, summed over runs
    counts: dict[int, dict] = {b.index: {} for sub in subs for b in sub}
    late: dict[int, dict] = {b.index: {} for sub in subs for b in sub}
    iter_losses = np.zeros((runs, len(subs), steps + 1))
    iter_correct = np.zeros((runs, steps + 1))
    iter_scored = np.zeros((runs, steps + 1))
    run_info = []
    total = runs * len(subs) * (steps + 1)
    done = 0
    t0 = time.perf_counter()
    for r in range(runs):
        for k, sub in enumerate(subs):
            rng = np.random.default_rng([seed, r, k]) if settings.shuffle else None
            lt, rt, groups, maskable, rows_l, rows_r = _layout(
                sub, shuffle_rng=rng, left_tok=left_tok, right_tok=right_tok, cls_idx=cls_idx, gap_idx=gap_idx
            )
            problem = PermutationProblem.from_tokens(
                lt, rt, groups, n_tokens=n_tok, maskable=maskable, context=context_tokens,
                mask_idx=alphabet.mask_idx, device=dev,
            )
            run_draws = draws if draws is not None else TorchDraws(seed + r + 1_000_003 * k)
            where = f"{k + 1}/{len(subs)}" if runs == 1 else f"run {r + 1}/{runs}, {k + 1}/{len(subs)}"

            def cb(it, _total, _done=done, _where=where, **kw):
                if callback is not None:
                    callback(_done + it, total, sub_msa=_where, **kw)

            trace = store.load(r, k) if store is not None else None
            if trace is None:
                trace = optimize_permutations(
                    model, problem, steps=steps, settings=settings, draws=run_draws,
                    checkpointing=checkpointing, callback=cb, precision=precision,
                )
                if store is not None:
                    store.save(r, k, trace)
            else:
                log.info("run %d, sub-MSA %d/%d: loaded from %s", r + 1, k + 1, len(subs), store.path)
                cb(steps + 1, total, loss=trace.losses[-1])
            done += steps + 1
            iter_losses[r, k] = trace.losses
            rows_l = np.asarray(rows_l)
            rows_r = np.asarray(rows_r)
            for it, perm in enumerate(trace.perms):
                lefts, rights = rows_l[perm], rows_r
                scored = (lefts >= 0) & np.isin(lefts, list(truth))  # a true pair left unpaired counts as wrong
                real = scored & (rights >= 0)
                iter_scored[r, it] += scored.sum()
                iter_correct[r, it] += sum(truth[int(a)] == int(b) for a, b in zip(lefts[real], rights[real]))
            final = rows_l[trace.perms[-1]]
            late_perms = trace.perms[len(trace.perms) // 2:]  # the second half of the run, final iteration included
            start = 0
            for b in sub:
                for q in range(start, start + b.depth):
                    key = (int(final[q]), int(rows_r[q]))
                    counts[b.index][key] = counts[b.index].get(key, 0) + 1
                    for left, n in zip(*np.unique(rows_l[late_perms[:, q]], return_counts=True)):
                        key = (int(left), int(rows_r[q]))
                        late[b.index][key] = late[b.index].get(key, 0.0) + n / len(late_perms)
                start += b.depth
            run_info.append({
                "run": r, "sub_msa": k, "depth": problem.depth, "draws": repr(run_draws),
                "shuffle_seed": [seed, r, k] if settings.shuffle else None,
                "final_loss": trace.losses[-1], "lrs_last": trace.lrs[-1] if trace.lrs else settings.lr,
            })
            log.info(
                "run %d/%d, sub-MSA %d/%d (%d rows): loss %.4f -> %.4f",
                r + 1, runs, k + 1, len(subs), problem.depth, trace.losses[0], trace.losses[-1],
            )
    result = _aggregate(paired, subs, counts, late, runs, orthologs=orthologs)
    history = {"loss": [float(x) for x in iter_losses.mean(axis=(0, 1))] if subs else []}
    if truth and iter_scored.sum():
        prec = np.where(iter_scored > 0, iter_correct / np.maximum(iter_scored, 1), np.nan)
        history["precision"] = [float(x) for x in np.nanmean(prec, axis=0)]
    info = {
        "preset": preset,
        "settings": asdict(settings),
        "steps": steps,
        "runs": runs,
        "seed": seed,
        "device": str(dev),
        "max_depth": max_depth,
        "n_sub_msas": len(subs),
        "n_context_rows": n_context,
        "n_known_pairs": len(known),
        "routes": {"orthologs": len(orthologs), "known_pairs": len(known),
                   "optimised": int(sum(min(sum(x >= 0 for x in b.free_left), sum(x >= 0 for x in b.free_right))
                                        for sub in subs for b in sub)),
                   "context_pairs": n_context},
        "resumed_sub_msas": store.n_loaded if store is not None else 0,
        "checkpointing": checkpointing,
        "precision": precision,
        "seconds": time.perf_counter() - t0,
        "run_details": run_info,
    }
    if store is not None:
        store.remove()
    return replace(result, history=history, info=info, device=str(dev))


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
    """Finished (run, sub-MSA) traces in ``folder/key/``, written atomically, read back on resume."""

    def __init__(self, folder, key):
        from pathlib import Path

        self.root = Path(folder)
        self.path = self.root / key
        self.n_loaded = 0

    def _file(self, r, k):
        return self.path / f"run{r}_sub{k}.npz"

    def n_found(self) -> int:
        return len(list(self.path.glob("run*_sub*.npz"))) if self.path.is_dir() else 0

    def load(self, r, k):
        f = self._file(r, k)
        if not f.exists():
            return None
        with np.load(f) as z:
            trace = SolverTrace(losses=[float(x) for x in z["losses"]], perms=z["perms"], scores=[],
                                lrs=[float(x) for x in z["lrs"]])
        self.n_loaded += 1
        return trace

    def save(self, r, k, trace) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.path / f".run{r}_sub{k}.{os.getpid()}.tmp.npz"
        np.savez(tmp, losses=np.asarray(trace.losses, dtype=np.float64), perms=np.asarray(trace.perms),
                 lrs=np.asarray(trace.lrs, dtype=np.float64))
        os.replace(tmp, self._file(r, k))

    def remove(self) -> None:
        import shutil

        shutil.rmtree(self.path, ignore_errors=True)
        try:
            self.root.rmdir()  # only when no other key is left in it
        except OSError:
            pass


def _aggregate(paired, subs, counts, late, runs, *, orthologs=None) -> PairingResult:
    from scipy.optimize import linear_sum_assignment

    species, lrows, rrows, conf, agree = [], [], [], [], []
    for sub in subs:
        for b in sub:
            lefts = [l for l, _ in b.fixed] + sorted(b.free_left, key=lambda x: (x < 0, x))
            rights = [r for _, r in b.fixed] + sorted(b.free_right, key=lambda x: (x < 0, x))
            c = np.zeros((len(lefts), len(rights)))
            li = {}
            for i, l in enumerate(lefts):
                li.setdefault(l, []).append(i)
            ri = {}
            for j, rr in enumerate(rights):
                ri.setdefault(rr, []).append(j)
            for (l, rr), n in counts[b.index].items():
                # padding rows are interchangeable: spread their counts over all padding slots
                for i in li[l]:
                    for j in ri[rr]:
                        c[i, j] += n / (len(li[l]) * len(ri[rr])) if (l < 0 or rr < 0) else n
            rows, cols = linear_sum_assignment(c, maximize=True)
            for i, j in zip(rows, cols):
                l, rr = lefts[i], rights[j]
                if l < 0 and rr < 0:
                    continue
                species.append(b.species)
                lrows.append(l)
                rrows.append(rr)
                real = l >= 0 and rr >= 0
                conf.append(late[b.index].get((l, rr), 0.0) / runs if real else np.nan)
                agree.append(counts[b.index].get((l, rr), 0) / runs if real and runs > 1 else np.nan)
    for index, (l, rr) in sorted((orthologs or {}).items()):  # paired directly
        species.append(paired.blocks[index].species)
        lrows.append(l)
        rrows.append(rr)
        conf.append(1.0)
        agree.append(np.nan)
    lrows = np.array(lrows, dtype=int)
    rrows = np.array(rrows, dtype=int)
    left_ids = tuple(paired.left.ids[i] if i >= 0 else None for i in lrows)
    right_ids = tuple(paired.right.ids[j] if j >= 0 else None for j in rrows)
    return PairingResult(
        method="diffpalm", species=tuple(species), left_rows=lrows, right_rows=rrows,
        left_ids=left_ids, right_ids=right_ids, confidence=np.clip(np.array(conf, dtype=float), 0.0, 1.0),
        agreement=np.array(agree, dtype=float),
    )
