"""Address layers for visit lists: read them, and index them once for radius queries.

An address layer is points with an id and optional address text, street and postcode:
UPRN points (AddressBase, OS Open UPRN), postcode unit centroids (OS Code-Point Open) or
OpenStreetMap addresses. A force holds some 800,000 addresses, so the layer is indexed
once (an STR-packed R-tree, Leutenegger et al. 1997) and each zone queries it; nothing
compares every zone with every address.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from hotspots._validate import check_positive, require_columns, require_metric_crs
from hotspots.crs import WGS84, working_crs_for
from hotspots.errors import InputError, SchemaError
from hotspots.schema import (
    ADDRESS_ID,
    ADDRESS_TEXT,
    GEOMETRY,
    POSTCODE,
    REJECT_DETAIL,
    REJECT_REASON,
    SOURCE_FILE,
    SOURCE_ROW,
    STREET,
)

__all__ = ["ADDRESS_COLUMNS", "AddressIndex", "read_addresses"]

ADDRESS_COLUMNS = (ADDRESS_ID, ADDRESS_TEXT, STREET, POSTCODE)
TILE_M = 20_000.0  # zone points are matched to addresses a tile of this side at a time
TILE_MIN_POINTS = 20_000  # fewer points: one query (small runs unchanged)
_SPATIAL_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".parquet", ".fgb"}
# candidate source columns for each canonical column, compared case-insensitively
_CANDIDATES = {
    ADDRESS_ID: ("address_id", "uprn", "udprn", "id", "osm_id", "@id", "addr_id"),
    ADDRESS_TEXT: ("address", "full_address", "single_line_address", "addr", "address_text"),
    STREET: (
        "street",
        "street_name",
        "addr:street",
        "addr_street",
        "thoroughfare",
        "street_description",
    ),
    POSTCODE: ("postcode", "post_code", "addr:postcode", "addr_postcode", "pcds", "pcd"),
}
_CODEPOINT = ("Postcode", "Eastings", "Northings")


def _find(columns: list[str], given: str | None, canonical: str, *, name: str) -> str | None:
    """Source column for ``canonical``: the one the user named, else the first candidate."""
    if given is not None:
        if given not in columns:
            msg = f"{name} has no column {given!r}; its columns are {columns}."
            raise SchemaError(msg)
        return given
    lower = {c.lower(): c for c in columns}
    for cand in _CANDIDATES[canonical]:
        if cand in lower:
            return lower[cand]
    return None


def _text(values: pd.Series | None, n: int) -> pd.Series:
    if values is None:
        return pd.Series(pd.array([pd.NA] * n, dtype="string"))
    out = values.astype("string").str.strip().reset_index(drop=True)
    return out.mask(out == "")


def read_addresses(
    path: str | Path,
    *,
    x_col: str | None = None,
    y_col: str | None = None,
    crs: str | None = None,
    id_col: str | None = None,
    address_col: str | None = None,
    street_col: str | None = None,
    postcode_col: str | None = None,
    working_crs: CRS | str | int | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read an address point layer (CSV, GeoPackage, GeoJSON, GeoParquet).

    OS Code-Point Open files (``Postcode``, ``Eastings``, ``Northings``) are recognised:
    the postcode unit is the id, the address text and the postcode; the street is
    unknown. Other CSVs have their coordinate columns detected as in ingest
    (``Eastings``/``Northings``, ``longitude``/``latitude``, ``x``/``y`` ...) or named
    with ``x_col``/``y_col``; spatial files use their point geometry (other shapes are
    replaced by a point inside them).

    Parameters
    ----------
    path
        The address file.
    x_col, y_col
        Coordinate columns of a CSV (detected when None).
    crs
        CRS of those coordinates (detected from the values when None).
    id_col, address_col, street_col, postcode_col
        Source columns for ``address_id``, ``address``, ``street``, ``postcode``;
        detected from common names (``uprn``, ``id``, ``street_name``, ``addr:street``
        ...) when None. Without an id column, ids are ``A<row>``.
    working_crs
        Metric CRS to project into (use the incidents' working CRS). Default: the
        layer's own CRS when it is metric, else EPSG:27700 in Great Britain or the
        local UTM zone.

    Returns
    -------
    (geopandas.GeoDataFrame, pandas.DataFrame)
        Addresses with ``address_id`` (unique text), ``address``, ``street``,
        ``postcode`` and point geometry in the working CRS; and the rejected rows with
        ``source_file``, ``source_row`` (1-based data row), ``address_id``, ``reason``
        (``no_location``, ``coordinates_out_of_range``, ``coordinates_zero``,
        ``outside_area``, ``duplicate_id``, ``malformed_row``) and ``detail``: every row
        read is in exactly one of the two. CSVs are read as incident files are (UTF-8,
        else Windows-1252 with a note in ``attrs["notes"]``; binary files refused).

    Raises
    ------
    InputError
        The file is missing, unreadable or empty, or no row has usable coordinates.
    SchemaError
        A named column does not exist.
    """
    p = Path(path)
    name = f"Address file {p.name}"
    if not p.exists():
        msg = f"{name} does not exist ({p}); check the --addresses path."
        raise InputError(msg)
    spatial = p.suffix.lower() in _SPATIAL_SUFFIXES
    malformed = pd.DataFrame()
    notes: tuple[str, ...] = ()
    if spatial:
        frame, points, reasons = _read_spatial(p, name=name, working_crs=working_crs)
        rows = np.arange(1, len(frame) + 1)
    else:
        frame, points, reasons, rows, malformed, notes = _read_table(
            p, name=name, x_col=x_col, y_col=y_col, crs=crs, id_col=id_col, working_crs=working_crs
        )
    n = len(frame)
    columns = [str(c) for c in frame.columns]
    codepoint = all(c in columns for c in _CODEPOINT) and not spatial
    picked = {
        ADDRESS_ID: _find(columns, id_col, ADDRESS_ID, name=name),
        ADDRESS_TEXT: _find(columns, address_col, ADDRESS_TEXT, name=name),
        STREET: _find(columns, street_col, STREET, name=name),
        POSTCODE: _find(columns, postcode_col, POSTCODE, name=name),
    }
    if codepoint and id_col is None:
        picked[ADDRESS_ID] = "Postcode"
    if codepoint and address_col is None:
        picked[ADDRESS_TEXT] = "Postcode"
    if picked[ADDRESS_ID] is None:
        ids = pd.Series([f"A{r}" for r in rows], dtype="string")
    else:
        ids = _text(frame[picked[ADDRESS_ID]], n)
    texts = {
        k: _text(frame[c] if c is not None else None, n)
        for k, c in picked.items()
        if k != ADDRESS_ID
    }
    reasons = np.asarray(reasons, dtype=object)
    ids = ids.fillna(pd.Series([f"A{r}" for r in rows], dtype="string"))
    usable = reasons == ""
    # a repeated id keeps its first usable row; later ones are rejected, not merged
    dup = np.zeros(n, dtype=bool)
    dup[usable] = ids[usable].duplicated(keep="first").to_numpy()
    reasons = reasons.copy()
    reasons[dup] = "duplicate_id"
    ok = reasons == ""
    if not ok.any():
        counts = pd.Series(reasons).value_counts().to_dict()
        msg = (
            f"{name} has no usable coordinates in any of its {n} rows ({counts}); visit lists "
            f"need address points. Name the coordinate columns with --address-x-col/"
            f"--address-y-col (and --address-crs), or use a file with Eastings/Northings or "
            f"longitude/latitude."
        )
        raise InputError(msg)
    details = {
        "no_location": "no coordinates (blank, not a number or empty geometry); add them",
        "coordinates_out_of_range": "coordinates outside the valid range of the CRS",
        "coordinates_zero": "coordinates are 0,0 (a missing-value placeholder)",
        "duplicate_id": "address id repeats an earlier row; ids must be unique",
        "outside_area": (
            "point lies outside the area of use of the working CRS (Great Britain for "
            "EPSG:27700); fix the coordinates"
        ),
    }
    bad = ~ok
    rejected = pd.DataFrame(
        {
            SOURCE_FILE: p.name,
            SOURCE_ROW: rows[bad],
            ADDRESS_ID: ids[bad].to_numpy(),
            REJECT_REASON: reasons[bad],
            REJECT_DETAIL: [details.get(r, r) for r in reasons[bad]],
        }
    )
    if len(malformed):
        rejected = pd.concat(
            [rejected, malformed.assign(**{ADDRESS_ID: pd.NA})[rejected.columns]],
            ignore_index=True,
        )
    addresses = gpd.GeoDataFrame(
        {
            ADDRESS_ID: ids[ok].reset_index(drop=True),
            ADDRESS_TEXT: texts[ADDRESS_TEXT][ok].reset_index(drop=True),
            STREET: texts[STREET][ok].reset_index(drop=True),
            POSTCODE: texts[POSTCODE][ok].reset_index(drop=True),
        },
        geometry=np.asarray(points.to_numpy())[ok],
        crs=points.crs,
    )
    addresses.attrs["notes"] = list(notes)
    return addresses, rejected


