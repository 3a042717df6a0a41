"""Compiled (numba) kernels of :mod:`protlm.sequencing.identify`: the banded alignments and the batch search.

The seeds and their diagonal votes are in :mod:`protlm.sequencing._seed_kernels`.

One call handles a batch of reads against one database (targets or decoys),
reads in parallel (``prange``, in tasks of 64 reads that share one per-sequence
work array); each read's work is a few small arrays, so nothing grows with the
batch but the outputs.  Imported by
:func:`protlm.sequencing.identify.identify_reads` when it runs (numba compiles
on first use and caches the machine code beside this file, or under
``$NUMBA_CACHE_DIR``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from protlm.sequencing._seed_kernels import _seed_hits, _top_proteins

#: SHA-256 (first 16 hex digits) of ``_seed_kernels.py``, whose functions are compiled into this file's.  numba
#: invalidates a cached function only when its *own* file changes, so a change there (a ``git pull`` that
#: touches only that file) would leave this file's cached machine code stale.  The value is checked by
#: ``tests/sequencing/test_kernel_cache.py``: updating it changes this file, and so its cache.
SEED_KERNELS_SHA256 = "be17d5a6f570579b"

#: Per-read outputs of :func:`search_batch`, columns of its integer array.
COUNT_COLUMNS = ("seq", "start", "hi", "lo", "n_letters", "n_wrong", "n_ref_known", "n_missed")


@njit(cache=True, nogil=True)
def _can_start(g, p0, p1, start_ok):
    """Whether a read can start at reference position ``g``: inside its sequence ``[p0, p1)`` and, unless
    ``start_ok`` is empty, where it is True (a digest's peptide starts, :func:`protlm.sequencing.digest.start_mask`)."""
    return p0 <= g < p1 and (len(start_ok) == 0 or start_ok[g])


@njit(cache=True, nogil=True)
def _align(o, L, p0, p1, first, span, n_start, residues, res, skip, lut, k, slack, choice, start_ok):
    """Banded Viterbi of one read against one reference stretch: score, end state and counts along the best path.

    State ``d`` (0..span): read position ``i`` over reference position ``first + i - d``; a step to ``d + 1``
    is a failed cycle.  The band spans the voted diagonals, ``slack`` on either side, and room for the most
    failed cycles expected; the read starts in one of the first ``n_start`` states, inside the protein, where
    ``start_ok`` allows (:func:`_can_start`).  Counts along the best path: letters, letters not explained by the residue under them,
    reference known-type residues aligned, and those shown as nothing.  ``choice`` (L x span+1, or 0 x 0)
    records the moves for a traceback.
    """
    D = span + 1
    V = np.empty(D, np.float64)
    nw = np.zeros(D, np.int64)
    nk = np.zeros(D, np.int64)
    nm = np.zeros(D, np.int64)
    ns = np.zeros(D, np.int64)
    for d in range(D):  # the read starts on any diagonal of the band, inside the protein (Edman starts at a residue)
        V[d] = 0.0 if d < n_start and _can_start(first - d, p0, p1, start_ok) else -np.inf
    n_letters = 0
    trace = choice.shape[0] > 0
    for i in range(L):
        oi = o[i]
        letter = oi < k
        if letter:
            n_letters += 1
        sk = skip[oi]
        for d in range(D - 1, -1, -1):  # in place: d reads d - 1 of the previous step
            g = first + i - d
            if g >= p0 and g < p1:
                code = residues[g]
                stay = V[d] + res[oi, code]
            elif g >= p1:  # past the protein's end: the separator column (0)
                code = res.shape[1] - 1
                stay = V[d] + res[oi, code]
            else:  # before the protein's start: the separator column too
                code = res.shape[1] - 1
                stay = V[d] + res[oi, code]
            move = V[d - 1] + sk if d > 0 else -np.inf
            if move > stay:
                V[d] = move
                nw[d], nk[d], nm[d], ns[d] = nw[d - 1] + letter, nk[d - 1], nm[d - 1], ns[d - 1] + 1
                if trace:
                    choice[i, d] = True
            else:
                V[d] = stay
                kc = lut[code]
                if letter and kc != oi:
                    nw[d] += 1
                if kc >= 0:
                    nk[d] += 1
                    if not letter:
                        nm[d] += 1
                if trace:
                    choice[i, d] = False
    best = 0
    for d in range(1, D):
        if V[d] > V[best]:
            best = d
    return V[best], best, best - ns[best], n_letters, nw[best], nk[best], nm[best]


@njit(cache=True, nogil=True)
def _failure_free(o, L, p0, p1, first, span, n_start, seg, res, log_stay, bar, suffix0, start_ok):
    """Score of the failure-free reading of :func:`_forward_score` (one path per start, without the per-cycle
    ``1 - pf``), the likeliest start; starts that provably cannot beat ``bar`` are cut short (second value: any).
    """
    f0, cut = -np.inf, False
    for d0 in range(min(n_start, span + 1)):
        if not _can_start(first - d0, p0, p1, start_ok):
            continue
        t = 0.0
        for i in range(L):
            t += res[o[i], seg[i + span - d0]] - log_stay
            if t + suffix0[i + 1] <= bar:  # this start cannot beat the bar
                t, cut = -np.inf, True
                break
        f0 = max(f0, t)
    return f0, cut


@njit(cache=True, nogil=True)
def _forward_score(o, L, p0, p1, first, span, n_start, residues, eres, eskip, seg, col, V, W, st, su, res, log_stay,
                   mix0, bar, suffix, suffix0, start_ok):
    """Log-likelihood ratio of a read against one reference stretch, summed over its alignments (forward).

    The states and moves of :func:`_align`, but the score adds up every path
    (every placement of the failed cycles: a failure in a run of empty
    positions can sit at any of them), so a read with many Edman failures is
    not scored by one of its many equally likely alignments only.  Paths from
    different starts are not summed: where two meet the likelier is kept, and
    the score is that of the likeliest start (a sum over starts lets a decoy
    gather its scattered partial matches: error-free KCYM tryptic reads lost a
    fifth of their identifications to it).  Probabilities (``eres``, ``eskip``: the
    exponentiated tables), rescaled per read position.  Returns the score, the
    likeliest end state and the start state of the paths that dominate it
    (the reference stretch under the read).  ``seg``, ``col``, ``V``, ``W``,
    ``st``, ``su``: work arrays of at least ``L + span + 1``, ``(table rows,
    L + span + 1)`` and ``span + 1`` (x4).

    ``bar``: a score the caller has no use for unless it is beaten (the best
    target's, when searching the decoys; ``-inf``: none).  ``suffix[i]``
    bounds what read positions ``i..L-1`` can add to the forward score (the
    sum of ``log(max(eres[o]) + eskip[o])``: every state's value is at most the
    step's maximum times that), ``suffix0[i]`` what they can add to the
    failure-free reading (``max(res[o]) - log_stay``).  As soon as the score
    provably cannot exceed ``bar`` the read is given up, returning ``-inf``:
    exact for the caller, which would discard the score anyway.
    """
    D = span + 1
    g0 = first - span  # reference position of seg[0]
    n_seg = L + span
    sep = eres.shape[1] - 1
    for t in range(n_seg):
        g = g0 + t
        seg[t] = residues[g] if p0 <= g < p1 else sep
    for j in range(eres.shape[0]):
        for t in range(n_seg):
            col[j, t] = eres[j, seg[t]]
    any_start = False
    for d in range(D):  # the read starts on any diagonal of the band, inside the protein
        ok = d < n_start and _can_start(first - d, p0, p1, start_ok)
        V[d] = 1.0 if ok else 0.0
        any_start |= ok
        st[d] = d
    if not any_start:
        return -np.inf, 0, 0
    f0, cut = -np.inf, False
    if mix0 > 0.0:  # the failure-free component
        f0, cut = _failure_free(o, L, p0, p1, first, span, n_start, seg, res, log_stay, bar, suffix0, start_ok)
    # a mixture is at most its larger component: once the forward part cannot beat the bar either, give up
    give_up = f0 <= bar
    log_end = np.log(D)
    log_scale = 0.0
    for i in range(L):
        oi = o[i]
        sk = eskip[oi]
        row = col[oi]
        base = i + span  # seg index of state d is base - d
        W[0] = V[0] * row[base]
        su[0] = st[0]
        top = W[0]
        for d in range(1, D):
            stay = V[d] * row[base - d]
            move = V[d - 1] * sk
            if st[d - 1] == st[d]:  # paths of one start: summed over where its failed cycles sit
                W[d] = stay + move
            else:  # paths of two starts: the likelier one (a sum over starts rewards a decoy's scattered matches)
                W[d] = max(stay, move)
            su[d] = st[d - 1] if move > stay else st[d]
            top = max(top, W[d])
        if top <= 0.0:
            return -np.inf, 0, 0
        inv = 1.0 / top
        log_scale += np.log(top)
        if give_up and log_scale + suffix[i + 1] + log_end <= bar:
            return -np.inf, 0, 0
        for d in range(D):
            V[d] = W[d] * inv
            st[d] = su[d]
    best = 0
    for d in range(D):  # end states: summed within a start, the likeliest start
        if V[d] > V[best]:
            best = d
    total = 0.0
    for d in range(D):
        if st[d] == st[best]:
            total += V[d]
    score = log_scale + np.log(total)
    if mix0 > 0.0:
        if cut:  # the forward part may beat the bar: the failure-free part's cut starts are needed after all
            f0, _ = _failure_free(o, L, p0, p1, first, span, n_start, seg, res, log_stay, -np.inf, suffix0, start_ok)
        hi_, lo_ = max(score, f0), min(score, f0)
        score = hi_ + np.log(1.0 - mix0 + mix0 * np.exp(lo_ - hi_)) if f0 <= score else \
            hi_ + np.log(mix0 + (1.0 - mix0) * np.exp(lo_ - hi_))
    return score, best, st[best]


@njit(cache=True, nogil=True)
def _candidates(L, max_proteins, max_tied, align_residues, max_candidates):
    """Candidates aligned (most voted, most in all with ties) for a read of length ``L``: ``max_proteins`` and
    ``max_tied``, or for a short read ``align_residues // L`` (at most ``max_candidates``) and four times that."""
    mp = max(max_proteins, min(max_candidates, align_residues // max(L, 1)))
    return mp, max(max_tied, 4 * mp)


@njit(cache=True, parallel=True)
def search_batch(flat, offsets, lengths, drift, expected, k, keys, bounds, tab_starts, tab_seq, db_starts, db_lengths,
                 residues, res, skip,
                 lut, budget, seed_span, shifts, bin_, max_proteins, max_tied, slack, log_false, log_pf, mix0, floor,
                 min_vote_fraction, prune, runner_window, start_ok, align_residues, max_candidates):
    """Best alignment of every read of a batch in one database.

    Candidates: the ``max_proteins`` sequences with most votes, and those tied
    with the last of them (up to ``max_tied`` in all): paralogs that share a
    short read's seeds all get aligned.  A short read gets more: up to
    ``align_residues // L`` (at most ``max_candidates``), and four times as
    many tied, since its seeds' votes hardly tell its protein from one with a
    repeat of its letters (:func:`_candidates`).

    Returns the scores (float64, -inf when no candidate), an int64 array of
    :data:`COUNT_COLUMNS` per read, and the runner-up score: the best score of
    another candidate whose residues under the alignment differ from the
    winner's (-inf when none; identical copies do not count).  Counts are
    left at -1 for reads whose best score is not above ``floor`` (the targets'
    best, when searching the decoys: such a decoy never wins the read).
    ``start_ok``: where a read may start (:func:`_can_start`; empty: anywhere).
    """
    n = len(lengths)
    scores = np.full(n, -np.inf)
    runner = np.full(n, -np.inf)
    counts = np.full((n, len(COUNT_COLUMNS)), -1, np.int64)
    offset = (lengths.max() if n else 0) + 1  # diagonals are >= -read length
    empty = np.zeros((0, 0), np.bool_)
    eres, eskip = np.exp(res), np.exp(skip)
    log_stay = np.log1p(-np.exp(log_pf))
    chunk = 64  # reads per task: the per-sequence work arrays of _top_proteins are allocated once per task
    for task in prange((n + chunk - 1) // chunk):
        slot = np.zeros(len(db_starts), np.int32)
        for r in range(task * chunk, min(n, (task + 1) * chunk)):
            _search_read(r, flat, offsets, lengths, drift, expected, k, keys, bounds, tab_starts, tab_seq, db_starts,
                         db_lengths, residues, res, skip, lut, budget, seed_span, shifts, bin_, max_proteins, max_tied,
                         slack, log_false, log_pf, mix0, floor, min_vote_fraction, prune, runner_window, offset, empty,
                         eres, eskip, log_stay, slot, scores, counts, runner, start_ok, align_residues, max_candidates)
    return scores, counts, runner


@njit(cache=True, nogil=True)
def _search_read(r, flat, offsets, lengths, drift, expected, k, keys, bounds, tab_starts, tab_seq, db_starts, db_lengths,
                 residues, res, skip, lut, budget, seed_span, shifts, bin_, max_proteins, max_tied, slack, log_false,
                 log_pf, mix0, floor, min_vote_fraction, prune, runner_window, offset, empty, eres, eskip, log_stay,
                 slot, scores, counts, runner, start_ok, align_residues, max_candidates):
    """Read ``r`` of :func:`search_batch`: its outputs written in place."""
    L = lengths[r]
    max_proteins, max_tied = _candidates(L, max_proteins, max_tied, align_residues, max_candidates)
    o = flat[offsets[r]: offsets[r] + L]
    hseq, hdiag = _seed_hits(o, L, k, keys, bounds, tab_starts, tab_seq, db_starts, budget, seed_span, shifts,
                             offset, log_false, log_pf, start_ok, drift[r])
    cs, cv, chi, clo = _top_proteins(hseq, hdiag, offset, drift[r], bin_, max_tied, slot)
    least = np.sort(cv)[::-1][min(max_proteins, max_tied) - 1]  # votes of the last of the top max_proteins
    c_sc = np.full(max_tied, -np.inf)
    c_lo = np.zeros(max_tied, np.int64)  # reference stretch under the alignment
    c_hi = np.zeros(max_tied, np.int64)
    top = -1
    w = L + drift[r] + 2 * slack + 2  # work arrays of _forward_score, for the widest band of this read
    seg = np.empty(w, np.int64)
    col = np.empty((res.shape[0], w), np.float64)
    V = np.empty(w, np.float64)
    W = np.empty(w, np.float64)
    st = np.empty(w, np.int64)
    su = np.empty(w, np.int64)
    keep = max(least, np.int64(np.ceil(min_vote_fraction * cv.max())))
    suffix = np.zeros(L + 1, np.float64)  # what positions i.. can add at most (see _forward_score)
    suffix0 = np.zeros(L + 1, np.float64)
    for i in range(L - 1, -1, -1):
        oi = o[i]
        suffix[i] = suffix[i + 1] + np.log(eres[oi].max() + eskip[oi])
        suffix0[i] = suffix0[i + 1] + res[oi].max() - log_stay
    # most voted first, so that the likely winner sets the bar the others are cut short at
    for c in np.argsort(-cv, kind="mergesort"):
        if cs[c] < 0 or cv[c] < keep:
            continue
        span = min(chi[c] - clo[c] + expected[r], drift[r]) + 2 * slack
        p0 = db_starts[cs[c]]
        p1 = p0 + db_lengths[cs[c]]
        first = p0 + chi[c] + slack
        # decoys: a score not above the targets' best (floor) or this read's best decoy is of no use;
        # targets: one more than runner_window below the best so far can be neither winner nor close runner-up
        bar = max(floor[r], scores[r]) if prune else scores[r] - runner_window
        sc, d, d0 = _forward_score(o, L, p0, p1, first, span, span + 1, residues, eres, eskip, seg, col, V, W,
                                   st, su, res, log_stay, mix0, bar, suffix, suffix0, start_ok)
        c_sc[c] = sc
        c_lo[c] = min(max(first - d0, p0), p1)
        c_hi[c] = max(min(first - d0 + L - (d - d0), p1), c_lo[c])
        if sc > scores[r]:
            top = c
            scores[r] = sc
    if top >= 0 and scores[r] > floor[r]:  # the winner's counts along its path (if it can win the read)
        c = top
        span = min(chi[c] - clo[c] + expected[r], drift[r]) + 2 * slack
        p0 = db_starts[cs[c]]
        _, d, d0, nl, nw, nk, nm = _align(o, L, p0, p0 + db_lengths[cs[c]], p0 + chi[c] + slack, span, span + 1,
                                          residues, res, skip, lut, k, slack, empty, start_ok)
        counts[r, 0], counts[r, 1], counts[r, 2], counts[r, 3] = cs[c], chi[c] + slack - d0, chi[c], clo[c]
        counts[r, 4], counts[r, 5], counts[r, 6], counts[r, 7] = nl, nw, nk, nm
    for c in range(max_tied):
        if c == top or c_sc[c] == -np.inf or c_sc[c] <= runner[r]:
            continue
        same = c_hi[c] - c_lo[c] == c_hi[top] - c_lo[top]
        t = 0
        while same and t < c_hi[c] - c_lo[c]:
            same = residues[c_lo[c] + t] == residues[c_lo[top] + t]
            t += 1
        if not same:
            runner[r] = c_sc[c]


@njit(cache=True, parallel=True)
def trace_batch(flat, offsets, lengths, seq, hi, lo, drift, expected, k, db_starts, db_lengths, residues, res, skip, lut,
                slack, start_ok):
    """Start and failed cycles (a boolean per read position, concatenated like ``flat``) of given alignments."""
    n = len(lengths)
    starts = np.zeros(n, np.int64)
    skipped = np.zeros(len(flat), np.bool_)
    for r in prange(n):
        L = lengths[r]
        o = flat[offsets[r]: offsets[r] + L]
        span = min(hi[r] - lo[r] + expected[r], drift[r]) + 2 * slack
        p0 = db_starts[seq[r]]
        choice = np.zeros((L, span + 1), np.bool_)
        _, d, d0, _, _, _, _ = _align(o, L, p0, p0 + db_lengths[seq[r]], p0 + hi[r] + slack, span,
                                      span + 1, residues, res, skip, lut, k, slack, choice, start_ok)
        starts[r] = hi[r] + slack - d0
        for i in range(L - 1, -1, -1):
            if choice[i, d]:
                skipped[offsets[r] + i] = True
                d -= 1
    return starts, skipped
