"""Plots of pairing runs (matplotlib, Agg backend); kept out of the solvers."""

from __future__ import annotations

from pathlib import Path

__all__ = ["plot_pairing_history"]


def plot_pairing_history(history: dict, path, *, title: str = "", random_precision: float | None = None) -> Path:
    """Loss per step (left axis) and precision per step (right axis) as a PNG, written atomically.

    Parameters
    ----------
    history : dict of str to list of float
        ``PairingResult.history``; ``"loss"`` and ``"precision"`` are drawn when present.
    path : str or os.PathLike
        Destination ``.png``.
    title : str
        Figure title.
    random_precision : float, optional
        Drawn as a dashed line: what random within-species pairing scores.

    Examples
    --------
    >>> import tempfile, os
    >>> p = plot_pairing_history({"loss": [3.0, 2.5, 2.4], "precision": [0.2, 0.5, 0.6]},
    ...                          os.path.join(tempfile.mkdtemp(), "h.png"), random_precision=0.25)
    >>> p.stat().st_size > 1000
    True
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    from protlm.io.atomic import atomic_write

    fig = Figure(figsize=(6.4, 4.0), dpi=110)
    ax = fig.add_subplot(1, 1, 1)
    loss = history.get("loss") or []
    precision = history.get("precision") or []
    if loss:
        ax.plot(range(len(loss)), loss, color="tab:blue", lw=1.2)
        ax.set_ylabel("masked-LM loss", color="tab:blue")
        ax.set_xlabel("step")
    if precision:
        ax2 = ax.twinx() if loss else ax
        ax2.plot(range(len(precision)), precision, color="tab:red", lw=1.2)
        if random_precision is not None:
            ax2.axhline(random_precision, color="tab:red", ls="--", lw=1, label="random pairing")
            ax2.legend(loc="lower right", frameon=False)
        ax2.set_ylabel("precision", color="tab:red")
        ax2.set_ylim(0, 1.02)
        if not loss:
            ax.set_xlabel("round")
    if not loss and not precision:
        ax.text(0.5, 0.5, "no per-step history for this method", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    path = Path(path)
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png")
    return path