def _read_table(
    p: Path,
    *,
    name: str,
    x_col: str | None,
    y_col: str | None,
    crs: str | None,
    id_col: str | None,
    working_crs: CRS | str | int | None,
) -> tuple[pd.DataFrame, gpd.GeoSeries, np.ndarray, np.ndarray, pd.DataFrame, tuple[str, ...]]:
    from hotspots.ingest import points_from_columns, read_text_table

    frame, rows, malformed, notes = read_text_table(p)
    columns = [str(c) for c in frame.columns]
    if len(frame) == 0 and len(malformed) == 0:
        msg = f"{name} has a header but no rows."
        raise InputError(msg)
    if all(c in columns for c in _CODEPOINT) and x_col is None and y_col is None:
        x_col, y_col, crs = "Eastings", "Northings", crs or "EPSG:27700"
    points, reasons = points_from_columns(
        frame, x_col=x_col, y_col=y_col, crs=crs, working_crs=working_crs, what=name
    )
    return frame, points, np.asarray(reasons, dtype=object), rows, malformed, notes


def _read_spatial(
    p: Path,
    *,
    name: str,
    working_crs: CRS | str | int | None,
) -> tuple[pd.DataFrame, gpd.GeoSeries, np.ndarray]:
    from hotspots.ingest import read_vector_points

    layer, geoms, empty = read_vector_points(p, what=name)
    reasons = np.where(empty, "no_location", "").astype(object)
    if working_crs is None:
        unit = layer.crs.axis_info[0].unit_name if layer.crs.axis_info else None
        if layer.crs.is_projected and unit in {"metre", "meter"}:
            working_crs = layer.crs
        else:
            ll = gpd.GeoSeries(geoms[~empty], crs=layer.crs).to_crs(WGS84)
            working_crs = working_crs_for(ll.x.to_numpy(), ll.y.to_numpy())
    points = gpd.GeoSeries(geoms, crs=layer.crs).to_crs(working_crs)
    frame = pd.DataFrame(layer.drop(columns=layer.geometry.name))
    frame.columns = [str(c) for c in frame.columns]
    if GEOMETRY in frame.columns:  # pragma: no cover - the geometry column was dropped above
        frame = frame.drop(columns=GEOMETRY)
    return frame, points, reasons


