"""Frozen option objects shared across stages, and loading them from TOML.

Stage functions take their options as keyword arguments; the objects here gather the
ones several commands share (how to read an input table) and the weekly run's TOML file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from hotspots.errors import InputError, OptionError

__all__ = ["IngestOptions", "load_toml"]


@dataclass(frozen=True)
class IngestOptions:
    """How to read incident tables that are not a recognised format.

    police.uk street CSVs (either header style), police.uk API records and hotspots' own
    canonical files are recognised without any of these. For any other table name the
    columns; ``crs`` is detected from the values (lon/lat or metres) when not given.

    Attributes
    ----------
    x_col, y_col
        Coordinate columns (longitude/easting, latitude/northing).
    crs
        CRS of x/y, e.g. ``"EPSG:26971"``; detected when None (degrees vs metres).
    time_col
        Date or date-time column (start of the window for from/to data).
    time_format
        ``strftime`` format such as ``"%d/%m/%Y"``; required when dates are ambiguous
        (01/02/2016 could be 1 Feb or 2 Jan and is never guessed).
    time_to_col
        End of a from/to window, if the source has one.
    offence_col
        Column holding the offence category or code.
    offence
        One category for every row, for a file that has no offence column.
    id_col
        Unique incident id column; generated from file and row when None.
    location_col
        Free-text location/street column.
    boundary
        Polygon layer; rows outside it are rejected with reason ``outside_boundary``.
    tz
        Time zone of naive timestamps (default Europe/London).
    working_crs
        Metric CRS for analysis; default EPSG:27700 in Great Britain, local UTM elsewhere.
    """

    x_col: str | None = None
    y_col: str | None = None
    crs: str | None = None
    time_col: str | None = None
    time_format: str | None = None
    time_to_col: str | None = None
    offence_col: str | None = None
    offence: str | None = None
    id_col: str | None = None
    location_col: str | None = None
    boundary: Path | None = None
    tz: str = "Europe/London"
    working_crs: str | None = None

    @classmethod
    def from_mapping(cls, values: dict[str, Any], *, source: str = "options") -> IngestOptions:
        """Build from a mapping (TOML table, CLI keywords), refusing unknown keys."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            msg = f"{source}: unknown ingest option(s) {unknown}; known: {sorted(known)}."
            raise OptionError(msg)
        clean = {k: v for k, v in values.items() if v is not None}
        if "boundary" in clean:
            clean["boundary"] = Path(clean["boundary"])
        return cls(**clean)


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML settings file; keys use the CLI option names with ``_`` for ``-``."""
    p = Path(path)
    try:
        with p.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as exc:
        msg = f"Config file {p} does not exist; check the --config path."
        raise InputError(msg) from exc
    except tomllib.TOMLDecodeError as exc:
        msg = f"Config file {p} is not valid TOML: {exc}. Fix the line it names."
        raise InputError(msg) from exc
    return {k.replace("-", "_"): v for k, v in data.items()}
