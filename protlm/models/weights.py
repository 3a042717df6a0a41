"""One resolver for every model's weights, with one documented search order.

For a model name (``esm_msa1b_t12_100M_UR50S``, ``esm2_t6_8M_UR50D``...,
``protlm_sequencer`` for protlm's own sequencing model, ``malg_malk_demo`` for
the shipped pairing demo) the weights file is looked for, in this order:

1. the path the caller names (``--model PATH`` / ``--init PATH``; a folder
   is searched for ``<name>.pt``).  A named path that does not exist is an
   error: protlm never silently uses other weights than the ones asked for;
2. the model's own environment variable (``PROTLM_MSA_WEIGHTS`` for the MSA
   Transformer, ``PROTLM_ESM2_WEIGHTS`` for ESM-2 models,
   ``PROTLM_SEQUENCER_WEIGHTS`` for protlm's sequencer): a file path.  When
   set, it must exist;
3. ``$PROTLM_WEIGHTS_DIR/<name>.pt``;
4. for models that ship inside protlm, the shipped file
   (``protlm/models/weights/``): the sequencer's default, and the demo model
   when asked for by name;
5. for fair-esm models, fair-esm's torch hub cache,
   ``$TORCH_HOME/hub/checkpoints/<name>.pt`` (``~/.cache/torch/hub/checkpoints``
   by default).  The contact-regression file is not needed;
6. for fair-esm models, a download through fair-esm into that cache, only when
   downloads are allowed (not ``download=False`` and ``PROTLM_OFFLINE`` unset)
   and the download server can be reached.

When nothing is found, :class:`~protlm.errors.WeightsNotFoundError` lists every
place searched and how to get the weights.  Resolution touches no model and
allocates nothing, so callers run it before any work.

Every command names its model the same way, ``NAME|PATH`` (``--model`` for the
model a command runs, ``--init`` for the start of a training):
:func:`resolve_model` reads that value for a task (:data:`MODEL_NAMES`: the
names each task accepts) and hands it to :func:`resolve_weights`.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from protlm.errors import WeightsNotFoundError

__all__ = ["ModelSpec", "ResolvedWeights", "KNOWN_MODELS", "resolve_weights", "hub_checkpoint_dir", "MSA_MODEL_NAME",
           "SEQUENCER_MODEL_NAME", "DEMO_MODEL_NAME", "shipped_weights_dir", "MODEL_NAMES", "MODEL_ALIASES",
           "DEFAULT_MODELS", "resolve_model"]

log = logging.getLogger(__name__)

_FAIR_ESM_URL = "https://dl.fbaipublicfiles.com/fair-esm/models/{name}.pt"
_DOWNLOAD_HOST = ("dl.fbaipublicfiles.com", 443)

#: The pretrained MSA Transformer used by DiffPALM.
MSA_MODEL_NAME = "esm_msa1b_t12_100M_UR50S"
#: protlm's own masked-residue predictor (``protlm sequence``); its default ships in the package.
SEQUENCER_MODEL_NAME = "protlm_sequencer"
#: The shipped MalG-MalK family model (``protlm pair --model demo``), used only when asked for by name.
DEMO_MODEL_NAME = "malg_malk_demo"


@dataclass(frozen=True)
class ModelSpec:
    """What the resolver knows about a model name.

    Parameters
    ----------
    name : str
        fair-esm model name, also the checkpoint's file stem.
    env_var : str
        Environment variable that may hold the path of its weights file.
    label : str
        Human-readable name for messages.
    shipped : str or None
        File name inside ``protlm/models/weights/`` for a model that ships with protlm.
    fair_esm : bool
        Whether fair-esm publishes it (torch hub cache and download steps).
    option : str
        The command-line option that names a file for it, for messages.
    """

    name: str
    env_var: str
    label: str
    shipped: str | None = None
    fair_esm: bool = True
    option: str = "--model"

    @property
    def url(self) -> str:
        """Where fair-esm downloads the checkpoint from."""
        return _FAIR_ESM_URL.format(name=self.name)


KNOWN_MODELS = {
    spec.name: spec
    for spec in (
        ModelSpec(MSA_MODEL_NAME, "PROTLM_MSA_WEIGHTS", "MSA Transformer (ESM-MSA-1b)"),
        ModelSpec("esm2_t6_8M_UR50D", "PROTLM_ESM2_WEIGHTS", "ESM-2 8M"),
        ModelSpec("esm2_t12_35M_UR50D", "PROTLM_ESM2_WEIGHTS", "ESM-2 35M"),
        ModelSpec("esm2_t30_150M_UR50D", "PROTLM_ESM2_WEIGHTS", "ESM-2 150M"),
        ModelSpec("esm2_t33_650M_UR50D", "PROTLM_ESM2_WEIGHTS", "ESM-2 650M"),
        ModelSpec(SEQUENCER_MODEL_NAME, "PROTLM_SEQUENCER_WEIGHTS", "protlm sequencer", shipped="sequencer_default.pt",
                  fair_esm=False),
        ModelSpec(DEMO_MODEL_NAME, "PROTLM_DEMO_WEIGHTS", "MalG-MalK demo model", shipped="malg_malk_demo.pt",
                  fair_esm=False),
    )
}


def shipped_weights_dir() -> Path:
    """The folder of the weights that ship inside protlm (``protlm/models/weights/``)."""
    from importlib import resources

    return Path(str(resources.files("protlm.models") / "weights"))


@dataclass(frozen=True)
class ResolvedWeights:
    """A weights file found by :func:`resolve_weights`.

    ``source`` says which step of the search order found it: ``"path"``,
    ``"env:VAR"``, ``"env:PROTLM_WEIGHTS_DIR"``, ``"shipped"``,
    ``"torch-hub-cache"`` or ``"download"``.  Every source is either named by the user or fair-esm's own
    cache, so the file may be unpickled with ``weights_only=False``.
    """

    model_name: str
    path: Path
    source: str

    @property
    def format(self) -> str:
        """The file's kind: ``"protlm-sequencer"``, ``"esm2"`` or ``"msa-transformer"`` (fair-esm's checkpoint formats)."""
        if self.model_name == SEQUENCER_MODEL_NAME:
            return "protlm-sequencer"
        return "esm2" if self.model_name.startswith("esm2") else "msa-transformer"


def hub_checkpoint_dir() -> Path:
    """fair-esm's download folder: ``torch.hub.get_dir()/checkpoints`` (honours ``TORCH_HOME``)."""
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def _spec(model_name: str) -> ModelSpec:
    if model_name in KNOWN_MODELS:
        return KNOWN_MODELS[model_name]
    env = "PROTLM_ESM2_WEIGHTS" if model_name.startswith("esm2") else "PROTLM_MSA_WEIGHTS"
    return ModelSpec(model_name, env, model_name)


