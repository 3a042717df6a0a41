"""MI-IPA: iterative pairing of interacting paralogs by pointwise mutual information.

The method of Bitbol (2018), "Inferring interaction partners from protein
sequences using mutual information", PLoS Comput Biol 14:e1006401:

1. From a *training set* of concatenated pairs, estimate the pointwise mutual
   information ``PMI[i, j, a, b] = log f_ij(a, b) / (f_i(a) f_j(b))`` between
   every left column ``i`` and right column ``j``, with sequences reweighted
   (weight ``1 / #neighbours``, a neighbour being a training pair whose
   concatenated sequence differs at fewer than ``theta`` of its columns) and a
   pseudocount ``pseudocount`` mixed with uniform frequencies.  Gaps get a PMI
   of 0.
2. Score every candidate pair inside each species by the sum of the PMIs of its
   residues over all (left column, right column) couples, and assign the
   pairs of each species by the Hungarian algorithm (maximum total score).
3. Rank the assigned pairs by a confidence *gap*: how much the species' total
   score drops when that pair is forbidden (the best alternative assignment).
4. The next training set is the known pairs plus the ``n`` most confident
   predicted pairs, ``n`` growing by ``n_increment`` each round, until every
   pair is in it.  Without known pairs, the first training set is a random
   within-species pairing (the paper's "MI-IPA without training set").

This module is the iteration loop and the API.  The statistics live in
:mod:`protlm.pairing.pmi`: residues one-hot encoded over the (column, residue)
states that occur, training counts updated by differences, neighbour counts
for the weights only over left sequences already within the distance
threshold, and candidate scores summed inside each species by a compiled
kernel.  The assignment lives in :mod:`protlm.pairing.assignment`: the gaps of
all pairs of a species come from one all-pairs shortest-path computation over
alternating cycles instead of one Hungarian solve per pair.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence

import numpy as np

from protlm.errors import PairingInputError
from protlm.pairing._blocks import (
    blocks_from_species,
    build_result,
    ortholog_pairs,
    random_matching,
    resolve_known_pairs,
    routes,
)
from protlm.pairing.assignment import assign_with_gaps, free_rows, square_costs
from protlm.pairing.homology import (
    DEFAULT_BETA,
    DEFAULT_HOMOLOGY_WEIGHT,
    context_homology_scores,
    row_spread,
)
from protlm.pairing.pmi import (  # noqa: F401  (encode_residues, pmi_scores, context_codes, prepare_paired: public here too)
    BlockScorer,
    _PMIModel,
    context_codes,
    encode_residues,
    pmi_scores,
    prepare_paired,
)
from protlm.pairing.result import PairingResult

__all__ = ["DEFAULT_N_INCREMENT", "encode_residues", "pair_mi_ipa", "pair_mi_ipa_arrays", "pmi_scores"]

log = logging.getLogger(__name__)

#: Pairs added to the training set per round, as in the MI-IPA paper.
DEFAULT_N_INCREMENT = 6


def _mi_ipa_blocks(left, right, blocks, known: dict, *, seed, theta, pseudocount, n_increment, callback,
                   context=None, start=None, homology_weight=0.0, homology_beta=DEFAULT_BETA):
    """MI-IPA on species blocks: ``(matchings, confidences, history, info)`` for :func:`build_result`.

    ``start``: ``{left_row: right_row}`` of predicted pairs among the free rows, the first training set instead
    of a random pairing (not fixed: reassigned like the rest); the training set then grows from their number.
    """
    lc, rc = encode_residues(left), encode_residues(right)
    given = dict(known)
    orthologs = ortholog_pairs(blocks, known)
    known = {**known, **orthologs}  # orthologs first: paired directly, part of every training set
    n_context = 0
    if context is not None:  # context pairs: appended rows, in every training set, never reassigned
        n_context = len(context[0])
        ctx_l = np.arange(lc.shape[0], lc.shape[0] + n_context)
        ctx_r = np.arange(rc.shape[0], rc.shape[0] + n_context)
        lc, rc = np.concatenate([lc, context[0]]), np.concatenate([rc, context[1]])
    if not 0.0 <= theta < 1.0:
        raise PairingInputError(f"theta must be in [0, 1), got {theta}")
    if not 0.0 < pseudocount < 1.0:
        raise PairingInputError(f"pseudocount must be in (0, 1), got {pseudocount}")
    n_increment = DEFAULT_N_INCREMENT if n_increment is None else int(n_increment)
    if n_increment < 1:
        raise PairingInputError(f"n_increment must be >= 1, got {n_increment}")
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()

    free = free_rows(blocks, known)  # (block index, free left rows, free right rows)
    n_predict = sum(min(len(fl), len(fr)) for _, fl, fr in free)

    model = _PMIModel(lc, rc, theta=theta, pseudocount=pseudocount)
    known_l = np.fromiter(known.keys(), dtype=np.int64, count=len(known))
    known_r = np.fromiter(known.values(), dtype=np.int64, count=len(known))
    if n_context:
        known_l, known_r = np.concatenate([known_l, ctx_l]), np.concatenate([known_r, ctx_r])
    scorer = BlockScorer(model.li, model.ri, [(fl, fr) for _, fl, fr in free])
    if not homology_weight >= 0:
        raise PairingInputError(f"homology_weight must be >= 0, got {homology_weight}")
    homology = None
    if n_context and homology_weight > 0:  # homology transfer from the context pairs, added to every round's scores
        homology = context_homology_scores(lc, rc, context[0], context[1], [(fl, fr) for _, fl, fr in free],
                                           beta=homology_beta)
        homology_spread = row_spread(homology)
        if homology_spread == 0:
            homology = None
        else:
            log.info("MI-IPA: homology transfer from %d context pairs (weight %g, beta %g), %.1f s", n_context,
                     homology_weight, homology_beta, time.perf_counter() - t0)

    n_train_new = 0  # predicted pairs in the training set
    if start:  # a first training set of predicted pairs (e.g. robust pairs of another method), not fixed
        start_l = np.fromiter(start.keys(), dtype=np.int64, count=len(start))
        start_r = np.fromiter(start.values(), dtype=np.int64, count=len(start))
        train_l, train_r = np.concatenate([known_l, start_l]), np.concatenate([known_r, start_r])
        n_train_new = len(start)
    elif len(known_l):
        train_l, train_r = known_l, known_r
    else:
        start = {}
        for _, fl, fr in free:
            start.update(random_matching(fl, fr, rng))
        train_l = np.fromiter(start.keys(), dtype=np.int64, count=len(start))
        train_r = np.fromiter(start.values(), dtype=np.int64, count=len(start))
    if len(train_l) == 0:
        raise PairingInputError("MI-IPA needs at least one pair to train on")

    n_rounds = math.ceil(max(n_predict - n_train_new, 0) / n_increment) + 1 if n_predict else 0
    history = {"training_size": [], "meff": [], "changed": []}
    pairs_l = pairs_r = gaps = prev = None
    for rnd in range(n_rounds):
        pmi, meff = model.fit(train_l, train_r)
        scores = scorer(pmi)
        if homology is not None:  # scaled to the spread of this round's PMI scores: homology_weight is unitless
            scale = homology_weight * row_spread(scores) / homology_spread
            scores = [s + scale * h for s, h in zip(scores, homology)]
        costs = [square_costs(s) for s in scores]
        sigma, gap = assign_with_gaps(costs, rng)
        new_l, new_r, new_g = [], [], []
        for j, (_, fl, fr) in enumerate(free):
            real = sigma[j][: len(fl)] < len(fr)  # rows beyond the block, or matched to padding: unpaired
            new_l.append(fl[real])
            new_r.append(fr[sigma[j][: len(fl)][real]])
            new_g.append(gap[j][: len(fl)][real])
        new_l, new_r, new_g = np.concatenate(new_l), np.concatenate(new_r), np.concatenate(new_g)
        if prev is None:
            changed = len(new_l)
        else:
            changed = sum(1 for l_, r_ in zip(new_l.tolist(), new_r.tolist()) if prev.get(l_) != r_)
        pairs_l, pairs_r, gaps = new_l, new_r, new_g
        prev = dict(zip(pairs_l.tolist(), pairs_r.tolist()))
        history["training_size"].append(int(len(train_l)))
        history["meff"].append(meff)
        history["changed"].append(changed)
        if callback is not None:
            callback(rnd + 1, n_rounds)
        if rnd % 50 == 0 or rnd == n_rounds - 1:
            log.info("MI-IPA round %d/%d: training set %d pairs (Meff %.1f), %d assignments changed, %.1f s",
                     rnd + 1, n_rounds, len(train_l), meff, changed, time.perf_counter() - t0)
        # Next training set: known pairs + the most confident predictions (ties in random order).
        n_train_new = min(n_train_new + n_increment, len(pairs_l))
        shuffle = rng.permutation(len(gaps))
        order = shuffle[np.argsort(-gaps[shuffle], kind="stable")][:n_train_new]
        train_l = np.concatenate([known_l, pairs_l[order]])
        train_r = np.concatenate([known_r, pairs_r[order]])

    matchings = [dict() for _ in blocks]
    confidences = [dict() for _ in blocks]
    raw_gaps = {}
    block_of = {int(r): k for k, b in enumerate(blocks) for r in b.left}
    for lr, rr in known.items():
        matchings[block_of[lr]][lr] = rr
        confidences[block_of[lr]][lr] = 1.0
    if pairs_l is not None and len(pairs_l):
        from scipy.stats import rankdata

        pct = rankdata(gaps, method="average") / len(gaps)  # forced pairs (gap inf) rank first
        for lr, rr, g, p in zip(pairs_l.tolist(), pairs_r.tolist(), gaps.tolist(), pct.tolist()):
            matchings[block_of[lr]][lr] = rr
            confidences[block_of[lr]][lr] = p
            raw_gaps[lr] = g
    info = {
        "theta": theta,
        "pseudocount": pseudocount,
        "homology_weight": homology_weight if homology is not None else 0.0,
        "homology_beta": homology_beta,
        "n_increment": n_increment,
        "n_rounds": n_rounds,
        "seed": seed,
        "n_known": len(given),
        "routes": routes(blocks, given, orthologs, n_context),
        "seconds": time.perf_counter() - t0,
        "gap": raw_gaps,
    }
    return matchings, confidences, history, info



def pair_mi_ipa_arrays(left, right, left_species: Sequence, right_species: Sequence | None = None, *,
                       known_pairs=None, seed: int = 0, theta: float = 0.15, pseudocount: float = 0.15,
                       n_increment: int | None = None, left_ids=None, right_ids=None,
                       callback=None) -> PairingResult:
    """MI-IPA on plain arrays: alignments plus one species label per row.

    Parameters
    ----------
    left, right : array_like, shape (n_left, L_left) and (n_right, L_right)
        The two alignments (``uint8`` ASCII, characters, or codes 0..20; see
        :func:`encode_residues`).
    left_species, right_species : sequence
        Species of each row (``None``: left out).  ``right_species`` defaults
        to ``left_species`` (then both alignments need the same number of rows).
        Species may hold different numbers of left and right rows; the
        surplus stays unpaired.
    known_pairs : mapping or iterable of (left, right), optional
        Pairs known to interact (rows, or ids when ``left_ids``/``right_ids``
        are given).  They form the first training set, stay in every training
        set and are never reassigned.  Without them MI-IPA starts from a random
        within-species pairing.
    seed : int
        Seeds the random start and the random tie-breaking.
    theta : float
        Sequences closer than this fraction of differing columns count as
        neighbours when reweighting (0: no reweighting).
    pseudocount : float
        Weight of the uniform pseudocount in the frequencies.
    n_increment : int, optional
        Pairs added to the training set per round (default
        :data:`DEFAULT_N_INCREMENT`, the paper's 6).  The number of rounds is
        ``ceil(n_pairs / n_increment) + 1``.
    left_ids, right_ids : sequence of str, optional
        Identifiers put in the result (default: row numbers).
    callback : callable, optional
        Called as ``callback(round, n_rounds)`` after each round.

    Returns
    -------
    PairingResult
        ``method="mi-ipa"``, ``device="cpu"``.  ``confidence`` is the
        percentile rank, in (0, 1], of each pair's assignment-cost gap among
        the predicted pairs (1 = most confident; known pairs get 1), so it is
        informative in a single run; ``agreement`` is NaN (one run);
        ``info["gap"]`` holds the raw gaps, ``history`` the
        training-set size, effective size and number of changed assignments
        per round.

    Raises
    ------
    PairingInputError
        No common species, bad known pairs or options.

    Examples
    --------
    Ten species of six paralogs whose right halves mirror their left halves
    (residue codes 1..3), so that the right partner is fully determined:

    >>> rng = np.random.default_rng(1)
    >>> left = rng.integers(1, 4, size=(60, 8))
    >>> right = left[:, ::-1].copy()
    >>> species = [f"sp{i // 6}" for i in range(60)]
    >>> r = pair_mi_ipa_arrays(left, right, species, seed=0)
    >>> r.precision({i: i for i in range(60)}), r.n_species
    (1.0, 10)
    """
    blocks = blocks_from_species(left_species, right_species)
    left, right = np.asarray(left), np.asarray(right)
    if len(left_species) != left.shape[0] or len(right_species if right_species is not None else left_species) != right.shape[0]:
        raise PairingInputError("need one species label per row on each side")
    known = resolve_known_pairs(known_pairs, blocks, left_ids=left_ids, right_ids=right_ids,
                                n_left=left.shape[0], n_right=right.shape[0])
    matchings, confidences, history, info = _mi_ipa_blocks(
        left, right, blocks, known, seed=seed, theta=theta, pseudocount=pseudocount,
        n_increment=n_increment, callback=callback)
    return build_result("mi-ipa", blocks, matchings, confidences, left_ids=left_ids, right_ids=right_ids,
                        history=history, info=info)


def pair_mi_ipa(paired, *, known_pairs=None, context=None, seed: int = 0, theta: float = 0.15,
                pseudocount: float = 0.15, n_increment: int | None = None, callback=None,
                homology_weight: float = DEFAULT_HOMOLOGY_WEIGHT, homology_beta: float = DEFAULT_BETA) -> PairingResult:
    """Pair two families inside each species by MI-IPA (Bitbol 2018).

    Parameters
    ----------
    paired : protlm.io.PairedFamilies
        The two families (aligned) and their species blocks.
    known_pairs : mapping or iterable of (left, right), optional
        Known interacting pairs, as rows of the two MSAs or as their ids.
    context : protlm.io.ContextPairs, optional
        Correctly paired rows of other species (e.g. ``paired.context``): the
        initial training set (no random start) and in every later one.
    seed, theta, pseudocount, n_increment, callback
        See :func:`pair_mi_ipa_arrays`.
    homology_weight : float
        With context: weight of the homology-transfer score
        (:func:`protlm.pairing.homology.context_homology_scores`: candidate
        pairs that resemble context pairs score higher), relative to the
        spread of each round's PMI scores.  0 gives PMI alone (MI-IPA as
        published).  Ignored without context.
    homology_beta : float
        Sharpness of that score's soft maximum over the context pairs.

    Notes
    -----
    Orthologs first: a species with one sequence on each side is paired
    directly and its pair is in every training set, like a known pair;
    ``info["routes"]`` counts the pairs of each route.

    Returns
    -------
    PairingResult
        ``method="mi-ipa"``, ids taken from the MSAs.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> rng = np.random.default_rng(1)
    >>> left = rng.integers(1, 4, size=(30, 8)); right = left.copy()
    >>> fam = NS(left=NS(array=left, ids=tuple(f"L{i}" for i in range(30))),
    ...          right=NS(array=right, ids=tuple(f"R{i}" for i in range(30))),
    ...          blocks=tuple(NS(species=f"s{k}", left=np.arange(6 * k, 6 * k + 6), right=np.arange(6 * k, 6 * k + 6))
    ...                       for k in range(5)))
    >>> r = pair_mi_ipa(fam, known_pairs=[("L0", "R0")], seed=0)
    >>> r.precision({i: i for i in range(30)}), float(r.confidence[0])
    (1.0, 1.0)
    """
    blocks, left, right, known = prepare_paired(paired, known_pairs)
    matchings, confidences, history, info = _mi_ipa_blocks(
        left, right, blocks, known, seed=seed, theta=theta, pseudocount=pseudocount,
        n_increment=n_increment, callback=callback,
        context=context_codes(context, left.shape[1], right.shape[1]),
        homology_weight=homology_weight, homology_beta=homology_beta)
    return build_result("mi-ipa", blocks, matchings, confidences, left_ids=paired.left.ids,
                        right_ids=paired.right.ids, history=history, info=info)
