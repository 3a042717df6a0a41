"""Summary plots across runs (matplotlib, Agg backend; called by the CLI, never by the core)."""

from __future__ import annotations

import math

__all__ = ["plot_summary"]


def plot_summary(table, *, kind: str, path) -> None:
    """Bar chart of a :func:`protlm.summary.summarize_pairing` / ``summarize_sequencing`` table.

    Pairing: precision per run with the random expectation as a marker.
    Sequencing: masked-residue accuracy per known set.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from protlm.io.atomic import atomic_write

    def _num(v):
        try:
            v = float(v)
        except (TypeError, ValueError):
            return math.nan
        return v

    labels = [str(n) for n in table["name"]]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(labels) + 2), 3.6))
    x = range(len(labels))
    if kind == "pairing":
        ax.bar(x, [_num(v) for v in table["precision"]], color="#3b75af", label="precision")
        ax.scatter(x, [_num(v) for v in table["random_precision"]], color="#d62728", marker="_", s=600,
                   label="random expectation", zorder=3)
        ax.set_ylabel("pairing precision")
        ax.set_title("protlm pair: precision per family pair")
    else:
        ax.bar(x, [_num(v) for v in table["accuracy_masked"]], color="#4c9a2a", label="masked accuracy")
        ax.set_ylabel("accuracy at unread positions")
        ax.set_title("protlm sequence: accuracy per known set")
        labels = [f"{n}\n({k}, e={e})" for n, k, e in zip(table["name"], table["known"], table["efficiency"])]
    ax.set_xticks(list(x), labels, fontsize=8)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=120)
    plt.close(fig)
