"""Extra point layers (``--layer NAME=FILE``): read them, count them per spot and per area.

Any point file an analyst holds next to the crime data: Street-Safe reports of places
where people feel unsafe, A&E assault locations (the Cardiff Model's shared data,
Florence et al. 2011), licensed premises. Each is read with ingest's coordinate handling
(CSV with x/y, easting/northing or longitude/latitude; GeoJSON, GeoPackage: any shape
becomes a point on its surface), projected into the run's working CRS, and every row
that cannot be used is kept with its reason (``no_location``, ``coordinates_zero``,
``coordinates_out_of_range``, ``outside_area``, ``outside_study_area``, ``malformed_row``).
The counts per spot and per area go into ``layer_counts.csv``; the map draws each layer
as its own toggleable layer (never in public mode, see :mod:`hotspots.outputs.public`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots.errors import InputError
from hotspots.schema import (
    AREA_NAME,
    REJECT_DETAIL,
    REJECT_REASON,
    SOURCE_FILE,
    SOURCE_ROW,
    SPOT_ID,
)

__all__ = [
    "COUNT_COLUMNS",
    "LAYER",
    "LAYER_TEXT",
    "N_POINTS",
    "PointLayer",
    "layer_counts",
    "read_point_layer",
    "read_point_layers",
    "spot_layer_text",
]

LAYER = "layer"
KIND = "kind"  # "spot", "area" or "all" (the layer's total of usable points)
N_POINTS = "n_points"
COUNT_COLUMNS = (LAYER, KIND, SPOT_ID, AREA_NAME, N_POINTS)
LAYER_TEXT = "point_layers"  # spots column: "Street-Safe 3; A&E 1" for the map popup
OUTSIDE_STUDY_AREA = "outside_study_area"
_SPATIAL = {".gpkg", ".geojson", ".json", ".shp", ".parquet", ".fgb"}
_LABELS = ("name", "title", "description", "category", "type", "premises", "label")
_DETAILS = {
    "no_location": "no coordinates (blank, not a number or empty geometry); add them",
    "coordinates_zero": "coordinates are 0,0 (a missing-value placeholder)",
    "coordinates_out_of_range": "coordinates outside the valid range of the CRS",
    "outside_area": "point outside the area of use of the working CRS; fix the coordinates",
    OUTSIDE_STUDY_AREA: "point outside every area of --areas (the study area)",
}


@dataclass(frozen=True)
class PointLayer:
    """One ``--layer``: its usable points (working CRS) and its rejected rows.

    Attributes
    ----------
    name
        The NAME given (shown on the map and in ``layer_counts.csv``).
    path
        The file read.
    points
        ``label`` (text for the map tooltip, "" when the file has no name-like column)
        and point geometry in the working CRS.
    rejected
        ``layer``, ``source_file``, ``source_row`` (1-based data row), ``reason``,
        ``detail``: every row read is in exactly one of ``points`` and ``rejected``.
    """

    name: str
    path: Path
    points: gpd.GeoDataFrame
    rejected: pd.DataFrame


def read_point_layer(
    name: str,
    path: str | Path,
    *,
    working_crs: Any,
    areas: gpd.GeoDataFrame | None = None,
) -> PointLayer:
    """Read one point file into the working CRS, rejecting rows with no usable point.

    Parameters
    ----------
    name
        The layer's name (``--layer NAME=FILE``).
    path
        CSV (coordinate columns detected as for incidents), GeoJSON, GeoPackage, ...
    working_crs
        The run's metric CRS (the incidents' CRS).
    areas
        The study areas: points outside all of them are rejected ``outside_study_area``.

    Raises
    ------
    InputError
        The file is missing, unreadable or holds no rows.
    CRSError
        A spatial file has no CRS.
    """
    p = Path(path)
    what = f"--layer {name} file {p.name}"
    if not p.exists():
        msg = f"{what} does not exist ({p}); check the path."
        raise InputError(msg)
    if p.suffix.lower() in _SPATIAL:
        frame, points, reasons, rows = _read_spatial(p, what=what, working_crs=working_crs)
        malformed = pd.DataFrame()
    else:
        from hotspots.ingest import points_from_columns, read_text_table

        frame, rows, malformed, _ = read_text_table(p)
        if len(frame) == 0 and len(malformed) == 0:
            msg = f"{what} has a header but no rows; give a file with points."
            raise InputError(msg)
        points, reasons = points_from_columns(frame, working_crs=working_crs, what=what)
        reasons = np.asarray(reasons, dtype=object).copy()
    if areas is not None and len(areas):
        usable = np.flatnonzero(reasons == "")
        inside = np.zeros(len(frame), dtype=bool)
        hit, _ = areas.sindex.query(points.to_numpy()[usable], predicate="intersects")
        inside[usable[np.unique(hit)]] = True
        reasons[(reasons == "") & ~inside] = OUTSIDE_STUDY_AREA
    ok = reasons == ""
    label = _label(frame)
    layer = gpd.GeoDataFrame(
        {"label": label[ok].reset_index(drop=True)},
        geometry=np.asarray(points.to_numpy())[ok],
        crs=points.crs,
    )
    rejected = pd.DataFrame(
        {
            LAYER: name,
            SOURCE_FILE: p.name,
            SOURCE_ROW: np.asarray(rows)[~ok],
            REJECT_REASON: reasons[~ok],
            REJECT_DETAIL: [_DETAILS.get(r, r) for r in reasons[~ok]],
        }
    )
    if len(malformed):
        extra = malformed.assign(**{LAYER: name})[list(rejected.columns)]
        rejected = pd.concat([rejected, extra], ignore_index=True)
    return PointLayer(name=name, path=p, points=layer, rejected=rejected)


def _label(frame: pd.DataFrame) -> pd.Series:
    lower = {str(c).strip().lower(): c for c in frame.columns}
    col = next((lower[c] for c in _LABELS if c in lower), None)
    if col is None:
        return pd.Series([""] * len(frame), dtype=object)
    return frame[col].astype("string").fillna("").astype(object).reset_index(drop=True)


def _read_spatial(
    p: Path, *, what: str, working_crs: Any
) -> tuple[pd.DataFrame, gpd.GeoSeries, np.ndarray, np.ndarray]:
    from hotspots.ingest import read_vector_points

    layer, geoms, empty = read_vector_points(p, what=what)
    points = gpd.GeoSeries(geoms, crs=layer.crs).to_crs(working_crs)
    reasons = np.where(empty, "no_location", "").astype(object)
    from hotspots.ingest import outside_working_area

    have = ~empty
    if have.any():
        xy = shapely.get_coordinates(points.to_numpy()[have])
        away = outside_working_area(xy[:, 0], xy[:, 1], points.crs, lon=None, lat=None)
        reasons[np.flatnonzero(have)[away]] = "outside_area"
    frame = pd.DataFrame(layer.drop(columns=layer.geometry.name))
    return frame, points, reasons, np.arange(1, len(layer) + 1)


def read_point_layers(
    layers: Sequence[tuple[str, str | Path]],
    *,
    working_crs: Any,
    areas: gpd.GeoDataFrame | None = None,
) -> tuple[PointLayer, ...]:
    """Every ``--layer NAME=FILE``, read in the order given (see :func:`read_point_layer`)."""
    return tuple(
        read_point_layer(name, path, working_crs=working_crs, areas=areas) for name, path in layers
    )


def layer_counts(
    layers: Sequence[PointLayer],
    *,
    spots: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Points of each layer per spot and per area (``layer_counts.csv``).

    A point counts for every spot (and every area) whose polygon it lies in or on the
    edge of, so a point on the edge two cells share counts for both.

    Returns
    -------
    pandas.DataFrame
        :data:`COUNT_COLUMNS`: per layer one ``kind`` "spot" row per spot (its area
        named), one "area" row per area, and one "all" row with the layer's usable
        points; counts are whole numbers (zero included).

    Examples
    --------
    >>> layer_counts([], spots=example_spots).columns.tolist()
    ['layer', 'kind', 'spot_id', 'area', 'n_points']
    """
    parts = []
    for layer in layers:
        pts = layer.points.geometry.to_numpy()
        per_spot = _count(pts, spots)
        parts.append(
            pd.DataFrame(
                {
                    LAYER: layer.name,
                    KIND: "spot",
                    SPOT_ID: spots[SPOT_ID].astype(str).to_numpy(),
                    AREA_NAME: spots[AREA_NAME].astype(object).to_numpy()
                    if AREA_NAME in spots
                    else "",
                    N_POINTS: per_spot,
                }
            )
        )
        if areas is not None and len(areas):
            parts.append(
                pd.DataFrame(
                    {
                        LAYER: layer.name,
                        KIND: "area",
                        SPOT_ID: "",
                        AREA_NAME: areas[AREA_NAME].astype(object).to_numpy(),
                        N_POINTS: _count(pts, areas),
                    }
                )
            )
        parts.append(
            pd.DataFrame(
                {LAYER: [layer.name], KIND: ["all"], SPOT_ID: [""], AREA_NAME: [""],
                 N_POINTS: [len(pts)]}
            )
        )  # fmt: skip
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COUNT_COLUMNS})
    table = pd.concat(parts, ignore_index=True)
    table[N_POINTS] = table[N_POINTS].astype("int64")
    return table[list(COUNT_COLUMNS)]


def _count(points: np.ndarray, polygons: gpd.GeoDataFrame) -> np.ndarray:
    """Points in (or on the edge of) each polygon, through the polygons' spatial index."""
    if not len(points) or not len(polygons):
        return np.zeros(len(polygons), dtype=np.int64)
    _, poly_i = polygons.sindex.query(points, predicate="intersects")
    return np.bincount(poly_i, minlength=len(polygons)).astype(np.int64)


def spot_layer_text(counts: pd.DataFrame, spot_ids: Sequence[Any]) -> list[str]:
    """Per spot, its layer counts as one line ("Street-Safe 3; A&E 0") for the map popup."""
    rows = counts[counts[KIND] == "spot"]
    if not len(rows):
        return [""] * len(spot_ids)
    table = rows.pivot_table(
        index=SPOT_ID, columns=LAYER, values=N_POINTS, aggfunc="sum", sort=False
    )
    names = list(dict.fromkeys(rows[LAYER]))
    out = []
    for sid in spot_ids:
        key = str(sid)
        if key not in table.index:
            out.append("")
            continue
        out.append("; ".join(f"{n} {int(table.at[key, n])}" for n in names))
    return out
