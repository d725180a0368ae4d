"""The national overview: one map of every force in a run, each linking to its own map.

A national run writes one folder per force (``<force>/map.html`` and the rest). This page
(``index.html``) shows each force as the box round its harm spots (else its cocoon zones)
with its name, and a popup with its headline figures and a link to its map; a list of the
same links and figures sits beside the map. It needs no network: Leaflet is inlined, there
are no tiles, and the forces' maps are relative links.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
from branca.element import Element

from hotspots.outputs._maptext import esc, popup_table, template_text

__all__ = ["force_boxes", "overview_html"]

_FIGURES = (
    ("rows_kept", "Rows"),
    ("spots", "Harm spots"),
    ("harm_share_in_spots", "Harm share in spots"),
    ("study_area_km2", "Study area km²"),
    ("live_zones", "Cocoon zones"),  # month data: retrospective areas, not live
    ("as_of", "As of"),
)
_STYLE = {
    "className": "hs-force",
    "color": "#67000d",
    "weight": 2,
    "fillColor": "#fc6a4a",
    "fillOpacity": 0.15,
}


def _cell(value: Any, key: str = "") -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if "share" in key:
        return f"{100 * float(value):.1f}%"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _bounds(path: Path) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of every coordinate in a GeoJSON file, or None."""
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    xs: list[float] = []
    ys: list[float] = []

    def walk(c: Any) -> None:
        if isinstance(c, list) and c and isinstance(c[0], int | float):
            xs.append(float(c[0]))
            ys.append(float(c[1]))
        elif isinstance(c, list):
            for part in c:
                walk(part)

    for feature in data.get("features", []):
        geometry = feature.get("geometry") or {}
        walk(geometry.get("coordinates"))
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def force_boxes(table: pd.DataFrame, *, out_dir: Path) -> dict[str, tuple[float, ...]]:
    """Each force's WGS84 box from its ``harm_spots.geojson``, else ``cocoon_zones.geojson``.

    Forces with neither (no spots, no zones) are left out of the map (not of the list).
    """
    boxes: dict[str, tuple[float, ...]] = {}
    for force in table["force"].astype(str):
        for name in ("harm_spots.geojson", "cocoon_zones.geojson"):
            box = _bounds(out_dir / force / name)
            if box is not None:
                boxes[force] = box
                break
    return boxes


def _link(map_path: object) -> str:
    """A relative link that cannot be read as a URL scheme (``./`` first, percent-encoded)."""
    return "./" + quote(str(map_path))


def _list_html(rows: list[Mapping[str, Any]]) -> str:
    lines = []
    for row in rows:
        figures = ", ".join(
            f"{label.lower()} {esc(_cell(row.get(key), key))}"
            for key, label in _FIGURES
            if _cell(row.get(key), key)
        )
        lines.append(
            f'<li><a href="{esc(row["map"])}">{esc(row["force"])}</a> \u2014 {figures}</li>'
        )
    return "\n".join(lines)


def overview_html(table: pd.DataFrame, *, out_dir: str | Path) -> str:
    """The offline overview page of a national run (``index.html``).

    Parameters
    ----------
    table
        ``hotspots.national.national_table`` output: one row per force with ``force``,
        ``map`` (its map's path relative to ``out_dir``) and the headline figures.
    out_dir
        The national run's folder; each force's layers are read from ``<force>/``.

    Returns
    -------
    str
        The HTML page, Leaflet inlined.
    """
    import folium

    from hotspots.outputs._maplayers import add_geojson
    from hotspots.outputs.offline import inline_assets, leaflet_only
    from hotspots.outputs.publish import stable_html_ids

    out = Path(out_dir)
    rows = table.to_dict("records")
    boxes = force_boxes(table, out_dir=out)
    m = leaflet_only(folium.Map(location=[53.0, -1.5], zoom_start=6, tiles=None))
    root = m.get_root()
    root.header.add_child(
        Element(
            f"<style>\n{template_text('map.css')}.leaflet-container{{background:#f3f1ea}}"
            ".hs-overview-list{position:fixed;top:10px;right:10px;z-index:1000;max-width:360px;"
            "max-height:80vh;overflow:auto;background:rgba(255,255,255,.95);padding:8px 12px;"
            "border-radius:6px;box-shadow:0 1px 5px rgba(0,0,0,.4);font:13px/1.35 Arial,"
            "sans-serif}.hs-overview-list ul{padding-left:18px;margin:4px 0}</style>\n"
        ),
        name="hs_css",
    )
    mapped = [r for r in rows if str(r["force"]) in boxes]
    if mapped:
        import geopandas as gpd
        import shapely

        shapes = gpd.GeoSeries([shapely.box(*boxes[str(r["force"])]) for r in mapped], crs=4326)
        layer = gpd.GeoDataFrame(geometry=shapes)
        popups = [
            f"<b>{esc(r['force'])}</b>"
            + popup_table([(esc(label), esc(_cell(r.get(k), k))) for k, label in _FIGURES])
            + f'<a href="{esc(_link(r["map"]))}">Open the force map</a>'
            for r in mapped
        ]
        labels = [f"<span class='hs-aname'>{esc(r['force'])}</span>" for r in mapped]
        add_geojson(
            m,
            layer,
            {
                "s": [_STYLE] * len(mapped),
                "popup": popups,
                "label": labels,
                "lc": ["hs-label hs-area-label"] * len(mapped),
            },
            name="Forces",
        )
        west = min(b[0] for b in boxes.values())
        south = min(b[1] for b in boxes.values())
        east = max(b[2] for b in boxes.values())
        north = max(b[3] for b in boxes.values())
        m.fit_bounds([[south, west], [north, east]], padding=(40, 40))
    root.html.add_child(
        Element(
            "<div class='hs-overview-list' id='hs-overview'><h1 style='font-size:16px;"
            "margin:0 0 4px 0'>Harm spots by force</h1><p style='margin:0'>Each force is "
            "ranked within its own study area; see national.csv.</p>"
            f"<ul>\n{_list_html(rows)}\n</ul></div>"
        ),
        name="hs_overview",
    )
    return stable_html_ids(inline_assets(root.render()))  # same page on every rerun
