"""Harm spots, Grip style: rank small places by summed crime harm and pick the top ones.

Harm is each offence weighted by a crime-harm index (Sherman, Neyroud & Neyroud 2016,
the Cambridge Crime Harm Index). Places are fixed 150 m cells by default (Weisburd 2015,
the law of crime concentration), hexagons of the same area, harm-weighted DBSCAN
clusters, or Getis-Ord Gi* hot cells. Spots are chosen per area (district or town) as
Essex Police's Grip programme does, compared with the previous look-back (trend) and
with the same selection one week earlier (``new`` / ``persisting`` / ``dropped``).

Windows are whole days in the data's time zone: the look-back ending at ``as_of`` holds
incidents dated after ``as_of - lookback_days`` and up to the end of ``as_of``'s day.
Month-resolution rows (police.uk) are dated on the first of their month.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import ConvexHull, QhullError

from hotspots._progress import Progress, report
from hotspots._validate import check_choice, check_positive, require_columns, require_metric_crs
from hotspots.areas import AREA_UNASSIGNED, label_points
from hotspots.errors import OptionError, SchemaError
from hotspots.schema import (
    AREA_M2,
    AREA_NAME,
    AREA_RANK,
    HARM,
    HARM_PER_HA,
    HARM_PREVIOUS,
    HARM_SHARE,
    N_INCIDENTS,
    N_OFFENCE_PREFIX,
    OCCURRED_AT,
    OCCURRED_TO,
    OFFENCE,
    OFFENCE_MIX,
    PEAK_WINDOWS,
    RANK,
    SOURCE_FILE,
    SOURCE_ROW,
    SPOT_ID,
    STATUS,
    TIME_RESOLUTION,
    TREND,
)
from hotspots.spots._profile import hour_of_week, peak_windows
from hotspots.spots._select import headline, order_units, select_units
from hotspots.spots._units import Units, build_units, unit_ids_of_points

__all__ = [
    "METHODS",
    "SERIOUS_VIOLENCE",
    "Method",
    "SpotResult",
    "find_spots",
    "offence_slug",
    "resolve_offences",
]

SERIOUS_VIOLENCE: tuple[str, ...] = (
    "Violence and sexual offences",
    "Robbery",
    "Possession of weapons",
    "Drugs",
)
Method = Literal["grid", "hex", "dbscan", "gistar"]
METHODS: tuple[str, ...] = get_args(Method)
NO_AREAS = "all"  # area name of every spot when no areas layer is given
TREND_BAND = 0.10  # +-10% of the previous look-back's harm counts as "flat"
MIN_PROFILE_INCIDENTS = 5  # exact-timed incidents needed before naming peak windows


@dataclass(frozen=True)
class SpotResult:
    """Harm spots of one run (see :func:`find_spots`)."""

    spots: gpd.GeoDataFrame
    dropped: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    summary: dict[str, Any]
    parameters: dict[str, Any]


def offence_slug(offence: str) -> str:
    """Column name of an offence's incident count, e.g. ``n_possession_of_weapons``."""
    return N_OFFENCE_PREFIX + re.sub(r"[^0-9a-z]+", "_", str(offence).lower()).strip("_")


