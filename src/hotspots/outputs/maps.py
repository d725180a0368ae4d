"""The analyst's map: harm spots, cocoon zones, recent burglaries and the harm surface.

One folium page for the weekly tasking meeting. Harm spots (Sherman, Neyroud & Neyroud
2016, the Cambridge Crime Harm Index; Weisburd 2015 on the concentration of crime in
small places) are coloured by rank with their rank as a label; cocoon zones (Johnson &
Bowers 2004) by status, drawn as circles from centre and radius. Zones, burglaries and
addresses are each one compact array (1e-5 degree coordinates, whole metres, texts
stored once and indexed) whose popups the browser builds on click, inserting data text
as text (never HTML); the few spot polygons carry escaped popups. The page embeds only
properties built here (never raw columns). The harm surface is drawn from compact cell
centres on a canvas, or above 20,000 cells as one PNG image, so a 1M-incident map stays
under 5 MB. ``public=True`` makes a shareable version: no addresses,
burglaries moved to the centre of their 150 m grid cell, zones re-centred likewise, and
counts of 1 or 2 shown as ``<3``.

This module assembles the page (title, legend, footer, layer control); the layers are
built in ``_maplayers``, the harm surface in ``_surface`` and all page text (escaping,
formats, popups) in ``_maptext``. Public names are importable from here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement, Template

from hotspots._validate import require_columns, require_metric_crs
from hotspots.crs import folium_bounds, folium_location
from hotspots.errors import InputError, OptionError, SchemaError
from hotspots.outputs._maplayers import (
    ADDRESS_COLOUR,
    BURGLARY_COLOUR,
    DROPPED_COLOUR,
    LAYER_ADDRESSES,
    LAYER_AREAS,
    LAYER_BURGLARIES,
    LAYER_DROPPED,
    LAYER_SPOTS,
    LAYER_SURFACE,
    LAYER_ZONES,
    POINT_LAYER_COLOURS,
    RANK_BANDS,
    ZONE_COLOURS,
    ZONE_LABELS,
    add_addresses,
    add_areas,
    add_burglaries,
    add_dropped,
    add_point_layer,
    add_spots,
    add_zones,
    local_ranks,
    rank_colour,
)
from hotspots.outputs._maptext import (
    PUBLIC_CELL_M,
    esc,
    fmt_time,
    harm_unit,
    marking_for,
    provenance_lines,
    template_text,
)
from hotspots.outputs._surface import (
    SURFACE_COLOURS,
    SURFACE_IMAGE_CELLS,
    SurfaceImage,
    SurfaceLayer,
    surface_data,
    surface_image,
)
from hotspots.outputs.files import write_text
from hotspots.outputs.offline import inline_assets, leaflet_only
from hotspots.outputs.public import generalise_points, generalise_zones
from hotspots.schema import (
    AREA_NAME,
    DUE_BY,
    EXPIRES_ON,
    HARM_TOTAL,
    OCCURRED_AT,
    RANK,
    SPOT_ID,
    STATUS,
    ZONE_ID,
    ZONE_KIND,
    ZONE_STATUSES,
    zones_phrase,
)

__all__ = [
    "LAYER_ADDRESSES",
    "LAYER_AREAS",
    "LAYER_BURGLARIES",
    "LAYER_DROPPED",
    "LAYER_SPOTS",
    "LAYER_SURFACE",
    "LAYER_ZONES",
    "PUBLIC_CELL_M",
    "RANK_BANDS",
    "ZONE_COLOURS",
    "build_map",
    "esc",
    "generalise_points",
    "write_map",
]

# ------------------------------------------------------------------ page furniture

_CSS = f"<style>\n{template_text('map.css')}</style>\n"
_OSM_NAMES = {"openstreetmap", "osm"}


def _tile_layer(tiles: str, attribution: str | None) -> folium.raster_layers.Layer:
    """Base layer for ``tiles``: "OpenStreetMap", an XYZ template or a WMS URL.

    A WMS URL names its layer(s) in the query string (``...?layers=basemap``); the
    other WMS parameters are filled in by Leaflet. Without an attribution the server's
    host is credited, so the map always says whose map it is.
    """
    if tiles.strip().lower() in _OSM_NAMES:
        return folium.TileLayer("OpenStreetMap", control=False)
    parts = urlsplit(tiles)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        msg = (
            f"tiles must be 'OpenStreetMap', an http(s) tile template with {{z}}/{{x}}/{{y}} "
            f"or a WMS URL with ?layers=NAME; got {tiles!r}."
        )
        raise OptionError(msg)
    credit = attribution or f"Map tiles: {esc(parts.netloc)}"
    if all(k in tiles for k in ("{z}", "{x}", "{y}")):
        return folium.TileLayer(tiles=tiles, attr=credit, control=False, max_zoom=19)
    query = dict(parse_qsl(parts.query))
    layers = {k.lower(): v for k, v in query.items()}.get("layers")
    if not layers:
        msg = (
            f"tiles URL {tiles!r} is neither a {{z}}/{{x}}/{{y}} template nor a WMS URL "
            f"naming its layer(s); add ?layers=NAME for a WMS server."
        )
        raise OptionError(msg)
    rest = {k: v for k, v in query.items() if k.lower() not in ("layers", "service", "request")}
    base = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), ""))
    return folium.WmsTileLayer(
        url=base,
        layers=layers,
        fmt=rest.get("format", "image/png"),
        transparent=False,
        attr=credit,
        control=False,
    )


class _ZoomClasses(MacroElement):
    """Puts ``hs-zoom-lt12``/``-lt14``/``-lt16`` on the map container as the zoom changes.

    The CSS hides the small badges at force zoom, the spots' place names below town zoom
    and the zone labels below street zoom, so labels never crowd the view.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
