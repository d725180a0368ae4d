"""Cocoon zones: one circle per recent dwelling burglary, with deadline, expiry and status.

After a burglary of a home, the homes around it face a raised risk of burglary for some
weeks, highest next door and in the first days (Johnson & Bowers 2004; Bowers, Johnson &
Pease 2004 on prospective mapping). Cocooning visits the neighbours quickly: each
burglary opens a zone of ``radius_m`` (default 400 m) that is due for visits within
``due_hours`` (default 48 h) and stays live for ``window_days`` (default 42 days).

Only where dates allow. Operational zones (``zone_kind`` ``operational``: a deadline,
due/overdue states) need day or exact dates. A month-resolution burglary (police.uk)
opens a **retrospective** near-repeat risk area instead: no ``due_by`` (NaT), never
``due`` or ``overdue`` (status ``active`` while live), and a risk window that covers every
day the burglary could have happened: from the first of its month to ``window_days``
after the month's end. No time inside the month is invented; ``month_dates`` survives
only to start the risk window at that point of the month instead.

Zone ids are short enough to say on the radio: a 3-letter area code, the burglary's
local date (``YYMMDD``; ``YYMM`` for month data) and its sequence that day in that
area code over every dwelling burglary of the data (by time, then burglary id), e.g.
``BAS-251216-03``: unique, deterministic, at most 16 characters.
"""

from __future__ import annotations

from typing import Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots._validate import check_choice, check_positive, require_columns, require_metric_crs
from hotspots.areas import AREA_UNASSIGNED, label_points
from hotspots.config import DUE_HOURS, RADIUS_M, WINDOW_DAYS
from hotspots.errors import CRSError, EmptyWindowError
from hotspots.schema import (
    AREA_NAME,
    BURGLARY_ID,
    DUE_BY,
    DWELLING_BURGLARY,
    EASTING,
    EXPIRES_ON,
    INCIDENT_ID,
    LOCATION,
    N_HOMES,
    N_OVERLAPPING,
    NORTHING,
    OCCURRED_AT,
    OFFENCE,
    OFFENCE_CODE,
    STATUS,
    TIME_RESOLUTION,
    ZONE_ID,
    ZONE_IDS,
    ZONE_KIND,
    ZONE_MONTH_DATES,
)

__all__ = [
    "DWELLING_NOTE",
    "MONTH_DATES",
    "MONTH_DATES_COLUMN",
    "MonthDates",
    "cocoon_zones",
    "merged_zones",
    "radio_zone_ids",
    "zone_notes",
    "zone_status",
]

MonthDates = Literal["start", "mid", "end"]
MONTH_DATES: tuple[str, ...] = get_args(MonthDates)
MONTH_DATES_COLUMN = ZONE_MONTH_DATES
DWELLING_NOTE = "dwelling_note"
CANDIDATE_NOTE = "police.uk 'Burglary' may include non-dwelling burglary (candidate)"
ZONE_PREFIX = "Z-"
NO_AREA_CODE = "ZON"  # area code of zones outside every area (or without areas)
MAX_ZONE_ID_CHARS = 16
RETROSPECTIVE_NOTE = (
    "Month-only dates: these are retrospective near-repeat risk areas (no visit deadline, "
    "no overdue state); each covers its burglary's month and the {days:g} days after it."
)


def area_code(name: object) -> str:
    """Three capital letters from an area name: ``"Southend-on-Sea"`` -> ``"SOU"``.

    Names with fewer than 3 letters are padded with ``X``; no name gives ``ZON``.

    Examples
    --------
    >>> area_code("Basildon"), area_code("Castle Point"), area_code(""), area_code("Ox")
    ('BAS', 'CAS', 'ZON', 'OXX')
    """
    letters = "".join(c for c in str(name or "") if c.isascii() and c.isalpha()).upper()
    if not letters or name in (AREA_UNASSIGNED, "all"):
        return NO_AREA_CODE
    return (letters + "XX")[:3]


