"""The typer application every sub-command registers on, and the consoles it reports to.

Results (a command's summary) go to standard output through :data:`stdout`; progress
bars, notes, warnings and errors go to standard error through :data:`console`, so a
scheduled run can keep the summary (``--json``) apart from the chatter. :func:`quiet`
silences both for a command's run (errors are still printed, one line, by ``main``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from hotspots._progress import Progress as ProgressFn

__all__ = ["app", "console", "progress_reporter", "quiet", "state", "stdout"]

app = typer.Typer(
    name="hotspots",
    help=(
        "Harm-spot and cocooning planner for police crime analysts.\n\n"
        "Distances are metres (EPSG:27700 in Great Britain), durations days or hours; "
        "option names carry their unit (--cell-m, --window-days, --due-hours)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

console = Console(stderr=True, highlight=False)  # progress, notes, warnings, errors
stdout = Console(highlight=False, soft_wrap=True)  # results: the summary a command prints
state: dict[str, bool] = {"debug": False}


@contextlib.contextmanager
def progress_reporter() -> Iterator[ProgressFn]:
    """A library progress callback drawn as rich progress bars on stderr."""
    bars = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def callback(task: str, done: int, total: int | None) -> None:
        if task not in tasks:
            tasks[task] = bars.add_task(task, total=total)
        bars.update(tasks[task], completed=done, total=total)

    with bars:
        yield callback


@contextlib.contextmanager
def quiet(enabled: bool = True) -> Iterator[None]:
    """Silence both consoles (summary, progress, notes) while the block runs.

    Errors still reach the user: ``hotspots.cli.main`` prints them after the block has
    restored the consoles.
    """
    before = console.quiet, stdout.quiet
    console.quiet, stdout.quiet = before[0] or enabled, before[1] or enabled
    try:
        yield
    finally:
        console.quiet, stdout.quiet = before
