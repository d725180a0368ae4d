"""Writers for every file hotspots produces: atomic, deterministic, edge-only WGS84.

* GeoJSON follows RFC 7946: lon/lat WGS84, at most 7 decimals, exterior rings
  counter-clockwise, no ``crs`` member, plus a top-level ``metadata`` member.
* CSV is UTF-8 with a byte-order mark so spreadsheets open it without fuss, and carries
  both easting/northing (working CRS, metres) and latitude/longitude (WGS84).
* GeoPackage keeps the working CRS (EPSG:27700 in Great Britain).
* Every file is written to a temporary name in the same folder and renamed into place,
  so an interrupted run never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots.crs import WGS84
from hotspots.schema import EASTING, LATITUDE, LONGITUDE, NORTHING

__all__ = [
    "GEOJSON_DECIMALS",
    "atomic_path",
    "file_sha256",
    "iso_strings",
    "json_default",
    "with_coordinates",
    "write_csv",
    "write_geojson",
    "write_geopackage",
    "write_json",
    "write_text",
]

GEOJSON_DECIMALS = 7


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # keep the real suffix: drivers such as GDAL's GPKG check it
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.stem}.tmp-", suffix=target.suffix, dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers such as pyogrio want to create the file themselves
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding, newline="\n")
    return Path(path)


def json_default(value: Any) -> Any:
    """JSON encoder fallback for numpy, pandas, dates and paths."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    msg = f"Object of type {type(value).__name__} is not JSON serialisable"
    raise TypeError(msg)


def _clean_json(value: Any) -> Any:
    """Replace NaN/inf floats by None so the JSON stays valid (RFC 8259 has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_json(v) for v in value]
    return value


def write_json(path: str | os.PathLike[str], payload: Mapping[str, Any]) -> Path:
    """Write ``payload`` as indented, key-sorted JSON, atomically."""
    text = json.dumps(
        _clean_json(json.loads(json.dumps(payload, default=json_default))),
        indent=2,
        sort_keys=True,
        ensure_ascii=False,
        allow_nan=False,
    )
    return write_text(path, text + "\n")


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes (for provenance)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def iso_strings(values: pd.Series) -> pd.Series:
    """ISO 8601 text of timestamps, vectorised; tz-aware ones keep their offset (+01:00).

    Missing values become None.
    """
    col = pd.Series(values)
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        local = col.dt.tz_localize(None)
        utc = col.dt.tz_convert("UTC").dt.tz_localize(None)
        text = pd.Series(
            np.datetime_as_string(local.to_numpy("datetime64[s]"), unit="s"), index=col.index
        )
        minutes = ((local - utc).dt.total_seconds() // 60).fillna(0).astype("int64")
        sign = np.where(minutes < 0, "-", "+")
        hh = (minutes.abs() // 60).astype(str).str.zfill(2)
        mm = (minutes.abs() % 60).astype(str).str.zfill(2)
        text = text + sign + hh + ":" + mm
    else:
        text = pd.Series(
            np.datetime_as_string(col.to_numpy("datetime64[s]"), unit="s"), index=col.index
        )
    return text.astype(object).where(col.notna(), None)


def _json_ready_properties(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns as JSON-friendly values: timestamps to ISO text, NA to None."""
    out = frame.copy()
    for name in out.columns:
        col = out[name]
        if isinstance(col.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(col):
            out[name] = iso_strings(col)
        elif pd.api.types.is_bool_dtype(col):
            out[name] = col.astype(object).where(col.notna(), None)
        elif pd.api.types.is_float_dtype(col):
            out[name] = col.astype(object).where(
                np.isfinite(col.to_numpy(dtype="float64", na_value=np.nan)), None
            )
        elif not pd.api.types.is_numeric_dtype(col):
            out[name] = col.astype(object).where(col.notna(), None)
    return out


def _rfc7946_geometry(geoms: np.ndarray) -> np.ndarray:
    """Exterior rings counter-clockwise, holes clockwise, coordinates rounded."""
    geoms = shapely.set_precision(geoms, 10.0**-GEOJSON_DECIMALS, mode="pointwise")
    return shapely.orient_polygons(geoms, exterior_cw=False)


def write_geojson(
    layer: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``layer`` as RFC 7946 GeoJSON with a top-level ``metadata`` member.

    The layer may be in any CRS; it is reprojected to WGS84 here. Properties keep the
    layer's column names and order; timestamps become ISO 8601 text.
    """
    wgs = layer.to_crs(WGS84) if layer.crs is not None and not layer.crs.equals(WGS84) else layer
    geoms = _rfc7946_geometry(wgs.geometry.to_numpy())
    props = _json_ready_properties(pd.DataFrame(wgs.drop(columns=wgs.geometry.name)))
    features = []
    for geom, (_, row) in zip(geoms, props.iterrows(), strict=True):
        features.append(
            {
                "type": "Feature",
                "properties": {k: _clean_json(v) for k, v in row.items()},
                "geometry": None if geom is None else shapely.geometry.mapping(geom),
            }
        )
    collection: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if metadata is not None:
        collection["metadata"] = dict(metadata)
    text = json.dumps(collection, default=json_default, ensure_ascii=False, allow_nan=False)
    return write_text(path, text)


def with_coordinates(layer: gpd.GeoDataFrame, *, decimals_m: int = 1) -> pd.DataFrame:
    """Plain table of ``layer`` with easting/northing and latitude/longitude columns.

    Points give their own coordinates; other shapes give their centroid.
    """
    geom = layer.geometry
    pts = geom if bool((geom.geom_type == "Point").all()) else geom.centroid
    wgs = pts.to_crs(WGS84)
    table = pd.DataFrame(layer.drop(columns=geom.name))
    table[EASTING] = pts.x.round(decimals_m).to_numpy()
    table[NORTHING] = pts.y.round(decimals_m).to_numpy()
    table[LATITUDE] = wgs.y.round(6).to_numpy()
    table[LONGITUDE] = wgs.x.round(6).to_numpy()
    return table


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a table as UTF-8 CSV with BOM (spreadsheet-friendly), atomically.

    A GeoDataFrame gets easting/northing and latitude/longitude columns instead of WKT.
    """
    table = with_coordinates(frame) if isinstance(frame, gpd.GeoDataFrame) else frame
    table = table.copy()
    for name in table.columns:
        col = table[name]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            table[name] = iso_strings(col).fillna("")
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\n")
    return Path(path)


def write_geopackage(layers: Mapping[str, gpd.GeoDataFrame], path: str | os.PathLike[str]) -> Path:
    """Write every layer into one GeoPackage (each in its own CRS), atomically."""
    with atomic_path(path) as tmp:
        for name, layer in layers.items():
            out = layer.copy()
            for col in out.columns:
                if isinstance(out[col].dtype, pd.DatetimeTZDtype):
                    out[col] = iso_strings(out[col])
            out.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
    return Path(path)
