"""Reading full protein sequences for training and evaluation (deduplicated by id)."""

from __future__ import annotations

import logging

__all__ = ["load_proteins"]

log = logging.getLogger(__name__)


def load_proteins(sources, *, min_length=20):
    """Proteins from one or more FASTA files, first occurrence of each id kept.

    Parameters
    ----------
    sources : iterable of path or handle
        FASTA (plain, gzip or bz2).
    min_length : int
        Sequences with fewer standard residues are dropped (and counted).

    Returns
    -------
    (list of str, list of str, dict)
        Ids, upper-case sequences, and counts (``n_read``, ``n_duplicate``,
        ``n_short``, ``n_kept``).

    Examples
    --------
    >>> import io
    >>> ids, seqs, info = load_proteins([io.StringIO(">a\\nMKV\\n>a\\nMKV\\n>b\\n" + "L" * 30 + "\\n")])
    >>> ids, info["n_duplicate"], info["n_short"]
    (['b'], 1, 1)
    """
    from protlm.io.fasta import iter_fasta
    from protlm.models.alphabet import encode_residues

    ids, seqs, seen = [], [], set()
    info = {"n_read": 0, "n_duplicate": 0, "n_short": 0}
    for source in sources:
        for rec in iter_fasta(source):
            info["n_read"] += 1
            if rec.id in seen:
                info["n_duplicate"] += 1
                continue
            seen.add(rec.id)
            seq = rec.sequence.upper()
            if int((encode_residues(seq) >= 0).sum()) < min_length:
                info["n_short"] += 1
                continue
            ids.append(rec.id)
            seqs.append(seq)
    info["n_kept"] = len(ids)
    log.info("read %d proteins (%d duplicate ids, %d shorter than %d residues dropped)",
             info["n_read"], info["n_duplicate"], info["n_short"], min_length)
    return ids, seqs, info
