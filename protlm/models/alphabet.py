"""The residue alphabet shared by reads, simulation, the model and decoding.

Pure Python and numpy: importing it loads no torch.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "AMINO_ACIDS",
    "UNKNOWN",
    "MASK_TOKEN",
    "PAD_TOKEN",
    "BOS_TOKEN",
    "EOS_TOKEN",
    "VOCAB_SIZE",
    "encode_residues",
    "known_vector",
]

#: The 20 standard residues, in the order of every per-residue array.
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
#: The letter that marks an unread position in a partial read.
UNKNOWN = "X"

MASK_TOKEN = 20  # an X in a read
PAD_TOKEN = 21
BOS_TOKEN = 22  # the protein's N-terminus lies at the start of this window
EOS_TOKEN = 23  # the protein's C-terminus lies at the end of this window
VOCAB_SIZE = 24

# ASCII code -> residue index (0-19); -1 for anything else.
_LOOKUP = np.full(256, -1, dtype=np.int8)
for _i, _a in enumerate(AMINO_ACIDS):
    _LOOKUP[ord(_a)] = _i
    _LOOKUP[ord(_a.lower())] = _i


def encode_residues(sequence: str) -> np.ndarray:
    """Residue indices (0-19) of ``sequence``, ``-1`` for any other letter.

    Parameters
    ----------
    sequence : str
        Letters in either case; non-ASCII characters count as other letters.

    Returns
    -------
    numpy.ndarray
        Shape (len(sequence),) int64, indices into :data:`AMINO_ACIDS`.

    Examples
    --------
    >>> encode_residues("ACX").tolist()
    [0, 1, -1]
    """
    return _LOOKUP[np.frombuffer(sequence.encode("ascii", "replace"), dtype=np.uint8)].astype(np.int64)


def known_vector(known: str) -> np.ndarray:
    """Boolean mask over :data:`AMINO_ACIDS` of the letters in ``known``.

    Parameters
    ----------
    known : str
        Upper-case standard residues (validate user input first with
        :func:`~protlm.sequencing.reads.parse_known`).

    Returns
    -------
    numpy.ndarray
        Shape (20,) bool.

    Raises
    ------
    ValueError
        A letter that is not in :data:`AMINO_ACIDS`.

    Examples
    --------
    >>> known_vector("KC").nonzero()[0].tolist()
    [1, 8]
    """
    out = np.zeros(20, dtype=bool)
    for letter in known:
        out[AMINO_ACIDS.index(letter)] = True
    return out
