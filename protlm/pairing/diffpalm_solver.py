# Size: the single and the batched lockstep solver run one iteration code path (a batch of one is the single solve), which the parity test pins; they stay together so the two cannot drift.
"""DiffPALM's solver: differentiable permutations of one paired MSA scored by the MSA Transformer.

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

:func:`optimize_permutations` and :func:`diffpalm_iteration` work on one-hot
tensors (a :class:`PermutationProblem`).  :func:`optimize_permutations_batch`
runs several problems of the same shape in lockstep through one batched
forward and backward pass per iteration; each keeps its own scores, optimiser,
scheduler and draws, so its trajectory is the one it has alone.  Layout of species blocks into
sub-MSAs is :mod:`protlm.pairing.diffpalm_plan`; pairing two families,
:func:`protlm.pairing.diffpalm.pair_diffpalm`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from protlm.pairing.draws import Draws, TorchDraws
from protlm.pairing.sinkhorn import gumbel_sinkhorn, hungarian, matrix_to_perm, straight_through

__all__ = [
    "DiffPALMSettings",
    "PRESETS",
    "PermutationProblem",
    "Iteration",
    "SolverTrace",
    "diffpalm_iteration",
    "optimize_permutations",
    "optimize_permutations_batch",
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
    inputs = _permuted_inputs(problem, scores, mask=mask, settings=settings, noise_factor=noise_factor,
                              uniforms=uniforms, conjugations=conjugations)
    return _batched_losses(model, [problem], [inputs], precision=precision)[0]


def _permuted_inputs(problem, scores, *, mask, settings, noise_factor, uniforms, conjugations) -> dict:
    """The permutations of one iteration and the masked one-hot MSA they give (before the forward pass)."""
    import torch

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
    if problem.context is not None and len(problem.context):
        inputs = torch.cat((problem.context[None], inputs), dim=1)
    return {"inputs": inputs, "x_ord": x_ord, "soft": soft, "hard": hard, "perm": perm, "mask": mask}


def _batched_losses(model, problems, prepared, *, precision) -> list:
    """One forward pass over the prepared inputs of same-shape problems (stacked on the batch axis); their losses.

    fair-esm's MSA Transformer treats the batch elements independently (row
    attention sums over the rows of one element and scales by its row count,
    column attention stays within one element), so each problem's logits and
    loss are those of a pass of its own, and the gradient of the summed losses
    reaches each problem's scores from its own loss only.
    """
    import torch

    from protlm.models.esm_msa import onehot_logits

    inputs = [p["inputs"] for p in prepared]
    batch = inputs[0] if len(inputs) == 1 else torch.cat(inputs, dim=0)
    all_logits = onehot_logits(model, batch, precision=precision)
    out = []
    for b, (problem, p) in enumerate(zip(problems, prepared)):
        n_context = 0 if problem.context is None else len(problem.context)
        logits = all_logits[b : b + 1, n_context:, 1 : problem.left.shape[1], :]
        mask, x_ord = p["mask"], p["x_ord"]
        loss = torch.nn.functional.cross_entropy(logits[mask], x_ord[..., 1:, :][mask])
        out.append(Iteration(loss=loss, logits=logits, soft=p["soft"], hard=p["hard"], perm=p["perm"], mask=mask))
    return out


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
    return optimize_permutations_batch(
        model, [problem], steps=steps, settings=settings, draws=[draws if draws is not None else TorchDraws(0)],
        checkpointing=checkpointing, record_matrices=record_matrices,
        callbacks=None if callback is None else [callback], precision=precision,
    )[0]


class _Run:
    """One problem's state in a lockstep batch: its scores, optimiser, scheduler, draws and record."""

    def __init__(self, problem, draws, settings, callback):
        import torch

        self.problem, self.draws, self.callback = problem, draws, callback
        device = problem.left.device
        self.sizes = [len(g) for g in problem.groups]
        self.scores = [
            (settings.std_init * draws.initial_normals(b, n)).to(device).requires_grad_(True)
            for b, n in enumerate(self.sizes)
        ]
        self.optimizer = self.scheduler = None
        if self.scores:
            self.optimizer = torch.optim.Adadelta(
                [{"params": s} for s in self.scores], lr=settings.lr, rho=settings.rho, eps=settings.eps,
                weight_decay=settings.weight_decay,
            )
            self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(self.optimizer, **settings.scheduler_kwargs())
        self.losses, self.perms, self.score_trace, self.lrs, self.softs, self.hards = [], [], [], [], [], []

    def prepare(self, it, settings):
        """Record the scores, take this iteration's draws, build the masked input (the order of a run alone)."""
        problem, draws, device = self.problem, self.draws, self.problem.left.device
        self.score_trace.append(_scores_matrix(self.scores, problem))
        uniforms = [draws.noise_uniforms(it, b, n).to(device) for b, n in enumerate(self.sizes)]
        conj = [draws.conjugation(it, b, n) for b, n in enumerate(self.sizes)] if settings.conjugation else None
        noise_factor = settings.noise_factor
        if settings.noise_scheduler and self.optimizer is not None:
            noise_factor = settings.noise_factor * self.optimizer.param_groups[0]["lr"] / settings.lr
        if settings.mean_centering:
            _center_(self.scores)
        u = draws.mask_uniforms(it, (1, problem.depth, problem.length_left)).to(device)
        return _permuted_inputs(problem, self.scores, mask=u < settings.p_mask, settings=settings,
                                noise_factor=noise_factor, uniforms=uniforms, conjugations=conj)

    def step(self, loss: float) -> None:
        """The optimiser and scheduler step after the (shared) backward pass."""
        self.optimizer.step()
        self.optimizer.zero_grad()
        self.scheduler.step(loss)
        self.lrs.append(self.optimizer.param_groups[0]["lr"])

    def trace(self) -> SolverTrace:
        return SolverTrace(losses=self.losses, perms=np.array(self.perms), scores=self.score_trace, lrs=self.lrs,
                           soft=self.softs, hard=self.hards)


