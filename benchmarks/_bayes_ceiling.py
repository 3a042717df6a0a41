"""The Bayes ceiling of identification at 1 % FDR: what exact posteriors allow on error-free reads (issue 19).

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


def read_peps(reads, index, known, *, efficiency, digest=None):
    """Posterior error probability of each read's best protein, and that protein (-1 for none).

    A read without a letter, or that no window explains, has PEP 1 and protein -1.

    Parameters
    ----------
    reads : list of str
        Reads over ``known`` letters and ``X`` (no Edman failures or false detections).
    index : ReferenceIndex
    known : str
    efficiency : float
        Detection efficiency ``e`` (below 1).
    digest : str, optional
        Only windows where a peptide of this protease starts
        (:func:`~protlm.sequencing.digest.start_mask`).

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

    kernel = _kernel()
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
        ll = kernel(codes, letters, np.flatnonzero(codes < 0), starts, lab, end_of, log_e, log_miss)
        hit = np.flatnonzero(np.isfinite(ll))
        if len(hit) == 0:
            continue
        s = starts[hit]
        n = len(read)
        with np.errstate(over="ignore"):  # same scaled hash for the same residues at any offset
            h = (prefix[s + n] - prefix[s]) * powers[::-1][s]
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
