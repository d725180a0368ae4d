"""Places without a boundary file: districts from police.uk LSOA names, and a study area.

Every police.uk row names its LSOA (``"Amber Valley 005E"``); without the trailing code
that is the local-authority district. Forces record a few crimes outside their area
(a Kent record in Salford, a handful in the neighbouring boroughs), so the study area is
never the hull of every record. The rule, in three steps:

1. **Force districts.** A district holding at least ``min_share`` (default 0.5%) of the
   force's located records is one of the force's districts. Records of other districts
   are **strays** (reason ``outside_force_districts``).
2. **Far-off records.** Within a force district, records in a ``cell_m`` (1 km) cell with
   no other cell of the same district within ``stray_m`` (default 15 km) are strays too
   (reason ``far_from_district``): a mis-geocoded point must not stretch the district.
3. **District shapes.** Each district is the convex hull of its remaining points,
   intersected with its occupied ``cell_m`` cells grown by ``grow_m`` (default 3 km),
   which trims sea, estuaries and empty moor from the hull. The study area is the union
   of the districts; its size is given in km² with its name wherever a share of area is.
   Hulls of neighbours overlap (Harlow lies inside Epping Forest's hull), so the study
   area is then split between districts on a ``partition_m`` (250 m) grid, each cell to
   the district of the nearest record: the districts never overlap and an incident's
   district polygon is, almost always, the district its LSOA name says.

How it was checked (``tests/test_studyarea.py``, realdata): on the six police.uk forces
of 2025 in ``../shared/data/police_uk`` the study area is within 20% of the force's
published area (ONS standard area measurement, km²) and never smaller than the union of
the force LSOAs' own point hulls (the area the districts' LSOA points cover, a strict
lower bound, about half the real area because LSOA edges lie beyond their snap points):

=================== ======== ========= ======= ==================== ========
force               study    published diff    LSOA point hulls     strays
=================== ======== ========= ======= ==================== ========
Essex               3,577    3,670     -2.5%   1,757                155
Devon and Cornwall  11,059   10,270    +7.7%   5,115                625
Hampshire           4,327    4,150     +4.3%   2,143                99
Lancashire          2,663    3,075     -13.4%  1,403                507
Northumbria         4,858    5,555     -12.5%  2,721                118
Sussex              3,726    3,790     -1.7%   1,892                555
=================== ======== ========= ======= ==================== ========

Essex's real force boundary (``essex_police_force_area.geojson``) is 3,677 km²: -2.7%.
Sparse uplands (Bowland, the Cheviots) are where the study area falls short.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from hotspots._validate import check_positive, require_metric_crs
from hotspots.errors import SchemaError
from hotspots.schema import AREA_NAME, LSOA_NAME

__all__ = [
    "STRAY_REASONS",
    "StudyArea",
    "district_of_lsoa_name",
    "study_area_from_lsoa_names",
]

STRAY_REASONS = ("outside_force_districts", "far_from_district")
_LSOA_SUFFIX = r"\s+\d{3}[A-Z]$"  # " 005E": the LSOA's number and letter in its district


def district_of_lsoa_name(names: pd.Series) -> pd.Series:
    """District of each police.uk LSOA name: the name without its trailing ``" 005E"``.

    Missing names stay missing.

    Examples
    --------
    >>> district_of_lsoa_name(pd.Series(["Amber Valley 005E", "Basildon 001A", None])).tolist()
    ['Amber Valley', 'Basildon', <NA>]
    """
    text = pd.Series(names, copy=True).astype("string").str.strip()
    return text.str.replace(_LSOA_SUFFIX, "", regex=True).replace("", pd.NA)


@dataclass(frozen=True)
class StudyArea:
    """The force's own geography built from its records (see the module notes).

    Attributes
    ----------
    name
        What the area is, e.g. ``"force districts from police.uk LSOA names (14)"``.
    geometry
        Union of the district shapes (working CRS, metres).
    area_km2
        Its size.
    districts
        One row per force district: ``area`` (district name), ``n_records``, ``share``
        (of located records) and its shape; usable as ``find_spots(areas=...)``.
    district
        District of each input record (``<NA>`` for strays and records without a name).
    stray, stray_reason
        Per input record: True for strays, and the reason (one of :data:`STRAY_REASONS`,
        ``""`` otherwise).
    """

    name: str
    geometry: object
    area_km2: float
    districts: gpd.GeoDataFrame
    district: pd.Series
    stray: np.ndarray
    stray_reason: np.ndarray

    @property
    def n_strays(self) -> int:
        """Number of stray records."""
        return int(self.stray.sum())

    @property
    def text(self) -> str:
        """``"force districts from police.uk LSOA names (14), 3,525.1 km²"``."""
        return f"{self.name}, {self.area_km2:,.1f} km²"

    def note(self) -> str:
        """One line for the run's notes: the study area and the strays left out of it."""
        counts = pd.Series(self.stray_reason[self.stray]).value_counts()
        parts = ", ".join(f"{int(n)} {why.replace('_', ' ')}" for why, n in counts.items())
        strays = f"; {self.n_strays} stray records kept out of it ({parts})" if parts else ""
        return f"Study area: {self.text}{strays}."


