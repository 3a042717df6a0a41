"""The Bayes ceiling of identification at 1 % FDR: what exact posteriors allow on simulated reads (issue 19).

The oracle ceiling of ``identification.py`` counts the reads whose error-free label pattern occurs only over
their own residues.  It ignores two things that any identification at a false discovery rate must face: the
read shows each known-type residue only with probability ``e`` (a missed letter lets other windows explain it),
and a pattern that occurs once in the reference does not make its one window certain.  This module computes,
for reads without Edman failures or false detections, the best that can be done with them *at a false discovery
rate*:

* every window of the read's length (where a peptide of ``digest`` starts, or anywhere), uniform prior, gets
  its exact likelihood: a known-type residue is shown as its letter with probability ``e`` and as nothing with
  ``1 - e``; any other residue is shown as nothing; a letter over anything else is impossible;
* windows with the same residues count once, for every protein that holds them (a read of a shared peptide is
  right for each);
* each read goes to the protein of largest posterior, and its posterior error probability (PEP) is one minus
  that protein's posterior;
* the reads are taken by increasing PEP while their mean PEP (the expected false discovery proportion) is at
  most the FDR.

With an :class:`~protlm.sequencing.error_model.ErrorModel` (``read_peps(..., errors=)``), each window's
likelihood is that of the simulator's process (:meth:`ErrorModel.apply`), summed over its paths by the forward
algorithm: before each residue's cycle, failed cycles (probability ``edman_failure`` each) that show nothing;
a position that shows nothing shows a random known letter with probability ``false_detection``; the read ends
with a residue's cycle.  Windows are cut short when a bound on their likelihood (every letter explained by a
residue of its type within the read's failed cycles, else a false detection) is :data:`PRUNE_NATS` below the
read's best window, and so are windows whose likelihood is: their mass is negligible (checked against no
pruning in the tests; on 300 validation reads of each known set, the PEPs summed over the reads moved by at most
4e-4 from 30 nats to 20, and the same reads were identified).

This is the closed world (every read comes from the reference), which tells the oracle more than a
target-decoy search is told, so the count is an upper bound on what identification at that FDR can reach on
these reads in expectation.  Reads with no letter are counted as not identifiable (their PEP is set to 1
without the search over windows: every window of their length with no known-type residue explains them).
"""

from __future__ import annotations

import numpy as np


def _kernel():
    import numba

    @numba.njit
    def window_loglik(read, letters, blanks, starts, lab, end_of, log_e, log_miss):
        """Log-likelihood of ``read`` (label codes, -1 blank) over each start; -inf where impossible."""
        n = len(read)
        out = np.full(len(starts), -np.inf)
        for j in range(len(starts)):
            s = starts[j]
            if s + n > end_of[s]:  # the window runs past its sequence's end
                continue
            ok = True
            ll = 0.0
            for i in letters:  # the read's letters first: most windows fail there
                if lab[s + i] != read[i]:
                    ok = False
                    break
                ll += log_e
            if not ok:
                continue
            for i in blanks:
                if lab[s + i] >= 0:
                    ll += log_miss
            out[j] = ll
        return out

    return window_loglik


def prefix_hashes(values):
    """``(powers, prefix)`` of a polynomial hash modulo 2**64: ``powers[i] = B**(i + 1)`` and
    ``prefix[i] = sum(values[j] * powers[j] for j < i)``.  The window ``[s, s + n)`` hashes to
    ``(prefix[s + n] - prefix[s]) * powers[::-1][s]`` (``B**len(values)`` times its hash from offset 0),
    the same for the same values at any offset."""
    with np.errstate(over="ignore"):  # the hashes wrap on purpose
        powers = np.cumprod(np.full(len(values), np.uint64(1_000_003), dtype=np.uint64))
        prefix = np.concatenate([[np.uint64(0)], np.cumsum(np.asarray(values).astype(np.uint64) * powers)])
    return powers, prefix


#: Odd constant that mixes a window's length into its hash (a window cut short by its sequence's end is not
#: its longer namesake: residue code 0 adds nothing to the polynomial hash).
LENGTH_SALT = 0x9E3779B97F4A7C15
#: Windows whose likelihood bound is this many nats below the read's best window are left out (with errors).
PRUNE_NATS = 20.0
#: Failed cycles allowed in a read: the fewest with a binomial tail (more failures) below this.
FAILURE_TAIL = 1e-9


