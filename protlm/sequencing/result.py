"""The result of ``protlm sequence``: prediction, reference guide and evaluation, and the folder it writes.

:func:`sequence_reads` does what the command does once its inputs are read
and its model is loaded (predict, with a reference guide when given, and
evaluate against the truth when given); :meth:`SequencingResult.write` writes
the command's output folder, and the command calls both, so a Python user
gets the same files.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["SEQUENCE_OUTPUTS", "SequencingResult", "sequence_reads", "reads_have_errors", "load_backend"]

log = logging.getLogger(__name__)

#: Every file ``protlm sequence`` (and :meth:`SequencingResult.write`) may write into its folder.
SEQUENCE_OUTPUTS = ("predictions.fasta", "positions.tsv", "report.json", "confusion.png", "calibration.png", "hits.tsv",
                    "identifications.tsv", "qvalue_calibration.png")

# what report.json records of the model (its file's metadata)
_MODEL_FIELDS = ("path", "step", "valid_loss", "valid_accuracy_kcym", "inputs")


@dataclass(frozen=True, eq=False)
class SequencingResult:
    """What :func:`sequence_reads` produced.

    Attributes
    ----------
    prediction : protlm.sequencing.predictor.Prediction
        Per-residue probabilities and the predicted sequences.
    reads : tuple of PartialRead
        The reads, in input order.
    model : dict
        What ``report.json`` records of the model (path, training step, ...).
    device : str
        Where the model ran.
    guide : protlm.sequencing.hybrid.ReferenceGuide, optional
        Reference hits, identifications and the prior they gave.
    evaluation : protlm.sequencing.evaluate.Evaluation, optional
        Accuracies against the truth.
    evaluation_by_identification : dict, optional
        With a guide and the truth: accuracy of identified and unidentified reads, and of the model alone.
    identification_evaluation : dict, optional
        With identifications and the truth: q-value calibration.
    options : dict
        The resolved options, recorded in ``report.json``.
    seed : int
        Recorded in ``report.json``.
    seconds : float
        Time :func:`sequence_reads` took.
    """

    prediction: object
    reads: tuple
    model: dict = field(default_factory=dict)
    device: str = "cpu"
    guide: object = None
    evaluation: object = None
    evaluation_by_identification: dict | None = None
    identification_evaluation: dict | None = None
    options: dict = field(default_factory=dict)
    seed: int = 0
    seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.prediction)

    def __repr__(self) -> str:
        acc = "" if self.evaluation is None else f", accuracy_masked={self.evaluation.accuracy_masked:.3f}"
        return (f"SequencingResult(n_reads={len(self)}, reference={self.guide is not None}, "
                f"truth={self.evaluation is not None}{acc})")

    def to_dataframe(self):
        """One row per read position: what ``positions.tsv`` holds (with a reference: each position's ``source``)."""
        if self.guide is not None:
            return self.guide.positions_dataframe(self.prediction, list(self.reads))
        return self.prediction.to_dataframe()

    def write(self, outdir, *, report=None, started=None) -> Path:
        """Write the output folder of ``protlm sequence``: the same files, made by the same code (the command calls this).

        ``predictions.fasta``, ``positions.tsv``, ``report.json``; with a
        reference ``hits.tsv`` and ``identifications.tsv``; with the truth
        ``confusion.png``, ``calibration.png`` (and ``qvalue_calibration.png``
        with identifications).

        Parameters
        ----------
        outdir : str or os.PathLike
            Output folder (created if missing; files in it are replaced).
        report : dict, optional
            The record to complete (:func:`protlm.report.base_report`, which the
            command makes with its command line); default a new one from
            :attr:`options`.
        started : float, optional
            ``time.monotonic()`` at the start, for ``wall_seconds`` (default :attr:`seconds`).

        Returns
        -------
        pathlib.Path
            The output folder.
        """
        from protlm.report import base_report, write_json

        out = Path(outdir)
        out.mkdir(parents=True, exist_ok=True)
        pred = self.prediction
        pred.write(out)
        if report is None:
            report = base_report(command="sequence", options=dict(self.options), seed=self.seed, device=self.device)
        report = dict(report)
        report["model"] = dict(self.model)
        report["prediction"] = pred.info
        report["n_reads"] = len(pred)
        report["n_residues"] = int(len(pred.probabilities))
        if self.guide is not None:
            report["reference"] = self.guide.write(pred, list(self.reads), out)
        if self.evaluation is not None:
            self._write_evaluation(out, report)
        report["wall_seconds"] = round(time.monotonic() - started if started is not None else self.seconds, 2)
        write_json(out / "report.json", report)
        return out

    def _write_evaluation(self, out: Path, report: dict) -> None:
        """The accuracies into ``report`` and the plots into ``out``."""
        from protlm.sequencing.plots import plot_calibration, plot_confusion

        ev = self.evaluation
        report["evaluation"] = ev.summary()
        report.update({k: report["evaluation"][k] for k in ("accuracy_masked", "accuracy_masked_per_read", "accuracy_all")})
        if self.evaluation_by_identification is not None:
            report["evaluation_by_identification"] = self.evaluation_by_identification
        if self.identification_evaluation is not None:
            from protlm.sequencing.plots import plot_qvalue_calibration

            report["identification_evaluation"] = self.identification_evaluation
            plot_qvalue_calibration(self.identification_evaluation, out / "qvalue_calibration.png")
        plot_confusion(ev, out / "confusion.png")
        plot_calibration(ev, out / "calibration.png")


def sequence_reads(reads, *, known: str, backend, efficiency: float = 1.0, refine: int = 0, batch_tokens: int = 16384,
                   termini: bool = True, guide=None, truth=None, truth_origins=None, read_errors: bool = False,
                   options=None, seed: int = 0, callback=None) -> SequencingResult:
    """Predict full sequences from partial reads and evaluate them: what ``protlm sequence`` computes.

    Parameters
    ----------
    reads : sequence of PartialRead
        From :func:`protlm.sequencing.reads.read_reads`.
    known : str
        Residue types the sequencer reads, e.g. ``"KCYM"``.
    backend : protlm.sequencing.backends.ModelBackend
        The loaded model.
    efficiency, refine, batch_tokens, termini
        As in :func:`protlm.sequencing.predictor.predict_reads`.
    guide : protlm.sequencing.hybrid.ReferenceGuide, optional
        From :func:`protlm.sequencing.hybrid.guide_reads`: its prior guides the prediction.
    truth : dict of str to str, optional
        Full sequences by read id (:func:`protlm.sequencing.evaluate.read_truth`): adds the evaluation.
    truth_origins : optional
        With identifications: the reads' true proteins
        (:func:`protlm.sequencing.evaluate.read_truth_origins`), for the q-value calibration.
    read_errors : bool
        Whether the reads carry errors beyond missed detections (:func:`reads_have_errors`).
    options : dict, optional
        The resolved options, recorded in ``report.json``.
    seed : int
        Recorded.
    callback : callable, optional
        Progress, ``callback(done, total)`` per window batch.

    Returns
    -------
    SequencingResult

    Examples
    --------
    >>> from protlm.sequencing.backends import FrequencyBackend
    >>> from protlm.sequencing.reads import PartialRead
    >>> res = sequence_reads([PartialRead("r1", "XKXXC")], known="KC", backend=FrequencyBackend(np.full(20, 0.05)),
    ...                      truth={"r1": "AKLLC"})
    >>> res, res.to_dataframe().shape[0]
    (SequencingResult(n_reads=1, reference=False, truth=True, accuracy_masked=0.333), 5)
    """
    from protlm.sequencing.predictor import predict_reads

    t0 = time.monotonic()
    reads = tuple(reads)
    pred = predict_reads(list(reads), known=known, backend=backend, efficiency=efficiency, refine=refine,
                         batch_tokens=batch_tokens, callback=callback, prior=guide and guide.prior.factors,
                         termini=termini)
    ev = by_ident = ide = None
    if truth is not None:
        from protlm.sequencing.evaluate import evaluate_prediction

        ev = evaluate_prediction(pred, truth, read_errors=read_errors)
        if guide is not None:
            by_ident = _split_evaluation(pred, truth, guide, reads, read_errors=read_errors, known=known,
                                         backend=backend, efficiency=efficiency, refine=refine,
                                         batch_tokens=batch_tokens, termini=termini)
            if guide.identifications is not None and truth_origins is not None:
                from protlm.sequencing.evaluate import evaluate_identifications

                ide = evaluate_identifications(guide.identifications, truth_origins, guide.index)
        log.info("%r", ev)
    metadata = getattr(backend, "metadata", {}) or {}
    return SequencingResult(
        prediction=pred, reads=reads, model={k: v for k, v in metadata.items() if k in _MODEL_FIELDS},
        device=str(getattr(backend, "device", "cpu")), guide=guide, evaluation=ev, evaluation_by_identification=by_ident,
        identification_evaluation=ide, options=dict(options or {}), seed=seed, seconds=time.monotonic() - t0,
    )


def load_backend(weights=None, *, device="auto", download=None):
    """The model of ``protlm sequence --model NAME|PATH`` as a backend: protlm's sequencer or an ESM-2.

    Parameters
    ----------
    weights : str, os.PathLike, ResolvedWeights or None
        A ``--model`` value (resolved by :func:`protlm.models.weights.resolve_model`
        with ``task="sequence"``) or what that resolution returned; ``None``:
        the shipped sequencer (or ``$PROTLM_SEQUENCER_WEIGHTS``).
    device : str or torch.device
        ``"auto"``, ``"cpu"``, ``"cuda"``...
    download : bool or None
        As in :func:`protlm.models.weights.resolve_weights`.

    Returns
    -------
    protlm.sequencing.backends.ModelBackend

    Examples
    --------
    >>> load_backend(device="cpu").name
    'protlm-sequencer'
    """
    from protlm.models.weights import ResolvedWeights, resolve_model
    from protlm.sequencing.backends import ModelBackend

    if not isinstance(weights, ResolvedWeights):
        weights = resolve_model(weights, task="sequence", download=download)
    if weights.format == "protlm-sequencer":
        return ModelBackend.from_weights(weights.path, device=device)
    from protlm.models.device import resolve_device
    from protlm.models.esm2 import load_esm2_sequencer

    dev = resolve_device(device)
    return ModelBackend(load_esm2_sequencer(weights.model_name, weights=weights, device=dev), name=weights.model_name,
                        device=dev, metadata={"path": str(weights.path), "source": weights.source})


def reads_have_errors(reads_path) -> bool:
    """Whether ``protlm simulate`` recorded read errors for these reads (its sidecar JSON).

    Parameters
    ----------
    reads_path : str or os.PathLike
        A reads FASTA; ``-`` or a file without a sidecar gives ``False``.

    Examples
    --------
    >>> reads_have_errors("no/such/reads.fasta")
    False
    """
    from protlm.sequencing.simulate import sidecar_path

    try:
        info = json.loads(sidecar_path(reads_path).read_text())
    except (OSError, ValueError):
        return False
    errors = info.get("errors") or {}
    return bool(errors.get("edman_failure") or errors.get("false_detection"))


def _split_evaluation(pred, truth_seqs, guide, reads, *, read_errors, known, backend, efficiency, refine, batch_tokens,
                      termini) -> dict:
    """Masked accuracy of identified reads, of the rest, and of the model alone (a second pass without the reference)."""
    from protlm.sequencing.evaluate import evaluate_prediction
    from protlm.sequencing.predictor import predict_reads

    identified = guide.identified()
    out = {"reads_identified": int(identified.sum()), "reads_unidentified": int((~identified).sum())}
    for name, mask in (("identified", identified), ("unidentified", ~identified)):
        idx = np.flatnonzero(mask)
        if len(idx):
            ev = evaluate_prediction(pred.select(idx), truth_seqs, read_errors=read_errors)
            out[f"accuracy_masked_{name}"], out[f"n_masked_{name}"] = ev.accuracy_masked, ev.n_masked
        else:
            out[f"accuracy_masked_{name}"], out[f"n_masked_{name}"] = None, 0
    alone = predict_reads(list(reads), known=known, backend=backend, efficiency=efficiency, refine=refine,
                          batch_tokens=batch_tokens, termini=termini)
    out["accuracy_masked_model_alone"] = evaluate_prediction(alone, truth_seqs, read_errors=read_errors).accuracy_masked
    return out