def study_area_from_lsoa_names(
    incidents: gpd.GeoDataFrame,
    *,
    lsoa_names: pd.Series | None = None,
    min_share: float = 0.005,
    cell_m: float = 1000.0,
    grow_m: float = 3000.0,
    stray_m: float = 15000.0,
    partition_m: float = 250.0,
) -> StudyArea:
    """Districts from police.uk LSOA names, strays flagged, and the study area.

    Parameters
    ----------
    incidents
        Points in a metric CRS (rows without a geometry are ignored and never strays).
    lsoa_names
        LSOA name of each row (default: the ``lsoa_name`` column).
    min_share
        Share of located records a district needs to be one of the force's (default
        0.005, 0.5%).
    cell_m, grow_m, stray_m
        Cell side for the occupied-cell mask (1000 m), how far that mask is grown
        (3000 m), and the gap that makes a cell far from the rest of its district (15 km).
    partition_m
        Cell side of the grid that splits the study area between districts (250 m).

    Returns
    -------
    StudyArea

    Raises
    ------
    SchemaError
        No LSOA names (neither ``lsoa_names`` nor an ``lsoa_name`` column).
    CRSError
        Incidents not in a metric CRS.

    Examples
    --------
    >>> pts = gpd.GeoDataFrame({"lsoa_name": ["Town 001A"] * 3 + ["Far 001A"]},
    ...     geometry=gpd.points_from_xy([0, 900, 0, 90_000], [0, 0, 900, 0]), crs=27700)
    >>> area = study_area_from_lsoa_names(pts, min_share=0.3)
    >>> area.n_strays, area.districts["area"].tolist()
    (1, ['Town'])
    """
    require_metric_crs(incidents, what="incidents")
    check_positive(min_share, name="min_share")
    check_positive(cell_m, name="cell_m")
    check_positive(grow_m, name="grow_m", allow_zero=True)
    check_positive(stray_m, name="stray_m")
    if lsoa_names is None:
        if LSOA_NAME not in incidents.columns:
            msg = (
                f"incidents have no {LSOA_NAME!r} column, so districts cannot be named; "
                "read police.uk files keeping 'LSOA name', or pass an areas layer (--areas)."
            )
            raise SchemaError(msg)
        lsoa_names = incidents[LSOA_NAME]
    names = district_of_lsoa_name(pd.Series(np.asarray(lsoa_names, dtype=object)))
    geom = incidents.geometry
    located = (geom.notna() & ~geom.is_empty).to_numpy()
    xy = np.full((len(incidents), 2), np.nan)
    if located.any():
        xy[located] = shapely.get_coordinates(geom.to_numpy()[located])
    named = located & names.notna().to_numpy()
    share = names[named].value_counts() / max(int(located.sum()), 1)
    force = sorted(share[share >= min_share].index.tolist())
    reason = np.repeat(np.array([""], dtype=object), len(incidents))
    outside = named & ~names.isin(force).to_numpy()
    reason[outside] = STRAY_REASONS[0]
    cells = np.floor(xy / cell_m)
    name_arr = names.fillna("").to_numpy(dtype=object)
    for d in force:
        rows = np.flatnonzero(named & (name_arr == d))
        uniq, inverse = np.unique(cells[rows], axis=0, return_inverse=True)
        if len(uniq) < 2:
            continue
        gap, _ = cKDTree((uniq + 0.5) * cell_m).query((uniq + 0.5) * cell_m, k=2)
        lonely = gap[:, 1] > stray_m
        # a lonely cell is stray only if it holds a small part of the district's records
        held = np.bincount(inverse.ravel(), minlength=len(uniq)) / len(rows)
        far = lonely & (held < 0.01)
        reason[rows[far[inverse.ravel()]]] = STRAY_REASONS[1]
    stray = reason != ""
    district = names.copy()
    district[stray] = pd.NA
    shapes, counts = [], []
    for d in force:
        pts = xy[named & ~stray & (name_arr == d)]
        counts.append(len(pts))
        shapes.append(_district_shape(pts, cell_m=cell_m, grow_m=grow_m))
    union = shapely.union_all(shapes) if shapes else None
    keep = named & ~stray
    if union is not None and len(force) > 1:
        shapes = _partition(union, xy[keep], name_arr[keep], force, cell_m=partition_m)
    districts = gpd.GeoDataFrame(
        {
            AREA_NAME: force,
            "n_records": np.array(counts, dtype="int64"),
            "share": np.array(counts, dtype="float64") / max(int(located.sum()), 1),
        },
        geometry=shapes,
        crs=incidents.crs,
    )
    area_km2 = float(union.area) / 1e6 if union is not None else 0.0
    return StudyArea(
        name=f"force districts from police.uk LSOA names ({len(force)})",
        geometry=union,
        area_km2=area_km2,
        districts=districts,
        district=district,
        stray=stray,
        stray_reason=reason,
    )


