"""Summaries across many runs: one table from many ``report.json`` files.

Used by ``protlm summarize`` (and so by the Snakemake workflow) and by the
notebooks.  Torch-free.
"""

from __future__ import annotations

import json
from pathlib import Path

from protlm.errors import FormatError

__all__ = ["load_report", "summarize_pairing", "summarize_sequencing"]


def load_report(path) -> dict:
    """Read one ``report.json``; a broken file raises :class:`FormatError`."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise FormatError(f"not valid JSON ({exc.msg})", path=path, line=exc.lineno) from None
    except OSError as exc:
        raise FormatError(f"cannot read ({exc.strerror})", path=path) from None


def _table(reports, names, row):
    import pandas as pd

    reports = [Path(p) for p in reports]
    names = list(names) if names else [p.parent.name for p in reports]
    if len(names) != len(reports):
        raise ValueError(f"{len(names)} names for {len(reports)} reports")
    return pd.DataFrame([{"name": n, **row(load_report(p))} for n, p in zip(names, reports)])


def summarize_pairing(reports, *, names=None):
    """One row per pairing run: name, method, species, pairs, precision, random precision, seconds.

    Parameters
    ----------
    reports : iterable of path
        ``report.json`` files written by ``protlm pair``.
    names : list of str, optional
        Row names; default: each report's folder name.

    Returns
    -------
    pandas.DataFrame
    """
    return _table(reports, names, lambda r: {
        "method": r.get("method"),
        "n_species": r.get("n_species"),
        "n_pairs": r.get("n_pairs"),
        "precision": r.get("precision"),
        "random_precision": r.get("random_precision"),
        "seconds": _seconds(r),
    })


def summarize_sequencing(reports, *, names=None):
    """One row per sequencing run: name, known set, efficiency, accuracies, seconds.

    Parameters
    ----------
    reports : iterable of path
        ``report.json`` files written by ``protlm sequence`` with ``--truth``.
    names : list of str, optional
        Row names; default: each report's folder name.

    Returns
    -------
    pandas.DataFrame
    """

    def row(r):
        opts = r.get("options", {})
        split = r.get("evaluation_by_identification") or {}
        ide = r.get("identification_evaluation") or {}
        return {
            "known": opts.get("known", r.get("known")),
            "efficiency": opts.get("efficiency", r.get("efficiency")),
            "n_reads": r.get("n_reads"),
            # with a reference: reads identified at 1 % FDR, and masked accuracy of identified reads,
            # of the rest and of the model alone on all reads
            "identified_at_1pct_fdr": split.get("reads_identified"),
            "observed_fdp_at_0.01": ide.get("fdp_at_0.01"),
            "accuracy_masked_identified": split.get("accuracy_masked_identified"),
            "accuracy_masked_rest": split.get("accuracy_masked_unidentified"),
            "accuracy_masked_model_alone": split.get("accuracy_masked_model_alone"),
            "accuracy_masked": r.get("accuracy_masked"),
            "accuracy_masked_per_read": r.get("accuracy_masked_per_read"),
            "accuracy_all": r.get("accuracy_all"),
            "seconds": _seconds(r),
        }

    return _table(reports, names, row)


def _seconds(report: dict):
    for key in ("wall_seconds", "wall_time_s", "seconds"):
        if report.get(key) is not None:
            return report[key]
    return None
