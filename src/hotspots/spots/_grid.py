"""Fixed-origin square and hexagonal grids: cell indices, readable ids and polygons.

Both grids hang from the CRS origin (0, 0), never from the data's extent, so a cell keeps
its index and id from one week's run to the next (the basis of ``new``/``persisting``
status). Square cells follow Weisburd's micro-place tradition (Essex's Grip harm spots are
150 m x 150 m); hexagons have the same area as the square cell.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from hotspots._validate import check_positive
from hotspots.config import CELL_M

__all__ = [
    "bng_reference",
    "cell_ids",
    "cell_polygons",
    "grid_cells",
    "hex_cells",
    "hex_centres",
    "hex_ids",
    "hex_polygons",
    "hex_side_m",
]

_BNG_EPSG = 27700
_BNG_MAX_E = 700_000
_BNG_MAX_N = 1_300_000


def grid_cells(
    x: np.ndarray, y: np.ndarray, *, cell_m: float = CELL_M
) -> tuple[np.ndarray, np.ndarray]:
    """Integer column/row of the square cell holding each point.

    Cells are ``cell_m`` wide on a fixed origin at (0, 0) of the CRS:
    ``ix = floor(x / cell_m)``, ``iy = floor(y / cell_m)``. A point exactly on a cell edge
    therefore belongs to the cell to its east (vertical edge) or north (horizontal edge).

    Parameters
    ----------
    x, y
        Coordinates in metres (a projected CRS).
    cell_m
        Cell side in metres (default 150).

    Returns
    -------
    tuple of numpy.ndarray
        ``(ix, iy)`` as int64.

    Examples
    --------
    >>> grid_cells(np.array([150.0, 149.9]), np.array([0.0, -0.1]), cell_m=150)
    (array([1, 0]), array([ 0, -1]))
    """
    check_positive(cell_m, name="cell_m")
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    return np.floor(x / cell_m).astype("int64"), np.floor(y / cell_m).astype("int64")


def _is_bng(crs: object) -> bool:
    if crs is None:
        return False
    try:
        return CRS.from_user_input(crs).to_epsg() == _BNG_EPSG
    except Exception:  # noqa: BLE001 - anything unparseable is simply not BNG
        return False


def bng_reference(easting: np.ndarray, northing: np.ndarray, *, digits: int) -> np.ndarray:
    """British National Grid references such as ``TQ8123_9045`` (``digits`` per axis).

    ``digits=4`` is a 10 m reference, 5 a 1 m reference. Points outside the grid's
    700 km x 1300 km extent get an empty string.
    """
    e = np.asarray(easting, dtype="float64")
    n = np.asarray(northing, dtype="float64")
    inside = (e >= 0) & (e < _BNG_MAX_E) & (n >= 0) & (n < _BNG_MAX_N)
    e = np.where(inside, e, 0.0)
    n = np.where(inside, n, 0.0)
    e100k = np.floor(e / 100_000).astype("int64")
    n100k = np.floor(n / 100_000).astype("int64")
    l1 = (19 - n100k) - (19 - n100k) % 5 + (e100k + 10) // 5
    l2 = ((19 - n100k) * 5) % 25 + e100k % 5
    l1 = l1 + (l1 > 7)  # the grid letters skip I
    l2 = l2 + (l2 > 7)
    scale = 10 ** (5 - digits)
    ee = (np.floor(e % 100_000 / scale)).astype("int64")
    nn = (np.floor(n % 100_000 / scale)).astype("int64")
    letters = pd.Series(l1 + 65).map(chr).str.cat(pd.Series(l2 + 65).map(chr))
    out = (
        letters
        + pd.Series(ee).astype(str).str.zfill(digits)
        + "_"
        + pd.Series(nn).astype(str).str.zfill(digits)
    )
    return np.where(inside, out.to_numpy(dtype=object), "")


def _digits_for(step_m: float) -> int | None:
    """Reference digits that keep corners ``step_m`` apart distinct (None: not possible)."""
    if step_m >= 10 and float(step_m).is_integer() and int(step_m) % 10 == 0:
        return 4
    if step_m >= 1 and float(step_m).is_integer():
        return 5
    return None


def cell_ids(ix: np.ndarray, iy: np.ndarray, *, cell_m: float, crs: object) -> np.ndarray:
    """Readable, stable ids of square cells.

    In British National Grid (EPSG:27700) the id is the grid reference of the cell's
    south-west corner, e.g. ``TQ8115_9045`` (10 m digits when ``cell_m`` is a multiple of
    10, else 1 m digits). Elsewhere, or when a BNG reference cannot be unique, it is the
    index pair ``x<ix>_y<iy>``.

    Examples
    --------
    >>> cell_ids(np.array([3875]), np.array([1263]), cell_m=150.0, crs=27700).tolist()
    ['TQ8125_8945']
    """
    ix = np.asarray(ix, dtype="int64")
    iy = np.asarray(iy, dtype="int64")
    fallback = ("x" + pd.Series(ix).astype(str) + "_y" + pd.Series(iy).astype(str)).to_numpy(
        dtype=object
    )
    digits = _digits_for(cell_m)
    if not _is_bng(crs) or digits is None or len(ix) == 0:
        return fallback
    refs = bng_reference(ix * cell_m, iy * cell_m, digits=digits)
    return np.where(refs == "", fallback, refs)


def cell_polygons(ix: np.ndarray, iy: np.ndarray, *, cell_m: float) -> np.ndarray:
    """Square cells as shapely polygons (array), from their integer indices."""
    ix = np.asarray(ix, dtype="float64")
    iy = np.asarray(iy, dtype="float64")
    return shapely.box(ix * cell_m, iy * cell_m, (ix + 1) * cell_m, (iy + 1) * cell_m)


# ---------------------------------------------------------------- hexagons
def hex_side_m(cell_m: float) -> float:
    """Side (= circumradius) of the hexagon whose area equals a ``cell_m`` square."""
    return math.sqrt(2.0 * cell_m * cell_m / (3.0 * math.sqrt(3.0)))


def hex_cells(
    x: np.ndarray, y: np.ndarray, *, cell_m: float = CELL_M
) -> tuple[np.ndarray, np.ndarray]:
    """Axial ``(q, r)`` of the pointy-top hexagon holding each point.

    Hexagons have the area of a ``cell_m`` square and a fixed origin: hexagon (0, 0) is
    centred on (0, 0) of the CRS; centres sit at ``x = (q + r/2) * sqrt(3) * s``,
    ``y = 1.5 * r * s`` with ``s`` the side. Each point goes to the nearest centre; a
    point exactly on an edge goes to the hexagon whose centre lies further north, then
    further east.
    """
    check_positive(cell_m, name="cell_m")
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    s = hex_side_m(cell_m)
    w, h = math.sqrt(3.0) * s, 3.0 * s
    # the hexagon centres are the union of two rectangular lattices, A and B (offset half)
    ia, ja = np.floor(x / w + 0.5), np.floor(y / h + 0.5)
    ib, jb = np.floor(x / w), np.floor(y / h)
    ax, ay = ia * w, ja * h
    bx, by = (ib + 0.5) * w, (jb + 0.5) * h
    da = (x - ax) ** 2 + (y - ay) ** 2
    db = (x - bx) ** 2 + (y - by) ** 2
    tie = np.isclose(da, db, rtol=1e-12, atol=1e-9)
    use_b = np.where(tie, (by > ay) | ((by == ay) & (bx > ax)), db < da)
    r = np.where(use_b, 2 * jb + 1, 2 * ja).astype("int64")
    q = np.where(use_b, ib - jb, ia - ja).astype("int64")
    return q, r


def hex_centres(q: np.ndarray, r: np.ndarray, *, cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Centre coordinates of axial hexagons."""
    s = hex_side_m(cell_m)
    q = np.asarray(q, dtype="float64")
    r = np.asarray(r, dtype="float64")
    return (q + r / 2.0) * math.sqrt(3.0) * s, 1.5 * r * s


