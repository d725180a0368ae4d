"""Places that harm is counted in: grid cells, hexagons, DBSCAN pieces, Gi* cells (private).

Each builder returns the units and the unit of each incident; the spot-method registry
(:mod:`hotspots.spots._registry`) names the builder of every deployable method.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots._progress import Progress
from hotspots.errors import OptionError
from hotspots.schema import GI_P, GI_Z, HARM, SPLIT, SPOT_ID
from hotspots.spots._dbscan import HarmSpotClusterer
from hotspots.spots._gistar import gi_star_grid
from hotspots.spots._grid import (
    cell_ids,
    cell_polygons,
    grid_cells,
    hex_cells,
    hex_ids,
    hex_polygons,
)

__all__ = [
    "UnitOptions",
    "Units",
    "build_units",
    "dbscan_units",
    "gistar_units",
    "grid_units",
    "hex_units",
    "unit_ids_of_points",
]


@dataclass(frozen=True)
class Units:
    """Places of one window and the place of each incident.

    ``table``: one row per unit (spot_id, geometry, extras, ``eligible``); ``of``: unit
    row of each incident (-1: in no unit).
    """

    table: gpd.GeoDataFrame
    of: np.ndarray
    extra: dict


def _factorize_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes of (a, b) pairs plus the unique a and b, sorted by (a, b)."""
    if len(a) == 0:
        empty = np.zeros(0, dtype="int64")
        return empty, empty, empty
    b0, span = b.min(), int(b.max() - b.min()) + 1
    key = (a - a.min()) * span + (b - b0)
    uniq, codes = np.unique(key, return_inverse=True)
    return codes.ravel(), uniq // span + a.min(), uniq % span + b0


def unit_ids_of_points(
    x: np.ndarray, y: np.ndarray, *, method: str, cell_m: float, crs: object
) -> np.ndarray:
    """Id of the grid cell or hexagon of each point (for grid, hex and gistar)."""
    if method == "hex":
        q, r = hex_cells(x, y, cell_m=cell_m)
        codes, uq, ur = _factorize_pairs(q, r)
        return hex_ids(uq, ur, cell_m=cell_m, crs=crs)[codes]
    ix, iy = grid_cells(x, y, cell_m=cell_m)
    codes, ux, uy = _factorize_pairs(ix, iy)
    return cell_ids(ux, uy, cell_m=cell_m, crs=crs)[codes]


@dataclass(frozen=True)
class UnitOptions:
    """Options every unit builder receives (metres; Gi* FDR, permutations and seed)."""

    cell_m: float
    eps_m: float
    min_harm: float
    study: object | None
    fdr_alpha: float
    permutations: int
    seed: int
    progress: Progress | None


def build_units(
    window: gpd.GeoDataFrame,
    *,
    method: str,
    cell_m: float,
    eps_m: float,
    min_harm: float,
    study: object | None,
    fdr_alpha: float,
    permutations: int,
    seed: int,
    progress: Progress | None,
) -> Units:
    """Units of ``method`` for the incidents of one window, by the method's registered builder."""
    from hotspots.spots._registry import RULES

    build = RULES[method].build
    if build is None:
        msg = f"{method!r} is an evaluation baseline, not a spot method find_spots can deploy."
        raise OptionError(msg)
    options = UnitOptions(
        cell_m=cell_m,
        eps_m=eps_m,
        min_harm=min_harm,
        study=study,
        fdr_alpha=fdr_alpha,
        permutations=permutations,
        seed=seed,
        progress=progress,
    )
    return build(window, options)


def dbscan_units(window: gpd.GeoDataFrame, o: UnitOptions) -> Units:
    """Harm-weighted DBSCAN spots (split on the grid when wide) as units."""
    fitted = HarmSpotClusterer(eps_m=o.eps_m, min_harm=o.min_harm, cell_m=o.cell_m).fit(window)
    table = fitted.spots_[[SPOT_ID, "split", "geometry"]].rename(columns={"split": SPLIT})
    table["eligible"] = True
    return Units(table=table.reset_index(drop=True), of=fitted.labels_, extra={})


def hex_units(window: gpd.GeoDataFrame, o: UnitOptions) -> Units:
    """Hexagons of the cell's area holding incidents."""
    xy = window.get_coordinates().to_numpy()
    crs = window.crs
    q, r = hex_cells(xy[:, 0], xy[:, 1], cell_m=o.cell_m)
    codes, uq, ur = _factorize_pairs(q, r)
    table = gpd.GeoDataFrame(
        {SPOT_ID: hex_ids(uq, ur, cell_m=o.cell_m, crs=crs)},
        geometry=hex_polygons(uq, ur, cell_m=o.cell_m),
        crs=crs,
    )
    table["eligible"] = True
    return Units(table=table, of=codes, extra={})


