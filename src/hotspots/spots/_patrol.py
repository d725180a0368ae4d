"""Patrol plans for harm spots, patrol logs, and delivery against the plan.

Grip-style patrols are short, visible visits (about 15 minutes, Koper 1995) at varied,
unpredictable times inside each spot's peak windows. The plan is seeded, so the same
inputs give the same plan, and the seed is written into it. ``crossover`` leaves a seeded
random half of each spot's days unpatrolled (a within-spot control, as in crossover
trials such as Sherman & Weisburd 1995's Minneapolis experiment) so the effect can be
measured later.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots._time import local_timestamp
from hotspots._validate import check_positive, require_columns
from hotspots.config import VISIT_MINUTES
from hotspots.errors import InputError, OptionError, SchemaError
from hotspots.schema import (
    AREA_NAME,
    PEAK_BY_DAY,
    PEAK_WINDOWS,
    PLACE_NAME,
    RANK,
    REJECT_DETAIL,
    REJECT_REASON,
    SPOT_ID,
)
from hotspots.spots._profile import parse_windows

__all__ = [
    "ALL_SPOTS",
    "DEFAULT_PATROL_WINDOW",
    "DOSAGE_COLUMNS",
    "NO_SPOT",
    "PATROL_COLUMNS",
    "PLAN_ACTIVITY",
    "TIMES_SET_LOCALLY",
    "dosage_sentence",
    "patrol_dosage",
    "patrol_plan",
    "plan_start_of",
    "patrol_summary",
    "read_patrols",
    "weekly_dosage",
]

# kept for callers that import it; the plan no longer invents times from it: with no
# hour profile (month or day data) visit times are left to be set locally
DEFAULT_PATROL_WINDOW = (18, 5)  # start hour, length in hours
TIMES_SET_LOCALLY = "time to be set locally (no hour profile in the data)"
PATROL_COLUMNS = ("time", SPOT_ID, "x", "y", "minutes", "activity", "interactions")
ALL_SPOTS = "(all spots)"  # dosage rows: the force-wide total over the harm spots
NO_SPOT = "(no spot)"  # dosage rows: logged activity matching no spot
PLAN_ACTIVITY = "patrol"  # a plan's visits when it has no activity column
_COUNTS = (
    "planned_visits",
    "planned_minutes",
    "delivered_visits",
    "delivered_minutes",
    "interactions",
)
DOSAGE_COLUMNS = (SPOT_ID, RANK, AREA_NAME, "week_start", "week_end", "activity", *_COUNTS)

_ALIASES = {
    "time": ("time", "start", "datetime", "date_time", "timestamp", "started_at"),
    SPOT_ID: (SPOT_ID, "spot", "hotspot", "harm_spot"),
    "x": ("x", "easting", "longitude", "lon", "lng"),
    "y": ("y", "northing", "latitude", "lat"),
    "minutes": ("minutes", "duration_minutes", "duration_min", "mins"),
    "activity": ("activity", "type", "action"),
    "interactions": ("interactions", "n_interactions", "contacts"),
}


def plan_start_of(
    today: pd.Timestamp | str | None, plan_start: pd.Timestamp | str | None, *, tz: object
) -> pd.Timestamp:
    """First day of the plan: ``plan_start``, or the Monday after ``today``; never past.

    ``today`` defaults to the current date in ``tz``.

    Examples
    --------
    >>> plan_start_of("2026-02-02", None, tz="Europe/London")  # a Monday: the next one
    Timestamp('2026-02-09 00:00:00+0000', tz='Europe/London')
    >>> plan_start_of("2026-02-04", "2026-02-05", tz="Europe/London")
    Timestamp('2026-02-05 00:00:00+0000', tz='Europe/London')
    """
    day = _local_day(today, tz) if today is not None else _local_day(pd.Timestamp.now(tz=tz), tz)
    if plan_start is None:
        return _local_day(day.tz_localize(None) + pd.Timedelta(days=7 - day.day_of_week), tz)
    start = _local_day(plan_start, tz)
    if start < day:
        msg = (
            f"plan_start {start:%Y-%m-%d} is in the past (today is {day:%Y-%m-%d}); give a "
            f"date from today on, or leave it out for next Monday."
        )
        raise OptionError(msg)
    return start


def _local_day(when: object, tz: object) -> pd.Timestamp:
    stamp = local_timestamp(
        when, tz, error=f"{when!r} is not a date; use YYYY-MM-DD (e.g. 2026-02-09)."
    )
    wall = stamp.tz_localize(None).normalize() if stamp.tzinfo is not None else stamp.normalize()
    if tz is None:
        return wall
    return wall.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")


def patrol_plan(
    spots: gpd.GeoDataFrame,
    *,
    as_of: pd.Timestamp | None = None,
    plan_start: pd.Timestamp | str | None = None,
    today: pd.Timestamp | str | None = None,
    visit_minutes: int = VISIT_MINUTES,
    days: int = 7,
    crossover: bool = False,
    seed: int = 0,
) -> pd.DataFrame:
    """One visit per spot per day for the ``days`` days from ``plan_start``.

    The plan is for the coming week, never the past: it starts on ``plan_start``
    (default: the Monday after ``today``). Each visit starts at a seeded random minute
    inside the spot's own busiest window for that weekday (``peak_by_day``, from its
    hour-of-week harm profile); a weekday with no harm in the profile uses one of the
    spot's overall ``peak_windows``. A spot with no profile at all (month- or
    day-resolution data) gets its spot and day with no time (``start``/``end`` NaT,
    ``window`` :data:`TIMES_SET_LOCALLY`): no minute is invented.

    Parameters
    ----------
    spots
        ``SpotResult.spots`` (``spot_id``, ``rank``, ``area``, ``peak_windows``,
        ``peak_by_day``, ``place_name``).
    as_of
        The data's as-of moment; gives the time zone when ``today``/``plan_start`` are
        naive (it no longer sets the plan's dates).
    plan_start
        First day of the plan; must not be before ``today``.
    today
        The run date (default: the current date); tests pass a date.
    visit_minutes
        Length of each visit (default 15).
    days
        Days planned (default 7).
    crossover
        Leave a seeded random ``days // 2`` of each spot's days unpatrolled
        (``patrol`` False) as controls.
    seed
        Seed of the times and of the control days (written in column ``seed``).

    Returns
    -------
    pandas.DataFrame
        ``spot_id, rank, area, place_name, date, start, end, minutes, window, patrol,
        seed``; times are local.

    Raises
    ------
    OptionError
        ``plan_start`` before ``today``, or not a date.

    Examples
    --------
    >>> plan = patrol_plan(example_spots, today="2026-01-07")  # doctest: +SKIP
    """
    check_positive(visit_minutes, name="visit_minutes")
    check_positive(days, name="days")
    require_columns(spots, [SPOT_ID, RANK], what="spots")
    tz = pd.Timestamp(as_of).tz if as_of is not None else "Europe/London"
    day0 = plan_start_of(today, plan_start, tz=tz)
    rng = np.random.default_rng(seed)

    def text(col: str) -> list[str]:
        if col not in spots.columns:
            return [""] * len(spots)
        return spots[col].fillna("").astype(str).tolist()

    rows = []
    for spot_id, rank, area, place, overall, per_day in zip(
        spots[SPOT_ID],
        spots[RANK],
        text(AREA_NAME),
        text(PLACE_NAME),
        text(PEAK_WINDOWS),
        text(PEAK_BY_DAY),
        strict=True,
    ):
        windows = parse_windows(overall)
        daily = {w[0]: w for w in parse_windows(per_day)}
        controls = (
            set(rng.choice(days, size=days // 2, replace=False).tolist()) if crossover else set()
        )
        for d in range(days):
            date = _local_day(day0.tz_localize(None) + pd.Timedelta(days=d), tz)
            chosen = _window_for(daily, windows, date.day_of_week, rng)
            if chosen is None:
                start = end = pd.NaT
                label = TIMES_SET_LOCALLY
            else:
                start_h, length_h, label = chosen
                span = max(length_h * 60 - int(visit_minutes), 0)
                offset = int(rng.integers(0, span + 1))
                wall = date.tz_localize(None) + pd.Timedelta(hours=start_h, minutes=offset)
                start = wall.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
                end = start + pd.Timedelta(minutes=int(visit_minutes))
            rows.append(
                {
                    SPOT_ID: spot_id,
                    RANK: int(rank),
                    AREA_NAME: area,
                    PLACE_NAME: place,
                    "date": date.date().isoformat(),
                    "start": start,
                    "end": end,
                    "minutes": int(visit_minutes),
                    "window": label,
                    "patrol": d not in controls,
                    "seed": int(seed),
                }
            )
    columns = [
        SPOT_ID,
        RANK,
        AREA_NAME,
        PLACE_NAME,
        "date",
        "start",
        "end",
        "minutes",
        "window",
        "patrol",
        "seed",
    ]
    plan = pd.DataFrame(rows, columns=columns)
    for col in ("start", "end"):
        if len(plan):
            times = pd.to_datetime(plan[col])
            plan[col] = times.dt.tz_localize(tz) if times.dt.tz is None else times.dt.tz_convert(tz)
    return plan


def _window_for(
    daily: dict[int | None, tuple[int | None, int, int]],
    windows: list[tuple[int | None, int, int]],
    weekday: int,
    rng: np.random.Generator,
) -> tuple[int, int, str] | None:
    """The window a visit on ``weekday`` starts in, or None when there is no profile."""
    if weekday in daily:
        _, start, length = daily[weekday]
        return start, length, f"peak {start:02d}:00-{(start + length) % 24:02d}:00"
    if not windows:
        return None
    same_day = [w for w in windows if w[0] == weekday]
    pool = same_day or windows
    _, start, length = pool[int(rng.integers(0, len(pool)))]
    kind = "peak" if same_day else "peak hours"
    return start, length, f"{kind} {start:02d}:00-{(start + length) % 24:02d}:00"


def read_patrols(
    path: str | Path,
    *,
    tz: str = "Europe/London",
    crs: str | int = 27700,
    today: str | pd.Timestamp | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a patrol/interaction log (CSV): one row per visit.

    Columns (case-insensitive, common aliases accepted): ``time`` (start), ``spot_id``
    or ``x``/``y`` (easting/northing in ``crs``, or longitude/latitude), ``minutes``,
    optional ``activity`` and ``interactions`` (count; when absent each row whose activity
    is not ``patrol`` counts as one interaction).

    The CSV is read under ingest's rules (UTF-8, else Windows-1252; malformed lines are
    rejected rows). ``tz`` and ``crs`` are the run's time zone and working CRS: times
    without an offset are read in ``tz``, and x/y outside ``crs``'s area of use (Great
    Britain for EPSG:27700) are rejected ``outside_area``. Times after ``today`` (the run
    date, default now) are ``future_date``: a log holds visits already made, so it meets
    a plan for the coming week only once that week has passed. Dates a timestamp cannot
    hold are ``date_out_of_range``.

    Returns
    -------
    tuple of pandas.DataFrame
        ``(patrols, rejected)``: usable rows with columns :data:`PATROL_COLUMNS` plus
        ``crs`` (x/y CRS, EPSG:4326 for lon/lat) and ``source_row``; and the rows that
        cannot be used, with ``reason`` and ``detail``. Every row read is in exactly one.

    Raises
    ------
    InputError
        The file is missing or not a CSV table.
    SchemaError
        No time column, no minutes column, or neither spot id nor x/y columns.
    """
    p = Path(path)
    if not p.exists():
        msg = f"--patrols file {p} does not exist; check the path."
        raise InputError(msg)
    from hotspots.ingest import check_tz, day_end, in_bounds, read_text_table

    check_tz(tz)
    raw, rows, malformed, _notes = read_text_table(p)
    lower = {c.strip().lower(): c for c in raw.columns}
    found = {
        key: next((lower[a] for a in names if a in lower), None) for key, names in _ALIASES.items()
    }
    has_xy = found["x"] is not None and found["y"] is not None
    missing = [k for k in ("time", "minutes") if found[k] is None]
    if missing or (found[SPOT_ID] is None and not has_xy):
        need = missing + ([] if found[SPOT_ID] is not None or has_xy else ["spot_id or x/y"])
        msg = (
            f"--patrols file {p.name} needs column(s) {need}; it has {list(raw.columns)}. "
            f"Name them time, spot_id (or x,y / easting,northing / longitude,latitude), "
            f"minutes."
        )
        raise SchemaError(msg)
    lonlat = found["x"] is not None and found["x"].strip().lower() in ("longitude", "lon", "lng")
    out = pd.DataFrame({"source_row": rows})
    times = pd.to_datetime(raw[found["time"]], errors="coerce", format="mixed", dayfirst=False)
    times, far = in_bounds(times)
    if times.dt.tz is None:
        times = times.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    out["time"] = times.dt.tz_convert(tz).astype(f"datetime64[ns, {tz}]")
    out[SPOT_ID] = (
        raw[found[SPOT_ID]].str.strip()
        if found[SPOT_ID] is not None
        else pd.Series("", index=raw.index)
    )
    out["x"] = pd.to_numeric(raw[found["x"]], errors="coerce") if has_xy else np.nan
    out["y"] = pd.to_numeric(raw[found["y"]], errors="coerce") if has_xy else np.nan
    out["minutes"] = pd.to_numeric(raw[found["minutes"]], errors="coerce")
    out["activity"] = (
        raw[found["activity"]].str.strip() if found["activity"] is not None else "patrol"
    )
    if found["interactions"] is not None:
        out["interactions"] = pd.to_numeric(raw[found["interactions"]], errors="coerce")
    else:
        out["interactions"] = (out["activity"].str.lower() != "patrol").astype("int64")
    out["crs"] = "EPSG:4326" if lonlat else f"EPSG:{crs}" if isinstance(crs, int) else str(crs)
    reason = pd.Series("", index=out.index, dtype=object)
    detail = pd.Series("", index=out.index, dtype=object)
    today_end = day_end(today, tz, option="today")
    away = _outside(
        out["x"].to_numpy(dtype="float64"), out["y"].to_numpy(dtype="float64"), crs, lonlat=lonlat
    )
    checks = [
        (
            pd.Series(far, index=out.index),
            "date_out_of_range",
            f"column {found['time']!r}: a date outside 1678-2261 (e.g. 9999-12-31); fix it",
        ),
        (
            out["time"].isna(),
            "unparseable_date",
            f"column {found['time']!r}: not a date-time; use YYYY-MM-DD HH:MM",
        ),
        (
            out["minutes"].isna() | (out["minutes"] < 0),
            "bad_minutes",
            f"column {found['minutes']!r}: minutes must be a number >= 0",
        ),
        (
            (out[SPOT_ID] == "") & (out["x"].isna() | out["y"].isna()),
            "no_location",
            "no spot_id and no x/y: give one of them",
        ),
        (
            out["interactions"].isna() | (out["interactions"] < 0),
            "bad_interactions",
            "interactions must be a whole number >= 0",
        ),
        (
            out["time"] > today_end,
            "future_date",
            f"column {found['time']!r}: after the run date {today_end.date()}; fix it",
        ),
        (
            pd.Series(away, index=out.index),
            "outside_area",
            f"x/y outside the area of use of {out['crs'].iloc[0] if len(out) else crs}; "
            f"fix the coordinates",
        ),
    ]
    for bad, why, text in checks:
        new = bad.to_numpy() & (reason == "").to_numpy()
        reason[new] = why
        detail[new] = text
    rejected = raw[(reason != "").to_numpy()].copy()
    rejected.insert(0, "source_row", out["source_row"][(reason != "").to_numpy()].to_numpy())
    rejected[REJECT_REASON] = reason[reason != ""].to_numpy()
    rejected[REJECT_DETAIL] = detail[reason != ""].to_numpy()
    if len(malformed):
        extra = malformed.drop(columns="source_file")
        rejected = pd.concat([rejected, extra], ignore_index=True)
    good = out[(reason == "").to_numpy()].reset_index(drop=True)
    good["interactions"] = good["interactions"].astype("int64")
    return good, rejected.reset_index(drop=True)


def _outside(x: np.ndarray, y: np.ndarray, crs: str | int, *, lonlat: bool) -> np.ndarray:
    """Rows whose x/y lie outside the working CRS's area of use (missing x/y: False)."""
    from pyproj import CRS, Transformer

    from hotspots.ingest import outside_working_area

    target = CRS.from_user_input(crs)
    have = np.isfinite(x) & np.isfinite(y)
    out = np.zeros(len(x), dtype=bool)
    if not have.any() or not target.is_projected:
        return out
    if lonlat:
        tx, ty = Transformer.from_crs(4326, target, always_xy=True).transform(
            x[have], y[have], errcheck=False
        )
        lon, lat = x[have], y[have]
    else:
        tx, ty, lon, lat = x[have], y[have], None, None
    out[have] = outside_working_area(
        np.asarray(tx, dtype="float64"), np.asarray(ty, dtype="float64"), target, lon=lon, lat=lat
    )
    return out


def patrol_dosage(
    plan: pd.DataFrame, patrols: pd.DataFrame, spots: gpd.GeoDataFrame, *, match_m: float = 50.0
) -> pd.DataFrame:
    """Planned and delivered visits, minutes and interactions per spot, week and activity.

    Plan and log meet in the same week: weeks start on the plan's first day, and a logged
    visit counts for a spot when its ``spot_id`` names the spot (this run's or the plan's),
    or else when its location lies within ``match_m`` metres of one of ``spots`` (the
    nearest wins; on a tie, such as a point on the edge two cells share, the higher-ranked
    spot). Planned visits are the plan's patrolled rows under the plan's own
    ``activity`` column, or :data:`PLAN_ACTIVITY` ("patrol") when it has none; delivered
    ones under the activity as logged.

    Parameters
    ----------
    plan
        ``patrol_plan.csv`` rows (``spot_id``, ``date``, ``minutes``, ``patrol``;
        ``activity`` optional): the plan the log is measured against.
    patrols
        ``read_patrols`` output.
    spots
        The spots a location is matched to (``spot_id``, ``rank``, ``area``, polygons).
    match_m
        Largest distance (metres) from a spot for a visit with no spot id (default 50).

    Returns
    -------
    pandas.DataFrame
        :data:`DOSAGE_COLUMNS`, one row per spot x week x activity; then per week and
        activity the force-wide total over the harm spots (``spot_id`` "(all spots)"); then
        the logged activity matching no spot (``spot_id`` "(no spot)", never in the total).
        ``week_start``/``week_end`` are the week's first and last day (YYYY-MM-DD).

    Examples
    --------
    >>> dosage = patrol_dosage(plan, log, example_spots)  # doctest: +SKIP
    """
    check_positive(match_m, name="match_m")
    require_columns(plan, [SPOT_ID, "date", "minutes", "patrol"], what="plan")
    require_columns(
        patrols,
        ["time", SPOT_ID, "x", "y", "minutes", "activity", "interactions"],
        what="patrols",
        fix="Read the log with read_patrols(path).",
    )
    day0 = pd.Timestamp(plan["date"].min()) if len(plan) else _first_monday(patrols)
    planned = plan[plan["patrol"].astype(bool).to_numpy()]
    planned = pd.DataFrame(
        {
            SPOT_ID: planned[SPOT_ID].astype(str).to_numpy(),
            "week": ((pd.to_datetime(planned["date"]) - day0).dt.days // 7).to_numpy(),
            "activity": (
                planned["activity"].fillna(PLAN_ACTIVITY).astype(str).str.strip().to_numpy()
                if "activity" in planned.columns
                else PLAN_ACTIVITY
            ),
            "minutes": pd.to_numeric(planned["minutes"]).to_numpy(),
        }
    )
    keys = [SPOT_ID, "week", "activity"]
    pw = planned.groupby(keys).agg(
        planned_visits=("minutes", "size"), planned_minutes=("minutes", "sum")
    )
    matched = _match_patrols(patrols, spots, match_m=match_m, plan_ids=planned[SPOT_ID])
    local_day = patrols["time"].dt.tz_localize(None).dt.normalize()
    log = pd.DataFrame(
        {
            SPOT_ID: matched,
            "week": ((local_day - day0).dt.days // 7).to_numpy(dtype="int64"),
            "activity": patrols["activity"].fillna("").astype(str).to_numpy(),
            "minutes": patrols["minutes"].to_numpy(dtype="float64"),
            "interactions": patrols["interactions"].to_numpy(dtype="int64"),
        }
    )
    done = log.groupby(keys).agg(
        delivered_visits=("minutes", "size"),
        delivered_minutes=("minutes", "sum"),
        interactions=("interactions", "sum"),
    )
    table = pw.join(done, how="outer").fillna(0).reset_index()
    in_spots = table[table[SPOT_ID] != NO_SPOT]
    total = in_spots.groupby(["week", "activity"], as_index=False)[list(_COUNTS)].sum()
    total.insert(0, SPOT_ID, ALL_SPOTS)
    table = pd.concat([in_spots, total, table[table[SPOT_ID] == NO_SPOT]], ignore_index=True)
    for col in _COUNTS:
        if col != "delivered_minutes":
            table[col] = table[col].astype("int64")
    info = spots.assign(**{SPOT_ID: spots[SPOT_ID].astype(str)}).set_index(SPOT_ID)
    table[RANK] = table[SPOT_ID].map(info[RANK]).astype("Int64")
    table[AREA_NAME] = (
        table[SPOT_ID].map(info[AREA_NAME]).fillna("") if AREA_NAME in info.columns else ""
    )
    starts = day0 + pd.to_timedelta(table["week"] * 7, unit="D")
    table["week_start"] = starts.dt.date.astype(str)
    table["week_end"] = (starts + pd.Timedelta(days=6)).dt.date.astype(str)
    table["_kind"] = table[SPOT_ID].map({ALL_SPOTS: 1, NO_SPOT: 2}).fillna(0)
    table = table.sort_values(
        ["_kind", RANK, SPOT_ID, "week", "activity"], na_position="last", kind="stable"
    )
    return table[list(DOSAGE_COLUMNS)].reset_index(drop=True)


def _first_monday(patrols: pd.DataFrame) -> pd.Timestamp:
    """The Monday on or before the log's first day (the weeks of a log with no plan)."""
    if not len(patrols):
        return pd.Timestamp("1970-01-05")
    first = patrols["time"].dt.tz_localize(None).dt.normalize().min()
    return first - pd.Timedelta(days=int(first.day_of_week))


def patrol_summary(
    plan: pd.DataFrame,
    patrols: pd.DataFrame | None,
    spots: gpd.GeoDataFrame,
    *,
    match_m: float = 50.0,
    dosage: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Minutes and interactions delivered per spot per plan week, against the plan.

    The per-activity table of :func:`patrol_dosage` summed over activities (pass it as
    ``dosage`` when already computed; ``patrols`` is then not read).

    Returns
    -------
    pandas.DataFrame
        ``spot_id, rank, area, week_start, planned_visits, planned_minutes, visits,
        minutes, interactions, minutes_vs_plan`` (delivered / planned minutes), plus
        rows ``spot_id = "(no spot)"`` for logged visits matching no spot.
    """
    if dosage is None:
        if patrols is None:
            msg = "patrol_summary needs the patrol log (patrols) or its dosage table."
            raise TypeError(msg)
        dosage = patrol_dosage(plan, patrols, spots, match_m=match_m)
    per_spot = dosage[dosage[SPOT_ID] != ALL_SPOTS]
    table = per_spot.groupby([SPOT_ID, "week_start"], as_index=False, sort=False).agg(
        **{RANK: (RANK, "first"), AREA_NAME: (AREA_NAME, "first")},
        planned_visits=("planned_visits", "sum"),
        planned_minutes=("planned_minutes", "sum"),
        visits=("delivered_visits", "sum"),
        minutes=("delivered_minutes", "sum"),
        interactions=("interactions", "sum"),
    )
    table["minutes_vs_plan"] = np.where(
        table["planned_minutes"] > 0,
        table["minutes"] / table["planned_minutes"].where(table["planned_minutes"] > 0, 1),
        np.nan,
    )
    table = table.sort_values([RANK, SPOT_ID, "week_start"], na_position="last", kind="stable")
    cols = [
        SPOT_ID,
        RANK,
        AREA_NAME,
        "week_start",
        "planned_visits",
        "planned_minutes",
        "visits",
        "minutes",
        "interactions",
        "minutes_vs_plan",
    ]
    return table[cols].reset_index(drop=True)


def weekly_dosage(dosage: pd.DataFrame | None, *, as_of: pd.Timestamp) -> dict[str, Any] | None:
    """The force-wide figures of the latest complete week in ``dosage`` (None if none).

    A week is complete when its last day is on or before ``as_of``'s date; the latest
    such week with anything planned or delivered is taken. The figures are its
    "(all spots)" rows summed over activities: ``interactions`` (the Essex "interactions
    in harm spots each week"), delivered and planned visits and minutes, interactions per
    activity, the interactions logged outside every spot (``no_spot_interactions``), and
    ``text``, the figures in one line (:func:`dosage_sentence`).

    Examples
    --------
    >>> weekly_dosage(None, as_of=pd.Timestamp("2026-11-22")) is None
    True
    """
    if dosage is None or not len(dosage):
        return None
    day = pd.Timestamp(as_of)
    last_day = (day.tz_localize(None) if day.tzinfo is not None else day).normalize()
    total = dosage[dosage[SPOT_ID] == ALL_SPOTS]
    busy = total[(total["planned_visits"] > 0) | (total["delivered_visits"] > 0)]
    done = busy[pd.to_datetime(busy["week_end"]) <= last_day]
    if not len(done):
        return None
    week = done["week_start"].max()
    rows = total[total["week_start"] == week]
    outside = dosage[(dosage[SPOT_ID] == NO_SPOT) & (dosage["week_start"] == week)]
    by_activity = rows.groupby("activity")["interactions"].sum()
    figures = {
        "week_start": str(week),
        "week_end": str(rows["week_end"].iloc[0]),
        "interactions": int(rows["interactions"].sum()),
        "delivered_visits": int(rows["delivered_visits"].sum()),
        "delivered_minutes": float(rows["delivered_minutes"].sum()),
        "planned_visits": int(rows["planned_visits"].sum()),
        "planned_minutes": int(rows["planned_minutes"].sum()),
        "interactions_by_activity": {str(k): int(v) for k, v in by_activity.items() if v},
        "no_spot_interactions": int(outside["interactions"].sum()),
    }
    return {**figures, "text": dosage_sentence(figures)}


def dosage_sentence(figures: dict[str, Any] | None) -> str:
    """The force-wide weekly dosage in one line, naming the week's dates ("" if none).

    Examples
    --------
    >>> line = dosage_sentence({"week_start": "2026-11-16", "week_end": "2026-11-22",
    ...     "interactions": 512, "delivered_visits": 120, "delivered_minutes": 1800.0,
    ...     "planned_visits": 140, "planned_minutes": 2100})
    >>> line.split(";")[0]
    'Week Mon 16 Nov to Sun 22 Nov 2026: 512 interactions in harm spots'
    """
    if not figures:
        return ""
    start, end = pd.Timestamp(figures["week_start"]), pd.Timestamp(figures["week_end"])
    return (
        f"Week {start:%a %d %b} to {end:%a %d %b %Y}: {figures['interactions']:,} "
        f"interactions in harm spots; {figures['delivered_visits']:,} visits, "
        f"{figures['delivered_minutes']:,.0f} min delivered against "
        f"{figures['planned_visits']:,} visits, {figures['planned_minutes']:,} min planned."
    )


def _match_patrols(
    patrols: pd.DataFrame,
    spots: gpd.GeoDataFrame,
    *,
    match_m: float,
    plan_ids: pd.Series | None = None,
) -> np.ndarray:
    """Spot id of each logged visit (:data:`NO_SPOT` when it matches none)."""
    known = set(spots[SPOT_ID].astype(str))
    if plan_ids is not None:
        known |= set(plan_ids.astype(str))
    ids = patrols[SPOT_ID].fillna("").astype(str).to_numpy(dtype=object).copy()
    by_id = np.isin(ids, list(known))
    ids[~by_id] = NO_SPOT
    need = ~by_id & patrols["x"].notna().to_numpy() & patrols["y"].notna().to_numpy()
    if need.any() and len(spots):
        sub = patrols[need]
        for crs, group in sub.groupby("crs", sort=True):
            pts = gpd.GeoSeries(
                gpd.points_from_xy(group["x"], group["y"]), crs=crs, index=group.index
            ).to_crs(spots.crs)
            pt_i, spot_i = spots.sindex.nearest(
                pts.to_numpy(), max_distance=match_m, return_all=True
            )
            # equally near two spots (on a shared edge): the higher-ranked one wins
            rank = pd.to_numeric(spots[RANK], errors="coerce").to_numpy(dtype="float64")
            order = np.lexsort((rank[spot_i], pt_i))
            pt_i, spot_i = pt_i[order], spot_i[order]
            first = np.r_[True, pt_i[1:] != pt_i[:-1]] if len(pt_i) else pt_i.astype(bool)
            pt_i, spot_i = pt_i[first], spot_i[first]
            pos = patrols.index.get_indexer(group.index[pt_i])
            ids[pos] = spots[SPOT_ID].astype(str).to_numpy()[spot_i]
    return ids
