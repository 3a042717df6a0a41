"""Figures for ``protlm sequence --truth``: confusion matrix, calibration, q-value calibration (matplotlib, Agg)."""

from __future__ import annotations

import numpy as np

from protlm.models.alphabet import AMINO_ACIDS

__all__ = ["plot_confusion", "plot_calibration", "plot_qvalue_calibration"]


def _figure():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(evaluation, path, *, title="masked positions") -> None:
    """Row-normalised confusion matrix (true residue vs predicted) as a PNG.

    Parameters
    ----------
    evaluation : Evaluation
        From :func:`~protlm.sequencing.evaluate.evaluate_prediction`; its
        ``confusion`` counts over masked positions are plotted, each row
        divided by its total.
    path : str or os.PathLike
        The PNG, written atomically.
    title : str, default "masked positions"
        Start of the figure title (the accuracy and count follow it).
    """
    from protlm.io.atomic import atomic_write

    plt = _figure()
    conf = evaluation.confusion.astype(float)
    rows = conf.sum(axis=1, keepdims=True)
    norm = np.divide(conf, rows, out=np.zeros_like(conf), where=rows > 0)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    im = ax.imshow(norm, cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(20), list(AMINO_ACIDS))
    ax.set_yticks(range(20), list(AMINO_ACIDS))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{title}: accuracy {evaluation.accuracy_masked:.3f} (n = {evaluation.n_masked})")
    fig.colorbar(im, ax=ax, label="fraction of true residue")
    fig.tight_layout()
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=120)
    plt.close(fig)


def plot_calibration(evaluation, path) -> None:
    """Predicted probability versus observed accuracy, with bin counts, as a PNG.

    Parameters
    ----------
    evaluation : Evaluation
        From :func:`~protlm.sequencing.evaluate.evaluate_prediction`; its
        ``calibration`` bins are plotted (empty bins are left out of the curve).
    path : str or os.PathLike
        The PNG, written atomically.
    """
    from protlm.io.atomic import atomic_write

    plt = _figure()
    c = evaluation.calibration
    conf = np.array([np.nan if x is None else x for x in c["confidence"]], dtype=float)
    acc = np.array([np.nan if x is None else x for x in c["accuracy"]], dtype=float)
    count = np.array(c["count"], dtype=float)
    centers = (np.array(c["bin_lower"]) + np.array(c["bin_upper"])) / 2
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(5, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="perfect calibration")
    ok = count > 0
    ax.plot(conf[ok], acc[ok], marker="o", label="model")
    ax.set_ylabel("observed accuracy")
    ax.set_title(f"calibration (ECE {evaluation.expected_calibration_error():.3f})")
    ax.legend(loc="upper left")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax2.bar(centers, count, width=0.09)
    ax2.set_xlabel("predicted probability of the top residue")
    ax2.set_ylabel("positions")
    fig.tight_layout()
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=120)
    plt.close(fig)


def plot_qvalue_calibration(evaluation: dict, path) -> None:
    """Estimated q-value threshold versus the observed false discovery proportion, as a PNG.

    Parameters
    ----------
    evaluation : dict
        From :func:`~protlm.sequencing.evaluate.evaluate_identifications`; its
        ``calibration`` entry (``q_threshold``, ``observed_fdp``) is plotted.
    path : str or os.PathLike
        The PNG, written atomically.
    """
    from protlm.io.atomic import atomic_write

    plt = _figure()
    c = evaluation["calibration"]
    fig, ax = plt.subplots(figsize=(5, 4.5))
    top = max(max(c["q_threshold"]), max(c["observed_fdp"]) if c["observed_fdp"] else 0)
    ax.plot([0, top], [0, top], ls="--", color="grey", label="observed = estimated")
    ax.plot(c["q_threshold"], c["observed_fdp"], marker="o", ms=3, label="identifications")
    ax.set_xlabel("q-value threshold (target-decoy estimate)")
    ax.set_ylabel("observed false discovery proportion")
    ax.set_title("q-value calibration")
    ax.legend(loc="upper left")
    fig.tight_layout()
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=120)
    plt.close(fig)
