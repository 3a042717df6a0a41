"""Scoring predictions against the true full sequences.

``accuracy_masked`` is pooled over every ``X`` whose true residue is one of
the 20 standard ones; ``accuracy_masked_per_read`` is the mean of per-read
masked accuracies (reads with at least one such position); ``accuracy_all``
counts the read letters too.  ``top3_accuracy_masked`` counts an ``X`` as
right when its true residue is among the three most probable (the
``predicted``, ``alt1`` and ``alt2`` columns of ``positions.tsv``), and
``log_loss_masked`` is the mean of ``-ln P(true residue)`` over the ``X``
(nats; lower is better), which rewards probabilities that are right even
where the top residue is not.  Non-standard true letters (U, B, Z, X, ...) are
left out and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from protlm.errors import TruthError
from protlm.models.alphabet import AMINO_ACIDS, encode_residues

__all__ = ["TruthError", "Evaluation", "evaluate_prediction", "read_truth", "read_truth_origins",
           "evaluate_identifications"]


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Accuracy of a :class:`~protlm.sequencing.predictor.Prediction`.

    Attributes
    ----------
    accuracy_masked, accuracy_masked_per_read, accuracy_all : float
    n_masked, n_all, n_reads : int
    n_nonstandard : int
        True letters outside the 20 (not scored).
    per_residue_recall : dict
        Over masked positions: for each true residue, the fraction predicted right.
    confusion : numpy.ndarray (20, 20)
        Counts over masked positions, rows true, columns predicted.
    calibration : dict
        ``bin_lower``, ``bin_upper``, ``confidence`` (mean top probability),
        ``accuracy`` and ``count`` per probability bin, over masked positions.
    top3_accuracy_masked : float
        The true residue among the three most probable, over masked positions.
    log_loss_masked : float
        Mean ``-ln P(true residue)`` over masked positions (nats).
    """

    accuracy_masked: float
    accuracy_masked_per_read: float
    accuracy_all: float
    n_masked: int
    n_all: int
    n_reads: int
    n_nonstandard: int
    per_residue_recall: dict
    confusion: np.ndarray
    calibration: dict = field(default_factory=dict)
    top3_accuracy_masked: float = float("nan")
    log_loss_masked: float = float("nan")

    def __repr__(self) -> str:
        return (f"Evaluation(accuracy_masked={self.accuracy_masked:.4f}, accuracy_masked_per_read="
                f"{self.accuracy_masked_per_read:.4f}, accuracy_all={self.accuracy_all:.4f}, n_masked={self.n_masked})")

    def summary(self) -> dict:
        """JSON-ready fields (for ``report.json``)."""
        return {
            "accuracy_masked": self.accuracy_masked,
            "accuracy_masked_per_read": self.accuracy_masked_per_read,
            "accuracy_all": self.accuracy_all,
            "top3_accuracy_masked": self.top3_accuracy_masked,
            "log_loss_masked": self.log_loss_masked,
            "n_masked": self.n_masked,
            "n_all": self.n_all,
            "n_reads": self.n_reads,
            "n_nonstandard_truth": self.n_nonstandard,
            "per_residue_recall": self.per_residue_recall,
            "expected_calibration_error": self.expected_calibration_error(),
        }

    def expected_calibration_error(self) -> float:
        """Count-weighted mean gap between confidence and accuracy over the calibration bins."""
        c = self.calibration
        if not c or not sum(c["count"]):
            return float("nan")
        count = np.asarray(c["count"], dtype=float)
        gap = np.abs(np.nan_to_num(np.asarray(c["confidence"], float)) - np.nan_to_num(np.asarray(c["accuracy"], float)))
        return float((gap * count).sum() / count.sum())

    def to_dataframe(self):
        """Per-residue recall and counts, one row per residue."""
        import pandas as pd

        true_counts = self.confusion.sum(axis=1)
        return pd.DataFrame({"residue": list(AMINO_ACIDS), "n_masked": true_counts,
                             "recall": [self.per_residue_recall.get(a, np.nan) for a in AMINO_ACIDS],
                             "n_predicted": self.confusion.sum(axis=0)})

    def write(self, path) -> None:
        """Write :meth:`summary` as JSON to ``path``."""
        from protlm.report import write_json

        write_json(path, self.summary())