def hex_polygons(q: np.ndarray, r: np.ndarray, *, cell_m: float) -> np.ndarray:
    """Pointy-top hexagons as shapely polygons (array), from axial indices."""
    cx, cy = hex_centres(q, r, cell_m=cell_m)
    s = hex_side_m(cell_m)
    angles = np.deg2rad(30.0 + 60.0 * np.arange(7))  # closed ring, counter-clockwise
    xs = cx[:, None] + s * np.cos(angles)[None, :]
    ys = cy[:, None] + s * np.sin(angles)[None, :]
    return shapely.polygons(np.stack([xs, ys], axis=-1))


def hex_ids(q: np.ndarray, r: np.ndarray, *, cell_m: float, crs: object) -> np.ndarray:
    """Readable, stable hexagon ids.

    ``H`` + the 10 m BNG reference of the centre in EPSG:27700 (e.g. ``HTQ8123_9045``),
    else ``q<q>_r<r>``.
    """
    q = np.asarray(q, dtype="int64")
    r = np.asarray(r, dtype="int64")
    fallback = ("q" + pd.Series(q).astype(str) + "_r" + pd.Series(r).astype(str)).to_numpy(
        dtype=object
    )
    # centres are at least sqrt(3)*side apart; 10 m digits stay unique above ~25 m cells
    if not _is_bng(crs) or len(q) == 0 or math.sqrt(3.0) * hex_side_m(cell_m) < 30:
        return fallback
    cx, cy = hex_centres(q, r, cell_m=cell_m)
    refs = bng_reference(np.round(cx), np.round(cy), digits=4)
    return np.where(refs == "", fallback, "H" + refs.astype(str)).astype(object)