def find_spots(
    incidents: gpd.GeoDataFrame,
    *,
    method: Method = "grid",
    cell_m: float = 150.0,
    eps_m: float = 150.0,
    min_harm: float = 2000.0,
    as_of: pd.Timestamp | str | None = None,
    lookback_days: int = 365,
    offences: Sequence[str] | None = SERIOUS_VIOLENCE,
    areas: gpd.GeoDataFrame | None = None,
    top: int | None = 20,
    harm_share: float | None = None,
    max_area_km2: float | None = None,
    fdr_alpha: float = 0.05,
    permutations: int = 999,
    seed: int = 0,
    previous_days: int = 7,
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
        Last day of the window (default: the latest day the data covers, i.e. the end of
        the last month for police.uk data) and its length in days (default 365).
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
        Gi* false discovery rate and permutations (0: analytic p-values).
    seed
        Seed of every random step (Gi* permutations); recorded in ``parameters``.
    previous_days
        The previous run is this many days earlier (status ``new``/``persisting``).
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
    _check_options(
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
    _check_harm(incidents)
    chosen = resolve_offences(incidents, offences)
    tz = incidents[OCCURRED_AT].dt.tz
    as_of_day = _as_of_day(as_of, incidents, tz)
    areas = _prepare_areas(areas, incidents)
    data = incidents[
        incidents[OFFENCE].isin(chosen).to_numpy() & incidents.geometry.notna().to_numpy()
    ]
    labels = _label(data, areas)
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
    }
    report(progress, "harm spots", 0, 3)
    now = _run_window(data, labels, as_of_day, chosen, areas, opts, progress)
    if now["n_window"] == 0:
        msg = (
            f"No {_describe(chosen)} incidents between {now['start']:%Y-%m-%d} and "
            f"{as_of_day:%Y-%m-%d} (the data runs {_span(incidents)}); choose --as-of "
            f"inside the data, a longer --lookback-days or other --offences."
        )
        raise OptionError(msg)
    report(progress, "harm spots", 1, 3)
    before = _run_window(
        data, labels, as_of_day - pd.Timedelta(days=previous_days), chosen, areas, opts, None
    )
    report(progress, "harm spots", 2, 3)
    spots = now["selected"]
    spots[HARM_PREVIOUS] = _harm_in_spots(
        data, as_of_day - pd.Timedelta(days=lookback_days), lookback_days, spots, opts
    )
    spots[TREND] = _trend(spots[HARM].to_numpy(), spots[HARM_PREVIOUS].to_numpy())
    spots[STATUS], dropped = _status(spots, before["selected"], method=method)
    notes = list(now["notes"])
    if now["units"].extra.get("gistar", {}).get("note"):
        notes.append(now["units"].extra["gistar"]["note"])
    spots[PEAK_WINDOWS], profile_note = _peaks(now, spots)
    if profile_note:
        notes.append(profile_note)
    if float(spots[HARM_PREVIOUS].sum()) == 0 and len(spots):
        notes.append(
            "The previous look-back holds no harm for these spots (or no data): "
            "every trend is 'new'."
        )
    spots[HARM_SHARE] = _share(spots[HARM], now["total_harm"])
    dropped[HARM_SHARE] = _share(dropped[HARM], before["total_harm"])
    spots = _finish_columns(spots, chosen, method)
    dropped = _finish_columns(dropped, chosen, method, status="dropped")
    parameters = {
        **opts,
        "as_of": as_of_day.date().isoformat(),
        "window_start": now["start"].date().isoformat(),
        "window_end": as_of_day.date().isoformat(),
        "offences": list(chosen),
        "previous_days": int(previous_days),
        "dbscan_snap_m": float(eps_m) / 5 if method == "dbscan" else None,
        "trend_band": TREND_BAND,
    }
    summary = _summary(now, spots, dropped, notes, opts)
    report(progress, "harm spots", 3, 3)
    candidates = now["candidates"].drop(columns=["_unit", "eligible"])
    return SpotResult(
        spots=spots, dropped=dropped, candidates=candidates, summary=summary, parameters=parameters
    )


# ---------------------------------------------------------------- checks
def _check_options(
    *,
    cell_m: float,
    eps_m: float,
    min_harm: float,
    lookback_days: int,
    top: int | None,
    harm_share: float | None,
    max_area_km2: float | None,
    fdr_alpha: float,
    permutations: int,
    previous_days: int,
) -> None:
    check_positive(cell_m, name="cell_m")
    check_positive(eps_m, name="eps_m")
    check_positive(min_harm, name="min_harm")
    check_positive(lookback_days, name="lookback_days")
    check_positive(previous_days, name="previous_days", allow_zero=True)
    check_positive(permutations, name="permutations", allow_zero=True)
    if not 0 < fdr_alpha < 1:
        msg = f"fdr_alpha must be between 0 and 1 (e.g. 0.05); got {fdr_alpha!r}."
        raise OptionError(msg)
    if top is not None and harm_share is not None:
        msg = (
            "Give --top or --harm-share, not both (top picks N spots; harm-share the fewest "
            "spots holding that share)."
        )
        raise OptionError(msg)
    if top is None and harm_share is None and max_area_km2 is None:
        msg = "Say how many spots to pick: --top N, --harm-share 0.5 or --max-area-km2."
        raise OptionError(msg)
    if top is not None and (
        isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1
    ):
        msg = f"top must be a whole number of spots >= 1; got {top!r}."
        raise OptionError(msg)
    if harm_share is not None and not 0 < harm_share <= 1:
        msg = f"harm_share must be a share of harm in (0, 1], e.g. 0.5; got {harm_share!r}."
        raise OptionError(msg)
    if max_area_km2 is not None:
        check_positive(max_area_km2, name="max_area_km2")


def _check_harm(incidents: gpd.GeoDataFrame) -> None:
    harm = pd.to_numeric(incidents[HARM], errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )
    bad = ~np.isfinite(harm) | (harm < 0)
    if bad.any():
        i = int(np.nonzero(bad)[0][0])
        where = f"row {i}"
        if SOURCE_FILE in incidents.columns and SOURCE_ROW in incidents.columns:
            where = f"{incidents[SOURCE_FILE].iloc[i]} row {incidents[SOURCE_ROW].iloc[i]}"
        msg = (
            f"incidents column {HARM!r} must be a harm weight >= 0; {int(bad.sum())} rows are "
            f"missing or negative (first: {where}, value {incidents[HARM].iloc[i]!r}). "
            f"Re-run apply_harm with a table that covers every offence."
        )
        raise SchemaError(msg)


def resolve_offences(
    incidents: gpd.GeoDataFrame, offences: Sequence[str] | None
) -> tuple[str, ...]:
    """The offence categories to rank, checked against the data.

    None means every category present. The default serious-violence set may be partly
    absent (a force file without drugs offences); any other name must be in the data.
    """
    present = sorted(str(o) for o in incidents[OFFENCE].dropna().unique())
    if offences is None:
        return tuple(present)
    if isinstance(offences, str):
        offences = [offences]
    wanted = tuple(dict.fromkeys(str(o).strip() for o in offences if str(o).strip()))
    unknown = [o for o in wanted if o not in present]
    default = tuple(wanted) == SERIOUS_VIOLENCE
    if not wanted or (unknown and not default) or len(unknown) == len(wanted):
        msg = (
            f"offences: {unknown or list(wanted)} not in the data; its offence categories "
            f"are {present}. Pass --offences with those names, comma-separated."
        )
        raise OptionError(msg)
    return wanted


def _as_of_day(as_of: object, incidents: gpd.GeoDataFrame, tz: object) -> pd.Timestamp:
    times = incidents[OCCURRED_AT]
    if as_of is None:  # the latest moment covered: police.uk months run to their last day
        latest = times.max()
        if OCCURRED_TO in incidents.columns and incidents[OCCURRED_TO].notna().any():
            latest = max(latest, incidents[OCCURRED_TO].max())
        if pd.isna(latest):
            msg = "incidents have no dates; cannot choose --as-of. Check the time column."
            raise OptionError(msg)
        return latest.normalize()
    try:
        stamp = pd.Timestamp(as_of)
    except (ValueError, TypeError) as exc:
        msg = f"as_of must be a date such as 2025-12-31; got {as_of!r}."
        raise OptionError(msg) from exc
    if tz is not None:
        stamp = stamp.tz_localize(tz) if stamp.tzinfo is None else stamp.tz_convert(tz)
    return stamp.normalize()


def _prepare_areas(
    areas: gpd.GeoDataFrame | None, incidents: gpd.GeoDataFrame
) -> gpd.GeoDataFrame | None:
    if areas is None:
        return None
    if not isinstance(areas, gpd.GeoDataFrame):
        msg = f"areas must be a GeoDataFrame from hotspots.areas.read_areas; got {type(areas)}."
        raise TypeError(msg)
    require_columns(
        areas,
        [AREA_NAME],
        what="areas",
        fix="Read them with hotspots.areas.read_areas(path, area_field=...).",
    )
    if areas.crs is None or not areas.crs.equals(incidents.crs):
        areas = areas.to_crs(incidents.crs) if areas.crs is not None else areas
    if areas.crs is None:
        msg = "areas has no CRS; read it with hotspots.areas.read_areas."
        raise OptionError(msg)
    return areas


def _label(data: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None) -> np.ndarray:
    """Area of each incident; refuses an areas layer that holds none of them.

    police.uk points are snapped to shared map points, so each distinct location is
    looked up once.
    """
    if areas is None:
        return np.full(len(data), NO_AREAS, dtype=object)
    xy = data.get_coordinates().to_numpy()
    uniq, inverse = np.unique(xy, axis=0, return_inverse=True)
    pts = gpd.GeoSeries(gpd.points_from_xy(uniq[:, 0], uniq[:, 1]), crs=data.crs)
    labels = label_points(pts, areas)[inverse.ravel()]
    if len(data) and (labels == AREA_UNASSIGNED).all():
        ib = np.round(data.total_bounds).astype(int).tolist()
        ab = np.round(areas.total_bounds).astype(int).tolist()
        msg = (
            f"The areas layer does not overlap the incidents (areas bounds {ab}, incidents "
            f"bounds {ib}, both {data.crs.to_string()}); check you passed the right "
            f"--areas file for this force."
        )
        raise OptionError(msg)
    return labels


def _describe(offences: Sequence[str]) -> str:
    return ", ".join(offences) if len(offences) <= 4 else f"{len(offences)} offence types'"


def _span(incidents: gpd.GeoDataFrame) -> str:
    t = incidents[OCCURRED_AT]
    return f"{t.min():%Y-%m-%d} to {t.max():%Y-%m-%d}"


# ---------------------------------------------------------------- one window
def _window_mask(times: pd.Series, end_day: pd.Timestamp, days: int) -> np.ndarray:
    start = end_day - pd.Timedelta(days=days - 1)
    stop = end_day + pd.Timedelta(days=1)
    return ((times >= start) & (times < stop)).to_numpy(dtype=bool, na_value=False)


def _run_window(
    data: gpd.GeoDataFrame,
    labels: np.ndarray,
    end_day: pd.Timestamp,
    offences: Sequence[str],
    areas: gpd.GeoDataFrame | None,
    opts: dict,
    progress: Progress | None,
) -> dict[str, Any]:
    lookback = opts["lookback_days"]
    start = end_day - pd.Timedelta(days=lookback - 1)
    mask = _window_mask(data[OCCURRED_AT], end_day, lookback)
    window = data[mask]
    lab = labels[mask]
    out: dict[str, Any] = {
        "start": start,
        "end": end_day,
        "n_window": len(window),
        "window": window,
        "notes": [],
    }
    in_study = lab != AREA_UNASSIGNED
    harm = window[HARM].to_numpy(dtype="float64")
    out["total_harm"] = float(harm[in_study].sum())
    out["total_n"] = int(in_study.sum())
    out["area_harm"] = pd.Series(harm[in_study]).groupby(lab[in_study]).sum()
    out["area_n"] = pd.Series(np.ones(int(in_study.sum()))).groupby(lab[in_study]).sum()
    study = areas.geometry.union_all() if areas is not None else None
    if len(window) == 0:
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
            window,
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
    out["candidates"] = _candidates(window, lab, out["units"], offences)
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
        out["study_m2"] = float(study.area)
        out["area_m2_by_area"] = pd.Series(
            areas.geometry.area.to_numpy(), index=areas[AREA_NAME].to_numpy()
        )
        out["study_what"] = "areas layer"
        n_out = int((~in_study).sum())
        if n_out:
            out["notes"].append(
                f"{n_out} incidents in the window lie outside every area; they "
                "count in no area's harm and no spot is chosen from them."
            )
    else:
        out["study_m2"] = _hull_area_m2(window.get_coordinates().to_numpy())
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
        area = np.full(n_units, AREA_UNASSIGNED, dtype=object)
        area[by_area["u"].to_numpy()] = by_area["a"].to_numpy()
    else:
        area = np.zeros(0, dtype=object)
    table.insert(1, AREA_NAME, area)
    table[AREA_M2] = table.geometry.area.to_numpy()
    table[HARM_PER_HA] = table[HARM] / (table[AREA_M2] / 1e4)
    table = table[table[N_INCIDENTS] > 0]
    table = order_units(table).reset_index(drop=True)
    table.insert(0, "unit", table.index.to_numpy())
    return _reindex_units(table, units)


def _reindex_units(table: gpd.GeoDataFrame, units: Units) -> gpd.GeoDataFrame:
    """Keep the unit row of each candidate (for the hour profiles) under ``_unit``."""
    ids = pd.Series(np.arange(len(units.table)), index=units.table[SPOT_ID].to_numpy())
    table["_unit"] = ids.reindex(table[SPOT_ID].to_numpy()).to_numpy()
    return table.drop(columns=["unit"])


# ---------------------------------------------------------------- trend, status, peaks
def _harm_in_spots(
    data: gpd.GeoDataFrame, end_day: pd.Timestamp, days: int, spots: gpd.GeoDataFrame, opts: dict
) -> np.ndarray:
    """Harm of the given window in each spot (previous look-back for the trend)."""
    prev = data[_window_mask(data[OCCURRED_AT], end_day, days)]
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


def _trend(harm: np.ndarray, previous: np.ndarray) -> np.ndarray:
    up = harm > previous * (1 + TREND_BAND)
    down = harm < previous * (1 - TREND_BAND)
    out = np.where(up, "up", np.where(down, "down", "flat")).astype(object)
    out[previous <= 0] = "new"
    return out


def _status(
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
    status = np.where(persisting, "persisting", "new").astype(object)
    return status, dropped.reset_index(drop=True)


def _peaks(run: dict[str, Any], spots: gpd.GeoDataFrame) -> tuple[np.ndarray, str]:
    window = run["window"]
    names = np.full(len(spots), "", dtype=object)
    if len(spots) == 0:
        return names, ""
    exact = (
        window[TIME_RESOLUTION].astype(str).to_numpy() == "exact"
        if TIME_RESOLUTION in window.columns
        else np.ones(len(window), dtype=bool)
    )
    if not exact.any():
        return names, (
            "Dates are month- or day-resolution: no hour-of-week profile, so peak "
            "windows are blank and patrol times use the default evening window."
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
    return names, note


# ---------------------------------------------------------------- columns and summary
def _offence_mix(frame: pd.DataFrame, offences: Sequence[str]) -> np.ndarray:
    parts = []
    for name in offences:
        n = frame[offence_slug(name)].astype("int64")
        parts.append(pd.Series(np.where(n > 0, name + ": " + n.astype(str), ""), index=frame.index))
    if not parts:
        return np.zeros(len(frame), dtype=object)
    joined = pd.concat(parts, axis=1).apply(lambda r: "; ".join(s for s in r if s), axis=1)
    return joined.to_numpy(dtype=object) if len(frame) else np.zeros(0, dtype=object)


def _share(harm: pd.Series, total: float) -> np.ndarray:
    return harm.to_numpy(dtype="float64") / total if total > 0 else np.zeros(len(harm))


def _finish_columns(
    spots: gpd.GeoDataFrame, offences: Sequence[str], method: str, *, status: str | None = None
) -> gpd.GeoDataFrame:
    out = spots.copy()
    if status is not None:
        out[STATUS] = status
        for col in (HARM_PREVIOUS, TREND, PEAK_WINDOWS):
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
        *extras,
    ]
    return out[[c for c in order if c in out.columns] + [out.geometry.name]]


def _summary(
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
        "headline": headline(len(spots), harm_share, area_share),
        "n_candidates": int(len(cands)),
        "n_new": int((spots[STATUS] == "new").sum()),
        "n_persisting": int((spots[STATUS] == "persisting").sum()),
        "n_dropped": len(dropped),
        "dropped": dropped[SPOT_ID].tolist(),
        "window_start": run["start"].date().isoformat(),
        "window_end": run["end"].date().isoformat(),
        "per_area": per_area,
        "notes": notes,
        **run["units"].extra,
    }
