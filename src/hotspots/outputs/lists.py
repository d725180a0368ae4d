"""Printable cocoon visit lists for neighbourhood teams: one HTML page per area.

After a burglary of a home the neighbours face a raised risk for a few weeks, highest
next door and in the first days (Johnson & Bowers 2004; Bowers, Johnson & Pease 2004).
Each page lists the area's live zones, most urgent first (overdue, then due by deadline,
then active, then visited), each with the burglary date (no crime detail), the deadline
and expiry, the mandatory nearest homes and then the rest nearest first with tick boxes,
and a small map of the zone drawn as inline SVG from the projected coordinates, so the
page prints on A4 and opens with no network. The burgled home is never listed.
``public=True`` writes zones only: no addresses, centres generalised to the 150 m grid.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots._validate import require_columns, require_metric_crs
from hotspots.errors import SchemaError
from hotspots.outputs.files import write_text
from hotspots.outputs.maps import (
    ZONE_COLOURS,
    _template_text,
    burglary_when,
    esc,
    fmt_count,
    fmt_date,
    fmt_time,
    generalise_points,
    marking_for,
    provenance_lines,
)
from hotspots.schema import (
    ADDRESS_ID,
    ADDRESS_TEXT,
    AREA_NAME,
    DISTANCE_BAND,
    DISTANCE_M,
    DUE_BY,
    EASTING,
    EXPIRES_ON,
    IS_BURGLED,
    MANDATORY,
    N_HOMES,
    NORTHING,
    OCCURRED_AT,
    POSTCODE,
    STATUS,
    STREET,
    VISIT_ORDER,
    ZONE_ID,
    ZONE_IDS,
    ZONE_MONTH_DATES,
    ZONE_STATUSES,
)

__all__ = ["LISTS_FOLDER", "URGENCY", "area_slug", "urgency_order", "write_cocoon_lists"]

LISTS_FOLDER = "cocoon_lists"
URGENCY = {"overdue": 0, "due": 1, "active": 2, "visited": 3}
UNASSIGNED = "Unassigned area"
SVG_PX = 230

_CSS = _template_text("lists.css")


def area_slug(name: object) -> str:
    """File-name-safe lower-case slug of an area name: ``"Castle Point"`` -> ``castle-point``."""
    text = "".join(ch if ch.isalnum() else "-" for ch in str(name).lower())
    parts = [p for p in text.split("-") if p]
    return "-".join(parts) or "unknown-area"


def urgency_order(zones: pd.DataFrame) -> pd.DataFrame:
    """Zones most urgent first: overdue, due, active, visited; then deadline, then id."""
    key = zones[STATUS].map(URGENCY).fillna(len(URGENCY)).astype("int64")
    return (
        zones.assign(_urgency=key.to_numpy())
        .sort_values(["_urgency", DUE_BY, ZONE_ID], kind="stable")
        .drop(columns="_urgency")
    )


def _svg(
    zone: Any, centre: tuple[float, float], targets: pd.DataFrame | None, *, radius_m: float
) -> str:
    """Small map of one zone: its circle, a centre cross, mandatory homes numbered."""
    cx, cy = centre
    half = radius_m * 1.08
    scale = SVG_PX / (2 * half)

    def px(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (x - (cx - half)) * scale, ((cy + half) - y) * scale  # SVG y grows downwards

    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{SVG_PX}' height='{SVG_PX}' "
        f"viewBox='0 0 {SVG_PX} {SVG_PX}' role='img' aria-label='Map of the zone'>"
    ]
    for poly in shapely.get_parts(shapely.get_exterior_ring(shapely.get_parts(np.asarray([zone])))):
        xy = shapely.get_coordinates(poly)
        sx, sy = px(xy[:, 0], xy[:, 1])
        path = "M" + " L".join(f"{a:.1f} {b:.1f}" for a, b in zip(sx, sy, strict=True)) + " Z"
        parts.append(
            f"<path class='zone-ring' d='{path}' fill='#fff3e0' stroke='#d95f02' stroke-width='2'/>"
        )
    if targets is not None and len(targets) and EASTING in targets and NORTHING in targets:
        tx, ty = px(
            targets[EASTING].to_numpy(dtype="float64"), targets[NORTHING].to_numpy(dtype="float64")
        )
        mand = targets[MANDATORY].to_numpy(dtype=bool)
        order = targets[VISIT_ORDER].tolist() if VISIT_ORDER in targets else [None] * len(targets)
        for x, y in zip(tx[~mand], ty[~mand], strict=True):
            parts.append(f"<circle class='home' cx='{x:.1f}' cy='{y:.1f}' r='2' fill='#777'/>")
        for x, y, o in zip(tx[mand], ty[mand], np.asarray(order, dtype=object)[mand], strict=True):
            parts.append(
                f"<circle class='home mandatory' cx='{x:.1f}' cy='{y:.1f}' r='4' fill='#b30000'/>"
            )
            if o is not None and not pd.isna(o):
                parts.append(
                    f"<text x='{x + 5:.1f}' y='{y - 4:.1f}' font-size='10' "
                    f"fill='#b30000'>{esc(o)}</text>"
                )
    c = SVG_PX / 2
    parts.append(
        f"<path d='M{c - 6} {c} L{c + 6} {c} M{c} {c - 6} L{c} {c + 6}' stroke='#000' "
        f"stroke-width='2'/>"
    )
    bar = 100 * scale
    parts.append(
        f"<path d='M8 {SVG_PX - 10} h{bar:.1f}' stroke='#000' stroke-width='3'/>"
        f"<text x='8' y='{SVG_PX - 14}' font-size='10'>100 m</text>"
        f"<text x='{SVG_PX - 16}' y='16' font-size='12' font-weight='bold'>N</text>"
        f"<path d='M{SVG_PX - 12} 30 l0 -10' stroke='#000' stroke-width='2'/>"
    )
    parts.append("</svg>")
    return "".join(parts)


def _facts(z: Mapping[str, Any], *, public: bool) -> str:
    status = str(z[STATUS])
    colour = ZONE_COLOURS.get(status, "#555")
    rows = [
        ("Burglary date", burglary_when(z[OCCURRED_AT], z.get(ZONE_MONTH_DATES))),
        ("Visit by", f"<b>{fmt_time(z[DUE_BY])}</b>"),
        ("Zone expires", fmt_date(z[EXPIRES_ON])),
        ("Status", f"<span class='status' style='background:{colour}'>{esc(status)}</span>"),
        ("Homes in zone", fmt_count(z.get(N_HOMES), public=public)),
    ]
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _distinct(targets: pd.DataFrame, column: str) -> bool:
    """True when ``column`` says something the address text does not.

    Code-Point Open "addresses" are postcodes, so their postcode and id columns would
    only repeat them.
    """
    if column not in targets:
        return False
    other = targets[column].astype("string").fillna("")
    return bool((other != targets[ADDRESS_TEXT].astype("string").fillna("")).any())


def _address_rows(targets: pd.DataFrame, *, postcode: bool, address_id: bool) -> str:
    out = []
    span = 6 + postcode + address_id
    groups = (
        (True, "Mandatory: the nearest homes, visit all of these"),
        (False, "Other homes in the zone, nearest first"),
    )
    for flag, caption in groups:
        part = targets[targets[MANDATORY].to_numpy(dtype=bool) == flag]
        if not len(part):
            continue
        out.append(f"<tr class='group'><th colspan='{span}'>{caption} ({len(part)})</th></tr>")
        cls = " class='mandatory'" if flag else ""
        cols = {
            c: (part[c].tolist() if c in part else [None] * len(part))
            for c in (
                VISIT_ORDER,
                ADDRESS_TEXT,
                STREET,
                POSTCODE,
                DISTANCE_M,
                DISTANCE_BAND,
                ZONE_IDS,
                ADDRESS_ID,
            )
        }
        for i in range(len(part)):
            v = {c: vals[i] for c, vals in cols.items()}
            also = ""
            if isinstance(v[ZONE_IDS], str) and ";" in v[ZONE_IDS]:
                also = f"<br><small>also in zones {esc(v[ZONE_IDS])}</small>"
            street = (
                ""
                if v[STREET] is None or pd.isna(v[STREET])
                else f"<br><small>{esc(v[STREET])}</small>"
            )
            out.append(
                f"<tr{cls}><td><span class='box'></span></td>"
                f"<td class='num'>{esc(v[VISIT_ORDER])}</td>"
                f"<td>{esc(v[ADDRESS_TEXT])}{street}{also}</td>"
                + (f"<td>{esc(v[POSTCODE])}</td>" if postcode else "")
                + f"<td class='num'>{esc(_metres(v[DISTANCE_M]))}</td>"
                f"<td>{esc(v[DISTANCE_BAND])}</td>"
                + (f"<td><small>{esc(v[ADDRESS_ID])}</small></td>" if address_id else "")
                + "<td class='outcome'></td></tr>"
            )
    return "".join(out)


def _metres(value: object) -> str | None:
    if value is None or pd.isna(value):  # type: ignore[arg-type]
        return None
    return f"{float(value):.0f} m"  # type: ignore[arg-type]


def _zone_section(
    z: Mapping[str, Any],
    number: int,
    total: int,
    geom: Any,
    centre: tuple[float, float],
    targets: pd.DataFrame | None,
    *,
    public: bool,
    radius_m: float,
    n_burgled: int,
) -> str:
    title = f"Zone {number} of {total}"
    if not public:
        title += f"<div class='zid'>zone id {esc(z[ZONE_ID])}</div>"
    head = (
        f"<section class='zone' id='zone-{number}'><h2>{title}</h2><div class='zonehead'>"
        f"<div class='facts'>{_facts(z, public=public)}</div>"
        f"{_svg(geom, centre, targets, radius_m=radius_m)}</div>"
    )
    if public:
        return head + (
            "<p class='note'>Public version: no address list; the zone is drawn "
            "around the centre of the burglary's 150 m grid square.</p></section>"
        )
    if targets is None or not len(targets):
        return head + (
            "<p class='note'>No address points lie inside this zone (or no address "
            "layer was given): walk the streets within the circle.</p></section>"
        )
    note = (
        "<p class='note'>Tick each home when visited; write the outcome (spoke / leaflet / "
        "no answer) in the last column. Red numbered dots on the map are the mandatory homes."
    )
    if n_burgled:
        note += " The burgled home itself is not on this list."
    note += "</p>"
    postcode, address_id = _distinct(targets, POSTCODE), _distinct(targets, ADDRESS_ID)
    table = (
        "<table class='visits'><thead><tr><th>Done</th><th>#</th><th>Address</th>"
        + ("<th>Postcode</th>" if postcode else "")
        + "<th>Distance</th><th>Band</th>"
        + ("<th>Id</th>" if address_id else "")
        + "<th>Outcome</th></tr></thead><tbody>"
        + _address_rows(targets, postcode=postcode, address_id=address_id)
        + "</tbody></table>"
    )
    return head + note + table + "</section>"


def _summary_table(
    zones: pd.DataFrame, counts: Mapping[str, tuple[int, int]], *, public: bool
) -> str:
    rows = []
    for n, z in enumerate(zones.to_dict("records"), start=1):
        mand, total = counts.get(str(z[ZONE_ID]), (0, 0))
        zid = str(z[ZONE_ID])
        short = zid if len(zid) <= 14 else zid[:12] + "\u2026"
        name = f"Zone {n}" if public else f"Zone {n}: <span title='{esc(zid)}'>{esc(short)}</span>"
        homes = "" if public else f"<td class='num'>{mand}</td><td class='num'>{total}</td>"
        rows.append(
            f"<tr><td><a href='#zone-{n}'>{name}</a></td><td>{esc(z[STATUS])}</td>"
            f"<td>{fmt_time(z[DUE_BY])}</td><td>{fmt_date(z[EXPIRES_ON])}</td>{homes}</tr>"
        )
    extra = "" if public else "<th>Mandatory</th><th>All homes</th>"
    return (
        f"<table class='summary'><thead><tr><th>Zone</th><th>Status</th><th>Visit by</th>"
        f"<th>Expires</th>{extra}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _page(
    area: str,
    zones: pd.DataFrame,
    sections: list[str],
    counts: Mapping[str, tuple[int, int]],
    *,
    as_of: pd.Timestamp,
    provenance: Mapping[str, Any],
    public: bool,
) -> str:
    summary, details = provenance_lines(provenance)
    marking = esc(marking_for(provenance, public=public))
    return (
        "<!DOCTYPE html>\n<html lang='en-GB'><head><meta charset='utf-8'>"
        f"<title>Cocoon visits: {esc(area)}</title><style>{_CSS}</style></head><body>"
        f"<div class='marking'>{marking}</div>"
        f"<h1>Cocoon visit list: {esc(area)}</h1>"
        f"<p class='meta'>As of {fmt_time(as_of)} \u00b7 {len(zones)} live zone(s), most urgent "
        f"first \u00b7 visit every mandatory home by the deadline.</p>"
        f"{_summary_table(zones, counts, public=public)}{''.join(sections)}"
        f"<footer><div>{summary}</div>{''.join(f'<div>{d}</div>' for d in details)}</footer>"
        "</body></html>\n"
    )


def write_cocoon_lists(
    zones: gpd.GeoDataFrame,
    visits: pd.DataFrame | None,
    out_dir: str | Path,
    *,
    as_of: pd.Timestamp,
    provenance: Mapping[str, Any],
    public: bool = False,
    offline_assets: str | Path | None = None,
) -> dict[str, Path]:
    """Write ``out_dir/cocoon_lists/<area-slug>.html``, one printable page per area.

    Parameters
    ----------
    zones
        Live cocoon zones (``hotspots.cocoon.cocoon_zones``) in a metric CRS: ``zone_id``,
        ``occurred_at``, ``due_by``, ``expires_on``, ``status``, ``area`` (``n_homes``
        and the burglary ``easting``/``northing`` are used when present).
    visits
        Visit list (``hotspots.cocoon.visit_lists``): ``zone_id``, ``address``,
        ``distance_m``, ``mandatory``, ``is_burgled_address`` (``order``, ``street``,
        ``postcode``, ``distance_band``, ``address_id``, ``zone_ids``, ``easting``,
        ``northing`` when present). None or ignored in public mode.
    out_dir
        Output folder; the pages go into its ``cocoon_lists`` sub-folder.
    as_of
        Moment the lists are for (shown in the header).
    provenance
        ``build_provenance`` output (footer: data range, harm table, version).
    public
        Zones only, no addresses, zone centres generalised to the 150 m grid.
    offline_assets
        Accepted for symmetry with :func:`~hotspots.outputs.maps.write_map`; the lists
        link to no external file (their maps are inline SVG), so nothing is needed.

    Returns
    -------
    dict
        Area name -> written page, in area order.

    Raises
    ------
    SchemaError
        A required column is missing, a status is not live, or the visit list names
        zones that are not in ``zones``.
    CRSError
        ``zones`` is not in a metric CRS.
    """
    del offline_assets  # the pages are self-contained
    require_metric_crs(zones, what="zones")
    require_columns(
        zones,
        [ZONE_ID, OCCURRED_AT, DUE_BY, EXPIRES_ON, STATUS, AREA_NAME],
        what="zones",
        fix="Make them with hotspots.cocoon.cocoon_zones.",
    )
    bad = sorted(set(zones[STATUS].astype(str)) - set(ZONE_STATUSES))
    if bad:
        msg = f"zones has status value(s) {bad}; cocoon lists take live zones only {ZONE_STATUSES}."
        raise SchemaError(msg)
    as_of = pd.Timestamp(as_of)
    geoms = zones.geometry.to_numpy()
    radius = shapely.minimum_bounding_radius(geoms)
    if EASTING in zones and NORTHING in zones and not public:
        centres = np.column_stack(
            [zones[EASTING].to_numpy(dtype="float64"), zones[NORTHING].to_numpy(dtype="float64")]
        )
    else:
        centres = shapely.get_coordinates(shapely.centroid(geoms))
    if public:
        pts = generalise_points(gpd.GeoSeries(shapely.points(centres), crs=zones.crs))
        centres = shapely.get_coordinates(pts.to_numpy())
        geoms = shapely.buffer(pts.to_numpy(), radius, quad_segs=16)
        visits = None
    by_zone: dict[str, pd.DataFrame] = {}
    burgled: dict[str, int] = {}
    if visits is not None:
        require_columns(
            visits,
            [ZONE_ID, ADDRESS_TEXT, DISTANCE_M, MANDATORY, IS_BURGLED],
            what="visit list",
            fix="Make it with hotspots.cocoon.visit_lists.",
        )
        known = set(zones[ZONE_ID].astype(str))
        vz = visits[ZONE_ID].astype(str)
        unknown = sorted(set(vz) - known)
        if unknown:
            msg = (
                f"visit list names {len(unknown)} zone(s) not among the live zones, e.g. "
                f"{unknown[:3]}; build the visit list from the same zones."
            )
            raise SchemaError(msg)
        is_burgled = visits[IS_BURGLED].fillna(False).to_numpy(dtype=bool)
        burgled = vz[is_burgled].value_counts().to_dict()
        targets = visits[~is_burgled].assign(_zone=vz[~is_burgled].to_numpy())
        targets = targets.assign(_m=~targets[MANDATORY].fillna(False).to_numpy(dtype=bool))
        targets = targets.sort_values(["_zone", "_m", DISTANCE_M], kind="stable")
        by_zone = {
            k: g.drop(columns=["_zone", "_m"]) for k, g in targets.groupby("_zone", sort=False)
        }
    frame = pd.DataFrame(zones.drop(columns=zones.geometry.name)).assign(_pos=np.arange(len(zones)))
    frame[AREA_NAME] = frame[AREA_NAME].astype(object).where(frame[AREA_NAME].notna(), UNASSIGNED)
    folder = Path(out_dir) / LISTS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    used: set[str] = set()
    for area in sorted(frame[AREA_NAME].astype(str).unique()):
        part = urgency_order(frame[frame[AREA_NAME].astype(str) == area])
        counts = {}
        sections = []
        for n, z in enumerate(part.to_dict("records"), start=1):
            zid = str(z[ZONE_ID])
            t = by_zone.get(zid)
            counts[zid] = (0, 0) if t is None else (int(t[MANDATORY].sum()), len(t))
            pos = int(z["_pos"])
            sections.append(
                _zone_section(
                    z,
                    n,
                    len(part),
                    geoms[pos],
                    (centres[pos, 0], centres[pos, 1]),
                    t,
                    public=public,
                    radius_m=float(radius[pos]),
                    n_burgled=burgled.get(zid, 0),
                )
            )
        slug = area_slug(area)
        while slug in used:
            slug += "-2"
        used.add(slug)
        page = _page(
            area, part, sections, counts, as_of=as_of, provenance=provenance, public=public
        )
        written[area] = write_text(folder / f"{slug}.html", page)
    return written