def zone_notes(zones: gpd.GeoDataFrame, *, window_days: float) -> list[str]:
    """Notes a run must show with its zones: what retrospective zones are, police.uk's caveat.

    Examples
    --------
    >>> z = pd.DataFrame({"zone_kind": ["retrospective"], "dwelling_note": [""]})
    >>> zone_notes(z, window_days=42)[0][:50]
    'Month-only dates: these are retrospective near-rep'
    """
    notes: list[str] = []
    if ZONE_KIND in zones.columns and (zones[ZONE_KIND] == "retrospective").any():
        n = int((zones[ZONE_KIND] == "retrospective").sum())
        notes.append(RETROSPECTIVE_NOTE.format(days=window_days) + f" ({n} zones)")
    if DWELLING_NOTE in zones.columns and (zones[DWELLING_NOTE] != "").any():
        notes.append(CANDIDATE_NOTE + ": zones marked in dwelling_note may not be homes.")
    return notes


def radio_zone_ids(
    codes: np.ndarray, days: np.ndarray, when: pd.Series, burglary_ids: np.ndarray
) -> np.ndarray:
    """``CODE-DAY-NN`` ids: sequence by time then burglary id within (code, day).

    ``days`` is the ``YYMMDD`` (or ``YYMM``) text of each burglary. Sequence numbers
    have at least two digits.

    Examples
    --------
    >>> when = pd.Series(pd.to_datetime(["2025-12-16 10:00", "2025-12-16 09:00"]))
    >>> radio_zone_ids(np.array(["BAS", "BAS"]), np.array(["251216", "251216"]), when,
    ...                np.array(["b", "a"])).tolist()
    ['BAS-251216-02', 'BAS-251216-01']
    """
    table = pd.DataFrame(
        {
            "code": codes,
            "day": days,
            "t": when.to_numpy(),
            "id": burglary_ids,
            "i": range(len(codes)),
        }
    ).sort_values(["code", "day", "t", "id"], kind="stable")
    seq = table.groupby(["code", "day"], sort=False).cumcount().to_numpy() + 1
    ids = np.empty(len(codes), dtype=object)
    ids[table["i"].to_numpy()] = [
        f"{c}-{d}-{n:02d}" for c, d, n in zip(table["code"], table["day"], seq, strict=True)
    ]
    return ids


def _month_dated(occurred: pd.Series, choice: str) -> pd.Series:
    """Replace month-resolution times by the start, middle or end of their month.

    ``start`` is the first day at 00:00, ``end`` the last second of the month
    (23:59:59 on its last day) and ``mid`` the middle between the start of the month
    and the start of the next one in local clock time (16 January 12:00, 15 February
    00:00).
    """
    tz = occurred.dt.tz
    wall = occurred.dt.tz_localize(None) if tz is not None else occurred
    start = wall.dt.normalize() - pd.to_timedelta(wall.dt.day - 1, unit="D")
    following = start + pd.offsets.MonthBegin(1)
    if choice == "start":
        out = start
    elif choice == "end":
        out = following - pd.Timedelta(seconds=1)
    else:  # the middle in wall-clock time, so a clock change does not move it
        out = start + (following - start) / 2
    return _localize(out, tz)


def _strftime_days(local: pd.Series, fmt: str) -> np.ndarray:
    """``local.dt.strftime(fmt)`` for a day-or-coarser ``fmt``, formatting each day once."""
    try:
        days = local.dt.floor("D")
    except (ValueError, TypeError):  # pragma: no cover - aware times across a clock change
        return local.dt.strftime(fmt).to_numpy()
    which, uniq = pd.factorize(days)
    text = pd.Series(uniq, dtype=days.dtype).dt.strftime(fmt).to_numpy(dtype=object)
    nat = pd.Series([pd.NaT], dtype=days.dtype).dt.strftime(fmt).to_numpy(dtype=object)[0]
    return np.where(which >= 0, text[np.maximum(which, 0)] if len(text) else nat, nat)


