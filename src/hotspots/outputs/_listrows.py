"""Small maps of the cocoon visit lists, drawn for all zones in one pass.

The Essex weekly run has ~35,000 homes in ~540 zones: the zone maps' pixel coordinates
are computed for all rings and homes at once, and each zone gets its SVG text. The rows
of the lists come from :func:`hotspots.outputs.doors.door_groups` and are rendered by the
autoescaped template ``templates/lists.html.j2``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import shapely

from hotspots.outputs._maptext import esc
from hotspots.schema import (
    EASTING,
    MANDATORY,
    NORTHING,
    VISIT_ORDER,
)

__all__ = ["SVG_PX", "ZoneFrames", "zone_dots"]

SVG_PX = 92  # about 24 mm printed: several zones share an A4 page


def _per_value(frame: pd.DataFrame, column: str, make: Any = esc) -> np.ndarray:
    """``make(value)`` for every value of ``column`` (object array), once per distinct value.

    A missing column or value gives ``make(None)``. Category, string, integer and
    boolean columns are done per distinct value; other dtypes value by value, so that
    values which compare equal but print differently (``1`` and ``1.0``) keep their text.
    """
    if column not in frame:
        return np.full(len(frame), make(None), dtype=object)
    values = frame[column]
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        used, codes = np.unique(values.cat.codes.to_numpy(), return_inverse=True)
        present = values.cat.categories.take(used[used >= 0]).tolist()
        table = [make(None)] * int((used < 0).any()) + [make(v) for v in present]
        return np.array(table, dtype=object)[codes]  # used is sorted: -1 (missing) first
    if isinstance(dtype, pd.StringDtype) or (
        not pd.api.types.is_object_dtype(dtype)
        and (pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))
    ):
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        table = [make(u) for u in uniques.tolist()]
        return np.array([*table, make(None)], dtype=object)[codes]  # code -1 (missing) -> last
    return np.array([make(v) for v in values.tolist()], dtype=object)


def _fmt1(values: np.ndarray) -> list[str]:
    """Numbers with one decimal, as ``f"{v:.1f}"``."""
    return [f"{v:.1f}" for v in values.tolist()]


def zone_dots(targets: pd.DataFrame, zone_index: Mapping[str, int], px: Any) -> dict[str, str]:
    """SVG markers of each zone's homes: grey dots, red numbered dots for mandatory homes.

    ``targets`` holds the homes to visit (``_zone``, ``mandatory``, ``easting``,
    ``northing``, optional ``order``); mandatory dots are drawn last, on top. Returns
    zone id -> SVG text (no entry for a zone without homes or coordinates).
    """
    if not len(targets) or EASTING not in targets or NORTHING not in targets:
        return {}
    zone = targets["_zone"].astype(str).to_numpy(dtype=object)
    pos = np.array([zone_index[z] for z in zone], dtype=np.int64)
    sx, sy = px(
        pos,
        targets[EASTING].to_numpy(dtype="float64"),
        targets[NORTHING].to_numpy(dtype="float64"),
    )
    x, y = _fmt1(sx), _fmt1(sy)
    lx, ly = _fmt1(sx + 4), _fmt1(sy - 3)
    mand = targets[MANDATORY].fillna(False).to_numpy(dtype=bool)
    has_order = (
        ~targets[VISIT_ORDER].isna().to_numpy(dtype=bool)
        if VISIT_ORDER in targets
        else np.zeros(len(targets), dtype=bool)
    )
    labels = _per_value(targets, VISIT_ORDER)
    grey: dict[str, list[str]] = {}
    red: dict[str, list[str]] = {}
    for i, m in enumerate(mand.tolist()):
        z = zone[i]
        if not m:
            grey.setdefault(z, []).append(
                f"<circle class='home' cx='{x[i]}' cy='{y[i]}' r='1.6' fill='#777'/>"
            )
            continue
        dot = f"<circle class='home mandatory' cx='{x[i]}' cy='{y[i]}' r='3' fill='#b30000'/>"
        if has_order[i]:
            dot += f"<text x='{lx[i]}' y='{ly[i]}' font-size='8' fill='#b30000'>{labels[i]}</text>"
        red.setdefault(z, []).append(dot)
    return {z: "".join(grey.get(z, [])) + "".join(red.get(z, [])) for z in {*grey, *red}}


class ZoneFrames:
    """Pixel frame of every zone's small map: centre, half-width and scale, and the rings."""

    def __init__(self, geoms: np.ndarray, centres: np.ndarray, radius: np.ndarray) -> None:
        self.cx, self.cy = centres[:, 0], centres[:, 1]
        self.half = radius * 1.08
        self.scale = SVG_PX / (2 * self.half)
        parts, owner = shapely.get_parts(geoms, return_index=True)
        rings, ring_part = shapely.get_parts(shapely.get_exterior_ring(parts), return_index=True)
        xy, ring_of = shapely.get_coordinates(rings, return_index=True)
        zone_of_ring = owner[ring_part]
        sx, sy = self.px(zone_of_ring[ring_of], xy[:, 0], xy[:, 1])
        pairs = np.array(
            [f"{a} {b}" for a, b in zip(_fmt1(sx), _fmt1(sy), strict=True)], dtype=object
        )
        self.rings: list[str] = [""] * len(geoms)
        cuts = np.flatnonzero(np.diff(ring_of)) + 1
        chunks = np.split(pairs, cuts) if len(pairs) else []
        for ring, chunk in zip(np.unique(ring_of), chunks, strict=True):
            zone = int(zone_of_ring[ring])
            self.rings[zone] += (
                f"<path class='zone-ring' d='M{' L'.join(chunk.tolist())} Z' "
                "fill='#fff3e0' stroke='#d95f02' stroke-width='2'/>"
            )

    def px(self, zone: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates of points ``x, y`` (metres) on the map of each ``zone``."""
        half, scale = self.half[zone], self.scale[zone]
        # SVG y grows downwards
        return (x - (self.cx[zone] - half)) * scale, ((self.cy[zone] + half) - y) * scale

    def svg(self, pos: int, dots: str) -> str:
        """Small map of one zone: its circle, the homes, a centre cross, scale and north."""
        c = SVG_PX / 2
        bar = 100 * self.scale[pos]
        return (
            f"<svg xmlns='http://www.w3.org/2000/svg' width='{SVG_PX}' height='{SVG_PX}' "
            f"viewBox='0 0 {SVG_PX} {SVG_PX}' role='img' aria-label='Map of the zone'>"
            f"{self.rings[pos]}{dots}"
            f"<path d='M{c - 4} {c} L{c + 4} {c} M{c} {c - 4} L{c} {c + 4}' stroke='#000' "
            f"stroke-width='1.5'/>"
            f"<path d='M5 {SVG_PX - 6} h{bar:.1f}' stroke='#000' stroke-width='2'/>"
            f"<text x='5' y='{SVG_PX - 9}' font-size='8'>100 m</text>"
            f"<text x='{SVG_PX - 11}' y='11' font-size='9' font-weight='bold'>N</text>"
            f"<path d='M{SVG_PX - 8} 22 l0 -8' stroke='#000' stroke-width='1.5'/></svg>"
        )
