"""Trend, week-on-week status, peak windows, output columns and the summary (private)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots._time import Window, in_window
from hotspots.schema import (
    AREA_M2,
    AREA_NAME,
    AREA_RANK,
    HARM,
    HARM_PER_HA,
    HARM_PREVIOUS,
    HARM_SHARE,
    INSTITUTION,
    LOCATION,
    N_INCIDENTS,
    N_POINTS,
    OCCURRED_AT,
    OFFENCE_MIX,
    PEAK_BY_DAY,
    PEAK_WINDOWS,
    PLACE_NAME,
    RANK,
    SPOT_ID,
    SPOT_STATUSES,
    STATUS,
    TIME_RESOLUTION,
    TOP_POINT_SHARE,
    TREND,
    TRENDS,
)
from hotspots.spots._inputs import (
    MIN_PROFILE_INCIDENTS,
    TREND_BAND,
    institution_of,
    offence_slug,
    place_name_of,
)
from hotspots.spots._profile import hour_of_week, peak_by_day, peak_windows
from hotspots.spots._select import headline
from hotspots.spots._units import unit_ids_of_points

__all__ = [
    "finish_columns",
    "harm_in_spots",
    "peaks",
    "share",
    "snap_columns",
    "status_of",
    "summarise",
    "trend_of",
]


def harm_in_spots(
    data: gpd.GeoDataFrame, window: Window, spots: gpd.GeoDataFrame, opts: dict
) -> np.ndarray:
    """Harm of the given window in each spot (previous look-back for the trend)."""
    prev = data[in_window(data, window)]
    if len(prev) == 0 or len(spots) == 0:
        return np.zeros(len(spots))
    harm = prev[HARM].to_numpy(dtype="float64")
    if opts["method"] == "dbscan":
        spot_idx, pt_idx = prev.sindex.query(spots.geometry.to_numpy(), predicate="intersects")
        return np.bincount(spot_idx, weights=harm[pt_idx], minlength=len(spots))
    xy = prev.get_coordinates().to_numpy()
    ids = unit_ids_of_points(
        xy[:, 0], xy[:, 1], method=opts["method"], cell_m=opts["cell_m"], crs=prev.crs
    )
    sums = pd.Series(harm).groupby(ids).sum()
    return sums.reindex(spots[SPOT_ID].to_numpy()).fillna(0.0).to_numpy(dtype="float64")


def trend_of(harm: np.ndarray, previous: np.ndarray, *, earlier_data: bool) -> np.ndarray:
    """``trend`` of each spot: this window's harm against the previous equal window.

    ``up`` / ``down`` beyond +-:data:`TREND_BAND` (10%) of the previous harm, else
    ``steady``; a spot with no previous harm where the data covers the previous window is
    ``up``. Where the data does not reach back over the whole previous window
    (``earlier_data`` False) every trend is ``no_earlier_data``: never "new", which is a
    status (against the previous run), not a trend.

    Examples
    --------
    >>> trend_of(np.array([11.0, 12.0, 8.0, 5.0]), np.array([10.0, 10.0, 10.0, 0.0]),
    ...          earlier_data=True).tolist()
    ['steady', 'up', 'down', 'up']
    """
    harm = np.asarray(harm, dtype="float64")
    previous = np.asarray(previous, dtype="float64")
    up_, down_, steady_, no_earlier = TRENDS
    if not earlier_data:
        return np.full(len(harm), no_earlier, dtype=object)
    up = harm > previous * (1 + TREND_BAND)
    down = harm < previous * (1 - TREND_BAND)
    return np.where(up, up_, np.where(down, down_, steady_)).astype(object)


def snap_columns(window: gpd.GeoDataFrame, of: np.ndarray, n_units: int) -> dict[str, np.ndarray]:
    """Location text, distinct points and top point share of each unit's incidents.

    ``location`` is the most common location text (ties: alphabetical), ``place_name``
    that text without "On or near", ``n_points`` the number of distinct coordinates,
    ``top_point_share`` the share of the unit's incidents at its busiest coordinate and
    ``institution`` the kind named by the location (see ``INSTITUTIONS``).
    """
    inside = of >= 0
    unit = of[inside]
    xy = window.get_coordinates().to_numpy()[inside]
    out: dict[str, np.ndarray] = {
        LOCATION: np.repeat(np.array([""], dtype=object), n_units),
        N_POINTS: np.zeros(n_units, dtype="int64"),
        TOP_POINT_SHARE: np.zeros(n_units, dtype="float64"),
    }
    if len(unit):
        pts = pd.DataFrame({"u": unit, "x": xy[:, 0], "y": xy[:, 1]})
        per = pts.groupby(["u", "x", "y"], sort=False).size().rename("n").reset_index()
        out[N_POINTS][:] = np.bincount(per["u"], minlength=n_units)
        top = per.groupby("u")["n"].max()
        total = np.bincount(unit, minlength=n_units)
        out[TOP_POINT_SHARE][top.index.to_numpy()] = top.to_numpy() / total[top.index.to_numpy()]
        if LOCATION in window.columns:
            # each distinct text once, as a code in text order: no Python string per row
            codes, names = pd.factorize(window[LOCATION], sort=True)
            names = np.asarray(names, dtype=object)
            text = codes[inside]
            blank = np.flatnonzero(names == "")
            used = (text >= 0) & ~np.isin(text, blank)
            pairs = unit[used].astype("int64") * max(len(names), 1) + text[used]
            pair, n = np.unique(pairs, return_counts=True)  # by unit, then text order
            u, t = np.divmod(pair, max(len(names), 1))
            order = np.lexsort((t, -n, u))  # the most common text; ties: first in order
            u, t = u[order], t[order]
            if len(u):  # none when no incident of the window has a location text
                first = np.r_[True, u[1:] != u[:-1]]
                out[LOCATION][u[first]] = names[t[first]]
    out[PLACE_NAME] = _per_distinct(place_name_of, out[LOCATION])
    if len(unit):  # no location text (many force exports): the busiest point, as lat, lon
        unnamed = np.array([not n for n in out[PLACE_NAME]], dtype=bool)
        busiest = per.sort_values(["u", "n", "x", "y"], ascending=[True, False, True, True])
        busiest = busiest.drop_duplicates("u")
        busiest = busiest[unnamed[busiest["u"].to_numpy()]]
        if len(busiest) and window.crs is not None:
            from pyproj import Transformer

            to_wgs84 = Transformer.from_crs(window.crs, 4326, always_xy=True)
            lon, lat = to_wgs84.transform(busiest["x"].to_numpy(), busiest["y"].to_numpy())
            out[PLACE_NAME][busiest["u"].to_numpy()] = np.array(
                [f"near {a:.5f}, {o:.5f}" for a, o in zip(lat, lon, strict=True)], dtype=object
            )
    out[INSTITUTION] = _per_distinct(institution_of, out[LOCATION])
    return out


def _per_distinct(fn: Callable[[str], Any], texts: np.ndarray) -> np.ndarray:
    """``fn`` of each text, called once per distinct text (units share few locations)."""
    codes, distinct = pd.factorize(texts)
    if not len(distinct):
        return np.array([fn(t) for t in texts], dtype=object)
    return np.array([fn(t) for t in distinct], dtype=object)[codes]


def status_of(
    spots: gpd.GeoDataFrame, previous: gpd.GeoDataFrame, *, method: str
) -> tuple[np.ndarray, gpd.GeoDataFrame]:
    if method == "dbscan":  # clusters move: matched by overlap, not by id
        now_idx, prev_idx = (
            previous.sindex.query(spots.geometry.to_numpy(), predicate="intersects")
            if len(previous) and len(spots)
            else (np.zeros(0, int),) * 2
        )
        persisting = np.isin(np.arange(len(spots)), now_idx)
        dropped = previous[~np.isin(np.arange(len(previous)), prev_idx)]
    else:
        persisting = spots[SPOT_ID].isin(set(previous[SPOT_ID])).to_numpy()
        dropped = previous[~previous[SPOT_ID].isin(set(spots[SPOT_ID])).to_numpy()]
    new, persisting_, _dropped = SPOT_STATUSES
    status = np.where(persisting, persisting_, new).astype(object)
    return status, dropped.reset_index(drop=True)


def peaks(run: dict[str, Any], spots: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, str]:
    """Peak windows, the busiest window of each weekday, and a note, per spot."""
    window = run["incidents"]
    names = np.full(len(spots), "", dtype=object)
    by_day = np.full(len(spots), "", dtype=object)
    if len(spots) == 0:
        return names, by_day, ""
    exact = (
        window[TIME_RESOLUTION].astype(str).to_numpy() == "exact"
        if TIME_RESOLUTION in window.columns
        else np.ones(len(window), dtype=bool)
    )
    if not exact.any():
        return (
            names,
            by_day,
            (
                "Dates are month- or day-resolution: no hour-of-week profile, so peak "
                "windows are blank and the patrol plan leaves visit times to be set locally."
            ),
        )
    pos = pd.Series(np.arange(len(spots)), index=spots["_unit"].to_numpy())
    spot_of = pos.reindex(run["units"].of).to_numpy()  # NaN: incident not in a chosen spot
    use = exact & ~np.isnan(spot_of)
    how = hour_of_week(window[OCCURRED_AT][use])
    flat = spot_of[use].astype("int64") * 168 + how
    harm = window[HARM].to_numpy(dtype="float64")[use]
    profiles = np.bincount(flat, weights=harm, minlength=len(spots) * 168).reshape(-1, 168)
    counts = np.bincount(spot_of[use].astype("int64"), minlength=len(spots))
    few = 0
    for i in range(len(spots)):
        if counts[i] >= MIN_PROFILE_INCIDENTS:
            names[i] = "; ".join(peak_windows(profiles[i]))
            by_day[i] = "; ".join(peak_by_day(profiles[i]))
        else:
            few += 1
    note = (
        f"{few} spots have fewer than {MIN_PROFILE_INCIDENTS} exactly timed incidents: "
        "no peak windows named for them."
        if few
        else ""
    )
    if not exact.all():
        note = (note + " " if note else "") + (
            f"{int((~exact).sum())} incidents without exact "
            "times are left out of the hour profiles."
        )
    return names, by_day, note


# ---------------------------------------------------------------- columns and summary
def _offence_mix(frame: pd.DataFrame, offences: Sequence[str]) -> np.ndarray:
    parts = []
    for name in offences:
        if offence_slug(name) not in frame.columns:  # e.g. previous spots given by id only
            continue
        n = frame[offence_slug(name)].astype("int64")
        parts.append(pd.Series(np.where(n > 0, name + ": " + n.astype(str), ""), index=frame.index))
    if not parts:
        return np.zeros(len(frame), dtype=object)
    joined = pd.concat(parts, axis=1).apply(lambda r: "; ".join(s for s in r if s), axis=1)
    return joined.to_numpy(dtype=object) if len(frame) else np.zeros(0, dtype=object)


def share(harm: pd.Series, total: float) -> np.ndarray:
    return harm.to_numpy(dtype="float64") / total if total > 0 else np.zeros(len(harm))


def finish_columns(
    spots: gpd.GeoDataFrame, offences: Sequence[str], method: str, *, status: str | None = None
) -> gpd.GeoDataFrame:
    out = spots.copy()
    if status is not None:
        out[STATUS] = status
        for col in (HARM_PREVIOUS, TREND, PEAK_WINDOWS, PEAK_BY_DAY):
            if col not in out.columns:
                out[col] = np.nan if col == HARM_PREVIOUS else ""
    out[OFFENCE_MIX] = _offence_mix(out, offences)
    counts = [offence_slug(o) for o in offences]
    extras = [c for c in ("gi_z", "gi_p", "split") if c in out.columns]
    order = [
        SPOT_ID,
        RANK,
        AREA_RANK,
        AREA_NAME,
        PLACE_NAME,
        LOCATION,
        N_POINTS,
        TOP_POINT_SHARE,
        INSTITUTION,
        HARM,
        HARM_SHARE,
        N_INCIDENTS,
        OFFENCE_MIX,
        *counts,
        AREA_M2,
        HARM_PER_HA,
        HARM_PREVIOUS,
        TREND,
        STATUS,
        PEAK_WINDOWS,
        PEAK_BY_DAY,
        *extras,
    ]
    return out[[c for c in order if c in out.columns] + [out.geometry.name]]


def summarise(
    run: dict[str, Any],
    spots: gpd.GeoDataFrame,
    dropped: gpd.GeoDataFrame,
    notes: list[str],
    opts: dict,
) -> dict[str, Any]:
    total_harm, total_n, study_m2 = run["total_harm"], run["total_n"], run["study_m2"]
    n_inc = int(spots[N_INCIDENTS].sum()) if len(spots) else 0
    harm_sel = float(spots[HARM].sum()) if len(spots) else 0.0
    area_sel = float(spots[AREA_M2].sum()) if len(spots) else 0.0
    harm_share = harm_sel / total_harm if total_harm > 0 else 0.0
    area_share = area_sel / study_m2 if study_m2 > 0 else 0.0
    per_area = []
    cands = run["candidates"]
    for name, area_m2 in run["area_m2_by_area"].items():
        mine = spots[spots[AREA_NAME] == name]
        a_harm = float(run["area_harm"].get(name, 0.0))
        n_cand = int(((cands[AREA_NAME] == name) & cands["eligible"].astype(bool)).sum())
        row = {
            "area": name,
            "n_spots": len(mine),
            "n_candidates": n_cand,
            "harm": float(mine[HARM].sum()),
            "area_harm": a_harm,
            "harm_share": float(mine[HARM].sum()) / a_harm if a_harm > 0 else 0.0,
            "incident_share": (
                float(mine[N_INCIDENTS].sum()) / float(run["area_n"].get(name))
                if run["area_n"].get(name, 0) > 0
                else 0.0
            ),
            "area_km2": area_m2 / 1e6,
            "area_share": float(mine[AREA_M2].sum()) / area_m2 if area_m2 > 0 else 0.0,
        }
        per_area.append(row)
        if opts["top"] is not None and opts["per_area"] and n_cand < opts["top"]:
            notes.append(
                f"{name}: only {n_cand} places with harm to choose from "
                f"(fewer than --top {opts['top']}); all are spots."
                if n_cand
                else f"{name}: no significant Gi* hot cells, so no spots."
                if opts["method"] == "gistar"
                else f"{name}: no {HARM} in the window, so no spots."
            )
    return {
        "method": opts["method"],
        "n_spots": len(spots),
        "harm": harm_sel,
        "harm_total": total_harm,
        "harm_share": harm_share,
        "n_incidents": n_inc,
        "n_incidents_total": total_n,
        "incident_share": n_inc / total_n if total_n else 0.0,
        "area_km2": area_sel / 1e6,
        "study_area_km2": study_m2 / 1e6,
        "area_share": area_share,
        "study_area": run["study_what"],
        "study_area_text": (
            f"{run['study_what']}, {study_m2 / 1e6:,.1f} km²" if study_m2 > 0 else run["study_what"]
        ),
        "headline": headline(
            len(spots),
            harm_share,
            area_share,
            study=f"{run['study_what']}, {study_m2 / 1e6:,.1f} km²" if study_m2 > 0 else None,
        ),
        "n_candidates": int(len(cands)),
        "n_new": int((spots[STATUS] == "new").sum()),
        "n_persisting": int((spots[STATUS] == "persisting").sum()),
        "n_dropped": len(dropped),
        "dropped": dropped[SPOT_ID].tolist(),
        "window_start": run["window"].start.date().isoformat(),
        "window_end": run["window"].last_day.date().isoformat(),
        "window": run["window"].label,
        "window_months": run["window"].label if run["window"].months is not None else None,
        "per_area": per_area,
        "notes": notes,
        **run["units"].extra,
    }
