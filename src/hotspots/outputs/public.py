"""Public (shareable) mode: every generalisation rule in one place, applied at the output edge.

Cocoon lists hold the addresses of burglary victims' neighbours, so a public output must
not point back to a home or a person. The rules, applied by :func:`make_public` to the
run's tables and by :func:`public_figures` to its figures (``run.json``, GeoJSON
``metadata``, GeoPackage metadata), and to a whole staged output folder at once by
:func:`make_public_folder`:

* **Places.** Points move to the centre of their ``PUBLIC_CELL_M`` (150 m) grid cell;
  cocoon zones are re-centred on the cell of their burglary; ``easting``/``northing``
  columns follow, and latitude/longitude are recomputed from the cell centre.
* **Counts at the generalised place.** ``n_homes`` is recounted around the re-centred
  zone (:func:`generalise_zones` with ``addresses``), so it no longer pins the home.
* **No ids or addresses.** ``incident_id``, ``burglary_id``, ``address_id``,
  ``patrol_id``, location and address text, street, postcode and source row numbers are
  dropped; zone ids (derived from burglary ids) become neutral ``P0001``-style
  references, the same in every file of the run.
* **Times to the day.** Timestamps become the local date (tables written as
  ``YYYY-MM-DD``; frames handed to the map keep their type at local midnight).
* **Small counts.** Every count of 1 or 2 (``SMALL_COUNT`` = 3) becomes ``"<3"``: count
  columns (``n_*``, ``visits``, ``observed``, ``zones`` ..., written as text in public
  mode so each keeps one type), the counts inside
  ``offence_mix`` ("Robbery: <3") and counts in the figures (per area, per status, per
  reason). Zero stays zero: it discloses no one.
* **No raw rows.** Rejected-row files keep only the number of rows per reason; visit
  lists, team and street lists are not written at all.
* **Extra point layers** (``--layer``: Street-Safe reports, A&E assaults, premises) hold
  the places people reported or were hurt: the public map draws none of their points,
  and ``layer_counts.csv`` keeps the counts per area and the layer totals only
  (:func:`public_layer_counts`: no per-spot counts, which would pin reports to a 150 m
  cell), small counts shown as ``<3``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots._validate import require_metric_crs
from hotspots.schema import (
    ADDRESS_ID,
    ADDRESS_TEXT,
    BURGLARY_ID,
    EASTING,
    INCIDENT_ID,
    LATITUDE,
    LOCATION,
    LONGITUDE,
    N_HOMES,
    NORTHING,
    OCCURRED_AT,
    OCCURRED_TO,
    OFFENCE,
    OFFENCE_MIX,
    POSTCODE,
    REJECT_REASON,
    SOURCE_ROW,
    STREET,
    TIME_RESOLUTION,
    ZONE_ID,
    ZONE_IDS,
)

__all__ = [
    "DROPPED_IN_PUBLIC",
    "ID_COLUMNS",
    "PUBLIC_CELL_M",
    "SMALL_COUNT",
    "SUPPRESSED",
    "generalise_points",
    "day_times",
    "generalise_zones",
    "make_public",
    "make_public_folder",
    "public_burglaries",
    "public_figures",
    "suppress_count",
]

PUBLIC_CELL_M = 150.0
SMALL_COUNT = 3  # public mode shows counts 1-2 as "<3"
SUPPRESSED = f"<{SMALL_COUNT}"
ID_COLUMNS = (
    INCIDENT_ID,
    BURGLARY_ID,
    ADDRESS_ID,
    "patrol_id",
    LOCATION,
    ADDRESS_TEXT,
    STREET,
    POSTCODE,
    SOURCE_ROW,
    "detail",
    "raw",
)
# outputs that are lists of homes: never public
DROPPED_IN_PUBLIC = (
    "cocoon_visits",
    "cocoon_team_lists",
    "cocoon_streets",
    "cocoon_lists",
    "addresses",
)
_COUNT_NAMES = {
    "visits",
    "interactions",
    "planned_visits",
    "observed",
    "zones",
    "decided",
    "cocooned_within_deadline",
    "cocooned_in_time",
    "overdue_now",
    "due_now",
    "mandatory_visited",
    "homes_in_zones",
    "rows",
}
_FIGURES_LEFT_ALONE = {"parameters", "software", "inputs", "harm_table", "files"}
_ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d")
_MIX_COUNT = re.compile(r"(:\s*)([12])(?=\s*(;|$))")
_TEXT_COUNT = re.compile(r"(?<![\d.,:%-])\b([12])\b(?= [A-Za-z])")
_ZONE_REF = "P{:04d}"


# ---------------------------------------------------------------------------- places


def generalise_points(points: gpd.GeoSeries, *, cell_m: float = PUBLIC_CELL_M) -> gpd.GeoSeries:
    """Each point moved to the centre of its ``cell_m`` grid cell (``floor(x / cell_m)``)."""
    require_metric_crs(points, what="points to generalise")
    xy = shapely.get_coordinates(points.to_numpy())
    x = (np.floor(xy[:, 0] / cell_m) + 0.5) * cell_m
    y = (np.floor(xy[:, 1] / cell_m) + 0.5) * cell_m
    return gpd.GeoSeries(gpd.points_from_xy(x, y), index=points.index, crs=points.crs)


def _snap(values: pd.Series, cell_m: float) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    return (np.floor(numbers / cell_m) + 0.5) * cell_m


def generalise_zones(
    zones: gpd.GeoDataFrame,
    *,
    radius_m: float | None = None,
    quad_segs: int = 16,
    addresses: Any = None,
) -> gpd.GeoDataFrame:
    """Zones re-centred on the grid cell of their centre, so no home can be pinpointed.

    ``radius_m`` defaults to each zone's own radius (its minimum bounding radius). The
    burgled home's own ``easting``/``northing`` columns, when present, move with it.
    With ``addresses`` (an ``AddressIndex``, or anything with ``count_within(points,
    radius_m)``), ``n_homes`` is recounted around the new centre; without it the
    count made at the exact point is removed.
    """
    out = zones.copy()
    exact = zones.geometry.centroid
    centres = generalise_points(exact)
    moved = exact.distance(centres).to_numpy() > 0.5  # already generalised zones stay put
    radius = (
        shapely.minimum_bounding_radius(zones.geometry.to_numpy()) if radius_m is None else radius_m
    )
    out[out.geometry.name] = shapely.buffer(centres.to_numpy(), radius, quad_segs=quad_segs)
    if EASTING in out and NORTHING in out:
        out[EASTING] = centres.x.to_numpy()
        out[NORTHING] = centres.y.to_numpy()
    if N_HOMES in out and bool(moved.any()):
        if addresses is not None and radius_m is not None:
            counts = addresses.count_within(centres.to_numpy(), radius_m)
            out[N_HOMES] = pd.array(counts, dtype="Int64")
        else:  # a count made at the exact point would pin it
            homes = out[N_HOMES].astype("Int64")
            homes[moved] = pd.NA
            out[N_HOMES] = homes
    return out


def public_burglaries(burglaries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Burglaries fit to share: grid-cell centres, no location text or record ids."""
    keep = [c for c in (OCCURRED_AT, OCCURRED_TO, OFFENCE, TIME_RESOLUTION) if c in burglaries]
    return gpd.GeoDataFrame(
        burglaries[keep].reset_index(drop=True),
        geometry=generalise_points(burglaries.geometry).to_numpy(),
        crs=burglaries.crs,
    )


