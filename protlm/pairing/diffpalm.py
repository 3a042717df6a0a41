# Size: the entry point, the batch schedule over sub-MSAs and runs, resume and the aggregation of runs share one loop state (_Tally, _Checkpoints); splitting them would pass that state across modules. Next split: the aggregation (_Tally, _aggregate) into diffpalm_runs.py.
"""DiffPALM: pairing paralogs by differentiable permutations scored by the MSA Transformer.

:func:`pair_diffpalm` pairs a :class:`~protlm.io.PairedFamilies`: species
blocks laid out into sub-MSAs (:mod:`protlm.pairing.diffpalm_plan`: padding,
known pairs, context pairs, shuffling, the resume folder), each optimised by
the solver (:mod:`protlm.pairing.diffpalm_solver`, bit-for-bit the authors'
numbers), for several runs; the runs are aggregated here (Hungarian matching
of the run-agreement counts) into one
:class:`~protlm.pairing.result.PairingResult`.  Sub-MSAs of the same depth,
and the runs of one sub-MSA, are optimised in lockstep through one batched
forward pass, as many as the planned memory holds (``max_batch``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, replace

import numpy as np

from protlm.errors import PairingInputError, ProtlmError
from protlm.pairing.diffpalm_plan import (
    _Checkpoints,
    _checkpoint_key,
    _layout,
    _orthologs,
    _validate_pairs,
    default_max_batch,
    context_rows_that_fit,
    default_max_depth,
    plan_batches,
    plan_sub_msas,
)
from protlm.pairing.diffpalm_solver import PRESETS, DiffPALMSettings, PermutationProblem, optimize_permutations_batch
from protlm.pairing.draws import Draws, TorchDraws
from protlm.pairing.result import PairingResult

__all__ = ["pair_diffpalm"]

log = logging.getLogger(__name__)


def _check_args(steps, runs, preset, draws, max_batch):
    if max_batch is not None and (isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1):
        raise ProtlmError(f"max_batch must be a positive integer or None, not {max_batch!r}")
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
    max_batch: int | None = None,
    known_pairs=None,
    context=None,
    context_pairs=None,
    max_context_rows: int | None = None,
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
    max_batch : int, optional
        Problems (a run of a sub-MSA) per batched forward pass, at most.
        Only sub-MSAs of the same depth share a pass, and the runs of one
        sub-MSA; each keeps its own scores, optimiser and draws, so the
        result is that of one problem at a time (the same hard assignments,
        losses within 1e-5 relative in fp32).  Default: on a GPU as many as
        the planned memory holds (:func:`~protlm.pairing.diffpalm_plan.default_max_batch`:
        model and device, never the free memory, so the batches are the same
        on every run); on the CPU ``1``, one at a time (measured: batching was
        about 1.1x slower on a quiet 2-core CPU, and doubled the peak memory of
        the deep HK-RR run, 6.1 to 12.0 GB).  A number given is used as given.
        The batches are in ``info["batches"]``.
    known_pairs : dict of int to int, optional
        ``{left_row: right_row}`` pairs that are fixed inside their species
        (never permuted, never masked).  Orthologs first: a species with one
        sequence on each side is paired directly and goes into no sub-MSA
        (``info["routes"]`` counts each route).
    context : protlm.io.ContextPairs, optional
        Correctly paired rows of other species (e.g. ``paired.context``),
        prepended to every sub-MSA as unmasked rows: the paper's "known pairs",
        as the authors' code uses them.  They count against ``max_depth``; a
        context of more than ``max_context_rows`` pairs is cut to the ones most
        alike the input (:func:`protlm.pairing.homology.select_context_pairs`;
        logged, and ``info["context_pairs_given"]`` keeps the number given).
    context_pairs : dict of int to int, optional
        ``{left_row: right_row}`` pairs of the input itself, outside the species
        being paired, prepended likewise.
    max_context_rows : int, optional
        Most context rows (both kinds together) per sub-MSA.  Default
        (:func:`~protlm.pairing.diffpalm_plan.context_rows_that_fit`): all of
        them when every species fits beside them, else half of ``max_depth``.
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
        runs and sub-MSAs (a batch calls it for each of its problems in turn
        after each lockstep iteration).
    checkpoint_dir : path, optional
        Resume folder: each finished (run, sub-MSA) is written there
        atomically under a key of the inputs, the model's weights, every
        option and the batches (one file per batch, so a batch is loaded or
        recomputed whole); a rerun with the same key loads them instead of recomputing
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

    _check_args(steps, runs, preset, draws, max_batch)
    settings = settings if settings is not None else PRESETS[preset]
    known, context_in = _check_pairs(paired, known_pairs, context_pairs)
    dev = resolve_device(device)
    precision = "fp32" if precision == "auto" and preset == "authors" else resolve_precision(precision, dev)
    max_depth = _max_depth(paired, model, dev, context=context, max_depth=max_depth, checkpointing=checkpointing)
    n_given = context.n_pairs if context is not None else 0
    context = _fit_context(paired, context, n_input=len(context_in), cap=context_rows_that_fit(
        paired, max_depth=max_depth, known_pairs=known, n_context=n_given + len(context_in),
        max_context_rows=max_context_rows))
    n_context = len(context_in) + (context.n_pairs if context is not None else 0)
    subs = plan_sub_msas(paired, max_depth=max_depth, known_pairs=known, n_context=n_context)
    orthologs = _orthologs(paired, known)
    if draws is not None and len(subs) != 1:
        raise ProtlmError(f"an explicit `draws` source drives one sub-MSA, but the input needs {len(subs)}")
    _log_split(paired, subs, model, dev, max_depth=max_depth, checkpointing=checkpointing)
    batches = _batches(paired, subs, model, dev, runs=runs, n_context=n_context, max_batch=max_batch,
                       checkpointing=checkpointing)
    left_tok, right_tok, context_tokens = _tokens(paired, alphabet, context_in, context)
    model = model.to(dev)
    store = None
    if checkpoint_dir is not None:
        store = _Checkpoints(checkpoint_dir, _checkpoint_key(
            model, left_tok, right_tok, context_tokens, subs,
            {"settings": asdict(settings), "steps": steps, "runs": runs, "seed": seed, "precision": precision,
             "device": dev.type, "draws": repr(draws), "truth": sorted((paired.truth or {}).items()),
             "batches": batches}))
        log.info("checkpoints of finished sub-MSAs in %s (%d found)", store.path, store.n_found())

    tally = _Tally(paired.truth or {}, subs, runs=runs, steps=steps)
    run_info = {}
    progress = _Progress(callback, runs * len(subs) * (steps + 1))
    t0 = time.perf_counter()
    for batch in batches:
        solved = _solve_batch(
            model, alphabet, subs, batch, runs=runs, tokens=(left_tok, right_tok, context_tokens), dev=dev,
            store=store, steps=steps, settings=settings, seed=seed, draws=draws, checkpointing=checkpointing,
            precision=precision, progress=progress,
        )
        for (r, k), (depth, trace, rows_l, rows_r, run_draws) in zip(batch, solved):
            tally.add(r, k, subs[k], trace, rows_l, rows_r)
            run_info[r, k] = {
                "run": r, "sub_msa": k, "depth": depth, "draws": repr(run_draws), "batch_size": len(batch),
                "shuffle_seed": [seed, r, k] if settings.shuffle else None,
                "final_loss": trace.losses[-1], "lrs_last": trace.lrs[-1] if trace.lrs else settings.lr,
            }
            log.info(
                "run %d/%d, sub-MSA %d/%d (%d rows): loss %.4f -> %.4f",
                r + 1, runs, k + 1, len(subs), depth, trace.losses[0], trace.losses[-1],
            )
    result = _aggregate(paired, subs, tally.counts, tally.late, runs, orthologs=orthologs)
    info = _info(preset=preset, settings=settings, steps=steps, runs=runs, seed=seed, dev=dev, max_depth=max_depth,
                 subs=subs, n_context=n_context, known=known, orthologs=orthologs, store=store,
                 checkpointing=checkpointing, precision=precision, seconds=time.perf_counter() - t0,
                 run_info=[run_info[key] for key in sorted(run_info)], max_batch=max_batch, batches=batches)
    info["context_pairs_given"] = n_given
    if store is not None:
        store.remove()
    return replace(result, history=tally.history(), info=info, device=str(dev))


def _fit_context(paired, context, *, n_input: int, cap: int):
    """``context`` cut to its ``cap - n_input`` pairs most alike the input when it holds more (logged)."""
    if context is None or context.n_pairs + n_input <= cap:
        return context
    from protlm.pairing.homology import select_context_pairs
    from protlm.pairing.pmi import encode_residues

    rows_l = [l for l, _ in context.pairs]
    rows_r = [r for _, r in context.pairs]
    keep = select_context_pairs(encode_residues(paired.left.array), encode_residues(paired.right.array),
                                encode_residues(context.left.array[rows_l]),
                                encode_residues(context.right.array[rows_r]), max(cap - n_input, 0))
    log.warning("DiffPALM: %d context pairs given, %d kept as context rows, those most alike the input "
                "(--max-context-rows; by default all that fit beside the species, else half of --max-depth)",
                context.n_pairs, len(keep))
    return replace(context, pairs=tuple(context.pairs[int(k)] for k in sorted(keep)))


def _batches(paired, subs, model, dev, *, runs, n_context, max_batch, checkpointing) -> list:
    """The (run, sub-MSA) problems grouped into batched forward passes (:func:`plan_batches`), logged."""
    n_columns = 1 + paired.left.n_columns + paired.right.n_columns
    if max_batch is None and dev.type == "cpu":  # batching does not pay on a CPU (see the docstring)
        max_batch = 1
    if max_batch is None:
        def max_batch(depth):
            return default_max_batch(model, n_columns, dev, rows=depth + n_context, checkpointing=checkpointing)
    batches = plan_batches([sum(b.depth for b in sub) for sub in subs], runs=runs, max_batch=max_batch)
    if len(batches) < runs * len(subs):
        log.info("%d runs of %d sub-MSAs in %d batched forward passes (largest batch: %d)", runs, len(subs),
                 len(batches), max(len(b) for b in batches))
    return batches


class _Progress:
    """The caller's callback counting iterations over all runs and sub-MSAs, in the order they are reported."""

    def __init__(self, callback, total: int):
        self.callback, self.total, self.done = callback, total, 0

    def for_problem(self, where: str):
        """A solver callback for one (run, sub-MSA): adds its new iterations to the count."""
        last = [0]

        def cb(it, _total, **kw):
            self.done += it - last[0]
            last[0] = it
            if self.callback is not None:
                self.callback(self.done, self.total, sub_msa=where, **kw)

        return cb


