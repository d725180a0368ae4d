"""Concentration of harm in place: share of harm against share of cells, per area.

Every area is cut into the same fixed-origin square cells the harm-spot grid uses
(:func:`hotspots.spots.grid_cells`, 150 m by default). A cell belongs to an area when its
centre lies inside the area or when it holds one of the area's incidents. Cells are ordered
from most to least harm; the curve is the cumulative share of harm against the cumulative
share of cells (a Lorenz curve read from the top, as in Weisburd's law of crime
concentration, 2015). The Gini coefficient is computed over every cell, empty ones
included, and the area holding 50% of harm is the fewest cells that reach it.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots._validate import check_positive, require_metric_crs
from hotspots.reports._compare import ALL_AREAS
from hotspots.schema import AREA_NAME, HARM
from hotspots.spots import grid_cells

__all__ = ["CURVE_POINTS", "concentration", "gini"]

CURVE_POINTS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0)


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = even, towards 1 = all in one).

    ``G = 2 * sum(i * x_i) / (n * sum(x)) - (n + 1) / n`` with ``x`` ascending and ``i``
    from 1; 0 when everything is zero.

    Examples
    --------
    >>> gini(np.array([0.0, 0.0, 0.0, 4.0]))
    0.75
    >>> gini(np.array([1.0, 1.0]))
    0.0
    """
    x = np.sort(np.asarray(values, dtype="float64"))
    n, total = len(x), float(x.sum())
    if n == 0 or total <= 0:
        return 0.0
    i = np.arange(1, n + 1)
    return float(2.0 * np.sum(i * x) / (n * total) - (n + 1) / n)


def _area_cells(polygon: object, *, cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    minx, miny, maxx, maxy = shapely.bounds(polygon)
    ix = np.arange(np.floor(minx / cell_m), np.floor(maxx / cell_m) + 1, dtype="int64")
    iy = np.arange(np.floor(miny / cell_m), np.floor(maxy / cell_m) + 1, dtype="int64")
    mx, my = np.meshgrid(ix, iy)
    gx, gy = mx.ravel(), my.ravel()
    shapely.prepare(polygon)
    inside = shapely.contains_xy(polygon, (gx + 0.5) * cell_m, (gy + 0.5) * cell_m)
    return gx[inside], gy[inside]


def _one(
    name: str, polygon: object, xy: np.ndarray, harm: np.ndarray, *, cell_m: float
) -> tuple[dict[str, object], pd.DataFrame]:
    cx, cy = _area_cells(polygon, cell_m=cell_m)
    px, py = grid_cells(xy[:, 0], xy[:, 1], cell_m=cell_m)
    keys_area = cx * 2**32 + (cy + 2**31)  # one int64 key per cell
    keys_inc = px * 2**32 + (py + 2**31)
    all_keys = np.union1d(keys_area, keys_inc)
    pos = np.searchsorted(all_keys, keys_inc)
    per_cell = np.bincount(pos, weights=harm, minlength=len(all_keys))
    n_cells = len(all_keys)
    ordered = np.sort(per_cell)[::-1]
    total = float(ordered.sum())
    cum = np.cumsum(ordered) / total if total > 0 else np.zeros(n_cells)
    cell_km2 = cell_m * cell_m / 1e6
    area_km2 = float(shapely.area(polygon)) / 1e6
    k50 = int(np.searchsorted(cum, 0.5 - 1e-12) + 1) if total > 0 else 0
    summary = {
        AREA_NAME: name,
        "study_area_km2": round(area_km2, 2),
        "cell_m": cell_m,
        "n_cells": n_cells,
        "n_cells_with_harm": int((per_cell > 0).sum()),
        HARM: round(total, 1),
        "gini": round(gini(per_cell), 4),
        "cells_for_50pct_harm": k50,
        "km2_for_50pct_harm": round(k50 * cell_km2, 4),
        "area_share_for_50pct_harm": round(k50 / n_cells, 5) if n_cells else 0.0,
    }
    curve_rows = []
    for share in CURVE_POINTS:
        k = max(int(np.ceil(share * n_cells - 1e-9)), 1) if n_cells else 0
        curve_rows.append(
            {
                AREA_NAME: name,
                "cell_share": share,
                "n_cells": k,
                "harm_share": float(cum[k - 1]) if k else 0.0,
            }
        )
    return summary, pd.DataFrame(curve_rows)


def concentration(
    incidents: gpd.GeoDataFrame,
    *,
    areas: gpd.GeoDataFrame | None = None,
    area_labels: np.ndarray | None = None,
    cell_m: float = 150.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gini, area holding 50% of harm and the concentration curve, per area and overall.

    Parameters
    ----------
    incidents
        Weighted incidents of one period, in a metric CRS; not changed.
    areas
        Area polygons (``area``, geometry) in the same CRS; None uses the convex hull of
        the incidents as the one study area.
    area_labels
        Area of each incident (``label_points``), needed with ``areas``.
    cell_m
        Cell side in metres (default 150, the harm-spot grid).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        One row per area: ``area``, ``study_area_km2``, ``cell_m``, ``n_cells``,
        ``n_cells_with_harm``, ``harm``, ``gini``, ``cells_for_50pct_harm``,
        ``km2_for_50pct_harm``, ``area_share_for_50pct_harm``; and the curve: ``area``,
        ``cell_share``, ``n_cells``, ``harm_share`` at the shares in ``CURVE_POINTS``.
    """
    require_metric_crs(incidents, what="incidents")
    check_positive(cell_m, name="cell_m")
    xy = incidents.geometry.get_coordinates().to_numpy()
    harm = incidents[HARM].to_numpy(dtype="float64")
    jobs: list[tuple[str, object, np.ndarray]] = []
    if areas is None or area_labels is None:
        hull = shapely.convex_hull(shapely.multipoints(xy)) if len(xy) else shapely.Polygon()
        jobs.append((f"{ALL_AREAS} (convex hull of incidents)", hull, np.ones(len(xy), bool)))
    else:
        labels = np.asarray(area_labels, dtype=object)
        for name, geom in zip(areas[AREA_NAME], areas.geometry, strict=True):
            jobs.append((str(name), geom, labels == name))
        if len(areas) > 1:
            union = shapely.union_all(areas.geometry.to_numpy())
            inside = np.isin(labels, areas[AREA_NAME].to_numpy())
            jobs.append((ALL_AREAS, union, inside))
    summaries, curves = [], []
    for name, geom, mask in jobs:
        s, c = _one(name, geom, xy[mask], harm[mask], cell_m=cell_m)
        summaries.append(s)
        curves.append(c)
    return pd.DataFrame(summaries), pd.concat(curves, ignore_index=True)
