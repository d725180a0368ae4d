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
from hotspots.outputs._listrows import ZoneFrames, ZoneTargets
from hotspots.outputs._maptext import (
    burglary_when,
    esc,
    fmt_count,
    fmt_date,
    fmt_time,
    marking_for,
    provenance_lines,
    template_text,
)
from hotspots.outputs.files import write_text
from hotspots.outputs.maps import ZONE_COLOURS
from hotspots.outputs.public import generalise_points
from hotspots.schema import (
    ADDRESS_TEXT,
    AREA_NAME,
    DISTANCE_M,
    DUE_BY,
    EASTING,
    EXPIRES_ON,
    IS_BURGLED,
    MANDATORY,
    N_HOMES,
    NORTHING,
    OCCURRED_AT,
    STATUS,
    ZONE_ID,
    ZONE_MONTH_DATES,
    ZONE_STATUSES,
)

__all__ = ["LISTS_FOLDER", "URGENCY", "area_slug", "urgency_order", "write_cocoon_lists"]

LISTS_FOLDER = "cocoon_lists"
URGENCY = {"overdue": 0, "due": 1, "active": 2, "visited": 3}
UNASSIGNED = "Unassigned area"

_CSS = template_text("lists.css")


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


def _zone_section(
    z: Mapping[str, Any],
    number: int,
    total: int,
    svg: str,
    rows: str | None,
    *,
    postcode: bool,
    address_id: bool,
    public: bool,
    n_burgled: int,
) -> str:
    title = f"Zone {number} of {total}"
    if not public:
        title += f"<div class='zid'>zone id {esc(z[ZONE_ID])}</div>"
    head = (
        f"<section class='zone' id='zone-{number}'><h2>{title}</h2><div class='zonehead'>"
        f"<div class='facts'>{_facts(z, public=public)}</div>{svg}</div>"
    )
    if public:
        return head + (
            "<p class='note'>Public version: no address list; the zone is drawn "
            "around the centre of the burglary's 150 m grid square.</p></section>"
        )
    if rows is None:
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
    table = (
        "<table class='visits'><thead><tr><th>Done</th><th>#</th><th>Address</th>"
        + ("<th>Postcode</th>" if postcode else "")
        + "<th>Distance</th><th>Band</th>"
        + ("<th>Id</th>" if address_id else "")
        + "<th>Outcome</th></tr></thead><tbody>"
        + rows
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
    burgled: dict[str, int] = {}
    targets = pd.DataFrame({"_zone": pd.Series([], dtype=object), MANDATORY: []})
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
    homes = ZoneTargets(targets)
    frames = ZoneFrames(geoms, centres, radius)
    zone_ids = zones[ZONE_ID].astype(str).tolist()
    dots = homes.dots({z: i for i, z in enumerate(zone_ids)}, frames.px)
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
            pos = int(z["_pos"])
            k, first, stop, n_mand = homes.bounds.get(zid, (-1, 0, 0, 0))
            counts[zid] = (n_mand, stop - first)
            svg = frames.svg(
                pos, "".join(dots[first + n_mand : stop] + dots[first : first + n_mand])
            )
            sections.append(
                _zone_section(
                    z,
                    n,
                    len(part),
                    svg,
                    "".join(homes.rows[first:stop]) if k >= 0 else None,
                    postcode=bool(k >= 0 and homes.postcode[k]),
                    address_id=bool(k >= 0 and homes.address_id[k]),
                    public=public,
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
