"""Cocoon backtest: the share of burglaries that fell inside an already live zone.

Each burglary opens a zone of ``radius_m`` around it, live for ``window_days``
(Johnson & Bowers 2004 near-repeat; Bowers, Johnson & Pease 2004). For every burglary
between ``start`` and ``end`` we ask whether an earlier burglary (at least a moment
earlier; for day-dated data, at least a day earlier) lies within ``radius_m`` and at
most ``window_days`` before it: that burglary happened inside a live zone and a timely
cocoon visit could have reached the home. The zone area in force is measured at the
start of every ``period_days`` period as the union of live circles, giving hits per km2
of live zone, and, with the study area, a PAI for cocoons: every share of burglaries in a
live zone comes with the share of the study area those zones covered, since zones over
40% of the area catching 80% of burglaries is a PAI of 2, not a success.

Days are calendar days in the data's time zone: a zone opened at 10:00 on 1 October
is live until 10:00 on 12 November, although a clock change (the last Sunday of
October in Europe/London) makes that 42 days and one hour of elapsed time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from hotspots._progress import Progress, report
from hotspots._validate import check_increasing, check_positive, require_columns, require_metric_crs
from hotspots.errors import OptionError, TimeResolutionError
from hotspots.evaluate.backtest import _ns, _resolution, filter_offences, parse_when
from hotspots.schema import DWELLING_BURGLARY, OCCURRED_AT, OFFENCE

__all__ = ["CocoonBacktestResult", "cocoon_backtest", "select_burglaries"]

_NS_PER_DAY = 86_400 * 10**9


@dataclass(frozen=True)
class CocoonBacktestResult:
    """Outcome of :func:`cocoon_backtest`.

    Attributes
    ----------
    periods
        ``period_start, n_burglaries, n_in_live_zone, share_in_live_zone, live_zones,
        live_area_km2, area_share, pai`` (zones live at the period start; ``area_share`` is
        their share of the study area and ``pai`` the share of burglaries over it).
    bands
        Burglaries inside a live zone by the distance band and the time band of the
        nearest live zone seed: ``distance_band, time_band, n_burglaries, share`` (share of
        all evaluated burglaries).
    summary
        Headline figures: ``n_burglaries, n_in_live_zone, share_in_live_zone,
        mean_live_area_km2, hits_per_km2_week, area_share, pai, study_area,
        study_area_km2``.
    parameters
        Options used.
    """

    periods: pd.DataFrame
    bands: pd.DataFrame
    summary: dict[str, Any]
    parameters: dict[str, Any]


def select_burglaries(
    incidents: gpd.GeoDataFrame, offences: Sequence[str] | None = None
) -> gpd.GeoDataFrame:
    """The burglaries that open zones: ``offences`` if given, else dwelling burglaries.

    Without ``offences``: rows flagged ``dwelling_burglary``; when no row is flagged,
    rows whose offence is "Burglary".
    """
    if offences is not None:
        return filter_offences(incidents, offences)
    if DWELLING_BURGLARY in incidents.columns:
        flag = incidents[DWELLING_BURGLARY].astype("boolean").fillna(False).to_numpy(dtype=bool)
        if flag.any():
            return incidents[flag]
    if OFFENCE in incidents.columns:
        is_burglary = incidents[OFFENCE].astype("string").str.strip().str.casefold() == "burglary"
        return incidents[is_burglary.fillna(False).to_numpy(dtype=bool)]
    return incidents.iloc[0:0]


def _wall_clock_ns(t_ns: np.ndarray, tz: Any) -> np.ndarray:
    """Local wall-clock nanoseconds: differences are calendar days across clock changes."""
    if tz is None:
        return t_ns
    local = pd.DatetimeIndex(t_ns.astype("datetime64[ns]")).tz_localize("UTC").tz_convert(tz)
    return local.tz_localize(None).as_unit("ns").asi8


def _area_figures(share: float, area_km2: float, study_km2: float | None) -> dict[str, float]:
    """Share of the study area covered by live zones and the PAI (share of burglaries over it)."""
    if not study_km2 or not np.isfinite(area_km2):
        return {"area_share": float("nan"), "pai": float("nan")}
    area_share = area_km2 / study_km2
    pai = share / area_share if area_share > 0 and np.isfinite(share) else float("nan")
    return {"area_share": area_share, "pai": pai}


def _bands(values: np.ndarray, edges: list[float]) -> np.ndarray:
    return np.clip(np.searchsorted(np.asarray(edges), values, side="left") - 1, 0, len(edges) - 2)


def cocoon_backtest(
    incidents: gpd.GeoDataFrame,
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    radius_m: float = 400.0,
    window_days: int = 42,
    distance_bands_m: Sequence[float] | None = None,
    time_bands_days: Sequence[float] | None = None,
    period_days: int = 7,
    offences: Sequence[str] | None = None,
    study_area_km2: float | None = None,
    study_area: str | None = None,
    progress: Progress | None = None,
) -> CocoonBacktestResult:
    """Share of burglaries that fell inside an already live cocoon zone.

    Parameters
    ----------
    incidents
        Incidents with ``occurred_at`` at day or exact resolution, in a metric CRS.
    start, end
        Burglaries from ``start`` (default: ``window_days`` after the first burglary, so
        zones have had time to open) up to ``end`` (default: end of the data) are scored.
    radius_m, window_days
        Zone radius (default 400 m) and life (default 42 days).
    distance_bands_m, time_bands_days
        Band edges from 0 up to ``radius_m`` / ``window_days`` (default every 100 m and
        every 7 days).
    period_days
        Length of the periods reported and of the live-area sampling (default 7).
    offences
        Categories that open zones (default dwelling burglaries).
    study_area_km2, study_area
        Study area for the area shares and PAIs (e.g. ``BacktestResult.study["area_km2"]``)
        and the name of what it is (e.g. ``"areas layer"``), reported beside every share.
    progress
        Callback ``progress(task, done, total)``.

    Raises
    ------
    TimeResolutionError
        Month-resolution data (police.uk): zones need day dates.
    OptionError
        No burglaries to score, or bands that do not end at the radius/window.
    """
    require_metric_crs(incidents, what="incidents")
    require_columns(incidents, [OCCURRED_AT], what="incidents")
    check_positive(radius_m, name="radius_m")
    check_positive(window_days, name="window_days")
    check_positive(period_days, name="period_days")
    d_edges = check_increasing(
        distance_bands_m
        or np.arange(0, radius_m + 1e-9, 100.0).tolist()
        + ([] if radius_m % 100 == 0 else [radius_m]),
        name="distance_bands_m",
    )
    t_edges = check_increasing(
        time_bands_days
        or np.arange(0, window_days + 1e-9, 7.0).tolist()
        + ([] if window_days % 7 == 0 else [window_days]),
        name="time_bands_days",
    )
    if d_edges[0] != 0 or d_edges[-1] != radius_m or t_edges[0] != 0 or t_edges[-1] != window_days:
        msg = (
            f"distance bands must run from 0 to radius_m ({radius_m:g}) and time bands from 0 "
            f"to window_days ({window_days:g}); got {d_edges} and {t_edges}."
        )
        raise OptionError(msg)
    if _resolution(incidents) == "month":
        msg = (
            "Cocoon backtests need day-level dates; this data has month-resolution dates "
            "(police.uk), so whether a burglary followed another within days is unknown."
        )
        raise TimeResolutionError(msg)
    burglaries = select_burglaries(incidents, offences)
    if len(burglaries) == 0:
        msg = "No burglaries to score cocoons on; pass --offences naming the burglary category."
        raise OptionError(msg)
    tz = getattr(incidents[OCCURRED_AT].dt, "tz", None)
    t_ns = _ns(burglaries[OCCURRED_AT])
    order = np.argsort(t_ns, kind="stable")
    t_ns = t_ns[order]
    x = burglaries.geometry.x.to_numpy()[order]
    y = burglaries.geometry.y.to_numpy()[order]
    first = pd.Timestamp(int(t_ns[0]), tz="UTC")
    last = pd.Timestamp(int(t_ns[-1]), tz="UTC")
    first, last = (
        (first.tz_convert(tz), last.tz_convert(tz))
        if tz is not None
        else (first.tz_localize(None), last.tz_localize(None))
    )
    start_ts = parse_when(start, tz=tz, name="start") or (
        first.normalize() + pd.DateOffset(days=window_days)
    )
    end_ts = parse_when(end, tz=tz, name="end") or last.normalize() + pd.DateOffset(days=1)
    s_ns, e_ns = start_ts.as_unit("ns").value, end_ts.as_unit("ns").value
    window_ns = window_days * _NS_PER_DAY
    wall_ns = _wall_clock_ns(t_ns, tz)  # calendar arithmetic: clock changes keep the days
    is_test = (t_ns >= s_ns) & (t_ns < e_ns)
    if not is_test.any():
        msg = (
            f"No burglaries between {start_ts:%Y-%m-%d} and {end_ts:%Y-%m-%d} (data "
            f"{first:%Y-%m-%d} to {last:%Y-%m-%d}); change --start/--end."
        )
        raise OptionError(msg)

    xy = np.column_stack([x, y])
    i, j = cKDTree(xy).query_pairs(r=radius_m, output_type="ndarray").T
    lo, hi = np.minimum(i, j), np.maximum(i, j)  # times sorted: lo is earlier or same time
    dt = t_ns[hi] - t_ns[lo]
    dt_wall = wall_ns[hi] - wall_ns[lo]
    ok = (dt > 0) & (dt_wall <= window_ns) & is_test[hi]
    seed, later, dt_days = lo[ok], hi[ok], dt_wall[ok] / _NS_PER_DAY
    dist = np.hypot(x[seed] - x[later], y[seed] - y[later])
    pairs = pd.DataFrame({"later": later, "dist": dist, "dt": dt_days})
    nearest = pairs.sort_values(["later", "dist", "dt"], kind="stable").drop_duplicates("later")
    inside = np.zeros(t_ns.size, dtype=bool)
    inside[nearest["later"].to_numpy()] = True

    n_test = int(is_test.sum())
    d_band = _bands(nearest["dist"].to_numpy(), d_edges)
    t_band = _bands(nearest["dt"].to_numpy(), t_edges)
    d_labels = [f"{a:g}-{b:g} m" for a, b in zip(d_edges, d_edges[1:], strict=False)]
    t_labels = [f"{a:g}-{b:g} days" for a, b in zip(t_edges, t_edges[1:], strict=False)]
    grid_counts = np.zeros((len(d_labels), len(t_labels)), dtype="int64")
    np.add.at(grid_counts, (d_band, t_band), 1)
    bands = pd.DataFrame(
        {
            "distance_band": np.repeat(d_labels, len(t_labels)),
            "time_band": np.tile(t_labels, len(d_labels)),
            "n_burglaries": grid_counts.ravel(),
        }
    )
    bands["share"] = bands["n_burglaries"] / n_test

    period_rows = []
    step = pd.DateOffset(days=period_days)
    origins = [start_ts]
    while origins[-1] + step < end_ts:
        origins.append(origins[-1] + step)
    for k, p in enumerate(origins):
        p_ns = p.as_unit("ns").value
        q_ns = min((p + step).as_unit("ns").value, e_ns)
        opened = (p - pd.DateOffset(days=window_days)).as_unit("ns").value
        a, b = np.searchsorted(t_ns, [opened, p_ns], side="left")
        c = np.searchsorted(t_ns, q_ns, side="left")
        live = shapely.buffer(shapely.points(xy[a:b]), radius_m, quad_segs=16)
        area_km2 = float(shapely.union_all(live).area) / 1e6 if b > a else 0.0
        n = int(c - b)
        hits = int(inside[b:c].sum())
        period_rows.append(
            {
                "period_start": p,
                "n_burglaries": n,
                "n_in_live_zone": hits,
                "share_in_live_zone": hits / n if n else np.nan,
                "live_zones": int(b - a),
                "live_area_km2": area_km2,
                **_area_figures(hits / n if n else np.nan, area_km2, study_area_km2),
            }
        )
        report(progress, "cocoon backtest periods", k + 1, len(origins))
    periods = pd.DataFrame(period_rows)
    hits_total = int(inside[is_test].sum())
    mean_area = float(periods["live_area_km2"].mean()) if len(periods) else float("nan")
    area_sum = float(periods["live_area_km2"].sum()) if len(periods) else 0.0
    share = hits_total / n_test
    summary: dict[str, Any] = {
        "n_burglaries": n_test,
        "n_in_live_zone": hits_total,
        "share_in_live_zone": share,
        "mean_live_area_km2": mean_area,
        "hits_per_km2_week": (
            float(periods["n_in_live_zone"].sum()) / area_sum * 7 / period_days
            if area_sum > 0
            else float("nan")
        ),
        **_area_figures(share, mean_area, study_area_km2),
        "study_area": study_area,
        "study_area_km2": study_area_km2,
    }
    parameters = {
        "start": start_ts,
        "end": end_ts,
        "radius_m": radius_m,
        "window_days": window_days,
        "distance_bands_m": d_edges,
        "time_bands_days": t_edges,
        "period_days": period_days,
        "offences": None if offences is None else list(offences),
        "study_area": study_area,
        "study_area_km2": study_area_km2,
        "days": "calendar days in the data's time zone",
    }
    return CocoonBacktestResult(
        periods=periods, bands=bands, summary=summary, parameters=parameters
    )