def optimize_permutations_batch(
    model,
    problems,
    *,
    steps: int = 100,
    settings: DiffPALMSettings = PRESETS["protlm"],
    draws=None,
    checkpointing: bool = False,
    record_matrices: bool = False,
    callbacks=None,
    precision: str = "fp32",
) -> list:
    """Optimise several problems of the same shape in lockstep, one batched forward and backward pass per iteration.

    Each problem keeps its own scores, Adadelta optimiser, ReduceLROnPlateau
    scheduler (driven by its own loss) and draws, taken in the order a run of
    its own takes them; only the MSA Transformer's pass is shared, its inputs
    stacked on the batch axis.  fair-esm's model keeps batch elements apart
    (row attention sums over one element's rows and scales by its row count),
    and the backward pass of the summed losses gives each problem's scores the
    gradient of its own loss, so each trace is the one
    :func:`optimize_permutations` gives for that problem alone, up to the
    rounding of batched matrix products (``tests/pairing/test_diffpalm_batch.py``:
    the same hard assignments, losses within 1e-5 relative in fp32).

    Parameters
    ----------
    model : esm.MSATransformer
        Frozen, eval mode, on the problems' device.
    problems : sequence of PermutationProblem
        Same depth, same context rows and same columns (one forward pass takes
        them as one batch; padding to equal depth would change the row
        attention's scaling, so unequal shapes are refused).
    steps : int
        Optimiser steps; ``steps + 1`` iterations, the last one only evaluates.
    settings : DiffPALMSettings
    draws : sequence of Draws, optional
        One source per problem (default ``TorchDraws(b)`` for problem ``b``).
    checkpointing : bool
        Recompute activations in the backward pass (less memory, slower).
    record_matrices : bool
        Keep the soft and hard matrices of every iteration in the traces.
    callbacks : sequence of callable, optional
        One per problem: ``callback(iteration, total, loss=...)`` after each
        iteration, called for the problems in order.
    precision : {"fp32", "bf16"}
        See :func:`diffpalm_iteration`.

    Returns
    -------
    list of SolverTrace
        One per problem, in order.

    Raises
    ------
    ProtlmError
        No problems, problems of different shapes or devices, or ``draws`` /
        ``callbacks`` not one per problem.

    Examples
    --------
    >>> import numpy as np
    >>> from protlm.models.esm_msa import build_msa_transformer, freeze
    >>> model, alphabet, _ = build_msa_transformer(layers=1, embed_dim=32, heads=4, ffn_dim=64)
    >>> rng = np.random.default_rng(0)
    >>> problems = [PermutationProblem.from_tokens(rng.integers(4, 24, (4, 6)), rng.integers(4, 24, (4, 5)),
    ...                                            [np.arange(4)]) for _ in range(3)]
    >>> traces = optimize_permutations_batch(freeze(model), problems, steps=2,
    ...                                      draws=[TorchDraws(s) for s in range(3)])
    >>> alone = optimize_permutations(model, problems[1], steps=2, draws=TorchDraws(1))
    >>> bool(np.array_equal(traces[1].perms, alone.perms)), np.allclose(traces[1].losses, alone.losses, rtol=1e-5)
    (True, True)
    """
    import torch

    from protlm.errors import ProtlmError
    from protlm.models.esm_msa import gradient_checkpointing

    problems = list(problems)
    if not problems:
        raise ProtlmError("optimize_permutations_batch: no problems given")
    shapes = {(p.depth, 0 if p.context is None else len(p.context), tuple(p.left.shape[1:]),
               tuple(p.right.shape[1:]), str(p.left.device)) for p in problems}
    if len(shapes) > 1:
        raise ProtlmError(f"problems of one batch must have the same shape and device, got {sorted(shapes)}")
    draws = [TorchDraws(b) for b in range(len(problems))] if draws is None else list(draws)
    callbacks = [None] * len(problems) if callbacks is None else list(callbacks)
    if len(draws) != len(problems) or len(callbacks) != len(problems):
        raise ProtlmError(f"{len(problems)} problems need as many draws and callbacks "
                          f"({len(draws)} draws, {len(callbacks)} callbacks given)")
    runs = [_Run(p, d, settings, cb) for p, d, cb in zip(problems, draws, callbacks)]
    total = steps + 1
    with gradient_checkpointing(model, checkpointing), torch.enable_grad():
        for it in range(total):
            prepared = [run.prepare(it, settings) for run in runs]
            outs = _batched_losses(model, problems, prepared, precision=precision)
            del prepared
            losses = [float(out.loss.detach()) for out in outs]
            for run, out, loss in zip(runs, outs, losses):
                run.losses.append(loss)
                run.perms.append(out.perm)
                if record_matrices:
                    run.softs.append(out.soft.detach().cpu().numpy())
                    run.hards.append(out.hard.detach().cpu().numpy())
            stepping = [(run, out, loss) for run, out, loss in zip(runs, outs, losses) if run.optimizer is not None]
            if it < steps and stepping:
                # d(sum of losses)/d(scores of run b) = d(loss b)/d(scores of run b): the batch elements are independent
                (stepping[0][1].loss if len(stepping) == 1 else sum(out.loss for _, out, _ in stepping)).backward()
                for run, _, loss in stepping:
                    run.step(loss)
            del outs, stepping
            for b, (run, loss) in enumerate(zip(runs, losses)):
                log.debug("problem %d, iteration %d/%d loss %.5f", b, it + 1, total, loss)
                if run.callback is not None:
                    run.callback(it + 1, total, loss=loss)
    return [run.trace() for run in runs]