def _pair_order(
    left: np.ndarray, right: np.ndarray, dist: np.ndarray, radius_m: float
) -> np.ndarray:
    """Order of pairs by point, distance in whole millimetres, then address position.

    Packed into one unsigned 64-bit key when it fits (one fast sort); otherwise a
    three-key lexsort gives the same order.
    """
    if len(left) == 0:
        return np.zeros(0, dtype="int64")
    mm = np.floor(dist * 1000.0).astype("uint64")
    bits = [
        int(np.max(left)).bit_length(),
        int(radius_m * 1000.0).bit_length() + 1,
        int(np.max(right)).bit_length(),
    ]
    if sum(bits) <= 64:
        key = (
            (left.astype("uint64") << np.uint64(bits[1] + bits[2]))
            | (mm << np.uint64(bits[2]))
            | right.astype("uint64")
        )
        return np.argsort(key)  # keys are unique: any sort gives one order
    return np.lexsort((right, mm, left))  # pragma: no cover - over ~2**20 zones and homes


def _disk_rtree(xy: np.ndarray, crs: CRS, cache_dir: Path) -> tuple[object, Path]:
    """Open (or build once) an on-disk R-tree of ``xy`` named by a hash of the points.

    The name is the SHA-256 of the coordinates and CRS, so a changed address layer gets
    a new index and a stale one is never used.
    """
    import hashlib

    from rtree import index as rtree_index

    digest = hashlib.sha256(np.ascontiguousarray(xy, dtype="float64").tobytes())
    digest.update(crs.to_wkt().encode())
    stem = cache_dir / f"addresses-{digest.hexdigest()[:20]}"
    props = rtree_index.Property()
    props.dimension = 2
    if Path(f"{stem}.dat").exists() and Path(f"{stem}.idx").exists():
        return rtree_index.Index(str(stem), properties=props), stem
    cache_dir.mkdir(parents=True, exist_ok=True)
    # build under a temporary name, then rename both files: a crash leaves no half index
    tmp = cache_dir / f".{stem.name}.{os.getpid()}.tmp"
    ids = np.arange(len(xy), dtype="int64")
    pts = np.ascontiguousarray(xy, dtype="float64")
    built = rtree_index.Index(str(tmp), (ids, pts, pts), properties=props, overwrite=True)
    built.close()
    for ext in (".idx", ".dat"):
        os.replace(f"{tmp}{ext}", f"{stem}{ext}")
    return rtree_index.Index(str(stem), properties=props), stem