def _partition(
    union: object, xy: np.ndarray, names: np.ndarray, force: list[str], *, cell_m: float
) -> list[object]:
    """Split ``union`` between the districts by nearest record, cell by cell.

    Each ``cell_m`` cell goes to the district of the nearest record, so the district
    shapes never overlap and together cover the union.
    """
    minx, miny, maxx, maxy = shapely.bounds(union)
    gx = np.arange(np.floor(minx / cell_m), np.ceil(maxx / cell_m)) * cell_m
    gy = np.arange(np.floor(miny / cell_m), np.ceil(maxy / cell_m)) * cell_m
    xx, yy = np.meshgrid(gx, gy)
    x0, y0 = xx.ravel(), yy.ravel()
    boxes = shapely.box(x0, y0, x0 + cell_m, y0 + cell_m)
    shapely.prepare(union)
    inside = shapely.intersects(union, boxes)
    boxes, x0, y0 = boxes[inside], x0[inside], y0[inside]
    uniq, first = np.unique(xy, axis=0, return_index=True)
    _, nearest = cKDTree(uniq).query(np.column_stack([x0 + cell_m / 2, y0 + cell_m / 2]))
    owner = names[first][nearest]
    parts = []
    for d in force:
        mine = boxes[owner == d]
        cover = shapely.coverage_union_all(mine) if len(mine) else shapely.Polygon()
        parts.append(shapely.intersection(cover, union))
    return parts


def _district_shape(xy: np.ndarray, *, cell_m: float, grow_m: float) -> object:
    """Convex hull of the points cut to their occupied cells grown by ``grow_m``."""
    uniq = np.unique(xy, axis=0)
    if len(uniq) == 0:
        return shapely.Polygon()
    hull = shapely.convex_hull(shapely.multipoints(uniq))
    cells = np.unique(np.floor(uniq / cell_m), axis=0) * cell_m
    boxes = shapely.box(cells[:, 0], cells[:, 1], cells[:, 0] + cell_m, cells[:, 1] + cell_m)
    grown = shapely.buffer(shapely.union_all(boxes), grow_m, quad_segs=4)
    shape = shapely.intersection(hull, grown)
    if shape.area == 0:  # one point or a line of points: the occupied cells themselves
        shape = shapely.union_all(boxes)
    return shape
