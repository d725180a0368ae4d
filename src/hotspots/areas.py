"""Area layers (districts, towns, wards): read, validate, project, and label points.

Used by every stage that reports per area (``--areas FILE --area-field NAME``) and by
ingest's ``--boundary``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from hotspots._validate import check_choice
from hotspots.errors import CRSError, InputError, SchemaError

__all__ = ["AREA_NAME_MAX_CHARS", "AREA_UNASSIGNED", "label_points", "read_areas"]

AREA_UNASSIGNED = "(outside areas)"
# an area name becomes part of file names (per-area lists): keep it well inside 255 bytes
AREA_NAME_MAX_CHARS = 100
# overlaps smaller than this share of the smaller area are digitising slivers, not noted
_OVERLAP_SHARE = 0.01
SameNames = Literal["refuse", "merge"]
_SAME_NAMES: tuple[str, ...] = get_args(SameNames)


def read_areas(
    path: str | Path | gpd.GeoDataFrame,
    *,
    area_field: str | None,
    working_crs: CRS | str | int,
    what: str = "--areas",
    same_names: SameNames = "refuse",
) -> gpd.GeoDataFrame:
    """Read a polygon layer, keep ``area_field`` as column ``area``, project to metres.

    The layer is checked: invalid polygons are repaired with ``shapely.make_valid`` (a
    note says how many) or refused when the repair leaves no polygon; empty, repeated
    and over-long names are refused with the fix. Overlapping areas are allowed and
    noted; :func:`label_points` gives each point to the smallest area containing it.

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
    same_names
        ``"refuse"`` (default): features sharing a name are an error; ``"merge"``: they
        are dissolved into one area (e.g. LSOAs read by their district name).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``area`` (str) and ``geometry`` (valid polygons), in ``working_crs``,
        sorted by name; ``attrs["notes"]`` lists repairs and overlaps (for the report).

    Raises
    ------
    InputError
        The file cannot be read, is empty or holds no polygons, or a polygon cannot be
        repaired.
    SchemaError
        ``area_field`` is not one of the layer's fields (the message lists them), or a
        name is missing, repeated or longer than ``AREA_NAME_MAX_CHARS``.
    CRSError
        The layer has no CRS.
    """
    check_choice(same_names, _SAME_NAMES, name="same_names")
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
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            msg = (
                f"{name} could not be read as a vector layer ({first}). Use GeoJSON or GeoPackage."
            )
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
    names = _names(layer, area_field, name=name, same_names=same_names)
    notes: list[str] = []
    geometry = _repaired(layer.geometry.to_numpy(), names, name=name, notes=notes)
    out = gpd.GeoDataFrame({"area": names}, geometry=geometry, crs=layer.crs).to_crs(working_crs)
    if same_names == "merge" and out["area"].duplicated().any():
        n_features = len(out)
        out = out.dissolve(by="area", as_index=False, sort=True)[["area", "geometry"]]
        notes.append(
            f"{name}: {n_features:,} features merged into {len(out):,} areas by "
            f"{area_field} (as asked)."
        )
    else:
        out = out.sort_values("area", kind="stable").reset_index(drop=True)[["area", "geometry"]]
    overlap = _overlap_note(out, name=name)
    if overlap:
        notes.append(overlap)
    out.attrs["notes"] = notes
    return out


def _names(
    layer: gpd.GeoDataFrame, area_field: str | None, *, name: str, same_names: str
) -> np.ndarray:
    """The area name of each feature, refusing missing, repeated and over-long names."""
    if area_field is None:
        return np.array([f"area {i + 1}" for i in range(len(layer))], dtype=object)
    if area_field not in layer.columns:
        fields = [c for c in layer.columns if c != layer.geometry.name]
        msg = f"{name} has no field {area_field!r}; its fields are {fields}. Pass --area-field."
        raise SchemaError(msg)
    raw = layer[area_field].astype("string").str.strip()
    missing = (raw.isna() | (raw == "")).to_numpy(dtype=bool)
    if missing.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(missing)[:5])
        msg = (
            f"{name}: {int(missing.sum()):,} feature(s) have no {area_field} (feature "
            f"{rows}); fill in their names or pass another --area-field."
        )
        raise SchemaError(msg)
    names = raw.astype(str).to_numpy(dtype=object)
    long = np.array([len(n) > AREA_NAME_MAX_CHARS for n in names])
    if long.any():
        example = names[np.flatnonzero(long)[0]]
        msg = (
            f"{name}: {area_field} {example[:40]!r}... is {len(example):,} characters; area "
            f"names become file names, so keep them to {AREA_NAME_MAX_CHARS} (shorten them "
            f"or pass another --area-field)."
        )
        raise SchemaError(msg)
    repeated = pd.Series(names).value_counts()
    repeated = repeated[repeated > 1]
    if len(repeated) and same_names == "refuse":
        listed = ", ".join(f"{n!r} x{c}" for n, c in repeated.head(3).items())
        msg = (
            f"{name}: {len(repeated):,} {area_field} name(s) belong to more than one feature "
            f"({listed}); pass a field with unique names (e.g. a code field such as "
            f"WD13CD), or dissolve the features that share a name in your GIS first."
        )
        raise SchemaError(msg)
    return names


def _repaired(geoms: np.ndarray, names: np.ndarray, *, name: str, notes: list[str]) -> np.ndarray:
    """Valid polygons: invalid ones repaired with make_valid (noted), unrepairable refused."""
    invalid = ~shapely.is_valid(geoms)
    if not invalid.any():
        return geoms
    fixed = geoms.copy()
    for i in np.flatnonzero(invalid):
        made = shapely.make_valid(geoms[i])
        parts = [g for g in shapely.get_parts(made) if g.geom_type in {"Polygon", "MultiPolygon"}]
        polygon = shapely.union_all(parts) if parts else None
        if polygon is None or polygon.is_empty or polygon.area <= 0:
            msg = (
                f"{name}: the polygon of {names[i]!r} is invalid and cannot be repaired (it "
                f"has no area once made valid); fix it in a GIS (e.g. QGIS 'Fix geometries')."
            )
            raise InputError(msg)
        fixed[i] = polygon
    shown = ", ".join(repr(n) for n in names[invalid][:3])
    notes.append(
        f"{name}: repaired {int(invalid.sum()):,} invalid polygon(s) ({shown}) with "
        f"make_valid; check their shape in a GIS."
    )
    return fixed


def _overlap_note(areas: gpd.GeoDataFrame, *, name: str) -> str | None:
    """A note when areas overlap by more than a sliver, saying the rule that applies."""
    geoms = areas.geometry.to_numpy()
    lo, ro = areas.sindex.query(geoms, predicate="overlaps")
    lc, rc = areas.sindex.query(geoms, predicate="contains")  # one area inside another
    left, right = np.concatenate([lo, lc, rc]), np.concatenate([ro, rc, lc])
    pairs = left < right
    left, right = left[pairs], right[pairs]
    if not len(left):
        return None
    shared = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    smaller = np.minimum(shapely.area(geoms[left]), shapely.area(geoms[right]))
    real = shared > _OVERLAP_SHARE * smaller
    if not real.any():
        return None
    i, j = left[real][0], right[real][0]
    names = areas["area"].to_numpy()
    return (
        f"{name}: {int(real.sum()):,} pair(s) of areas overlap (e.g. {names[i]!r} and "
        f"{names[j]!r}); each point is given to the smallest area that contains it."
    )


def label_points(points: gpd.GeoSeries, areas: gpd.GeoDataFrame | None) -> np.ndarray:
    """Area name of each point (AREA_UNASSIGNED outside all areas).

    The rule, used by everything that assigns areas: each point goes to the area that
    contains it (a point on a border counts for both); when several do (overlapping
    areas, borders), the smallest area wins, then the name that sorts first, so the
    answer never depends on the layer's row order.
    """
    # one shared text (np.full of a str makes a new str object per row)
    labels = np.repeat(np.array([AREA_UNASSIGNED], dtype=object), len(points))
    if areas is None or len(points) == 0:
        return labels
    if points.crs is not None and areas.crs is not None and not points.crs.equals(areas.crs):
        msg = "Points and areas are in different CRSs; project both to the working CRS."
        raise CRSError(msg)
    size = shapely.area(areas.geometry.to_numpy())
    order = np.lexsort((areas["area"].astype(str).to_numpy(), size))  # smallest, then by name
    ordered = areas.iloc[order].reset_index(drop=True)
    pt_idx, area_idx = ordered.sindex.query(points.to_numpy(), predicate="intersects")
    if len(pt_idx):
        first = pd.DataFrame({"p": pt_idx, "a": area_idx}).groupby("p")["a"].min()
        labels[first.index.to_numpy()] = ordered["area"].to_numpy()[first.to_numpy()]
    return labels