def _error_kernels():
    import numba

    @numba.njit(parallel=True)
    def letter_bounds(codes, letters, starts, lab, end_of, fmax, log_hit, log_false):
        """Upper bound of each start's log-likelihood: a letter is at best explained by a residue of its type at
        most ``fmax`` positions before it (``log_hit``), else it is a false detection (``log_false``)."""
        out = np.empty(len(starts))
        for j in numba.prange(len(starts)):
            s = starts[j]
            ub = 0.0
            for i in letters:
                got = False
                for d in range(min(fmax, i) + 1):
                    p = s + i - d
                    if p < end_of[s] and lab[p] == codes[i]:
                        got = True
                        break
                ub += log_hit if got else log_false
            out[j] = ub
        return out

    @numba.njit(parallel=True)
    def forward(codes, starts, which, lab, end_of, fmax, emit, fail_emit, pf, out):
        """Log-likelihood of the read over each start of ``which`` (into ``out``), summed over its paths.

        State ``d``: failed cycles so far; a residue's cycle at read position ``i`` removes residue ``i - d``.
        ``emit[c + 1, r + 1]``: probability of observation ``c`` (-1: nothing) over a residue of label ``r``
        (-1: not of a known type); ``fail_emit[c + 1]`` over a failed cycle.  The last position is a residue's.
        """
        L = len(codes)
        for t in numba.prange(len(which)):
            j = which[t]
            s = starts[j]
            cur = np.zeros(fmax + 2)
            nxt = np.zeros(fmax + 2)
            cur[0] = 1.0
            for i in range(L):
                c = codes[i] + 1
                nxt[:] = 0.0
                for d in range(min(i, fmax) + 1):
                    v = cur[d]
                    if v == 0.0:
                        continue
                    p = s + i - d
                    if p < end_of[s]:
                        nxt[d] += v * (1.0 - pf) * emit[c, lab[p] + 1]
                    if d < fmax and i < L - 1:
                        nxt[d + 1] += v * pf * fail_emit[c]
                cur, nxt = nxt, cur
            total = cur[: fmax + 1].sum()
            out[j] = np.log(total) if total > 0.0 else -np.inf

    return letter_bounds, forward


def _max_failures(n, pf, tail=FAILURE_TAIL):
    """The fewest failed cycles ``f`` such that more than ``f`` of ``n - 1`` cycles fail with probability < tail."""
    from scipy.stats import binom

    if pf <= 0 or n < 2:
        return 0
    return int(min(n - 1, binom.isf(tail, n - 1, pf) + 1))


def _error_tables(known, efficiency, errors):
    """``(emit, fail_emit)`` of :func:`_error_kernels`'s ``forward``: the simulator's observation probabilities."""
    k = len(known)
    e, f = float(efficiency), float(errors.false_detection)
    emit = np.zeros((k + 1, k + 1))
    emit[0, 0] = 1.0 - f  # nothing over a residue of no known type
    emit[1:, 0] = f / k
    for r in range(k):  # over a residue of known type r
        emit[0, r + 1] = (1.0 - e) * (1.0 - f)
        emit[1:, r + 1] = (1.0 - e) * f / k
        emit[r + 1, r + 1] += e
    return emit, emit[:, 0].copy()


def _error_logliks(codes, starts, lab, end_of, tables, errors, kernels):
    """Log-likelihood of one read over every start under ``errors`` (-inf: impossible or pruned)."""
    letter_bounds, forward = kernels
    emit, fail_emit = tables
    k = emit.shape[0] - 1
    f, pf = float(errors.false_detection), float(errors.edman_failure)
    fmax = _max_failures(len(codes), pf)
    letters = np.flatnonzero(codes >= 0)
    with np.errstate(divide="ignore"):
        ub = letter_bounds(codes, letters, starts, lab, end_of, fmax, np.log(emit[1:].max()), np.log(f / k))
    out = np.full(len(starts), -np.inf)
    # the windows of the highest bounds first: the read's best window sets the bar for the others
    first = np.argpartition(-ub, 63)[:64] if len(ub) > 64 else np.arange(len(ub))
    forward(codes, starts, first, lab, end_of, fmax, emit, fail_emit, pf, out)
    bar = out[first].max() - PRUNE_NATS
    rest = np.flatnonzero(ub >= bar)
    rest = rest[~np.isfinite(out[rest])]  # not done yet (an impossible first window is redone: harmless)
    forward(codes, starts, rest, lab, end_of, fmax, emit, fail_emit, pf, out)
    out[out < out.max() - PRUNE_NATS] = -np.inf  # as negligible as the pruned ones (and not worth aggregating)
    return out