def _problem(alphabet, sub, *, r, k, tokens, dev, settings, seed, draws):
    """Run ``r`` of sub-MSA ``k`` laid out: ``(problem, rows_l, rows_r, draws)``."""
    left_tok, right_tok, context_tokens = tokens
    rng = np.random.default_rng([seed, r, k]) if settings.shuffle else None
    lt, rt, groups, maskable, rows_l, rows_r = _layout(
        sub, shuffle_rng=rng, left_tok=left_tok, right_tok=right_tok, cls_idx=alphabet.cls_idx,
        gap_idx=alphabet.get_idx("-"),
    )
    problem = PermutationProblem.from_tokens(
        lt, rt, groups, n_tokens=len(alphabet), maskable=maskable, context=context_tokens,
        mask_idx=alphabet.mask_idx, device=dev,
    )
    run_draws = draws if draws is not None else TorchDraws(seed + r + 1_000_003 * k)
    return problem, np.asarray(rows_l), np.asarray(rows_r), run_draws


def _solve_batch(model, alphabet, subs, batch, *, runs, tokens, dev, store, steps, settings, seed, draws,
                 checkpointing, precision, progress):
    """The problems of one batch, solved in lockstep or loaded: ``[(depth, trace, rows_l, rows_r, draws)]``.

    A batch is checkpointed as one file, so it is loaded whole or recomputed
    whole: a resumed run does exactly the batched passes an uninterrupted one does.
    """
    laid = [_problem(alphabet, subs[k], r=r, k=k, tokens=tokens, dev=dev, settings=settings, seed=seed, draws=draws)
            for r, k in batch]
    n = len(subs)
    wheres = [f"{k + 1}/{n}" if runs == 1 else f"run {r + 1}/{runs}, {k + 1}/{n}" for r, k in batch]
    callbacks = [progress.for_problem(w) for w in wheres]
    traces = store.load(batch) if store is not None else None
    if traces is not None:
        for (r, k), trace, cb in zip(batch, traces, callbacks):
            log.info("run %d, sub-MSA %d/%d: loaded from %s", r + 1, k + 1, n, store.path)
            cb(steps + 1, steps + 1, loss=trace.losses[-1])
    else:
        traces = optimize_permutations_batch(
            model, [problem for problem, *_ in laid], steps=steps, settings=settings,
            draws=[d for *_, d in laid], checkpointing=checkpointing, callbacks=callbacks, precision=precision,
        )
        if store is not None:
            store.save(batch, traces)
    return [(problem.depth, trace, rows_l, rows_r, d) for (problem, rows_l, rows_r, d), trace in zip(laid, traces)]


