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
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from protlm.errors import PairingInputError

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

#: Where the pairs go in ``af3_input.json`` (see :func:`af3_input`).
AF3_LAYOUTS = ("unpaired", "paired")
#: What :func:`write_structure_inputs` writes into an output folder.
STRUCTURE_OUTPUTS = ("af3_input.json", "boltz")


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


# --------------------------------------------------------------------------- structure-prediction inputs
@dataclass(frozen=True)
class ComplexRows:
    """Which rows of the two chains go where in a structure-prediction input.

    Attributes
    ----------
    query : tuple of (int, int)
        Row of the query in the left and right MSA.
    pairs : tuple of (int, int)
        ``(left_row, right_row)`` of each pair, in the result's order (pairs
        holding a query row are left out: the queries are already paired).
    left_unpaired, right_unpaired : tuple of int
        Every other row of each chain, in input order.
    """

    query: tuple
    pairs: tuple
    left_unpaired: tuple
    right_unpaired: tuple


def _find_row(msa, wanted, side):
    if wanted is None:
        return 0
    if isinstance(wanted, int):
        if not 0 <= wanted < msa.n_sequences:
            raise PairingInputError(f"query row {wanted} is out of range for the {side} MSA ({msa.n_sequences} rows)")
        return wanted
    hits = [i for i, x in enumerate(msa.ids) if x == wanted]
    if len(hits) != 1:
        what = "is not" if not hits else f"occurs {len(hits)} times"
        raise PairingInputError(f"query {wanted!r} {what} in the {side} MSA (--query-{side} takes one row id)")
    return hits[0]


def query_rows(paired, *, query_left=None, query_right=None) -> tuple:
    """The query row of each chain, checked (called before any work by ``protlm pair``).

    Parameters
    ----------
    paired : PairedFamilies
    query_left, query_right : str or int, optional
        A row id or a 0-based row; default the first row (ColabFold/MMseqs2
        MSAs start with the query).

    Raises
    ------
    PairingInputError
        A query id that is absent or repeated, or a query row with no residue.

    Examples
    --------
    >>> from protlm.io import MSA, PairedFamilies
    >>> pf = PairedFamilies.from_msas(MSA.from_sequences(["AC", "AD"], ids=["q", "a_1"]),
    ...                               MSA.from_sequences(["KL", "KM"], ids=["q", "x_1"]), species_key="field:_:-1")
    >>> query_rows(pf), query_rows(pf, query_right="x_1")
    ((0, 0), (0, 1))
    >>> query_rows(pf, query_left="nope")
    Traceback (most recent call last):
    ...
    protlm.errors.PairingInputError: query 'nope' is not in the left MSA (--query-left takes one row id)
    """
    ql = _find_row(paired.left, query_left, "left")
    qr = _find_row(paired.right, query_right, "right")
    for msa, q, side in ((paired.left, ql, "left"), (paired.right, qr, "right")):
        if not msa.sequences[q].strip("-."):
            raise PairingInputError(f"the {side} query {msa.ids[q]!r} (row {q + 1}) has no residue")
    return ql, qr


def complex_rows(result, paired, *, query_left=None, query_right=None) -> ComplexRows:
    """Split the rows of both chains into query, pairs and unpaired rows.

    Parameters
    ----------
    result : PairingResult
    paired : PairedFamilies
    query_left, query_right : str or int, optional
        As in :func:`query_rows`.

    Examples
    --------
    >>> import numpy as np
    >>> from protlm.io import MSA, PairedFamilies
    >>> from protlm.pairing.result import PairingResult
    >>> pf = PairedFamilies.from_msas(MSA.from_sequences(["AC", "AD", "AE", "AF"], ids=["q", "a_1", "b_1", "c"]),
    ...                               MSA.from_sequences(["KL", "KM", "KN"], ids=["q", "x_1", "y_1"]), species_key="field:_:-1")
    >>> r = PairingResult(method="random", species=("1", "1"), left_rows=np.array([1, 2]), right_rows=np.array([2, 1]),
    ...                   left_ids=("a_1", "b_1"), right_ids=("y_1", "x_1"), confidence=np.array([0.5, 0.5]))
    >>> complex_rows(r, pf)
    ComplexRows(query=(0, 0), pairs=((1, 2), (2, 1)), left_unpaired=(3,), right_unpaired=())
    """
    ql, qr = query_rows(paired, query_left=query_left, query_right=query_right)
    pairs = tuple((int(l), int(r)) for l, r in zip(result.left_rows, result.right_rows)
                  if l >= 0 and r >= 0 and l != ql and r != qr)
    used_l = {l for l, _ in pairs} | {ql} | set(paired.excluded_left)
    used_r = {r for _, r in pairs} | {qr} | set(paired.excluded_right)
    return ComplexRows(
        (ql, qr),
        pairs,
        tuple(i for i in range(paired.left.n_sequences) if i not in used_l),
        tuple(i for i in range(paired.right.n_sequences) if i not in used_r),
    )


