"""Area layers (districts, towns, wards): read, validate, project, and label points.

Used by every stage that reports per area (``--areas FILE --area-field NAME``) and by
ingest's ``--boundary``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from hotspots.errors import CRSError, InputError, SchemaError

__all__ = ["AREA_UNASSIGNED", "label_points", "read_areas"]

AREA_UNASSIGNED = "(outside areas)"


def read_areas(
    path: str | Path | gpd.GeoDataFrame,
    *,
    area_field: str | None,
    working_crs: CRS | str | int,
    what: str = "--areas",
) -> gpd.GeoDataFrame:
    """Read a polygon layer, keep ``area_field`` as column ``area``, project to metres.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage, Shapefile or GeoParquet of polygons, or a GeoDataFrame.
    area_field
        Attribute naming each area (e.g. ``LAD13NM``). When None, areas are numbered.
    working_crs
        CRS to project into (the incidents' working CRS).
    what
        How the layer is named in error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``area`` (str) and ``geometry`` (valid polygons), in ``working_crs``.

    Raises
    ------
    InputError
        The file cannot be read, is empty or holds no polygons.
    SchemaError
        ``area_field`` is not one of the layer's fields (the message lists them).
    CRSError
        The layer has no CRS.
    """
    if isinstance(path, gpd.GeoDataFrame):
        layer, name = path, what
    else:
        p = Path(path)
        name = f"{what} file {p}"
        if not p.exists():
            msg = f"{name} does not exist; check the path."
            raise InputError(msg)
        try:
            if p.suffix.lower() == ".parquet":
                layer = gpd.read_parquet(p)
            else:
                layer = gpd.read_file(p, engine="pyogrio")
        except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file for the user
            msg = f"{name} could not be read as a vector layer ({exc}). Use GeoJSON or GeoPackage."
            raise InputError(msg) from exc
    if len(layer) == 0:
        msg = f"{name} has no features."
        raise InputError(msg)
    if layer.crs is None:
        msg = f"{name} has no CRS; save it with one (GeoJSON is always EPSG:4326)."
        raise CRSError(msg)
    kinds = set(layer.geom_type.dropna())
    if not kinds or not kinds <= {"Polygon", "MultiPolygon"}:
        msg = f"{name} must hold polygons; it has {sorted(kinds) or 'no geometries'}."
        raise InputError(msg)
    if area_field is None:
        names = pd.Series([f"area {i + 1}" for i in range(len(layer))], index=layer.index)
    else:
        if area_field not in layer.columns:
            fields = [c for c in layer.columns if c != layer.geometry.name]
            msg = f"{name} has no field {area_field!r}; its fields are {fields}. Pass --area-field."
            raise SchemaError(msg)
        names = layer[area_field].astype("string").fillna("(unnamed)")
    out = gpd.GeoDataFrame(
        {"area": names.astype(str).to_numpy()},
        geometry=shapely.make_valid(layer.geometry.to_numpy()),
        crs=layer.crs,
    ).to_crs(working_crs)
    # one row per area name (a district split into several features is one area)
    return out.dissolve(by="area", as_index=False, sort=True)[["area", "geometry"]]


def label_points(points: gpd.GeoSeries, areas: gpd.GeoDataFrame | None) -> np.ndarray:
    """Area name of each point (first match; AREA_UNASSIGNED outside all areas).

    A point on a shared border goes to the area that sorts first by name, so the answer
    does not depend on the layer's row order.
    """
    labels = np.full(len(points), AREA_UNASSIGNED, dtype=object)
    if areas is None or len(points) == 0:
        return labels
    if points.crs is not None and areas.crs is not None and not points.crs.equals(areas.crs):
        msg = "Points and areas are in different CRSs; project both to the working CRS."
        raise CRSError(msg)
    ordered = areas.sort_values("area", kind="stable").reset_index(drop=True)
    pt_idx, area_idx = ordered.sindex.query(points.to_numpy(), predicate="intersects")
    if len(pt_idx):
        first = pd.DataFrame({"p": pt_idx, "a": area_idx}).groupby("p")["a"].min()
        labels[first.index.to_numpy()] = ordered["area"].to_numpy()[first.to_numpy()]
    return labels
