"""Structure-prediction inputs of a pairing: ``af3_input.json`` (AlphaFold 3) and ``boltz/`` (Boltz).

* ``af3_input.json``: dialect ``alphafold3`` (:func:`af3_input`), following
  https://github.com/google-deepmind/alphafold3/blob/main/docs/input.md;
* ``boltz/``: a Boltz YAML and one ``key,sequence`` CSV MSA per chain
  (:func:`boltz_inputs`), following
  https://github.com/jwohlwend/boltz/blob/main/docs/prediction.md.

Both are built from :func:`protlm.pairing.complex.complex_rows`.
"""

from __future__ import annotations

import json
from pathlib import Path

from protlm.pairing.complex import _a3m, _a3m_rows, complex_rows

__all__ = ["af3_input", "boltz_inputs", "write_structure_inputs", "AF3_LAYOUTS", "STRUCTURE_OUTPUTS"]

#: Where the pairs go in ``af3_input.json`` (see :func:`af3_input`).
AF3_LAYOUTS = ("unpaired", "paired")
#: What :func:`write_structure_inputs` writes into an output folder.
STRUCTURE_OUTPUTS = ("af3_input.json", "boltz")


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