def _localize(wall: pd.Series, tz: object) -> pd.Series:
    """Wall-clock times in ``tz``, valid across clock changes.

    A repeated hour takes its first (summer-time) occurrence; a skipped hour moves
    forward to the first time that exists.
    """
    if tz is None:
        return wall
    first = np.ones(len(wall), dtype=bool)
    return wall.dt.tz_localize(tz, ambiguous=first, nonexistent="shift_forward")


def _plus_days(times: pd.Series, days: float) -> pd.Series:
    """``times`` plus ``days`` calendar days on the local clock.

    A zone opened at 10:00 expires at 10:00 even across a clock change, and a time
    that lands in a skipped or repeated hour is still a valid time (see ``_localize``).
    """
    tz = times.dt.tz
    if tz is None or not float(days).is_integer():
        return times + pd.Timedelta(days=days)
    return _localize(times.dt.tz_localize(None) + pd.Timedelta(days=days), tz)


def zone_status(
    due_by: pd.Series,
    *,
    as_of: pd.Timestamp,
    first_visit: pd.Series | None,
) -> np.ndarray:
    """Status of each zone at ``as_of`` (see :func:`cocoon_zones` for the rules)."""
    past_deadline = (as_of > due_by).to_numpy(dtype=bool)
    if first_visit is None:
        return np.where(past_deadline, "active", "due").astype(object)
    seen = first_visit.notna() & (first_visit <= as_of)
    seen = seen.to_numpy(dtype=bool)
    out = np.where(past_deadline, "overdue", "due").astype(object)
    out[seen] = "visited"
    return out


def _as_timestamp(as_of: object, tz: object) -> pd.Timestamp:
    stamp = pd.Timestamp(as_of)
    if stamp is pd.NaT:
        msg = f"as_of must be a date/time; got {as_of!r}."
        raise TypeError(msg)
    if stamp.tzinfo is None and tz is not None:
        stamp = stamp.tz_localize(tz)
    elif stamp.tzinfo is not None and tz is not None:
        stamp = stamp.tz_convert(tz)
    return stamp


