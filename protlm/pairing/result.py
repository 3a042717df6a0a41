"""The result of a pairing run, shared by every pairing method."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["PairingResult", "CONFIDENCE_DEFINITIONS", "AGREEMENT_DEFINITION", "OUTPUTS", "column_definitions"]

log = logging.getLogger(__name__)

#: The files :meth:`PairingResult.write` (and so ``protlm pair``) writes into its output folder.
OUTPUTS = ("pairs.tsv", "paired.fasta", "paired.a3m", "af3_input.json", "boltz", "report.json", "pairing.png")

#: What ``confidence`` means for each method (a single run's per-pair score, in [0, 1]).
CONFIDENCE_DEFINITIONS = {
    "diffpalm": "fraction of the second half of a run's iterations whose hard assignment (on the noisy scores) "
                "chose the pair, mean over runs; known pairs 1",
    "mi-ipa": "percentile rank (0, 1] of the pair's assignment-cost gap (drop of the species' best total score "
              "when the pair is forbidden) among the predicted pairs; known pairs 1",
    "entropy-bootstrap": "fraction of the bootstrap iterations (of the kept restart) whose pairing holds the pair; "
                         "known pairs 1",
    "entropy-ipa": "percentile rank (0, 1] of the pair's assignment-cost gap in its species' last re-pairing "
                   "(coevolution + phylogeny scores), averaged over the runs (0 in a run without the pair); known "
                   "pairs and orthologs 1",
    "diffpass": "fraction of DiffPaSS's bootstrap iterations whose final hard pairing holds the pair",
    "random": "1 / max(left, right sequences) of the species: the chance that a random pair is right",
}

#: What ``agreement`` means, for every method.
AGREEMENT_DEFINITION = ("fraction of independent runs (diffpalm and entropy-ipa --runs, entropy-bootstrap restarts) "
                        "whose pairing "
                        "holds the pair; empty (NaN) with a single run or a method without runs")

_PER_ENTRY = ("left_rows", "right_rows", "left_ids", "right_ids", "confidence", "agreement")


@dataclass(frozen=True, eq=False)
class PairingResult:
    """Which left sequence pairs with which right sequence, inside each species.

    One entry per left sequence (and per right sequence left unpaired when its
    species block is larger on the right).  Row indices refer to the input
    MSAs; ``-1`` marks a sequence with no partner (matched to padding).

    Parameters
    ----------
    method : str
        ``"diffpalm"``, ``"mi-ipa"``, ``"random"``, ...
    species : sequence of str
        Species of each entry.
    left_rows, right_rows : array of int
        Row in the left / right MSA, ``-1`` when absent.
    left_ids, right_ids : sequence of str or None
        Identifiers of those rows (``None`` when absent).
    confidence : array of float
        Per-pair score of a single run, in [0, 1], higher = more likely right;
        NaN for unpaired entries.  Each method defines it (its docstring says
        how): DiffPALM the fraction of a run's late iterations whose hard
        assignment chose the pair, MI-IPA the percentile rank of its assignment-cost gap, the entropy
        bootstrap and DiffPaSS the fraction of bootstrap iterations whose
        pairing holds the pair, random ``1 / block size``.  Known pairs get 1.
    agreement : array of float, optional
        Fraction of independent runs (DiffPALM ``runs``, entropy-bootstrap
        ``n_restarts``) whose pairing holds the pair, in [0, 1]; NaN with a
        single run, for methods without runs, and for unpaired entries.
        Default: all NaN.
    history : dict of str to list of float
        Per-step traces (e.g. ``"loss"``), for plots and reports.
    info : dict
        Method-specific details (options, seeds, per-run assignments).
    device : str
        Where the method ran: ``"cpu"`` for the CPU-only methods, else the torch
        device (``"cuda:0"``, ...).

    Examples
    --------
    >>> r = PairingResult(method="random", species=("a", "a", "a"), left_rows=np.array([0, 1, 2]),
    ...                   right_rows=np.array([1, 0, -1]), left_ids=("L0", "L1", "L2"), right_ids=("R1", "R0", None),
    ...                   confidence=np.array([0.5, 0.5, np.nan]))
    >>> r.precision({0: 1, 1: 1, 2: 2}), r.recall({0: 1, 1: 1, 2: 2, 5: 5})
    (0.3333333333333333, 0.25)
    >>> r.to_dataframe().shape, r.device
    ((3, 7), 'cpu')
    """

    method: str
    species: tuple
    left_rows: np.ndarray
    right_rows: np.ndarray
    left_ids: tuple
    right_ids: tuple
    confidence: np.ndarray
    history: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    agreement: np.ndarray | None = None
    device: str = "cpu"

    def __post_init__(self):
        n = len(self.species)
        if self.agreement is None:
            object.__setattr__(self, "agreement", np.full(n, np.nan))
        for name in _PER_ENTRY:
            if len(getattr(self, name)) != n:
                raise ValueError(f"PairingResult.{name} has {len(getattr(self, name))} entries, expected {n}")

    def __len__(self) -> int:
        return len(self.species)

    @property
    def n_pairs(self) -> int:
        """Number of entries where both sides are real sequences."""
        return int(np.sum((self.left_rows >= 0) & (self.right_rows >= 0)))

    @property
    def n_species(self) -> int:
        """Number of distinct species among the entries."""
        return len(set(self.species))

    def __repr__(self) -> str:
        paired = (self.left_rows >= 0) & (self.right_rows >= 0)
        mean = float(np.mean(self.confidence[paired])) if paired.any() else float("nan")
        return (
            f"PairingResult(method={self.method!r}, n_pairs={self.n_pairs}, "
            f"n_species={self.n_species}, mean_confidence={mean:.3f}, device={self.device!r})"
        )

    def mapping(self) -> dict:
        """``{left_row: right_row}`` for the real pairs."""
        return {int(l): int(r) for l, r in zip(self.left_rows, self.right_rows) if l >= 0 and r >= 0}

    def n_correct(self, truth: dict) -> int:
        """Number of pairs of ``truth`` (``{left_row: right_row}``) that this result makes."""
        mapping = self.mapping()
        return sum(mapping.get(int(l)) == int(r) for l, r in truth.items())

    def precision(self, truth: dict) -> float:
        """Correct pairs / left sequences with a true partner, against ``{left_row: right_row}``.

        The denominator counts every left sequence of the result that ``truth``
        gives a partner, paired or not: a true pair the method left unpaired
        (its left sequence matched to padding) counts as wrong.  Left sequences
        absent from ``truth`` are not counted.  NaN when none is in ``truth``.
        """
        scored = {int(l) for l in self.left_rows if l >= 0 and int(l) in truth}
        if not scored:
            return float("nan")
        return self.n_correct({l: truth[l] for l in scored}) / len(scored)

    def recall(self, truth: dict) -> float:
        """Correct pairs / true pairs: the fraction of ``truth`` that the result recovers.

        Unlike :meth:`precision`, the denominator is every pair of ``truth``,
        also those whose left sequence is not in the result (a species absent
        from one family, an excluded row).  Equal to the precision when every
        left sequence of ``truth`` is an entry of the result.  NaN for an
        empty ``truth``.
        """
        return self.n_correct(truth) / len(truth) if truth else float("nan")

    def to_dataframe(self):
        """One row per entry: species, left_id, right_id, left_row, right_row, confidence, agreement."""
        import pandas as pd

        return pd.DataFrame(
            {
                "species": list(self.species),
                "left_id": list(self.left_ids),
                "right_id": list(self.right_ids),
                "left_row": np.asarray(self.left_rows, dtype=int),
                "right_row": np.asarray(self.right_rows, dtype=int),
                "confidence": np.asarray(self.confidence, dtype=float),
                "agreement": np.asarray(self.agreement, dtype=float),
            }
        )


    def write(self, outdir, *, paired, query_left=None, query_right=None, af3_layout: str = "unpaired", seed=None,
              report=None, options=None, inputs=(), extra=None, started=None) -> Path:
        """Write the output folder of ``protlm pair``: the same files, made by the same code (the command calls this).

        ``pairs.tsv``, ``paired.fasta``, ``paired.a3m`` (ColabFold),
        ``af3_input.json`` (AlphaFold 3), ``boltz/`` (Boltz YAML + CSV MSAs),
        ``report.json`` and ``pairing.png`` (:data:`OUTPUTS`).  The structure
        inputs are named after the folder.  ``report.json`` records what the
        command records; what only the command knows (its ``argv``, its
        ``options``, when it ``started``, its ``wall_seconds``) comes from
        ``report``/``options``/``started`` when given.

        Parameters
        ----------
        outdir : str or PathLike
            Output folder (created if missing; files in it are replaced).
        paired : protlm.io.PairedFamilies
            The families this result pairs.
        query_left, query_right : str or int, optional
            Query row id or 0-based row of each chain (default: the first rows).
        af3_layout : {"unpaired", "paired"}
            Layout of ``af3_input.json`` (:func:`protlm.pairing.export.af3_input`).
        seed : int, optional
            Recorded in ``report.json`` and used as the AlphaFold 3 model seed;
            default ``info["seed"]`` (0 when absent).
        report : dict, optional
            The record to complete (:func:`protlm.report.base_report`); default a new one.
        options : dict, optional
            The options to record when ``report`` is not given.
        inputs : sequence of str
            The input files, recorded in ``report.json``.
        extra : dict, optional
            More fields for ``report.json`` (``protlm pair`` adds the weights used).
        started : float, optional
            ``time.monotonic()`` at the start, for ``wall_seconds`` (default ``info["seconds"]``).

        Returns
        -------
        pathlib.Path
            The output folder.

        Examples
        --------
        >>> import tempfile
        >>> r, pf = _example()
        >>> out = r.write(Path(tempfile.mkdtemp()) / "out", paired=pf)
        >>> sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)
        True
        """
        from protlm.io import write_fasta
        from protlm.io.atomic import atomic_write
        from protlm.pairing.export import colabfold_a3m, paired_records, query_rows, write_structure_inputs
        from protlm.pairing.plots import plot_pairing_history
        from protlm.report import base_report, write_json

        out = Path(outdir)
        out.mkdir(parents=True, exist_ok=True)
        query = query_rows(paired, query_left=query_left, query_right=query_right)
        seed = self.info.get("seed", 0) if seed is None else seed
        if report is None:
            report = base_report(command="pair", options=dict(options or {}), seed=seed, device=self.device)
        report = dict(report, device=self.device)
        df = self.to_dataframe()[["species", "left_id", "right_id", "confidence", "agreement"]]
        with atomic_write(out / "pairs.tsv") as fh:
            df.to_csv(fh, sep="\t", index=False, float_format="%.4f")
        write_fasta(paired_records(self, paired), out / "paired.fasta")
        with atomic_write(out / "paired.a3m") as fh:
            fh.write(colabfold_a3m(self, paired, query_left=query[0], query_right=query[1]))
        write_structure_inputs(out, self, paired, name=out.name or "protlm_pair", seeds=(report.get("seed") or 0,),
                               af3_layout=af3_layout, query_left=query[0], query_right=query[1])
        wall = time.monotonic() - started if started is not None else self.info.get("seconds")
        report.update(self._report(paired, df, query=query, af3_layout=af3_layout, inputs=list(inputs),
                                   wall_seconds=wall, extra=extra or {}))
        plot_pairing_history(self.history, out / "pairing.png", title=f"protlm pair --method {self.method}",
                             random_precision=report.get("random_precision"))
        write_json(out / "report.json", report)
        log.info("wrote %s", ", ".join(str(out / name) for name in OUTPUTS))
        return out

    def _report(self, paired, df, *, query, af3_layout, inputs, wall_seconds, extra) -> dict:
        """The fields of ``report.json`` that describe this result (:meth:`write`)."""
        from protlm.pairing.export import complex_rows, random_pairing_precision

        rows = complex_rows(self, paired, query_left=query[0], query_right=query[1])
        fields = dict(
            inputs=inputs,
            method=self.method,
            data=paired.summary(),
            n_pairs=self.n_pairs,
            n_unpaired=len(self) - self.n_pairs,
            n_species=self.n_species,
            mean_confidence=_mean(df["confidence"]),
            mean_agreement=_mean(df["agreement"]),
            columns=column_definitions(self.method),
            loss=self.history.get("loss", []),
            history={k: v for k, v in self.history.items() if k != "loss"},
            method_info={k: v for k, v in self.info.items() if k != "run_details"},
            routes=self.info.get("routes"),
            runs_detail=self.info.get("run_details"),
            wall_seconds=wall_seconds,
            structure_inputs={
                "query": {"left": paired.left.ids[rows.query[0]], "right": paired.right.ids[rows.query[1]]},
                "n_paired_rows": len(rows.pairs),
                "n_unpaired_left": len(rows.left_unpaired),
                "n_unpaired_right": len(rows.right_unpaired),
                "af3_layout": af3_layout,
                "af3_note": "unpaired layout: run AlphaFold 3 with --resolve_msa_overlaps=false"
                            if af3_layout == "unpaired"
                            else "paired layout: AlphaFold 3 re-pairs pairedMsa rows by the UniProt species code in "
                                 "their names",
                "boltz": "run `boltz predict complex.yaml` from inside boltz/ (msa paths are relative to it)",
            },
            **extra,
        )
        if paired.truth:
            fields.update(
                precision=self.precision(paired.truth),
                recall=self.recall(paired.truth),
                n_correct=self.n_correct(paired.truth),
                n_true_pairs=len(paired.truth),
                metrics={
                    "precision": "correct pairs / left sequences with a true partner (a true pair left unpaired "
                                 "counts as wrong)",
                    "recall": "correct pairs / true pairs given (also those outside the shared species)",
                },
                random_precision=random_pairing_precision(paired),
            )
        return fields


def column_definitions(method: str) -> dict:
    """What each column of ``pairs.tsv`` holds, for a result of ``method`` (recorded in ``report.json``).

    Parameters
    ----------
    method : str
        The method that made the result (``"diffpalm"``, ``"mi-ipa"``, ...).

    Examples
    --------
    >>> column_definitions("random")["confidence"].split(";")[0]
    '1 / max(left, right sequences) of the species: the chance that a random pair is right'
    """
    return {
        "species": "species key shared by the two sequences",
        "left_id": "left sequence (empty: a right sequence left unpaired)",
        "right_id": "right sequence (empty: a left sequence left unpaired)",
        "confidence": CONFIDENCE_DEFINITIONS.get(method, "per-pair score of the method, in [0, 1]")
                      + "; higher = more likely right; empty for unpaired entries",
        "agreement": AGREEMENT_DEFINITION,
    }



def _mean(column):
    """Mean over the paired entries (unpaired ones are NaN); None when there is nothing to average."""
    values = column.dropna()
    return float(values.mean()) if len(values) else None


def _example():
    """A tiny pairing for the examples: ``(result, paired)``."""
    from protlm.io import MSA, PairedFamilies

    pf = PairedFamilies.from_msas(MSA.from_sequences(["ACD", "AC-", "GCD"], ids=["q", "a_1", "b_2"]),
                                  MSA.from_sequences(["KL", "KM"], ids=["q", "x_1"]), species_key="field:_:-1")
    r = PairingResult(method="random", species=("1",), left_rows=np.array([1]), right_rows=np.array([1]),
                      left_ids=("a_1",), right_ids=("x_1",), confidence=np.array([1.0]))
    return r, pf
