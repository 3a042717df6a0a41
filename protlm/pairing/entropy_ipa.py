"""Entropy IPA: the entropy bootstrap, then rounds that re-pair each species from the other species' pairs.

A weights-free method in two stages (issue 14):

1. **Start**: :func:`~protlm.pairing.entropy_bootstrap.pair_entropy_bootstrap`
   (``n_restarts`` bootstraps, the lowest two-body entropy kept).
2. **Rounds** (an iterative pairing, as in MI-IPA and DiffPaSS-IPA): each
   species is re-paired by a Hungarian assignment on the sum of two scores,
   both learnt from the current pairs of the *other* species only (so a
   species' own pairs never vote for themselves), each standardised inside
   the species (zero mean, unit variance over its candidates):

   * *coevolution*: the summed pointwise mutual information of the candidate's
     residues (MI-IPA's score, :mod:`protlm.pairing.pmi`, without
     reweighting), from the pair counts of the other species;
   * *phylogeny*: the homology-transfer score of
     :mod:`protlm.pairing.homology` over the other species' pairs
     ``(l_k, r_k)``, ``log sum_k exp(beta (s(l, l_k) + s(r, r_k)))`` with
     ``s`` the mean BLOSUM62 similarity per column and ``beta`` =
     :data:`DEFAULT_HOMOLOGY_BETA`: a candidate scores high when close
     homologues of its two sequences are paired in other species
     (orthologous pairs resemble each other).

   A round is one sweep over the species in a random (seeded) order, each
   re-paired from the others' current pairs, so later species see the new
   pairs of earlier ones; rounds stop when a sweep changes nothing or after
   ``n_rounds``.

Why both scores: on HK-RR 575 (42 species) the entropy objective saturates
(the bootstrap finds pairings of lower two-body entropy than the true one),
and in exploratory runs each score, learnt from the *true* pairs of the other
species, re-paired a species at about 0.74 (coevolution) and 0.81
(phylogeny, then ``id(l, l_k)^8 id(r, r_k)^8`` with ``id`` the fraction of
identical columns) precision; their sum adds the phylogenetic signal, which
the entropy objective does not use, to the bootstrap's pairing.  The rounds
from the true pairing settled at 0.80: the ceiling of those scores on that
set.  The BLOSUM62 kernel replaced the identity power on five validation sets
of 575 pairs from HK-RR species outside the 575 set
(``benchmarks/entropy_ipa_validation.py``: mean precision 0.7134 -> 0.7263 at
``beta`` 5, better on four of the five; 0.7231 at ``beta`` 3, 0.7148 at 10).
"""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace

import numpy as np

from protlm.errors import PairingInputError
from protlm.pairing._blocks import blocks_from_paired, build_result, ortholog_pairs, routes
from protlm.pairing.assignment import assign_with_gaps, free_rows, square_costs
from protlm.pairing.entropy_bootstrap import pair_entropy_bootstrap
from protlm.pairing.homology import similarity_kernel
from protlm.pairing.pmi import _features, _one_hot, _pmi_matrix, context_codes, prepare_paired
from protlm.pairing.result import PairingResult
from protlm.pairing.soft_refine import (_PSEUDOCOUNT, DEFAULT_DAMPING, DEFAULT_PHYLOGENY_WEIGHT, DEFAULT_SOFT_STEPS,
                                        DEFAULT_TEMPERATURES, DEFAULT_TOP_COLUMN_PAIRS, _standardise, soft_refine,
                                        vote_start)

__all__ = ["DEFAULT_HOMOLOGY_BETA", "DEFAULT_RESTARTS", "DEFAULT_ROUNDS", "DEFAULT_RUNS", "pair_entropy_ipa"]

log = logging.getLogger(__name__)

#: Re-pairing rounds at most (they stop earlier when no pair changes).
DEFAULT_ROUNDS = 8
#: Sharpness of the phylogeny score's soft maximum over the other species' pairs (higher: only close homologues
#: count), per-column BLOSUM62 units (:func:`protlm.pairing.homology.similarity_kernel`).
DEFAULT_HOMOLOGY_BETA = 5.0
#: Entropy-bootstrap restarts of the start.
DEFAULT_RESTARTS = 3
#: Independent runs (seeds ``seed``, ``seed + 1``, ...) combined by a Hungarian matching of their votes.  Chosen on
#: the five validation sets of ``benchmarks/entropy_ipa_validation.py`` (HK-RR species outside the 575 set): one run
#: 0.7263 mean precision, the consensus of five 0.7534 (better on four sets, equal on one; their mean 0.7306).
#: Seven since the soft refinement's column-pair selection: its mean from five runs' votes 0.793, from seven 0.805
#: (exploratory runs from cached runs; ``soft_refine``'s module docstring).
DEFAULT_RUNS = 7


