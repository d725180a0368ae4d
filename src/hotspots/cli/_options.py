"""Option declarations shared by several sub-commands (typer ``Annotated`` aliases).

Each command that reads incidents declares the same input options with these aliases
and turns them into one :class:`hotspots.config.IngestOptions` with :func:`ingest_options`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any

import typer

from hotspots.config import IngestOptions

__all__ = [
    "AreaField",
    "AreasFile",
    "AsOf",
    "Boundary",
    "Crs",
    "HarmTable",
    "IdCol",
    "Inputs",
    "LocationCol",
    "Offence",
    "OffenceCol",
    "OutDir",
    "Seed",
    "TimeCol",
    "TimeFormat",
    "TimeToCol",
    "Tz",
    "WorkingCrs",
    "XCol",
    "YCol",
    "ingest_options",
    "ingest_options_from",
    "with_ingest_options",
]

_IN = "Reading the input (only for tables that are not police.uk or hotspots files)"
_SEL = "Window and areas"

Inputs = Annotated[
    list[str],
    typer.Argument(
        help="Incident files, folders (searched recursively, e.g. a police.uk download) or "
        "globs: .csv, .csv.gz, .parquet, .gpkg, .geojson.",
        show_default=False,
    ),
]
OutDir = Annotated[Path, typer.Option("--out", help="Output folder (created if needed).")]
XCol = Annotated[
    str | None, typer.Option("--x-col", help="Longitude/easting column.", rich_help_panel=_IN)
]
YCol = Annotated[
    str | None, typer.Option("--y-col", help="Latitude/northing column.", rich_help_panel=_IN)
]
Crs = Annotated[
    str | None,
    typer.Option(
        "--crs",
        help="CRS of x/y, e.g. EPSG:26971. Default: detected (degrees -> EPSG:4326; "
        "metres -> EPSG:27700 inside Great Britain's grid, otherwise you must say).",
        rich_help_panel=_IN,
    ),
]
TimeCol = Annotated[
    str | None, typer.Option("--time-col", help="Date/time column.", rich_help_panel=_IN)
]
TimeFormat = Annotated[
    str | None,
    typer.Option(
        "--time-format",
        help="Date format, e.g. %d/%m/%Y. Needed when dates are ambiguous "
        "(01/02/2016); never guessed.",
        rich_help_panel=_IN,
    ),
]
TimeToCol = Annotated[
    str | None,
    typer.Option("--time-to-col", help="End of a from/to time window.", rich_help_panel=_IN),
]
OffenceCol = Annotated[
    str | None,
    typer.Option("--offence-col", help="Offence category/code column.", rich_help_panel=_IN),
]
Offence = Annotated[
    str | None,
    typer.Option(
        "--offence",
        help="One offence category for every row (file has no offence column), e.g. Burglary.",
        rich_help_panel=_IN,
    ),
]
IdCol = Annotated[
    str | None, typer.Option("--id-col", help="Unique incident id column.", rich_help_panel=_IN)
]
LocationCol = Annotated[
    str | None,
    typer.Option("--location-col", help="Street/location text column.", rich_help_panel=_IN),
]
Boundary = Annotated[
    Path | None,
    typer.Option(
        "--boundary",
        help="Polygon layer; incidents outside it are rejected (reason outside_boundary).",
        rich_help_panel=_IN,
    ),
]
Tz = Annotated[
    str, typer.Option("--tz", help="Time zone of timestamps without one.", rich_help_panel=_IN)
]
WorkingCrs = Annotated[
    str | None,
    typer.Option(
        "--working-crs",
        help="Metric CRS for analysis. Default: EPSG:27700 in Great Britain, "
        "the local UTM zone elsewhere.",
        rich_help_panel=_IN,
    ),
]
HarmTable = Annotated[
    str,
    typer.Option(
        "--harm-table",
        help="Harm weights: a shipped table name (cchi-2026-police-uk, "
        "cchi-2026-subgroups), a CSV file of offence,weight, or 'count' for unweighted.",
    ),
]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Date the run is for (YYYY-MM-DD). Default: the latest date in the data.",
        rich_help_panel=_SEL,
    ),
]
AreasFile = Annotated[
    Path | None,
    typer.Option(
        "--areas", help="Boundary layer of areas (districts, towns, wards).", rich_help_panel=_SEL
    ),
]
AreaField = Annotated[
    str | None,
    typer.Option("--area-field", help="Name field in --areas, e.g. LAD13NM.", rich_help_panel=_SEL),
]
Seed = Annotated[int, typer.Option("--seed", help="Random seed (written into the outputs).")]


def ingest_options(
    *,
    x_col: str | None = None,
    y_col: str | None = None,
    crs: str | None = None,
    time_col: str | None = None,
    time_format: str | None = None,
    time_to_col: str | None = None,
    offence_col: str | None = None,
    offence: str | None = None,
    id_col: str | None = None,
    location_col: str | None = None,
    boundary: Path | None = None,
    tz: str = "Europe/London",
    working_crs: str | None = None,
) -> IngestOptions:
    """Gather the shared input options into one frozen object."""
    return IngestOptions(
        x_col=x_col,
        y_col=y_col,
        crs=crs,
        time_col=time_col,
        time_format=time_format,
        time_to_col=time_to_col,
        offence_col=offence_col,
        offence=offence,
        id_col=id_col,
        location_col=location_col,
        boundary=boundary,
        tz=tz,
        working_crs=working_crs,
    )


def ingest_options_from(values: Mapping[str, Any]) -> IngestOptions:
    """The shared input options picked out of a command's parameters.

    Commands call ``ingest_options_from(locals())`` so the thirteen input options are
    named once, here, rather than passed one by one in every command.
    """
    names = {f.name for f in fields(IngestOptions)}
    return ingest_options(**{k: v for k, v in values.items() if k in names})


# name, typer alias and default of every shared input option, in --help order
_INGEST_PARAMETERS: tuple[tuple[str, Any, Any], ...] = (
    ("x_col", XCol, None),
    ("y_col", YCol, None),
    ("crs", Crs, None),
    ("time_col", TimeCol, None),
    ("time_format", TimeFormat, None),
    ("time_to_col", TimeToCol, None),
    ("offence_col", OffenceCol, None),
    ("offence", Offence, None),
    ("id_col", IdCol, None),
    ("location_col", LocationCol, None),
    ("boundary", Boundary, None),
    ("tz", Tz, "Europe/London"),
    ("working_crs", WorkingCrs, None),
)


def with_ingest_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the shared input options; it receives them as ``options``.

    The command declares a keyword parameter ``options: IngestOptions``; typer sees the
    thirteen input flags (``--x-col`` ... ``--working-crs``) in its place, so each command
    does not repeat them.
    """
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "options"]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=alias)
        for name, alias, default in _INGEST_PARAMETERS
    ]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name, default) for name, _, default in _INGEST_PARAMETERS}
        return command(*args, options=ingest_options(**values), **kwargs)

    wrapper.__signature__ = signature.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
    return wrapper