class AddressIndex:
    """Spatial index over an address layer, built once and queried per zone.

    Parameters
    ----------
    addresses
        Output of :func:`read_addresses` (or any point layer with ``address_id``) in a
        metric CRS.

    cache_dir
        Folder for an on-disk R-tree (libspatialindex) reused between runs, e.g.
        the weekly run's. Its file name is a hash of the points, so a changed layer
        gets a new index. Default None: an in-memory ``shapely.STRtree``, which on
        2 cores builds 1 million points in about a second (the disk index takes ~4 s
        to build once and ~0.01 s to open).

    Attributes
    ----------
    addresses
        The layer (not copied; never changed).
    tree_
        ``shapely.STRtree`` over the address points (None with ``cache_dir``).
    cache_path_
        Path stem of the on-disk index (``.idx``/``.dat``), or None.
    xy_
        ``(n, 2)`` array of address coordinates in metres.
    """

    def __init__(self, addresses: gpd.GeoDataFrame, *, cache_dir: Path | None = None) -> None:
        if not isinstance(addresses, gpd.GeoDataFrame):
            msg = f"addresses must be a GeoDataFrame; got {type(addresses).__name__}."
            raise TypeError(msg)
        require_metric_crs(addresses, what="addresses")
        require_columns(
            addresses,
            [ADDRESS_ID],
            what="addresses",
            fix="Read the layer with hotspots.cocoon.read_addresses.",
        )
        geoms = addresses.geometry.to_numpy()
        if len(geoms) and not bool((shapely.get_type_id(geoms) == 0).all()):
            msg = "addresses must be points; read the layer with read_addresses."
            raise InputError(msg)
        self.addresses = addresses
        self.crs = addresses.crs
        self.xy_ = shapely.get_coordinates(geoms)
        self.cache_path_: Path | None = None
        self.tree_: shapely.STRtree | None = None
        self._rtree: Any = None  # rtree.index.Index on disk (cache_dir) or None
        if cache_dir is None:
            self.tree_ = shapely.STRtree(geoms)
        else:
            self._rtree, self.cache_path_ = _disk_rtree(self.xy_, self.crs, Path(cache_dir))
        self._lonlat: np.ndarray | None = None
        self._codes: dict[str, tuple[np.ndarray, pd.Index]] = {}

    def __len__(self) -> int:
        return len(self.xy_)

    def _pairs(
        self, points: np.ndarray, radius_m: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unsorted (point, address, distance) pairs within ``radius_m``.

        The tree is queried with each point's square of side ``2 * radius_m`` (cheap
        envelope tests), then exact distances keep those inside the circle.
        """
        pts = np.asarray(points, dtype=object)
        qxy = shapely.get_coordinates(pts)
        if len(qxy) != len(pts):
            msg = "points must be non-empty shapely points (one per zone); drop empty geometries."
            raise InputError(msg)
        if len(qxy) < TILE_MIN_POINTS:
            return self._pairs_of(qxy, radius_m)
        # many points: one tile of points at a time, so the query boxes and envelope
        # candidates follow the largest tile (each tile's addresses come with a halo of
        # radius_m through the boxes); callers sort or count, so the result is the same
        tile = np.floor(qxy / TILE_M).astype("int64")
        _, inverse = np.unique(tile, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(inverse.max() + 2))
        lefts, rights, dists = [], [], []
        for k in range(len(bounds) - 1):
            members = order[bounds[k] : bounds[k + 1]]
            left, right, dist = self._pairs_of(qxy[members], radius_m)
            lefts.append(members[left])
            rights.append(right)
            dists.append(dist)
        return np.concatenate(lefts), np.concatenate(rights), np.concatenate(dists)

    def _pairs_of(
        self, qxy: np.ndarray, radius_m: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(point, address, distance) pairs within ``radius_m`` of coordinates ``qxy``."""
        boxes = shapely.box(
            qxy[:, 0] - radius_m, qxy[:, 1] - radius_m, qxy[:, 0] + radius_m, qxy[:, 1] + radius_m
        )
        if self._rtree is not None:
            right, counts = self._rtree.intersection_v(
                np.ascontiguousarray(qxy - radius_m), np.ascontiguousarray(qxy + radius_m)
            )
            left = np.repeat(np.arange(len(qxy)), counts.astype("int64"))
            right = right.astype("int64")
        else:
            assert self.tree_ is not None  # built in __init__ when there is no disk index
            left, right = self.tree_.query(boxes)
        dist = np.hypot(self.xy_[right, 0] - qxy[left, 0], self.xy_[right, 1] - qxy[left, 1])
        keep = dist <= radius_m
        return left[keep], right[keep], dist[keep]

    def within(
        self, points: np.ndarray, radius_m: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Address pairs within ``radius_m`` of each point (boundary included).

        Parameters
        ----------
        points
            Array of shapely points in the index's CRS (e.g. burglary locations).
        radius_m
            Search radius in metres.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray, numpy.ndarray)
            ``point_idx``, ``address_idx`` and ``distance_m``, sorted by point, then
            distance (to the millimetre), then address position.
        """
        radius_m = check_positive(radius_m, name="radius_m")
        left, right, dist = self._pairs(points, radius_m)
        order = _pair_order(left, right, dist, radius_m)
        return left[order], right[order], dist[order]

    def count_within(self, points: np.ndarray, radius_m: float) -> np.ndarray:
        """Number of addresses within ``radius_m`` of each point (boundary included)."""
        radius_m = check_positive(radius_m, name="radius_m")
        left, _, _ = self._pairs(points, radius_m)
        return np.bincount(left, minlength=len(points)).astype("int64")

    def nearest(
        self,
        points: np.ndarray,
        *,
        max_distance_m: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Nearest address within ``max_distance_m`` of each point: (position or -1, distance)."""
        max_distance_m = check_positive(max_distance_m, name="max_distance_m")
        pts = np.asarray(points, dtype=object)
        found = np.full(len(pts), -1, dtype="int64")
        dist = np.full(len(pts), np.nan)
        if len(pts) == 0 or len(self.xy_) == 0:
            return found, dist
        q, t, d = self._pairs(pts, max_distance_m)
        if len(q):
            # nearest first; ties (to the millimetre) go to the lowest address position
            order = _pair_order(q, t, d, max_distance_m)
            q, t, d = q[order], t[order], d[order]
            first = np.r_[True, q[1:] != q[:-1]]
            found[q[first]] = t[first]
            dist[q[first]] = d[first]
        return found, dist

    def take_text(self, column: str, idx: np.ndarray) -> pd.Categorical:
        """Text column ``column`` at address positions ``idx``, as a Categorical.

        Each distinct text is stored once (factorised on first use and cached), so a
        list of millions of rows costs one integer code per row. A column the layer
        lacks gives all-missing values.
        """
        if column not in self._codes:
            if column in self.addresses.columns:
                codes, uniques = pd.factorize(self.addresses[column].astype("string"))
            else:
                codes = np.full(len(self.xy_), -1, dtype="int64")
                uniques = pd.Index([], dtype="string")
            self._codes[column] = (codes, pd.Index(uniques, dtype="string"))
        codes, uniques = self._codes[column]
        return pd.Categorical.from_codes(codes[idx], categories=uniques)

    def lonlat(self) -> np.ndarray:
        """``(n, 2)`` WGS84 longitude/latitude of every address (computed once)."""
        if self._lonlat is None:
            tr = Transformer.from_crs(self.crs, WGS84, always_xy=True)
            lon, lat = tr.transform(self.xy_[:, 0], self.xy_[:, 1])
            self._lonlat = np.column_stack([lon, lat])
        return self._lonlat
