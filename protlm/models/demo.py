"""The shipped MalG-MalK demo model: a small family MSA Transformer for offline quick starts.

It is **not** the general pretrained MSA Transformer (``esm_msa1b_t12_100M_UR50S``):
it is a 4-layer, width-64 fair-esm ``MSATransformer`` trained by
``protlm.pairing.training`` on the MalG-MalK pairs of the DiffPALM paper
(Bitbol-Lab/DiffPALM, Apache-2.0), training species only.  It knows one
family pair (MalG permease + MalK ATPase) and nothing else; it is only ever
used when asked for by name (``protlm pair --model demo``), never as a
silent fallback.

Re-create it with (800 steps; 57 minutes on one thread of a shared, heavily loaded 2-core CPU)::

    python benchmarks/pairing.py --stage train --datasets malg-malk
    cp scratch/pairing_benchmark/malg-malk/model-*/model.pt protlm/models/weights/malg_malk_demo.pt
"""

from __future__ import annotations

from pathlib import Path

from protlm.models.weights import DEMO_MODEL_NAME, MODEL_ALIASES

__all__ = ["DEMO_NAMES", "DEMO_FILE", "demo_weights_path", "is_demo_name"]

#: Names that ask for the demo model where a model is named (the resolver's aliases, ``MODEL_ALIASES``).
DEMO_NAMES = tuple(alias for alias, name in MODEL_ALIASES.items() if name == DEMO_MODEL_NAME)

#: File name of the demo checkpoint inside ``protlm/models/weights/``.
DEMO_FILE = "malg_malk_demo.pt"


def is_demo_name(value) -> bool:
    """Whether a ``--model`` value names the demo model.

    Parameters
    ----------
    value : object
        A ``--model`` value (anything that is not a string is not a demo name).

    Examples
    --------
    >>> is_demo_name("demo"), is_demo_name("MalG-MalK-demo"), is_demo_name("demo.pt")
    (True, True, False)
    """
    return isinstance(value, str) and value.strip().lower() in DEMO_NAMES


def demo_weights_path() -> Path:
    """Path of the shipped MalG-MalK demo checkpoint (fair-esm format).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    WeightsNotFoundError
        If the package was installed without its weights folder (found by the one resolver,
        :func:`protlm.models.weights.resolve_weights`, model name ``malg_malk_demo``).

    Examples
    --------
    >>> demo_weights_path().name
    'malg_malk_demo.pt'
    """
    from protlm.models.weights import DEMO_MODEL_NAME, resolve_weights

    return resolve_weights(DEMO_MODEL_NAME).path
