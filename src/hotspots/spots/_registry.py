"""The one registry of spot methods: name -> rule, shared by ``spots``, ``weekly`` and ``evaluate``.

Every rule scores the cells of one :class:`~hotspots.spots.StudyGrid` from a training
window (:class:`TrainingData`) and returns ``(score, secondary)``: higher scores are
chosen first, ``secondary`` (or None) breaks ties, cells at the lowest score are
"unranked" (the backtest fills them in seeded random order). Deployable rules are the
ones ``find_spots`` can run under the same name; the others are evaluation baselines.

Deployable rules (what the weekly run picks, expressed per study cell):

* ``grid`` - summed harm per cell, ties by count (the deployed ranking: harm, then
  incidents).
* ``hex`` - a cell scores the harm of the hexagon (same area) holding its centre.
* ``dbscan`` - the harm-spot DBSCAN (:class:`hotspots.spots.HarmSpotClusterer`) with
  ``eps_m`` and ``min_harm``, exactly as ``find_spots``; a spot covers the cells whose
  centre lies inside its polygon and those cells score its harm (largest spot first),
  ties by the cell's own harm; cells outside every spot are unranked.
* ``gistar`` - the deployed Gi* rule (:func:`hotspots.spots.gi_star_dense`): cells hot
  and significant under Benjamini-Hochberg at ``fdr_alpha`` score their harm; all other
  cells are unranked (Getis & Ord 1992; Ord & Getis 1995).

Baselines:

* ``count_grid`` - incidents per cell (ties by harm).
* ``kde`` - Gaussian kernel density: cell counts smoothed with a Gaussian of standard
  deviation ``kde_bandwidth_m`` (default 300 m), truncated at 3 standard deviations
  (Chainey, Tompson & Uhlig 2008).
* ``promap`` - prospective hot-spotting for burglary (Johnson & Bowers 2004): each
  incident of the last ``promap_weeks`` weeks adds ``1 / (1 + d) x 1 / (1 + t)`` to every
  cell whose centre lies within ``promap_radius_m``, ``d`` in ``promap_band_m`` bands and
  ``t`` the age in whole weeks.
* ``last_period`` - incidents in the period just before (ties by harm).

Adding a method: write its module with a cell scorer (and, to deploy it, a unit builder
``build(window, UnitOptions) -> Units``), register both here with :func:`register` (one
line), add the name to ``spots._inputs.Method`` (the typing ``Literal``; a test checks the
two agree), and its test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from hotspots.config import EPS_M, FDR_ALPHA, GISTAR_PERMUTATIONS, MIN_HARM, SEED
from hotspots.spots._studygrid import StudyGrid
from hotspots.spots._units import (
    UnitOptions,
    Units,
    dbscan_units,
    gistar_units,
    grid_units,
    hex_units,
)

__all__ = [
    "BASELINES",
    "DEPLOYABLE",
    "RULES",
    "MethodParams",
    "SpotRule",
    "TrainingData",
    "register",
    "score_cells",
]

_NS_PER_DAY = 86_400 * 10**9


@dataclass(frozen=True)
class MethodParams:
    """Settings of the rules (metres and days); defaults are the weekly run's constants."""

    eps_m: float = EPS_M
    min_harm: float = MIN_HARM
    fdr_alpha: float = FDR_ALPHA
    gistar_permutations: int = GISTAR_PERMUTATIONS
    seed: int = SEED
    kde_bandwidth_m: float = 300.0
    promap_radius_m: float = 400.0
    promap_band_m: float = 50.0
    promap_weeks: int = 8


@dataclass(frozen=True)
class TrainingData:
    """The incidents a rule may learn from (already limited to the scored offences).

    ``t_ns`` are UTC nanoseconds; ``origin_ns`` is the start of the forecast period and
    ``previous_ns`` the start of the period before it (the naive baseline's window);
    ``cells`` is the study cell of each incident (-1 outside).
    """

    x: np.ndarray
    y: np.ndarray
    t_ns: np.ndarray
    harm: np.ndarray
    cells: np.ndarray
    origin_ns: int
    previous_ns: int


Scorer = Callable[[StudyGrid, TrainingData, MethodParams], tuple[np.ndarray, np.ndarray | None]]
Builder = Callable[[Any, UnitOptions], Units]


@dataclass(frozen=True)
class SpotRule:
    """One registered spot method.

    ``score`` ranks study cells (evaluate); ``build`` (deployable methods only) makes the
    places ``find_spots`` ranks and selects, from one window of weighted incidents.
    """

    name: str
    score: Scorer
    build: Builder | None
    summary: str

    @property
    def deployable(self) -> bool:
        """Whether ``find_spots`` (and so the weekly run) can deploy this method."""
        return self.build is not None


RULES: dict[str, SpotRule] = {}


def register(
    name: str, *, summary: str, build: Builder | None = None
) -> Callable[[Scorer], Scorer]:
    """Register the cell scorer (and, for a deployable method, the unit builder) of ``name``."""

    def wrap(scorer: Scorer) -> Scorer:
        RULES[name] = SpotRule(name=name, score=scorer, build=build, summary=summary)
        return scorer

    return wrap