class _Scorer:
    """Coevolution and phylogeny scores of the candidates of one species, from the other species' pairs.

    Holds the current pairing (``partner[left_row]``, -1: unpaired) and its
    pair counts, updated by differences when a species is re-paired.
    """

    def __init__(self, lc, rc, *, beta, pairs, species_of_left, kernels=None):
        self.li, dl = _features(lc)
        self.ri, dr = _features(rc)
        self.xl, self.xr = _one_hot(self.li, dl), _one_hot(self.ri, dr)
        # the phylogeny kernels depend on the rows and beta only: runs of one call share them (``kernels``)
        self.kl, self.kr = kernels if kernels is not None else (similarity_kernel(lc, lc, beta=beta),
                                                                similarity_kernel(rc, rc, beta=beta))
        self.species = np.asarray(species_of_left)  # block of each left row (-1: context)
        self.partner = np.full(lc.shape[0], -1, dtype=np.int64)
        pl = np.fromiter(pairs.keys(), dtype=np.int64, count=len(pairs))
        pr = np.fromiter(pairs.values(), dtype=np.int64, count=len(pairs))
        self.partner[pl] = pr
        self.counts = self.xl[pl].T @ self.xr[pr]
        self.single_l = self.xl[pl].sum(axis=0)
        self.single_r = self.xr[pr].sum(axis=0)

    def repair(self, rows_l, new_r):
        """Give left rows ``rows_l`` the partners ``new_r`` (-1: unpaired), updating the counts."""
        old = self.partner[rows_l]
        for sign, rl, rr in ((-1.0, rows_l[old >= 0], old[old >= 0]), (1.0, rows_l[new_r >= 0], new_r[new_r >= 0])):
            self.counts += sign * (self.xl[rl].T @ self.xr[rr])
            self.single_l += sign * self.xl[rl].sum(axis=0)
            self.single_r += sign * self.xr[rr].sum(axis=0)
        self.partner[rows_l] = new_r

    def block_scores(self, block, rows_l, rows_r):
        """Standardised coevolution + phylogeny scores, ``(len(rows_l), len(rows_r))``, of block ``block``'s
        candidates, learnt from the pairs of every other block and the context."""
        own_l = np.nonzero((self.species == block) & (self.partner >= 0))[0]
        own_r = self.partner[own_l]
        other_l = np.nonzero((self.species != block) & (self.partner >= 0))[0]
        other_r = self.partner[other_l]
        n = len(other_l)
        if n == 0:  # no other species: nothing to learn from
            return np.zeros((len(rows_l), len(rows_r)))
        ul = np.nonzero(self.xl[rows_l].any(axis=0))[0]  # the states this species' rows use
        ur = np.nonzero(self.xr[rows_r].any(axis=0))[0]
        counts = self.counts[np.ix_(ul, ur)] - self.xl[np.ix_(own_l, ul)].T @ self.xr[np.ix_(own_r, ur)]
        fl = self.single_l[ul] - self.xl[np.ix_(own_l, ul)].sum(axis=0)
        fr = self.single_r[ur] - self.xr[np.ix_(own_r, ur)].sum(axis=0)
        # MI-IPA's PMI (unweighted: every other pair counts 1); counts clamped at 0 against rounding of differences
        pmi = _pmi_matrix(counts, np.maximum(fl, 0), np.maximum(fr, 0), n, _PSEUDOCOUNT)
        coevolution = self.xl[np.ix_(rows_l, ul)] @ pmi @ self.xr[np.ix_(rows_r, ur)].T
        phylogeny = self.kl[np.ix_(rows_l, other_l)] @ self.kr[np.ix_(rows_r, other_r)].T
        phylogeny = np.log(np.maximum(phylogeny, np.finfo(np.float32).tiny))
        return _standardise(coevolution.astype(np.float64)) + _standardise(phylogeny.astype(np.float64))


