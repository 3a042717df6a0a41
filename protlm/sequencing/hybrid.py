"""Reference-guided prediction: the residues of reference hits as evidence next to the model.

For a read with hits ``j`` (posterior ``w_j``, identity ``pi_j``, reference
residue ``r_j`` at a position), the hits are evidence about the true residue
``a`` at each ``X``.  If hit ``j`` is the read's source, its residue is a
copy of ``a`` with probability ``pi_j`` and otherwise a residue drawn from the
background ``q``; if no hit is the source (probability ``w_0 = 1 - sum w_j``),
the hits say nothing about ``a``.  The likelihood of the hits, divided by
its value under "unrelated", is the per-position factor

    f(a) = 1 + sum_j w_j pi_j (delta(a, r_j) / q(r_j) - 1)

which multiplies the model's constrained distribution (the ``prior`` of
:func:`~protlm.sequencing.predictor.predict_reads`):

    P(a | read, hits) proportional to P_model(a | context) x P(X | a) x f(a).

A read with a confident, identical hit is therefore reconstructed from it (a
factor of ~2,000 for the reference residue at ``w pi = 0.99``), weak or
distant hits shift the model's distribution, and without hits ``f = 1``: the
model alone.  :func:`attribute_sources` then tells, per position, how much of
the final probability came from copying a reference residue.

With decoys in the index, :func:`guide_reads` first *identifies* the reads
(:func:`~protlm.sequencing.identify.identify_reads`): a read identified at
``q <= fdr`` takes the residues of its identified protein along the
alignment (failed Edman cycles left to the model), with weight
``w = 1 - q`` and identity ``1 - IDENTIFICATION_EPS`` in the factor above;
only the other reads are searched for homologous hits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from protlm.sequencing.identify import DEFAULT_FDR, IDENTIFICATION_EPS, Identifications
from protlm.sequencing.index import ReferenceIndex
from protlm.sequencing.reference import ReferenceHits

__all__ = ["ReferencePrior", "ReferenceGuide", "reference_prior", "identification_prior", "attribute_sources",
           "guide_reads", "SOURCES"]

#: Labels of :func:`attribute_sources`.
SOURCES = ("observed", "reference", "hybrid", "model")


@dataclass(frozen=True, eq=False)
class ReferencePrior:
    """Per-read evidence from reference hits, aligned with the reads.

    Attributes
    ----------
    ids : tuple of str
    factors : tuple of (numpy.ndarray or None)
        ``(length, 20)`` factor ``f(a)`` per read, ``None`` for a read without
        hits; pass as ``prior=`` to
        :func:`~protlm.sequencing.predictor.predict_reads`.
    copy : tuple of (numpy.ndarray or None)
        ``(length, 20)`` part of ``f`` that comes from copying a reference
        residue, ``sum_j w_j pi_j delta(a, r_j) / q(r_j)``.
    """

    ids: tuple
    factors: tuple
    copy: tuple

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        n_hit = sum(f is not None for f in self.factors)
        return f"ReferencePrior({len(self)} reads, {n_hit} with reference evidence)"


def _read_pairs(reads):
    for r in reads:
        if isinstance(r, tuple):
            yield r[0], r[1]
        else:
            yield r.id, getattr(r, "read", None) or r.sequence


def reference_prior(reads, hits: ReferenceHits, index: ReferenceIndex) -> ReferencePrior:
    """Per-position factors ``f(a)`` for each read from its reference hits.

    Parameters
    ----------
    reads : sequence
        The reads searched (``PartialRead``, ``(id, read)`` pairs, or records),
        in the order the predictor gets them.
    hits : ReferenceHits
        From :func:`~protlm.sequencing.reference.search_reads`.
    index : ReferenceIndex
        The index searched (for the reference residues and background).

    Returns
    -------
    ReferencePrior

    Examples
    --------
    >>> import io
    >>> from protlm.sequencing.index import build_index
    >>> from protlm.sequencing.reference import search_reads
    >>> idx = build_index(io.StringIO(">p1\\nMAKLCEEYAGKWLMQAACDEKKLPYTRAMC\\n"))
    >>> reads = [("r1", "XXKXCXXYXXKXXMXXXXXXKKXXYXXXMC"), ("r2", "XXXX")]
    >>> prior = reference_prior(reads, search_reads(reads, idx, known="KCYM"), idx)
    >>> "ACDEFGHIKLMNPQRSTVWY"[int(prior.factors[0][1].argmax())], prior.factors[1] is None
    ('A', True)
    """
    q = np.asarray(index.frequencies, dtype=np.float64)
    ids, factors, copies = [], [], []
    for rid, read in _read_pairs(reads):
        ids.append(rid)
        read_hits = hits.by_read(rid)
        if not read_hits:
            factors.append(None)
            copies.append(None)
            continue
        L = len(read)
        copy = np.zeros((L, 20))
        weight = np.zeros(L)  # sum_j w_j pi_j where hit j covers a standard residue
        for h in read_hits:
            s0, n = int(index.starts[h.ref_index]), int(index.lengths[h.ref_index])
            pos = np.arange(L)
            off = h.reference_offsets(L)
            ok = (off >= 0) & (off < n)
            codes = np.full(L, 255, dtype=np.int64)
            codes[ok] = index.residues[s0 + off[ok]]
            ok &= codes < 20
            wp = h.posterior * h.identity
            copy[pos[ok], codes[ok]] += wp / q[codes[ok]]
            weight[ok] += wp
        factors.append((1.0 - weight)[:, None] + copy)
        copies.append(copy)
    return ReferencePrior(ids=tuple(ids), factors=tuple(factors), copy=tuple(copies))


def identification_prior(length: int, identifications: Identifications, i: int, index: ReferenceIndex):
    """Factor ``f`` and copy part ``c`` (``(length, 20)`` each) of read ``i`` from its identified protein.

    Read positions aligned as failed cycles, or beyond the protein, get ``f = 1``.
    Elsewhere, with ``w = (1 - q) (1 - IDENTIFICATION_EPS)`` (``q`` the read's
    q-value) and ``r`` the protein's residue aligned there,
    ``c(a) = w delta(a, r) / q_bg(r)`` and ``f(a) = 1 - w + c(a)``
    (``q_bg`` the index's residue frequencies).

    Parameters
    ----------
    length : int
        Length of the read.
    identifications : Identifications
        From :func:`~protlm.sequencing.identify.identify_reads`.
    i : int
        Index of the read in ``identifications``; it must have an identified
        protein (``identifications.protein[i] >= 0``).
    index : ReferenceIndex
        The index the identifications were made against.

    Returns
    -------
    f, c : numpy.ndarray
        Shape (length, 20) each, float64.

    Examples
    --------
    >>> import io
    >>> from protlm.sequencing.index import build_index
    >>> from protlm.sequencing.identify import identify_reads
    >>> idx = build_index(io.StringIO(">p1\\nMAKLCEEYAGKWLMQAACDEKKLPYTRAMC\\n>p2\\nKAACAYAAAMKKAACAAYAAAMAAACAAKY\\n"))
    >>> ids = identify_reads([("r1", "XXKXCXXYXXKXXMXXXXXXKKXXYXXXMC")] * 120, idx, known="KCYM")
    >>> f, c = identification_prior(30, ids, 0, idx)
    >>> "ACDEFGHIKLMNPQRSTVWY"[int(f[1].argmax())]
    'A'
    """
    q = np.asarray(index.frequencies, dtype=np.float64)
    p = int(identifications.protein[i])
    s0, n = int(index.starts[p]), int(index.lengths[p])
    is_skip = np.zeros(length, dtype=bool)
    is_skip[identifications.skipped.get(i, np.zeros(0, dtype=np.int64))] = True
    off = int(identifications.start[i]) + np.arange(length) - np.cumsum(is_skip)
    ok = ~is_skip & (off >= 0) & (off < n)
    codes = np.full(length, 255, dtype=np.int64)
    codes[ok] = index.residues[s0 + off[ok]]
    ok &= codes < 20
    wp = (1.0 - float(identifications.q_value[i])) * (1.0 - IDENTIFICATION_EPS)
    copy = np.zeros((length, 20))
    rows = np.flatnonzero(ok)
    copy[rows, codes[rows]] = wp / q[codes[rows]]
    return (1.0 - wp * ok)[:, None] + copy, copy


def attribute_sources(probabilities, prior: ReferencePrior, reads, *, offsets=None,
                      reference_share: float = 0.9, model_share: float = 0.1):
    """Where each position's prediction came from, and the reference's share of it.

    With final probabilities ``p(a)`` (model x ``P(X|a)`` x ``f(a)``,
    normalised), the share of the reference-copy component is
    ``R = sum_a p(a) c(a) / f(a)`` (``c`` the copy part of ``f``).

    Parameters
    ----------
    probabilities : numpy.ndarray, shape (total_length, 20)
        Final per-position distributions of all reads, concatenated
        (``Prediction.probabilities``).
    prior : ReferencePrior
        The factors used for the prediction.
    reads : sequence
        The reads, same order (``PartialRead`` or ``(id, read)``).
    offsets : numpy.ndarray, optional
        Row offsets of the reads (default: cumulative read lengths).
    reference_share, model_share : float
        ``R >= reference_share`` is labelled ``reference``, ``R < model_share``
        ``model``, in between ``hybrid``; read letters are ``observed``.

    Returns
    -------
    labels : numpy.ndarray of str, shape (total_length,)
    share : numpy.ndarray of float, shape (total_length,)
        ``R`` (NaN at read letters).

    Examples
    --------
    One read, three unknown positions: no reference residue, a hit of
    weight x identity 0.99 and one of 0.3 (residue A, background 0.05), under
    a uniform model:

    >>> import numpy as np
    >>> c = np.zeros((3, 20)); c[1, 0] = 0.99 / 0.05; c[2, 0] = 0.3 / 0.05
    >>> f = np.array([1.0, 0.01, 0.7])[:, None] + c
    >>> p = f / f.sum(axis=1, keepdims=True)
    >>> labels, share = attribute_sources(p, ReferencePrior(("r",), (f,), (c,)), [("r", "XXX")])
    >>> labels.tolist(), share.round(2).tolist()
    (['model', 'reference', 'hybrid'], [0.0, 0.99, 0.3])
    """
    probs = np.asarray(probabilities, dtype=np.float64)
    pairs = list(_read_pairs(reads))
    if len(pairs) != len(prior):
        raise ValueError(f"{len(pairs)} reads but a prior for {len(prior)}")
    if offsets is None:
        offsets = np.concatenate([[0], np.cumsum([len(r) for _, r in pairs])])
    share = np.zeros(len(probs))
    for i, (_, read) in enumerate(pairs):
        f, c = prior.factors[i], prior.copy[i]
        if f is None:
            continue
        rows = slice(int(offsets[i]), int(offsets[i + 1]))
        share[rows] = np.sum(probs[rows] * c / f, axis=1)
    observed = np.frombuffer("".join(r for _, r in pairs).encode("ascii"), dtype=np.uint8) != ord("X")
    labels = np.where(share >= reference_share, "reference", np.where(share < model_share, "model", "hybrid"))
    labels = np.where(observed, "observed", labels).astype(object)
    share = np.where(observed, np.nan, share)
    return labels, share


@dataclass(frozen=True, eq=False)
class ReferenceGuide:
    """Everything ``protlm sequence --reference`` needs: the index, the hits and the factors.

    Attributes
    ----------
    index : ReferenceIndex
    hits : ReferenceHits
    prior : ReferencePrior
        Pass ``prior.factors`` as ``prior=`` to
        :func:`~protlm.sequencing.predictor.predict_reads`.
    index_seconds : float
        Time to load (or build) the index.
    identifications : Identifications or None
        The target-decoy identification of every read (None when the index
        has no decoys or identification was turned off); reads identified at
        its FDR were reconstructed from their protein, ``hits`` holds the
        others'.
    """

    index: ReferenceIndex
    hits: ReferenceHits
    prior: ReferencePrior
    index_seconds: float
    identifications: Identifications | None = None

    def identified(self) -> np.ndarray:
        """Per read: identified at the identification's FDR (all False without identification)."""
        if self.identifications is None:
            return np.zeros(len(self.prior), dtype=bool)
        return self.identifications.identified()

    def __repr__(self) -> str:
        return f"ReferenceGuide({self.index!r}, {self.hits!r})"

    def positions_dataframe(self, prediction, reads):
        """The prediction's per-position table plus ``source`` and ``reference_share`` columns."""
        df = prediction.to_dataframe()
        labels, share = attribute_sources(prediction.probabilities, self.prior, reads, offsets=prediction.offsets)
        df["source"] = labels
        df["reference_share"] = np.round(share, 4)
        df["identified"] = np.repeat(self.identified().astype(int), np.diff(prediction.offsets))
        return df

    def write(self, prediction, reads, outdir) -> dict:
        """Write ``hits.tsv``, ``identifications.tsv`` and ``positions.tsv`` (with sources) into ``outdir``; return a summary."""
        from pathlib import Path

        from protlm.io.atomic import atomic_write

        outdir = Path(outdir)
        self.hits.write(outdir / "hits.tsv")
        if self.identifications is not None:
            self.identifications.write(outdir / "identifications.tsv")
        df = self.positions_dataframe(prediction, reads)
        with atomic_write(outdir / "positions.tsv") as fh:
            df.to_csv(fh, sep="\t", index=False, float_format="%.4g")
        counts = df["source"].value_counts()
        by_group = {name: {s: int(v) for s, v in df.loc[df["identified"] == flag, "source"].value_counts().items()}
                    for name, flag in (("identified", 1), ("unidentified", 0))}
        return {
            "identification": None if self.identifications is None else self.identifications.summary(),
            "positions_by_source_and_identification": by_group,
            "reference": self.index.source,
            "reference_sequences": self.index.n_sequences,
            "index_seconds": round(self.index_seconds, 3),
            **self.hits.summary(),
            "positions_by_source": {s: int(counts.get(s, 0)) for s in SOURCES},
        }


def guide_reads(reads, reference, *, known: str, efficiency: float = 1.0, index=None, max_hits: int = 5,
                max_evalue: float = 10.0, cache: bool = True, identify: bool = True, errors=None,
                fdr: float = DEFAULT_FDR, digest: str | None = None, callback=None, scores=None) -> ReferenceGuide:
    """Index (or load) ``reference``, search the reads in it and turn the hits into factors.

    Parameters
    ----------
    reads : sequence
        ``PartialRead`` objects or ``(id, read)`` pairs.
    reference : str or os.PathLike
        FASTA (plain/gzip) or an index file from ``protlm index``.
    known, efficiency
        As for the predictor.
    index : str or os.PathLike, optional
        Index file built from ``reference``.
    max_hits, max_evalue
        See :func:`~protlm.sequencing.reference.search_reads`.
    cache : bool
        Use and write the index cache (:func:`~protlm.sequencing.index.open_reference`).
    identify : bool
        Identify the reads first (target-decoy, needs decoys in the index):
        reads identified at ``q <= fdr`` are reconstructed from their protein.
    errors : ErrorModel, optional
        Error rates the identification allows for (default: Whatprot's).
    fdr : float
        FDR at which reads count as identified.
    digest : str, optional
        The protease that made the reads' peptides: the identification places
        them only where its peptides start (see
        :func:`~protlm.sequencing.identify.identify_reads`).
    callback : callable, optional
        Progress of the search, ``callback(reads_done, None)``.
    scores : ReadScores, optional
        The identification search already done in chunks (see
        :mod:`protlm.sequencing.chunks`); the q-values are computed over them.

    Returns
    -------
    ReferenceGuide

    Examples
    --------
    >>> import os, tempfile
    >>> ref = os.path.join(tempfile.mkdtemp(), "ref.fasta")
    >>> _ = open(ref, "w").write(">p1\\nMAKLCEEYAGKWLMQAACDEKKLPYTRAMC\\n")
    >>> guide = guide_reads([("r1", "XXKXCXXYXXKXXMXXXXXXKKXXYXXXMC")], ref, known="KCYM", cache=False)
    >>> guide.hits.by_read("r1")[0].ref_id, guide.prior.factors[0].shape
    ('p1', (30, 20))
    """
    import time

    from protlm.sequencing.index import open_reference
    from protlm.sequencing.reference import search_reads

    from protlm.sequencing.identify import identify_reads

    reads = list(reads)
    t0 = time.perf_counter()
    idx = open_reference(reference, index=index, cache=cache)
    t_index = time.perf_counter() - t0
    ident = None
    if identify and idx.decoy_residues is not None:
        ident = identify_reads(reads, idx, known=known, efficiency=efficiency, errors=errors, fdr=fdr, digest=digest,
                              scores=scores)
    done = ident.identified() if ident is not None else np.zeros(len(reads), dtype=bool)
    rest = [r for r, d in zip(reads, done) if not d]
    hits = search_reads(rest, idx, known=known, efficiency=efficiency, max_hits=max_hits,
                        max_evalue=max_evalue, callback=callback)
    hybrid = reference_prior(rest, hits, idx)
    factors, copies, j = [], [], 0
    for i, (rid, read) in enumerate(_read_pairs(reads)):
        if done[i]:
            f, c = identification_prior(len(read), ident, i, idx)
        else:
            f, c = hybrid.factors[j], hybrid.copy[j]
            j += 1
        factors.append(f)
        copies.append(c)
    prior = ReferencePrior(ids=tuple(rid for rid, _ in _read_pairs(reads)), factors=tuple(factors), copy=tuple(copies))
    return ReferenceGuide(index=idx, hits=hits, prior=prior, index_seconds=t_index, identifications=ident)
