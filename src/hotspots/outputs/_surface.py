"""The harm surface layer: candidate cells on a canvas from compact data, or one image.

A force year has tens of thousands of cells; as GeoJSON they would be most of the page.
Instead each cell is sent as a few integers (micro-degree steps between sorted centres,
a shared ring template in metres, its harm class) and drawn by
``templates/map_surface.js.j2``.
"""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Template

from hotspots.crs import WGS84
from hotspots.outputs._maptext import MAP_DECIMALS, SMALL_COUNT, LiteralScript, template_text
from hotspots.schema import HARM_TOTAL, N_INCIDENTS

__all__ = [
    "SURFACE_COLOURS",
    "SURFACE_IMAGE_CELLS",
    "SurfaceImage",
    "SurfaceLayer",
    "class_breaks",
    "surface_data",
    "surface_image",
]

SURFACE_COLOURS = ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f")


class SurfaceLayer(LiteralScript, folium.FeatureGroup):  # type: ignore[misc]  # render() by design
    """Grid cells drawn on a canvas from compact data: centre, shape template, class."""

    _template = Template(template_text("map_surface.js.j2"))

    def __init__(self, data: dict[str, Any], *, name: str, show: bool) -> None:
        super().__init__(name=name, show=show)
        self._name = "HarmSurface"
        self.data = data


def class_breaks(values: np.ndarray, k: int = len(SURFACE_COLOURS)) -> np.ndarray:
    """Quantile class edges (unique, interior): class = searchsorted(edges, v, 'right')."""
    qs = np.quantile(values, np.linspace(0, 1, k + 1)[1:-1]) if len(values) else np.array([])
    return np.unique(qs)


def surface_data(surface: gpd.GeoDataFrame, *, public: bool) -> tuple[dict[str, Any], list[str]]:
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
    edges = class_breaks(harm)
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


# ------------------------------------------------------------------ the surface as an image

# Above this many cells the surface is drawn as one PNG image instead of one canvas
# polygon per cell. Up to it (a force year of 150 m cells is about 10-16 thousand) the
# vector layer is kept: each cell opens a popup with its harm and incidents, and it
# renders in well under a second. Beyond it the per-cell polygons are most of the
# render time (70,000 cells: several seconds) for cells a few pixels wide at force zoom.
SURFACE_IMAGE_CELLS = 20_000
MAX_IMAGE_PX = 3000  # longest side of the image
_MERCATOR = "EPSG:3857"


def _png(classes: np.ndarray, palette: list[str], *, alpha: int) -> bytes:
    """An 8-bit palette PNG of ``classes`` (row 0 at the top; 0 is transparent)."""
    height, width = classes.shape
    rgb = bytes(int(c[i : i + 2], 16) for c in ["#000000", *palette] for i in (1, 3, 5))
    raw = np.zeros((height, width + 1), dtype=np.uint8)  # filter byte 0 (none) per row
    raw[:, 1:] = classes
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", ihdr),
            chunk(b"PLTE", rgb),
            chunk(b"tRNS", bytes([0, *([alpha] * len(palette))])),
            chunk(b"IDAT", zlib.compress(raw.tobytes(), 9)),
            chunk(b"IEND", b""),
        ]
    )


def _lattice_lookup(
    surface: gpd.GeoDataFrame, cls: np.ndarray
) -> tuple[np.ndarray, float, float, float, float] | None:
    """Class per lattice cell for a regular grid of equal axis-aligned squares, else None.

    Returns ``(grid, x0, y0, w, h)``: ``grid[row, col]`` is class + 1 (0: no cell) of the
    cell whose lower-left corner is ``(x0 + col * w, y0 + row * h)``.
    """
    geoms = surface.geometry.to_numpy()
    if not bool((shapely.get_type_id(geoms) == 3).all()):  # polygons only
        return None
    b = shapely.bounds(geoms)
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    if not len(w) or np.ptp(w) > 1e-6 * w[0] or np.ptp(h) > 1e-6 * h[0]:
        return None
    if not np.allclose(shapely.area(geoms), w * h, rtol=1e-9):  # rectangles, no rotation
        return None
    w0, h0 = float(w[0]), float(h[0])
    x0, y0 = float(b[:, 0].min()), float(b[:, 1].min())
    col_f, row_f = (b[:, 0] - x0) / w0, (b[:, 1] - y0) / h0
    col, row = np.round(col_f).astype(np.int64), np.round(row_f).astype(np.int64)
    if np.abs(col_f - col).max() > 1e-6 or np.abs(row_f - row).max() > 1e-6:
        return None
    if (int(row.max()) + 1) * (int(col.max()) + 1) > 200_000_000:
        return None
    grid = np.zeros((int(row.max()) + 1, int(col.max()) + 1), dtype=np.uint8)
    grid[row, col] = cls + 1
    return grid, x0, y0, w0, h0


_NODE_PX = 16  # pixels between exactly projected nodes; the rest interpolated


