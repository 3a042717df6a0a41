"""Protease cleavage rules: where the peptides of a digest start.

A peptide read by Edman degradation starts at its N-terminus, which a
protease made: after a cleavage site, or at the protein's own N-terminus
(or after its initiator methionine, which cells often remove).  Its end
can be anywhere a missed cleavage or the read-length limit leaves it, so
only starts are constrained.  The one place the rules live:
:func:`protlm.sequencing.simulate.fragment_sequence` cuts with them and
:func:`protlm.sequencing.identify.identify_reads` (``digest=``) searches
only windows that start where they allow.
"""

from __future__ import annotations

import re

import numpy as np

from protlm.models.alphabet import AMINO_ACIDS

__all__ = ["DIGESTS", "parse_digest", "cut_positions", "start_mask"]

#: Protease -> (residues it cleaves after, residue that blocks a cleavage when it follows).
DIGESTS = {"trypsin": ("KR", "P"), "lys-c": ("K", ""), "glu-c": ("E", "")}


def parse_digest(name):
    """The canonical protease name (lower case), or None for no digest.

    Parameters
    ----------
    name : str or None
        A key of :data:`DIGESTS` in any case, or ``None`` / ``"none"``.

    Returns
    -------
    str or None

    Raises
    ------
    ValueError
        If the protease is not one of :data:`DIGESTS`.

    Examples
    --------
    >>> parse_digest("Trypsin"), parse_digest("none")
    ('trypsin', None)
    """
    if name is None or str(name).lower() == "none":
        return None
    key = str(name).lower()
    if key not in DIGESTS:
        raise ValueError(f"unknown digest {name!r}: use none or one of {', '.join(DIGESTS)}")
    return key


def cut_positions(sequence: str, digest: str) -> list[int]:
    """Positions ``i`` (0 < i < len) where ``digest`` cuts ``sequence`` between residues ``i - 1`` and ``i``.

    Parameters
    ----------
    sequence : str
    digest : str
        A key of :data:`DIGESTS`.

    Returns
    -------
    list of int

    Examples
    --------
    >>> cut_positions("AAKPAKAAARAA", "trypsin")
    [6, 10]
    """
    after, blocked = DIGESTS[parse_digest(digest)]
    pattern = re.compile(f"(?<=[{after}])" + (f"(?![{blocked}])" if blocked else ""))
    return [m.start() for m in pattern.finditer(sequence) if 0 < m.start() < len(sequence)]


def start_mask(residues: np.ndarray, starts: np.ndarray, lengths: np.ndarray, digest: str) -> np.ndarray:
    """Where a peptide of ``digest`` can start, over an index's residue codes.

    True at each sequence's first residue, at its second when the first is
    M (initiator methionine removed), and after every cleavage site inside
    a sequence.

    Parameters
    ----------
    residues : numpy.ndarray
        Residue codes (:class:`~protlm.sequencing.index.ReferenceIndex` ``residues``, or its decoys).
    starts, lengths : numpy.ndarray
        Start and length of each sequence in ``residues``.
    digest : str
        A key of :data:`DIGESTS`.

    Returns
    -------
    numpy.ndarray of bool
        One flag per entry of ``residues``.

    Examples
    --------
    >>> from protlm.sequencing.index import build_index
    >>> import io
    >>> idx = build_index(io.StringIO(">a\\nMAKPAKRA\\n"), decoys=None)
    >>> m = start_mask(idx.residues, idx.starts, idx.lengths, "trypsin")
    >>> [i - int(idx.starts[0]) for i in m.nonzero()[0].tolist()]
    [0, 1, 6, 7]
    """
    after, blocked = DIGESTS[parse_digest(digest)]
    residues = np.asarray(residues)
    after_codes = np.isin(residues, [AMINO_ACIDS.index(a) for a in after])
    mask = np.zeros(len(residues), dtype=bool)
    mask[1:] = after_codes[:-1]
    if blocked:
        mask &= ~np.isin(residues, [AMINO_ACIDS.index(a) for a in blocked])
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    mask[starts[lengths > 0]] = True
    second = starts[(lengths > 1)]
    second = second[residues[second] == AMINO_ACIDS.index("M")] + 1
    mask[second] = True
    return mask
