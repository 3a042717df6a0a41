"""protlm command line.

Commands are imported lazily (``protlm --help`` stays instant): each entry of
``COMMANDS`` names the module and function that implement it.  Any
:class:`protlm.errors.ProtlmError` becomes one line on stderr and exit status 2.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from protlm import __version__
from protlm.errors import ProtlmError

# command name -> "module:attribute"; one line per command, kept sorted.
COMMANDS = {
    "index": "protlm.cli.index:index_command",
    "inspect": "protlm.cli.inspect:inspect",
    "msa": "protlm.cli.msa:msa_command",
    "pair": "protlm.cli.pair:pair",
    "sequence": "protlm.cli.sequence:sequence_command",
    "simulate": "protlm.cli.sequence:simulate_command",
    "summarize": "protlm.cli.summarize:summarize",
    "train-pair-model": "protlm.cli.train_pair_model:train_pair_model",
    "train-sequencer": "protlm.cli.sequence:train_sequencer_command",
}

log = logging.getLogger("protlm")


class _LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ProtlmError as exc:
            click.echo(f"protlm: error: {exc}", err=True)
            ctx.exit(2)
        except (BrokenPipeError, KeyboardInterrupt):
            ctx.exit(130)
        except OSError as exc:  # a file that cannot be read or written: one line naming it, not a traceback
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"protlm: error: {where}{exc.strerror or exc}", err=True)
            ctx.exit(2)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Usage errors (a missing file, a bad option value) as one line, exit status 2, like every other error."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            # non-standalone click returns the exit status of ctx.exit(N) instead of exiting; commands return None
            status = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            sys.exit(status if isinstance(status, int) else 0)
        except click.exceptions.Abort:
            click.echo("protlm: aborted", err=True)
            sys.exit(130)
        except click.UsageError as exc:
            if isinstance(exc, getattr(click.exceptions, "NoArgsIsHelpError", ())) and exc.ctx is not None:
                click.echo(exc.ctx.get_help())  # `protlm` alone: the help, as click shows it
                sys.exit(0)
            command = exc.ctx.command_path if exc.ctx is not None else "protlm"
            click.echo(f"protlm: error: {exc.format_message()} (see '{command} --help')", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            click.echo(f"protlm: error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)


def _configure_logging(level: str, log_file: str | None) -> None:
    root = logging.getLogger("protlm")
    root.setLevel(logging.DEBUG)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(getattr(logging, level.upper()))
    handler.setFormatter(fmt)
    root.handlers[:] = [handler]
    if log_file:
        fh = logging.FileHandler(log_file)
        fh.setLevel(logging.DEBUG)
        fh.setFormatter(fmt)
        root.addHandler(fh)
    root.propagate = False


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="protlm")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default="info",
    show_default=True,
    help="Verbosity of messages on stderr.",
)
@click.option("--log-file", type=click.Path(dir_okay=False), default=None, help="Also write a full debug log here.")
def main(log_level, log_file):
    """protlm: protein language models for paralog pairing and partial peptide sequencing."""
    _configure_logging(log_level, log_file)
