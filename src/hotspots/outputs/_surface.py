"""The harm surface layer: candidate cells drawn on a canvas from compact data.

A force year has tens of thousands of cells; as GeoJSON they would be most of the page.
Instead each cell is sent as a few integers (micro-degree steps between sorted centres,
a shared ring template in metres, its harm class) and drawn by
``templates/map_surface.js.j2``.
"""

from __future__ import annotations

from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Template

from hotspots.crs import WGS84
from hotspots.outputs._maptext import MAP_DECIMALS, SMALL_COUNT, LiteralScript, template_text
from hotspots.schema import HARM_TOTAL, N_INCIDENTS

__all__ = ["SURFACE_COLOURS", "SurfaceLayer", "class_breaks", "surface_data"]

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
