"""Map layers: harm spots, dropped spots, cocoon zones, burglaries, areas, addresses.

Each layer is a GeoJSON FeatureCollection in WGS84 (6 decimals) that carries only the
properties built here (a style, escaped popup/tooltip/label text), never raw columns;
``templates/map_feature.js`` applies them in the browser.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Template
from shapely.geometry import mapping

from hotspots.crs import WGS84
from hotspots.outputs._maptext import (
    MAP_DECIMALS,
    PUBLIC_CELL_M,
    LiteralScript,
    column_values,
    esc,
    fmt_date,
    fmt_time,
    isna,
    plain,
    spot_popups,
    template_text,
    zone_fields,
)
from hotspots.schema import (
    ADDRESS_TEXT,
    AREA_NAME,
    AREA_RANK,
    INCIDENT_ID,
    LOCATION,
    OCCURRED_AT,
    PLACE_NAME,
    RANK,
    STATUS,
    ZONE_ID,
)

__all__ = [
    "ADDRESS_COLOUR",
    "BURGLARY_COLOUR",
    "DROPPED_COLOUR",
    "LAYER_ADDRESSES",
    "LAYER_AREAS",
    "LAYER_BURGLARIES",
    "LAYER_DROPPED",
    "LAYER_SPOTS",
    "LAYER_SURFACE",
    "LAYER_ZONES",
    "MAX_ADDRESS_POINTS",
    "RANK_BANDS",
    "ZONE_COLOURS",
    "ZONE_LABELS",
    "add_addresses",
    "add_areas",
    "add_burglaries",
    "add_dropped",
    "add_point_layer",
    "add_spots",
    "add_zones",
    "badge_class",
    "CompactLayer",
    "compact_data",
    "local_ranks",
    "rank_colour",
    "spot_names",
]

LAYER_SPOTS = "Harm spots"
LAYER_DROPPED = "Dropped harm spots"
LAYER_SURFACE = "Harm surface"
LAYER_ZONES = "Cocoon zones"
LAYER_BURGLARIES = "Recent burglaries"
LAYER_AREAS = "Area boundaries"
LAYER_ADDRESSES = "Addresses in live zones"

MAX_ADDRESS_POINTS = 20_000
COMPACT_DECIMALS = 5  # 1e-5 degree is about 1 m: the compact layers' coordinates
# extra point layers (--layer), in the order given; none is a harm or zone colour
POINT_LAYER_COLOURS = ("#1f78b4", "#33a02c", "#6a3d9a", "#b15928", "#e7298a", "#666666")
# rank bands: (first rank, last rank, colour); darkest = most harm
RANK_BANDS: tuple[tuple[int, int, str], ...] = (
    (1, 5, "#67000d"),
    (6, 10, "#a50f15"),
    (11, 20, "#d7301f"),
    (21, 50, "#fc6a4a"),
    (51, 10**9, "#fca082"),
)
ZONE_COLOURS = {
    "overdue": "#d7191c",
    "due": "#ff7f00",
    "active": "#2c7bb6",
    "visited": "#1a9641",
}
ZONE_LABELS = {
    "overdue": "overdue: not visited, deadline passed",
    "due": "due: visit deadline not yet passed",
    "active": "active: past deadline, no visit log",
    "visited": "visited",
    "retrospective": "retrospective risk area (month data: no visit deadline)",
}
DROPPED_COLOUR = "#525252"
BURGLARY_COLOUR = "#111111"
ADDRESS_COLOUR = "#6a3d9a"


# ------------------------------------------------------------------ geometry to GeoJSON


def _geometry(geom: Any) -> dict[str, Any]:
    """GeoJSON geometry dict of ``geom`` (no text round trip; fast path for polygons)."""
    if geom.geom_type == "Polygon" and not geom.is_empty:
        rings = [geom.exterior, *geom.interiors]
        return {
            "type": "Polygon",
            "coordinates": [
                shapely.get_coordinates(r, include_z=geom.has_z).tolist() for r in rings
            ],
        }
    return mapping(geom)


def feature_collection(
    layer: gpd.GeoDataFrame, props: Mapping[str, Sequence[Any]], *, simplify_m: float = 0.0
) -> dict[str, Any]:
    """FeatureCollection in WGS84 (6 decimals) holding only ``props``, never raw columns."""
    geoms = layer.geometry.to_numpy()
    if simplify_m > 0:
        geoms = shapely.simplify(geoms, simplify_m, preserve_topology=True)
    wgs = gpd.GeoSeries(geoms, crs=layer.crs).to_crs(WGS84).to_numpy()
    wgs = shapely.transform(wgs, lambda c: np.round(c, MAP_DECIMALS))
    keys = list(props)
    cols = [list(props[k]) for k in keys]
    features = []
    for i, geom in enumerate(wgs):
        if geom is None:
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {k: c[i] for k, c in zip(keys, cols, strict=True)},
                "geometry": _geometry(geom),
            }
        )
    return {"type": "FeatureCollection", "features": features}


class _GeoJsonLayer(LiteralScript, folium.GeoJson):  # type: ignore[misc]  # render() by design
    """folium's GeoJSON layer, its (large) script written to the page as is."""