(function(m) {
  function zoomClasses() {
    var z = m.getZoom(), c = m.getContainer();
    c.classList.toggle('hs-zoom-lt12', z < 12);
    c.classList.toggle('hs-zoom-lt14', z < 14);
    c.classList.toggle('hs-zoom-lt16', z < 16);
  }
  m.on('zoomend', zoomClasses);
  zoomClasses();
})({{ this._parent.get_name() }});
{% endmacro %}"""
    )


def _legend(
    *,
    spots: int,
    ranks: Sequence[int],
    dropped: int | None,
    zone_counts: dict[str, int] | None,
    surface_labels: list[str] | None,
    burglaries: int | None,
    areas: bool,
    addresses: str | None,
    public: bool,
    dosage_line: str | None = None,
    point_layers: Sequence[tuple[str, str, int]] = (),
) -> str:
    parts = ["<div class='hs-legend' id='hs-legend'>"]
    parts.append(f"<h2>{LAYER_SPOTS} ({spots}), by rank in their area</h2>")
    if spots:
        parts.append(
            "<div><span class='hs-badge hs-b1' style='background:"
            f"{rank_colour(1)}'>\u2605 1</span> top spot of each area</div>"
        )
    present = set(int(r) for r in ranks)
    for lo, hi, colour in RANK_BANDS:
        if not any(lo <= r <= hi for r in present):
            continue
        top = min(hi, max(present))
        label = f"rank {lo}" if top == lo else f"rank {lo}\u2013{top}"
        parts.append(f"<div><i style='background:{colour}'></i>{label}</div>")
    if dropped:  # only a class that is drawn
        parts.append(
            f"<div><i style='background:transparent;border:2px dashed {DROPPED_COLOUR}'>"
            f"</i>{LAYER_DROPPED.lower()} ({dropped}; off by default)</div>"
        )
    if zone_counts is not None:
        kinds = [
            "retrospective" if status == "retrospective" else "operational"
            for status, n in zone_counts.items()
            for _ in range(n)
        ]
        parts.append(f"<h2>{LAYER_ZONES} ({zones_phrase(len(kinds), kinds)})</h2>")
        active = ZONE_COLOURS["active"]  # retrospective zones are drawn as active ones
        for status in (*ZONE_STATUSES, "retrospective"):
            if not zone_counts.get(status):
                continue
            parts.append(
                f"<div><i class='ring' style='border-color:{ZONE_COLOURS.get(status, active)}'></i>"
                f"{esc(ZONE_LABELS[status])} ({zone_counts.get(status, 0)})</div>"
            )
    if burglaries is not None:
        where = " (grid-square centres)" if public else ""
        parts.append(
            f"<div><i class='dot' style='background:{BURGLARY_COLOUR}'></i>"
            f"{LAYER_BURGLARIES.lower()}{where} ({burglaries})</div>"
        )
    if surface_labels:
        parts.append(f"<h2>{LAYER_SURFACE} (harm per cell)</h2>")
        for colour, label in zip(SURFACE_COLOURS, surface_labels, strict=False):
            parts.append(f"<div><i style='background:{colour};opacity:.8'></i>{label}</div>")
    if areas:
        parts.append(f"<div><i class='line'></i>{LAYER_AREAS.lower()}</div>")
    if addresses:
        parts.append(
            f"<div><i class='dot' style='background:{ADDRESS_COLOUR}'></i>"
            f"{esc(addresses)} (off by default)</div>"
        )
    for name, colour, count in point_layers:
        shown = (
            "not drawn in the public version; counts per area in layer_counts.csv"
            if public
            else f"{count:,} points"
        )
        parts.append(
            f"<div><i class='dot' style='background:{colour}'></i>{esc(name)} ({shown})</div>"
        )
    if dosage_line:
        parts.append(
            "<h2>Patrol delivery</h2><div class='hs-dosage' style='max-width:24em;"
            f"white-space:normal'>{esc(dosage_line)}</div>"
        )
    parts.append("</div>")
    return "".join(parts)


# ------------------------------------------------------------------ checks


def _frame(layer: object, *, what: str, columns: Sequence[str]) -> gpd.GeoDataFrame:
    if not isinstance(layer, gpd.GeoDataFrame):
        msg = f"{what} must be a GeoDataFrame; got {type(layer).__name__}."
        raise TypeError(msg)
    require_metric_crs(layer, what=what)
    require_columns(layer, columns, what=what)
    keep = layer.geometry.notna().to_numpy() & ~layer.geometry.is_empty.to_numpy()
    if not keep.all():
        bad = np.flatnonzero(~keep)[:5].tolist()
        msg = (
            f"{what} has {int((~keep).sum())} row(s) with no geometry (positions {bad}); "
            f"drop or fix them before mapping."
        )
        raise SchemaError(msg)
    return layer


def _outline(layer: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Convex hull of every vertex of ``layer``: same WGS84 bounds, far fewer points.

    The bounds of a layer are those of its reprojected vertices; the extreme ones lie on
    the hull (the reprojection is smooth and nearly affine over a force area), so only
    the hull's few vertices need reprojecting instead of every cell of the surface.
    """
    xy = shapely.get_coordinates(layer.geometry.to_numpy())
    # one line through every vertex is built without a point object per vertex
    shape = shapely.linestrings(xy) if len(xy) > 1 else shapely.points(xy[0])
    return gpd.GeoSeries([shapely.convex_hull(shape)], crs=layer.crs)


