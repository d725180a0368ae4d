"""Command-line flags generated from the option objects in :mod:`hotspots.config`.

Every option is declared once, as a field of its option object with the flag name, help
and parsing rule in the field's metadata. :func:`with_options` gives a command the flags
of the option groups (and run inputs) it uses; the command receives the values the user
gave as one flat mapping ``given`` (field name -> value, flags not given left out) and
builds the option objects from it, so the objects' checks run before any file is read.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from dataclasses import MISSING, Field
from pathlib import Path
from typing import Annotated, Any

import typer

from hotspots.config import STAGE_GROUPS, WeeklySettings, option_fields

__all__ = ["Inputs", "OutDir", "flag_declarations", "out_dir_for", "with_options"]

Inputs = Annotated[
    list[str],
    typer.Argument(
        help="Incident files, folders (searched recursively, e.g. a police.uk download) or "
        "globs: .csv, .csv.gz, .parquet, .gpkg, .geojson.",
        show_default=False,
    ),
]
OutDir = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Output folder (created if needed). Default: maps/<command>.",
        show_default=False,
    ),
]

_CLI_TYPE: dict[str, Any] = {
    "text": str,
    "int": int,
    "float": float,
    "bool": bool,
    "path": Path,
    "names": str,
    "numbers": str,
    "pairs": list[str],
}


def out_dir_for(out: Path | None, command: str) -> Path:
    """``--out`` or the command's default folder ``maps/<command>``."""
    return out if out is not None else Path("maps") / command


def _default_text(f: Field[Any]) -> str | None:
    show = f.metadata.get("show")
    if show is not None:
        return str(show)
    default = f.default
    if default is MISSING or default is None:
        return None
    if isinstance(default, bool):
        names = f.metadata["flag"].split("/")
        return names[0] if default else names[-1]
    if isinstance(default, tuple):
        return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in default)
    if isinstance(default, float):
        return f"{default:g}"
    return str(default)


def _parameter(f: Field[Any]) -> inspect.Parameter:
    meta = f.metadata
    shown = _default_text(f)
    text = meta["help"] + (f" (default: {shown})" if shown else "")
    option = typer.Option(
        *meta["flag"].split(" "),
        help=text,
        rich_help_panel=meta.get("panel"),
        show_default=False,
    )
    cli_type = _CLI_TYPE[meta["parse"]]
    annotation = Annotated[cli_type | None, option]  # type: ignore[valid-type]
    return inspect.Parameter(
        f.name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation
    )


def flag_declarations(groups: Iterable[type], run: Iterable[str] = ()) -> list[Field[Any]]:
    """The option fields of ``groups`` plus single options named in ``run``.

    ``run`` names fields of WeeklySettings (the run's inputs: ``as_of``, ``areas`` ...)
    or single options of any stage group (``radius_m``), for commands that take a few.
    """
    chosen = [f for cls in groups for f in option_fields(cls)]
    by_name = {f.name: f for f in option_fields(WeeklySettings)}
    for cls in STAGE_GROUPS:
        by_name.update({f.name: f for f in option_fields(cls)})
    chosen += [by_name[name] for name in run]
    return chosen


def with_options(
    *groups: type, run: Iterable[str] = (), exclude: Iterable[str] = ()
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command the flags of ``groups`` (option classes) and ``run`` (run inputs).

    The command declares a keyword parameter ``given: dict``; typer sees the generated
    flags in its place and the command receives the values the user gave, by field name.
    """
    skip = set(exclude)
    declared = [f for f in flag_declarations(groups, run) if f.name not in skip]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.name != "given"]
        clash = {p.name for p in own} & {f.name for f in declared}
        if clash:  # pragma: no cover - a programming error caught by the drift test
            raise TypeError(f"{command.__name__} declares generated options {sorted(clash)}")
        added = [_parameter(f) for f in declared]
        names = [f.name for f in declared]

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            given = {n: kwargs.pop(n) for n in names if kwargs.get(n) is not None}
            for n in names:
                kwargs.pop(n, None)
            return command(*args, given=given, **kwargs)

        wrapper.__signature__ = signature.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
        return wrapper

    return decorate
