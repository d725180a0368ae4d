"""Rolling-origin backtests: build spots from the look-back, score them on the next period.

For each period start (origin) between ``start`` and ``end`` every method scores the
study cells from the incidents of ``[origin - lookback_days, origin)``; at each coverage
level the top cells are chosen and scored on ``[origin, origin + horizon)`` with the
metrics of :mod:`.metrics` (Chainey et al. 2008; Hunt 2016; Levine 2008). All methods
use the same cells, the same coverage levels and the same test incidents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots._progress import Progress, report
from hotspots._time import local_timestamp
from hotspots._validate import check_choice, check_positive, require_columns, require_metric_crs
from hotspots.config import CELL_M, LOOKBACK_DAYS, SpotOptions
from hotspots.errors import OptionError, SchemaError, TimeResolutionError
from hotspots.evaluate import metrics as m
from hotspots.schema import HARM, OCCURRED_AT, OFFENCE, TIME_RESOLUTION, TIME_RESOLUTIONS
from hotspots.spots import (
    RULES,
    SERIOUS_VIOLENCE,
    MethodParams,
    TrainingData,
    offences_used,
    score_cells,
    study_grid,
)

__all__ = [
    "DEFAULT_COVERAGE",
    "DEFAULT_METHODS",
    "METRICS",
    "BacktestResult",
    "Period",
    "backtest",
    "filter_offences",
    "parse_when",
]

Period = Literal["week", "month"]
PERIODS: tuple[str, ...] = get_args(Period)
DEFAULT_COVERAGE: tuple[float, ...] = (0.005, 0.01, 0.02, 0.05)
DEFAULT_METHOD = "grid"  # the weekly run's default spot method
DEFAULT_METHODS: tuple[str, ...] = (
    DEFAULT_METHOD,
    "count_grid",
    "kde",
    "last_period",
)
DEFAULT_LOOKBACK_DAYS = LOOKBACK_DAYS  # the weekly run's look-back, before it adapts
MIN_PERIODS = 6  # a default look-back is shortened to leave at least this many periods
METRICS: tuple[str, ...] = (
    "area_share",
    "hit_rate",
    "harm_capture",
    "pai",
    "harm_pai",
    "pei",
    "harm_pei",
    "rri",
    "stability",
    "filler_share",
)
_NS_PER_DAY = 86_400 * 10**9


@dataclass(frozen=True)
class BacktestResult:
    """Outcome of :func:`backtest`.

    Attributes
    ----------
    evaluation
        Long table: ``method, period_start, coverage, metric, value`` (one row per
        method x period x coverage x metric; ``stability`` from the second period on;
        ``filler_share`` is the share of the chosen cells at the method's lowest score:
        the method could not rank them, so its tie-breaker (if any) and then the seeded
        random order picked them).
    summary
        One row per method and coverage: ``n_periods`` and the mean over periods of
        every metric.
    periods
        One row per period: ``period_start, period_end, train_start, n_train, n_test,
        harm_test, lookback_truncated``.
    study
        The study grid: ``cell_m, n_cells, area_km2, source, n_outside``.
    parameters
        Every option that shaped the result, including the seed.
    notes
        Caveats in plain words (truncated look-backs, incidents outside the study area).
    """

    evaluation: pd.DataFrame
    summary: pd.DataFrame
    periods: pd.DataFrame
    study: dict[str, Any]
    parameters: dict[str, Any]
    notes: tuple[str, ...] = field(default=())


def parse_when(value: str | pd.Timestamp | None, *, tz: Any, name: str) -> pd.Timestamp | None:
    """A date option as a timestamp in the data's time zone (None stays None)."""
    if value is None:
        return None
    ts = local_timestamp(
        value, tz, error=f"{name} must be a date such as 2025-04-01; got {value!r}."
    )
    if tz is None:
        return ts.tz_localize(None) if ts.tzinfo is not None else ts
    return ts


def filter_offences(
    incidents: gpd.GeoDataFrame, offences: Sequence[str] | None
) -> gpd.GeoDataFrame:
    """Rows whose offence is one of ``offences``; all rows when None.

    The same rule as the spots (:func:`hotspots.spots.offences_used`): names match the
    data's categories in any case, and must be in the data, except that the default
    serious-violence set may be partly absent.

    Raises
    ------
    OptionError
        An offence named is not in the data (the message lists the data's categories).
    """
    if offences is None:
        return incidents
    require_columns(incidents, [OFFENCE], what="incidents")
    chosen = offences_used(incidents, SpotOptions(offences=tuple(offences)))
    return incidents[incidents[OFFENCE].isin(chosen).to_numpy(dtype=bool)]


