"""Saving, loading and locating protlm's own masked-residue predictor weights.

The weights file is a plain ``torch.save`` dict (loaded with
``weights_only=True``: tensors, numbers and strings only)::

    {"format": "protlm-sequencer", "format_version": 1,
     "config": {...SequencerModel arguments...},
     "state_dict": {...}, "metadata": {...how it was trained...}}

Weights are found by protlm's one resolver (:mod:`protlm.models.weights`,
model name ``protlm_sequencer``): an explicit path, then the
``PROTLM_SEQUENCER_WEIGHTS`` environment variable, then
``$PROTLM_WEIGHTS_DIR/protlm_sequencer.pt``, then the default model shipped
inside the package (``protlm/models/weights/sequencer_default.pt``).  As for
the MSA Transformer and ESM-2, a source that is given (the path or the
variable) but names no file is an error listing where protlm looked; it never
falls back to the shipped model.
"""

from __future__ import annotations

from pathlib import Path

from protlm.errors import FormatError

__all__ = [
    "resolve_sequencer_weights",
    "save_sequencer",
    "load_sequencer",
]

FORMAT = "protlm-sequencer"


def resolve_sequencer_weights(path=None) -> Path:
    """The sequencer weights file, found by the one resolver (:func:`protlm.models.weights.resolve_weights`).

    Order: ``path`` > ``$PROTLM_SEQUENCER_WEIGHTS`` > ``$PROTLM_WEIGHTS_DIR/protlm_sequencer.pt`` > the
    shipped default.  A path or variable naming a missing file is an error, never a fallback.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A weights file of ``protlm train-sequencer``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    WeightsNotFoundError
        Listing every place looked at.

    Examples
    --------
    >>> resolve_sequencer_weights().name
    'sequencer_default.pt'
    """
    from protlm.models.weights import SEQUENCER_MODEL_NAME, resolve_weights

    return resolve_weights(SEQUENCER_MODEL_NAME, path=path).path


def save_sequencer(model, path, *, metadata=None) -> None:
    """Write a :class:`~protlm.models.sequencer_model.SequencerModel` as a weights file, atomically.

    Parameters
    ----------
    model : SequencerModel
        The model to save.
    path : str or os.PathLike
        Destination file (written atomically).
    metadata : dict, optional
        Options, data and training history stored beside the weights.
    """
    import torch

    from protlm.io.atomic import atomic_write

    obj = {
        "format": FORMAT,
        "format_version": 1,
        "config": dict(model.config),
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "metadata": metadata or {},
    }
    with atomic_write(path, "wb") as fh:
        torch.save(obj, fh)


def _read_weights(path) -> dict:
    """The dictionary a protlm sequencer weights file holds; :class:`FormatError` for anything else."""
    import torch

    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != b"PK\x03\x04":
        raise FormatError("cannot read sequencer weights: not a torch.save file", path=path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a bad file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise FormatError(f"cannot read sequencer weights ({type(exc).__name__}: {first})", path=path) from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise FormatError(f"not a protlm sequencer weights file (expected format {FORMAT!r})", path=path)
    return obj


def is_sequencer_weights(path) -> bool:
    """Whether ``path`` is a protlm sequencer weights file (not, e.g., an ESM-2 checkpoint).

    Examples
    --------
    >>> is_sequencer_weights("no/such/file.pt")
    False
    """
    try:
        _read_weights(path)
    except (OSError, FormatError):
        return False
    return True


def load_sequencer(path=None, *, device="cpu"):
    """Load a weights file (resolved by :func:`resolve_sequencer_weights`).

    Parameters
    ----------
    path : str or os.PathLike, optional
        A weights file; ``None`` resolves it (:func:`resolve_sequencer_weights`).
    device : str or torch.device
        Where to put the model.

    Returns
    -------
    (SequencerModel, dict)
        The model in eval mode on ``device``, and the file's metadata.

    Raises
    ------
    WeightsNotFoundError
        No file found.
    FormatError
        The file is not a protlm sequencer weights file.
    """
    from protlm.models.sequencer_model import build_sequencer_model

    resolved = resolve_sequencer_weights(path)
    obj = _read_weights(resolved)
    try:
        model = build_sequencer_model(obj["config"])
    except (TypeError, ValueError) as exc:
        raise FormatError(f"sequencer weights describe a model protlm cannot build: {exc}", path=resolved) from None
    model.load_state_dict(obj["state_dict"])
    model.eval()
    metadata = dict(obj.get("metadata", {}))
    metadata["path"] = str(resolved)
    return model.to(device), metadata
