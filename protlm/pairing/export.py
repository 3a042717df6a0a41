"""Turning a pairing into files for the next tool.

* ``paired.a3m``: the paired (concatenated) MSA for AlphaFold-Multimer /
  ColabFold, the concatenated queries first (:func:`colabfold_a3m`);
* ``af3_input.json``: an AlphaFold 3 input, dialect ``alphafold3``
  (:func:`af3_input`), following
  https://github.com/google-deepmind/alphafold3/blob/main/docs/input.md;
* ``boltz/``: a Boltz YAML and one ``key,sequence`` CSV MSA per chain
  (:func:`boltz_inputs`), following
  https://github.com/jwohlwend/boltz/blob/main/docs/prediction.md.

The structure inputs are built from :func:`complex_rows`: the query of each
chain (by default the first row of each input MSA, the ColabFold/MMseqs2
convention), the pairs of the result, and every other row of each chain,
unpaired (rows without a species, species found on one side only, rows
matched to padding).  Rows left out with ``exclude=`` are left out here too.
Every MSA row is written in A3M form against its chain's query: columns where
the query has a gap become insertions (lowercase, gaps dropped), so the
query row is the chain's sequence exactly and every row has its length in
match columns.

The rows of the complex (:mod:`protlm.pairing.complex`) and the AlphaFold 3 /
Boltz writers (:mod:`protlm.pairing.structure_inputs`) are their own modules;
this one keeps the paired FASTA and the ColabFold A3M and re-exports the rest.
"""

from __future__ import annotations


__all__ = [
    "paired_records",
    "colabfold_header",
    "colabfold_a3m",
    "random_pairing_precision",
    "ComplexRows",
    "query_rows",
    "complex_rows",
    "af3_input",
    "boltz_inputs",
    "write_structure_inputs",
    "AF3_LAYOUTS",
    "STRUCTURE_OUTPUTS",
]

# the rows of the complex and the structure-prediction inputs live in their own modules; their names are
# re-exported here so that protlm.pairing.export stays the one place to import writers from
from protlm.pairing.complex import ComplexRows, _a3m, _a3m_rows, complex_rows, query_rows  # noqa: F401
from protlm.pairing.structure_inputs import (  # noqa: F401
    AF3_LAYOUTS,
    STRUCTURE_OUTPUTS,
    af3_input,
    boltz_inputs,
    write_structure_inputs,
)


def paired_records(result, paired) -> list:
    """One FASTA record per real pair: ``left + right`` rows, header ``left_id right_id species=...``.

    Entries with a missing side (unpaired sequences) are left out; their count
    is ``len(result) - result.n_pairs``.

    Parameters
    ----------
    result : PairingResult
        The pairing.
    paired : PairedFamilies
        The families it pairs (the rows of ``result`` index their MSAs).

    Returns
    -------
    list of FastaRecord
        In the order of ``result``; the header also gives the pair's
        ``confidence`` (3 decimals).

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


def colabfold_header(paired, *, query=None) -> str:
    """ColabFold's complex A3M header: ``#len1,len2<TAB>1,1`` (one copy of each chain).

    Parameters
    ----------
    paired : PairedFamilies
    query : (int, int), optional
        Query rows: the lengths are then those of the queries' residues (what
        ColabFold writes); without it, the alignments' column counts.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> colabfold_header(NS(left=NS(n_columns=64), right=NS(n_columns=112)))
    '#64,112\\t1,1'
    """
    if query is None:
        return f"#{paired.left.n_columns},{paired.right.n_columns}\t1,1"
    lengths = [len(_a3m_rows(msa, q)[0]) for msa, q in zip((paired.left, paired.right), query)]
    return f"#{lengths[0]},{lengths[1]}\t1,1"


def colabfold_a3m(result, paired, *, query_left=None, query_right=None) -> str:
    """The paired A3M for ColabFold / AlphaFold-Multimer: header, the concatenated queries first, then the pairs.

    As ColabFold's own paired A3M: ``#len1,len2<TAB>1,1`` (the queries'
    lengths), then the query row (left query + right query, the row ColabFold
    reads as the complex's sequence), then one row per pair (pairs holding a
    query row are not repeated), each in A3M form against the queries (columns
    where a query has a gap become lowercase insertions).

    Parameters
    ----------
    result : PairingResult
    paired : PairedFamilies
    query_left, query_right : str or int, optional
        As in :func:`query_rows` (default: the first rows).

    Returns
    -------
    str
        The file's text.

    Examples
    --------
    >>> from protlm.pairing.result import _example
    >>> r, pf = _example()  # query q; a_1 pairs with x_1
    >>> print(colabfold_a3m(r, pf).replace(chr(9), "<TAB>"), end="")
    #3,2<TAB>1,1
    >q q query
    ACDKL
    >a_1 x_1 species=1 confidence=1.000
    AC-KM
    """
    rows = complex_rows(result, paired, query_left=query_left, query_right=query_right)
    (seq_l, row_l), (seq_r, row_r) = (_a3m_rows(msa, q) for msa, q in zip((paired.left, paired.right), rows.query))
    ql, qr = rows.query
    conf = {(int(l), int(r)): c for l, r, c in zip(result.left_rows, result.right_rows, result.confidence)}
    species = {(int(l), int(r)): sp for l, r, sp in zip(result.left_rows, result.right_rows, result.species)}
    entries = [(f"{paired.left.ids[ql]} {paired.right.ids[qr]} query", seq_l + seq_r)]
    for l, r in rows.pairs:
        entries.append((f"{paired.left.ids[l]} {paired.right.ids[r]} species={species[(l, r)]} "
                        f"confidence={conf[(l, r)]:.3f}", row_l(l) + row_r(r)))
    return f"#{len(seq_l)},{len(seq_r)}\t1,1\n" + _a3m(entries)


def random_pairing_precision(paired) -> float | None:
    """Expected precision of a uniformly random pairing inside each species.

    Precision as :meth:`PairingResult.precision` defines it: correct pairs /
    left sequences with a true partner (those a random matching leaves
    unpaired count as wrong).  In a block with ``n_l`` left and ``n_r`` right
    sequences a given left-right couple is drawn with probability
    ``1 / max(n_l, n_r)``, so the block's ``t`` true pairs inside it give
    ``t / max(n_l, n_r)`` expected correct pairs.  Equal blocks fully known:
    (number of species) / (number of sequences).

    Parameters
    ----------
    paired : PairedFamilies
        The families, with their ``truth`` (left row -> right row).

    Returns
    -------
    float or None
        ``None`` without a truth.

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
