"""Visit logs and cocooning compliance: was each zone visited within its deadline.

A visit log names the address (by id, or by location snapped to the nearest address
within 25 m), the time and the outcome. Compliance is reported per zone, per area and
overall, as the share of burglaries cocooned within the deadline (48 hours by default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots._validate import require_columns
from hotspots.cocoon.addresses import AddressIndex
from hotspots.cocoon.lists import _targets
from hotspots.cocoon.zones import zone_status
from hotspots.errors import InputError, SchemaError
from hotspots.schema import (
    ADDRESS_ID,
    AREA_NAME,
    DUE_BY,
    MANDATORY,
    OCCURRED_AT,
    REJECT_DETAIL,
    REJECT_REASON,
    SOURCE_FILE,
    SOURCE_ROW,
    STATUS,
    ZONE_ID,
)

__all__ = ["SNAP_M", "VISIT_REJECT_REASONS", "Compliance", "compliance", "read_visits"]

VISITED_AT = "visited_at"
OUTCOME = "outcome"
MATCHED_BY = "matched_by"
FIRST_VISIT_AT = "first_visit_at"
SNAP_M = 25.0
VISIT_REJECT_REASONS = (
    "unknown_address",
    "no_address_nearby",
    "no_location",
    "unparseable_date",
    "date_out_of_range",
    "future_date",
    "malformed_row",
    "outside_zone_window",  # read, but inside no zone's burglary-to-as-of window (compliance)
)
_ID_NAMES = ("address_id", "uprn", "udprn", "postcode", "id")
_TIME_NAMES = (
    "visited_at",
    "visit_time",
    "visit_datetime",
    "datetime",
    "timestamp",
    "time",
    "visit_date",
    "date",
)
_OUTCOME_NAMES = ("outcome", "result", "visit_outcome")


def _pick(columns: list[str], names: tuple[str, ...]) -> str | None:
    lower = {c.lower(): c for c in columns}
    return next((lower[n] for n in names if n in lower), None)


def read_visits(
    path: str | Path,
    *,
    addresses: gpd.GeoDataFrame | AddressIndex,
    tz: str = "Europe/London",
    snap_m: float = SNAP_M,
    today: str | pd.Timestamp | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a cocoon visit log (CSV) and match each visit to an address.

    Each row names its address by id (column ``address_id``, ``uprn``, ``postcode`` or
    ``id``) or by location (coordinate columns detected as in ingest, e.g.
    ``Eastings``/``Northings`` or ``longitude``/``latitude``); a location is snapped to
    the nearest address within ``snap_m`` metres. The time column is ``visited_at``
    (or ``visit_time``, ``datetime``, ``time``, ``date`` ...) in ISO 8601
    (``2025-12-20 14:30``); naive times are read in ``tz``.

    Parameters
    ----------
    path
        The visit log.
    addresses
        The address layer the visit lists were made from (or its index).
    tz
        Time zone of times without one (default Europe/London).
    snap_m
        Largest distance in metres from a visit location to its address (default 25).
    today
        The run date: visits after the end of this day are ``future_date`` (default: now).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        Visits with ``address_id``, ``visited_at`` (tz-aware), ``outcome``,
        ``matched_by`` (``id`` or ``location``), ``source_row``; and the rejected rows
        with ``source_file``, ``source_row``, ``reason`` (one of
        ``VISIT_REJECT_REASONS``) and ``detail``. No row is dropped silently.

    Raises
    ------
    InputError
        The file is missing, unreadable, empty, or none of its rows can be used.
    SchemaError
        It has no time column, or neither an address id nor coordinates.
    """
    p = Path(path)
    name = f"Visit log {p.name}"
    if not p.exists():
        msg = f"{name} does not exist ({p}); check the --visits path."
        raise InputError(msg)
    from hotspots.ingest import read_text_table

    index = addresses if isinstance(addresses, AddressIndex) else AddressIndex(addresses)
    frame, rows, malformed, _notes = read_text_table(p)
    if len(frame) == 0 and len(malformed) == 0:
        msg = f"{name} has a header but no rows."
        raise InputError(msg)
    columns = [str(c) for c in frame.columns]
    time_col = _pick(columns, _TIME_NAMES)
    if time_col is None:
        msg = (
            f"{name} has no visit time column; it has {columns}. Name one visited_at "
            f"(ISO 8601, e.g. 2025-12-20 14:30)."
        )
        raise SchemaError(msg)
    id_col = _pick(columns, _ID_NAMES)
    outcome_col = _pick(columns, _OUTCOME_NAMES)
    n = len(frame)
    reasons = np.full(n, "", dtype=object)
    details = np.full(n, "", dtype=object)
    found = np.full(n, -1, dtype="int64")
    matched = np.full(n, "", dtype=object)
    known = pd.Index(index.addresses[ADDRESS_ID].astype(str))
    if id_col is not None:
        ids = frame[id_col].str.strip()
        has_id = (ids != "").to_numpy()
        pos = known.get_indexer(ids.to_numpy(dtype=object))
        found[has_id] = pos[has_id]
        matched[has_id & (pos >= 0)] = "id"
        unknown = has_id & (pos < 0)
        reasons[unknown] = "unknown_address"
        details[unknown] = [
            f"address id {v!r} is not in the address layer; use its address_id"
            for v in ids[unknown]
        ]
    else:
        has_id = np.zeros(n, dtype=bool)
    need_location = ~has_id
    if need_location.any():
        located = _snap(
            frame, need_location, index, snap_m=snap_m, name=name, has_id_col=id_col is not None
        )
        found[need_location] = located[need_location]
        matched[need_location & (found >= 0)] = "location"
        nearby_missing = need_location & (located == -1)
        reasons[nearby_missing] = "no_address_nearby"
        details[nearby_missing] = f"no address within {snap_m:g} m of the visit location"
        no_loc = need_location & (located == -2)
        reasons[no_loc] = "no_location"
        details[no_loc] = "neither an address id nor coordinates; give one"
    raw_time = frame[time_col].str.strip()
    when, outside = _parse_times(raw_time, tz)
    far = outside & (reasons == "")
    reasons[far] = "date_out_of_range"
    details[far] = [
        f"{time_col} {v!r} is outside the years a date can hold (1678-2261); fix it"
        for v in raw_time[far]
    ]
    bad_time = when.isna().to_numpy() & (reasons == "")
    reasons[bad_time] = "unparseable_date"
    details[bad_time] = [
        f"{time_col} {v!r} is not an ISO 8601 time (2025-12-20 14:30), or is a clock-change "
        f"hour that needs its UTC offset (2025-10-26 01:30+01:00)"
        for v in raw_time[bad_time]
    ]
    today_end = _day_end(today, tz)
    future = (when > today_end).to_numpy(dtype=bool) & (reasons == "")
    reasons[future] = "future_date"
    details[future] = f"visit is after the run date {today_end.date()}; fix its time"
    ok = reasons == ""
    if not ok.any():
        counts = pd.Series(reasons).value_counts().to_dict()
        msg = (
            f"{name}: none of its {n} rows can be matched to an address with a valid time "
            f"({counts}); check the address id column matches the address layer's ids."
        )
        raise InputError(msg)
    visits = pd.DataFrame(
        {
            SOURCE_FILE: p.name,
            ADDRESS_ID: known.to_numpy()[found[ok]],
            VISITED_AT: when[ok].reset_index(drop=True),
            OUTCOME: (
                frame[outcome_col][ok].reset_index(drop=True)
                if outcome_col
                else pd.Series(pd.NA, index=range(int(ok.sum())), dtype="string")
            ),
            MATCHED_BY: matched[ok],
            SOURCE_ROW: rows[ok],
        }
    )
    rejected = pd.DataFrame(
        {
            SOURCE_FILE: p.name,
            SOURCE_ROW: rows[~ok],
            REJECT_REASON: reasons[~ok],
            REJECT_DETAIL: details[~ok],
        }
    )
    if len(malformed):
        rejected = pd.concat([rejected, malformed], ignore_index=True)
    return visits, rejected


