"""Coordinates from table columns: find the pair, detect the CRS, project to metres.

Shared by the incident reader and by cocoon's address reader. The result is one point
per row in the working CRS (``None`` where the row has no usable location) and a reason
code per row, so callers can reject rows with a reason instead of dropping them.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as PyprojCRSError

from hotspots.crs import BNG, WGS84, detect_coordinate_kind, working_crs_for
from hotspots.errors import CRSError, InputError, OptionError, SchemaError

__all__ = [
    "read_vector_points",
    "COORDINATE_PAIRS",
    "OUTSIDE_AREA",
    "CoordinateResult",
    "locate",
    "outside_working_area",
    "points_from_columns",
]

# Recognised (x, y) column-name pairs, matched case-insensitively, in order of preference:
# lon/lat pairs first because their CRS is unambiguous (a file often has both).
COORDINATE_PAIRS: tuple[tuple[str, str], ...] = (
    ("longitude", "latitude"),
    ("long", "lat"),
    ("lon", "lat"),
    ("lng", "lat"),
    ("easting", "northing"),
    ("eastings", "northings"),
    ("x", "y"),
    ("x_coord_cd", "y_coord_cd"),
    ("x_coordinate", "y_coordinate"),
    ("point_x", "point_y"),
    ("xcoord", "ycoord"),
)

_LONLAT_PAIRS = frozenset(COORDINATE_PAIRS[:4])
# British National Grid's true extent in metres (projected values inside it are assumed BNG)
_BNG_X = (0.0, 700_000.0)
_BNG_Y = (0.0, 1_300_000.0)
# a projected point may lie this far (degrees) outside its CRS's area of use
_AREA_MARGIN_DEG = 2.0
# points used to choose the working CRS (BNG or a UTM zone)
_CRS_SAMPLE = 20_000
# build each distinct place once when there are fewer places than this share of rows
_REPEAT_SHARE = 0.7
# a minority this small of rows that do not fit the detected kind is rejected, not fatal
_MINORITY_SHARE = 0.01
# projected values are British National Grid when more than this share lie in its extent
_BULK_SHARE = 0.5

NO_LOCATION = "no_location"
OUT_OF_RANGE = "coordinates_out_of_range"
ZERO = "coordinates_zero"
OUTSIDE_AREA = "outside_area"
# a working CRS other than BNG accepts points this far (degrees) outside its area of use
_WORKING_MARGIN_DEG = 2.0
# share of rows whose swapped reading is what makes them fit, for "looks swapped"
_SWAP_SHARE = 0.9
_SWAP_MIN_ROWS = 5  # fewer out-of-range rows are rejected one by one, not taken as a swap
_GB_AS_SWAPPED_X = (49.0, 61.0)  # "longitudes" that are British latitudes
_GB_AS_SWAPPED_Y = (-9.0, 2.1)  # "latitudes" that are British longitudes


@dataclass(frozen=True)
class CoordinateResult:
    """Everything :func:`locate` worked out (the public function returns the first two)."""

    points: gpd.GeoSeries
    reasons: np.ndarray
    x_col: str
    y_col: str
    source_crs: CRS
    working_crs: CRS
    crs_assumed: bool  # True when the source CRS came from the values, not from the user


def find_coordinate_columns(columns: Sequence[str]) -> tuple[str, str] | None:
    """The first recognised (x, y) column pair in ``columns`` (original spelling), or None."""
    lower: dict[str, str] = {}
    for name in columns:
        lower.setdefault(str(name).strip().lower(), str(name))
    for x_name, y_name in COORDINATE_PAIRS:
        if x_name in lower and y_name in lower:
            return lower[x_name], lower[y_name]
    return None


def _as_float(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype="float64", na_value=np.nan)
    text = values.astype("string").str.strip()
    arrow = getattr(text.array, "_pa_array", None)
    if arrow is not None:  # fast path: every value is a number or empty
        try:
            blank = pc.equal(arrow, "")
            cast = pc.if_else(blank, None, arrow).cast(pa.float64())
            return cast.to_numpy(zero_copy_only=False).astype("float64")
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    return pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _user_crs(value: str | int | CRS, *, option: str) -> CRS:
    try:
        return CRS.from_user_input(value)
    except PyprojCRSError as exc:
        msg = f"{option} {value!r} is not a CRS pyproj knows; use an EPSG code such as EPSG:27700."
        raise CRSError(msg) from exc


def _geographic_in_range(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (np.abs(x) <= 180.0) & (np.abs(y) <= 90.0)


def _detect_source_crs(
    x: np.ndarray, y: np.ndarray, usable: np.ndarray, *, what: str, x_col: str, y_col: str
) -> tuple[CRS, np.ndarray]:
    """Source CRS from the values, and the rows that do not fit it (out of range).

    Columns named as lon/lat are degrees unless nearly every value is too large for
    degrees; other names go by the values, and a real mix is refused.
    """
    xs, ys = x[usable], y[usable]
    degrees = _geographic_in_range(xs, ys)
    share = float(degrees.mean()) if len(degrees) else 1.0
    misfit = np.zeros(len(x), dtype=bool)
    named_lonlat = (x_col.strip().lower(), y_col.strip().lower()) in _LONLAT_PAIRS
    if share >= 1.0 - _MINORITY_SHARE or (named_lonlat and share > _MINORITY_SHARE):
        kind = "lonlat"
    elif share <= _MINORITY_SHARE:
        kind = "projected"
    else:  # a real mix: the shared helper raises its one-line message
        kind = detect_coordinate_kind(xs, ys, what=f"{what} columns {x_col}/{y_col}")
    if kind == "lonlat":
        misfit[usable] = ~degrees
        return WGS84, misfit
    in_grid = (xs >= _BNG_X[0]) & (xs <= _BNG_X[1]) & (ys >= _BNG_Y[0]) & (ys <= _BNG_Y[1])
    if in_grid.mean() <= _BULK_SHARE:  # the bulk decides; strays are rejected rows
        msg = (
            f"{what} columns {x_col}/{y_col} hold projected coordinates outside the British "
            f"National Grid (e.g. {xs[~in_grid][0]:.1f}, {ys[~in_grid][0]:.1f}); "
            f"say which CRS they use with --crs (e.g. --crs EPSG:26971)."
        )
        raise CRSError(msg)
    misfit[usable] = ~in_grid
    return BNG, misfit


def _check_not_swapped(x: np.ndarray, y: np.ndarray, *, what: str, x_col: str, y_col: str) -> None:
    """Refuse lon/lat columns whose values look swapped (one line naming the fix)."""
    if len(x) == 0:
        return
    misfit = (np.abs(x) > 180.0) | (np.abs(y) > 90.0)
    fits_swapped = (np.abs(y) <= 180.0) & (np.abs(x) <= 90.0)
    general = (
        misfit.sum() >= _SWAP_MIN_ROWS
        and misfit.mean() > 0.5
        and (misfit & fits_swapped).sum() >= _SWAP_SHARE * misfit.sum()
    )
    gb = (
        (x >= _GB_AS_SWAPPED_X[0])
        & (x <= _GB_AS_SWAPPED_X[1])
        & (y >= _GB_AS_SWAPPED_Y[0])
        & (y <= _GB_AS_SWAPPED_Y[1])
    ).mean() >= _SWAP_SHARE
    if general or gb:
        where = "Great Britain" if gb else "a valid lon/lat range"
        msg = (
            f"{what}: longitude/latitude look swapped ({x_col} holds values like {x[0]:g} "
            f"and {y_col} like {y[0]:g}, which fit {where} the other way round); swap "
            f"them with --x-col {y_col} --y-col {x_col}."
        )
        raise CRSError(msg)


def outside_working_area(
    tx: np.ndarray,
    ty: np.ndarray,
    target: CRS,
    *,
    lon: np.ndarray | None,
    lat: np.ndarray | None,
) -> np.ndarray:
    """Rows outside the working CRS's area of use (BNG: its bounds and the grid's extent).

    ``lon``/``lat`` are the source values when they are degrees (checked exactly);
    otherwise the projected area box is used.
    """
    bng = target.equals(BNG)
    margin = 0.0 if bng else _WORKING_MARGIN_DEG
    area = target.area_of_use
    inside = np.isfinite(tx) & np.isfinite(ty)
    if area is not None:
        if lon is not None and lat is not None:
            west, south, east, north = area.bounds
            inside &= (
                (lon >= west - margin)
                & (lon <= east + margin)
                & (lat >= south - margin)
                & (lat <= north + margin)
            )
        else:
            inside &= _projected_in_area(tx, ty, target, margin=margin)
    if bng:
        inside &= (tx >= _BNG_X[0]) & (tx <= _BNG_X[1]) & (ty >= _BNG_Y[0]) & (ty <= _BNG_Y[1])
    return ~inside


def _projected_in_area(
    x: np.ndarray, y: np.ndarray, source: CRS, *, margin: float = _AREA_MARGIN_DEG
) -> np.ndarray:
    """Rows whose projected coordinates fall inside the CRS's area of use (with a margin).

    The area of use (widened by ``_AREA_MARGIN_DEG``) is projected once into the CRS and
    the points are compared with that box, so no point is transformed here.
    """
    area = source.area_of_use
    if area is None:
        return np.isfinite(x) & np.isfinite(y)
    xmin, ymin, xmax, ymax = _area_box(source.to_wkt(), margin)
    if not all(np.isfinite(v) for v in (xmin, ymin, xmax, ymax)):  # pragma: no cover - polar
        m = margin
        west, south, east, north = area.bounds
        box = (
            max(west - m, -180.0),
            max(south - m, -90.0),
            min(east + m, 180.0),
            min(north + m, 90.0),
        )
        lon, lat = Transformer.from_crs(source, WGS84, always_xy=True).transform(
            x, y, errcheck=False
        )
        lon, lat = np.asarray(lon), np.asarray(lat)
        return (
            np.isfinite(lon) & (lon >= box[0]) & (lon <= box[2]) & (lat >= box[1]) & (lat <= box[3])
        )
    return (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)


@functools.lru_cache(maxsize=32)
def _area_box(wkt: str, margin: float) -> tuple[float, float, float, float]:
    """The CRS's area of use (widened by ``margin`` degrees) as a box in its own units."""
    crs = CRS.from_wkt(wkt)
    area = crs.area_of_use
    if area is None:  # pragma: no cover - callers check first
        return (-np.inf, -np.inf, np.inf, np.inf)
    west, south, east, north = area.bounds
    m = margin
    box = (max(west - m, -180.0), max(south - m, -90.0), min(east + m, 180.0), min(north + m, 90.0))
    to_source = Transformer.from_crs(WGS84, crs, always_xy=True)
    xmin, ymin, xmax, ymax = to_source.transform_bounds(*box, densify_pts=21, errcheck=False)
    return (float(xmin), float(ymin), float(xmax), float(ymax))


