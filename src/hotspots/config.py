"""Every option of every stage, once: frozen option objects, their defaults and their flags.

Each stage has one option object (:class:`IngestOptions`, :class:`HarmOptions`,
:class:`SpotOptions`, :class:`KnoxOptions`, :class:`CocoonOptions`,
:class:`OutputOptions`); :class:`WeeklySettings` composes them with the run's inputs.
Every default is a named constant below; every range and choice is checked when the
object is built (``__post_init__``), so a bad value fails before any file is read.

Each field carries its command-line declaration in its metadata (flag, help, panel,
how the text is parsed): ``hotspots.cli._options`` turns those into the flags of every
command that uses the option, so one option has one flag, one default and one help.
TOML files (``--config``) build the same objects (:meth:`WeeklySettings.from_mapping`).

This module imports no pandas or geopandas (``hotspots --help`` starts fast).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import Field, asdict, dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any

from hotspots.errors import InputError, OptionError

__all__ = [
    "BURGLED_WITHIN_M",
    "CELL_M",
    "DASK_WORKERS",
    "DATE_FLOOR",
    "DISTANCE_BANDS_M",
    "DUE_HOURS",
    "ENGINES",
    "EPS_M",
    "FDR_ALPHA",
    "GISTAR_PERMUTATIONS",
    "HARM_TABLE",
    "HARM_UNKNOWN",
    "KNOX_METRICS",
    "KNOX_PERMUTATIONS",
    "LIST_SCOPE",
    "LIST_SCOPES",
    "LOOKBACK_DAYS",
    "MIN_HARM",
    "MONTH_DATES",
    "NEAREST",
    "RADIUS_M",
    "SEED",
    "SPOT_METHODS",
    "STAGE_GROUPS",
    "TIME_BANDS_DAYS",
    "TOP_OVERALL",
    "TOP_PER_AREA",
    "TZ",
    "UNKNOWN_CHOICES",
    "VISIT_MINUTES",
    "WEEKLY_OUT",
    "WINDOW_DAYS",
    "CocoonOptions",
    "EngineOptions",
    "HarmOptions",
    "IngestOptions",
    "KnoxOptions",
    "OutputOptions",
    "SpotOptions",
    "WeeklySettings",
    "burgled_within_m_for",
    "check_input_paths",
    "check_side_inputs",
    "engine_from",
    "load_toml",
    "option_fields",
    "options_from",
]

# ---------------------------------------------------------------------- defaults, once
TZ = "Europe/London"
DATE_FLOOR = "1990-01-01"  # earlier dates are implausible for a crime export
HARM_TABLE = "cchi-2026-police-uk"
UNKNOWN_CHOICES = ("raise", "zero", "reject")
HARM_UNKNOWN = "raise"
SPOT_METHODS = ("grid", "hex", "dbscan", "gistar")
CELL_M = 150.0
EPS_M = 150.0
MIN_HARM = 2000.0
LOOKBACK_DAYS = 365
TOP_PER_AREA = 5
TOP_OVERALL = 20
FDR_ALPHA = 0.05
GISTAR_PERMUTATIONS = 0  # analytic p-values: 999 permutations cannot pass FDR on a force grid
VISIT_MINUTES = 15
DISTANCE_BANDS_M = (0.0, 100.0, 200.0, 300.0, 400.0)
TIME_BANDS_DAYS = (0.0, 7.0, 14.0, 21.0, 28.0, 35.0, 42.0)
KNOX_PERMUTATIONS = 999
KNOX_METRICS = ("euclidean", "manhattan")
RADIUS_M = 400.0
WINDOW_DAYS = 42
DUE_HOURS = 48.0
NEAREST = 8
BURGLED_WITHIN_M = 15.0  # day/exact data; snapped police.uk points (--month-dates) use 0
MONTH_DATES = ("start", "mid", "end")
LIST_SCOPES = ("due", "live", "all")  # as hotspots.outputs.lists.LIST_SCOPES
LIST_SCOPE = "due"
SEED = 0
WEEKLY_OUT = Path("maps/weekly")
ENGINES = ("local", "dask")
DASK_WORKERS = 2  # LocalCluster workers when --engine dask has no --scheduler

_IN = "Reading the input (only for tables that are not police.uk or hotspots files)"
_SEL = "Window and areas"
_HARM = "Harm weights"
_SP = "Harm spots"
_PAT = "Patrol plan"
_KX = "Knox test"
_CO = "Cocoon zones"
_AD = "Addresses and visits"
_OUT = "Outputs"
_ENG = "Engine"


def _opt(
    default: Any,
    *,
    flag: str,
    help: str,  # noqa: A002 - the word typer uses
    panel: str | None = None,
    parse: str = "text",
    show: str | None = None,
) -> Any:
    """A dataclass field with its command-line declaration in the metadata.

    ``parse`` says how the flag's text becomes the value: ``text``, ``int``, ``float``,
    ``bool`` (``--x/--no-x``), ``path``, ``names`` (comma-separated), ``numbers``
    (comma-separated floats) or ``pairs`` (repeatable ``A=B``). ``show`` is the default
    as the help prints it, when it differs from ``repr(default)``.
    """
    meta = {"flag": flag, "help": help, "panel": panel, "parse": parse, "show": show}
    if isinstance(default, list | dict):  # pragma: no cover - guarded by design
        raise TypeError("option defaults must be immutable")
    return field(default=default, metadata=meta)


def option_fields(cls: type) -> tuple[Field[Any], ...]:
    """The fields of an option class that carry a flag declaration."""
    return tuple(f for f in fields(cls) if "flag" in f.metadata)


# ---------------------------------------------------------------------- checks (no pandas)
def _fail(name: str, rule: str, value: Any, fix: str) -> None:
    msg = f"{name} must be {rule}; got {value!r}. {fix}"
    raise OptionError(msg)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(name, "a number", value, "Write it like 400.")
    return float(value)


def _positive(value: Any, name: str, *, zero: bool = False, example: str = "") -> None:
    v = _number(value, name)
    if not math.isfinite(v) or (v < 0 if zero else v <= 0):
        _fail(name, ">= 0" if zero else "> 0", value, f"Try {example}." if example else "")


def _whole(value: Any, name: str, *, minimum: int, example: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        _fail(name, f"a whole number >= {minimum}", value, f"Try {example}.")


def _choice(value: Any, choices: tuple[str, ...], name: str) -> None:
    if value not in choices:
        _fail(name, f"one of {choices}", value, f"Pick one, e.g. {choices[0]}.")


def _edges(values: tuple[float, ...], name: str) -> None:
    if len(values) < 2 or any(not math.isfinite(v) or v < 0 for v in values):
        _fail(name, "two or more finite edges >= 0", list(values), "Write 0,100,200.")
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        _fail(name, "strictly increasing", list(values), "Sort them, e.g. 0,100,200,300,400.")


# ---------------------------------------------------------------------- option objects
@dataclass(frozen=True)
class IngestOptions:
    """How to read incident tables that are not a recognised format.

    police.uk street CSVs (either header style), police.uk API records and hotspots' own
    canonical files are recognised without any of these. For any other table name the
    columns; ``crs`` is detected from the values (lon/lat or metres) when not given.
    ``tz`` and ``working_crs`` also apply to the side inputs (visit and patrol logs,
    addresses, areas).
    """

    x_col: str | None = _opt(None, flag="--x-col", help="Longitude/easting column.", panel=_IN)
    y_col: str | None = _opt(None, flag="--y-col", help="Latitude/northing column.", panel=_IN)
    crs: str | None = _opt(
        None,
        flag="--crs",
        help="CRS of x/y, e.g. EPSG:26971. Default: detected (degrees -> EPSG:4326; "
        "metres -> EPSG:27700 inside Great Britain's grid, otherwise you must say).",
        panel=_IN,
    )
    time_col: str | None = _opt(None, flag="--time-col", help="Date/time column.", panel=_IN)
    time_format: str | None = _opt(
        None,
        flag="--time-format",
        help="Date format, e.g. %d/%m/%Y. Needed when dates are ambiguous "
        "(01/02/2016); never guessed.",
        panel=_IN,
    )
    time_to_col: str | None = _opt(
        None, flag="--time-to-col", help="End of a from/to time window.", panel=_IN
    )
    offence_col: str | None = _opt(
        None, flag="--offence-col", help="Offence category/code column.", panel=_IN
    )
    offence: str | None = _opt(
        None,
        flag="--offence",
        help="One offence category for every row (file has no offence column), e.g. Burglary.",
        panel=_IN,
    )
    id_col: str | None = _opt(None, flag="--id-col", help="Unique incident id column.", panel=_IN)
    location_col: str | None = _opt(
        None, flag="--location-col", help="Street/location text column.", panel=_IN
    )
    boundary: Path | None = _opt(
        None,
        flag="--boundary",
        help="Polygon layer; incidents outside it are rejected (reason outside_boundary).",
        panel=_IN,
        parse="path",
    )
    tz: str = _opt(
        TZ,
        flag="--tz",
        help="Time zone of timestamps without one (incidents, visit and patrol logs).",
        panel=_IN,
    )
    today: str | None = _opt(
        None,
        flag="--today",
        help="The run's date, YYYY-MM-DD: rows dated after it are rejected (future_date) and "
        "visit/patrol logs are checked against it. Default: now.",
        panel=_IN,
    )
    date_floor: str = _opt(
        DATE_FLOOR,
        flag="--date-floor",
        help="Rows dated before this are rejected (date_before_floor), e.g. 1900-01-01 "
        "placeholders.",
        panel=_IN,
    )
    keep_implausible_dates: bool = _opt(
        False,
        flag="--keep-implausible-dates/--reject-implausible-dates",
        help="Keep rows dated after --today or before --date-floor (with a note) instead of "
        "rejecting them.",
        panel=_IN,
        parse="bool",
    )
    working_crs: str | None = _opt(
        None,
        flag="--working-crs",
        help="Metric CRS for analysis. Default: EPSG:27700 in Great Britain, "
        "the local UTM zone elsewhere.",
        panel=_IN,
    )

    def __post_init__(self) -> None:
        if not isinstance(self.tz, str) or not self.tz.strip():
            _fail("--tz", "a time zone name", self.tz, "Try Europe/London.")
        if self.boundary is not None and not isinstance(self.boundary, Path):
            object.__setattr__(self, "boundary", Path(self.boundary))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, source: str = "options") -> IngestOptions:
        """Build from a mapping (TOML table, CLI keywords), refusing unknown keys."""
        return _build(cls, values, source=source)


@dataclass(frozen=True)
class HarmOptions:
    """How incidents are weighted by harm.

    Only offences the run uses (the ranked set, plus burglaries when cocoons or Knox
    run) need a weight; ``unknown`` says what happens when one has none.
    """

    harm_table: str = _opt(
        HARM_TABLE,
        flag="--harm-table",
        help="Harm weights: a shipped table (cchi-2026-police-uk, cchi-2026-subgroups), "
        "a CSV file of offence,weight, or 'count' for unweighted.",
        panel=_HARM,
    )
    harm_map: tuple[tuple[str, str], ...] = _opt(
        (),
        flag="--harm-map",
        help="Map a data offence to a harm-table offence, e.g. 'BATTERY=Violence and "
        "sexual offences' (repeatable).",
        panel=_HARM,
        parse="pairs",
        show="none",
    )
    harm_unknown: str = _opt(
        HARM_UNKNOWN,
        flag="--harm-unknown",
        help="Used offences the harm table lacks: raise (stop and name them), zero "
        "(weigh 0) or reject (leave those rows out, into rejected.csv for ingest).",
        panel=_HARM,
    )

    def __post_init__(self) -> None:
        _choice(self.harm_unknown, UNKNOWN_CHOICES, "--harm-unknown")
        pairs = tuple(_pair(p) for p in self.harm_map)
        object.__setattr__(self, "harm_map", pairs)

    @property
    def mapping(self) -> dict[str, str]:
        """``harm_map`` as a dict (data value -> table offence)."""
        return dict(self.harm_map)


def _pair(item: Any) -> tuple[str, str]:
    if isinstance(item, str):
        source, sep, target = item.partition("=")
    elif isinstance(item, tuple | list) and len(item) == 2:
        source, sep, target = str(item[0]), "=", str(item[1])
    else:
        source, sep, target = "", "", ""
    if not sep or not source.strip() or not target.strip():
        msg = (
            f"--harm-map {item!r} must look like 'DATA VALUE=Table offence', e.g. "
            f"--harm-map 'BATTERY=Violence and sexual offences'."
        )
        raise OptionError(msg)
    return source.strip(), target.strip()


@dataclass(frozen=True)
class SpotOptions:
    """How harm spots are found, chosen and patrolled."""

    method: str = _opt(
        "grid",
        flag="--method",
        help="grid: square cells; hex: hexagons of the same area; dbscan: harm-weighted "
        "density clusters; gistar: Getis-Ord Gi* hot cells with FDR control.",
        panel=_SP,
    )
    cell_m: float = _opt(
        CELL_M, flag="--cell-m", help="Cell side in metres (grid, hex, gistar).", panel=_SP,
        parse="float",
    )  # fmt: skip
    eps_m: float = _opt(
        EPS_M, flag="--eps-m", help="DBSCAN neighbourhood radius in metres.", panel=_SP,
        parse="float",
    )  # fmt: skip
    min_harm: float = _opt(
        MIN_HARM, flag="--min-harm", help="DBSCAN: harm needed within --eps-m of a core point.",
        panel=_SP, parse="float",
    )  # fmt: skip
    lookback_days: int = _opt(
        LOOKBACK_DAYS, flag="--lookback-days", help="Days of data ranked, ending at --as-of.",
        panel=_SP, parse="int",
    )  # fmt: skip
    offences: tuple[str, ...] | None = _opt(
        None,
        flag="--offences",
        help="Comma-separated categories ranked, e.g. 'Robbery,Drugs' (any case). Default: "
        "violence and sexual offences, robbery, possession of weapons, drugs.",
        panel=_SP,
        parse="names",
        show="serious violence",
    )
    top: int | None = _opt(
        None,
        flag="--top",
        help=f"Spots per area with --areas (default {TOP_PER_AREA}), else overall "
        f"(default {TOP_OVERALL}).",
        panel=_SP,
        parse="int",
        show=f"{TOP_PER_AREA} per area / {TOP_OVERALL}",
    )
    harm_share: float | None = _opt(
        None,
        flag="--harm-share",
        help="Instead of --top: the fewest spots holding this share of (area) harm, 0-1.",
        panel=_SP,
        parse="float",
    )
    max_area_km2: float | None = _opt(
        None,
        flag="--max-area-km2",
        help="Cap on the total area of the chosen spots (km2).",
        panel=_SP,
        parse="float",
    )
    fdr_alpha: float = _opt(
        FDR_ALPHA, flag="--fdr-alpha", help="Gi*: false discovery rate (Benjamini-Hochberg).",
        panel=_SP, parse="float",
    )  # fmt: skip
    gistar_permutations: int = _opt(
        GISTAR_PERMUTATIONS,
        flag="--gistar-permutations",
        help="Gi*: conditional permutations per cell; 0 uses analytic p-values, which a "
        "force-sized grid needs to pass the false-discovery control.",
        panel=_SP,
        parse="int",
    )
    visit_minutes: int = _opt(
        VISIT_MINUTES, flag="--visit-minutes", help="Length of each planned patrol visit.",
        panel=_PAT, parse="int",
    )  # fmt: skip
    plan_start: str | None = _opt(
        None,
        flag="--plan-start",
        help="First day of the 7-day patrol plan (YYYY-MM-DD, today or later). Default: the "
        "Monday after today.",
        panel=_PAT,
        show="next Monday",
    )
    keep_prisons: bool = _opt(
        False,
        flag="--keep-prisons/--no-keep-prisons",
        help="Keep places at prisons in the spot selection (police.uk snaps every crime "
        "inside a prison to one point, so they are left out by default, with a note).",
        panel=_SP,
        parse="bool",
    )
    crossover: bool = _opt(
        False,
        flag="--crossover/--no-crossover",
        help="Leave a seeded random half of each spot's days unpatrolled, to measure the "
        "effect later.",
        panel=_PAT,
        parse="bool",
    )

    def __post_init__(self) -> None:
        _choice(self.method, SPOT_METHODS, "--method")
        _positive(self.cell_m, "--cell-m", example="150")
        _positive(self.eps_m, "--eps-m", example="150")
        _positive(self.min_harm, "--min-harm", example="2000")
        _whole(self.lookback_days, "--lookback-days", minimum=1, example="365")
        if self.top is not None:
            _whole(self.top, "--top", minimum=1, example="5")
        if self.harm_share is not None:
            v = _number(self.harm_share, "--harm-share")
            if not 0 < v <= 1:
                _fail("--harm-share", "a share in (0, 1]", v, "Try 0.5.")
        if self.top is not None and self.harm_share is not None:
            raise OptionError("Give --top or --harm-share, not both.")
        if self.max_area_km2 is not None:
            _positive(self.max_area_km2, "--max-area-km2", example="2")
        v = _number(self.fdr_alpha, "--fdr-alpha")
        if not 0 < v < 1:
            _fail("--fdr-alpha", "a rate in (0, 1)", v, "Try 0.05.")
        _whole(self.gistar_permutations, "--gistar-permutations", minimum=0, example="0")
        _whole(self.visit_minutes, "--visit-minutes", minimum=1, example="15")
        if self.plan_start is not None:
            try:
                date.fromisoformat(str(self.plan_start))
            except ValueError:
                _fail("--plan-start", "a date YYYY-MM-DD", self.plan_start, "Try 2026-01-12.")
            object.__setattr__(self, "plan_start", str(self.plan_start))
        if self.offences is not None:
            names = tuple(str(o).strip() for o in self.offences if str(o).strip())
            if not names:
                _fail("--offences", "one or more names", self.offences, "Try 'Robbery,Drugs'.")
            object.__setattr__(self, "offences", names)

    def top_for(self, *, per_area: bool) -> int | None:
        """Spots to pick: ``top``, else 5 per area or 20 overall; None with ``harm_share``."""
        if self.harm_share is not None:
            return None
        if self.top is not None:
            return self.top
        return TOP_PER_AREA if per_area else TOP_OVERALL


@dataclass(frozen=True)
class KnoxOptions:
    """The Knox near-repeat test (space x time bands, Monte Carlo permutations)."""

    distance_bands_m: tuple[float, ...] = _opt(
        DISTANCE_BANDS_M,
        flag="--distance-bands-m",
        help="Knox distance band edges in metres; bands are [0,100], (100,200], ...",
        panel=_KX,
        parse="numbers",
        show="0,100,200,300,400",
    )
    time_bands_days: tuple[float, ...] = _opt(
        TIME_BANDS_DAYS,
        flag="--time-bands-days",
        help="Knox time band edges in days; bands are [0,7], (7,14], ...",
        panel=_KX,
        parse="numbers",
        show="0,7,14,21,28,35,42",
    )
    knox_permutations: int = _opt(
        KNOX_PERMUTATIONS,
        flag="--knox-permutations",
        help="Knox: Monte Carlo permutations of the event times.",
        panel=_KX,
        parse="int",
    )
    same_location_m: float | None = _opt(
        None,
        flag="--same-location-m",
        help="Knox: give pairs this close (metres, e.g. 0.1) their own band (repeat "
        "victimisation); off by default.",
        panel=_KX,
        parse="float",
    )
    metric: str = _opt(
        "euclidean",
        flag="--knox-metric",
        help="Knox distance: euclidean (straight line) or manhattan (|dx| + |dy|).",
        panel=_KX,
    )
    knox_offences: tuple[str, ...] | None = _opt(
        None,
        flag="--knox-offences",
        help="Knox: offence categories tested, comma-separated (e.g. Burglary). "
        "Default: dwelling burglaries.",
        panel=_KX,
        parse="names",
        show="dwelling burglaries",
    )
    dwelling_only: bool = _opt(
        True,
        flag="--dwelling-only/--all-burglary",
        help="Knox: keep only dwelling (home) burglaries, or every burglary.",
        panel=_KX,
        parse="bool",
    )

    def __post_init__(self) -> None:
        for name, flag in (("distance_bands_m", "--distance-bands-m"),
                           ("time_bands_days", "--time-bands-days")):  # fmt: skip
            values = tuple(_number(v, flag) for v in getattr(self, name))
            _edges(values, flag)
            object.__setattr__(self, name, values)
        _whole(self.knox_permutations, "--knox-permutations", minimum=1, example="999")
        if self.same_location_m is not None:
            _positive(self.same_location_m, "--same-location-m", example="0.1")
        _choice(self.metric, KNOX_METRICS, "--knox-metric")


@dataclass(frozen=True)
class CocoonOptions:
    """Cocoon zones around recent dwelling burglaries, visit lists and the address layer."""

    radius_m: float = _opt(
        RADIUS_M, flag="--radius-m", help="Cocoon zone radius around each burglary, metres.",
        panel=_CO, parse="float",
    )  # fmt: skip
    window_days: int = _opt(
        WINDOW_DAYS, flag="--window-days", help="Days a cocoon zone stays live after the "
        "burglary.", panel=_CO, parse="int",
    )  # fmt: skip
    due_hours: float = _opt(
        DUE_HOURS, flag="--due-hours", help="Hours after the burglary by which the zone must "
        "be visited.", panel=_CO, parse="float",
    )  # fmt: skip
    month_dates: str | None = _opt(
        None,
        flag="--month-dates",
        help="For month-only dates (police.uk): where the retrospective risk window of each "
        "burglary's zone starts in its month (start, mid or end). It only moves that window; "
        "month zones never get a visit deadline or an overdue state. Recorded in the outputs.",
        panel=_CO,
    )
    cocoon_from_knox: bool = _opt(
        False,
        flag="--cocoon-from-knox/--cocoon-defaults",
        help="Size the zones from the Knox test: its recommended radius and window when the "
        "result is significant, else --radius-m/--window-days with a note (the cocoon "
        "command runs Knox first, with the default bands). run.json records what was used.",
        panel=_CO,
        parse="bool",
    )
    nearest: int = _opt(
        NEAREST, flag="--nearest", help="The N nearest homes of each zone are mandatory "
        "visits.", panel=_AD, parse="int",
    )  # fmt: skip
    burgled_within_m: float | None = _opt(
        None,
        flag="--burgled-within-m",
        help=f"The address nearest each burglary, if this close (metres), is taken as the "
        f"burgled home: flagged, never a target. Default {BURGLED_WITHIN_M:g}; 0 with "
        f"--month-dates (police.uk points are snapped). 0 turns this off.",
        panel=_AD,
        parse="float",
        show=f"{BURGLED_WITHIN_M:g} / 0 with --month-dates",
    )
    address_x_col: str | None = _opt(
        None, flag="--address-x-col", help="Easting/longitude column of --addresses "
        "(default: detected).", panel=_AD,
    )  # fmt: skip
    address_y_col: str | None = _opt(
        None, flag="--address-y-col", help="Northing/latitude column of --addresses "
        "(default: detected).", panel=_AD,
    )  # fmt: skip
    address_id_col: str | None = _opt(
        None, flag="--address-id-col", help="Address id column (default: address_id/uprn/id; "
        "the postcode for Code-Point Open).", panel=_AD,
    )  # fmt: skip
    address_crs: str | None = _opt(
        None, flag="--address-crs", help="CRS of the address coordinates (default: detected).",
        panel=_AD,
    )  # fmt: skip
    address_cache_dir: Path | None = _opt(
        None,
        flag="--address-cache-dir",
        help="Folder for an on-disk R-tree of --addresses, reused by later runs (rebuilt "
        "automatically when the address points change).",
        panel=_AD,
        parse="path",
    )

    def __post_init__(self) -> None:
        _positive(self.radius_m, "--radius-m", example="400")
        _whole(self.window_days, "--window-days", minimum=1, example="42")
        _positive(self.due_hours, "--due-hours", example="48")
        if self.month_dates is not None:
            _choice(self.month_dates, MONTH_DATES, "--month-dates")
        _whole(self.nearest, "--nearest", minimum=0, example="8")
        if self.burgled_within_m is not None:
            _positive(self.burgled_within_m, "--burgled-within-m", zero=True, example="15")
        if self.address_cache_dir is not None and not isinstance(self.address_cache_dir, Path):
            object.__setattr__(self, "address_cache_dir", Path(self.address_cache_dir))

    @property
    def burgled_within(self) -> float:
        """The burgled-home distance this run uses (see :func:`burgled_within_m_for`)."""
        return burgled_within_m_for(self.burgled_within_m, month_dates=self.month_dates)


def burgled_within_m_for(given: float | None, *, month_dates: str | None) -> float:
    """The one rule for the burgled-home distance: as given, else 15 m, or 0 on month data.

    police.uk points are snapped to anonymous map points, so on month data (dated with
    ``--month-dates``) the address nearest the point is not the burgled home.
    """
    if given is not None:
        return float(given)
    return 0.0 if month_dates is not None else BURGLED_WITHIN_M


@dataclass(frozen=True)
class OutputOptions:
    """How the map, lists and layers are written."""

    public: bool = _opt(
        False,
        flag="--public/--internal",
        help="Shareable outputs: no address lists, points generalised to the grid, counts "
        "below 3 hidden.",
        panel=_OUT,
        parse="bool",
    )
    tiles: str | None = _opt(
        None,
        flag="--tiles",
        help="Background map: OpenStreetMap (needs the internet), or the force's own tile "
        "server as https://.../{z}/{x}/{y}.png or a WMS URL with ?layers=NAME. Without it "
        "the map needs no network (boundaries and place names give the orientation).",
        panel=_OUT,
        show="none",
    )
    no_tiles: bool = _opt(
        False,
        flag="--no-tiles",
        help="No background map (the default now; kept so older scripts still run).",
        panel=_OUT,
        parse="bool",
        show="off",
    )
    tiles_attribution: str | None = _opt(
        None,
        flag="--tiles-attribution",
        help="Credit shown for a --tiles server (default: its host name).",
        panel=_OUT,
    )
    cdn: bool = _opt(
        False,
        flag="--cdn/--no-cdn",
        help="Link the map's Leaflet JavaScript and CSS from public CDNs (a smaller page that "
        "needs the internet) instead of the package's own copy.",
        panel=_OUT,
        parse="bool",
    )
    offline_assets: Path | None = _opt(
        None,
        flag="--offline-assets",
        help="Optional: a folder of Leaflet/plugin JS and CSS to inline instead of the "
        "package's own copy (same file names).",
        panel=_OUT,
        parse="path",
    )
    list_scope: str = _opt(
        LIST_SCOPE,
        flag="--list",
        help="Cocoon lists: due (zones not yet visited; visited ones in one line), live (every "
        "live zone in full) or all (every live zone, each address on its own row).",
        panel=_OUT,
    )
    list_areas: Path | None = _opt(
        None,
        flag="--list-areas",
        help="Areas the cocoon lists are made for when they differ from --areas (e.g. "
        "neighbourhood team areas): one list per area, each zone to the area of its burglary.",
        panel=_OUT,
        parse="path",
    )
    list_area_field: str | None = _opt(
        None, flag="--list-area-field", help="Name field in --list-areas.", panel=_OUT
    )
    map_addresses: bool = _opt(
        False,
        flag="--map-addresses/--no-map-addresses",
        help="Show the homes on live zones' visit lists on the map (never in --public).",
        panel=_OUT,
        parse="bool",
    )
    title: str | None = _opt(None, flag="--title", help="Map title.", panel=_OUT)
    layers: tuple[tuple[str, str], ...] = _opt(
        (),
        flag="--layer",
        help="Extra point layer as NAME=FILE (CSV with x/y or longitude/latitude, GeoJSON, "
        "GeoPackage), e.g. 'Street-Safe=streetsafe.csv': its own map layer, counted per "
        "spot and per area in layer_counts.csv (repeatable).",
        panel=_OUT,
        parse="pairs",
        show="none",
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", _layer_pairs(self.layers))
        # TOML and settings files of earlier versions say tiles = true / false
        if self.tiles is True:
            object.__setattr__(self, "tiles", "OpenStreetMap")
        elif self.tiles is False or (isinstance(self.tiles, str) and not self.tiles.strip()):
            object.__setattr__(self, "tiles", None)
        if self.no_tiles and self.tiles is not None:
            raise OptionError("Give --tiles URL or --no-tiles, not both.")
        if self.tiles is not None:
            _tiles(self.tiles)
        if self.tiles_attribution is not None and self.tiles is None:
            raise OptionError("--tiles-attribution needs --tiles URL (the server it credits).")
        for key in ("offline_assets", "list_areas"):
            value = getattr(self, key)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, key, Path(value))
        if self.cdn and self.offline_assets is not None:
            raise OptionError("Give --cdn or --offline-assets, not both (one source of Leaflet).")
        _choice(self.list_scope, LIST_SCOPES, "--list")
        if self.list_area_field is not None and self.list_areas is None:
            raise OptionError(
                "--list-area-field needs --list-areas FILE (the layer that has that field)."
            )


@dataclass(frozen=True)
class EngineOptions:
    """Where the partitions (source files, forces) run: in this process or on Dask.

    Not part of :class:`WeeklySettings`: the engine changes where the work runs, never
    the results (run.json records it beside the parameters).
    """

    engine: str = _opt(
        "local",
        flag="--engine",
        help="local (in this process) or dask (one task per source file or force on a "
        "dask.distributed cluster; needs the dask extra of hotspots).",
        panel=_ENG,
    )
    scheduler: str | None = _opt(
        None,
        flag="--scheduler",
        help="dask.distributed scheduler address, e.g. tcp://10.0.0.5:8786, with --engine "
        "dask (workers must see the same files). Default: a LocalCluster started for the "
        "run and closed after it.",
        panel=_ENG,
    )
    workers: int = _opt(
        DASK_WORKERS,
        flag="--workers",
        help="Worker processes of the LocalCluster (one thread each) when --engine dask has "
        "no --scheduler.",
        panel=_ENG,
        parse="int",
    )

    def __post_init__(self) -> None:
        _choice(self.engine, ENGINES, "--engine")
        _whole(self.workers, "--workers", minimum=1, example="2")
        if self.engine != "dask" and (self.scheduler is not None):
            raise OptionError("--scheduler needs --engine dask; add --engine dask.")
        if self.scheduler is not None and not str(self.scheduler).strip():
            raise OptionError("--scheduler must be an address such as tcp://127.0.0.1:8786.")

    @property
    def is_dask(self) -> bool:
        """True when the run goes to Dask."""
        return self.engine == "dask"


def _layer_pairs(items: Any) -> tuple[tuple[str, str], ...]:
    """``--layer NAME=FILE`` values as (name, file) pairs; names unique, letters first."""
    pairs: list[tuple[str, str]] = []
    for item in items if isinstance(items, tuple | list) else (items,):
        if isinstance(item, tuple | list) and len(item) == 2:
            name, sep, path = str(item[0]), "=", str(item[1])
        else:
            name, sep, path = str(item).partition("=")
        name, path = name.strip(), path.strip()
        if not sep or not name or not path or not name[0].isalnum():
            msg = (
                f"--layer {item!r} must look like NAME=FILE, e.g. --layer "
                f"'Street-Safe=streetsafe.csv'."
            )
            raise OptionError(msg)
        if name.casefold() in {n.casefold() for n, _ in pairs}:
            msg = f"--layer name {name!r} is given twice; give each layer its own name."
            raise OptionError(msg)
        pairs.append((name, path))
    return tuple(pairs)


def _tiles(value: Any) -> None:
    """``--tiles``: OpenStreetMap by name or an http(s) URL (checked in full by the map)."""
    text = str(value).strip()
    if text.lower() in ("openstreetmap", "osm"):
        return
    if not isinstance(value, str) or not text.lower().startswith(("http://", "https://")):
        _fail(
            "--tiles",
            "OpenStreetMap or an http(s) tile/WMS URL",
            value,
            "Try --tiles OpenStreetMap or --tiles 'https://tiles.force/{z}/{x}/{y}.png'.",
        )


def check_side_inputs(*, addresses: Path | None, visits: Path | None) -> None:
    """Side inputs that need each other; raised before anything is read."""
    if visits is not None and addresses is None:
        msg = (
            "--visits needs --addresses (visits are matched to address points); "
            "add --addresses FILE."
        )
        raise OptionError(msg)


def check_input_paths(settings: WeeklySettings) -> None:
    """Every side-input file named in ``settings`` exists; raised before anything is read."""
    named = {
        "--areas": settings.areas,
        "--addresses": settings.addresses,
        "--visits": settings.visits,
        "--patrols": settings.patrols,
        "--list-areas": settings.output.list_areas,
        "--boundary": settings.ingest.boundary,
    }
    for name, file in settings.output.layers:
        named[f"--layer {name}"] = Path(file)
    for flag, path in named.items():
        if path is not None and not Path(path).exists():
            msg = f"{flag} file {path} does not exist; check the path."
            raise InputError(msg)


# the option groups of the weekly run, by their key in WeeklySettings and TOML tables
_GROUPS: dict[str, type] = {
    "ingest": IngestOptions,
    "harm": HarmOptions,
    "spots": SpotOptions,
    "knox": KnoxOptions,
    "cocoon": CocoonOptions,
    "output": OutputOptions,
}


STAGE_GROUPS: tuple[type, ...] = tuple(_GROUPS.values())


@dataclass(frozen=True)
class WeeklySettings:
    """Every option of the weekly run: the run's inputs and one object per stage.

    The CLI flags and the TOML keys use the field names (``radius_m`` is ``--radius-m``);
    TOML may give them flat or in tables named after the groups (``[cocoon]``).
    """

    as_of: str | None = _opt(
        None,
        flag="--as-of",
        help="Date the run is for (YYYY-MM-DD, meaning the end of that day). Default: the "
        "latest date in the data.",
        panel=_SEL,
    )
    areas: Path | None = _opt(
        None, flag="--areas", help="Boundary layer of areas (districts, towns, wards).",
        panel=_SEL, parse="path",
    )  # fmt: skip
    area_field: str | None = _opt(
        None, flag="--area-field", help="Name field in --areas, e.g. LAD13NM.", panel=_SEL
    )
    addresses: Path | None = _opt(
        None,
        flag="--addresses",
        help="Address points for cocoon visit lists (CSV with coordinates, e.g. OS Code-Point "
        "Open or UPRN points; GeoPackage; GeoJSON).",
        panel=_AD,
        parse="path",
    )
    visits: Path | None = _opt(
        None,
        flag="--visits",
        help="Cocoon visit log CSV (address_id or coordinates, visited_at, outcome) for "
        "compliance; needs --addresses.",
        panel=_AD,
        parse="path",
    )
    patrols: Path | None = _opt(
        None,
        flag="--patrols",
        help="Patrol/interaction log CSV (time, spot_id or x/y, minutes, activity, "
        "interactions): writes patrol_dosage.csv (per spot, week and activity against the "
        "previous run's plan for that week) and patrol_summary.csv.",
        panel=_PAT,
        parse="path",
    )
    seed: int = _opt(SEED, flag="--seed", help="Random seed (written into the outputs).",
                     parse="int")  # fmt: skip
    run_knox: bool = _opt(
        True,
        flag="--knox/--no-knox",
        help="Run the Knox test when dates are day-level or exact.",
        panel=_KX,
        parse="bool",
    )
    out: Path = WEEKLY_OUT
    ingest: IngestOptions = field(default_factory=IngestOptions)
    harm: HarmOptions = field(default_factory=HarmOptions)
    spots: SpotOptions = field(default_factory=SpotOptions)
    knox: KnoxOptions = field(default_factory=KnoxOptions)
    cocoon: CocoonOptions = field(default_factory=CocoonOptions)
    output: OutputOptions = field(default_factory=OutputOptions)

    def __post_init__(self) -> None:
        for key in ("areas", "addresses", "visits", "patrols", "out"):
            value = getattr(self, key)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, key, Path(value))
        _whole(self.seed, "--seed", minimum=0, example="0")
        if self.area_field is not None and self.areas is None:
            raise OptionError("--area-field needs --areas FILE (the layer that has that field).")
        check_side_inputs(addresses=self.addresses, visits=self.visits)
        if self.cocoon.cocoon_from_knox and not self.run_knox:
            raise OptionError("--cocoon-from-knox needs the Knox test; leave out --no-knox.")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, source: str = "settings") -> WeeklySettings:
        """Build from a mapping (TOML file, CLI flags), refusing unknown keys.

        Stage options may sit at the top level (``radius_m = 300``) or in a table named
        after their group (``[cocoon] radius_m = 300``); ``knox = false`` is ``run_knox``.
        """
        flat: dict[str, Any] = {}
        for key, value in values.items():
            if key in _GROUPS and isinstance(value, Mapping):
                known = {f.name for f in fields(_GROUPS[key])}
                bad = sorted(set(value) - known)
                if bad:
                    msg = f"{source}: unknown setting(s) {bad} in [{key}]; known: {sorted(known)}."
                    raise OptionError(msg)
                flat.update(value)
            elif key == "knox" and isinstance(value, bool):
                flat["run_knox"] = value
            else:
                flat[key] = value
        owners = _owners()
        unknown = sorted(k for k in flat if k not in owners)
        if unknown:
            msg = f"{source}: unknown setting(s) {unknown}; known: {sorted(owners)}."
            raise OptionError(msg)
        by_group: dict[str, dict[str, Any]] = {g: {} for g in ("", *_GROUPS)}
        for key, value in flat.items():
            by_group[owners[key]][key] = value
        kwargs = _coerce(cls, by_group[""])
        for group, group_cls in _GROUPS.items():
            kwargs[group] = _build(group_cls, by_group[group], source=source)
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready flat parameters (for run.json): every option under its field name."""
        flat: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _GROUPS:
                flat.update(asdict(value))
            else:
                flat[f.name] = value
        return {k: _jsonable(v) for k, v in flat.items()}

    def with_changes(self, **changes: Any) -> WeeklySettings:
        """A copy with some options changed (flat names), checked again."""
        return WeeklySettings.from_mapping({**self.to_dict(), **changes})


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