def _info(*, preset, settings, steps, runs, seed, dev, max_depth, subs, n_context, known, orthologs, store,
          checkpointing, precision, seconds, run_info, max_batch, batches) -> dict:
    """``PairingResult.info`` of a DiffPALM run."""
    return {
        "preset": preset,
        "settings": asdict(settings),
        "steps": steps,
        "runs": runs,
        "seed": seed,
        "device": str(dev),
        "max_depth": max_depth,
        "n_sub_msas": len(subs),
        "max_batch": max_batch,
        "batches": [[list(p) for p in batch] for batch in batches],
        "n_context_rows": n_context,
        "n_known_pairs": len(known),
        "routes": {"orthologs": len(orthologs), "known_pairs": len(known),
                   "optimised": int(sum(min(sum(x >= 0 for x in b.free_left), sum(x >= 0 for x in b.free_right))
                                        for sub in subs for b in sub)),
                   "context_pairs": n_context},
        "resumed_sub_msas": store.n_loaded if store is not None else 0,
        "checkpointing": checkpointing,
        "precision": precision,
        "seconds": seconds,
        "run_details": run_info,
    }


def _check_pairs(paired, known_pairs, context_pairs):
    """Known pairs and context pairs as ``{left_row: right_row}``; context pairs must lie outside the species paired."""
    if not paired.blocks:
        raise PairingInputError("the two families share no species: nothing to pair")
    known = _validate_pairs(known_pairs, paired, "known pair")
    context_in = _validate_pairs(context_pairs, paired, "context pair", same_block=False)  # outside the species paired
    return known, context_in