# ---------------------------------------------------------------------------- counts


def suppress_count(value: Any) -> Any:
    """``"<3"`` for a count of 1 or 2, anything else unchanged."""
    if isinstance(value, bool | np.bool_):
        return value
    if isinstance(value, int | np.integer) and 0 < int(value) < SMALL_COUNT:
        return SUPPRESSED
    whole = isinstance(value, float | np.floating) and np.isfinite(value) and value.is_integer()
    if whole and 0 < value < SMALL_COUNT:
        return SUPPRESSED
    return value


def _is_count(name: str) -> bool:
    lower = str(name).lower()
    return lower in _COUNT_NAMES or lower.startswith("n_") or lower.endswith("_count")


def _suppress_column(col: pd.Series) -> pd.Series:
    """A count column as text, 1-2 shown as ``"<3"``.

    Always text, suppressed or not, so the column keeps one type in every file and every
    week (GIS readers turn a column mixing numbers and text into JSON or drop it).
    """
    if pd.api.types.is_bool_dtype(col):
        return col
    if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_object_dtype(col)):
        return col

    def text(v: Any) -> Any:
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return None
        v = suppress_count(v)
        if isinstance(v, float | np.floating) and float(v).is_integer():
            return str(int(v))
        return str(v)

    return col.astype(object).map(text)


def _suppress_text(text: Any, pattern: re.Pattern[str]) -> Any:
    if not isinstance(text, str):
        return text
    if pattern is _MIX_COUNT:
        return pattern.sub(lambda m: f"{m.group(1)}{SUPPRESSED}", text)
    return pattern.sub(SUPPRESSED, text)


# ---------------------------------------------------------------------------- times