def _a3m_rows(msa, query_row):
    """``(sequence, rows)``: the query without gaps, and a function giving row ``i`` in A3M form against it."""
    seqs = msa.sequences
    q = seqs[query_row].replace(".", "-")
    gaps = [j for j, c in enumerate(q) if c == "-"]
    if not gaps:
        def row(i):
            return seqs[i].replace(".", "-").upper()
    else:
        gapset = set(gaps)

        def row(i):
            s = seqs[i].replace(".", "-")
            return "".join((c.lower() if c != "-" else "") if j in gapset else c.upper() for j, c in enumerate(s))
    return q.replace("-", "").upper(), row


def _a3m(entries) -> str:
    return "".join(f">{desc}\n{seq}\n" for desc, seq in entries)


def af3_input(result, paired, *, name="protlm_pair", seeds=(1,), layout="unpaired", query_left=None,
              query_right=None, chain_ids=("A", "B")) -> dict:
    """The AlphaFold 3 input (dialect ``alphafold3``, version 1) for the paired complex.

    Parameters
    ----------
    result, paired
        The pairing and its families.
    name : str
        The job name (AlphaFold 3 names its output files after it).
    seeds : sequence of int
        ``modelSeeds`` (at least one).
    layout : {"unpaired", "paired"}
        ``"unpaired"`` (default), what AlphaFold 3's documentation recommends
        for an MSA paired by other software: each chain's ``unpairedMsa``
        holds the query, then the pairs (row *k* of chain A with row *k* of
        chain B), then chain A's unpaired rows against all-gap rows of chain
        B, then chain B's against all-gap rows of chain A, so both have the
        same depth and every row lines up; ``pairedMsa`` is ``""``.  Run
        AlphaFold 3 with ``--resolve_msa_overlaps=false`` so that it keeps
        these rows as they are.
        ``"paired"``: ``pairedMsa`` holds the query and the pairs, row by row,
        and ``unpairedMsa`` the query and the chain's other rows.  AlphaFold 3
        itself re-pairs ``pairedMsa`` rows by the UniProt species code in
        their names (``tr|ACC|NAME_SPECIES``) and drops rows without one, so
        use this layout for tools that read ``pairedMsa`` row by row.
    query_left, query_right
        As in :func:`complex_rows`.
    chain_ids : (str, str)
        The chains' ids.

    Returns
    -------
    dict
        JSON-ready.  The first row of every MSA is the chain's ``sequence``.

    Examples
    --------
    >>> from protlm.pairing.result import _example
    >>> r, pf = _example()  # query q; a_1 pairs with x_1; b_2 has no partner
    >>> job = af3_input(r, pf)
    >>> [s["protein"]["unpairedMsa"].split() for s in job["sequences"]]
    [['>q', 'ACD', '>a_1', 'AC-', '>b_2', 'GCD'], ['>q', 'KL', '>x_1', 'KM', '>b_2', '--']]
    >>> job["dialect"], job["version"], job["sequences"][1]["protein"]["pairedMsa"]
    ('alphafold3', 1, '')
    >>> af3_input(r, pf, layout="paired")["sequences"][0]["protein"]["pairedMsa"].split()
    ['>q', 'ACD', '>a_1', 'AC-']
    """
    if layout not in AF3_LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(AF3_LAYOUTS)}, not {layout!r}")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("AlphaFold 3 needs at least one model seed")
    rows = complex_rows(result, paired, query_left=query_left, query_right=query_right)
    msas = (paired.left, paired.right)
    chains = []
    for side, (msa, q) in enumerate(zip(msas, rows.query)):
        sequence, row = _a3m_rows(msa, q)
        head = [(msa.descriptions[q], sequence)]
        pairs = [(msa.descriptions[p[side]], row(p[side])) for p in rows.pairs]
        own = rows.right_unpaired if side else rows.left_unpaired
        mine = [(msa.descriptions[i], row(i)) for i in own]
        if layout == "paired":
            paired_msa, unpaired_msa = _a3m(head + pairs), _a3m(head + mine)
        else:
            other = rows.left_unpaired if side else rows.right_unpaired
            other_msa = msas[1 - side]
            pad = [(other_msa.descriptions[i], "-" * len(sequence)) for i in other]
            blocks = (pad + mine) if side else (mine + pad)
            paired_msa, unpaired_msa = "", _a3m(head + pairs + blocks)
        chains.append({"protein": {"id": chain_ids[side], "sequence": sequence, "pairedMsa": paired_msa,
                                   "unpairedMsa": unpaired_msa, "templates": []}})
    return {"name": name, "modelSeeds": seeds, "sequences": chains, "dialect": "alphafold3", "version": 1}