def pair_entropy_ipa(paired, *, known_pairs=None, context=None, seed: int = 0, n_runs: int | None = None,
                     n_rounds: int | None = None, n_restarts: int | None = None, n_iterations: int | None = None,
                     homology_beta: float | None = None, n_soft_steps: int | None = None,
                     top_column_pairs: int | None = None,
                     callback=None) -> PairingResult:
    """Pair two families inside each species: entropy bootstrap, coevolution + phylogeny re-pairing rounds, then
    an annealed soft refinement of the runs' votes.

    Each run starts from its own bootstrap and settles in its own
    self-consistent pairing.  The ``n_runs`` runs' votes start
    :func:`~protlm.pairing.soft_refine.soft_refine`, which re-learns both
    scores from every species' soft pairing while the temperature falls; each
    species then takes the Hungarian matching of its last scores.  With two
    runs or more, the pairs that every run holds are kept as they are.  With
    ``n_soft_steps=0`` the runs are instead combined per species by the
    Hungarian matching that maximises the runs agreeing on each pair (ties:
    the higher summed confidence), as before the refinement.

    Parameters
    ----------
    paired : protlm.io.PairedFamilies
        The two aligned families and their species blocks.
    known_pairs : mapping or iterable of (left, right), optional
        Known pairs (rows or ids): fixed in the bootstrap and the rounds, and
        training pairs of both scores.  Orthologs (one sequence on each side)
        are paired directly and used likewise.
    context : protlm.io.ContextPairs, optional
        Correctly paired rows of other species: fixed statistics of the
        bootstrap and training pairs of both scores; not in the result.
    seed : int
        Seeds the bootstrap and the random tie-breaking of the assignments
        (run ``i`` uses ``seed + i``).
    n_runs : int, optional
        Independent runs combined (default :data:`DEFAULT_RUNS`; 1: one run,
        as before the runs were combined).
    n_rounds : int, optional
        Re-pairing rounds at most (default :data:`DEFAULT_ROUNDS`); 0 returns
        the bootstrap's pairing.
    n_restarts : int, optional
        Entropy-bootstrap restarts (default :data:`DEFAULT_RESTARTS`).
    n_iterations : int, optional
        Iterations of each bootstrap (default
        :data:`protlm.pairing.entropy_bootstrap.DEFAULT_ITERATIONS`).
    homology_beta : float, optional
        Sharpness of the phylogeny score's soft maximum over the other
        species' pairs (default :data:`DEFAULT_HOMOLOGY_BETA`).
    n_soft_steps : int, optional
        Annealing steps of the soft refinement (default
        :data:`protlm.pairing.soft_refine.DEFAULT_SOFT_STEPS`; 0: none, the
        runs' vote consensus is the result).
    top_column_pairs : int, optional
        Column pairs of the refinement's coevolution score (default
        :data:`protlm.pairing.soft_refine.DEFAULT_TOP_COLUMN_PAIRS`; 0: all).
    callback : callable, optional
        Called as ``callback(step, n_steps)``: each run's bootstrap iterations
        and rounds, then one step per refinement step.

    Returns
    -------
    PairingResult
        ``method="entropy-ipa"``.  ``confidence``: percentile rank in (0, 1]
        of the pair's gap in the refinement's last scores (drop of the
        species' best total score when the pair is forbidden; known pairs and
        orthologs 1); for a pair every run holds (kept by the refinement when
        ``n_runs > 1``) and without refinement, that rank in each run's last
        round, averaged over the runs (0 in a run without the pair).  ``agreement``:
        fraction of the runs holding the pair (NaN with one run);
        ``history["changed"]`` pairs changed per round (of the first run;
        ``history["changed_per_run"]`` all), ``info["start"]`` the first
        run's bootstrap info, ``info["run_seeds"]``,
        ``info["soft_refinement"]`` (settings, and the pairs it changed from
        the runs' vote consensus).

    Raises
    ------
    PairingInputError
        Bad options, known pairs or context.

    Examples
    --------
    Twelve species of five paralogs descending from five ancestors; each right
    half mirrors its left half, with noise:

    >>> from types import SimpleNamespace as NS
    >>> rng = np.random.default_rng(0)
    >>> anc = rng.integers(1, 21, size=(5, 12))
    >>> def mutate(a, p):
    ...     return np.where(rng.random(a.shape) < p, rng.integers(1, 21, size=a.shape), a)
    >>> left = np.concatenate([mutate(anc, 0.3) for _ in range(12)])
    >>> right = mutate(left[:, ::-1], 0.1)
    >>> fam = NS(left=NS(array=left, ids=tuple(map(str, range(60)))), right=NS(array=right, ids=tuple(map(str, range(60)))),
    ...          blocks=tuple(NS(species=f"s{k}", left=np.arange(5 * k, 5 * k + 5), right=np.arange(5 * k, 5 * k + 5))
    ...                       for k in range(12)))
    >>> r = pair_entropy_ipa(fam, seed=0, n_restarts=1, n_runs=3)
    >>> r.precision({i: i for i in range(60)}), r.info["run_seeds"]
    (1.0, [0, 1, 2])
    """
    n_runs = DEFAULT_RUNS if n_runs is None else int(n_runs)
    if n_runs < 1:
        raise PairingInputError(f"n_runs must be >= 1, got {n_runs}")
    n_soft = DEFAULT_SOFT_STEPS if n_soft_steps is None else int(n_soft_steps)
    if n_soft < 0:
        raise PairingInputError(f"n_soft_steps must be >= 0, got {n_soft}")
    top = DEFAULT_TOP_COLUMN_PAIRS if top_column_pairs is None else int(top_column_pairs)
    if top < 0:
        raise PairingInputError(f"top_column_pairs must be >= 0, got {top}")
    t0 = time.perf_counter()
    runs, shared, run_steps = [], {}, [1]
    for i in range(n_runs):
        def run_callback(step, n_steps, i=i):
            run_steps[0] = n_steps
            if callback is not None:
                callback(i * n_steps + step, n_runs * n_steps + n_soft)

        runs.append(_pair_once(paired, known_pairs=known_pairs, context=context, seed=seed + i, n_rounds=n_rounds,
                               n_restarts=n_restarts, n_iterations=n_iterations, homology_beta=homology_beta,
                               callback=run_callback, shared=shared))
        log.info("entropy IPA run %d/%d done, %.1f s", i + 1, n_runs, time.perf_counter() - t0)
    if n_soft:
        def soft_callback(step, _n):
            if callback is not None:
                callback(n_runs * run_steps[0] + step, n_runs * run_steps[0] + n_soft)

        result = _refined(paired, runs, shared["inputs"], shared["kernels"], n_steps=n_soft, seed=seed,
                          top_column_pairs=top or None, callback=soft_callback)
        log.info("entropy IPA soft refinement: %d pairs changed from the runs' votes, %.1f s",
                 result.info["soft_refinement"]["pairs_changed_from_votes"], time.perf_counter() - t0)
    else:
        result = runs[0] if n_runs == 1 else _consensus(paired, runs)
    result.info.update(n_runs=n_runs, run_seeds=[seed + i for i in range(n_runs)],
                       seconds=time.perf_counter() - t0)
    result.history["changed_per_run"] = [r.history["changed"] for r in runs]
    return result