def _to_day(col: pd.Series, tz: str, *, keep_tz: bool = False) -> pd.Series:
    """Timestamps (typed, or ISO text) to their local day.

    Typed columns become local midnight: tz-aware with ``keep_tz``, else naive (a
    calendar date, so no UTC conversion can move it to the evening before).
    """
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        day = col.dt.tz_convert(tz).dt.normalize()
        return day if keep_tz else day.dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(col):
        return col.dt.normalize()
    values = col.astype(object)
    return values.map(lambda v: v[:10] if isinstance(v, str) and _ISO_TIME.match(v) else v)


def _is_time_text(col: pd.Series) -> bool:
    if not (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)):
        return False
    text = col.dropna().astype(str)
    text = text[text != ""]
    return bool(len(text)) and bool(text.map(lambda v: bool(_ISO_TIME.match(v))).all())


def day_times(frame: pd.DataFrame, *, tz: str = "Europe/London") -> pd.DataFrame:
    """A copy of ``frame`` with every timestamp column at its local midnight (types kept).

    For frames handed to code that formats times itself (the map): nothing finer than
    the day is left to show.
    """
    out = frame.copy()
    for name in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[name]):
            out[name] = _to_day(out[name], tz, keep_tz=True)
    return out


# ---------------------------------------------------------------------------- tables


def _zone_refs(frames: Mapping[str, pd.DataFrame | None]) -> dict[str, str]:
    """One neutral reference per zone id, the same in every frame of the run."""
    ids: set[str] = set()
    for frame in frames.values():
        if frame is None:
            continue
        if ZONE_ID in frame:
            ids.update(str(v) for v in frame[ZONE_ID].dropna())
        if ZONE_IDS in frame:
            for joined in frame[ZONE_IDS].dropna():
                ids.update(p for p in str(joined).split(";") if p)
    return {zid: _ZONE_REF.format(i + 1) for i, zid in enumerate(sorted(ids))}


def rejected_counts(rejected: pd.DataFrame) -> pd.DataFrame:
    """Rejected rows reduced to the number of rows per reason (small counts suppressed)."""
    if REJECT_REASON in rejected and len(rejected):
        counts = rejected[REJECT_REASON].astype(str).value_counts().sort_index()
        table = pd.DataFrame({REJECT_REASON: counts.index, "rows": counts.to_numpy()})
    else:
        table = pd.DataFrame({REJECT_REASON: pd.Series(dtype=str), "rows": pd.Series(dtype=int)})
    table["rows"] = _suppress_column(table["rows"])
    return table


def _public_table(
    frame: pd.DataFrame,
    *,
    refs: Mapping[str, str],
    cell_m: float,
    tz: str,
    crs: Any,
    addresses: Any,
    radius_m: float | None,
) -> pd.DataFrame:
    out = frame.copy()
    geo = isinstance(out, gpd.GeoDataFrame) and out.geometry.name in out
    if geo and len(out) and out.crs is not None:
        kinds = set(out.geom_type.dropna())
        if kinds == {"Point"}:
            out[out.geometry.name] = generalise_points(out.geometry, cell_m=cell_m).to_numpy()
        elif ZONE_ID in out and kinds <= {"Polygon", "MultiPolygon"}:
            out = generalise_zones(out, radius_m=radius_m, addresses=addresses)
    out = out.drop(columns=[c for c in ID_COLUMNS if c in out.columns])
    if ZONE_ID in out:
        out[ZONE_ID] = out[ZONE_ID].map(lambda v: refs.get(str(v), v) if pd.notna(v) else v)
    if ZONE_IDS in out:
        out[ZONE_IDS] = out[ZONE_IDS].map(
            lambda v: ";".join(refs.get(p, p) for p in str(v).split(";")) if pd.notna(v) else v
        )
    if EASTING in out and NORTHING in out:
        east, north = _snap(out[EASTING], cell_m), _snap(out[NORTHING], cell_m)
        out[EASTING], out[NORTHING] = east.to_numpy(), north.to_numpy()
        if LATITUDE in out or LONGITUDE in out:
            if crs is None:
                out = out.drop(columns=[c for c in (LATITUDE, LONGITUDE) if c in out])
            else:
                wgs = gpd.GeoSeries(gpd.points_from_xy(east, north), crs=crs).to_crs(4326)
                out[LATITUDE] = wgs.y.round(6).to_numpy()
                out[LONGITUDE] = wgs.x.round(6).to_numpy()
    elif LATITUDE in out or LONGITUDE in out:
        out = out.drop(columns=[c for c in (LATITUDE, LONGITUDE) if c in out])
    for name in list(out.columns):
        if geo and name == out.geometry.name:
            continue
        col = out[name]
        if pd.api.types.is_datetime64_any_dtype(col) or _is_time_text(col):
            out[name] = _to_day(col, tz)
        elif _is_count(name):
            out[name] = _suppress_column(col)
        elif name == OFFENCE_MIX:
            out[name] = col.map(lambda v: _suppress_text(v, _MIX_COUNT))
    return out


