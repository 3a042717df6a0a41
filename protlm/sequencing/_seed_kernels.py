"""Compiled (numba) seed kernels of :mod:`protlm.sequencing.identify`: a read's seed hits and their diagonal votes.

:func:`_seed_hits` looks a read's seeds up in the seed table
(:mod:`protlm.sequencing.seeds`), rarest and likeliest first; :func:`_top_proteins`
counts the hits per sequence and keeps the most voted sequences, each with the
band of diagonals to align (:mod:`protlm.sequencing._identify_kernels` aligns them).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _seed_hits(o, L, k, keys, bounds, tab_starts, tab_seq, db_starts, budget, span, shifts, offset, log_false, log_pf,
               start_ok, max_drift):
    """Sequence and diagonal (plus ``offset``) of the hits of a read's seeds, likeliest per hit first, up to ``budget``.

    A seed is one reading of three read letters: consecutive or skipping one
    (a false detection), each spacing as read or shorter by a shift (failed
    Edman cycles).  Seeds are taken in increasing order of hits over prior
    odds of their reading (``log_false``: log odds that a read letter is a
    false detection; ``log_pf``: log Edman failure rate; a shift of ``s`` at
    reference spacing ``d`` has probability ``C(d + s - 1, s) pf^s (1 - pf)^d``):
    rarest first among equally likely readings, a reading with a skipped
    letter or a shift only when its hits are as few as its odds are low.

    ``bounds`` (from :meth:`protlm.sequencing.seeds._Seeds.key_bounds`): ``keys[bounds[x]:bounds[x + 1]]`` are
    the entries of key ``x``, two reads per seed instead of two binary searches over the table (cache misses
    dominated); empty: binary searches.  ``tab_seq``: the sequence of each table entry
    (:meth:`protlm.sequencing.seeds._Seeds.entry_sequences`).  The hits come in seed order, unsorted.
    ``start_ok`` (non-empty with a digest): a hit is kept only if the read can start where a peptide does,
    at most ``max_drift`` failed cycles (and no more than the seed's read position) before the seed, so
    that the votes go to the windows a digest allows.
    """
    m = 0
    for i in range(L):
        if o[i] < k:
            m += 1
    lp = np.empty(m, np.int64)
    ol = np.empty(m, np.int64)
    j = 0
    for i in range(L):
        if o[i] < k:
            lp[j] = i
            ol[j] = o[i]
            j += 1
    ns = len(shifts)
    log_stay = np.log1p(-np.exp(log_pf))
    cap = 4 * ns * ns * max(m, 1)
    skey = np.empty(cap, np.int64)
    sq = np.empty(cap, np.int64)
    lw = np.empty(cap, np.float64)  # log prior odds of the seed's reading
    n = 0
    # consecutive letters or skipping one (a false detection); each spacing as read, or shorter by a shift
    # (failed Edman cycles between the two letters)
    for t1 in range(1, 3):
        for t2 in range(1, 3):
            for u in range(ns):
                for v in range(ns):
                    for a in range(m - t1 - t2):
                        b = a + t1
                        c = b + t2
                        d1 = lp[b] - lp[a] - shifts[u]
                        d2 = lp[c] - lp[b] - shifts[v]
                        if d1 > 0 and d2 > 0 and d1 < span and d2 < span:
                            skey[n] = (((ol[a] * k + ol[b]) * k + ol[c]) * span + d1) * span + d2
                            sq[n] = lp[a]
                            w = (t1 - 1 + t2 - 1) * log_false
                            for dd, sh in ((d1, shifts[u]), (d2, shifts[v])):
                                w += dd * log_stay  # no failure in the spacing's cycles but the shift's
                                for t in range(sh):  # log C(d + s - 1, s) + s log pf
                                    w += np.log((dd + t) / (t + 1.0)) + log_pf
                            lw[n] = w
                            n += 1
    if len(bounds):
        lo = np.empty(n, np.int64)
        hi = np.empty(n, np.int64)
        for jj in range(n):
            lo[jj] = bounds[skey[jj]]
            hi[jj] = bounds[skey[jj] + 1]
    else:
        lo = np.searchsorted(keys, skey[:n].astype(keys.dtype))
        hi = np.searchsorted(keys, skey[:n].astype(keys.dtype), side="right")
    cnt = hi - lo
    prio = np.empty(n, np.float64)
    for jj in range(n):
        prio[jj] = np.log(max(cnt[jj], 1)) - lw[jj]
    order = np.argsort(prio, kind="mergesort")
    total = 0
    last = 0
    for jj in range(n):
        c = cnt[order[jj]]
        if c == 0:
            continue
        if total + c > budget and total > 0:
            break
        total += c
        last = jj + 1
    # the diagonal (plus offset, >= 0) is sheared by the failed cycles expected before the seed's read
    # position, so a read's seeds stay on one diagonal (give or take the spread of the failures) however long
    pf = np.exp(log_pf)
    shear = np.empty(L, np.int64)
    for i in range(L):
        shear[i] = np.int64(i * pf / (1.0 - pf) + 0.5)
    hseq = np.empty(total, np.int64)
    hdiag = np.empty(total, np.int64)
    h = 0
    for jj in range(last):
        s = order[jj]
        base = offset + shear[sq[s]] - sq[s]
        before = min(sq[s], max_drift)  # failed cycles that can precede the seed's first letter
        for t in range(lo[s], hi[s]):
            q = tab_seq[t]
            if len(start_ok):  # a digest: the read must start where one of its peptides does
                g0 = np.int64(tab_starts[t]) - sq[s]
                ok = False
                for g in range(max(g0, db_starts[q]), g0 + before + 1):
                    if start_ok[g]:
                        ok = True
                        break
                if not ok:
                    continue
            hseq[h] = q
            hdiag[h] = np.int64(tab_starts[t]) - db_starts[q] + base
            h += 1
    return hseq[:h], hdiag[:h]


@njit(cache=True, nogil=True)
def _band(d, max_drift, bin_):
    """Votes of the best window of ``bin_`` diagonals among sorted diagonals ``d``, and the diagonals to cover."""
    g1 = len(d)
    best, best_left, right = 0, d[0], 0
    for left in range(g1):  # best window [d, d + bin_) by a two-pointer sweep
        while right < g1 and d[right] < d[left] + bin_:
            right += 1
        if right - left > best:
            best, best_left = right - left, d[left]
    centre = best_left + bin_ // 2
    # diagonals near the band voted for twice or more (ascending)
    near = np.empty(g1, np.int64)
    m = 0
    t = 0
    while t < g1:
        t2 = t
        while t2 < g1 and d[t2] == d[t]:
            t2 += 1
        if t2 - t >= 2 and abs(d[t] - centre) <= max_drift + bin_ // 2:
            near[m] = d[t]
            m += 1
        t = t2
    # the band: those in the best window, then outwards while no gap exceeds half a window (a read's
    # diagonal drifts by one per failed cycle; an isolated pair of votes elsewhere is chance or a repeat)
    hi, lo = -(1 << 62), 1 << 62
    for t in range(m):
        if near[t] >= best_left and near[t] < best_left + bin_:
            hi = max(hi, near[t])
            lo = min(lo, near[t])
    if hi < lo:
        hi, lo = centre + bin_ // 2, centre - bin_ // 2
    for t in range(m):
        if near[t] > hi and near[t] - hi <= bin_ // 2:
            hi = near[t]
    for t in range(m - 1, -1, -1):
        if near[t] < lo and lo - near[t] <= bin_ // 2:
            lo = near[t]
    # a read starts inside the protein (diagonal >= 0): early failed cycles put its seeds below that
    hi = max(hi, 0)
    lo = min(lo, hi)
    return best, hi, lo


@njit(cache=True, nogil=True)
def _top_proteins(hseq, hdiag, offset, max_drift, bin_, max_proteins, slot):
    """The ``max_proteins`` sequences with most votes in a band of ``bin_`` diagonals, with the diagonals to cover.

    Sequences are visited by decreasing hits, then in the order their first hit came (``hseq`` is in seed
    order, rarest seeds first), and one replaces the last of the top only with more votes: ties go to
    more hits, then to the rarer seeds (a short read's many one-vote sequences are not all aligned, and
    those kept are the ones its most specific seeds hit).  ``hseq``, ``hdiag``: the hits of
    :func:`_seed_hits`; ``slot``: a zeroed int32 work array of one entry per sequence, left zeroed.  Hits
    are counted per sequence and bucketed by it (no sort of all hits: most of a short read's hits are
    single chance hits on as many sequences); the visit stops at the first sequence with no more hits than
    the votes of the last of the top (its votes are at most its hits), and only the diagonals of the
    sequences visited are sorted.
    """
    out_seq = np.full(max_proteins, -1, np.int64)
    out_votes = np.full(max_proteins, -1, np.int64)
    out_hi = np.zeros(max_proteins, np.int64)
    out_lo = np.zeros(max_proteins, np.int64)
    n = len(hseq)
    if n == 0:
        return out_seq, out_votes, out_hi, out_lo
    distinct = np.empty(n, np.int64)
    hits = np.empty(n, np.int64)  # per distinct sequence
    where = np.empty(n, np.int64)  # per hit: its sequence's place in distinct
    nd = 0
    for t in range(n):  # one random access per hit (the work array), the rest sequential
        q = hseq[t]
        i = slot[q] - 1
        if i < 0:
            i = nd
            slot[q] = nd + 1
            distinct[nd] = q
            hits[nd] = 0
            nd += 1
        hits[i] += 1
        where[t] = i
    most = 0
    for i in range(nd):
        slot[distinct[i]] = 0
        most = max(most, hits[i])
    # bucket the hits by sequence (in the order sequences first appear)
    start = np.empty(nd + 1, np.int64)
    start[0] = 0
    for i in range(nd):
        start[i + 1] = start[i] + hits[i]
    fill = start[:nd].copy()
    diag = np.empty(n, np.int64)
    for t in range(n):
        i = where[t]
        diag[fill[i]] = hdiag[t] - offset
        fill[i] += 1
    # sequences by decreasing hits (a counting sort)
    by = np.zeros(most + 2, np.int64)
    for i in range(nd):
        by[most - hits[i] + 1] += 1
    for c in range(most + 1):
        by[c + 1] += by[c]
    order = np.empty(nd, np.int64)
    for i in range(nd):
        b = most - hits[i]
        order[by[b]] = i
        by[b] += 1
    worst = 0  # the slot to replace: fewest votes, then the latest filled (empty slots: -1 votes)
    rank = np.full(max_proteins, -1, np.int64)
    for j in range(nd):
        i = order[j]
        q = distinct[i]
        c = hits[i]
        if c <= out_votes[worst]:  # this and every later one has no more hits than the votes to beat
            break
        if c == 1:  # one hit: one vote; the read starts at its diagonal plus the failed cycles before it
            # (at most max_drift): the band goes no further up, or the aligned band, capped at max_drift
            # diagonals below its top, would miss the diagonal itself
            best, hi = 1, diag[start[i]] + min(2 * (bin_ // 2), max_drift)
            hi, lo = max(hi, 0), min(diag[start[i]], max(hi, 0))
        else:
            seg = diag[start[i]: start[i + 1]]
            for a in range(1, c):  # insertion sort: a sequence holds few hits
                x = seg[a]
                b = a - 1
                while b >= 0 and seg[b] > x:
                    seg[b + 1] = seg[b]
                    b -= 1
                seg[b + 1] = x
            best, hi, lo = _band(seg, max_drift, bin_)
        if best > out_votes[worst]:
            out_seq[worst], out_votes[worst], out_hi[worst], out_lo[worst], rank[worst] = q, best, hi, lo, j
            worst = 0
            for t in range(1, max_proteins):
                if out_votes[t] < out_votes[worst] or (out_votes[t] == out_votes[worst] and rank[t] > rank[worst]):
                    worst = t
    return out_seq, out_votes, out_hi, out_lo