def _day_end(value: str | pd.Timestamp | None, tz: str) -> pd.Timestamp:
    """The run date as a moment: a date alone is the end of that day; None is now."""
    from hotspots.ingest import day_end

    return day_end(value, tz, option="today")


def _parse_times(raw: pd.Series, tz: str) -> tuple[pd.Series, np.ndarray]:
    """ISO 8601 texts as times in ``tz``: with an offset converted, without one localised.

    Rows may mix both (and different offsets, as around a clock change); a local time
    that falls in the repeated clock-change hour is ambiguous and becomes NaT. Dates a
    timestamp cannot hold (9999-12-31) become NaT and are marked in the returned mask.
    """
    from hotspots.ingest import in_bounds

    outside = np.zeros(len(raw), dtype=bool)
    has_offset = raw.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True).fillna(False)
    has_offset = has_offset.to_numpy(dtype=bool)
    out = pd.Series(pd.NaT, index=raw.index, dtype=f"datetime64[ns, {tz}]")
    if has_offset.any():
        aware = pd.to_datetime(raw[has_offset], format="ISO8601", errors="coerce", utc=True)
        aware, far = in_bounds(aware)
        outside[has_offset] = far
        out[has_offset] = aware.dt.tz_convert(tz).astype(out.dtype)
    if (~has_offset).any():
        naive = pd.to_datetime(raw[~has_offset], format="ISO8601", errors="coerce")
        naive, far = in_bounds(naive)
        outside[~has_offset] = far
        local = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
        out[~has_offset] = local.astype(out.dtype)
    return out, outside