def _sample(mask: np.ndarray, *, size: int = _CRS_SAMPLE) -> np.ndarray:
    """Up to ``size`` evenly spread indices of the True rows (deterministic)."""
    rows = np.flatnonzero(mask)
    if len(rows) <= size:
        return rows
    return rows[np.linspace(0, len(rows) - 1, size).astype(np.int64)]


def _project_points(
    x: np.ndarray, y: np.ndarray, source: CRS, target: CRS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Projected x, y and point geometries for finite coordinates.

    police.uk snaps crimes to shared map points (many rows per place), so when places
    repeat each distinct one is projected and built once and shared (hashing costs ~0.3 s
    per million rows; building a point costs ~1 microsecond).
    """
    codes, uniques = pd.factorize(x + 1j * y)
    repeated = len(uniques) < _REPEAT_SHARE * len(x)
    if repeated:
        ux, uy = np.asarray(uniques.real), np.asarray(uniques.imag)
    else:
        ux, uy = x, y
    if not source.equals(target):
        ux, uy = Transformer.from_crs(source, target, always_xy=True).transform(
            ux, uy, errcheck=False
        )
        ux, uy = np.asarray(ux, dtype="float64"), np.asarray(uy, dtype="float64")
    built = shapely.points(ux, uy)
    if repeated:
        return ux[codes], uy[codes], built[codes]
    return ux, uy, built


def locate(
    frame: pd.DataFrame,
    *,
    x_col: str | None = None,
    y_col: str | None = None,
    crs: str | int | CRS | None = None,
    working_crs: str | int | CRS | None = None,
    what: str,
) -> CoordinateResult:
    """Like :func:`points_from_columns`, also saying which columns and CRSs were used."""
    if (x_col is None) != (y_col is None):
        msg = f"{what}: give both --x-col and --y-col (got x_col={x_col!r}, y_col={y_col!r})."
        raise OptionError(msg)
    if x_col is None or y_col is None:
        pair = find_coordinate_columns(list(frame.columns))
        if pair is None:
            msg = (
                f"{what} has no coordinate columns (looked for pairs such as Longitude/Latitude, "
                f"x/y, easting/northing); it has {list(frame.columns)}. "
                f"Name them with --x-col and --y-col."
            )
            raise SchemaError(msg)
        x_col, y_col = pair
    missing = [c for c in (x_col, y_col) if c not in frame.columns]
    if missing:
        msg = (
            f"{what} has no column(s) {missing}; it has {list(frame.columns)}. "
            f"Check --x-col/--y-col (names are case-sensitive)."
        )
        raise SchemaError(msg)

    x = _as_float(frame[x_col])
    y = _as_float(frame[y_col])
    finite = np.isfinite(x) & np.isfinite(y)
    zero = finite & (x == 0.0) & (y == 0.0)
    usable = finite & ~zero

    crs_assumed = crs is None
    if crs is not None:
        source = _user_crs(crs, option="--crs")
        misfit = np.zeros(len(x), dtype=bool)
        if source.is_geographic and working_crs is None:
            _check_not_swapped(x[usable], y[usable], what=what, x_col=x_col, y_col=y_col)
        if source.is_geographic:
            misfit[usable] = ~_geographic_in_range(x[usable], y[usable])
        elif usable.any():
            misfit[usable] = ~_projected_in_area(x[usable], y[usable], source)
    elif usable.any():
        if working_crs is None and (x_col.strip().lower(), y_col.strip().lower()) in _LONLAT_PAIRS:
            _check_not_swapped(x[usable], y[usable], what=what, x_col=x_col, y_col=y_col)
        source, misfit = _detect_source_crs(x, y, usable, what=what, x_col=x_col, y_col=y_col)
    else:
        source, misfit = WGS84, np.zeros(len(x), dtype=bool)

    good = usable & ~misfit
    reasons = np.full(len(x), "", dtype=object)
    reasons[~finite] = NO_LOCATION
    reasons[zero] = ZERO
    reasons[misfit] = OUT_OF_RANGE

    if working_crs is not None:
        target = _user_crs(working_crs, option="--working-crs")
    elif good.any():
        pick = _sample(good)  # the choice uses percentiles and medians: a sample decides it
        if source.is_geographic:
            lon, lat = x[pick], y[pick]
        else:
            lon, lat = Transformer.from_crs(source, WGS84, always_xy=True).transform(
                x[pick], y[pick]
            )
        target = working_crs_for(np.asarray(lon), np.asarray(lat))
    else:
        target = BNG
    unit = target.axis_info[0].unit_name if target.axis_info else None
    if not target.is_projected or unit not in {"metre", "meter"}:
        msg = (
            f"--working-crs must be a projected CRS in metres (e.g. EPSG:27700); "
            f"got {target.to_string()} with unit {unit!r}."
        )
        raise CRSError(msg)

    geoms = np.full(len(x), None, dtype=object)
    rows = np.flatnonzero(good)
    if len(rows):
        tx, ty, shared = _project_points(x[rows], y[rows], source, target)
        ok = np.isfinite(tx) & np.isfinite(ty)
        reasons[rows[~ok]] = OUT_OF_RANGE  # cannot be expressed in the working CRS
        degrees = source.is_geographic
        away = ok & outside_working_area(
            tx,
            ty,
            target,
            lon=x[rows] if degrees else None,
            lat=y[rows] if degrees else None,
        )
        reasons[rows[away]] = OUTSIDE_AREA
        ok &= ~away
        geoms[rows[ok]] = shared[ok]
    points = gpd.GeoSeries(geoms, index=frame.index, crs=target)
    return CoordinateResult(points, reasons, x_col, y_col, source, target, crs_assumed)


def points_from_columns(
    frame: pd.DataFrame,
    *,
    x_col: str | None = None,
    y_col: str | None = None,
    crs: str | int | CRS | None = None,
    working_crs: str | int | CRS | None = None,
    what: str,
) -> tuple[gpd.GeoSeries, np.ndarray]:
    """Points in a metric working CRS from a table's coordinate columns.

    Parameters
    ----------
    frame
        Any table; it is not changed.
    x_col, y_col
        Longitude/easting and latitude/northing columns. When both are None the first
        recognised pair is used (Longitude/Latitude, lon/lat, long/lat, lng/lat,
        easting/northing, Eastings/Northings, x/y, X_COORD_CD/Y_COORD_CD ...; any case).
    crs
        CRS of the values. When None it is detected from the values: all within
        [-180, 180] x [-90, 90] means lon/lat (EPSG:4326); larger values inside the
        British National Grid's extent mean EPSG:27700; anything else must be given.
    working_crs
        Metric CRS to project into. Default: EPSG:27700 for data in Great Britain, the
        local UTM zone elsewhere.
    what
        How the table is named in error messages (e.g. the file name).

    Returns
    -------
    points : geopandas.GeoSeries
        One point per row, indexed like ``frame``, in the working CRS; None where the row
        has no usable location.
    reasons : numpy.ndarray
        Per-row reason code: ``""`` when usable, else ``"no_location"`` (missing or not a
        number), ``"coordinates_zero"`` (0, 0), ``"coordinates_out_of_range"`` (outside
        the source CRS's valid range or area of use) or ``"outside_area"`` (outside the
        working CRS's area of use: Great Britain and the national grid for EPSG:27700).

    Raises
    ------
    SchemaError
        No coordinate columns found, or a named column is missing.
    CRSError
        The CRS cannot be detected (mixed or non-British projected values) or is unknown,
        or lon/lat columns look swapped (without an explicit ``working_crs``).
    OptionError
        Only one of ``x_col``/``y_col`` was given.

    Examples
    --------
    >>> table = pd.DataFrame({"Longitude": [0.9, None], "Latitude": [51.9, None]})
    >>> points, reasons = points_from_columns(table, what="example")
    >>> points.crs.to_epsg(), list(reasons)
    (27700, ['', 'no_location'])
    """
    found = locate(frame, x_col=x_col, y_col=y_col, crs=crs, working_crs=working_crs, what=what)
    return found.points, found.reasons


def read_vector_points(path: Path, *, what: str) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """A GeoParquet / GeoPackage / GeoJSON side layer as points, in its own CRS.

    Polygons and lines become a point on their surface; missing or empty shapes stay as
    they are and are flagged, for the caller to reject with its reason.

    Returns
    -------
    tuple
        The layer as read, its geometries as points (object array), and the mask of rows
        with no location.

    Raises
    ------
    InputError
        The file cannot be read as a vector layer, or has no features.
    CRSError
        The layer has no CRS.
    """
    try:
        layer = (
            gpd.read_parquet(path)
            if path.suffix.lower() == ".parquet"
            else gpd.read_file(path, engine="pyogrio")
        )
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file for the user
        msg = f"{what} could not be read as a vector layer ({exc}); use GeoJSON or GeoPackage."
        raise InputError(msg) from exc
    if len(layer) == 0:
        msg = f"{what} has no features; give a file with points."
        raise InputError(msg)
    if layer.crs is None:
        msg = f"{what} has no CRS; save it with one (GeoJSON is always EPSG:4326)."
        raise CRSError(msg)
    geoms = layer.geometry.to_numpy().copy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    shaped = ~empty & (shapely.get_type_id(geoms) != 0)
    geoms[shaped] = shapely.point_on_surface(geoms[shaped])
    return layer, geoms, empty