def _consensus(paired, runs) -> PairingResult:
    """The runs combined: per species, the matching with the most run votes (ties: the higher summed confidence)."""
    from scipy.optimize import linear_sum_assignment

    first = runs[0]
    n = len(runs)
    votes, conf_sum = {}, {}
    for r in runs:
        for l, rr, c in zip(r.left_rows.tolist(), r.right_rows.tolist(), r.confidence.tolist()):
            if l >= 0 and rr >= 0:
                votes[(l, rr)] = votes.get((l, rr), 0) + 1
                conf_sum[(l, rr)] = conf_sum.get((l, rr), 0.0) + (0.0 if np.isnan(c) else c)
    blocks, matchings, confidences, agreements = blocks_from_paired(paired), [], [], {}
    for block in blocks:
        lefts, rights = block.left.tolist(), block.right.tolist()
        weight = np.array([[votes.get((l, rr), 0) + 1e-3 * conf_sum.get((l, rr), 0.0) / n for rr in rights]
                           for l in lefts]).reshape(len(lefts), len(rights))
        rows, cols = linear_sum_assignment(weight, maximize=True)
        match = {lefts[i]: rights[j] for i, j in zip(rows, cols)}
        matchings.append(match)
        confidences.append({l: conf_sum.get((l, rr), 0.0) / n for l, rr in match.items()})
        agreements.update({l: votes.get((l, rr), 0) / n for l, rr in match.items()})
    return build_result("entropy-ipa", blocks, matchings, confidences, agreements=agreements,
                        left_ids=paired.left.ids, right_ids=paired.right.ids, history=dict(first.history),
                        info=dict(first.info))