def score_cells(
    method: str, grid: StudyGrid, data: TrainingData, params: MethodParams | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Score every study cell with the registered rule ``method``.

    Returns
    -------
    tuple
        ``(score, secondary)``: higher is hotter; ``secondary`` (or None) breaks ties.

    Raises
    ------
    OptionError
        ``method`` is not registered (the message lists the names).
    """
    from hotspots._validate import check_choice

    check_choice(method, tuple(RULES), name="method")
    return RULES[method].score(grid, data, params or MethodParams())


@register("grid", build=grid_units, summary="summed harm per cell")
def _grid(grid: StudyGrid, d: TrainingData, p: MethodParams) -> tuple[np.ndarray, np.ndarray]:
    return grid.sum_by_cell(d.cells, d.harm), grid.sum_by_cell(d.cells)


@register("hex", build=hex_units, summary="summed harm per hexagon of the cell's centre")
def _hex(grid: StudyGrid, d: TrainingData, p: MethodParams) -> tuple[np.ndarray, np.ndarray]:
    from hotspots.spots._grid import hex_cells

    own = grid.sum_by_cell(d.cells, d.harm)
    score = np.zeros(grid.n_cells)
    if d.x.size == 0:
        return score, own
    q, r = hex_cells(d.x, d.y, cell_m=grid.cell_m)
    cq, cr = hex_cells(*grid.centres, cell_m=grid.cell_m)
    keys = np.concatenate([q + 1j * r, cq + 1j * cr])
    uniq, inv = np.unique(keys, return_inverse=True)
    hex_harm = np.bincount(inv[: q.size], weights=d.harm, minlength=uniq.size)
    return hex_harm[inv[q.size :]], own


@register("dbscan", build=dbscan_units, summary="harm-weighted DBSCAN spots (find_spots)")
def _dbscan(grid: StudyGrid, d: TrainingData, p: MethodParams) -> tuple[np.ndarray, np.ndarray]:
    import geopandas as gpd

    from hotspots.schema import HARM
    from hotspots.spots._dbscan import HarmSpotClusterer

    own = grid.sum_by_cell(d.cells, d.harm)
    score = np.zeros(grid.n_cells)
    if d.x.size == 0:
        return score, own
    points = gpd.GeoDataFrame({HARM: d.harm}, geometry=gpd.points_from_xy(d.x, d.y), crs=grid.crs)
    fitted = HarmSpotClusterer(eps_m=p.eps_m, min_harm=p.min_harm, cell_m=grid.cell_m)
    spots = fitted.fit(points).spots_
    if len(spots) == 0:
        return score, own
    spot_harm = spots[HARM].to_numpy(dtype="float64")
    poly_idx, cell_idx = grid.centre_strtree().query(
        spots.geometry.to_numpy(), predicate="contains"
    )
    np.maximum.at(score, cell_idx, spot_harm[poly_idx])
    # own harm orders cells within a spot only; cells outside every spot stay unranked
    return score, np.where(score > 0, own, 0.0)


@register("gistar", build=gistar_units, summary="FDR-significant Gi* hot cells ranked by harm")
def _gistar(grid: StudyGrid, d: TrainingData, p: MethodParams) -> tuple[np.ndarray, np.ndarray]:
    from hotspots.spots._gistar import gi_star_dense

    harm = grid.sum_by_cell(d.cells, d.harm)
    res = gi_star_dense(
        grid.to_dense(harm),
        grid.mask,
        x0=grid.ix0,
        y0=grid.iy0,
        permutations=p.gistar_permutations,
        fdr_alpha=p.fdr_alpha,
        seed=p.seed,
    )
    # gi_star_dense lists the study cells row by row, the grid's own order
    hot = res.significant
    counts = grid.sum_by_cell(d.cells)
    return np.where(hot, harm, 0.0), np.where(hot, counts, 0.0)


@register("count_grid", summary="incidents per cell")
def _count_grid(grid: StudyGrid, d: TrainingData, p: MethodParams) -> tuple[np.ndarray, np.ndarray]:
    return grid.sum_by_cell(d.cells), grid.sum_by_cell(d.cells, d.harm)


@register("kde", summary="Gaussian kernel density of incidents")
def _kde(grid: StudyGrid, d: TrainingData, p: MethodParams) -> tuple[np.ndarray, None]:
    from scipy import ndimage

    dense = grid.to_dense(grid.sum_by_cell(d.cells))
    sigma = p.kde_bandwidth_m / grid.cell_m
    smooth = ndimage.gaussian_filter(dense, sigma=sigma, mode="constant", truncate=3.0)
    return grid.from_dense(smooth), None


@register("promap", summary="prospective hot-spotting (burglary)")
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


@register("last_period", summary="incidents in the previous period")
def _last_period(
    grid: StudyGrid, d: TrainingData, p: MethodParams
) -> tuple[np.ndarray, np.ndarray]:
    last = d.t_ns >= d.previous_ns
    return grid.sum_by_cell(d.cells[last]), grid.sum_by_cell(d.cells[last], d.harm[last])


DEPLOYABLE: tuple[str, ...] = tuple(k for k, r in RULES.items() if r.deployable)
BASELINES: tuple[str, ...] = tuple(k for k, r in RULES.items() if not r.deployable)
