"""Rows and small maps of the cocoon visit lists, rendered for all zones in one pass.

The Essex weekly run lists ~35,000 homes in ~540 zones: filtering the visit list per
zone and escaping value by value took seconds. Here the rows are sorted once (zone,
mandatory first, distance), every column is escaped once per distinct value and each
zone is a slice of the result; the zone maps' pixel coordinates are computed for all
rings and homes at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import shapely

from hotspots.outputs._maptext import esc
from hotspots.schema import (
    ADDRESS_ID,
    ADDRESS_TEXT,
    DISTANCE_BAND,
    DISTANCE_M,
    EASTING,
    MANDATORY,
    NORTHING,
    POSTCODE,
    STREET,
    VISIT_ORDER,
    ZONE_IDS,
)

__all__ = ["SVG_PX", "ZoneFrames", "ZoneTargets"]

SVG_PX = 230


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


def _metres(value: object) -> str:
    if value is None or pd.isna(value):  # type: ignore[arg-type]
        return esc(None)
    return esc(f"{float(value):.0f} m")  # type: ignore[arg-type]


def _street(value: object) -> str:
    return "" if value is None or pd.isna(value) else f"<br><small>{esc(value)}</small>"  # type: ignore[arg-type]


def _also(value: object) -> str:
    if isinstance(value, str) and ";" in value:
        return f"<br><small>also in zones {esc(value)}</small>"
    return ""


def _fmt1(values: np.ndarray) -> list[str]:
    """Numbers with one decimal, as ``f"{v:.1f}"``."""
    return [f"{v:.1f}" for v in values.tolist()]


class ZoneTargets:
    """Homes to visit in every zone, rendered in one pass over all rows.

    Rows are sorted by zone, mandatory first, then distance; ``bounds[zid]`` is
    ``(zone number, start, stop, n_mandatory)``: the zone's slice of ``rows`` (table rows,
    group headings included) and of ``dots`` (its SVG markers).
    """

    def __init__(self, targets: pd.DataFrame) -> None:
        zone = targets["_zone"].to_numpy(dtype=object)
        n = len(zone)
        self.targets = targets
        if not n:
            self.zones: list[str] = []
            self.bounds: dict[str, tuple[int, int, int, int]] = {}
            self.postcode = self.address_id = self.mand = np.zeros(0, dtype=bool)
            self.zone_of_row = np.zeros(0, dtype=np.int64)
            self.rows: list[str] = []
            return
        mand = targets[MANDATORY].fillna(False).to_numpy(dtype=bool)
        starts = np.flatnonzero(np.r_[True, zone[1:] != zone[:-1]])
        stops = np.r_[starts[1:], n].astype(np.int64)
        n_mand = np.add.reduceat(mand.astype(np.int64), starts)
        self.zones = zone[starts].tolist()
        self.bounds = {
            z: (i, int(a), int(b), int(k))
            for i, (z, a, b, k) in enumerate(zip(self.zones, starts, stops, n_mand, strict=True))
        }
        zone_of_row = np.repeat(np.arange(len(starts)), stops - starts)
        address = targets[ADDRESS_TEXT].astype("string").fillna("")
        self.postcode = self._distinct(targets, POSTCODE, address, starts)
        self.address_id = self._distinct(targets, ADDRESS_ID, address, starts)
        self.rows = self._rows(targets, mand, zone_of_row, starts, stops, n_mand)
        self.mand = mand
        self.zone_of_row = zone_of_row

    @staticmethod
    def _distinct(
        targets: pd.DataFrame, column: str, address: pd.Series, starts: np.ndarray
    ) -> np.ndarray:
        """Per zone: True when ``column`` says something the address text does not.

        Code-Point Open "addresses" are postcodes, so their postcode and id columns would
        only repeat them.
        """
        if column not in targets:
            return np.zeros(len(starts), dtype=bool)
        other = targets[column].astype("string").fillna("")
        differs = (other != address).to_numpy(dtype=bool)
        return np.logical_or.reduceat(differs, starts)

    def _rows(
        self,
        t: pd.DataFrame,
        mand: np.ndarray,
        zone_of_row: np.ndarray,
        starts: np.ndarray,
        stops: np.ndarray,
        n_mand: np.ndarray,
    ) -> list[str]:
        pc, aid = self.postcode[zone_of_row], self.address_id[zone_of_row]
        empty = np.full(len(t), "", dtype=object)
        metres = _per_value(t, DISTANCE_M, _metres)
        cells = (
            np.where(mand, "<tr class='mandatory'>", "<tr>")
            + "<td><span class='box'></span></td><td class='num'>"
            + _per_value(t, VISIT_ORDER)
            + "</td><td>"
            + _per_value(t, ADDRESS_TEXT)
            + _per_value(t, STREET, _street)
            + _per_value(t, ZONE_IDS, _also)
            + "</td>"
            + np.where(pc, "<td>" + _per_value(t, POSTCODE) + "</td>", empty)
            + "<td class='num'>"
            + metres
            + "</td><td>"
            + _per_value(t, DISTANCE_BAND)
            + "</td>"
            + np.where(aid, "<td><small>" + _per_value(t, ADDRESS_ID) + "</small></td>", empty)
            + "<td class='outcome'></td></tr>"
        )
        rows = cells.tolist()
        span = 6 + self.postcode.astype(np.int64) + self.address_id.astype(np.int64)
        for i, (a, b, k) in enumerate(zip(starts, stops, n_mand, strict=True)):
            for first, count, caption in (
                (a, k, "Mandatory: the nearest homes, visit all of these"),
                (a + k, b - a - k, "Other homes in the zone, nearest first"),
            ):
                if count:
                    rows[first] = (
                        f"<tr class='group'><th colspan='{span[i]}'>{caption} ({count})</th></tr>"
                        + rows[first]
                    )
        return rows

    def dots(self, zone_index: Mapping[str, int], px: Any) -> list[str]:
        """SVG markers of every row: grey dots, red numbered dots for mandatory homes."""
        t = self.targets
        if not len(t) or EASTING not in t or NORTHING not in t:
            return [""] * len(t)
        pos = np.array([zone_index[z] for z in self.zones], dtype=np.int64)[self.zone_of_row]
        sx, sy = px(
            pos, t[EASTING].to_numpy(dtype="float64"), t[NORTHING].to_numpy(dtype="float64")
        )
        x, y = _fmt1(sx), _fmt1(sy)
        has_order = (
            ~t[VISIT_ORDER].isna().to_numpy(dtype=bool)
            if VISIT_ORDER in t
            else np.zeros(len(t), dtype=bool)
        )
        labels = _per_value(t, VISIT_ORDER)
        lx, ly = _fmt1(sx + 5), _fmt1(sy - 4)
        out = []
        for i, m in enumerate(self.mand.tolist()):
            if not m:
                out.append(f"<circle class='home' cx='{x[i]}' cy='{y[i]}' r='2' fill='#777'/>")
                continue
            dot = f"<circle class='home mandatory' cx='{x[i]}' cy='{y[i]}' r='4' fill='#b30000'/>"
            if has_order[i]:
                dot += (
                    f"<text x='{lx[i]}' y='{ly[i]}' font-size='10' "
                    f"fill='#b30000'>{labels[i]}</text>"
                )
            out.append(dot)
        return out


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
            f"<path d='M{c - 6} {c} L{c + 6} {c} M{c} {c - 6} L{c} {c + 6}' stroke='#000' "
            f"stroke-width='2'/>"
            f"<path d='M8 {SVG_PX - 10} h{bar:.1f}' stroke='#000' stroke-width='3'/>"
            f"<text x='8' y='{SVG_PX - 14}' font-size='10'>100 m</text>"
            f"<text x='{SVG_PX - 16}' y='16' font-size='12' font-weight='bold'>N</text>"
            f"<path d='M{SVG_PX - 12} 30 l0 -10' stroke='#000' stroke-width='2'/></svg>"
        )