def cocoon_zones(
    incidents: gpd.GeoDataFrame,
    *,
    as_of: pd.Timestamp,
    radius_m: float = RADIUS_M,
    window_days: int = WINDOW_DAYS,
    due_hours: float = DUE_HOURS,
    month_dates: MonthDates | None = None,
    areas: gpd.GeoDataFrame | None = None,
    addresses: object | None = None,
    first_visits: pd.Series | None = None,
) -> gpd.GeoDataFrame:
    """One cocoon zone per dwelling burglary that is live at ``as_of``.

    A burglary is live when ``as_of - window_days < occurred_at <= as_of``, which is the
    same as ``occurred_at <= as_of < expires_on``: every zone returned is unexpired.

    Parameters
    ----------
    incidents
        Ingested incidents (``hotspots.ingest``) in a metric CRS; rows with
        ``dwelling_burglary`` true open zones, other rows are ignored.
    as_of
        Moment the zones are for. A naive time is read in the incidents' time zone.
    radius_m
        Zone radius in metres (default 400).
    window_days
        Days a zone stays live after the burglary (default 42); ``expires_on`` is
        ``occurred_at + window_days``.
    due_hours
        Hours after the burglary by which the zone must be visited (default 48).
    month_dates
        Only for month-resolution rows (police.uk), optional: start each retrospective
        risk window at the ``start``, ``mid`` or ``end`` of the burglary's month instead
        of covering the whole month (default None: the first of the month to
        ``window_days`` after its end). Never gives a deadline; recorded in column
        ``month_dates``.
    areas
        Area polygons (``hotspots.areas.read_areas``) in the same CRS; gives ``area``.
    addresses
        Address points (``read_addresses``) or an :class:`AddressIndex`; gives
        ``n_homes``, the number of addresses within ``radius_m`` (boundary included).
    first_visits
        First visit time per zone id (``Compliance.per_zone`` ``first_visit_at``); NaT
        or a missing zone id means not visited.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``zone_id`` (radio id such as ``BAS-251216-03``, see the module notes),
        ``burglary_id``, ``occurred_at`` (start of the risk window: the burglary's time,
        or the first of its month on month data), ``due_by`` (NaT for retrospective
        zones), ``expires_on``, ``status``, ``zone_kind`` (``operational`` /
        ``retrospective``), ``location`` (the burglary's location text, or ""), ``area``,
        ``n_homes`` (Int64, <NA> without addresses), ``n_overlapping`` (other live zones
        whose circles overlap this one: centres at most ``2 * radius_m`` apart),
        ``month_dates`` (choice or ""), ``dwelling_note`` (police.uk's non-dwelling
        caveat, only on police.uk month rows with a bare "Burglary" category),
        ``easting``/``northing`` of the burglary, and the ``radius_m`` buffer polygon as
        geometry. Sorted by ``occurred_at`` then burglary id.

        Status at ``as_of``:

        * ``visited``: ``first_visits`` gives a visit at or before ``as_of`` (on time
          or late; :func:`compliance` reports lateness);
        * ``due``: not visited and ``as_of <= due_by``;
        * ``overdue``: ``first_visits`` was given, the zone has no visit and
          ``as_of > due_by``;
        * ``active``: no visit log at all (``first_visits`` is None) and
          ``as_of > due_by``: past its deadline, still live, visit state unknown; and
          every live retrospective zone (no deadline).

    Raises
    ------
    EmptyWindowError
        No dwelling burglary in the window (the message gives the data's date range).
    CRSError
        ``incidents`` are not in a metric CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> burglaries = gpd.GeoDataFrame(
    ...     {"incident_id": ["B1", "B2"], "dwelling_burglary": [True, True],
    ...      "occurred_at": pd.DatetimeIndex(["2024-03-01", "2024-03-05"], tz="Europe/London")},
    ...     geometry=gpd.points_from_xy([400_000.0, 400_150.0], [300_000.0, 300_000.0]),
    ...     crs=27700)
    >>> zones = cocoon_zones(burglaries, as_of=pd.Timestamp("2024-03-06"))
    >>> zones[["zone_id", "status", "n_overlapping"]].values.tolist()
    [['ZON-240301-01', 'active', 1], ['ZON-240305-01', 'due', 1]]
    """
    require_metric_crs(incidents, what="incidents")
    radius_m = check_positive(radius_m, name="radius_m")
    check_positive(window_days, name="window_days")
    due_hours = check_positive(due_hours, name="due_hours")
    if month_dates is not None:
        check_choice(month_dates, MONTH_DATES, name="month_dates")
    require_columns(
        incidents,
        [OCCURRED_AT, DWELLING_BURGLARY],
        what="incidents",
        fix="Read them with hotspots.ingest.read_incidents.",
    )
    burg = incidents[incidents[DWELLING_BURGLARY].fillna(False).astype(bool).to_numpy()]
    tz = incidents[OCCURRED_AT].dt.tz
    as_of = _as_timestamp(as_of, tz)
    occurred = burg[OCCURRED_AT]
    if TIME_RESOLUTION in burg.columns:
        monthly = (burg[TIME_RESOLUTION].astype(str) == "month").to_numpy()
    else:
        monthly = np.zeros(len(burg), dtype=bool)
    # the risk window: [risk_from, expiry); month rows cover their whole month
    risk_from = occurred.copy()
    expiry = _plus_days(occurred, window_days)
    if monthly.any():
        month_start = _month_dated(occurred[monthly], "start")
        month_end = _month_dated(occurred[monthly], "end") + pd.Timedelta(seconds=1)
        if month_dates is not None:
            risk_from[monthly] = _month_dated(occurred[monthly], month_dates)
            expiry[monthly] = _plus_days(risk_from[monthly], window_days)
        else:
            risk_from[monthly] = month_start
            expiry[monthly] = _plus_days(month_end, window_days)
    live = ((expiry > as_of) & (risk_from <= as_of) & occurred.notna()).to_numpy()
    if not live.any():
        if len(burg) and occurred.notna().any():
            span = f"{occurred.min():%Y-%m-%d} to {occurred.max():%Y-%m-%d}"
        else:
            span = "none (the data holds no dwelling burglaries)"
        msg = (
            f"No dwelling burglary in the {window_days:g}-day window "
            f"{_plus_days(pd.Series([as_of]), -window_days).iloc[0]:%Y-%m-%d %H:%M} to "
            f"{as_of:%Y-%m-%d %H:%M}; dwelling burglaries "
            f"in the data are dated {span}. Choose an --as-of inside that range."
        )
        raise EmptyWindowError(msg)
    all_ids = (
        burg[INCIDENT_ID].astype(str).to_numpy()
        if INCIDENT_ID in burg
        else np.array([str(i) for i in burg.index])
    )
    # radio ids over every dwelling burglary of the data, so an id never changes as
    # other zones expire
    labels = label_points(gpd.GeoSeries(burg.geometry, crs=incidents.crs), areas)
    which, names = pd.factorize(labels)  # a few area names for many burglaries
    all_codes = np.array([area_code(a) for a in names], dtype=object)[which]
    local = occurred.dt.tz_localize(None) if tz is not None else occurred
    day_text = np.where(monthly, _strftime_days(local, "%y%m"), _strftime_days(local, "%y%m%d"))
    radio = radio_zone_ids(all_codes, day_text, risk_from, all_ids)
    chosen = burg[live]
    when = risk_from[live]
    ids = all_ids[live]
    points = chosen.geometry.to_numpy()
    xy = shapely.get_coordinates(points)
    order = np.lexsort((ids, when.to_numpy()))
    ids, points, xy = ids[order], points[order], xy[order]
    when = when.iloc[order].reset_index(drop=True)
    expires = expiry[live].iloc[order].reset_index(drop=True)
    retro = monthly[live][order]
    location = (
        chosen[LOCATION].astype("string").fillna("").to_numpy(dtype=object)[order]
        if LOCATION in chosen.columns
        else np.full(len(ids), "", dtype=object)
    )
    # a bare "Burglary" category with no finer code (police.uk only) may not be a home
    plain = np.zeros(len(ids), dtype=bool)
    if OFFENCE in chosen.columns and OFFENCE_CODE in chosen.columns:
        text = chosen[OFFENCE].astype("string").str.strip().str.lower()
        plain = text.eq("burglary").fillna(False).to_numpy(dtype=bool)[order]
        plain &= chosen[OFFENCE_CODE].isna().to_numpy()[order]
        plain &= retro  # police.uk rows are the month-resolution ones
    dwelling_code = ~plain
    due = (when + pd.Timedelta(hours=due_hours)).where(~pd.Series(retro), pd.NaT)
    zone_ids = radio[live][order]
    first = None
    if first_visits is not None:
        first = pd.Series(pd.to_datetime(first_visits), copy=True)
        first.index = first.index.astype(str)
        first = first.reindex(zone_ids)
        if first.dt.tz is None and tz is not None:
            first = first.dt.tz_localize(tz)
        first = first.reset_index(drop=True)
    status = zone_status(due, as_of=as_of, first_visit=first)
    status[retro] = "active"  # no deadline, so never due or overdue
    pts = gpd.GeoSeries(points, crs=incidents.crs)
    # other live zones overlapping: circle centres no more than 2 * radius apart
    left, _right = pts.sindex.query(points, predicate="dwithin", distance=2.0 * radius_m)
    n_overlap = np.bincount(left, minlength=len(points)) - 1
    n_homes = pd.array([pd.NA] * len(points), dtype="Int64")
    if addresses is not None:
        from hotspots.cocoon.addresses import AddressIndex

        index = addresses if isinstance(addresses, AddressIndex) else AddressIndex(addresses)
        if not index.crs.equals(incidents.crs):
            msg = (
                f"incidents ({incidents.crs.to_string()}) and addresses "
                f"({index.crs.to_string()}) are in different CRSs; read the addresses with "
                f"working_crs=<the incidents' CRS>."
            )
            raise CRSError(msg)
        n_homes = pd.array(index.count_within(points, radius_m), dtype="Int64")
    zones = gpd.GeoDataFrame(
        {
            ZONE_ID: zone_ids,
            BURGLARY_ID: ids.astype(object),
            OCCURRED_AT: when,
            DUE_BY: due,
            EXPIRES_ON: expires,
            STATUS: status,
            ZONE_KIND: np.where(retro, "retrospective", "operational").astype(object),
            LOCATION: location,
            AREA_NAME: label_points(pts, areas),
            N_HOMES: n_homes,
            N_OVERLAPPING: n_overlap.astype("int64"),
            MONTH_DATES_COLUMN: np.where(retro, month_dates or "start", ""),  # risk window start
            DWELLING_NOTE: np.where(dwelling_code, "", CANDIDATE_NOTE),
            EASTING: xy[:, 0],
            NORTHING: xy[:, 1],
        },
        geometry=shapely.buffer(points, radius_m, quad_segs=16),
        crs=incidents.crs,
    )
    return zones


