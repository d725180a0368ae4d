"""Progress reporting without printing: the library calls back, the CLI draws.

A progress callback is ``progress(task, done, total)``: ``task`` names the work,
``done`` counts units finished so far and ``total`` is the number expected (or None).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress", "report"]

Progress = Callable[[str, int, int | None], None]


def report(progress: Progress | None, task: str, done: int, total: int | None = None) -> None:
    """Call ``progress`` if one was given."""
    if progress is not None:
        progress(task, done, total)
