"""Compiled (numba) kernel of :class:`protlm.pairing.pmi.BlockScorer`: summed-PMI scores inside species blocks.

Imported when a scorer first runs (numba compiles on first use and caches the
machine code beside this file, or under ``$NUMBA_CACHE_DIR``); blocks run in
parallel (``prange``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def score_blocks(pmi, li, ri, lrows, rrows, loff, roff, ooff, out):
    """Scores of block ``b``'s candidates, row-major, into ``out[ooff[b]:ooff[b + 1]]``.

    ``pmi`` (left states x right states, float32); ``li``/``ri`` state index of
    each residue (-1: gap); block ``b`` pairs left rows
    ``lrows[loff[b]:loff[b + 1]]`` with right rows ``rrows[roff[b]:roff[b + 1]]``.
    """
    n_right_states = pmi.shape[1]
    for b in prange(len(loff) - 1):
        ml = loff[b + 1] - loff[b]
        mr = roff[b + 1] - roff[b]
        rows = np.zeros((ml, n_right_states), np.float32)  # each left row's PMI rows, summed
        for x in range(ml):
            lrow = lrows[loff[b] + x]
            for i in range(li.shape[1]):
                s = li[lrow, i]
                if s >= 0:
                    for t in range(n_right_states):
                        rows[x, t] += pmi[s, t]
        for x in range(ml):
            for y in range(mr):
                rrow = rrows[roff[b] + y]
                acc = np.float32(0.0)
                for j in range(ri.shape[1]):
                    s = ri[rrow, j]
                    if s >= 0:
                        acc += rows[x, s]
                out[ooff[b] + x * mr + y] = acc
