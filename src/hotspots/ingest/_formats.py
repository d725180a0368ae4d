"""Recognising an input's format and deciding which column plays which role (private).

Recognised without options: police.uk street CSVs (``Crime ID ... Context``, or the same
in snake_case), police.uk API records (``category`` slugs, ``lat``/``long``) and hotspots'
own canonical tables. Anything else is a "mapped table" whose roles come from
:class:`hotspots.config.IngestOptions`, with a few unambiguous names recognised.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from hotspots.config import IngestOptions
from hotspots.errors import SchemaError
from hotspots.ingest._coords import find_coordinate_columns

__all__ = ["API_CATEGORIES", "Plan", "column_key", "plan_for"]

POLICE_UK_STREET = "police.uk street"
POLICE_UK_SNAKE = "police.uk street (snake_case header)"
POLICE_UK_API = "police.uk API"
HOTSPOTS = "hotspots"
MAPPED = "mapped table"
POLICE_UK_FORMATS = (POLICE_UK_STREET, POLICE_UK_SNAKE, POLICE_UK_API)

# police.uk API category slugs -> the category names used in street CSVs (and harm tables)
API_CATEGORIES: dict[str, str] = {
    "anti-social-behaviour": "Anti-social behaviour",
    "bicycle-theft": "Bicycle theft",
    "burglary": "Burglary",
    "criminal-damage-arson": "Criminal damage and arson",
    "drugs": "Drugs",
    "other-theft": "Other theft",
    "possession-of-weapons": "Possession of weapons",
    "public-order": "Public order",
    "robbery": "Robbery",
    "shoplifting": "Shoplifting",
    "theft-from-the-person": "Theft from the person",
    "vehicle-crime": "Vehicle crime",
    "violent-crime": "Violence and sexual offences",
    "violence-and-sexual-offences": "Violence and sexual offences",
    "other-crime": "Other crime",
}

_STREET_KEYS = ("crime_id", "month", "longitude", "latitude", "location", "crime_type")
_STREET_ALL = (
    *_STREET_KEYS,
    "reported_by",
    "falls_within",
    "lsoa_code",
    "lsoa_name",
    "last_outcome_category",
    "context",
)
_API_KEYS = ("category", "date", "lat", "long")
_API_MARKERS = ("persistent_id", "street_name", "outcome_status", "location_type")
_HOTSPOTS_KEYS = ("incident_id", "occurred_at", "offence")
_TIME_NAMES = (
    "occurred_at",
    "datetime",
    "date_time",
    "timestamp",
    "date",
    "time",
    "t",
    "month",
    "date_single",
    "occur_date",
    "occurrence_date",
)
_OFFENCE_NAMES = (
    "offence",
    "offense",
    "crime_type",
    "category",
    "offence_type",
    "offense_type",
    "primary_type",
    "crime",
    "type",
)
_LOCATION_NAMES = ("address", "block", "street", "street_name", "location")
_NOT_KEY = re.compile(r"[\s\-]+")


def column_key(name: str) -> str:
    """Column name as compared across files: lower case, spaces/hyphens as underscores."""
    return _NOT_KEY.sub("_", str(name).strip().lower())


@dataclass(frozen=True)
class Plan:
    """Which source column gives each canonical field (None: not available)."""

    format: str
    time_col: str
    offence_col: str | None = None
    offence_value: str | None = None
    offence_code_col: str | None = None
    id_col: str | None = None
    time_to_col: str | None = None
    time_format: str | None = None
    x_col: str | None = None  # None: detect (or use a spatial file's geometry)
    y_col: str | None = None
    crs: str | None = None
    location_col: str | None = None
    lsoa_col: str | None = None
    lsoa_name_col: str | None = None  # police.uk 'LSOA name' (names the district)
    dwelling_col: str | None = None
    resolution_col: str | None = None
    outcome_col: str | None = None  # police.uk 'Last outcome category' (issue 13)
    context_col: str | None = None  # police.uk 'Context'
    force_col: str | None = None  # police.uk 'Falls within' (the force of each row)
    map_api_categories: bool = False

    @property
    def police_uk(self) -> bool:
        """Whether the rows come from police.uk (snapped points, month dates)."""
        return self.format in POLICE_UK_FORMATS


def _pick(keys: dict[str, str], names: Sequence[str]) -> str | None:
    for name in names:
        if name in keys:
            return keys[name]
    return None


def _recognised(columns: Sequence[str], what: str) -> Plan | None:
    keys = {column_key(c): c for c in columns}
    if all(k in keys for k in _STREET_KEYS):
        snake = keys["crime_id"] == "crime_id"
        return Plan(
            format=POLICE_UK_SNAKE if snake else POLICE_UK_STREET,
            time_col=keys["month"],
            offence_col=keys["crime_type"],
            id_col=keys["crime_id"],
            x_col=keys["longitude"],
            y_col=keys["latitude"],
            crs="EPSG:4326",
            location_col=keys["location"],
            lsoa_col=keys.get("lsoa_code"),
            lsoa_name_col=keys.get("lsoa_name"),
            outcome_col=keys.get("last_outcome_category"),
            context_col=keys.get("context"),
            force_col=keys.get("falls_within"),
        )
    if all(k in keys for k in _API_KEYS) and any(k in keys for k in _API_MARKERS):
        return Plan(
            format=POLICE_UK_API,
            time_col=keys["date"],
            offence_col=keys["category"],
            id_col=keys.get("persistent_id"),
            x_col=keys["long"],
            y_col=keys["lat"],
            crs="EPSG:4326",
            location_col=keys.get("street_name"),
            context_col=keys.get("context"),
            map_api_categories=True,
        )
    if all(k in keys for k in _HOTSPOTS_KEYS):
        pair = None
        if "easting" in keys and "northing" in keys:
            pair = (keys["easting"], keys["northing"])
        elif "longitude" in keys and "latitude" in keys:
            pair = (keys["longitude"], keys["latitude"])
        return Plan(
            format=HOTSPOTS,
            time_col=keys["occurred_at"],
            offence_col=keys["offence"],
            offence_code_col=keys.get("offence_code"),
            id_col=keys["incident_id"],
            time_to_col=keys.get("occurred_to"),
            x_col=pair[0] if pair else None,
            y_col=pair[1] if pair else None,
            crs=("EPSG:27700" if pair and "easting" in keys else None),
            location_col=keys.get("location"),
            lsoa_col=keys.get("lsoa_code"),
            lsoa_name_col=keys.get("lsoa_name"),
            dwelling_col=keys.get("dwelling_burglary"),
            resolution_col=keys.get("time_resolution"),
            outcome_col=keys.get("last_outcome"),
            context_col=keys.get("context"),
        )
    near_street = [k for k in _STREET_ALL if k in keys]
    if len(near_street) >= len(_STREET_ALL) // 2:
        missing = [k for k in _STREET_KEYS if k not in keys]
        msg = (
            f"{what} looks like a police.uk street file but is missing column(s) {missing}; "
            f"it has {list(columns)}. Re-download it from data.police.uk, or map the columns "
            f"with --x-col/--y-col/--time-col/--offence-col."
        )
        raise SchemaError(msg)
    return None


def _need(columns: Sequence[str], name: str | None, option: str, what: str) -> str | None:
    if name is not None and name not in columns:
        msg = (
            f"{what} has no column {name!r} ({option}); it has {list(columns)}. "
            f"Column names are case-sensitive."
        )
        raise SchemaError(msg)
    return name


def plan_for(columns: Sequence[str], options: IngestOptions, *, what: str, spatial: bool) -> Plan:
    """Roles of ``columns``: a recognised format's, overridden by any option given."""
    columns = [str(c) for c in columns]
    o = options
    for name, option in (
        (o.x_col, "--x-col"),
        (o.y_col, "--y-col"),
        (o.time_col, "--time-col"),
        (o.time_to_col, "--time-to-col"),
        (o.offence_col, "--offence-col"),
        (o.id_col, "--id-col"),
        (o.location_col, "--location-col"),
    ):
        _need(columns, name, option, what)
    keys = {column_key(c): c for c in columns}
    plan = _recognised(columns, what)
    if plan is None:
        time_col = o.time_col or _pick(keys, _TIME_NAMES)
        if time_col is None:
            msg = (
                f"{what} is missing a date column; it has {columns}. Name it with --time-col "
                f"(and --time-format if dates are ambiguous, e.g. %d/%m/%Y)."
            )
            raise SchemaError(msg)
        offence_col = None if o.offence else (o.offence_col or _pick(keys, _OFFENCE_NAMES))
        if offence_col is None and not o.offence:
            msg = (
                f"{what} is missing an offence column; it has {columns}. Name it with "
                f"--offence-col, or give every row one category with --offence NAME "
                f"(e.g. --offence Burglary)."
            )
            raise SchemaError(msg)
        if not spatial and (o.x_col is None) and find_coordinate_columns(columns) is None:
            msg = (
                f"{what} is missing coordinate columns (e.g. Longitude/Latitude, x/y, "
                f"easting/northing); it has {columns}. Name them with --x-col and --y-col."
            )
            raise SchemaError(msg)
        plan = Plan(
            format=MAPPED,
            time_col=time_col,
            offence_col=offence_col,
            location_col=_pick(keys, _LOCATION_NAMES),
        )
    overrides: dict[str, Any] = {}
    for field, value in (
        ("x_col", o.x_col),
        ("y_col", o.y_col),
        ("time_col", o.time_col),
        ("time_to_col", o.time_to_col),
        ("time_format", o.time_format),
        ("offence_col", o.offence_col),
        ("id_col", o.id_col),
        ("location_col", o.location_col),
        ("crs", o.crs),
    ):
        if value is not None:
            overrides[field] = value
    if o.offence:
        overrides.update(offence_value=o.offence, offence_col=None, map_api_categories=False)
    if o.x_col is not None and o.crs is None and plan.format != MAPPED:
        overrides["crs"] = None  # the user moved the coordinates: detect their CRS again
    return replace(plan, **overrides)
