"""Read errors of single-molecule fluorosequencing, beyond missed detections.

A fluorosequencing read is made cycle by cycle: each Edman cycle removes the
peptide's first residue, and a labelled residue shows as a drop in its
channel's fluorescence.  Besides a missed detection (a dud or lost dye: the
detection efficiency ``e``, handled where reads are masked), the errors are:

* **Edman failure** (probability ``edman_failure`` per cycle): the cycle
  removes nothing, so the read gains a position that shows nothing and every
  later residue is read one cycle late (a shift);
* **false detection** (probability ``false_detection`` per position that
  shows nothing): a drop is seen anyway, as a random known letter (intensity
  noise, a dye bleaching at the wrong cycle);
* **read length** (``cycles``): only the first ``cycles`` cycles are read.

Defaults of :meth:`ErrorModel.whatprot` follow the sequencing parameters
published with Whatprot (Smith et al., "Amino acid sequence assignment from
single molecule peptide sequencing data using a two-stage classifier", PLoS
Comput Biol 19(5): e1011157, 2023; the example parameter file of
github.com/marcottelab/whatprot): ``p_edman_failure = 0.06``, and
``p_dud = 0.07`` for the detection efficiency (:data:`WHATPROT_EFFICIENCY` =
1 - 0.07).  Whatprot has no false-detection parameter (its false drops come
from intensity noise and bleaching, ``p_bleach = 0.05``); protlm uses
``false_detection = 0.01`` for them.  Whatprot's detachment and blocking
(``p_detach``, ``p_initial_block``, ``p_cyclic_block``) shorten reads; here
``cycles`` sets the read length.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["ErrorModel", "WHATPROT_EFFICIENCY", "WHATPROT_EDMAN_FAILURE", "DEFAULT_FALSE_DETECTION", "SKIPPED"]

#: Detection efficiency of Whatprot's published parameters (1 - p_dud).
WHATPROT_EFFICIENCY = 0.93
#: Per-cycle Edman failure rate of Whatprot's published parameters (``p_edman_failure``).
WHATPROT_EDMAN_FAILURE = 0.06
#: protlm's false-detection rate (Whatprot has none), used by :meth:`ErrorModel.whatprot`.
DEFAULT_FALSE_DETECTION = 0.01
#: Truth letter at a read position where an Edman cycle removed nothing.
SKIPPED = "-"


@dataclass(frozen=True)
class ErrorModel:
    """Per-cycle read errors (see the module docstring).

    Parameters
    ----------
    edman_failure : float
        Probability that a cycle removes nothing (later residues shift by one), in [0, 0.5].
    false_detection : float
        Probability that a position showing nothing shows a random known letter, in [0, 0.5].
    cycles : int, optional
        Cycles read (read length limit); None reads to the end.

    Examples
    --------
    >>> ErrorModel.whatprot()
    ErrorModel(edman_failure=0.06, false_detection=0.01, cycles=None)
    >>> ErrorModel().is_error_free
    True
    """

    edman_failure: float = 0.0
    false_detection: float = 0.0
    cycles: int | None = None

    def __post_init__(self):
        for name in ("edman_failure", "false_detection"):
            value = getattr(self, name)
            if not 0.0 <= value <= 0.5:
                raise ValueError(f"{name} must be in [0, 0.5], not {value}")
        if self.cycles is not None and self.cycles < 1:
            raise ValueError(f"cycles must be at least 1, not {self.cycles}")

    @classmethod
    def whatprot(cls, *, cycles: int | None = None) -> "ErrorModel":
        """Whatprot's published rates (Edman failure 0.06) and protlm's false detection 0.01."""
        return cls(edman_failure=WHATPROT_EDMAN_FAILURE, false_detection=DEFAULT_FALSE_DETECTION, cycles=cycles)

    @property
    def is_error_free(self) -> bool:
        """Whether the model adds no error at all (no Edman failure, no false detection, no cycle limit)."""
        return self.edman_failure == 0 and self.false_detection == 0 and self.cycles is None

    def to_dict(self) -> dict:
        """The rates as a JSON-ready dict (as recorded in report.json and the reads' sidecar)."""
        return asdict(self)

    def apply(self, observed: str, truth: str, known: str, rng) -> tuple[str, str]:
        """Add the errors to a read (already masked for missed detections).

        Parameters
        ----------
        observed : str
            The error-free read (known letters and ``X``), same length as ``truth``.
        truth : str
            The residues.
        known : str
            The known set (false detections draw from it).
        rng : numpy.random.Generator

        Returns
        -------
        read, aligned_truth : str
            The read with errors, and the truth aligned to it: the residue
            removed at each cycle, :data:`SKIPPED` where a cycle failed.

        Examples
        --------
        >>> import numpy as np
        >>> read, truth = ErrorModel(edman_failure=0.3).apply("XKXC", "AKLC", "KC", np.random.default_rng(1))
        >>> len(read) == len(truth) and truth.replace("-", "") == "AKLC"
        True
        """
        if self.is_error_free:
            return observed, truth
        obs = np.frombuffer(observed.encode("ascii"), dtype=np.uint8)
        res = np.frombuffer(truth.encode("ascii"), dtype=np.uint8)
        n = len(obs)
        if self.edman_failure > 0 and n:
            fails = rng.geometric(1.0 - self.edman_failure, size=n) - 1  # failed cycles before each removal
            pos = np.arange(n) + np.cumsum(fails)
            total = int(pos[-1]) + 1 if n else 0
            read = np.full(total, ord("X"), dtype=np.uint8)
            aligned = np.full(total, ord(SKIPPED), dtype=np.uint8)
            read[pos], aligned[pos] = obs, res
        else:
            read, aligned = obs.copy(), res.copy()
        if self.cycles is not None:
            read, aligned = read[: self.cycles], aligned[: self.cycles]
        if self.false_detection > 0:
            blank = np.flatnonzero(read == ord("X"))
            hit = blank[rng.random(len(blank)) < self.false_detection]
            letters = np.frombuffer(known.encode("ascii"), dtype=np.uint8)
            read[hit] = letters[rng.integers(0, len(letters), size=len(hit))]
        return read.tobytes().decode("ascii"), aligned.tobytes().decode("ascii")