def merged_zones(zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Union of the zones for display: one polygon per group of overlapping zones.

    Parameters
    ----------
    zones
        Output of :func:`cocoon_zones`.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``merged_id`` (1, 2, ... by earliest deadline), ``n_zones``,
        ``zone_ids`` (``"Z-1;Z-7"``), ``due_by`` (earliest), ``expires_on`` (latest),
        and the merged polygon, in the zones' CRS.
    """
    require_metric_crs(zones, what="zones")
    if len(zones) == 0:
        return gpd.GeoDataFrame(
            {"merged_id": [], "n_zones": [], ZONE_IDS: [], DUE_BY: [], EXPIRES_ON: []},
            geometry=[],
            crs=zones.crs,
        )
    parts = shapely.get_parts(shapely.union_all(zones.geometry.to_numpy()))
    # each zone lies inside exactly one part: find it through its interior point
    zone_of, part_of = gpd.GeoSeries(parts, crs=zones.crs).sindex.query(
        zones.geometry.representative_point().to_numpy(), predicate="intersects"
    )
    table = pd.DataFrame(
        {
            "part": part_of,
            ZONE_ID: zones[ZONE_ID].to_numpy()[zone_of],
            DUE_BY: zones[DUE_BY].iloc[zone_of].reset_index(drop=True),
            EXPIRES_ON: zones[EXPIRES_ON].iloc[zone_of].reset_index(drop=True),
        }
    ).sort_values([DUE_BY, ZONE_ID], kind="stable")
    grouped = (
        table.groupby("part", sort=False)
        .agg(
            n_zones=(ZONE_ID, "size"),
            zone_ids=(ZONE_ID, ";".join),
            due_by=(DUE_BY, "min"),
            expires_on=(EXPIRES_ON, "max"),
        )
        .sort_values([DUE_BY, "zone_ids"], kind="stable")
    )
    out = gpd.GeoDataFrame(
        {
            "merged_id": np.arange(1, len(grouped) + 1),
            "n_zones": grouped["n_zones"].to_numpy(),
            ZONE_IDS: grouped["zone_ids"].to_numpy(),
            DUE_BY: grouped[DUE_BY].reset_index(drop=True),
            EXPIRES_ON: grouped[EXPIRES_ON].reset_index(drop=True),
        },
        geometry=parts[grouped.index.to_numpy()],
        crs=zones.crs,
    )
    return out