def _ns(values: pd.Series) -> np.ndarray:
    return pd.DatetimeIndex(values).as_unit("ns").asi8


def _resolution(incidents: gpd.GeoDataFrame) -> str:
    if TIME_RESOLUTION not in incidents.columns or len(incidents) == 0:
        return "exact"
    present = set(incidents[TIME_RESOLUTION].dropna().astype(str))
    ordered = [r for r in TIME_RESOLUTIONS if r in present]
    return ordered[-1] if ordered else "exact"


def _ceil_to_period(ts: pd.Timestamp, period: str) -> pd.Timestamp:
    day = ts.normalize()
    if period == "month":
        first = day.replace(day=1)
        return first if first == ts else first + pd.DateOffset(months=1)
    monday = day - pd.DateOffset(days=day.weekday())
    return monday if monday == ts else monday + pd.DateOffset(days=7)


def _period_origins(start: pd.Timestamp, end: pd.Timestamp, period: str) -> list[pd.Timestamp]:
    step = pd.DateOffset(months=1) if period == "month" else pd.DateOffset(days=7)
    out, o = [], start
    while o < end:
        out.append(o)
        o = o + step
    return out


def _lookback_steps(period: str) -> list[int]:
    """Shorter look-backs tried, longest first: whole months (month) or whole weeks."""
    if period == "month":
        return [round(k * 30.4375) for k in range(11, 0, -1)]
    return list(range(364 - 7, 6, -7))


def _validate(
    period: str,
    methods: Sequence[str],
    coverage: Sequence[float],
    lookback_days: int | None,
    horizon_days: int | None,
) -> tuple[tuple[str, ...], tuple[float, ...]]:
    check_choice(period, PERIODS, name="period")
    methods = tuple(methods)
    if not methods:
        msg = f"methods must name at least one of {tuple(RULES)}."
        raise OptionError(msg)
    for name in methods:
        check_choice(name, tuple(RULES), name="method")
    if len(set(methods)) != len(methods):
        msg = f"methods lists a method twice: {list(methods)}."
        raise OptionError(msg)
    cov = tuple(float(c) for c in coverage)
    if not cov:
        msg = "coverage needs at least one level, e.g. 0.01 (1% of the study area)."
        raise OptionError(msg)
    for c in cov:
        m.n_cells_for_coverage(c, 100)  # validates 0 < c <= 1
    if lookback_days is not None:
        check_positive(lookback_days, name="lookback_days")
    if horizon_days is not None:
        check_positive(horizon_days, name="horizon_days")
    return methods, tuple(sorted(set(cov)))