def boltz_inputs(result, paired, *, query_left=None, query_right=None, chain_ids=("A", "B")) -> dict:
    """The Boltz input: ``{"complex.yaml": text, "A.csv": text, "B.csv": text}`` (file name -> content).

    Each chain's CSV has the columns ``key,sequence``: the query first with
    key 0, then one row per pair with the same key in both chains (1, 2, ...),
    then the chain's unpaired rows with key -1, which Boltz never pairs (the
    convention of Boltz's own MSA-server CSVs).  Boltz pairs rows of the
    chains that share a key and always pairs the two first rows.  The YAML
    (``version: 1``) names each CSV relative to the YAML's folder; Boltz opens
    ``msa:`` paths from the folder it runs in, so run ``boltz predict`` there.
    Boltz drops a row whose sequence repeats an earlier row of the same CSV,
    and with it the pairing of that row.

    Parameters
    ----------
    result : PairingResult
        The pairing.
    paired : PairedFamilies
        The families it pairs.
    query_left, query_right : str or int, optional
        As in :func:`complex_rows` (default: the first rows).
    chain_ids : (str, str), default ("A", "B")
        The chains' ids, which also name the CSV files.

    Returns
    -------
    dict of str to str
        File name -> text.

    Raises
    ------
    PairingInputError
        A bad query (see :func:`query_rows`).

    Examples
    --------
    >>> from protlm.pairing.result import _example
    >>> r, pf = _example()  # query q; a_1 pairs with x_1; b_2 has no partner
    >>> files = boltz_inputs(r, pf)
    >>> files["A.csv"].splitlines(), files["B.csv"].splitlines()
    (['key,sequence', '0,ACD', '1,AC-', '-1,GCD'], ['key,sequence', '0,KL', '1,KM'])
    >>> print(files["complex.yaml"], end="")
    version: 1
    sequences:
      - protein:
          id: A
          sequence: ACD
          msa: A.csv
      - protein:
          id: B
          sequence: KL
          msa: B.csv
    """
    rows = complex_rows(result, paired, query_left=query_left, query_right=query_right)
    files = {}
    yaml = ["version: 1", "sequences:"]
    for side, (msa, q) in enumerate(zip((paired.left, paired.right), rows.query)):
        sequence, row = _a3m_rows(msa, q)
        own = rows.right_unpaired if side else rows.left_unpaired
        lines = ["key,sequence", f"0,{sequence}"]
        lines += [f"{k},{row(p[side])}" for k, p in enumerate(rows.pairs, 1)]
        lines += [f"-1,{row(i)}" for i in own]
        csv_name = f"{chain_ids[side]}.csv"
        files[csv_name] = "\n".join(lines) + "\n"
        yaml += ["  - protein:", f"      id: {chain_ids[side]}", f"      sequence: {sequence}", f"      msa: {csv_name}"]
    return {"complex.yaml": "\n".join(yaml) + "\n", **files}


def write_structure_inputs(outdir, result, paired, *, name="protlm_pair", seeds=(1,), af3_layout="unpaired",
                           query_left=None, query_right=None) -> list:
    """Write ``af3_input.json`` and ``boltz/`` (``complex.yaml``, ``A.csv``, ``B.csv``) into ``outdir``, atomically.

    Returns the paths written.  See :func:`af3_input` and :func:`boltz_inputs`.

    Parameters
    ----------
    outdir : str or os.PathLike
        The output folder.
    result : PairingResult
        The pairing.
    paired : PairedFamilies
        The families it pairs.
    name : str, default "protlm_pair"
        The AlphaFold 3 job name.
    seeds : sequence of int, default (1,)
        AlphaFold 3's ``modelSeeds``.
    af3_layout : {"unpaired", "paired"}, default "unpaired"
        Where the pairs go in ``af3_input.json`` (``layout`` of :func:`af3_input`).
    query_left, query_right : str or int, optional
        As in :func:`complex_rows` (default: the first rows).

    Returns
    -------
    list of pathlib.Path
        ``af3_input.json``, then the files of ``boltz/``.

    Examples
    --------
    >>> import tempfile
    >>> from protlm.pairing.result import _example
    >>> r, pf = _example()
    >>> [p.name for p in write_structure_inputs(tempfile.mkdtemp(), r, pf)]
    ['af3_input.json', 'complex.yaml', 'A.csv', 'B.csv']
    """
    from protlm.io.atomic import atomic_write

    out = Path(outdir)
    job = af3_input(result, paired, name=name, seeds=seeds, layout=af3_layout, query_left=query_left,
                    query_right=query_right)
    written = [out / "af3_input.json"]
    with atomic_write(written[0]) as fh:
        json.dump(job, fh, indent=2)
        fh.write("\n")
    for fname, text in boltz_inputs(result, paired, query_left=query_left, query_right=query_right).items():
        path = out / "boltz" / fname
        with atomic_write(path) as fh:
            fh.write(text)
        written.append(path)
    return written
