"""Harm spots, Grip style: rank small places by summed crime harm and pick the top ones.

Harm is each offence weighted by a crime-harm index (Sherman, Neyroud & Neyroud 2016,
the Cambridge Crime Harm Index). Places are fixed 150 m cells by default (Weisburd 2015,
the law of crime concentration), hexagons of the same area, harm-weighted DBSCAN
clusters, or Getis-Ord Gi* hot cells. Spots are chosen per area (district or town) as
Essex Police's Grip programme does, compared with the previous look-back (trend) and
with the same selection one week earlier (``new`` / ``persisting`` / ``dropped``).

Windows follow :mod:`hotspots._time`: whole local days ending on the as-of day for day
and exact data; whole months ending at the latest month complete at the as-of for month
data (police.uk), where a month-resolution incident belongs to every window its month
overlaps. The months used are stated (``window_months`` in the summary). On month data
the previous run is the previous release (the window one month earlier); given the
previous run's spots and an unchanged window, the spots and their statuses are kept and
the result says there is no new data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import ConvexHull, QhullError

from hotspots._memory import release_freed_memory
from hotspots._progress import Progress, report
from hotspots._time import Window, analysis_window, data_resolution, in_window, resolve_as_of
from hotspots._validate import check_choice, require_columns, require_metric_crs
from hotspots.areas import AREA_UNASSIGNED
from hotspots.config import CELL_M, EPS_M, FDR_ALPHA, GISTAR_PERMUTATIONS, LOOKBACK_DAYS, MIN_HARM
from hotspots.errors import OptionError
from hotspots.schema import (
    AREA_M2,
    AREA_NAME,
    HARM,
    HARM_PER_HA,
    HARM_PREVIOUS,
    HARM_SHARE,
    INSTITUTION,
    LOCATION,
    LSOA_NAME,
    N_INCIDENTS,
    OCCURRED_AT,
    OFFENCE,
    PEAK_BY_DAY,
    PEAK_WINDOWS,
    SPOT_ID,
    STATUS,
    TIME_RESOLUTION,
    TREND,
)
from hotspots.spots._inputs import (
    METHODS,
    NO_AREAS,
    SERIOUS_VIOLENCE,
    TREND_BAND,
    Method,
    check_harm,
    check_options,
    describe_offences,
    label_incidents,
    offence_slug,
    prepare_areas,
    resolve_offences,
    span_of,
)
from hotspots.spots._select import order_units, select_units
from hotspots.spots._track import (
    finish_columns,
    harm_in_spots,
    peaks,
    share,
    snap_columns,
    status_of,
    summarise,
    trend_of,
)
from hotspots.spots._units import Units, build_units

# columns of the incidents that windows, units, place names and hour profiles read
WINDOW_COLUMNS = (HARM, OFFENCE, OCCURRED_AT, TIME_RESOLUTION, LOCATION)

__all__ = [
    "METHODS",
    "SERIOUS_VIOLENCE",
    "Method",
    "SpotResult",
    "find_spots",
    "offence_slug",
    "resolve_offences",
]


@dataclass(frozen=True)
class SpotResult:
    """Harm spots of one run (see :func:`find_spots`)."""

    spots: gpd.GeoDataFrame
    dropped: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    summary: dict[str, Any]
    parameters: dict[str, Any]


def find_spots(
    incidents: gpd.GeoDataFrame,
    *,
    method: Method = "grid",
    cell_m: float = CELL_M,
    eps_m: float = EPS_M,
    min_harm: float = MIN_HARM,
    as_of: pd.Timestamp | str | None = None,
    lookback_days: int = LOOKBACK_DAYS,
    offences: Sequence[str] | None = SERIOUS_VIOLENCE,
    areas: gpd.GeoDataFrame | None = None,
    top: int | None = 20,
    harm_share: float | None = None,
    max_area_km2: float | None = None,
    fdr_alpha: float = FDR_ALPHA,
    permutations: int = GISTAR_PERMUTATIONS,
    seed: int = 0,
    previous_days: int = 7,
    previous_spots: gpd.GeoDataFrame | None = None,
    previous_window: str | None = None,
    study_area: Any | None = "auto",
    keep_prisons: bool = False,
    progress: Progress | None = None,
) -> SpotResult:
    """Rank places by summed harm over a look-back window and choose this week's spots.

    Parameters
    ----------
    incidents
        Weighted incidents (``hotspots.harm.apply_harm``): points in a metric CRS with
        ``occurred_at``, ``offence`` and ``harm``.
    method
        ``grid`` (square cells of ``cell_m``), ``hex`` (hexagons of the same area),
        ``dbscan`` (clusters with at least ``min_harm`` harm within ``eps_m`` metres) or
        ``gistar`` (cells significant in a Gi* test with FDR control, ranked by harm).
    cell_m, eps_m, min_harm
        Cell side (metres, default 150); DBSCAN radius (metres) and core harm.
    as_of, lookback_days
        The run's moment (default: the end of the last day, or month, the data covers; a
        date means the end of that day) and the look-back in days (default 365; on month
        data ``round(days / 30.4375)`` whole months ending at the latest complete month).
    offences
        Offence categories ranked (default: the serious-violence set); None for all.
    areas
        Output of :func:`hotspots.areas.read_areas` (column ``area``): spots are chosen
        per area and a spot belongs to the area holding most of its harm.
    top, harm_share, max_area_km2
        Spots per area (or overall without areas); or the fewest spots holding this share
        of (area) harm; and a cap on their total area in km2. Give ``top`` or
        ``harm_share``, not both.
    fdr_alpha, permutations
        Gi* false discovery rate and permutations (default 0: analytic p-values, which
        a force-sized grid needs to pass the false-discovery control).
    seed
        Seed of every random step (Gi* permutations); recorded in ``parameters``.
    previous_days
        The previous run is this many days earlier (status ``new``/``persisting``); on
        month data the previous run is the previous monthly release.
    previous_spots, previous_window
        The previous run's spots (``spot_id``, optionally ``status``) and its window label
        (``summary["window"]``). Given both, status is against those spots; when the
        window is unchanged the spots keep their statuses, nothing is dropped and a note
        says "no new data since <month>; spots unchanged".
    study_area
        A :class:`hotspots.studyarea.StudyArea` (or anything with ``geometry`` and
        ``name``): without ``areas`` its geometry is the denominator of every
        share-of-area figure (default: the convex hull of the window's incidents); with
        ``areas`` (e.g. ``study_area.districts``) it names them in those figures.
        ``"auto"`` (default): without ``areas``, police.uk data that kept its
        ``lsoa_name`` column gets :func:`hotspots.studyarea.study_area_from_lsoa_names`
        (strays kept out, counted in a note); otherwise the data's convex hull.
    keep_prisons
        Keep spots whose location is a prison in the selection (default False: they are
        left out, with a note saying how many).
    progress
        Optional callback ``progress(task, done, total)``.

    Returns
    -------
    SpotResult
        ``spots`` ranked (columns from :mod:`hotspots.schema`), ``dropped``,
        ``candidates`` (every place with harm), ``summary`` and ``parameters``.

    Raises
    ------
    SchemaError
        A required column is missing (``harm``: weight the incidents first) or harm is
        negative or missing.
    OptionError
        An unknown method or offence, no incidents in the window, areas that do not
        overlap the incidents, or an option out of range.

    Examples
    --------
    >>> pts = gpd.GeoDataFrame(
    ...     {"occurred_at": pd.to_datetime(["2025-06-01"] * 3).tz_localize("Europe/London"),
    ...      "offence": ["Robbery"] * 3, "harm": [10.0, 10.0, 5.0]},
    ...     geometry=gpd.points_from_xy([600010, 600020, 600200], [200010, 200020, 200010]),
    ...     crs=27700)
    >>> find_spots(pts, top=1).spots[["spot_id", "harm"]].values.tolist()
    [['TR0000_9995', 20.0]]
    """
    require_metric_crs(incidents, what="incidents")
    check_choice(method, METHODS, name="method")
    require_columns(
        incidents,
        [HARM],
        what="incidents",
        fix=("Weight them first: hotspots.harm.apply_harm(incidents, load_harm_table(name))."),
    )
    require_columns(incidents, [OCCURRED_AT, OFFENCE], what="incidents")
    check_options(
        cell_m=cell_m,
        eps_m=eps_m,
        min_harm=min_harm,
        lookback_days=lookback_days,
        top=top,
        harm_share=harm_share,
        max_area_km2=max_area_km2,
        fdr_alpha=fdr_alpha,
        permutations=permutations,
        previous_days=previous_days,
    )
    check_harm(incidents)
    chosen = resolve_offences(incidents, offences)
    as_of_at = resolve_as_of(as_of, incidents)
    areas = prepare_areas(areas, incidents)
    # the windows, units and spot figures read these columns alone: each window copies
    # only them (a whole-frame copy per window was most of this stage's memory at scale)
    slim = incidents[
        [c for c in WINDOW_COLUMNS if c in incidents.columns] + [incidents.geometry.name]
    ]
    usable = incidents[OFFENCE].isin(chosen).to_numpy() & incidents.geometry.notna().to_numpy()
    data = slim if usable.all() else slim[usable]
    # their text as categories: a window's rows then copy a small code each, not the text
    data = data.assign(
        **{
            c: data[c].astype("category")
            for c in (OFFENCE, TIME_RESOLUTION, LOCATION)
            if c in data.columns and not isinstance(data[c].dtype, pd.CategoricalDtype)
        }
    )
    release_freed_memory(len(incidents))  # the text the subset copied on the way
    resolution = data_resolution(incidents)
    window = analysis_window(as_of_at, lookback_days=lookback_days, resolution=resolution)
    labels = label_incidents(data, areas)
    auto_note = ""
    if isinstance(study_area, str):
        if study_area != "auto":
            msg = f"study_area must be a StudyArea, None or 'auto'; got {study_area!r}."
            raise OptionError(msg)
        study_area = None
        if areas is None and LSOA_NAME in incidents.columns:
            from hotspots.studyarea import study_area_from_lsoa_names

            study_area = study_area_from_lsoa_names(incidents)
            auto_note = study_area.note()
    opts = {
        "method": method,
        "cell_m": float(cell_m),
        "eps_m": float(eps_m),
        "min_harm": float(min_harm),
        "lookback_days": int(lookback_days),
        "top": top,
        "harm_share": harm_share,
        "max_area_km2": max_area_km2,
        "fdr_alpha": fdr_alpha,
        "permutations": int(permutations),
        "seed": int(seed),
        "per_area": areas is not None,
        "keep_prisons": bool(keep_prisons),
        "study_area": study_area,
    }
    # the districts' union, once: both windows (this one and last week's) use it
    union = None if areas is None else areas.geometry.union_all()
    report(progress, "harm spots", 0, 3)
    if not in_window(data, window).any():
        msg = (
            f"No {describe_offences(chosen)} incidents in the window {window.label} (the data "
            f"runs {span_of(incidents)}); choose --as-of inside the data, a longer "
            f"--lookback-days or other --offences."
        )
        raise OptionError(msg)
    unchanged = previous_spots is not None and previous_window == window.label
    # the earlier window first, kept as its selection alone: its frames (window rows,
    # units, candidates) are freed before this window's are built, never beside them
    if previous_spots is not None:
        before_sel = previous_spots
        before_total = float("nan")
    else:
        before = _run_window(
            data,
            labels,
            window.shifted(days=previous_days),
            chosen,
            areas,
            opts,
            None,
            areas_union=union,
        )
        before_sel, before_total = before["selected"], before["total_harm"]
        del before
    now = _run_window(data, labels, window, chosen, areas, opts, progress, areas_union=union)
    report(progress, "harm spots", 1, 3)
    spots = now["selected"]
    notes = list(now["notes"])
    if auto_note:
        notes.append(auto_note)
    report(progress, "harm spots", 2, 3)
    previous = window.previous()
    spots[HARM_PREVIOUS] = harm_in_spots(data, previous, spots, opts)
    # a trend needs data in the previous window; none there is "no_earlier_data"
    earlier_data = bool(in_window(data, previous).any())
    spots[TREND] = trend_of(
        spots[HARM].to_numpy(), spots[HARM_PREVIOUS].to_numpy(), earlier_data=earlier_data
    )
    spots[STATUS], dropped = status_of(spots, before_sel, method=method)
    if unchanged and previous_spots is not None:
        kept = (
            previous_spots.set_index(SPOT_ID)[STATUS]
            if STATUS in previous_spots.columns
            else pd.Series(dtype=object)
        )
        old = kept.reindex(spots[SPOT_ID].to_numpy()).to_numpy(dtype=object)
        spots[STATUS] = np.where(pd.isna(old), spots[STATUS].to_numpy(), old)
        dropped = dropped.iloc[0:0]
        if set(spots[SPOT_ID]) == set(previous_spots[SPOT_ID]):
            notes.insert(0, f"no new data since {window.last_month}; spots unchanged")
        else:
            notes.insert(0, f"no new data since {window.last_month}; the spot options changed")
    if now["units"].extra.get("gistar", {}).get("note"):
        notes.append(now["units"].extra["gistar"]["note"])
    spots[PEAK_WINDOWS], spots[PEAK_BY_DAY], profile_note = peaks(now, spots)
    if profile_note:
        notes.append(profile_note)
    if not earlier_data and len(spots):
        notes.append(
            f"The data does not reach back over the previous window {previous.label}: "
            "every trend is 'no_earlier_data'."
        )
    if window.months is not None:
        notes.append(
            f"Month-resolution data: the window is the {window.months} whole months "
            f"{window.label} (the latest month complete at as-of {as_of_at:%Y-%m-%d} is "
            f"{window.last_month})."
        )
    if now["n_prisons_left_out"]:
        notes.append(
            f"{now['n_prisons_left_out']} places at prisons left out of the selection "
            "(police.uk snaps crimes inside a prison to one point); --keep-prisons keeps them."
        )
    spots[HARM_SHARE] = share(spots[HARM], now["total_harm"])
    if HARM in dropped.columns:
        dropped[HARM_SHARE] = (
            share(dropped[HARM], before_total)
            if np.isfinite(before_total)
            else dropped.get(HARM_SHARE, np.nan)
        )
    spots = finish_columns(spots, chosen, method)
    dropped = finish_columns(dropped, chosen, method, status="dropped")
    parameters = {
        **{k: v for k, v in opts.items() if k != "study_area"},
        "as_of": as_of_at.date().isoformat(),
        "as_of_at": as_of_at.isoformat(),
        "time_resolution": resolution,
        "window_start": window.start.date().isoformat(),
        "window_end": window.last_day.date().isoformat(),
        "window": window.label,
        "window_months": window.months,
        "offences": list(chosen),
        "previous_days": int(previous_days),
        "dbscan_snap_m": float(eps_m) / 5 if method == "dbscan" else None,
        "trend_band": TREND_BAND,
    }
    summary = summarise(now, spots, dropped, notes, opts)
    report(progress, "harm spots", 3, 3)
    candidates = now["candidates"].drop(columns=["_unit", "eligible"])
    del now, data
    release_freed_memory(len(incidents))  # both windows' frames
    return SpotResult(
        spots=spots, dropped=dropped, candidates=candidates, summary=summary, parameters=parameters
    )


def _run_window(
    data: gpd.GeoDataFrame,
    labels: np.ndarray,
    window: Window,
    offences: Sequence[str],
    areas: gpd.GeoDataFrame | None,
    opts: dict,
    progress: Progress | None,
    *,
    areas_union: Any = None,
) -> dict[str, Any]:
    mask = in_window(data, window)
    incidents = data[mask]
    lab = labels[mask]
    out: dict[str, Any] = {
        "start": window.start,
        "end": window.last_day,
        "window": window,
        "n_window": len(incidents),
        "incidents": incidents,
        "notes": [],
    }
    in_study = lab != AREA_UNASSIGNED
    harm = incidents[HARM].to_numpy(dtype="float64")
    out["total_harm"] = float(harm[in_study].sum())
    out["total_n"] = int(in_study.sum())
    out["area_harm"] = pd.Series(harm[in_study]).groupby(lab[in_study]).sum()
    out["area_n"] = pd.Series(np.ones(int(in_study.sum()))).groupby(lab[in_study]).sum()
    given = opts.get("study_area")
    study = (
        (areas.geometry.union_all() if areas_union is None else areas_union)
        if areas is not None
        else getattr(given, "geometry", given)
        if given is not None
        else None
    )
    if len(incidents) == 0:
        out["units"] = Units(
            table=gpd.GeoDataFrame(
                {SPOT_ID: pd.Series([], dtype=object), "eligible": pd.Series([], dtype=bool)},
                geometry=[],
                crs=data.crs,
            ),
            of=np.zeros(0, "int64"),
            extra={},
        )
    else:
        out["units"] = build_units(
            incidents,
            method=opts["method"],
            cell_m=opts["cell_m"],
            eps_m=opts["eps_m"],
            min_harm=opts["min_harm"],
            study=study,
            fdr_alpha=opts["fdr_alpha"],
            permutations=opts["permutations"],
            seed=opts["seed"],
            progress=progress,
        )
    out["candidates"] = _candidates(incidents, lab, out["units"], offences)
    prison = (out["candidates"][INSTITUTION] == "prison").to_numpy()
    out["n_prisons_left_out"] = 0
    if not opts.get("keep_prisons", False) and prison.any():
        eligible = out["candidates"]["eligible"].to_numpy(dtype=bool)
        out["n_prisons_left_out"] = int((prison & eligible).sum())
        out["candidates"]["eligible"] = eligible & ~prison
    out["selected"] = select_units(
        out["candidates"],
        top=opts["top"],
        harm_share=opts["harm_share"],
        max_area_km2=opts["max_area_km2"],
        per_area=opts["per_area"],
        total_harm=out["total_harm"],
        area_harm=out["area_harm"],
    )
    if areas is not None:
        out["study_m2"] = float(getattr(study, "area", 0.0))
        out["area_m2_by_area"] = pd.Series(
            areas.geometry.area.to_numpy(), index=areas[AREA_NAME].to_numpy()
        )
        out["study_what"] = str(getattr(given, "name", "areas layer")) if given else "areas layer"
        n_out = int((~in_study).sum())
        if n_out:
            out["notes"].append(
                f"{n_out} incidents in the window lie outside every area; they "
                "count in no area's harm and no spot is chosen from them."
            )
    elif given is not None:
        out["study_m2"] = float(getattr(study, "area", 0.0))
        out["area_m2_by_area"] = pd.Series({NO_AREAS: out["study_m2"]})
        out["study_what"] = str(getattr(given, "name", "given study area"))
    else:
        out["study_m2"] = _hull_area_m2(incidents.get_coordinates().to_numpy())
        out["area_m2_by_area"] = pd.Series({NO_AREAS: out["study_m2"]})
        out["study_what"] = "data extent (convex hull of the window's incidents)"
    return out


def _hull_area_m2(xy: np.ndarray) -> float:
    """Area of the convex hull of the points (0 when they are fewer than 3 or collinear)."""
    uniq = np.unique(xy, axis=0) if len(xy) < 3 else xy
    if len(uniq) < 3:
        return 0.0
    try:
        return float(ConvexHull(xy).volume)  # in 2-D, qhull's volume is the area
    except QhullError:
        return 0.0


def _candidates(
    window: gpd.GeoDataFrame, lab: np.ndarray, units: Units, offences: Sequence[str]
) -> gpd.GeoDataFrame:
    table = units.table.copy()
    n_units = len(table)
    of = units.of
    inside = of >= 0
    harm = window[HARM].to_numpy(dtype="float64")
    table[HARM] = np.bincount(of[inside], weights=harm[inside], minlength=n_units)
    table[N_INCIDENTS] = np.bincount(of[inside], minlength=n_units).astype("int64")
    codes, uniques = pd.factorize(window[OFFENCE])
    code_of = {str(u): i for i, u in enumerate(uniques)}
    for name in offences:
        sel = inside & (codes == code_of.get(name, -2))
        table[offence_slug(name)] = np.bincount(of[sel], minlength=n_units).astype("int64")
    # a place belongs to the area holding most of its harm (ties: area name order)
    if n_units:
        by_area = (
            pd.DataFrame({"u": of[inside], "a": lab[inside], "h": harm[inside], "n": 1})
            .groupby(["u", "a"], sort=True)
            .sum()
            .reset_index()
            .sort_values(["u", "h", "n", "a"], ascending=[True, False, False, True], kind="stable")
            .drop_duplicates("u")
        )
        area = np.repeat(np.array([AREA_UNASSIGNED], dtype=object), n_units)
        area[by_area["u"].to_numpy()] = by_area["a"].to_numpy()
    else:
        area = np.zeros(0, dtype=object)
    table.insert(1, AREA_NAME, area)
    for name, values in snap_columns(window, of, n_units).items():
        table[name] = values
    table[AREA_M2] = table.geometry.area.to_numpy()
    table[HARM_PER_HA] = table[HARM] / (table[AREA_M2] / 1e4)
    table = table[table[N_INCIDENTS] > 0]
    table = order_units(table)
    # the unit row of each candidate: its label when the units are numbered 0..n-1 (all
    # builders), else found by spot id (a hash of every id: 0.1 GB at 700,000 cells)
    position = table.index.to_numpy() if _numbered(units.table) else None
    table = table.reset_index(drop=True)
    table.insert(0, "unit", table.index.to_numpy())
    return _reindex_units(table, units, position=position)


def _numbered(frame: pd.DataFrame) -> bool:
    index = frame.index
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1


def _reindex_units(
    table: gpd.GeoDataFrame, units: Units, *, position: np.ndarray | None = None
) -> gpd.GeoDataFrame:
    """Keep the unit row of each candidate (for the hour profiles) under ``_unit``."""
    if position is None:
        ids = pd.Series(np.arange(len(units.table)), index=units.table[SPOT_ID].to_numpy())
        position = ids.reindex(table[SPOT_ID].to_numpy()).to_numpy()
    table["_unit"] = position
    return table.drop(columns=["unit"])