_ON_EACH = folium.JsCode(template_text("map_feature.js"))


def add_geojson(
    m: folium.Map,
    layer: gpd.GeoDataFrame,
    props: Mapping[str, Sequence[Any]],
    *,
    name: str,
    show: bool = True,
    simplify_m: float = 0.0,
    marker: Any = None,
) -> None:
    _GeoJsonLayer(
        feature_collection(layer, props, simplify_m=simplify_m),
        name=name,
        show=show,
        on_each_feature=_ON_EACH,
        marker=marker,
    ).add_to(m)


class CompactLayer(LiteralScript, folium.FeatureGroup):  # type: ignore[misc]  # render() by design
    """Circles or dots drawn from one compact array; popups built in the browser on click.

    ``templates/map_compact.js.j2`` turns each row into an ``L.circle`` (centre and
    radius in metres) or ``L.circleMarker`` and formats its popup from the row's text
    indices when it is opened; data text is inserted with ``textContent``, never as HTML.
    """

    _template = Template(template_text("map_compact.js.j2"))

    def __init__(self, data: dict[str, Any], *, name: str, show: bool) -> None:
        super().__init__(name=name, show=show)
        self._name = "CompactLayer"
        self.data = data


def _codes(values: Sequence[str | None]) -> tuple[list[str], np.ndarray]:
    """Distinct texts (first-seen order) and each row's index into them; -1 for None."""
    codes, uniques = pd.factorize(pd.Series(list(values), dtype=object), use_na_sentinel=True)
    return [str(u) for u in uniques], codes.astype(np.int64)