def _snap(
    frame: pd.DataFrame,
    rows: np.ndarray,
    index: AddressIndex,
    *,
    snap_m: float,
    name: str,
    has_id_col: bool,
) -> np.ndarray:
    """Address position per row: >= 0 found, -1 nothing within snap_m, -2 no location."""
    from hotspots.errors import HotspotsError
    from hotspots.ingest import points_from_columns

    out = np.full(len(frame), -2, dtype="int64")
    try:
        points, why = points_from_columns(frame, working_crs=index.crs, what=name)
    except HotspotsError as exc:
        if has_id_col:  # rows without an id and no coordinate columns: no location
            return out
        msg = (
            f"{name} names visits neither by address id (address_id, uprn, postcode) nor by "
            f"location ({exc})"
        )
        raise SchemaError(msg) from exc
    usable = rows & (np.asarray(why, dtype=object) == "")
    if usable.any():
        pos, _ = index.nearest(points.to_numpy()[usable], max_distance_m=snap_m)
        out[usable] = pos
    return out


@dataclass(frozen=True)
class Compliance:
    """Cocooning compliance at ``as_of``.

    Attributes
    ----------
    per_zone
        ``zone_id``, ``area``, ``occurred_at``, ``due_by``, ``first_visit_at`` (NaT if
        none), ``visited_in_time``, ``n_mandatory``, ``mandatory_visited``,
        ``mandatory_share_visited`` (NaN with no mandatory address), ``visits``,
        ``status``.
    per_area
        ``area``, ``zones``, ``decided`` (deadline passed or visited in time),
        ``cocooned_within_deadline``, ``share`` (of decided zones), ``overdue_now``.
    overall
        ``zones``, ``decided``, ``cocooned_in_time``, ``share``, ``overdue_now``,
        ``due_now``.
    overdue
        The ``per_zone`` rows whose status is ``overdue``.
    rejected
        The visits that count for no zone, reason ``outside_zone_window``: their address
        is on no zone's list, or they fall outside every such zone's burglary-to-as-of
        window. ``source_file``, ``source_row`` (when the visits have them),
        ``address_id``, ``visited_at``, ``reason``, ``detail``; with the visits used,
        they account for every visit given.
    """

    per_zone: pd.DataFrame
    per_area: pd.DataFrame
    overall: dict[str, Any] = field(default_factory=dict)
    overdue: pd.DataFrame = field(default_factory=pd.DataFrame)
    rejected: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def n_outside_zone_window(self) -> int:
        """Visits read but counted for no zone."""
        return len(self.rejected)


