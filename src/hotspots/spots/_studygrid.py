"""The one study grid: equal square cells over the study area, shared by spots and evaluate.

Cells are ``cell_m`` squares on the fixed origin of the working CRS (cell ``(ix, iy)``
covers ``[ix * cell_m, (ix + 1) * cell_m) x [iy * cell_m, (iy + 1) * cell_m)``; a point
on an edge belongs to the cell to its east/north), the same cells as the harm-spot grid.

The study area is either the ``areas`` layer (cells whose centre lies inside it) or,
without areas, the data extent: cells whose centre lies inside the convex hull of all
incidents, plus every cell that holds an incident. Coverage levels are shares of
these cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from hotspots._validate import check_positive, require_metric_crs
from hotspots.errors import InputError
from hotspots.spots._grid import grid_cells

__all__ = ["StudyGrid", "grid_indices", "study_grid"]


def grid_indices(x: np.ndarray, y: np.ndarray, *, cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Integer cell indices ``(floor(x / cell_m), floor(y / cell_m))`` on the CRS origin.

    Identical to :func:`hotspots.spots.grid_cells`, so evaluation cells are spot cells.
    """
    check_positive(cell_m, name="cell_m")
    return grid_cells(np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64"), cell_m=cell_m)


@dataclass(frozen=True)
class StudyGrid:
    """Study-area cells held both as a list (``ix``, ``iy``) and inside a dense raster.

    Attributes
    ----------
    cell_m
        Cell side in metres.
    ix0, iy0, nx, ny
        The dense raster: column ``c`` is ``ix0 + c``, row ``r`` is ``iy0 + r``.
    lookup
        Dense raster (``ny x nx``) of study-cell numbers, -1 outside the study area.
    ix, iy
        Cell indices of the study cells, in raster order (row by row).
    crs
        Working CRS (metres).
    source
        ``"areas"`` or ``"data extent"``.
    """

    cell_m: float
    ix0: int
    iy0: int
    nx: int
    ny: int
    lookup: np.ndarray
    ix: np.ndarray
    iy: np.ndarray
    crs: CRS | None
    source: str
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_cells(self) -> int:
        """Number of study cells."""
        return int(self.ix.size)

    @property
    def area_km2(self) -> float:
        """Study area in square kilometres (cells x cell area)."""
        return self.n_cells * self.cell_m**2 / 1e6

    @property
    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell centre coordinates (metres)."""
        return (self.ix + 0.5) * self.cell_m, (self.iy + 0.5) * self.cell_m

    @property
    def mask(self) -> np.ndarray:
        """Dense boolean raster of the study area."""
        return self.lookup >= 0

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Study-cell number of each point, -1 when it lies outside the study area."""
        ix, iy = grid_indices(x, y, cell_m=self.cell_m)
        c, r = ix - self.ix0, iy - self.iy0
        inside = (c >= 0) & (c < self.nx) & (r >= 0) & (r < self.ny)
        out = np.full(ix.size, -1, dtype="int64")
        out[inside] = self.lookup[r[inside], c[inside]]
        return out

    def to_dense(self, values: np.ndarray) -> np.ndarray:
        """Per-cell values as a dense raster (zeros outside the study area)."""
        dense = np.zeros((self.ny, self.nx), dtype="float64")
        dense[self.iy - self.iy0, self.ix - self.ix0] = values
        return dense

    def from_dense(self, dense: np.ndarray) -> np.ndarray:
        """Values of a dense raster at the study cells."""
        return dense[self.iy - self.iy0, self.ix - self.ix0]

    def sum_by_cell(self, cells: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Sum ``weights`` (or count) per study cell; points with cell -1 are ignored."""
        keep = cells >= 0
        w = None if weights is None else np.asarray(weights, dtype="float64")[keep]
        return np.bincount(cells[keep], weights=w, minlength=self.n_cells).astype("float64")

    def centre_tree(self) -> Any:
        """k-d tree of cell centres (``scipy.spatial.cKDTree``, built once, then cached)."""
        if "kd" not in self._cache:
            from scipy.spatial import cKDTree

            x, y = self.centres
            self._cache["kd"] = cKDTree(np.column_stack([x, y]))
        return self._cache["kd"]

    def centre_strtree(self) -> shapely.STRtree:
        """Shapely STRtree of cell-centre points (built once, then cached)."""
        if "str" not in self._cache:
            x, y = self.centres
            self._cache["str"] = shapely.STRtree(shapely.points(x, y))
        return self._cache["str"]

    def polygons(self, cells: np.ndarray | None = None) -> np.ndarray:
        """Shapely squares of the given study cells (all when None)."""
        sel = np.arange(self.n_cells) if cells is None else np.asarray(cells)
        x0, y0 = self.ix[sel] * self.cell_m, self.iy[sel] * self.cell_m
        return shapely.box(x0, y0, x0 + self.cell_m, y0 + self.cell_m)


def study_grid(
    incidents: gpd.GeoDataFrame,
    *,
    cell_m: float = 150.0,
    areas: gpd.GeoDataFrame | None = None,
    name: str | None = None,
) -> StudyGrid:
    """Build the study grid for ``incidents`` (see the module notes for the study area).

    Parameters
    ----------
    incidents
        Points in a projected CRS in metres (all incidents, not only the scored ones,
        so that every method and period shares one grid).
    cell_m
        Cell side in metres (default 150).
    areas
        Optional polygons (``hotspots.areas.read_areas``) defining the study area.
    name
        What the study area is, recorded as ``source`` (default ``"areas"`` or
        ``"data extent"``), e.g. a :class:`hotspots.studyarea.StudyArea`'s name.

    Raises
    ------
    CRSError
        The layers are not in a metric CRS.
    InputError
        No incidents, or the areas hold no cell centre.
    """
    require_metric_crs(incidents, what="incidents")
    check_positive(cell_m, name="cell_m")
    if len(incidents) == 0:
        msg = "No incidents to build the study grid from; check the input and --offences."
        raise InputError(msg)
    x = incidents.geometry.x.to_numpy()
    y = incidents.geometry.y.to_numpy()
    if areas is not None:
        require_metric_crs(areas, what="areas")
        region = shapely.union_all(areas.geometry.to_numpy())
        xmin, ymin, xmax, ymax = region.bounds
        source = "areas"
    else:
        region = shapely.MultiPoint(np.column_stack([x, y])).convex_hull
        xmin, ymin, xmax, ymax = x.min(), y.min(), x.max(), y.max()
        source = "data extent"
    (ix0, ix1), (iy0, iy1) = grid_indices(
        np.array([xmin, xmax]), np.array([ymin, ymax]), cell_m=cell_m
    )
    nx, ny = int(ix1 - ix0 + 1), int(iy1 - iy0 + 1)
    cols, rows = np.meshgrid(np.arange(nx), np.arange(ny))
    cx = (ix0 + cols.ravel() + 0.5) * cell_m
    cy = (iy0 + rows.ravel() + 0.5) * cell_m
    shapely.prepare(region)
    inside = shapely.contains_xy(region, cx, cy).reshape(ny, nx)
    if areas is None:  # every cell holding an incident is part of the data extent
        px, py = grid_indices(x, y, cell_m=cell_m)
        inside[py - iy0, px - ix0] = True
    if not inside.any():
        msg = (
            f"The areas layer contains no {cell_m:g} m cell centre; check that it covers the "
            "incidents or use a smaller --cell-m."
        )
        raise InputError(msg)
    lookup = np.full((ny, nx), -1, dtype="int64")
    r, c = np.nonzero(inside)
    lookup[r, c] = np.arange(r.size)
    return StudyGrid(
        cell_m=float(cell_m),
        ix0=int(ix0),
        iy0=int(iy0),
        nx=nx,
        ny=ny,
        lookup=lookup,
        ix=(ix0 + c).astype("int64"),
        iy=(iy0 + r).astype("int64"),
        crs=incidents.crs,
        source=name or source,
    )