def _inputs(paired, known_pairs, context) -> SimpleNamespace:
    """What every run and the refinement share: blocks, residue codes (context rows appended), known and fixed
    pairs (known pairs and orthologs), the context rows and the block of each left row (-1: context)."""
    blocks, lc, rc, given = prepare_paired(paired, known_pairs)
    fixed = {**given, **ortholog_pairs(blocks, given)}
    n_input = lc.shape[0]
    ctx = context_codes(context, lc.shape[1], rc.shape[1])
    ctx_l = ctx_r = np.zeros(0, dtype=np.int64)
    if ctx is not None:  # context pairs: appended rows, training pairs of every species
        ctx_l = np.arange(lc.shape[0], lc.shape[0] + len(ctx[0]))
        ctx_r = np.arange(rc.shape[0], rc.shape[0] + len(ctx[0]))
        lc, rc = np.concatenate([lc, ctx[0]]), np.concatenate([rc, ctx[1]])
    block_of = {int(r): k for k, b in enumerate(blocks) for r in b.left}
    species_of = np.full(lc.shape[0], -1, dtype=np.int64)
    species_of[list(block_of)] = list(block_of.values())
    return SimpleNamespace(blocks=blocks, left=lc, right=rc, given=given, fixed=fixed, n_input=n_input,
                           ctx_l=ctx_l, ctx_r=ctx_r, block_of=block_of, species_of=species_of)


def _refined(paired, runs, inp, kernels, *, n_steps, seed, top_column_pairs, callback) -> PairingResult:
    """The runs' votes refined by :func:`~protlm.pairing.soft_refine.soft_refine`, then one Hungarian matching per
    species of its last scores."""
    from scipy.stats import rankdata

    run_pairs = [r.mapping() for r in runs]
    unanimous = {}  # with several runs, the pairs every run holds are kept (validation sets: 0.791 vs 0.789)
    if len(runs) > 1:
        unanimous = {l: r for l, r in run_pairs[0].items()
                     if l not in inp.fixed and all(p.get(l) == r for p in run_pairs[1:])}
    kept = {**inp.fixed, **unanimous}
    free = free_rows(inp.blocks, kept)
    fixed = {**kept, **dict(zip(inp.ctx_l.tolist(), inp.ctx_r.tolist()))}
    scores = soft_refine(inp.left, inp.right, free, fixed, vote_start(free, run_pairs),
                         species_of_left=inp.species_of, kernels=kernels, n_steps=n_steps,
                         top_column_pairs=top_column_pairs, callback=callback)
    sigmas, gaps = assign_with_gaps([square_costs(sc) for sc in scores], np.random.default_rng([seed, 2]))
    matchings = [{l: r for l, r in kept.items() if inp.block_of.get(l) == k} for k in range(len(inp.blocks))]
    run_conf = [dict(zip(r.left_rows.tolist(), r.confidence.tolist())) for r in runs]
    confidences = [{l: 1.0 if l in inp.fixed else float(np.mean([c[l] for c in run_conf])) for l in m}
                   for m in matchings]
    pair_gaps = {}
    for (k, fl, fr), sigma, gap in zip(free, sigmas, gaps):
        for i, l in enumerate(fl.tolist()):
            if sigma[i] < len(fr):
                matchings[k][l] = int(fr[sigma[i]])
                pair_gaps[l] = float(gap[i])
    if pair_gaps:
        ranked = list(pair_gaps)
        pct = rankdata([pair_gaps[l] for l in ranked], method="average") / len(ranked)
        for l, c in zip(ranked, pct.tolist()):
            confidences[inp.block_of[l]][l] = c
    agreements = None
    if len(runs) > 1:
        agreements = {l: sum(p.get(l) == r for p in run_pairs) / len(runs) for m in matchings for l, r in m.items()}
    first = runs[0]
    result = build_result("entropy-ipa", inp.blocks, matchings, confidences, agreements=agreements,
                          left_ids=paired.left.ids, right_ids=paired.right.ids, history=dict(first.history),
                          info=dict(first.info))
    votes = runs[0] if len(runs) == 1 else _consensus(paired, runs)
    before, after = votes.mapping(), result.mapping()
    result.info["soft_refinement"] = {"steps": n_steps, "temperatures": list(DEFAULT_TEMPERATURES),
                                      "phylogeny_weight": DEFAULT_PHYLOGENY_WEIGHT, "damping": DEFAULT_DAMPING,
                                      "top_column_pairs": top_column_pairs,
                                      "pairs_changed_from_votes": sum(before.get(l) != r for l, r in after.items()),
                                      "unanimous_pairs_kept": len(unanimous)}
    return result