def compliance(
    zones: gpd.GeoDataFrame, visit_list: pd.DataFrame, visits: pd.DataFrame, *, as_of: pd.Timestamp
) -> Compliance:
    """Per zone, per area and overall cocooning compliance at ``as_of``.

    A visit counts for a zone when its address is a target of that zone's list (not the
    burgled home) and it happened after the burglary and no later than ``as_of``. A
    zone is cocooned in time when its first such visit is at or before ``due_by``. The
    share is over *decided* zones: those past their deadline plus those already
    visited in time; zones still inside their deadline and unvisited are ``due`` and
    counted in neither the numerator nor the denominator.

    Parameters
    ----------
    zones
        Output of :func:`cocoon_zones`.
    visit_list
        Output of :func:`visit_lists` for those zones.
    visits
        Output of :func:`read_visits` (``address_id``, ``visited_at``).
    as_of
        Moment of the report; a naive time is read in the zones' time zone.

    Returns
    -------
    Compliance
    """
    require_columns(zones, [ZONE_ID, AREA_NAME, OCCURRED_AT, DUE_BY], what="zones")
    require_columns(
        visits,
        [ADDRESS_ID, VISITED_AT],
        what="visits",
        fix="Read them with hotspots.cocoon.read_visits.",
    )
    tz = zones[DUE_BY].dt.tz
    as_of = pd.Timestamp(as_of)
    if as_of.tzinfo is None and tz is not None:
        as_of = as_of.tz_localize(tz)
    targets = _targets(visit_list)
    base = pd.DataFrame(
        {
            ZONE_ID: zones[ZONE_ID].to_numpy(),
            AREA_NAME: zones[AREA_NAME].to_numpy(),
            OCCURRED_AT: zones[OCCURRED_AT].reset_index(drop=True),
            DUE_BY: zones[DUE_BY].reset_index(drop=True),
        }
    )
    visit_no = "__visit"
    pairs = targets[[ZONE_ID, ADDRESS_ID, MANDATORY]].merge(
        visits[[ADDRESS_ID, VISITED_AT]].assign(**{visit_no: np.arange(len(visits))}),
        on=ADDRESS_ID,
        how="inner",
    )
    pairs = pairs.merge(base[[ZONE_ID, OCCURRED_AT]], on=ZONE_ID, how="inner")
    counted = pairs[(pairs[VISITED_AT] >= pairs[OCCURRED_AT]) & (pairs[VISITED_AT] <= as_of)]
    first = counted.groupby(ZONE_ID)[VISITED_AT].min()
    n_visits = counted.groupby(ZONE_ID).size()
    mand_done = (
        counted[counted[MANDATORY].to_numpy(dtype=bool)].groupby(ZONE_ID)[ADDRESS_ID].nunique()
    )
    n_mand = targets[targets[MANDATORY].to_numpy(dtype=bool)].groupby(ZONE_ID).size()
    per_zone = base.copy()
    first_at = pd.Series(pd.NaT, index=per_zone.index, dtype=per_zone[DUE_BY].dtype)
    if len(first):
        first_at = per_zone[ZONE_ID].map(first).astype(per_zone[DUE_BY].dtype)
    per_zone[FIRST_VISIT_AT] = first_at
    per_zone["visited_in_time"] = per_zone[FIRST_VISIT_AT].notna() & (
        per_zone[FIRST_VISIT_AT] <= per_zone[DUE_BY]
    )
    per_zone["n_mandatory"] = per_zone[ZONE_ID].map(n_mand).fillna(0).astype("int64")
    per_zone["mandatory_visited"] = per_zone[ZONE_ID].map(mand_done).fillna(0).astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        share = per_zone["mandatory_visited"] / per_zone["n_mandatory"].where(
            per_zone["n_mandatory"] > 0
        )
    per_zone["mandatory_share_visited"] = share.astype("float64").round(3)
    per_zone["visits"] = per_zone[ZONE_ID].map(n_visits).fillna(0).astype("int64")
    per_zone[STATUS] = zone_status(
        per_zone[DUE_BY], as_of=as_of, first_visit=per_zone[FIRST_VISIT_AT]
    )
    decided = (as_of > per_zone[DUE_BY]) | per_zone["visited_in_time"]
    overdue_now = per_zone[STATUS] == "overdue"
    frame = pd.DataFrame(
        {
            AREA_NAME: per_zone[AREA_NAME],
            "zones": 1,
            "decided": decided.astype("int64"),
            "cocooned_within_deadline": per_zone["visited_in_time"].astype("int64"),
            "overdue_now": overdue_now.astype("int64"),
        }
    )
    per_area = frame.groupby(AREA_NAME, sort=True).sum().reset_index()
    per_area.insert(
        4,
        "share",
        (
            per_area["cocooned_within_deadline"]
            / per_area["decided"].where(per_area["decided"] > 0)
        ).round(3),
    )
    n_decided = int(decided.sum())
    n_in_time = int(per_zone["visited_in_time"].sum())
    overall = {
        "zones": len(per_zone),
        "decided": n_decided,
        "cocooned_in_time": n_in_time,
        "share": round(n_in_time / n_decided, 3) if n_decided else None,
        "overdue_now": int(overdue_now.sum()),
        "due_now": int((per_zone[STATUS] == "due").sum()),
    }
    overdue = per_zone[overdue_now.to_numpy()].reset_index(drop=True)
    rejected = _outside_window(visits, pairs, counted, visit_no=visit_no, as_of=as_of)
    return Compliance(
        per_zone=per_zone, per_area=per_area, overall=overall, overdue=overdue, rejected=rejected
    )


def _outside_window(
    visits: pd.DataFrame,
    pairs: pd.DataFrame,
    counted: pd.DataFrame,
    *,
    visit_no: str,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """The visits that count for no zone, with reason ``outside_zone_window``."""
    used = np.zeros(len(visits), dtype=bool)
    used[counted[visit_no].to_numpy(dtype="int64")] = True
    listed = np.zeros(len(visits), dtype=bool)
    listed[pairs[visit_no].to_numpy(dtype="int64")] = True
    gone = np.flatnonzero(~used)
    detail = np.where(
        listed[gone],
        f"the visit falls outside every window (burglary to as-of {as_of:%Y-%m-%d %H:%M}) "
        f"of the zones listing its address; check its date",
        "its address is on no zone's visit list in this run",
    )
    out = pd.DataFrame(
        {
            ADDRESS_ID: visits[ADDRESS_ID].to_numpy()[gone],
            VISITED_AT: visits[VISITED_AT].iloc[gone].reset_index(drop=True),
            REJECT_REASON: "outside_zone_window",
            REJECT_DETAIL: detail,
        }
    )
    for col in (SOURCE_ROW, SOURCE_FILE):
        if col in visits.columns:
            out.insert(0, col, visits[col].to_numpy()[gone])
    return out
