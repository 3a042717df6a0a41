"""Turning a pairing into files: the paired (concatenated) MSA for AlphaFold-Multimer / ColabFold."""

from __future__ import annotations

__all__ = ["paired_records", "colabfold_header", "random_pairing_precision"]


def paired_records(result, paired) -> list:
    """One FASTA record per real pair: ``left + right`` rows, header ``left_id right_id species=...``.

    Entries with a missing side (unpaired sequences) are left out; their count
    is ``len(result) - result.n_pairs``.

    Examples
    --------
    >>> import numpy as np
    >>> from protlm.io import MSA, PairedFamilies
    >>> from protlm.pairing.result import PairingResult
    >>> pf = PairedFamilies.from_msas(MSA.from_sequences(["AC", "AD"], ids=["a_1", "b_1"]),
    ...                               MSA.from_sequences(["KL", "K-"], ids=["x_1", "y_1"]), species_key="field:_:-1")
    >>> r = PairingResult(method="random", species=("1", "1"), left_rows=np.array([0, 1]), right_rows=np.array([1, -1]),
    ...                   left_ids=("a_1", "b_1"), right_ids=("y_1", None), confidence=np.array([1.0, 1.0]))
    >>> [(x.description, x.sequence) for x in paired_records(r, pf)]
    [('a_1 y_1 species=1 confidence=1.000', 'ACK-')]
    """
    from protlm.io import FastaRecord

    left_seqs, right_seqs = paired.left.sequences, paired.right.sequences
    out = []
    for sp, l, r, conf in zip(result.species, result.left_rows, result.right_rows, result.confidence):
        if l < 0 or r < 0:
            continue
        lid, rid = paired.left.ids[l], paired.right.ids[r]
        out.append(FastaRecord(lid, f"{lid} {rid} species={sp} confidence={conf:.3f}", left_seqs[l] + right_seqs[r]))
    return out


def colabfold_header(paired) -> str:
    """ColabFold's complex A3M header: ``#len1,len2<TAB>1,1`` (one copy of each chain).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> colabfold_header(NS(left=NS(n_columns=64), right=NS(n_columns=112)))
    '#64,112\\t1,1'
    """
    return f"#{paired.left.n_columns},{paired.right.n_columns}\t1,1"


def random_pairing_precision(paired) -> float | None:
    """Expected precision of a uniformly random pairing inside each species.

    Precision as :meth:`PairingResult.precision` defines it: correct pairs /
    left sequences with a true partner (those a random matching leaves
    unpaired count as wrong).  In a block with ``n_l`` left and ``n_r`` right
    sequences a given left-right couple is drawn with probability
    ``1 / max(n_l, n_r)``, so the block's ``t`` true pairs inside it give
    ``t / max(n_l, n_r)`` expected correct pairs.  Equal blocks fully known:
    (number of species) / (number of sequences).

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace as NS
    >>> blocks = (NS(left=np.arange(2), right=np.arange(2)), NS(left=np.arange(2, 6), right=np.arange(2, 6)))
    >>> random_pairing_precision(NS(blocks=blocks, truth={i: i for i in range(6)}))
    0.3333333333333333
    """
    if not paired.truth:
        return None
    correct = scored = 0.0
    for b in paired.blocks:
        rights = set(b.right.tolist())
        lefts = [i for i in b.left.tolist() if i in paired.truth]
        correct += sum(paired.truth[i] in rights for i in lefts) / max(len(b.left), len(b.right))
        scored += len(lefts)
    return correct / scored if scored else None