def backtest(
    incidents: gpd.GeoDataFrame,
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    period: Period = "week",
    lookback_days: int | None = None,
    horizon_days: int | None = None,
    coverage: Sequence[float] = DEFAULT_COVERAGE,
    methods: Sequence[str] = DEFAULT_METHODS,
    offences: Sequence[str] | None = SERIOUS_VIOLENCE,
    cell_m: float = CELL_M,
    areas: gpd.GeoDataFrame | None = None,
    study_area: Any | None = None,
    params: MethodParams | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> BacktestResult:
    """Rolling-origin backtest of the hot-spot methods on one grid.

    Parameters
    ----------
    incidents
        Weighted incidents (``hotspots.harm.apply_harm`` output): ``occurred_at``
        (tz-aware), ``harm``, ``offence``, points in a metric CRS.
    start, end
        First period start and the date no period starts on or after. Default start:
        the first Monday (week) or month start with a full look-back of data; default
        end: the end of the data. A period whose horizon runs past the data is skipped.
    period
        ``"week"`` (needs day-level or exact dates) or ``"month"`` (police.uk).
    lookback_days
        Training window before each period start. Monthly periods use whole months:
        ``round(lookback_days / 30.4375)`` (365 -> 12, 90 -> 3). Default (None): 365 days,
        shortened when the data is too short to the longest look-back (whole months, or
        whole weeks) that leaves at least ``MIN_PERIODS`` (6) periods to score; a note
        and ``parameters["lookback_adapted"]`` say so.
    horizon_days
        Test window length; default 7 for weeks and the calendar month for months.
    coverage
        Shares of the study area to select (default 0.5%, 1%, 2%, 5%).
    methods
        Names in the spot-method registry :data:`hotspots.spots.RULES` (default: the
        weekly run's ``grid`` and the baselines ``count_grid``, ``kde``, ``last_period``).
    offences
        Categories scored (default: the serious-violence set the spots rank, as
        :func:`hotspots.spots.find_spots`); all incidents when None.
    cell_m
        Grid cell side in metres (default 150).
    areas
        Polygons defining the study area; default ``study_area``, else the data extent
        (convex hull of every incident).
    study_area
        Without ``areas``: the run's study area, as ``find_spots(study_area=...)`` takes it
        (a :class:`hotspots.studyarea.StudyArea` from police.uk LSOA names, or anything
        with ``geometry`` and ``name``); cells whose centre lies inside it are studied and
        its name is the study's ``source``.
    params
        Rule settings (DBSCAN radius and core harm, Gi* FDR and permutations, KDE
        bandwidth, ProMap bands); defaults are ``find_spots``' defaults.
    seed
        Seed of the random order that breaks ties between equal scores (default 0);
        period ``i`` uses the stream ``default_rng([seed, i])``; also the Gi* seed.
    progress
        Callback ``progress(task, done, total)``.

    Returns
    -------
    BacktestResult

    Raises
    ------
    TimeResolutionError
        Weekly periods or a horizon under 28 days on month-resolution data.
    OptionError
        Bad option values, unknown offences, or no period fits in the data.
    SchemaError
        ``harm`` or ``occurred_at`` is missing.
    """
    require_metric_crs(incidents, what="incidents")
    require_columns(
        incidents,
        [OCCURRED_AT, HARM],
        what="incidents",
        fix="Weight them first with hotspots.harm.apply_harm (or --harm-table count).",
    )
    methods, cov = _validate(period, methods, coverage, lookback_days, horizon_days)
    params = replace(params or MethodParams(), seed=seed)
    resolution = _resolution(incidents)
    if resolution == "month" and (period == "week" or (horizon_days or 28) < 28):
        msg = (
            "The data has month-resolution dates (police.uk), so weekly periods or horizons "
            "under 28 days cannot be scored; use --period month (and no --horizon-days)."
        )
        raise TimeResolutionError(msg)
    scored = filter_offences(incidents, offences)
    if len(scored) == 0:
        msg = "No incidents to evaluate; check the input and --offences."
        raise OptionError(msg)
    bad_time = int(scored[OCCURRED_AT].isna().sum())
    bad_point = int((scored.geometry.isna() | scored.geometry.is_empty).sum())
    if bad_time or bad_point:
        msg = (
            f"{bad_time} incident(s) have no occurred_at and {bad_point} no point; "
            "drop or fix them first (hotspots.ingest rejects such rows with a reason)."
        )
        raise SchemaError(msg)
    tz = getattr(incidents[OCCURRED_AT].dt, "tz", None)
    if areas is None and study_area is not None:
        name = str(getattr(study_area, "name", "study area"))
        region = gpd.GeoDataFrame(
            {"area": [name]},
            geometry=[getattr(study_area, "geometry", study_area)],
            crs=incidents.crs,
        )
        grid = study_grid(incidents, cell_m=cell_m, areas=region, name=name)
    else:
        grid = study_grid(incidents, cell_m=cell_m, areas=areas)

    order = np.argsort(_ns(scored[OCCURRED_AT]), kind="stable")
    t_ns = _ns(scored[OCCURRED_AT])[order]
    x = scored.geometry.x.to_numpy()[order]
    y = scored.geometry.y.to_numpy()[order]
    harm = scored[HARM].to_numpy(dtype="float64")[order]
    if np.any(~np.isfinite(harm)) or np.any(harm < 0):
        msg = "incidents have missing or negative harm weights; re-run apply_harm."
        raise OptionError(msg)
    cells = grid.cell_of(x, y)
    n_outside = int((cells < 0).sum())

    first = pd.Timestamp(int(t_ns[0]), tz="UTC")
    last = pd.Timestamp(int(t_ns[-1]), tz="UTC")
    if tz is not None:
        first, last = first.tz_convert(tz), last.tz_convert(tz)
    else:
        first, last = first.tz_localize(None), last.tz_localize(None)
    data_end = (
        last.normalize().replace(day=1) + pd.DateOffset(months=1)
        if resolution == "month"
        else last.normalize() + pd.DateOffset(days=1)
    )
    start_given = parse_when(start, tz=tz, name="start")
    end_ts = parse_when(end, tz=tz, name="end") or data_end

    def previous_start(o: pd.Timestamp) -> pd.Timestamp:
        if period == "month" and horizon_days is None:
            return o - pd.DateOffset(months=1)
        return o - pd.DateOffset(days=horizon_days or 7)

    def horizon_end(o: pd.Timestamp) -> pd.Timestamp:
        if horizon_days is not None:
            return o + pd.DateOffset(days=horizon_days)
        return o + (pd.DateOffset(months=1) if period == "month" else pd.DateOffset(days=7))

    def plan(days: int) -> tuple[int | None, pd.DateOffset, pd.Timestamp, list, list]:
        # calendar arithmetic keeps midnight across clock changes; months are whole months
        months = max(1, round(days / 30.4375)) if period == "month" else None
        back = pd.DateOffset(months=months) if months else pd.DateOffset(days=days)
        start_ts = start_given or _ceil_to_period(first + back, period)
        cands = _period_origins(start_ts, end_ts, period)
        return months, back, start_ts, cands, [o for o in cands if horizon_end(o) <= data_end]

    notes: list[str] = []
    adapted = False
    if lookback_days is None:
        lookback_days = DEFAULT_LOOKBACK_DAYS
        plans = _lookback_steps(period)
        chosen_plan = plan(lookback_days)
        if len(chosen_plan[4]) < MIN_PERIODS and start_given is None:
            for days in plans:
                trial = plan(days)
                if len(trial[4]) >= MIN_PERIODS:
                    chosen_plan, lookback_days, adapted = trial, days, True
                    break
        if adapted:
            months_used = chosen_plan[0]
            length = f"{months_used} months" if months_used else f"{lookback_days} days"
            notes.append(
                f"The data is too short for a {DEFAULT_LOOKBACK_DAYS}-day look-back: each "
                f"forecast is built from the previous {length} instead (the longest that "
                f"leaves at least {MIN_PERIODS} {period}s to score); pass --lookback-days to "
                "choose."
            )
        lookback_months, lookback, start_ts, candidates, origins = chosen_plan
    else:
        lookback_months, lookback, start_ts, candidates, origins = plan(lookback_days)
    if len(origins) < len(candidates):
        notes.append(
            f"{len(candidates) - len(origins)} period(s) skipped: their horizon runs "
            f"past the end of the data ({data_end:%Y-%m-%d})."
        )
    if not origins:
        msg = (
            f"No {period} fits between start {start_ts:%Y-%m-%d} and end {end_ts:%Y-%m-%d} "
            f"with a {lookback_days}-day look-back in data from {first:%Y-%m-%d} to "
            f"{last:%Y-%m-%d}; pass an earlier --start or a shorter --lookback-days "
            f"(e.g. --lookback-days {max(1, (data_end - first).days // 2)}, half the data)."
        )
        raise OptionError(msg)
    if n_outside:
        notes.append(
            f"{n_outside} scored incident(s) lie outside the study area and are not "
            "counted in any period."
        )

    rows: list[tuple[str, pd.Timestamp, float, str, float]] = []
    period_rows = []
    previous: dict[tuple[str, float], np.ndarray] = {}
    n_truncated = 0
    for i, origin in enumerate(origins):
        o_ns, h_ns = origin.as_unit("ns").value, horizon_end(origin).as_unit("ns").value
        tr0 = (origin - lookback).as_unit("ns").value
        a, b, c = np.searchsorted(t_ns, [tr0, o_ns, h_ns], side="left")
        train = slice(a, b)
        truncated = (origin - lookback) < first.normalize()
        n_truncated += bool(truncated)
        data = TrainingData(
            x=x[train],
            y=y[train],
            t_ns=t_ns[train],
            harm=harm[train],
            cells=cells[train],
            origin_ns=int(o_ns),
            previous_ns=int(previous_start(origin).as_unit("ns").value),
        )
        test_counts = grid.sum_by_cell(cells[b:c])
        test_harm = grid.sum_by_cell(cells[b:c], harm[b:c])
        train_counts = grid.sum_by_cell(cells[train])
        period_rows.append(
            {
                "period_start": origin,
                "period_end": horizon_end(origin),
                "train_start": origin - lookback,
                "n_train": int(b - a),
                "n_test": int(test_counts.sum()),
                "harm_test": float(test_harm.sum()),
                "lookback_truncated": bool(truncated),
            }
        )
        for method in methods:
            score, secondary = score_cells(method, grid, data, params)
            for level in cov:
                sel = m.select_by_coverage(
                    score, coverage=level, secondary=secondary, seed=[seed, i]
                )
                values = _metric_values(
                    sel, test_counts, test_harm, train_counts, previous.get((method, level))
                )
                # cells at the method's lowest score were not ranked by the method itself
                values["filler_share"] = float((sel & (score <= score.min())).sum() / sel.sum())
                previous[(method, level)] = sel
                rows.extend((method, origin, level, k, v) for k, v in values.items())
        report(progress, "backtest periods", i + 1, len(origins))
    if n_truncated:
        notes.append(
            f"{n_truncated} period(s) had less than {lookback_days} days of data "
            "before them (look-back truncated at the start of the data)."
        )

    evaluation = pd.DataFrame(
        rows, columns=["method", "period_start", "coverage", "metric", "value"]
    )
    summary = summarise(evaluation, methods=methods)
    study = {
        "cell_m": grid.cell_m,
        "n_cells": grid.n_cells,
        "area_km2": grid.area_km2,
        "source": grid.source,
        "n_outside": n_outside,
        "time_resolution": resolution,
    }
    parameters = {
        "lookback_months": lookback_months,
        "start": start_ts,
        "end": end_ts,
        "period": period,
        "lookback_days": lookback_days,
        "lookback_adapted": adapted,
        "horizon_days": horizon_days,
        "coverage": list(cov),
        "methods": list(methods),
        "offences": None if offences is None else list(offences),
        "cell_m": cell_m,
        "seed": seed,
        **{k: getattr(params, k) for k in params.__dataclass_fields__},
    }
    return BacktestResult(
        evaluation=evaluation,
        summary=summary,
        periods=pd.DataFrame(period_rows),
        study=study,
        parameters=parameters,
        notes=tuple(notes),
    )


def _metric_values(
    sel: np.ndarray,
    counts: np.ndarray,
    harm: np.ndarray,
    train: np.ndarray,
    previous: np.ndarray | None,
) -> dict[str, float]:
    out = {
        "area_share": m.area_share(sel),
        "hit_rate": m.hit_rate(sel, counts),
        "harm_capture": m.harm_capture(sel, harm),
        "pai": m.pai(sel, counts),
        "harm_pai": m.harm_pai(sel, harm),
        "pei": m.pei(sel, counts),
        "harm_pei": m.pei(sel, harm),
        "rri": m.rri(sel, train, counts),
    }
    if previous is not None:
        out["stability"] = m.stability(sel, previous)
    return out


def summarise(evaluation: pd.DataFrame, *, methods: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean of each metric over the periods, one row per method and coverage level."""
    if evaluation.empty:
        return pd.DataFrame(columns=["method", "coverage", "n_periods", *METRICS])
    wide = evaluation.pivot_table(
        index=["method", "coverage"],
        columns="metric",
        values="value",
        aggfunc="mean",
        dropna=False,
        sort=False,
    )
    n = (
        evaluation[evaluation["metric"] == "hit_rate"]
        .groupby(["method", "coverage"])["period_start"]
        .nunique()
    )
    wide.insert(0, "n_periods", n.reindex(wide.index).to_numpy())
    wide = wide.reindex(columns=["n_periods", *[k for k in METRICS if k in wide.columns]])
    out = wide.reset_index()
    order = list(methods) if methods is not None else list(dict.fromkeys(out["method"]))
    out["_o"] = out["method"].map({k: i for i, k in enumerate(order)})
    out = out.sort_values(["_o", "coverage"], kind="stable").drop(columns="_o")
    out.columns.name = None
    return out.reset_index(drop=True)
