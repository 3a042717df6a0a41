"""Option definitions shared by the commands: one spelling, one type, one help text each.

Every command that takes one of these uses the decorator here (``@device_option``...), so
``--device`` or ``--threads`` cannot drift apart between commands.
"""

from __future__ import annotations

import click

__all__ = ["device_option", "threads_option", "seed_option", "overwrite_option", "no_download_option",
           "species_key_option"]

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