def _owners() -> dict[str, str]:
    """Flat option name -> group key ('' for the run's own fields)."""
    owners = {f.name: "" for f in fields(WeeklySettings) if f.name not in _GROUPS}
    for group, cls in _GROUPS.items():
        for f in fields(cls):
            owners[f.name] = group
    return owners


def _coerce(cls: type, values: Mapping[str, Any]) -> dict[str, Any]:
    """TOML/CLI values into the field types: paths, tuples, comma-separated text."""
    by_name = {f.name: f for f in fields(cls)}
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        parse = by_name[key].metadata.get("parse", "text")
        if parse == "path":
            value = Path(value)
        elif parse in ("names", "numbers"):
            flag = by_name[key].metadata["flag"]
            value = _split(value, flag, numbers=parse == "numbers")
        elif parse == "pairs":
            value = tuple([value] if isinstance(value, str) else value)
        out[key] = value
    return out


def _split(value: Any, key: str, *, numbers: bool) -> tuple[Any, ...]:
    items = [s.strip() for s in value.split(",")] if isinstance(value, str) else list(value)
    items = [s for s in items if not (isinstance(s, str) and not s)]
    if not numbers:
        return tuple(str(s) for s in items)
    try:
        return tuple(float(s) for s in items)
    except (TypeError, ValueError) as exc:
        msg = f"{key} must be comma-separated numbers such as 0,100,200; got {value!r}."
        raise OptionError(msg) from exc


def _build(cls: Any, values: Mapping[str, Any], *, source: str) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        msg = f"{source}: unknown option(s) {unknown}; known: {sorted(known)}."
        raise OptionError(msg)
    return cls(**_coerce(cls, values))


def options_from(cls: Any, values: Mapping[str, Any], *, source: str = "options") -> Any:
    """Build ``cls`` from the keys of a flat mapping that are its fields (others ignored)."""
    names = {f.name for f in fields(cls)}
    return _build(cls, {k: v for k, v in values.items() if k in names}, source=source)


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

    def norm(table: Mapping[str, Any]) -> dict[str, Any]:
        return {
            k.replace("-", "_"): norm(v) if isinstance(v, Mapping) else v for k, v in table.items()
        }

    return norm(data)


def engine_from(values: Mapping[str, Any]) -> tuple[EngineOptions, dict[str, Any]]:
    """The :class:`EngineOptions` among a command's flags, and the other flags."""
    names = {f.name for f in fields(EngineOptions)}
    engine = options_from(EngineOptions, values)
    return engine, {k: v for k, v in values.items() if k not in names}