def make_public(
    frames: Mapping[str, pd.DataFrame | None],
    *,
    cell_m: float = PUBLIC_CELL_M,
    tz: str = "Europe/London",
    crs: Any = None,
    addresses: Any = None,
    radius_m: float | None = None,
) -> dict[str, pd.DataFrame]:
    """The public version of every table of a run, by output name.

    Parameters
    ----------
    frames
        Output name (``"harm_spots"``, ``"cocoon_zones"``, ``"rejected"`` ...) -> table.
        Names starting with ``rejected`` are reduced to counts per reason; names in
        ``DROPPED_IN_PUBLIC`` (lists of homes) are left out of the result.
    cell_m
        Grid cell for generalised points, metres (default 150).
    tz
        Time zone whose local day timestamps are rounded to (default Europe/London).
    crs
        Working CRS of plain tables' ``easting``/``northing`` (to recompute lat/lon);
        without it their latitude/longitude columns are dropped.
    addresses, radius_m
        Address index and zone radius to recount ``n_homes`` at re-centred zones.

    Returns
    -------
    dict
        Output name -> public table (new objects; the inputs are not changed).

    Examples
    --------
    >>> t = pd.DataFrame({"burglary_id": ["B1"], "n_homes": [2], "offence_mix": ["Robbery: 1"]})
    >>> make_public({"x": t})["x"].to_dict("records")
    [{'n_homes': '<3', 'offence_mix': 'Robbery: <3'}]
    """
    refs = _zone_refs(frames)
    out: dict[str, pd.DataFrame] = {}
    for name, frame in frames.items():
        parts = name.split("::")[-1].split(".")
        if frame is None or parts[0] in DROPPED_IN_PUBLIC:
            continue
        if any(part.startswith("rejected") for part in parts):
            out[name] = rejected_counts(frame)
            continue
        if parts[0] == LAYER_COUNTS:
            frame = public_layer_counts(frame)
        out[name] = _public_table(
            frame, refs=refs, cell_m=cell_m, tz=tz, crs=crs, addresses=addresses, radius_m=radius_m
        )
    return out


LAYER_COUNTS = "layer_counts"  # the --layer counts table (hotspots.extra_layers)
POINT_LAYERS_ON_PUBLIC_MAP = False  # the public map draws no --layer points


def public_layer_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """``layer_counts`` as public mode shares it: per-area and total rows only.

    Examples
    --------
    >>> t = pd.DataFrame({"layer": ["S"] * 2, "kind": ["spot", "area"], "n_points": [4, 9]})
    >>> public_layer_counts(t)["kind"].tolist()
    ['area']
    """
    if "kind" not in counts.columns:
        return counts.copy()
    return counts[counts["kind"].astype(str) != "spot"].reset_index(drop=True)