def _online(timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection(_DOWNLOAD_HOST, timeout=timeout):
            return True
    except OSError:
        return False


def _in_folder(folder: Path, name: str) -> Path:
    return folder / f"{name}.pt"


def resolve_weights(model_name: str = MSA_MODEL_NAME, *, path=None, download=None) -> ResolvedWeights:
    """Find the weights file of ``model_name`` (see the module docstring for the order).

    Parameters
    ----------
    model_name : str
        fair-esm model name; the file looked for is ``<model_name>.pt``.
    path : str or os.PathLike, optional
        A checkpoint file in fair-esm's format, or a folder holding ``<model_name>.pt``.
    download : bool or None
        ``False`` never downloads; ``None`` (default) and ``True`` download
        through fair-esm when ``PROTLM_OFFLINE`` is unset and the server answers.

    Returns
    -------
    ResolvedWeights

    Raises
    ------
    WeightsNotFoundError
        Listing every place searched and how to get the weights.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> open(os.path.join(d, "esm_msa1b_t12_100M_UR50S.pt"), "wb").close()
    >>> resolve_weights(path=d).source
    'path'
    """
    spec = _spec(model_name)
    searched: list[str] = []

    if path is not None:
        p = Path(path).expanduser()
        candidate = _in_folder(p, spec.name) if p.is_dir() else p
        if candidate.is_file():
            return _found(spec, candidate, "path")
        searched.append(f"{spec.option} {candidate} (does not exist)")
        raise WeightsNotFoundError(_message(spec, searched, named=True))
    searched.append(f"{spec.option} (not given)")

    env_value = os.environ.get(spec.env_var)
    if env_value:
        p = Path(env_value).expanduser()
        candidate = _in_folder(p, spec.name) if p.is_dir() else p
        if candidate.is_file():
            return _found(spec, candidate, f"env:{spec.env_var}")
        searched.append(f"${spec.env_var}={candidate} (does not exist)")
        raise WeightsNotFoundError(_message(spec, searched, named=True))
    searched.append(f"${spec.env_var} (not set)")

    weights_dir = os.environ.get("PROTLM_WEIGHTS_DIR")
    if weights_dir:
        candidate = _in_folder(Path(weights_dir).expanduser(), spec.name)
        if candidate.is_file():
            return _found(spec, candidate, "env:PROTLM_WEIGHTS_DIR")
        searched.append(f"$PROTLM_WEIGHTS_DIR: {candidate} (missing)")
    else:
        searched.append("$PROTLM_WEIGHTS_DIR (not set)")

    if spec.shipped:
        shipped = shipped_weights_dir() / spec.shipped
        if shipped.is_file():
            return _found(spec, shipped, "shipped")
        searched.append(f"shipped {shipped} (missing: reinstall protlm)")
    if not spec.fair_esm:
        raise WeightsNotFoundError(_message(spec, searched, named=False))

    cached = _in_folder(hub_checkpoint_dir(), spec.name)
    if cached.is_file():
        return _found(spec, cached, "torch-hub-cache")
    searched.append(f"torch hub cache {cached} (missing)")

    if download is False:
        searched.append("download through fair-esm (disabled)")
    elif os.environ.get("PROTLM_OFFLINE"):
        searched.append("download through fair-esm (disabled by $PROTLM_OFFLINE)")
    elif not _online():
        searched.append(f"download through fair-esm from {spec.url} (server unreachable)")
    else:
        log.info("downloading %s through fair-esm into %s", spec.url, cached.parent)
        import esm.pretrained

        try:
            esm.pretrained.load_hub_workaround(spec.url)
        except Exception as exc:  # network errors of many kinds
            searched.append(f"download through fair-esm from {spec.url} (failed: {exc})")
        else:
            if cached.is_file():
                return _found(spec, cached, "download")
            searched.append(f"download through fair-esm from {spec.url} (no file appeared at {cached})")
    raise WeightsNotFoundError(_message(spec, searched, named=False))


def _found(spec: ModelSpec, path: Path, source: str) -> ResolvedWeights:
    log.info("%s weights: %s (from %s)", spec.label, path, source)
    return ResolvedWeights(spec.name, path.resolve(), source)


def _message(spec: ModelSpec, searched: list[str], *, named: bool) -> str:
    if not spec.fair_esm:
        how = (f"give a weights file (e.g. a best.pt of `protlm train-sequencer`), fix or unset ${spec.env_var}, "
               "or reinstall protlm to restore its shipped weights")
        return f"{spec.label} weights '{spec.name}' not found; searched: " + "; ".join(searched) + "; " + how
    how = (
        f"to get them, download {spec.url} (or run `python -c \"import esm.pretrained as p; "
        f"p.load_hub_workaround('{spec.url}')\"` on a machine with internet, which fills the torch hub cache) "
        f"and pass --model PATH, set ${spec.env_var}, or copy it to $PROTLM_WEIGHTS_DIR or the torch hub cache"
    )
    if named:
        how = "check the path; " + how
    return f"{spec.label} weights '{spec.name}' not found; searched: " + "; ".join(searched) + "; " + how


# --------------------------------------------------------------------------- one way to name a model
#: The model names each task's ``--model`` / ``--init`` accepts (besides a path); ``esm2_*`` stands for every ESM-2.
MODEL_NAMES = {
    "pair": (MSA_MODEL_NAME, DEMO_MODEL_NAME),
    "sequence": (SEQUENCER_MODEL_NAME, "esm2_*"),
}
#: Short names of the shipped models.
MODEL_ALIASES = {"demo": DEMO_MODEL_NAME, "malg-malk-demo": DEMO_MODEL_NAME}
#: The model a task runs when none is named.
DEFAULT_MODELS = {"pair": MSA_MODEL_NAME, "sequence": SEQUENCER_MODEL_NAME}


def _name_for(value: str, task: str) -> str | None:
    """The model name ``value`` gives for ``task``, or None when it names none (a path)."""
    name = MODEL_ALIASES.get(value.strip().lower(), value)
    if task == "sequence" and name.startswith("esm2_") and "/" not in name and not name.endswith(".pt"):
        return name
    return name if name in MODEL_NAMES[task] else None


def _sequencing_format(path: Path) -> str:
    """``"esm2"`` for a torch file that is not protlm's sequencer format (read from its pickle, no tensor loaded),
    else ``"protlm-sequencer"`` (whose loader names a file that is neither)."""
    import zipfile

    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
        if head[:1] == b"\x80":  # a legacy torch pickle: fair-esm's format, never protlm's
            return "esm2"
        with zipfile.ZipFile(path) as z:
            pickles = [n for n in z.namelist() if n.endswith("/data.pkl")]
            return "protlm-sequencer" if pickles and b"protlm-sequencer" in z.read(pickles[0]) else "esm2"
    except (OSError, zipfile.BadZipFile):
        return "protlm-sequencer"


def resolve_model(value=None, *, task: str, option: str = "--model", download=None) -> ResolvedWeights:
    """The weights a ``NAME|PATH`` value names: the one grammar of ``--model`` and ``--init`` in every command.

    Parameters
    ----------
    value : str, os.PathLike or None
        A model name of ``task`` (:data:`MODEL_NAMES`, :data:`MODEL_ALIASES`),
        resolved in the module's search order; or a weights file (for
        ``pair``: an MSA Transformer checkpoint in fair-esm's format, or a
        folder holding ``esm_msa1b_t12_100M_UR50S.pt``; for ``sequence``: a
        protlm sequencer file or an ESM-2 checkpoint in fair-esm's format,
        told apart by content: a torch file without protlm's format marker is
        an ESM-2).
        ``None``: the task's default (:data:`DEFAULT_MODELS`).
    task : {"pair", "sequence"}
        Which family of models: the MSA Transformer (``pair``,
        ``train-pair-model``) or the sequencers (``sequence``, ``train-sequencer``).
    option : str
        The option the value came from, for messages.
    download : bool or None
        As in :func:`resolve_weights`.

    Returns
    -------
    ResolvedWeights
        ``format`` says how to load it.

    Raises
    ------
    WeightsNotFoundError
        A value that is no name of ``task`` and no existing file, or a name
        whose weights are found nowhere (every place searched is listed).

    Examples
    --------
    >>> resolve_model("demo", task="pair").path.name, resolve_model(task="sequence").format
    ('malg_malk_demo.pt', 'protlm-sequencer')
    >>> resolve_model("esm2_t6_8M_UR50D", task="pair")
    Traceback (most recent call last):
    ...
    protlm.errors.WeightsNotFoundError: --model esm2_t6_8M_UR50D: no such file (does not exist), and not a model name of this command (esm_msa1b_t12_100M_UR50S, malg_malk_demo, demo, malg-malk-demo)
    """
    if task not in MODEL_NAMES:
        raise ValueError(f"task must be one of {sorted(MODEL_NAMES)}, not {task!r}")
    if value is None:
        return resolve_weights(DEFAULT_MODELS[task], download=download)
    value = os.fspath(value)
    name = _name_for(value, task)
    if name is not None:
        return resolve_weights(name, download=download)
    p = Path(value).expanduser()
    if not p.exists():
        names = list(MODEL_NAMES[task]) + [a for a, n in MODEL_ALIASES.items() if n in MODEL_NAMES[task]]
        raise WeightsNotFoundError(f"{option} {value}: no such file (does not exist), and not a model name of this "
                                   f"command ({', '.join(names)})")
    if task == "pair":
        return resolve_weights(MSA_MODEL_NAME, path=p, download=download)
    if not p.is_file():
        raise WeightsNotFoundError(f"{option} {value}: a folder; name the weights file (a protlm sequencer file or "
                                   "an ESM-2 checkpoint), or a model name (protlm_sequencer, esm2_...)")
    if _sequencing_format(p) == "protlm-sequencer":
        return resolve_weights(SEQUENCER_MODEL_NAME, path=p)
    return resolve_weights(p.stem if p.stem.startswith("esm2") else "esm2_" + p.stem, path=p, download=download)