def _max_depth(paired, model, dev, *, context, max_depth, checkpointing) -> int:
    """Check the model's limits and the context's columns; the rows per forward pass (the default if None)."""
    from protlm.models.esm_msa import check_msa_limits

    n_columns = 1 + paired.left.n_columns + paired.right.n_columns
    check_msa_limits(model, 1, n_columns, what="paired MSA")
    if context is not None:
        context.check_columns(paired.left.n_columns, paired.right.n_columns)
    if max_depth is None:
        max_depth = default_max_depth(model, n_columns, dev, checkpointing=checkpointing)
        log.info("max depth per forward pass (from the model and the device's total memory): %d rows", max_depth)
    check_msa_limits(model, max_depth, n_columns, what="--max-depth")
    return max_depth


def _log_split(paired, subs, model, dev, *, max_depth, checkpointing) -> None:
    if len(subs) > 1:
        log.info("%d species split into %d sub-MSAs of at most %d rows", len(paired.blocks), len(subs), max_depth)
        if not checkpointing:
            n_columns = 1 + paired.left.n_columns + paired.right.n_columns
            roomier = default_max_depth(model, n_columns, dev, checkpointing=True)
            if roomier > max_depth:
                log.warning("sub-MSAs see fewer species as context; --checkpointing would allow about %d rows per "
                            "forward pass", roomier)


