"""Option definitions shared by the commands: one spelling, one type, one help text each.

Every command that takes one of these uses the decorator here (``@device_option``...), so
``--device`` or ``--threads`` cannot drift apart between commands.
"""

from __future__ import annotations

import logging

import click

from protlm.models.weights import DEFAULT_MODELS, MODEL_ALIASES, MODEL_NAMES

__all__ = ["device_option", "threads_option", "seed_option", "overwrite_option", "no_download_option",
           "species_key_option", "model_option", "init_option", "MODEL_GRAMMAR"]

log = logging.getLogger(__name__)

#: How every --model / --init value is read (protlm.models.weights.resolve_model), for help texts.
MODEL_GRAMMAR = ("NAME|PATH: a weights file, or a model name found in the weights search order ($PROTLM_*_WEIGHTS, "
                 "$PROTLM_WEIGHTS_DIR/NAME.pt, shipped weights, the torch hub cache, a fair-esm download).")

DEVICE_HELP = "auto (CUDA if available, else CPU), cpu, cuda, cuda:N or mps."
SPECIES_KEY_HELP = ("auto (UniRef TaxID= / UniProt OX=), field:SEP:N (1-based, negative from the end, e.g. "
                    "field:|:2 for HK-RR, field:_:-1 for MalG/MalK) or regex:PATTERN (first group).")


def device_option(f):
    """``--device`` (default ``auto``)."""
    return click.option("--device", default="auto", show_default=True, help=DEVICE_HELP)(f)


def threads_option(f):
    """``--threads`` (torch CPU threads; default: torch's own choice)."""
    return click.option("--threads", type=click.IntRange(min=1), default=None,
                        help="torch CPU threads (default: torch's choice).")(f)


def seed_option(default: int = 0, help: str | None = None):
    """``--seed`` with the library's ``default``.

    Parameters
    ----------
    default : int
        The library's default seed.
    help : str, optional
        What the seed drives in this command.
    """
    return click.option("--seed", type=int, default=default, show_default=True, help=help)


def overwrite_option(help: str):
    """``--overwrite``, with what it replaces in this command.

    Parameters
    ----------
    help : str
        What the flag replaces.
    """
    return click.option("--overwrite", is_flag=True, help=help)


def no_download_option(f):
    """``--no-download``: never download weights (also ``$PROTLM_OFFLINE``)."""
    return click.option("--no-download", is_flag=True,
                        help="Never download weights (also set by $PROTLM_OFFLINE).")(f)


def species_key_option(f):
    """``--species-key`` (default ``auto``)."""
    return click.option("--species-key", default="auto", show_default=True, help=SPECIES_KEY_HELP)(f)


def _names(task: str) -> str:
    aliases = [a for a, n in MODEL_ALIASES.items() if n in MODEL_NAMES[task]]
    return ", ".join(list(MODEL_NAMES[task]) + aliases)


def model_option(task: str, dest: str = "model", *, help: str, old: str | None = None):
    """``--model NAME|PATH``: the model a command runs, read by :func:`protlm.models.weights.resolve_model`.

    The default shown is the library's (:data:`protlm.models.weights.DEFAULT_MODELS`).

    Parameters
    ----------
    task : {"pair", "sequence"}
        Which names the option takes (:data:`protlm.models.weights.MODEL_NAMES`).
    dest : str
        The command function's parameter.
    help : str
        What the model is for, in this command.
    old : str, optional
        A former spelling (e.g. ``--weights``) kept as a hidden alias: it still
        works, and logs a deprecation warning.
    """

    def merge(ctx, param, value):
        earlier = ctx.params.get(dest)
        if value is not None and earlier is not None and earlier != value:
            raise click.UsageError(f"--model and {old} name different models: give --model only")
        return value if value is not None else earlier

    main = click.option("--model", dest, default=None, metavar="NAME|PATH", callback=merge,
                        show_default=DEFAULT_MODELS[task], help=f"{help} {MODEL_GRAMMAR} Names: {_names(task)}.")
    if old is None:
        return main

    def alias(ctx, param, value):
        if value is None:
            return
        log.warning("%s is deprecated: use --model %s (the same NAME|PATH)", old, value)
        earlier = ctx.params.get(dest)
        if earlier is not None and earlier != value:
            raise click.UsageError(f"--model and {old} name different models: give --model only")
        ctx.params[dest] = value

    hidden = click.option(old, f"_{dest}_alias", default=None, hidden=True, expose_value=False, callback=alias)
    return lambda f: main(hidden(f))


def init_option(task: str, *, help: str):
    """``--init NAME|PATH``: the model a training starts from, the same grammar as ``--model`` (default: from scratch).

    Parameters
    ----------
    task : {"pair", "sequence"}
        Which names the option takes (:data:`protlm.models.weights.MODEL_NAMES`).
    help : str
        What starting from it means in this command.
    """
    return click.option("--init", "init", default=None, metavar="NAME|PATH",
                        help=f"{help} {MODEL_GRAMMAR} Names: {_names(task)}. Default: from scratch.")