def _pair_once(paired, *, known_pairs, context, seed, n_rounds, n_restarts, n_iterations, homology_beta,
               callback, shared=None) -> PairingResult:
    """One run of :func:`pair_entropy_ipa`; ``shared`` (a dict) keeps what the runs of one call have in common."""
    shared = {} if shared is None else shared
    n_rounds = DEFAULT_ROUNDS if n_rounds is None else int(n_rounds)
    n_restarts = DEFAULT_RESTARTS if n_restarts is None else int(n_restarts)
    beta = DEFAULT_HOMOLOGY_BETA if homology_beta is None else float(homology_beta)
    if n_rounds < 0:
        raise PairingInputError(f"n_rounds must be >= 0, got {n_rounds}")
    if n_restarts < 1:
        raise PairingInputError(f"n_restarts must be >= 1, got {n_restarts}")
    if not beta > 0:
        raise PairingInputError(f"homology_beta must be > 0, got {beta}")
    t0 = time.perf_counter()
    inp = shared["inputs"] if "inputs" in shared else _inputs(paired, known_pairs, context)
    shared["inputs"] = inp
    blocks, lc, rc, given, fixed = inp.blocks, inp.left, inp.right, inp.given, inp.fixed
    ctx_l, ctx_r, species_of, block_of, n_input = inp.ctx_l, inp.ctx_r, inp.species_of, inp.block_of, inp.n_input
    n_steps = None

    def start_callback(i, n):
        nonlocal n_steps
        n_steps = n + n_rounds
        if callback is not None:
            callback(i, n_steps)

    start = pair_entropy_bootstrap(paired, known_pairs=known_pairs, context=context, seed=seed,
                                   n_restarts=n_restarts, n_iterations=n_iterations, callback=start_callback)
    current = start.mapping()
    scorer = _Scorer(lc, rc, beta=beta, pairs={**current, **dict(zip(ctx_l.tolist(), ctx_r.tolist()))},
                     species_of_left=species_of, kernels=shared.get("kernels"))
    shared["kernels"] = (scorer.kl, scorer.kr)
    free = free_rows(blocks, fixed)  # (block index, free left rows, free right rows)
    rng = np.random.default_rng([seed, 1])
    history = {"changed": []}
    gaps = {}
    for rnd in range(n_rounds):
        # One sweep: species in a random order, each re-paired from the others' current pairs.
        changed = 0
        for j in rng.permutation(len(free)):
            k, fl, fr = free[j]
            (sigma,), (gap,) = assign_with_gaps([square_costs(scorer.block_scores(k, fl, fr))], rng)
            sigma = sigma[: len(fl)]
            new_r = np.where(sigma < len(fr), fr[np.minimum(sigma, len(fr) - 1)], -1)
            changed += int(np.count_nonzero(new_r != scorer.partner[fl]))
            scorer.repair(fl, new_r)
            gaps.update((l, g) for l, g, r in zip(fl.tolist(), gap[: len(fl)].tolist(), new_r.tolist()) if r >= 0)
        history["changed"].append(changed)
        log.info("entropy IPA sweep %d/%d: %d pairs changed, %.1f s", rnd + 1, n_rounds, changed,
                 time.perf_counter() - t0)
        if callback is not None and n_steps is not None:
            callback(n_steps - n_rounds + rnd + 1, n_steps)
        if changed == 0:
            break
    current = {int(l): int(r) for l, r in enumerate(scorer.partner[:n_input]) if r >= 0}

    matchings = [dict() for _ in blocks]
    confidences = [dict() for _ in blocks]
    start_conf = dict(zip(start.left_rows.tolist(), start.confidence.tolist()))
    ranked = sorted(gaps)
    pct = {}
    if ranked:
        from scipy.stats import rankdata

        pct = dict(zip(ranked, (rankdata([gaps[l] for l in ranked], method="average") / len(ranked)).tolist()))
    for l, r in current.items():
        if l >= n_input:
            continue
        matchings[block_of[l]][l] = r
        confidences[block_of[l]][l] = 1.0 if l in fixed else pct.get(l, start_conf.get(l, float("nan")))
    info = {"seed": seed, "n_rounds": len(history["changed"]), "max_rounds": n_rounds, "n_restarts": n_restarts,
            "homology_beta": beta, "n_known": len(given),
            "routes": routes(blocks, given, {l: r for l, r in fixed.items() if l not in given}, len(ctx_l)),
            "start": {k: v for k, v in start.info.items() if k != "routes"}, "seconds": time.perf_counter() - t0}
    return build_result("entropy-ipa", blocks, matchings, confidences, left_ids=paired.left.ids,
                        right_ids=paired.right.ids, history=history, info=info)