def _tokens(paired, alphabet, context_in, context):
    """Token arrays of the two families, and the context rows (``<cls> + left + right``) or ``None``."""
    left_tok = paired.left.tokenize(alphabet)
    right_tok = paired.right.tokenize(alphabet)
    cls_idx = alphabet.cls_idx
    context_rows = [np.concatenate([[cls_idx], left_tok[l], right_tok[r]]) for l, r in context_in.items()]
    if context is not None and context.n_pairs:
        cl, cr = context.left.tokenize(alphabet), context.right.tokenize(alphabet)
        context_rows += [np.concatenate([[cls_idx], cl[l], cr[r]]) for l, r in context.pairs]
    return left_tok, right_tok, (np.array(context_rows) if context_rows else None)


class _Tally:
    """What the runs chose: per-pair counts for the aggregation, per-iteration loss and precision for the history.

    ``counts[block index][(left_row, right_row)]``: runs whose final assignment chose the pair;
    ``late[block index][(left_row, right_row)]``: fraction of a run's late iterations choosing it, summed over runs.
    """

    def __init__(self, truth, subs, *, runs, steps):
        self.truth = truth
        self.counts = {b.index: {} for sub in subs for b in sub}
        self.late = {b.index: {} for sub in subs for b in sub}
        self.losses = np.zeros((runs, len(subs), steps + 1))
        self.correct = np.zeros((runs, steps + 1))
        self.scored = np.zeros((runs, steps + 1))

    def add(self, r, k, sub, trace, rows_l, rows_r) -> None:
        truth = self.truth
        self.losses[r, k] = trace.losses
        for it, perm in enumerate(trace.perms):
            lefts, rights = rows_l[perm], rows_r
            scored = (lefts >= 0) & np.isin(lefts, list(truth))  # a true pair left unpaired counts as wrong
            real = scored & (rights >= 0)
            self.scored[r, it] += scored.sum()
            self.correct[r, it] += sum(truth[int(a)] == int(b) for a, b in zip(lefts[real], rights[real]))
        final = rows_l[trace.perms[-1]]
        late_perms = trace.perms[len(trace.perms) // 2:]  # the second half of the run, final iteration included
        start = 0
        for b in sub:
            counts, late = self.counts[b.index], self.late[b.index]
            for q in range(start, start + b.depth):
                key = (int(final[q]), int(rows_r[q]))
                counts[key] = counts.get(key, 0) + 1
                for left, n in zip(*np.unique(rows_l[late_perms[:, q]], return_counts=True)):
                    key = (int(left), int(rows_r[q]))
                    late[key] = late.get(key, 0.0) + n / len(late_perms)
            start += b.depth

    def history(self) -> dict:
        """``loss`` (mean over runs and sub-MSAs per iteration) and, with a truth, ``precision``."""
        history = {"loss": [float(x) for x in self.losses.mean(axis=(0, 1))] if self.losses.shape[1] else []}
        if self.truth and self.scored.sum():
            prec = np.where(self.scored > 0, self.correct / np.maximum(self.scored, 1), np.nan)
            history["precision"] = [float(x) for x in np.nanmean(prec, axis=0)]
        return history



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
