"""The analyst's map: harm spots, cocoon zones, recent burglaries and the harm surface.

One folium page for the weekly tasking meeting. Harm spots (Sherman, Neyroud & Neyroud
2016, the Cambridge Crime Harm Index; Weisburd 2015 on the concentration of crime in
small places) are coloured by rank with their rank as a label; cocoon zones (Johnson &
Bowers 2004) by status. Every text that comes from data is HTML-escaped, the page embeds
only properties built here (never raw columns), coordinates are rounded to 6 decimals
and the harm surface is drawn from compact cell centres on a canvas, so a force year
stays well under 5 MB. ``public=True`` makes a shareable version: no addresses,
burglaries moved to the centre of their 150 m grid cell, zones re-centred likewise, and
counts of 1 or 2 shown as ``<3``.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Template

from hotspots._validate import require_columns, require_metric_crs
from hotspots.crs import WGS84, folium_bounds, folium_location
from hotspots.errors import InputError, SchemaError
from hotspots.outputs.files import write_text
from hotspots.outputs.offline import inline_assets
from hotspots.schema import (
    ADDRESS_TEXT,
    AREA_NAME,
    AREA_RANK,
    DUE_BY,
    EXPIRES_ON,
    HARM_PER_HA,
    HARM_PREVIOUS,
    HARM_SHARE,
    HARM_TOTAL,
    INCIDENT_ID,
    LOCATION,
    N_HOMES,
    N_INCIDENTS,
    N_OVERLAPPING,
    OCCURRED_AT,
    OFFENCE_MIX,
    PEAK_WINDOWS,
    PLANNED_VISITS,
    RANK,
    SPOT_ID,
    STATUS,
    TREND,
    ZONE_ID,
    ZONE_MONTH_DATES,
    ZONE_STATUSES,
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

LAYER_SPOTS = "Harm spots"
LAYER_DROPPED = "Dropped harm spots"
LAYER_SURFACE = "Harm surface"
LAYER_ZONES = "Cocoon zones"
LAYER_BURGLARIES = "Recent burglaries"
LAYER_AREAS = "Area boundaries"
LAYER_ADDRESSES = "Addresses in live zones"

MAP_DECIMALS = 6  # about 0.1 m: plenty for a web map, and keeps the page small
PUBLIC_CELL_M = 150.0
SMALL_COUNT = 3  # public mode shows counts 1-2 as "<3"
MAX_ADDRESS_POINTS = 20_000
# rank bands: (first rank, last rank, colour); darkest = most harm
RANK_BANDS: tuple[tuple[int, int, str], ...] = (
    (1, 5, "#67000d"),
    (6, 10, "#a50f15"),
    (11, 20, "#d7301f"),
    (21, 50, "#fc6a4a"),
    (51, 10**9, "#fca082"),
)
ZONE_COLOURS = {"overdue": "#d7191c", "due": "#ff7f00", "active": "#2c7bb6", "visited": "#1a9641"}
ZONE_LABELS = {
    "overdue": "overdue: not visited, deadline passed",
    "due": "due: visit deadline not yet passed",
    "active": "active: past deadline, no visit log",
    "visited": "visited",
}
SURFACE_COLOURS = ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f")
DROPPED_COLOUR = "#525252"
BURGLARY_COLOUR = "#111111"
ADDRESS_COLOUR = "#6a3d9a"
SPOT_STATUSES = ("new", "persisting")

# ------------------------------------------------------------------ text helpers


@cache
def _template_text(name: str) -> str:
    """Text of a file in ``hotspots/outputs/templates`` (package data: CSS, JavaScript)."""
    return files("hotspots.outputs").joinpath("templates", name).read_text(encoding="utf-8")


def _isna(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def esc(value: object) -> str:
    """HTML-escaped text of ``value``; a missing value becomes an en dash."""
    if value is None or (not isinstance(value, str) and _isna(value)) or value == "":
        return "\u2013"
    return html.escape(str(value), quote=True)


_MONTH_POINT = {"start": "start", "mid": "middle", "end": "end"}


def burglary_when(occurred: object, month_dates: object) -> str:
    """Burglary date, saying so when it was dated from month-only data."""
    when = fmt_date(occurred)
    if isinstance(month_dates, str) and month_dates:
        point = _MONTH_POINT.get(month_dates, month_dates)
        when += f" (month-only data: dated at the {esc(point)} of the month)"
    return when


def fmt_count(value: object, *, public: bool) -> str:
    """A count as text; in public mode counts 1-2 become ``<3`` (escaped)."""
    if value is None or _isna(value):
        return "not known"
    n = int(value)  # type: ignore[call-overload]
    if public and 0 < n < SMALL_COUNT:
        return f"&lt;{SMALL_COUNT}"
    return f"{n:,}"


def fmt_num(value: object, *, digits: int = 0) -> str:
    """A number with thousands separators, or an en dash when missing."""
    if value is None or _isna(value):
        return "\u2013"
    return f"{float(value):,.{digits}f}"  # type: ignore[arg-type]


def fmt_date(value: object) -> str:
    """``Mon 02 Jun 2025`` (British order), or an en dash."""
    if value is None or _isna(value):
        return "\u2013"
    return pd.Timestamp(value).strftime("%a %d %b %Y")  # type: ignore[arg-type]


def fmt_time(value: object) -> str:
    """``Mon 02 Jun 2025 14:30``, or an en dash."""
    if value is None or _isna(value):
        return "\u2013"
    return pd.Timestamp(value).strftime("%a %d %b %Y %H:%M")  # type: ignore[arg-type]


_MIX_COUNT = re.compile(r"(:\s*)(\d+)")


def public_mix(text: object, *, public: bool) -> str:
    """Escaped offence-mix text; in public mode counts 1-2 in it become ``<3``."""
    out = esc(text)
    if not public:
        return out

    def sub(match: re.Match[str]) -> str:
        n = int(match.group(2))
        return match.group(1) + (f"&lt;{SMALL_COUNT}" if 0 < n < SMALL_COUNT else match.group(2))

    return _MIX_COUNT.sub(sub, out)


def generalise_points(points: gpd.GeoSeries, *, cell_m: float = PUBLIC_CELL_M) -> gpd.GeoSeries:
    """Each point moved to the centre of its ``cell_m`` grid cell (``floor(x / cell_m)``)."""
    require_metric_crs(points, what="points to generalise")
    xy = shapely.get_coordinates(points.to_numpy())
    x = (np.floor(xy[:, 0] / cell_m) + 0.5) * cell_m
    y = (np.floor(xy[:, 1] / cell_m) + 0.5) * cell_m
    return gpd.GeoSeries(gpd.points_from_xy(x, y), index=points.index, crs=points.crs)


def marking_for(provenance: Mapping[str, Any], *, public: bool) -> str:
    """Protective marking for a page header."""
    if bool(provenance.get("synthetic")) or provenance.get("command") == "demo":
        return "SYNTHETIC DATA \u2013 NOT FOR OPERATIONAL USE"
    if public:
        return "OFFICIAL \u2013 public version: locations generalised, no personal data"
    return "OFFICIAL-SENSITIVE \u2013 locations near victims' homes; do not share outside the force"


def _plain(value: Any) -> str:
    if isinstance(value, Mapping):
        name = value.get("name") or value.get("id") or value.get("table")
        version = value.get("version")
        return " ".join(str(v) for v in (name, version) if v) or json.dumps(value, default=str)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def provenance_lines(provenance: Mapping[str, Any]) -> tuple[str, list[str]]:
    """Escaped one-line summary and detail lines (run time, parameters, inputs) for a footer."""
    software = provenance.get("software") or {}
    version = software.get("version", "?") if isinstance(software, Mapping) else software
    dmin, dmax = provenance.get("date_min"), provenance.get("date_max")
    span = (
        f"{esc(_plain(dmin))[:10]} to {esc(_plain(dmax))[:10]}"
        if dmin is not None or dmax is not None
        else "not recorded"
    )
    harm = provenance.get("harm_table")
    summary = (
        f"Data {span} \u00b7 harm table {esc(_plain(harm)) if harm else 'not recorded'}"
        f" \u00b7 hotspots {esc(version)}"
    )
    details = []
    if provenance.get("run_at"):
        details.append(f"Run at {esc(provenance['run_at'])}")
    params = provenance.get("parameters") or {}
    if params:
        details.append(
            "Parameters: "
            + "; ".join(
                f"{esc(k)}={esc(_plain(v))}" for k, v in sorted(params.items()) if v is not None
            )
        )
    inputs = provenance.get("inputs") or []
    if inputs:
        details.append(
            "Inputs: "
            + ", ".join(esc(i.get("file", i)) if isinstance(i, Mapping) else esc(i) for i in inputs)
        )
    return summary, details


def _table(rows: Sequence[tuple[str, str]]) -> str:
    """Two-column popup table; values must already be escaped."""
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<table class='hs-pop'>{body}</table>"


def _col(frame: pd.DataFrame, name: str) -> list[Any]:
    return frame[name].tolist() if name in frame.columns else [None] * len(frame)


# ------------------------------------------------------------------ geometry to GeoJSON


def _geojson(
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
    for i, text in enumerate(shapely.to_geojson(wgs)):
        if text is None:
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {k: c[i] for k, c in zip(keys, cols, strict=True)},
                "geometry": json.loads(text),
            }
        )
    return {"type": "FeatureCollection", "features": features}


_ON_EACH = folium.JsCode(_template_text("map_feature.js"))


def _add_geojson(
    m: folium.Map,
    layer: gpd.GeoDataFrame,
    props: Mapping[str, Sequence[Any]],
    *,
    name: str,
    show: bool = True,
    simplify_m: float = 0.0,
    marker: Any = None,
) -> None:
    folium.GeoJson(
        _geojson(layer, props, simplify_m=simplify_m),
        name=name,
        show=show,
        on_each_feature=_ON_EACH,
        marker=marker,
    ).add_to(m)


# ------------------------------------------------------------------ harm surface


class _SurfaceLayer(folium.FeatureGroup):
    """Grid cells drawn on a canvas from compact data: centre, shape template, class."""

    _template = Template(_template_text("map_surface.js.j2"))

    def __init__(self, data: dict[str, Any], *, name: str, show: bool) -> None:
        super().__init__(name=name, show=show)
        self._name = "HarmSurface"
        self.data = data


def _class_breaks(values: np.ndarray, k: int = len(SURFACE_COLOURS)) -> np.ndarray:
    """Quantile class edges (unique, interior): class = searchsorted(edges, v, 'right')."""
    qs = np.quantile(values, np.linspace(0, 1, k + 1)[1:-1]) if len(values) else np.array([])
    return np.unique(qs)


def _surface_data(surface: gpd.GeoDataFrame, *, public: bool) -> tuple[dict[str, Any], list[str]]:
    """Compact surface: cell centres, ring templates in metres, harm classes.

    Each cell is ``[dlat, dlon, template, class, harm, incidents]`` where ``dlat, dlon``
    are micro-degree steps from the previous cell (cells sorted by latitude), the template
    is the ring's vertex offsets in metres from the centre (one template for a regular
    grid), and ``e``/``n`` turn metres east/north into degrees near the layer's centre.
    Public mode sends incidents 1-2 as -1 (shown ``<3``).
    """
    harm = surface[HARM_TOTAL].to_numpy(dtype="float64")
    counts = (
        surface[N_INCIDENTS].to_numpy(dtype="float64", na_value=np.nan)
        if N_INCIDENTS in surface
        else np.full(len(surface), np.nan)
    )
    edges = _class_breaks(harm)
    cls = np.searchsorted(edges, harm, side="right")
    bounds = [0.0, *edges.tolist(), float(harm.max()) if len(harm) else 0.0]
    labels = [f"{bounds[i]:,.0f}\u2013{bounds[i + 1]:,.0f}" for i in range(len(bounds) - 1)]
    parts, owner = shapely.get_parts(surface.geometry.to_numpy(), return_index=True)
    centre = shapely.centroid(parts)
    cxy = shapely.get_coordinates(centre)
    rings = shapely.get_exterior_ring(parts)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    offsets = np.round(coords - cxy[ring_of], 1)
    starts = np.r_[0, np.flatnonzero(np.diff(ring_of)) + 1]
    shapes: dict[tuple[float, ...], int] = {}
    shape_of = np.empty(len(parts), dtype=np.int64)
    for i, chunk in enumerate(np.split(offsets, starts[1:])):
        key = tuple(chunk[:-1].ravel().tolist())  # drop the closing vertex
        shape_of[i] = shapes.setdefault(key, len(shapes))
    lonlat = shapely.get_coordinates(
        gpd.GeoSeries(centre, crs=surface.crs).to_crs(WGS84).to_numpy()
    )
    x0, y0 = np.nanmean(cxy, axis=0) if len(cxy) else (0.0, 0.0)
    probe = gpd.GeoSeries(
        gpd.points_from_xy([x0, x0 + 100.0, x0], [y0, y0, y0 + 100.0]), crs=surface.crs
    ).to_crs(WGS84)
    px, py = probe.x.to_numpy(), probe.y.to_numpy()
    east = [(py[1] - py[0]) / 100.0, (px[1] - px[0]) / 100.0]  # d(lat, lon) per metre east
    north = [(py[2] - py[0]) / 100.0, (px[2] - px[0]) / 100.0]
    n = counts[owner]
    n_out = np.where(np.isnan(n), 0, n).astype(np.int64)
    if public:
        n_out = np.where((n_out > 0) & (n_out < SMALL_COUNT), -1, n_out)
    # centres in micro-degrees (6 decimals), sorted, sent as differences: about half the bytes
    micro = np.round(lonlat[:, ::-1] * 10**MAP_DECIMALS).astype(np.int64)
    order = np.lexsort((micro[:, 1], micro[:, 0]))
    delta = np.diff(micro[order], axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    cells = np.column_stack(
        [
            delta,
            shape_of[order],
            cls[owner][order],
            np.round(harm[owner][order]).astype(np.int64),
            n_out[order],
        ]
    ).tolist()
    data = {
        "cells": cells,
        "shapes": [list(k) for k in shapes],
        "e": east,
        "n": north,
        "colours": list(SURFACE_COLOURS[: len(labels)]),
        "labels": labels,
    }
    return data, labels


# ------------------------------------------------------------------ layers


def _rank_colour(rank: object) -> str:
    r = int(rank) if not _isna(rank) else 10**9  # type: ignore[call-overload]
    for lo, hi, colour in RANK_BANDS:
        if lo <= r <= hi:
            return colour
    return RANK_BANDS[-1][2]


def harm_unit(provenance: Mapping[str, Any]) -> str:
    """Unit of the harm values: CCHI days for a Cambridge Crime Harm Index table."""
    return "CCHI days" if "cchi" in _plain(provenance.get("harm_table", "")).lower() else "harm"


def _spot_popups(spots: pd.DataFrame, *, public: bool, dropped: bool, unit: str) -> list[str]:
    out = []
    cols = {
        c: _col(spots, c)
        for c in (
            SPOT_ID,
            RANK,
            AREA_RANK,
            AREA_NAME,
            HARM_TOTAL,
            HARM_SHARE,
            N_INCIDENTS,
            HARM_PER_HA,
            HARM_PREVIOUS,
            TREND,
            STATUS,
            OFFENCE_MIX,
            PEAK_WINDOWS,
            PLANNED_VISITS,
        )
    }
    for i in range(len(spots)):
        v = {c: vals[i] for c, vals in cols.items()}
        share = "\u2013" if _isna(v[HARM_SHARE]) else f"{100 * float(v[HARM_SHARE]):.1f}%"
        head = (
            f"<b>Dropped harm spot</b> (was rank {esc(v[RANK])})"
            if dropped
            else f"<b>Harm spot #{esc(v[RANK])}</b>"
        )
        rows = [
            ("Area", f"{esc(v[AREA_NAME])} (rank {esc(v[AREA_RANK])} there)"),
            ("Harm", f"{fmt_num(v[HARM_TOTAL])} {esc(unit)} ({share} of all harm)"),
            ("Incidents", fmt_count(v[N_INCIDENTS], public=public)),
            ("Harm per ha", fmt_num(v[HARM_PER_HA], digits=1)),
            ("Previous period", f"{fmt_num(v[HARM_PREVIOUS])} (trend {esc(v[TREND])})"),
            ("Status", esc(v[STATUS])),
            ("Offence mix", public_mix(v[OFFENCE_MIX], public=public)),
            ("Peak windows", esc(v[PEAK_WINDOWS])),
        ]
        if not dropped:
            rows.append(
                (
                    "Planned visits",
                    fmt_count(v[PLANNED_VISITS], public=False)
                    if PLANNED_VISITS in spots.columns
                    else "see patrol_plan.csv",
                )
            )
        rows.append(("Spot id", esc(v[SPOT_ID])))
        out.append(head + _table(rows))
    return out


def _add_spots(m: folium.Map, spots: gpd.GeoDataFrame, *, public: bool, unit: str) -> None:
    ranks = _col(spots, RANK)
    styles = [
        {
            "className": "hs-spot",
            "color": "#000000",
            "weight": 1.5,
            "opacity": 0.9,
            "fillColor": _rank_colour(r),
            "fillOpacity": 0.7,
        }
        for r in ranks
    ]
    _add_geojson(
        m,
        spots,
        {
            "s": styles,
            "popup": _spot_popups(spots, public=public, dropped=False, unit=unit),
            "label": [
                f"<span class='hs-badge' style='background:{_rank_colour(r)}'>{esc(r)}</span>"
                for r in ranks
            ],
        },
        name=LAYER_SPOTS,
    )


def _add_dropped(m: folium.Map, dropped: gpd.GeoDataFrame, *, public: bool, unit: str) -> None:
    style = {
        "className": "hs-dropped",
        "color": DROPPED_COLOUR,
        "weight": 2,
        "dashArray": "5 4",
        "fill": True,
        "fillOpacity": 0.05,
    }
    _add_geojson(
        m,
        dropped,
        {
            "s": [style] * len(dropped),
            "popup": _spot_popups(dropped, public=public, dropped=True, unit=unit),
        },
        name=LAYER_DROPPED,
        show=False,
    )


def _zone_popups(zones: pd.DataFrame, *, public: bool) -> list[str]:
    out = []
    cols = {
        c: _col(zones, c)
        for c in (
            ZONE_ID,
            OCCURRED_AT,
            DUE_BY,
            EXPIRES_ON,
            STATUS,
            AREA_NAME,
            N_HOMES,
            N_OVERLAPPING,
            ZONE_MONTH_DATES,
        )
    }
    for i in range(len(zones)):
        v = {c: vals[i] for c, vals in cols.items()}
        when = burglary_when(v[OCCURRED_AT], v[ZONE_MONTH_DATES])
        visited = {"visited": "yes", "active": "not known (no visit log)"}.get(v[STATUS], "no")
        rows = [
            ("Burglary", when),
            ("Due by", fmt_time(v[DUE_BY])),
            ("Expires", fmt_date(v[EXPIRES_ON])),
            ("Status", esc(v[STATUS])),
            ("Visited", visited),
            ("Homes in zone", fmt_count(v[N_HOMES], public=public)),
            ("Overlapping zones", fmt_count(v[N_OVERLAPPING], public=public)),
            ("Area", esc(v[AREA_NAME])),
        ]
        if not public:
            rows.append(("Zone", esc(v[ZONE_ID])))
        out.append("<b>Cocoon zone</b>" + _table(rows))
    return out


def _add_zones(m: folium.Map, zones: gpd.GeoDataFrame, *, public: bool) -> None:
    statuses = _col(zones, STATUS)
    styles = [
        {
            "className": f"hs-zone hs-zone-{s}",
            "color": ZONE_COLOURS[s],
            "weight": 2.5,
            "opacity": 0.95,
            "fillColor": ZONE_COLOURS[s],
            "fillOpacity": 0.08,
        }
        for s in statuses
    ]
    _add_geojson(
        m,
        zones,
        {"s": styles, "popup": _zone_popups(zones, public=public)},
        name=LAYER_ZONES,
        simplify_m=1.0,
    )


def _add_burglaries(m: folium.Map, burglaries: gpd.GeoDataFrame, *, public: bool) -> None:
    when = _col(burglaries, OCCURRED_AT)
    if public:
        popups = [
            f"<b>Burglary</b> {fmt_date(w)}<br>(shown at the centre of its "
            f"{PUBLIC_CELL_M:g} m grid square)"
            for w in when
        ]
    else:
        locs, ids = _col(burglaries, LOCATION), _col(burglaries, INCIDENT_ID)
        popups = [
            f"<b>Burglary</b> {fmt_time(w)}<br>{esc(loc)}<br>incident {esc(i)}"
            for w, loc, i in zip(when, locs, ids, strict=True)
        ]
    marker = folium.CircleMarker(
        radius=3.5,
        color="#ffffff",
        weight=0.8,
        fill=True,
        fill_color=BURGLARY_COLOUR,
        fill_opacity=0.75,
        class_name="hs-burglary",
    )
    _add_geojson(
        m,
        burglaries,
        {"s": [{"className": "hs-burglary"}] * len(burglaries), "popup": popups},
        name=LAYER_BURGLARIES,
        marker=marker,
    )


def _add_areas(m: folium.Map, areas: gpd.GeoDataFrame) -> None:
    style = {
        "className": "hs-area",
        "color": "#333333",
        "weight": 1.5,
        "dashArray": "6 4",
        "fill": False,
        "interactive": False,
    }
    _add_geojson(m, areas, {"s": [style] * len(areas)}, name=LAYER_AREAS, simplify_m=5.0)


def _add_addresses(m: folium.Map, addresses: gpd.GeoDataFrame) -> str:
    n_all = len(addresses)
    shown = addresses.iloc[:MAX_ADDRESS_POINTS]
    name = (
        LAYER_ADDRESSES
        if n_all <= MAX_ADDRESS_POINTS
        else (f"{LAYER_ADDRESSES} (first {MAX_ADDRESS_POINTS:,} of {n_all:,})")
    )
    marker = folium.CircleMarker(
        radius=2,
        color=ADDRESS_COLOUR,
        weight=1,
        fill=True,
        fill_opacity=0.8,
        class_name="hs-address",
    )
    _add_geojson(
        m,
        shown,
        {
            "s": [{"className": "hs-address"}] * len(shown),
            "tip": [esc(a) for a in _col(shown, ADDRESS_TEXT)],
        },
        name=name,
        show=False,
        marker=marker,
    )
    return name


# ------------------------------------------------------------------ page furniture

_CSS = f"<style>\n{_template_text('map.css')}</style>\n"


def _legend(
    *,
    spots: int,
    dropped: int | None,
    zone_counts: dict[str, int] | None,
    surface_labels: list[str] | None,
    burglaries: int | None,
    areas: bool,
    addresses: str | None,
    public: bool,
) -> str:
    parts = ["<div class='hs-legend' id='hs-legend'>"]
    parts.append(f"<h2>{LAYER_SPOTS} ({spots})</h2>")
    for lo, hi, colour in RANK_BANDS:
        label = f"rank {lo}\u2013{hi}" if hi < 10**9 else f"rank {lo}+"
        parts.append(f"<div><i style='background:{colour}'></i>{label}</div>")
    if dropped is not None:
        parts.append(
            f"<div><i style='background:transparent;border:2px dashed {DROPPED_COLOUR}'>"
            f"</i>{LAYER_DROPPED.lower()} ({dropped}; off by default)</div>"
        )
    if zone_counts is not None:
        parts.append(f"<h2>{LAYER_ZONES} ({sum(zone_counts.values())} live)</h2>")
        for status in ZONE_STATUSES:
            parts.append(
                f"<div><i class='ring' style='border-color:{ZONE_COLOURS[status]}'></i>"
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


def _check_zone_status(zones: pd.DataFrame) -> None:
    bad = sorted(set(zones[STATUS].astype(str)) - set(ZONE_STATUSES))
    if bad:
        msg = (
            f"zones has status value(s) {bad}; a live zone is one of {ZONE_STATUSES}. "
            f"Pass only live zones from hotspots.cocoon.cocoon_zones."
        )
        raise SchemaError(msg)


def _generalise_zones(zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Zones re-centred on the 150 m cell of their centre, same radius (public mode)."""
    out = zones.copy()
    radius = shapely.minimum_bounding_radius(zones.geometry.to_numpy())
    centres = generalise_points(zones.geometry.centroid)
    out[out.geometry.name] = shapely.buffer(centres.to_numpy(), radius, quad_segs=16)
    return out


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
    tiles: bool = True,
    surface_cell_m: float = 150.0,
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
        Candidate cells with ``harm`` (and ``n_incidents``): drawn on a canvas in five
        quantile classes of harm.
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
        OpenStreetMap background (default); False for a plain background (offline).
    surface_cell_m
        Cell size of the surface in metres, shown in the legend (default 150).

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
    ...               provenance={}, tiles=False)
    >>> "Harm spots" in m.get_root().render()
    True
    """
    if not isinstance(title, str):
        msg = f"title must be text; got {type(title).__name__}."
        raise TypeError(msg)
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
            zones = _generalise_zones(zones)
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
    boxes = [folium_bounds(g) for g in extent]
    bounds = [
        [min(b[0][0] for b in boxes), min(b[0][1] for b in boxes)],
        [max(b[1][0] for b in boxes), max(b[1][1] for b in boxes)],
    ]

    m = folium.Map(
        location=folium_location(extent[0]),
        zoom_start=11,
        tiles=None,
        control_scale=True,
    )
    if tiles:  # the only base layer: no radio button for it in the layer control
        folium.TileLayer("OpenStreetMap", control=False).add_to(m)
    root = m.get_root()
    root.header.add_child(Element(_CSS), name="hs_css")
    if not tiles:
        root.header.add_child(
            Element("<style>.leaflet-container{background:#f3f1ea}</style>"), name="hs_plain"
        )
    surface_labels = None
    if surface is not None and len(surface):
        data, surface_labels = _surface_data(surface, public=public)
        _SurfaceLayer(data, name=LAYER_SURFACE, show=True).add_to(m)
    if areas is not None and len(areas):
        _add_areas(m, areas)
    if dropped is not None and len(dropped):
        _add_dropped(m, dropped, public=public, unit=harm_unit(provenance))
    zone_counts = None
    if zones is not None:
        zone_counts = {str(k): int(v) for k, v in zones[STATUS].value_counts().items()}
        if len(zones):
            _add_zones(m, zones, public=public)
    if len(spots):
        _add_spots(m, spots, public=public, unit=harm_unit(provenance))
    if burglaries is not None and len(burglaries):
        _add_burglaries(m, burglaries, public=public)
    address_layer = None
    if addresses is not None and len(addresses):
        address_layer = _add_addresses(m, addresses)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    m.fit_bounds(bounds)

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


def write_map(m: folium.Map, path: str | Path, *, offline_assets: str | Path | None = None) -> Path:
    """Render ``m`` and write it atomically to ``path``.

    Parameters
    ----------
    m
        A map from :func:`build_map` (or any folium map).
    path
        Output HTML file.
    offline_assets
        Folder from ``scripts/fetch-offline-assets``: every external script and style
        sheet folium links to is replaced by the inlined local file, so the page needs no
        internet (map tiles apart: build with ``tiles=False``).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InputError
        A file is missing from ``offline_assets`` (the message names it and how to get it).
    """
    page = m.get_root().render()
    if offline_assets is not None:
        page = inline_assets(page, offline_assets)
    return write_text(path, page)