def read_truth(source, ids) -> dict:
    """Truth sequences for ``ids`` from a FASTA (extra records are ignored).

    Parameters
    ----------
    source : str, os.PathLike or file handle
        FASTA of the true sequences (plain, gzip or bz2), one record per read id.
    ids : iterable of str
        The read ids wanted.

    Returns
    -------
    dict of str to str
        The upper-case sequence of each id (the first record of an id that
        appears twice).

    Raises
    ------
    TruthError
        When a read id has no truth record.
    """
    from protlm.io import display_name, iter_fasta

    wanted = set(ids)
    truth = {}
    for rec in iter_fasta(source):
        if rec.id in wanted and rec.id not in truth:
            truth[rec.id] = rec.sequence.upper()
    missing = [i for i in ids if i not in truth]
    if missing:
        raise TruthError(f"{display_name(source)}: no truth sequence for {len(missing)} read(s), first {missing[0]!r}")
    return truth


def evaluate_prediction(prediction, truth, *, n_bins: int = 10, read_errors: bool = False) -> Evaluation:
    """Compare a prediction with the true sequences.

    Parameters
    ----------
    prediction : Prediction
    truth : dict of str to str, or sequence of str
        Full sequences by read id (or in read order).
    n_bins : int
        Calibration bins over [0, 1].
    read_errors : bool
        The reads carry errors (false detections; a truth aligned to the read
        with ``-`` at failed cycles, as ``protlm simulate`` writes it): read
        letters that differ from the truth are allowed, and ``-`` is not scored.

    Raises
    ------
    TruthError
        Missing id, different length, or (without ``read_errors``) a read
        letter that differs from the truth.

    Examples
    --------
    >>> from protlm.sequencing.backends import FrequencyBackend
    >>> from protlm.sequencing.predictor import predict_reads
    >>> from protlm.sequencing.reads import PartialRead
    >>> freq = np.full(20, 0.04); freq[9] = 0.24
    >>> p = predict_reads([PartialRead("r", "MXXKX")], known="KCYM", backend=FrequencyBackend(freq))
    >>> e = evaluate_prediction(p, {"r": "MLAKL"})
    >>> e.accuracy_masked, e.accuracy_all
    (0.6666666666666666, 0.8)
    >>> round(e.log_loss_masked, 3)  # -ln P of L, A, L: 0.24, 0.04, 0.24 over 0.84 (K, C, Y, M excluded)
    1.85
    """
    if not isinstance(truth, dict):
        truth = dict(zip(prediction.ids, truth))
    truths = []
    for rid, read in zip(prediction.ids, prediction.reads):
        t = truth.get(rid)
        if t is None:
            raise TruthError(f"no truth sequence for read {rid!r}")
        if len(t) != len(read):
            raise TruthError(f"read {rid!r}: truth has {len(t)} residues, the read {len(read)}")
        truths.append(t.upper())
    true_idx = encode_residues("".join(truths)) if truths else np.zeros(0, dtype=np.int64)
    read_idx = encode_residues("".join(prediction.reads)) if truths else np.zeros(0, dtype=np.int64)
    observed = read_idx >= 0
    bad = observed & (read_idx != true_idx)
    if bad.any() and not read_errors:
        row = int(np.flatnonzero(bad)[0])
        i = int(np.searchsorted(prediction.offsets, row, side="right") - 1)
        raise TruthError(f"read {prediction.ids[i]!r}, position {row - prediction.offsets[i] + 1}: read letter "
                         f"{prediction.reads[i][row - prediction.offsets[i]]!r} differs from the truth")
    pred_idx = prediction.probabilities.argmax(axis=1)
    conf = prediction.probabilities.max(axis=1)
    standard = true_idx >= 0
    masked = ~observed & standard
    correct = pred_idx == true_idx
    lengths = np.diff(prediction.offsets)
    read_of = np.repeat(np.arange(len(prediction)), lengths)
    n_m = np.bincount(read_of[masked], minlength=len(prediction))
    c_m = np.bincount(read_of[masked & correct], minlength=len(prediction))
    has = n_m > 0
    confusion = np.zeros((20, 20), dtype=np.int64)
    np.add.at(confusion, (true_idx[masked], pred_idx[masked]), 1)
    diag = np.diag(confusion)
    rows = confusion.sum(axis=1)
    recall = {a: float(diag[k] / rows[k]) for k, a in enumerate(AMINO_ACIDS) if rows[k] > 0}
    edges = np.linspace(0, 1, n_bins + 1)
    b = np.clip(np.digitize(conf[masked], edges[1:-1]), 0, n_bins - 1)
    count = np.bincount(b, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(b, weights=conf[masked], minlength=n_bins) / count
        acc = np.bincount(b, weights=correct[masked].astype(float), minlength=n_bins) / count
    calibration = {"bin_lower": edges[:-1].tolist(), "bin_upper": edges[1:].tolist(),
                   "confidence": [None if np.isnan(x) else float(x) for x in mean_conf],
                   "accuracy": [None if np.isnan(x) else float(x) for x in acc], "count": count.tolist()}
    n_masked = int(masked.sum())
    n_all = int(standard.sum())
    probs_masked, true_masked = prediction.probabilities[masked], true_idx[masked]
    p_true = probs_masked[np.arange(n_masked), true_masked].astype(np.float64)
    top3 = np.argsort(-probs_masked, axis=1, kind="stable")[:, :3]
    in_top3 = (top3 == true_masked[:, None]).any(axis=1)
    return Evaluation(
        accuracy_masked=float(correct[masked].mean()) if n_masked else float("nan"),
        accuracy_masked_per_read=float((c_m[has] / n_m[has]).mean()) if has.any() else float("nan"),
        accuracy_all=float(correct[standard].mean()) if n_all else float("nan"),
        n_masked=n_masked, n_all=n_all, n_reads=len(prediction), n_nonstandard=int((~standard).sum()),
        per_residue_recall=recall, confusion=confusion, calibration=calibration,
        top3_accuracy_masked=float(in_top3.mean()) if n_masked else float("nan"),
        log_loss_masked=float(-np.log(np.maximum(p_true, 1e-12)).mean()) if n_masked else float("nan"),
    )


def read_truth_origins(source, ids) -> dict:
    """The protein each read came from, and its residues: ``{read_id: (protein_id, sequence)}``.

    The protein is the ``protein=`` field of the truth header (as ``protlm
    simulate`` writes it), else the read id without a ``/START-END`` suffix;
    the sequence loses the ``-`` of failed cycles.

    Parameters
    ----------
    source : str, os.PathLike or file handle
        FASTA of the truth (plain, gzip or bz2), one record per read id
        (extra records are ignored).
    ids : sequence of str
        The read ids wanted.

    Returns
    -------
    dict of str to tuple of (str, str)
        ``(protein_id, sequence)`` per read id, the sequence upper-case.

    Raises
    ------
    TruthError
        When a read id has no truth record.
    """
    import re

    from protlm.io import display_name, iter_fasta

    wanted, out = set(ids), {}
    for rec in iter_fasta(source):
        if rec.id in wanted and rec.id not in out:
            m = re.search(r"(?:^|\s)protein=(\S+)", rec.description)
            protein = m.group(1) if m else re.sub(r"/\d+-\d+$", "", rec.id)
            out[rec.id] = (protein, rec.sequence.upper().replace("-", ""))
    missing = [i for i in ids if i not in out]
    if missing:
        raise TruthError(f"{display_name(source)}: no truth sequence for {len(missing)} read(s), first {missing[0]!r}")
    return out


def evaluate_identifications(identifications, origins: dict, index, *, thresholds=(0.01, 0.05)) -> dict:
    """Observed false discovery proportion of identifications against the known origins.

    An identification is right when its protein is the read's own (same first
    header word) or holds the read's residues (an identical copy or a shared
    peptide); a decoy winner is never counted as identified.

    Parameters
    ----------
    identifications : Identifications
        From :func:`~protlm.sequencing.identify.identify_reads`.
    origins : dict
        ``{read_id: (protein_id, sequence)}`` for every identified read, as from
        :func:`read_truth_origins`.
    index : ReferenceIndex
        The index the identifications were made against (for the winning
        proteins' sequences).
    thresholds : sequence of float, default (0.01, 0.05)
        q-value thresholds to report counts at (also added to the grid).

    Returns
    -------
    dict
        ``identified_at_<t>``, ``false_at_<t>``, ``fdp_at_<t>`` for each
        threshold, and ``calibration`` (``q_threshold``, ``observed_fdp``,
        ``identified``) over a grid of thresholds.
    """
    ident = identifications
    n = len(ident)
    right = np.zeros(n, dtype=bool)
    for i in np.flatnonzero((~ident.decoy) & (ident.protein >= 0)):
        protein, seq = origins[ident.read_ids[i]]
        right[i] = ident.protein_ids[i] == protein or seq in index.sequence(int(ident.protein[i]))
    out = {}
    grid = sorted(set(np.round(np.r_[np.linspace(0.0025, 0.05, 20), np.linspace(0.06, 0.2, 8), thresholds], 4)))
    calib = {"q_threshold": [], "observed_fdp": [], "identified": []}
    for t in grid:
        sel = ident.identified(t)
        k = int(sel.sum())
        fdp = float((sel & ~right).sum() / k) if k else 0.0
        calib["q_threshold"].append(float(t))
        calib["observed_fdp"].append(fdp)
        calib["identified"].append(k)
        if t in thresholds:
            out[f"identified_at_{t:g}"] = k
            out[f"false_at_{t:g}"] = int((sel & ~right).sum())
            out[f"fdp_at_{t:g}"] = fdp
    out["calibration"] = calib
    return out