def read_peps(reads, index, known, *, efficiency, digest=None, errors=None):
    """Posterior error probability of each read's best protein, and that protein (-1 for none).

    A read without a letter, or that no window explains, has PEP 1 and protein -1.

    Parameters
    ----------
    reads : list of str
        Reads over ``known`` letters and ``X``.
    index : ReferenceIndex
    known : str
    efficiency : float
        Detection efficiency ``e`` (below 1).
    digest : str, optional
        Only windows where a peptide of this protease starts
        (:func:`~protlm.sequencing.digest.start_mask`).
    errors : ErrorModel, optional
        The reads' Edman failures and false detections (without ``cycles``); None: no errors.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        PEPs (float) and best proteins (index in ``index``).

    Examples
    --------
    >>> import io
    >>> from protlm.sequencing.index import build_index
    >>> idx = build_index(io.StringIO(">a\\nGGKGGCGG\\n>b\\nGGKGGCGG\\n>c\\nAAKAAYAA\\n"), decoys=None)
    >>> peps, best = read_peps(["XXKXXCXX", "XXKXXYXX", "XXXXXXXX"], idx, "KCY", efficiency=0.9)
    >>> [round(float(p), 3) for p in peps], best.tolist()
    ([0.0, 0.0, 1.0], [0, 2, -1])
    """
    from protlm.sequencing.digest import start_mask
    from protlm.sequencing.identify_model import _lut

    with_errors = errors is not None and not errors.is_error_free
    if with_errors and errors.cycles is not None:
        raise ValueError("read_peps models no read-length limit (errors.cycles)")
    kernel = _error_kernels() if with_errors else _kernel()
    tables = _error_tables(known, efficiency, errors) if with_errors else None
    lab = _lut(known)[index.residues]
    position = np.arange(len(index.residues))
    seq_of = index.sequence_of(position)
    end_of = (index.starts + index.lengths)[np.maximum(seq_of, 0)]
    inside = (seq_of >= 0) & (position < end_of)  # not a separator
    if digest is None:
        starts = np.flatnonzero(inside)
    else:
        starts = np.flatnonzero(start_mask(index.residues, index.starts, index.lengths, digest) & inside)
    starts = starts.astype(np.int64)
    powers, prefix = prefix_hashes(index.residues)  # windows with the same residues count once
    log_e, log_miss = float(np.log(efficiency)), float(np.log1p(-efficiency))
    letter_code = {a: j for j, a in enumerate(known)}
    peps = np.ones(len(reads))
    best = np.full(len(reads), -1, dtype=np.int64)
    for r, read in enumerate(reads):
        codes = np.array([letter_code.get(a, -1) for a in read], dtype=np.int64)
        letters = np.flatnonzero(codes >= 0)
        if len(letters) == 0:
            continue
        if with_errors:
            ll = _error_logliks(codes, starts, lab, end_of, tables, errors, kernel)
        else:
            ll = kernel(codes, letters, np.flatnonzero(codes < 0), starts, lab, end_of, log_e, log_miss)
        hit = np.flatnonzero(np.isfinite(ll))
        if len(hit) == 0:
            continue
        s = starts[hit]
        stop = np.minimum(s + len(read), end_of[s])  # with errors a window may end before the read's length
        with np.errstate(over="ignore"):  # same scaled hash for the same residues at any offset
            h = (prefix[stop] - prefix[s]) * powers[::-1][s] + (stop - s).astype(np.uint64) * np.uint64(LENGTH_SALT)
        w = np.exp(ll[hit] - ll[hit].max())
        inv = np.unique(h, return_inverse=True)[1]
        mass = np.bincount(inv, weights=w)  # a string's posterior: all its windows (uniform prior over windows)
        post = mass / mass.sum()
        # each protein: the strings it holds, each once
        pairs = np.unique(np.stack([seq_of[s], inv]), axis=1)
        proteins, where = np.unique(pairs[0], return_inverse=True)
        by_protein = np.bincount(where, weights=post[pairs[1]])
        peps[r] = max(0.0, 1.0 - float(by_protein.max()))
        best[r] = proteins[int(np.argmax(by_protein))]
    return peps, best


def identified_at(peps, fdr=0.01) -> np.ndarray:
    """The reads taken by increasing PEP while their mean PEP is <= ``fdr`` (boolean mask)."""
    peps = np.asarray(peps, dtype=np.float64)
    order = np.argsort(peps, kind="stable")
    mean = np.cumsum(peps[order]) / np.arange(1, len(peps) + 1)
    ok = np.flatnonzero(mean <= fdr)
    take = np.zeros(len(peps), dtype=bool)
    if len(ok):
        take[order[: ok[-1] + 1]] = True
    return take
