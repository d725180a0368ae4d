"""Command line: ``hotspots SUB-COMMAND ...`` (see ``hotspots --help``).

User mistakes (:class:`hotspots.errors.HotspotsError`) end with one red line and exit
status 1; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from hotspots import __version__
from hotspots.cli._app import app, console, state
from hotspots.errors import HotspotsError

# each module registers its sub-command(s) on ``app`` when imported
from hotspots.cli import (  # noqa: E402, F401  isort: skip
    cmd_ingest,
    cmd_spots,
    cmd_knox,
    cmd_cocoon,
    cmd_weekly,
    cmd_evaluate,
    cmd_demo,
    cmd_compare,
    cmd_impact,
    cmd_target,
)

__all__ = ["app", "main"]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hotspots {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show full tracebacks for errors (for bug reports).")
    ] = False,
) -> None:
    """Harm-spot and cocooning planner for police crime analysts."""
    state["debug"] = debug


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``hotspots`` console script."""
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=args, prog_name="hotspots")
    except HotspotsError as exc:
        if state["debug"] or "--debug" in args:
            raise
        console.print(f"[bold red]Error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        console.print("Interrupted; outputs already written are complete, nothing half-written.")
        sys.exit(130)