def _check_zone_status(zones: pd.DataFrame) -> None:
    bad = sorted(set(zones[STATUS].astype(str)) - set(ZONE_STATUSES))
    if bad:
        msg = (
            f"zones has status value(s) {bad}; a live zone is one of {ZONE_STATUSES}. "
            f"Pass only live zones from hotspots.cocoon.cocoon_zones."
        )
        raise SchemaError(msg)


# ------------------------------------------------------------------ public API


def build_map(
    *,
    spots: gpd.GeoDataFrame,
    dropped: gpd.GeoDataFrame | None = None,
    surface: gpd.GeoDataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    burglaries: gpd.GeoDataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
    addresses: gpd.GeoDataFrame | None = None,
    title: str,
    as_of: pd.Timestamp,
    provenance: Mapping[str, Any],
    public: bool = False,
    tiles: str | bool | None = None,
    tiles_attribution: str | None = None,
    surface_cell_m: float = 150.0,
    dosage_line: str | None = None,
    point_layers: Sequence[tuple[str, gpd.GeoDataFrame]] = (),
) -> folium.Map:
    """Build the analyst's folium map of one weekly run.

    Parameters
    ----------
    spots
        Ranked harm spots (polygons in a metric CRS) with ``spot_id``, ``rank``, ``area``
        and ``harm``; ``area_rank``, ``harm_share``, ``n_incidents``, ``offence_mix``,
        ``harm_per_ha``, ``harm_previous``, ``trend``, ``status``, ``peak_windows`` and
        ``planned_visits`` are shown when present.
    dropped
        Spots of last week that dropped out (same columns); a layer that starts hidden.
    surface
        Candidate cells with ``harm`` (and ``n_incidents``) in five quantile classes of
        harm: drawn on a canvas, each cell with a popup, up to ``SURFACE_IMAGE_CELLS``
        (20,000) cells; above that as one PNG image overlay (no per-cell popups), which
        keeps a national map small and quick to open.
    zones
        Live cocoon zones (``hotspots.cocoon.cocoon_zones``): ``zone_id``,
        ``occurred_at``, ``due_by``, ``expires_on``, ``status``; coloured by status.
    burglaries
        Recent burglaries (points) with ``occurred_at``; ``location`` and ``incident_id``
        are shown (escaped) except in public mode. Pass only the recent weeks.
    areas
        Area boundaries (``area`` and polygons).
    addresses
        Address points in live zones (``address`` text shown as a tooltip); ignored in
        public mode. At most 20,000 are drawn and the layer name says so.
    title
        Page title, e.g. the area names. Escaped.
    as_of
        Moment the run is for; shown in the title.
    provenance
        ``hotspots.outputs.build_provenance`` output, plus ``date_min``, ``date_max`` and
        ``harm_table``; shown in the footer.
    public
        Shareable version: no addresses, burglaries and zones moved to the centre of their
        150 m grid cell, counts 1-2 shown as ``<3``, no incident ids or locations.
    tiles
        Background map: None (default) for none, so the page needs no network (area
        boundaries and place-name labels give the orientation); ``"OpenStreetMap"``;
        or the force's own server, as an XYZ template
        (``https://tiles.force.police.uk/{z}/{x}/{y}.png``) or a WMS URL naming its
        layer (``https://gis.force/wms?layers=basemap``). True means OpenStreetMap and
        False none (the old switch).
    tiles_attribution
        Credit shown for a tile/WMS server (HTML); default the server's host name.
    surface_cell_m
        Cell size of the surface in metres, shown in the legend (default 150).
    dosage_line
        The patrol log's force-wide week in one line (``hotspots.spots.dosage_sentence``),
        shown in the legend; None shows nothing.
    point_layers
        Extra point layers (``--layer``) as (name, points with optional ``label``), each
        its own toggleable layer; in public mode none is drawn (the legend says so).

    Returns
    -------
    folium.Map
        Write it with :func:`write_map`.

    Raises
    ------
    TypeError
        A layer is not a GeoDataFrame.
    CRSError
        A layer is not in a metric CRS.
    SchemaError
        A layer lacks a required column, has empty geometries, or zones have a status
        that is not live.
    InputError
        Nothing at all to map.

    Examples
    --------
    >>> m = build_map(spots=example_spots, title="Town", as_of=pd.Timestamp("2025-06-30"),
    ...               provenance={})
    >>> "Harm spots" in m.get_root().render()
    True
    """
    if not isinstance(title, str):
        msg = f"title must be text; got {type(title).__name__}."
        raise TypeError(msg)
    if tiles is True:
        tiles = "OpenStreetMap"
    elif tiles is False:
        tiles = None
    base_layer = None if tiles is None else _tile_layer(str(tiles), tiles_attribution)
    as_of = pd.Timestamp(as_of)
    spots = _frame(spots, what="spots", columns=[SPOT_ID, RANK, AREA_NAME, HARM_TOTAL])
    layers: list[gpd.GeoDataFrame] = [spots]
    if dropped is not None:
        dropped = _frame(dropped, what="dropped spots", columns=[SPOT_ID, RANK, HARM_TOTAL])
        layers.append(dropped)
    if surface is not None:
        surface = _frame(surface, what="surface", columns=[HARM_TOTAL])
        layers.append(surface)
    if zones is not None:
        zones = _frame(
            zones, what="zones", columns=[ZONE_ID, OCCURRED_AT, DUE_BY, EXPIRES_ON, STATUS]
        )
        _check_zone_status(zones)
        if public and len(zones):
            zones = generalise_zones(zones)
        layers.append(zones)
    if burglaries is not None:
        burglaries = _frame(burglaries, what="burglaries", columns=[OCCURRED_AT])
        if public and len(burglaries):
            burglaries = burglaries.set_geometry(generalise_points(burglaries.geometry))
        layers.append(burglaries)
    if areas is not None:
        areas = _frame(areas, what="areas", columns=[AREA_NAME])
    if addresses is not None:
        addresses = _frame(addresses, what="addresses", columns=[])
        if public:
            addresses = None
    if addresses is not None:
        layers.append(addresses)
    with_data = [g for g in layers if len(g)]
    if not with_data and (areas is None or not len(areas)):
        msg = (
            "Nothing to map: spots, surface, zones and burglaries are all empty and no area "
            "boundaries were given; check the --as-of date and the look-back window."
        )
        raise InputError(msg)
    extent = with_data or [areas]
    boxes = [folium_bounds(_outline(g)) for g in extent]
    bounds = [
        [min(b[0][0] for b in boxes), min(b[0][1] for b in boxes)],
        [max(b[1][0] for b in boxes), max(b[1][1] for b in boxes)],
    ]

    m = leaflet_only(
        folium.Map(
            location=folium_location(extent[0]),
            zoom_start=11,
            tiles=None,
            control_scale=True,
        )
    )
    if base_layer is not None:  # the only base layer: no radio button in the layer control
        base_layer.add_to(m)
    root = m.get_root()
    root.header.add_child(Element(_CSS), name="hs_css")
    if base_layer is None:
        root.header.add_child(
            Element("<style>.leaflet-container{background:#f3f1ea}</style>"), name="hs_plain"
        )
    surface_labels = None
    if surface is not None and len(surface) > SURFACE_IMAGE_CELLS:
        image, surface_labels = surface_image(surface, cell_m=surface_cell_m)
        SurfaceImage(image, name=LAYER_SURFACE, show=True).add_to(m)
    elif surface is not None and len(surface):
        data, surface_labels = surface_data(surface, public=public)
        SurfaceLayer(data, name=LAYER_SURFACE, show=True).add_to(m)
    if areas is not None and len(areas):
        add_areas(m, areas)
    if dropped is not None and len(dropped):
        add_dropped(m, dropped, public=public, unit=harm_unit(provenance))
    zone_counts = None
    if zones is not None:
        # month-data zones are risk areas, not "past deadline": they never had one
        kind = zones[STATUS].astype(str)
        if ZONE_KIND in zones:
            kind = kind.mask(zones[ZONE_KIND].astype(str) == "retrospective", "retrospective")
        zone_counts = {str(k): int(v) for k, v in kind.value_counts().items()}
        if len(zones):
            add_zones(m, zones, public=public)
    if len(spots):
        add_spots(m, spots, public=public, unit=harm_unit(provenance))
    if burglaries is not None and len(burglaries):
        add_burglaries(m, burglaries, public=public)
    address_layer = None
    if addresses is not None and len(addresses):
        address_layer = add_addresses(m, addresses)
    extra = []
    for i, (name, points) in enumerate(point_layers):
        colour = POINT_LAYER_COLOURS[i % len(POINT_LAYER_COLOURS)]
        extra.append((name, colour, len(points)))
        if not public and len(points):
            add_point_layer(m, _frame(points, what=f"layer {name}", columns=[]), name=name,
                            colour=colour)  # fmt: skip
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    m.fit_bounds(bounds)
    _ZoomClasses().add_to(m)

    marking = marking_for(provenance, public=public)
    root.html.add_child(
        Element(
            f"<div class='hs-title' id='hs-title'><div class='hs-marking'>{esc(marking)}</div>"
            f"<h1>{esc(title)}</h1>as of {esc(fmt_time(as_of))}"
            f"{' &middot; public version' if public else ''}</div>"
        ),
        name="hs_title",
    )
    root.html.add_child(
        Element(
            _legend(
                spots=len(spots),
                ranks=local_ranks(spots).tolist() if len(spots) else [],
                dropped=None if dropped is None else len(dropped),
                zone_counts=zone_counts,
                surface_labels=surface_labels
                and [
                    f"{lab} ({surface_cell_m:g} m cells)" if i == 0 else lab
                    for i, lab in enumerate(surface_labels)
                ],
                burglaries=None if burglaries is None else len(burglaries),
                areas=areas is not None,
                addresses=address_layer,
                public=public,
                dosage_line=dosage_line,
                point_layers=extra,
            )
        ),
        name="hs_legend",
    )
    summary, details = provenance_lines(provenance)
    detail_html = "".join(f"<div>{d}</div>" for d in details)
    root.html.add_child(
        Element(
            f"<details class='hs-footer' id='hs-footer'><summary>{summary}</summary>"
            f"{detail_html}</details>"
        ),
        name="hs_footer",
    )
    return m


def write_map(
    m: folium.Map,
    path: str | Path,
    *,
    cdn: bool = False,
    offline_assets: str | Path | None = None,
) -> Path:
    """Render ``m`` and write it atomically to ``path``, working with no network by default.

    Parameters
    ----------
    m
        A map from :func:`build_map` (or any folium map that uses Leaflet only).
    path
        Output HTML file.
    cdn
        Link Leaflet from its CDN instead of inlining the package's copy (a page about
        150 kB smaller that needs the internet). Default False.
    offline_assets
        A folder to inline Leaflet from instead of the package's copy (same file names as
        ``scripts/fetch-offline-assets DIR`` writes). Ignored with ``cdn=True``.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InputError
        A file is missing from ``offline_assets``, or the map links to a plugin with no
        offline copy (the message names it and how to fix it).
    """
    page = m.get_root().render()
    if not cdn:
        page = inline_assets(page, offline_assets)
    return write_text(path, page)