def _times_to_day(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _times_to_day(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_times_to_day(v) for v in value]
    if isinstance(value, str) and _ISO_TIME.match(value):
        return value[:10]
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return value


def public_figures(record: Any, *, _key: str | None = None) -> Any:
    """Figures fit to share: counts of 1-2 as ``"<3"``, ids removed, times to the day.

    Applied to ``run.json``, GeoJSON ``metadata`` and GeoPackage metadata. Parameters,
    software, input-file descriptions and the harm table are left as they are.
    """
    if isinstance(record, Mapping):
        result = {}
        for key, value in record.items():
            if key in ID_COLUMNS:
                continue
            if key in _FIGURES_LEFT_ALONE:
                result[key] = _times_to_day(value)
            elif key.startswith("by_") or key.endswith(("_by_reason", "by_area", "by_status")):
                result[key] = (
                    {k: suppress_count(v) for k, v in value.items()}
                    if isinstance(value, Mapping)
                    else value
                )
            else:
                result[key] = public_figures(value, _key=key)
        return result
    if isinstance(record, list | tuple):
        return [public_figures(v, _key=_key) for v in record]
    if _key is not None and _is_count(_key):
        return suppress_count(record)
    if isinstance(record, pd.Timestamp):
        return record.strftime("%Y-%m-%d")
    if isinstance(record, str):
        if _ISO_TIME.match(record):
            return record[:10]
        if _key in ("notes", "text", "headline") or _key is None:
            return _suppress_text(_suppress_text(record, _MIX_COUNT), _TEXT_COUNT)
    return record


# ---------------------------------------------------------------------------- the folder


def _gpkg_dataset_metadata(path: Path) -> dict[str, str]:
    """GDAL dataset metadata of a GeoPackage, read from ``gpkg_metadata`` with sqlite3.

    (Asking GDAL would leave a ``.aux.xml`` side file behind.)
    """
    import sqlite3
    import xml.etree.ElementTree as ET

    out: dict[str, str] = {}
    with sqlite3.connect(path) as db:
        try:
            rows = db.execute(
                "SELECT m.metadata FROM gpkg_metadata m JOIN gpkg_metadata_reference r "
                "ON r.md_file_id = m.id WHERE r.reference_scope = 'geopackage'"
            ).fetchall()
        except sqlite3.Error:
            return out
    for (text,) in rows:
        with contextlib.suppress(ET.ParseError):
            for item in ET.fromstring(text).iter("MDI"):
                out[item.get("key", "")] = item.text or ""
    return out


def _read_csv(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    for name in frame.columns:  # whole numbers with gaps come back as floats
        col = frame[name]
        if pd.api.types.is_float_dtype(col) and col.isna().any():
            known = col.dropna()
            if len(known) and bool((known == known.round()).all()):
                frame[name] = col.astype("Int64")
    return frame


def make_public_folder(
    folder: str | os.PathLike[str],
    *,
    crs: Any,
    tz: str = "Europe/London",
    addresses: Any = None,
    radius_m: float | None = None,
    cell_m: float = PUBLIC_CELL_M,
) -> dict[str, Path]:
    """Rewrite every table and figure file of a staged run in ``folder`` as its public version.

    The one place public mode is applied to files: CSV, GeoJSON (properties and
    ``metadata``), JSON and GeoPackage (every layer and its metadata) pass through
    :func:`make_public` / :func:`public_figures` together, so zone references agree
    across files; lists of homes (``cocoon_visits.csv``, ``cocoon_lists/`` ...) are
    removed. HTML and images are left to their producers (the map and the lists take
    ``public=True`` themselves).

    Returns
    -------
    dict
        File name -> path of every file rewritten.
    """
    from hotspots.outputs.files import write_csv, write_geojson, write_geopackage, write_json

    root = Path(folder)
    tables: dict[str, pd.DataFrame] = {}
    meta: dict[str, Any] = {}
    for path in sorted(root.iterdir()):
        stem = path.stem
        if stem in DROPPED_IN_PUBLIC or path.name in DROPPED_IN_PUBLIC:
            if path.is_dir():
                import shutil

                shutil.rmtree(path)
            else:
                path.unlink()
        elif path.suffix == ".csv":
            tables[path.name] = _read_csv(path)
        elif path.suffix == ".geojson":
            doc = json.loads(path.read_text(encoding="utf-8"))
            layer = gpd.GeoDataFrame.from_features(doc["features"], crs=4326)
            tables[path.name] = layer.to_crs(crs) if crs is not None and len(layer) else layer
            meta[path.name] = doc.get("metadata")
        elif path.suffix == ".gpkg":
            import pyogrio

            for name, _ in pyogrio.list_layers(path):
                tables[f"{path.name}::{name}"] = pyogrio.read_dataframe(path, layer=str(name))
            meta[path.name] = _gpkg_dataset_metadata(path)
    public = make_public(
        tables, cell_m=cell_m, tz=tz, crs=crs, addresses=addresses, radius_m=radius_m
    )
    written: dict[str, Path] = {}
    packages: dict[str, dict[str, pd.DataFrame]] = {}
    for key, table in public.items():
        if "::" in key:
            package, layer_name = key.split("::", 1)
            if layer_name not in DROPPED_IN_PUBLIC:
                packages.setdefault(package, {})[layer_name] = table
            continue
        path = root / key
        if path.suffix == ".csv":
            written[key] = write_csv(table, path)
        else:
            record = meta.get(key)
            metadata = public_figures(record) if record is not None else None
            written[key] = write_geojson(table, path, metadata=metadata)
    for package, layers in packages.items():
        raw = meta.get(package) or {}
        provenance = raw.get("hotspots_provenance")
        record = public_figures(json.loads(provenance)) if provenance else None
        path = root / package
        path.unlink()
        written[package] = write_geopackage(
            {k: v for k, v in layers.items() if len(v)}, path, metadata=record
        )
    for path in sorted(root.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        written[path.name] = write_json(path, public_figures(record))
    for side in root.glob("*.aux.xml"):  # GDAL's side files from reading the package
        side.unlink()
    return written