def compact_data(
    points: gpd.GeoSeries,
    *,
    kind: str,
    styles: Sequence[Mapping[str, Any]],
    columns: Sequence[Sequence[str | None]],
    style_of: Sequence[int] | None = None,
    radius_m: Sequence[float] | np.ndarray | None = None,
    title: str | None = None,
    sub: int | None = None,
    lines: Sequence[int] = (),
    table: Sequence[Sequence[Any]] = (),
    label: Sequence[int] = (),
    label_class: str = "hs-label",
    tip: int | None = None,
    marker: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One layer as a compact array for ``templates/map_compact.js.j2``.

    Each row is ``[lat, lon, radius_m, style, t0, t1, ...]``: latitude and longitude in
    units of 1e-5 degree (about 1 m), the radius in whole metres (0 for dots), the index
    of its style in ``styles``, and for each text column the index of the row's text in
    that column's list of distinct texts (-1: none). Texts are plain (not HTML): the
    browser inserts them as text. ``sub``, ``lines``, ``table`` (label, column), ``label``
    and ``tip`` name text columns by position.
    """
    n = len(points)
    wgs = points.to_crs(WGS84) if points.crs is not None else points
    xy = shapely.get_coordinates(wgs.to_numpy())
    lat = np.round(xy[:, 1] * 10**COMPACT_DECIMALS).astype(np.int64)
    lon = np.round(xy[:, 0] * 10**COMPACT_DECIMALS).astype(np.int64)
    radius = np.zeros(n, np.int64) if radius_m is None else np.round(radius_m).astype(np.int64)
    style = np.zeros(n, np.int64) if style_of is None else np.asarray(style_of, dtype=np.int64)
    texts, codes = [], []
    for values in columns:
        uniq, code = _codes(values)
        texts.append(uniq)
        codes.append(code)
    rows = np.column_stack([lat, lon, radius, style, *codes]) if n else np.empty((0, 4))
    return {
        "kind": kind,
        "rows": rows.astype(np.int64).tolist(),
        "styles": [dict(s) for s in styles],
        "texts": texts,
        "title": title,
        "sub": sub,
        "lines": list(lines),
        "table": [list(t) for t in table],
        "label": list(label),
        "labelClass": label_class,
        "tip": tip,
        "marker": dict(marker or {}),
    }


# ------------------------------------------------------------------ layers


def rank_colour(rank: object) -> str:
    r = int(rank) if not isna(rank) else 10**9  # type: ignore[call-overload]
    for lo, hi, colour in RANK_BANDS:
        if lo <= r <= hi:
            return colour
    return RANK_BANDS[-1][2]


def local_ranks(spots: gpd.GeoDataFrame) -> np.ndarray:
    """Rank of each spot within its area (``area_rank``), else its overall ``rank``."""
    own = column_values(spots, AREA_RANK)
    overall = column_values(spots, RANK)
    out = [o if not isna(o) else r for o, r in zip(own, overall, strict=True)]
    return np.array([10**9 if isna(r) else int(r) for r in out], dtype=np.int64)


def spot_names(spots: gpd.GeoDataFrame) -> list[str | None]:
    """Place name of each spot: ``place_name``, else its ``location`` text, else None."""
    names = column_values(spots, PLACE_NAME)
    locs = column_values(spots, LOCATION)
    out: list[str | None] = []
    for n, loc in zip(names, locs, strict=True):
        pick = n if isinstance(n, str) and n.strip() else loc
        out.append(pick.strip() if isinstance(pick, str) and pick.strip() else None)
    return out


def badge_class(rank: int) -> str:
    """Badge size class by rank within the area: the area's #1 largest, 11+ smallest."""
    if rank == 1:
        return "hs-b1"
    if rank <= 5:
        return "hs-b2"
    if rank <= 10:
        return "hs-b3"
    return "hs-b4"


def add_spots(m: folium.Map, spots: gpd.GeoDataFrame, *, public: bool, unit: str) -> None:
    """Spots coloured and labelled by rank within their area, the best drawn last (on top).

    Leaflet stacks shapes and permanent labels in the order they are added, so the
    spots go in from the lowest rank to the highest: no badge can cover a higher-ranked
    one. The area's #1 carries a larger badge with a star, the area and its place name.
    """
    local = local_ranks(spots)
    overall = np.array(
        [10**9 if isna(r) else int(r) for r in column_values(spots, RANK)], dtype=np.int64
    )
    # the best last: highest local rank number first; ties by overall rank, worst first
    order = np.lexsort((-overall, -local))
    spots = spots.iloc[order]
    local = local[order]
    names = spot_names(spots)
    areas = column_values(spots, AREA_NAME)
    styles = [
        {
            "className": f"hs-spot hs-spot-r{min(int(r), 999)}",
            "color": "#000000",
            "weight": 2.5 if r == 1 else 1.5,
            "opacity": 0.9,
            "fillColor": rank_colour(r),
            "fillOpacity": 0.75,
        }
        for r in local
    ]
    labels = []
    for r, name, area in zip(local.tolist(), names, areas, strict=True):
        text = esc(r)
        if r == 1:
            where = esc(area) if not isna(area) else ""
            text = f"★ 1 <b>{where}</b>"
            if name:
                text += f"<span class='hs-name'>{esc(name)}</span>"
        elif name:
            text += f"<span class='hs-name hs-name-zoom'>{esc(name)}</span>"
        labels.append(
            f"<span class='hs-badge {badge_class(r)}' style='background:{rank_colour(r)}'>"
            f"{text}</span>"
        )
    popups = spot_popups(spots, public=public, dropped=False, unit=unit)
    add_geojson(
        m,
        spots,
        {"s": styles, "popup": popups, "label": labels},
        name=LAYER_SPOTS,
    )


def add_dropped(m: folium.Map, dropped: gpd.GeoDataFrame, *, public: bool, unit: str) -> None:
    style = {
        "className": "hs-dropped",
        "color": DROPPED_COLOUR,
        "weight": 2,
        "dashArray": "5 4",
        "fill": True,
        "fillOpacity": 0.05,
    }
    add_geojson(
        m,
        dropped,
        {
            "s": [style] * len(dropped),
            "popup": spot_popups(dropped, public=public, dropped=True, unit=unit),
        },
        name=LAYER_DROPPED,
        show=False,
    )


def _short_id(zone_id: object) -> object:
    """A zone id cut to 16 characters for its map label (the popup has it in full)."""
    text = str(zone_id)
    return text if len(text) <= 16 else text[:15] + "\u2026"


def add_zones(m: folium.Map, zones: gpd.GeoDataFrame, *, public: bool) -> None:
    """Zones as circles coloured by status; close in (zoom 16+) labelled with id and place.

    Each zone is sent as its centre and radius (a cocoon zone is a circle round the
    burglary), not as its 65-vertex buffer polygon; Leaflet draws it as ``L.circle``.
    """
    statuses = [str(s) for s in column_values(zones, STATUS)]
    kinds = list(ZONE_COLOURS)
    styles = [
        {
            "className": f"hs-zone hs-zone-{s}",
            "color": ZONE_COLOURS[s],
            "weight": 2.5,
            "opacity": 0.95,
            "fillColor": ZONE_COLOURS[s],
            "fillOpacity": 0.08,
        }
        for s in kinds
    ]
    geoms = zones.geometry.to_numpy()
    centres = gpd.GeoSeries(shapely.centroid(geoms), crs=zones.crs)
    radius_m = shapely.minimum_bounding_radius(geoms)
    fields = zone_fields(zones, public=public)
    columns: list[Sequence[str | None]] = [values for _, values in fields]
    table = [[label, i] for i, (label, _) in enumerate(fields)]
    label: list[int] = []
    if not public:
        locs = column_values(zones, LOCATION)
        columns.append([str(_short_id(z)) for z in column_values(zones, ZONE_ID)])
        columns.append([loc if isinstance(loc, str) and loc.strip() else None for loc in locs])
        label = [len(columns) - 2, len(columns) - 1]
    CompactLayer(
        compact_data(
            centres,
            kind="circle",
            radius_m=radius_m,
            styles=styles,
            style_of=[kinds.index(s) for s in statuses],
            columns=columns,
            title="Cocoon zone",
            table=table,
            label=label,
            label_class="hs-label hs-zone-label",
        ),
        name=LAYER_ZONES,
        show=True,
    ).add_to(m)


def add_burglaries(m: folium.Map, burglaries: gpd.GeoDataFrame, *, public: bool) -> None:
    """Burglaries as small dots; the popup (built on click) gives the time and place."""
    when = column_values(burglaries, OCCURRED_AT)
    if public:
        columns: list[Sequence[str | None]] = [
            [fmt_date(w) for w in when],
            [f"(shown at the centre of its {PUBLIC_CELL_M:g} m grid square)"] * len(when),
        ]
        lines = [1]
    else:
        locs, ids = column_values(burglaries, LOCATION), column_values(burglaries, INCIDENT_ID)
        columns = [
            [fmt_time(w) for w in when],
            [plain(loc) for loc in locs],
            [f"incident {plain(i)}" for i in ids],
        ]
        lines = [1, 2]
    marker = {
        "radius": 3.5,
        "color": "#ffffff",
        "weight": 0.8,
        "fill": True,
        "fillColor": BURGLARY_COLOUR,
        "fillOpacity": 0.75,
    }
    CompactLayer(
        compact_data(
            burglaries.geometry,
            kind="point",
            styles=[{"className": "hs-burglary"}],
            columns=columns,
            title="Burglary",
            sub=0,
            lines=lines,
            marker=marker,
        ),
        name=LAYER_BURGLARIES,
        show=True,
    ).add_to(m)


def add_areas(m: folium.Map, areas: gpd.GeoDataFrame) -> None:
    style = {
        "className": "hs-area",
        "color": "#333333",
        "weight": 1.5,
        "dashArray": "6 4",
        "fill": False,
        "interactive": False,
    }
    names = [f"<span class='hs-aname'>{esc(a)}</span>" for a in column_values(areas, AREA_NAME)]
    add_geojson(
        m,
        areas,
        {"s": [style] * len(areas), "label": names, "lc": ["hs-label hs-area-label"] * len(areas)},
        name=LAYER_AREAS,
        simplify_m=5.0,
    )


def add_addresses(m: folium.Map, addresses: gpd.GeoDataFrame) -> str:
    n_all = len(addresses)
    shown = addresses.iloc[:MAX_ADDRESS_POINTS]
    name = (
        LAYER_ADDRESSES
        if n_all <= MAX_ADDRESS_POINTS
        else (f"{LAYER_ADDRESSES} (first {MAX_ADDRESS_POINTS:,} of {n_all:,})")
    )
    marker = {
        "radius": 2,
        "color": ADDRESS_COLOUR,
        "weight": 1,
        "fill": True,
        "fillOpacity": 0.8,
    }
    CompactLayer(
        compact_data(
            shown.geometry,
            kind="point",
            styles=[{"className": "hs-address"}],
            columns=[[plain(a) for a in column_values(shown, ADDRESS_TEXT)]],
            tip=0,
            marker=marker,
        ),
        name=name,
        show=False,
    ).add_to(m)
    return name


def add_point_layer(
    m: folium.Map, points: gpd.GeoDataFrame, *, name: str, colour: str, show: bool = True
) -> None:
    """An extra point layer (``--layer NAME=FILE``) as small dots of one colour.

    Each dot's tooltip is the layer name and the point's ``label`` text (plain text, put
    in by the browser as text), when it has one; the layer is one compact array. At most
    :data:`MAX_ADDRESS_POINTS` are drawn (the counts use them all).
    """
    shown = points.iloc[:MAX_ADDRESS_POINTS]
    labels = column_values(shown, "label") if "label" in shown.columns else [""] * len(shown)
    marker = {
        "radius": 3,
        "color": "#ffffff",
        "weight": 0.8,
        "fill": True,
        "fillColor": colour,
        "fillOpacity": 0.85,
    }
    tips = [name + (f": {t}" if isinstance(t, str) and t.strip() else "") for t in labels]
    CompactLayer(
        compact_data(
            shown.geometry,
            kind="point",
            styles=[{"className": "hs-extra"}],
            columns=[tips],
            tip=0,
            marker=marker,
        ),
        name=name,
        show=show,
    ).add_to(m)
