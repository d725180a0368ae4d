"""Synthetic operational logs for the demo town: cocoon visits and patrols (private).

The visit log lets the weekly run measure cocoon compliance: most zones are visited
within 48 hours, some late, some not at all, and two rows name address ids that do not
exist (so the reader's rejection path is exercised). The patrol log is one week of
short visible visits and other activities at each district's busiest places, in the
week the previous weekly run planned (see :func:`log_week_start`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from hotspots.schema import ADDRESS_ID, EASTING, NORTHING

VISITED_AT = "visited_at"
OUTCOME = "outcome"
VISIT_OUTCOMES = ("advice_given", "no_answer", "card_left")
VISIT_COLUMNS = (ADDRESS_ID, VISITED_AT, OUTCOME)
UNKNOWN_ADDRESS_IDS = ("SYN999998", "SYN999999")

PATROL_ID = "patrol_id"
STARTED_AT = "started_at"
MINUTES = "minutes"
ACTIVITY = "activity"
INTERACTIONS = "interactions"
PATROL_COLUMNS = (PATROL_ID, STARTED_AT, EASTING, NORTHING, MINUTES, ACTIVITY, INTERACTIONS)
# "patrol" is the plan's own activity, so planned and delivered patrols meet in one row
PATROL_ACTIVITIES = ("patrol", "stop_search", "business_check", "community_engagement")
ACTIVITY_MINUTES = (15, 20, 15, 25)  # mean minutes of each activity
ACTIVITY_MIN_INTERACTIONS = (0, 1, 1, 2)  # a search or a check is at least one contact
ACTIVITY_EXTRA_INTERACTIONS = (1.5, 0.3, 1.0, 3.0)  # Poisson means on top
EXTRA_PER_SPOT = (0.0, 1.5, 1.0, 1.0)  # non-patrol activities per busy place per week
DAILY_PATROL_SHARE = 0.8  # days of the week a busy place gets its planned patrol
SPOTS_PER_DISTRICT = 5
RESPONSE_SHARE = 0.1

ZONE_RADIUS_M = 400.0
ZONE_WINDOW_DAYS = 42
DUE_HOURS = 48.0
MANDATORY_NEAREST = 8
# what happens to a zone: visited in time, visited late, never visited
ZONE_FATES = ("on_time", "late", "missed")
ZONE_FATE_SHARES = (0.72, 0.16, 0.12)
BUSY_CELL_M = 150.0


def draw_visits(
    rng: np.random.Generator,
    *,
    burglary_times: pd.Series,
    burglary_homes: np.ndarray,
    home_xy: np.ndarray,
    home_ids: np.ndarray,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """Door-knock visits around the dwelling burglaries of the last 42 days.

    Parameters
    ----------
    burglary_times
        Occurrence times (tz-aware) of the dwelling burglaries, in any order.
    burglary_homes
        Index (into ``home_xy``) of each burgled home.
    home_xy, home_ids
        Home coordinates (metres) and address ids.
    as_of
        Nothing is visited after this moment.
    """
    live = (
        (burglary_times > as_of - pd.Timedelta(days=ZONE_WINDOW_DAYS)) & (burglary_times <= as_of)
    ).to_numpy()
    times = burglary_times[live].reset_index(drop=True)
    homes = burglary_homes[live]
    order = np.argsort(times.to_numpy(), kind="stable")
    times, homes = times.iloc[order].reset_index(drop=True), homes[order]
    tree = cKDTree(home_xy)
    fate = rng.choice(len(ZONE_FATES), len(homes), p=ZONE_FATE_SHARES)
    rows_id: list[np.ndarray] = []
    rows_at: list[pd.DatetimeIndex] = []
    for z in range(len(homes)):
        if ZONE_FATES[fate[z]] == "missed":
            continue
        if ZONE_FATES[fate[z]] == "on_time":
            delay_h = rng.uniform(3.0, DUE_HOURS - 4.0)
        else:
            delay_h = rng.uniform(DUE_HOURS + 2.0, 6 * 24.0)
        # whole minutes, rounded in UTC so the autumn clock change is no ambiguity
        start = times.iloc[z].tz_convert("UTC").floor("min") + pd.Timedelta(
            minutes=int(delay_h * 60)
        )
        near = tree.query_ball_point(home_xy[homes[z]], ZONE_RADIUS_M)
        near = np.asarray([i for i in near if i != homes[z]], dtype=np.int64)
        d = np.hypot(*(home_xy[near] - home_xy[homes[z]]).T)
        near = near[np.argsort(d, kind="stable")]
        # the nearest homes first (mostly all mandatory ones), then a few more
        n_visit = min(len(near), MANDATORY_NEAREST + int(rng.poisson(8)))
        if rng.random() < 0.15:  # a rushed visit that misses some mandatory homes
            n_visit = min(len(near), int(rng.integers(3, MANDATORY_NEAREST)))
        targets = near[:n_visit]
        gaps = np.cumsum(rng.integers(3, 10, len(targets)))
        at = start + pd.to_timedelta(gaps, unit="min")
        keep = at <= as_of
        rows_id.append(home_ids[targets[keep]])
        rows_at.append(at[keep])
    ids = np.concatenate(rows_id) if rows_id else np.array([], dtype=object)
    at = (
        rows_at[0].append(rows_at[1:]).tz_convert(as_of.tz)
        if rows_at
        else pd.DatetimeIndex([], tz=as_of.tz)
    )
    outcome = np.asarray(VISIT_OUTCOMES, dtype=object)[
        rng.choice(len(VISIT_OUTCOMES), len(ids), p=(0.55, 0.30, 0.15))
    ]
    visits = pd.DataFrame({ADDRESS_ID: ids.astype(object), VISITED_AT: at, OUTCOME: outcome})
    # two mistyped ids, so the reader's rejection of unknown addresses shows
    if len(visits):
        base = visits[VISITED_AT].iloc[len(visits) // 2]
        bad = pd.DataFrame(
            {
                ADDRESS_ID: list(UNKNOWN_ADDRESS_IDS),
                VISITED_AT: [base, base + pd.Timedelta(minutes=7)],
                OUTCOME: ["advice_given", "no_answer"],
            }
        )
        visits = pd.concat([visits, bad], ignore_index=True)
    order = np.lexsort((visits[ADDRESS_ID].to_numpy().astype(str), visits[VISITED_AT].to_numpy()))
    visits = visits.iloc[order].reset_index(drop=True)
    return visits.astype({ADDRESS_ID: "str", OUTCOME: "str"})


def draw_patrols(
    rng: np.random.Generator,
    *,
    times: pd.Series,
    xy: np.ndarray,
    weights: np.ndarray,
    as_of: pd.Timestamp,
    district: np.ndarray | None = None,
) -> pd.DataFrame:
    """The patrol log of the week before ``as_of``: a harm-spot plan, delivered.

    The busiest places are each district's :data:`SPOTS_PER_DISTRICT` highest-harm 150 m
    cells (harm ``weights`` of the last year), as a Grip-style plan picks them. Each gets
    a visible patrol on most days of the week (:data:`DAILY_PATROL_SHARE`) plus a few stop
    searches, business checks and community engagements; about one visit in ten is
    response work anywhere in the town. Each visit copies the place (plus a few metres)
    and the hour of an incident of its cell drawn in proportion to harm, so patrols come
    when the harm does. ``interactions`` counts the people spoken to or searched.

    Parameters
    ----------
    times, xy, weights
        Incident times (tz-aware), coordinates (metres) and patrol weights (0: ignored).
    as_of
        The log covers the seven days ending on ``as_of``'s date.
    district
        District code of each incident (negative: none); default all one district.
    """
    code = np.zeros(len(xy), dtype=np.int64) if district is None else np.asarray(district)
    cell = np.floor(xy / BUSY_CELL_M).astype(np.int64)
    _, cell_id = np.unique(cell, axis=0, return_inverse=True)
    cell_id = cell_id.ravel()
    cell_harm = np.bincount(cell_id, weights=weights)
    busy: list[int] = []
    for d in np.unique(code[code >= 0]):
        harm_here = np.bincount(
            cell_id[code == d], weights=weights[code == d], minlength=len(cell_harm)
        )
        order = np.argsort(-harm_here, kind="stable")
        busy += [int(c) for c in order[:SPOTS_PER_DISTRICT] if harm_here[c] > 0]
    week_start = log_week_start(as_of)
    picks: list[int] = []
    days: list[int] = []
    kinds: list[int] = []
    for c in busy:
        members = np.flatnonzero((cell_id == c) & (weights > 0))
        p = weights[members] / weights[members].sum()
        for d in np.flatnonzero(rng.random(7) < DAILY_PATROL_SHARE):
            picks.append(int(rng.choice(members, p=p)))
            days.append(int(d))
            kinds.append(0)
        for k in range(1, len(PATROL_ACTIVITIES)):
            for _ in range(int(rng.poisson(EXTRA_PER_SPOT[k]))):
                picks.append(int(rng.choice(members, p=p)))
                days.append(int(rng.integers(0, 7)))
                kinds.append(k)
    n_other = int(rng.poisson(len(picks) * RESPONSE_SHARE))
    picks += rng.choice(len(xy), n_other, p=weights / weights.sum()).tolist()
    days += rng.integers(0, 7, n_other).tolist()
    kinds += rng.choice(len(PATROL_ACTIVITIES), n_other, p=(0.6, 0.15, 0.15, 0.10)).tolist()
    pick, day, kind = np.asarray(picks), np.asarray(days), np.asarray(kinds)
    n = len(pick)
    src = pd.DatetimeIndex(times.to_numpy()[pick]).tz_convert(as_of.tz)
    started = (
        week_start.tz_localize(None)
        + pd.to_timedelta(day, unit="D")
        + pd.to_timedelta(src.hour, unit="h")
        + pd.to_timedelta(rng.integers(0, 60, n), unit="min")
    )
    started = started.tz_localize(
        as_of.tz, ambiguous=np.ones(n, dtype=bool), nonexistent="shift_forward"
    )
    mean = np.asarray(ACTIVITY_MINUTES, dtype=float)[kind]
    minutes = np.clip(np.round(rng.normal(mean, 3, n)), 8, 45).astype(np.int64)
    interactions = np.asarray(ACTIVITY_MIN_INTERACTIONS)[kind] + rng.poisson(
        np.asarray(ACTIVITY_EXTRA_INTERACTIONS)[kind]
    )
    order = np.argsort(started.to_numpy(), kind="stable")
    return pd.DataFrame(
        {
            PATROL_ID: [f"SYN-P{i:05d}" for i in range(1, n + 1)],
            STARTED_AT: started[order],
            EASTING: np.round(xy[pick, 0] + rng.normal(0, 15, n), 1)[order],
            NORTHING: np.round(xy[pick, 1] + rng.normal(0, 15, n), 1)[order],
            MINUTES: minutes[order],
            ACTIVITY: np.asarray(PATROL_ACTIVITIES, dtype=object)[kind][order].astype(str),
            INTERACTIONS: interactions[order].astype(np.int64),
        }
    )


def log_week_start(as_of: pd.Timestamp) -> pd.Timestamp:
    """First day (local midnight) of the week the demo's patrol log covers.

    Six days before ``as_of``'s date, so the week ends on it; last week's run plans it.
    """
    return as_of.normalize() - pd.Timedelta(days=6)