def _cell_table(
    window: gpd.GeoDataFrame, cell_m: float
) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray, np.ndarray]:
    xy = window.get_coordinates().to_numpy()
    crs = window.crs
    ix, iy = grid_cells(xy[:, 0], xy[:, 1], cell_m=cell_m)
    codes, ux, uy = _factorize_pairs(ix, iy)
    table = gpd.GeoDataFrame(
        {SPOT_ID: cell_ids(ux, uy, cell_m=cell_m, crs=crs)},
        geometry=cell_polygons(ux, uy, cell_m=cell_m),
        crs=crs,
    )
    return table, codes, ux, uy


def grid_units(window: gpd.GeoDataFrame, o: UnitOptions) -> Units:
    """Square cells of ``cell_m`` holding incidents."""
    table, codes, _, _ = _cell_table(window, o.cell_m)
    table["eligible"] = True
    return Units(table=table, of=codes, extra={})


def gistar_units(window: gpd.GeoDataFrame, o: UnitOptions) -> Units:
    """Cells holding incidents; eligible when hot and FDR-significant in Gi*."""
    table, codes, ux, uy = _cell_table(window, o.cell_m)
    xy = window.get_coordinates().to_numpy()
    harm = window[HARM].to_numpy(dtype="float64")
    permutations, fdr_alpha = o.permutations, o.fdr_alpha
    study = o.study
    # every cell of the study extent takes part, zero-harm ones as zeros; without areas
    # the extent is the study grid's data extent (hull of the points + their cells)
    if study is None and len(xy) >= 3:
        study = shapely.MultiPoint(xy).convex_hull
    cell_harm = np.bincount(codes, weights=harm, minlength=len(ux))
    gx, gy, mask = _study_grid(ux, uy, cell_m=o.cell_m, study=study)
    res = gi_star_grid(
        np.concatenate([ux, gx]),
        np.concatenate([uy, gy]),
        np.concatenate([cell_harm, np.zeros(len(gx))]),
        in_study=mask,
        permutations=permutations,
        fdr_alpha=fdr_alpha,
        seed=o.seed,
        progress=o.progress,
    )
    lookup = pd.Series(np.arange(len(res.ix)), index=pd.MultiIndex.from_arrays([res.ix, res.iy]))
    pos = lookup.reindex(pd.MultiIndex.from_arrays([ux, uy])).to_numpy()
    table[GI_Z] = res.z[pos]
    table[GI_P] = res.p_value[pos]
    table["eligible"] = res.significant[pos]
    n_hot = int(res.significant.sum())
    extra = {
        "gistar": {
            "n_cells_tested": len(res.ix),
            "n_significant_hot": n_hot,
            "p_threshold": res.p_threshold,
            "fdr_alpha": fdr_alpha,
            "permutations": permutations,
            "neighbours": "queen, self included",
            "p_values": "conditional permutation, one-sided"
            if permutations
            else "analytic normal, one-sided",
        }
    }
    floor = 1 / (permutations + 1)
    if permutations and n_hot == 0 and res.p_value.min() <= floor + 1e-12:
        extra["gistar"]["note"] = (
            f"Gi*: no cell is significant. With {len(res.ix):,} cells tested, {permutations} "
            f"permutations give p-values no smaller than {floor:.4f}, too coarse for FDR "
            f"{fdr_alpha} over so many cells. Use --gistar-permutations 0 (analytic p-values) or a "
            f"smaller study area."
        )
    return Units(table=table, of=codes, extra=extra)


def _study_grid(
    ux: np.ndarray, uy: np.ndarray, *, cell_m: float, study: object | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Corner cells widening the grid's box to the study polygon, and the in-study mask.

    A cell is in the study when its centre lies inside the polygon; no mask without one.
    """
    if study is None:
        return np.zeros(0, "int64"), np.zeros(0, "int64"), None
    minx, miny, maxx, maxy = shapely.bounds(study)
    gx = np.array([int(np.floor(minx / cell_m)), int(np.floor(maxx / cell_m))], dtype="int64")
    gy = np.array([int(np.floor(miny / cell_m)), int(np.floor(maxy / cell_m))], dtype="int64")
    x0, x1 = min(gx.min(), ux.min()), max(gx.max(), ux.max())
    y0, y1 = min(gy.min(), uy.min()), max(gy.max(), uy.max())
    cx = (np.arange(x0, x1 + 1) + 0.5) * cell_m
    cy = (np.arange(y0, y1 + 1) + 0.5) * cell_m
    xx, yy = np.meshgrid(cx, cy)
    shapely.prepare(study)
    mask = shapely.contains_xy(study, xx.ravel(), yy.ravel()).reshape(xx.shape)
    return np.array([x0, x1], "int64"), np.array([y0, y1], "int64"), mask