def _lerp_axis(values: np.ndarray, nodes: np.ndarray, n: int, axis: int) -> np.ndarray:
    """Linear interpolation of ``values`` (known at ``nodes`` along ``axis``) to 0..n-1."""
    at = np.arange(n)
    k = np.clip(np.searchsorted(nodes, at, side="right") - 1, 0, max(len(nodes) - 2, 0))
    if len(nodes) < 2:
        return np.repeat(values, n, axis=axis)
    t = (at - nodes[k]) / (nodes[k + 1] - nodes[k])
    lo, hi = np.take(values, k, axis=axis), np.take(values, k + 1, axis=axis)
    shape = [1, 1]
    shape[axis] = n
    t = t.reshape(shape)
    return lo * (1 - t) + hi * t


def _back_project(px: np.ndarray, py: np.ndarray, back: Any) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres ``px`` x ``py`` (EPSG:3857) in the surface's CRS, as two 2-D arrays.

    Only every ``_NODE_PX``-th pixel (and the last) is projected exactly; between them
    the (smooth, nearly affine) map is interpolated bilinearly: centimetres off over a
    few hundred metres, at a sixteenth of the cost for a force-wide image.
    """
    ix = np.unique(np.r_[np.arange(0, len(px), _NODE_PX), len(px) - 1])
    iy = np.unique(np.r_[np.arange(0, len(py), _NODE_PX), len(py) - 1])
    gx, gy = np.meshgrid(px[ix], py[iy])
    nx, ny = (np.asarray(a) for a in back.transform(gx, gy))
    out = []
    for grid in (nx, ny):
        rows = _lerp_axis(grid, ix, len(px), axis=1)
        out.append(_lerp_axis(rows, iy, len(py), axis=0))
    return out[0], out[1]


def surface_image(surface: gpd.GeoDataFrame, *, cell_m: float) -> tuple[dict[str, Any], list[str]]:
    """The surface as a PNG data URI in Web Mercator pixels, its WGS84 bounds and labels.

    Each pixel's centre (in EPSG:3857, the map's projection, so the image lines up with
    Leaflet's map) is taken back to the surface's CRS and coloured by the class of the
    cell it falls in: one lattice look-up for a regular square grid, a spatial-index query
    for any other cells (hexagons). Pixels are about a third of a cell (``cell_m``) across on the
    ground, at most ``MAX_IMAGE_PX`` on the longest side. Classes and labels are those of
    :func:`surface_data`.
    """
    from pyproj import Transformer

    harm = surface[HARM_TOTAL].to_numpy(dtype="float64")
    edges = class_breaks(harm)
    cls = np.searchsorted(edges, harm, side="right").astype(np.uint8)
    bounds = [0.0, *edges.tolist(), float(harm.max()) if len(harm) else 0.0]
    labels = [f"{bounds[i]:,.0f}\u2013{bounds[i + 1]:,.0f}" for i in range(len(bounds) - 1)]
    x_min, y_min, x_max, y_max = surface.total_bounds
    box = gpd.GeoSeries([shapely.box(x_min, y_min, x_max, y_max)], crs=surface.crs)
    mx0, my0, mx1, my1 = box.to_crs(_MERCATOR).total_bounds
    ground = max(x_max - x_min, y_max - y_min)
    step = max(cell_m / 3.0, ground / MAX_IMAGE_PX)
    width = max(1, int(np.ceil((x_max - x_min) / step)))
    height = max(1, int(np.ceil((y_max - y_min) / step)))
    px = mx0 + (np.arange(width) + 0.5) * (mx1 - mx0) / width
    py = my1 - (np.arange(height) + 0.5) * (my1 - my0) / height  # row 0 at the top
    back = Transformer.from_crs(_MERCATOR, surface.crs, always_xy=True)
    sx, sy = (a.ravel() for a in _back_project(px, py, back))
    lattice = _lattice_lookup(surface, cls)
    out = np.zeros(sx.shape, dtype=np.uint8)
    if lattice is not None:
        grid, x0, y0, w, h = lattice
        col = np.floor((sx - x0) / w).astype(np.int64)
        row = np.floor((sy - y0) / h).astype(np.int64)
        inside = (col >= 0) & (row >= 0) & (col < grid.shape[1]) & (row < grid.shape[0])
        out[inside] = grid[row[inside], col[inside]]
    else:
        pix, cell = surface.sindex.query(gpd.points_from_xy(sx, sy), predicate="within")
        out[pix] = cls[cell] + 1
    png = _png(out.reshape(height, width), list(SURFACE_COLOURS[: len(labels)]), alpha=153)
    to_wgs = Transformer.from_crs(_MERCATOR, WGS84, always_xy=True)
    (lon0, lon1), (lat0, lat1) = to_wgs.transform([mx0, mx1], [my0, my1])
    data = {
        "url": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
        "bounds": [[round(lat0, 6), round(lon0, 6)], [round(lat1, 6), round(lon1, 6)]],
        "size": [width, height],
    }
    return data, labels


class SurfaceImage(LiteralScript, folium.FeatureGroup):  # type: ignore[misc]  # render() by design
    """The harm surface as one image overlay (see :func:`surface_image`)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.featureGroup();
        L.imageOverlay({{ this.data.url|tojson }}, {{ this.data.bounds|tojson }},
                       {className: 'hs-surface-img', interactive: false})
          .addTo({{ this.get_name() }});
        {% endmacro %}"""
    )

    def __init__(self, data: dict[str, Any], *, name: str, show: bool) -> None:
        super().__init__(name=name, show=show)
        self._name = "HarmSurfaceImage"
        self.data = data
