"""The typer application every sub-command registers on, and the console it reports to."""

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

__all__ = ["app", "console", "progress_reporter", "state"]

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

console = Console(stderr=True, highlight=False)
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
