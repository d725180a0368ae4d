"""Forecasting methods scored side by side: each gives one score per study cell.

Every method sees only the training window (the look-back before the period) and
returns ``(score, secondary)`` arrays over the study cells; cells are then chosen by
score until the coverage level is reached (:func:`.metrics.select_by_coverage`).

* ``harm_grid`` - summed harm per cell (ours; ties by count).
* ``count_grid`` - incidents per cell (ties by harm).
* ``kde`` - Gaussian kernel density of incidents: the cell counts smoothed with a
  Gaussian of standard deviation ``kde_bandwidth_m`` (default 300 m, about two cells,
  truncated at 3 standard deviations), computed on the grid (Chainey et al. 2008).
* ``gistar`` - Getis-Ord Gi* z-score of cell harm with queen neighbours including the
  cell itself, binary weights, zero-harm study cells counted (Getis & Ord 1992; Ord &
  Getis 1995). Matches ``esda.G_Local(star=True)`` z-scores.
* ``dbscan`` - the harm-spot DBSCAN (:class:`hotspots.spots.HarmSpotClusterer`: weighted
  scikit-learn DBSCAN, wide clusters split on the grid, hull polygons) with radius
  ``eps_m`` and a core needing ``dbscan_min_incidents`` times the mean incident harm
  within it; a spot covers the cells whose centre lies inside its polygon. Cells score
  their spot's harm (largest spot first), ties by the cell's own harm; cells outside
  every spot are unranked (random filler).
* ``promap`` - prospective hot-spotting for burglary (Johnson & Bowers 2004; Bowers,
  Johnson & Pease 2004): each incident of the last ``promap_weeks`` weeks adds
  ``1 / (1 + d) x 1 / (1 + t)`` to every cell whose centre lies within
  ``promap_radius_m`` (400 m), with ``d`` the distance in ``promap_band_m`` (50 m)
  bands, ``floor(distance / 50)``, and ``t`` the age in whole weeks.
* ``last_period`` - naive baseline: incidents in the period just before (the previous
  calendar month, or the previous horizon for weeks), ties by harm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from scipy import ndimage

from hotspots.evaluate.grid import StudyGrid

__all__ = ["METHODS", "Method", "MethodParams", "TrainingData", "score_cells"]

Method = Literal["harm_grid", "count_grid", "kde", "gistar", "dbscan", "promap", "last_period"]
METHODS: tuple[str, ...] = get_args(Method)

_NS_PER_DAY = 86_400 * 10**9


@dataclass(frozen=True)
class MethodParams:
    """Settings of the compared methods (metres and days)."""

    kde_bandwidth_m: float = 300.0
    eps_m: float = 150.0
    dbscan_min_incidents: float = 10.0
    promap_radius_m: float = 400.0
    promap_band_m: float = 50.0
    promap_weeks: int = 8


@dataclass(frozen=True)
class TrainingData:
    """The incidents a method may learn from (already limited to the scored offences).

    ``t_ns`` are UTC nanoseconds; ``origin_ns`` is the start of the forecast period and
    ``previous_ns`` the start of the period before it (the naive baseline's window).
    """

    x: np.ndarray
    y: np.ndarray
    t_ns: np.ndarray
    harm: np.ndarray
    cells: np.ndarray
    origin_ns: int
    previous_ns: int


def _harm_grid(grid: StudyGrid, d: TrainingData, p: MethodParams) -> tuple[np.ndarray, np.ndarray]:
    return grid.sum_by_cell(d.cells, d.harm), grid.sum_by_cell(d.cells)


def _count_grid(grid: StudyGrid, d: TrainingData, p: MethodParams) -> tuple[np.ndarray, np.ndarray]:
    return grid.sum_by_cell(d.cells), grid.sum_by_cell(d.cells, d.harm)


def _kde(grid: StudyGrid, d: TrainingData, p: MethodParams) -> tuple[np.ndarray, None]:
    dense = grid.to_dense(grid.sum_by_cell(d.cells))
    sigma = p.kde_bandwidth_m / grid.cell_m
    smooth = ndimage.gaussian_filter(dense, sigma=sigma, mode="constant", truncate=3.0)
    return grid.from_dense(smooth), None


def gistar_z(grid: StudyGrid, values: np.ndarray) -> np.ndarray:
    """Getis-Ord Gi* z per study cell, queen neighbours incl. self, binary weights.

    ``z_i = (sum_j w_ij x_j - xbar W_i) / (s sqrt((n W_i - W_i^2) / (n - 1)))`` with
    ``W_i`` the number of study cells in the 3 x 3 block around ``i`` and ``s`` the
    population standard deviation of ``x`` over the ``n`` study cells. Zero when ``s = 0``.
    """
    x = np.asarray(values, dtype="float64")
    n = x.size
    ones = np.ones((3, 3))
    local = grid.from_dense(ndimage.convolve(grid.to_dense(x), ones, mode="constant"))
    w = grid.from_dense(ndimage.convolve(grid.mask.astype("float64"), ones, mode="constant"))
    xbar = x.mean()
    s = np.sqrt(max((x**2).mean() - xbar**2, 0.0))
    if n < 2 or s == 0:
        return np.zeros(n)
    denom = s * np.sqrt(np.maximum(n * w - w**2, 0.0) / (n - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (local - xbar * w) / denom
    return np.where(np.isfinite(z), z, 0.0)


def _gistar(grid: StudyGrid, d: TrainingData, p: MethodParams) -> tuple[np.ndarray, np.ndarray]:
    harm = grid.sum_by_cell(d.cells, d.harm)
    return gistar_z(grid, harm), harm


def _dbscan(grid: StudyGrid, d: TrainingData, p: MethodParams) -> tuple[np.ndarray, np.ndarray]:
    import geopandas as gpd

    from hotspots.schema import HARM
    from hotspots.spots import HarmSpotClusterer

    own = grid.sum_by_cell(d.cells, d.harm)
    score = np.zeros(grid.n_cells)
    min_harm = p.dbscan_min_incidents * float(d.harm.mean()) if d.x.size else 0.0
    if min_harm <= 0:
        return score, own
    points = gpd.GeoDataFrame({HARM: d.harm}, geometry=gpd.points_from_xy(d.x, d.y), crs=grid.crs)
    spots = (
        HarmSpotClusterer(eps_m=p.eps_m, min_harm=min_harm, cell_m=grid.cell_m).fit(points).spots_
    )
    if len(spots) == 0:
        return score, own
    spot_harm = spots[HARM].to_numpy(dtype="float64")
    poly_idx, cell_idx = grid.centre_strtree().query(
        spots.geometry.to_numpy(), predicate="contains"
    )
    np.maximum.at(score, cell_idx, spot_harm[poly_idx])
    # own harm orders cells within a spot only; cells outside every spot stay unranked
    return score, np.where(score > 0, own, 0.0)


def _promap(grid: StudyGrid, d: TrainingData, p: MethodParams) -> tuple[np.ndarray, None]:
    score = np.zeros(grid.n_cells)
    age_days = (d.origin_ns - d.t_ns) / _NS_PER_DAY
    weeks = np.floor(age_days / 7.0)
    recent = (age_days > 0) & (weeks <= p.promap_weeks)
    if not recent.any():
        return score, None
    pts = np.column_stack([d.x[recent], d.y[recent]])
    hits = grid.centre_tree().query_ball_point(pts, r=p.promap_radius_m)
    lengths = np.fromiter((len(h) for h in hits), dtype="int64", count=len(hits))
    if lengths.sum() == 0:
        return score, None
    cells = np.concatenate([np.asarray(h, dtype="int64") for h in hits])
    event = np.repeat(np.arange(len(hits)), lengths)
    cx, cy = grid.centres
    dist = np.hypot(cx[cells] - pts[event, 0], cy[cells] - pts[event, 1])
    bands = np.floor(dist / p.promap_band_m)
    weight = 1.0 / (1.0 + bands) * 1.0 / (1.0 + weeks[recent][event])
    np.add.at(score, cells, weight)
    return score, None


def _last_period(
    grid: StudyGrid, d: TrainingData, p: MethodParams
) -> tuple[np.ndarray, np.ndarray]:
    last = d.t_ns >= d.previous_ns
    return grid.sum_by_cell(d.cells[last]), grid.sum_by_cell(d.cells[last], d.harm[last])


_SCORERS = {
    "harm_grid": _harm_grid,
    "count_grid": _count_grid,
    "kde": _kde,
    "gistar": _gistar,
    "dbscan": _dbscan,
    "promap": _promap,
    "last_period": _last_period,
}


def score_cells(
    method: str, grid: StudyGrid, data: TrainingData, params: MethodParams | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Score every study cell with ``method`` from the training data.

    Returns
    -------
    tuple
        ``(score, secondary)``: higher is hotter; ``secondary`` (or None) breaks ties.
    """
    return _SCORERS[method](grid, data, params or MethodParams())
