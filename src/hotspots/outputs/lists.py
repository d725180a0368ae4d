"""Printable cocoon visit lists for neighbourhood teams: one HTML page per area.

After a burglary of a home the neighbours face a raised risk for a few weeks, highest
next door and in the first days (Johnson & Bowers 2004; Bowers, Johnson & Pease 2004).
Each page lists the area's zones still to visit, most urgent first (overdue, then due
by deadline, then active): the burglary date and place (no crime detail), the deadline
and expiry, the mandatory nearest homes with tick boxes, then the other homes grouped by
street with their house numbers (:mod:`hotspots.outputs.doors`), and a small map of
the zone drawn as inline SVG, so the page prints on A4, one zone never split across two
pages, and opens with no network. Visited zones are summarised in one line each. The
burgled home is never listed. Where the address layer is postcode units, the page says
so ("postcode units (about 15 addresses each)") and groups them by postcode sector.
``public=True`` writes zones only: no addresses, centres generalised to the 150 m grid.
The page is rendered from the autoescaped template ``templates/lists.html.j2``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from markupsafe import Markup

from hotspots._validate import check_choice, require_columns, require_metric_crs
from hotspots.errors import SchemaError
from hotspots.outputs._listrows import ZoneFrames, zone_dots
from hotspots.outputs._maptext import (
    isna,
    marking_for,
    provenance_lines,
    render_page,
    template_text,
)
from hotspots.outputs.doors import ADDRESS_UNITS, AddressUnit, address_unit, door_groups
from hotspots.outputs.files import write_text
from hotspots.outputs.maps import ZONE_COLOURS
from hotspots.outputs.public import SMALL_COUNT, generalise_points
from hotspots.schema import (
    ADDRESS_TEXT,
    AREA_NAME,
    DISTANCE_M,
    DUE_BY,
    EASTING,
    EXPIRES_ON,
    IS_BURGLED,
    LOCATION,
    MANDATORY,
    N_HOMES,
    NORTHING,
    OCCURRED_AT,
    STATUS,
    ZONE_ID,
    ZONE_KIND,
    ZONE_MONTH_DATES,
    ZONE_STATUSES,
)

__all__ = [
    "LISTS_FOLDER",
    "LIST_SCOPES",
    "URGENCY",
    "ListScope",
    "area_slug",
    "urgency_order",
    "write_cocoon_lists",
]

LISTS_FOLDER = "cocoon_lists"
URGENCY = {"overdue": 0, "due": 1, "active": 2, "visited": 3}
UNASSIGNED = "Unassigned area"
ListScope = Literal["due", "live", "all"]
LIST_SCOPES: tuple[str, ...] = get_args(ListScope)
SCOPE_TEXT = {
    "due": "zones not yet visited",
    "live": "every live zone",
    "all": "every live zone, each address point on its own row",
}
UNIT_LONG = {"homes": "homes", "postcode units": "postcode units (about 15 addresses each)"}
UNIT_ONE = {"homes": "home", "postcode units": "postcode unit"}
SHORT_ID = 16
_MONTH_POINT = {"start": "start", "mid": "middle", "end": "end"}


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


def _date(value: object, fmt: str = "%a %d %b %Y") -> str:
    return "\u2013" if value is None or isna(value) else pd.Timestamp(value).strftime(fmt)  # type: ignore[arg-type]


def _when(occurred: object, month_dates: object) -> str:
    """Burglary date; from month data only the month (the day shown would be invented)."""
    if isinstance(month_dates, str) and month_dates:
        return f"{_date(occurred, '%b %Y')} (month data)"  # the page says how it was dated
    return _date(occurred)


def _latest_retrospective_month(zones: pd.DataFrame) -> pd.Period | None:
    """The latest burglary month among month-data (retrospective) zones, else None."""
    if ZONE_KIND not in zones or not len(zones):
        return None
    retro = zones[zones[ZONE_KIND].astype(str) == "retrospective"]
    if not len(retro):
        return None
    return pd.Timestamp(retro[OCCURRED_AT].max()).tz_localize(None).to_period("M")


def _earlier_month(zone: Mapping[str, Any], latest: pd.Period | None) -> bool:
    """A retrospective zone from before the latest monthly release (listed with that one).

    On month data every zone is a risk area with no deadline and nothing to mark as
    visited; each release's new zones are listed in full, the earlier live ones in one
    line each, so a district list stays a handful of pages.
    """
    if latest is None or str(zone.get(ZONE_KIND)) != "retrospective":
        return False
    return pd.Timestamp(zone[OCCURRED_AT]).tz_localize(None).to_period("M") < latest


def _count(n: object, *, public: bool) -> str:
    if n is None or isna(n):
        return "not known"
    k = int(n)  # type: ignore[call-overload]
    return f"<{SMALL_COUNT}" if public and 0 < k < SMALL_COUNT else f"{k:,}"


def _short(zid: str) -> str:
    return zid if len(zid) <= SHORT_ID else zid[: SHORT_ID - 1] + "\u2026"


def _metres(d: object) -> str:
    return "\u2013" if d is None or isna(d) else f"{float(d):.0f} m"  # type: ignore[arg-type]


SMALL_GROUP = 5  # streets / sectors with this many doors or fewer share one "also" row


def _group_rows(groups: pd.DataFrame | list) -> list[dict[str, object]]:
    """Template rows of a zone's street groups; the small ones merged into one last row.

    A zone in a dense town touches many streets with one or two doors inside the circle:
    one row each would double the printed length, so they go in one "also" row.
    """
    if not len(groups):
        return []
    records = groups if isinstance(groups, list) else groups.to_dict("records")
    big = [r for r in records if int(r["count"]) > SMALL_GROUP]
    small = [r for r in records if int(r["count"]) <= SMALL_GROUP]
    if len(small) < 2:
        big, small = records, []
    rows: list[dict[str, object]] = [
        {
            "count": int(r["count"]),
            "name": r[ADDRESS_TEXT],
            "numbers": r["numbers"],
            "dist": "from " + _metres(r["nearest_m"]),
        }
        for r in big
    ]
    if small:
        rows.append(
            {
                "count": sum(int(r["count"]) for r in small),
                "name": "Also",
                "numbers": "; ".join(f"{r[ADDRESS_TEXT]} {r['numbers']}".strip() for r in small),
                "dist": "from " + _metres(min(float(r["nearest_m"]) for r in small)),
            }
        )
    return rows


def _list_area_of(
    zones: gpd.GeoDataFrame, centres: np.ndarray, list_areas: gpd.GeoDataFrame, field: str
) -> np.ndarray:
    """Name of the list area holding each zone's burglary (first match), else UNASSIGNED."""
    require_metric_crs(list_areas, what="list areas")
    require_columns(
        list_areas, [field], what="list areas", fix="Name the field with list_area_field."
    )
    areas = list_areas.to_crs(zones.crs) if not list_areas.crs.equals(zones.crs) else list_areas
    pts = shapely.points(centres)
    zi, ai = areas.sindex.query(pts, predicate="intersects")
    out = np.full(len(zones), UNASSIGNED, dtype=object)
    names = areas[field].astype(str).to_numpy(dtype=object)
    first = np.unique(zi, return_index=True)[1] if len(zi) else np.zeros(0, dtype=np.int64)
    out[zi[first]] = names[ai[first]]
    return out


def write_cocoon_lists(
    zones: gpd.GeoDataFrame,
    visits: pd.DataFrame | None,
    out_dir: str | Path,
    *,
    as_of: pd.Timestamp,
    provenance: Mapping[str, Any],
    public: bool = False,
    list_scope: ListScope = "due",
    unit: AddressUnit = "auto",
    list_areas: gpd.GeoDataFrame | None = None,
    list_area_field: str = AREA_NAME,
    offline_assets: str | Path | None = None,
) -> dict[str, Path]:
    """Write ``out_dir/cocoon_lists/<area-slug>.html``, one printable page per area.

    Parameters
    ----------
    zones
        Live cocoon zones (``hotspots.cocoon.cocoon_zones``) in a metric CRS: ``zone_id``,
        ``occurred_at``, ``due_by``, ``expires_on``, ``status``, ``area`` (``n_homes``,
        ``location`` and the burglary ``easting``/``northing`` are used when present).
    visits
        Visit list (``hotspots.cocoon.visit_lists``): ``zone_id``, ``address``,
        ``distance_m``, ``mandatory``, ``is_burgled_address`` (``order``, ``street``,
        ``postcode``, ``easting``, ``northing`` when present). None or ignored in public
        mode.
    out_dir
        Output folder; the pages go into its ``cocoon_lists`` sub-folder.
    as_of
        Moment the lists are for (shown in the header).
    provenance
        ``build_provenance`` output (footer: data range, harm table, version).
    public
        Zones only, no addresses, zone centres generalised to the 150 m grid.
    list_scope
        ``"due"`` (default): zones not yet visited in full, visited zones one line each;
        ``"live"``: every live zone in full; ``"all"``: every live zone with every home
        on its own row (no street grouping).
    unit
        What an address point is: ``"homes"``, ``"postcode units"`` or ``"auto"``
        (default: postcode units when every address is a postcode).
    list_areas
        Areas the lists are made for, when they differ from the zones' ``area`` (e.g.
        neighbourhood team areas): polygons with ``list_area_field``; each zone goes to
        the area holding its burglary, zones outside all of them to "Unassigned area".
    list_area_field
        Name column of ``list_areas`` (default ``area``).
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
        ``zones`` (or ``list_areas``) is not in a metric CRS.
    OptionError
        ``list_scope`` or ``unit`` is not one of the choices.
    """
    del offline_assets  # the pages are self-contained
    check_choice(list_scope, LIST_SCOPES, name="list_scope")
    check_choice(unit, ADDRESS_UNITS, name="unit")
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
    if EASTING in zones and NORTHING in zones:
        centres = np.column_stack(
            [zones[EASTING].to_numpy(dtype="float64"), zones[NORTHING].to_numpy(dtype="float64")]
        )
    else:
        centres = shapely.get_coordinates(shapely.centroid(geoms))
    area_names = (
        _list_area_of(zones, centres, list_areas, list_area_field)
        if list_areas is not None
        else zones[AREA_NAME].astype(object).where(zones[AREA_NAME].notna(), UNASSIGNED).to_numpy()
    )
    if public:
        pts = generalise_points(gpd.GeoSeries(shapely.points(centres), crs=zones.crs))
        centres = shapely.get_coordinates(pts.to_numpy())
        geoms = shapely.buffer(pts.to_numpy(), radius, quad_segs=16)
        visits = None
    zone_ids = zones[ZONE_ID].astype(str).tolist()
    frames = ZoneFrames(geoms, centres, radius)
    doors = pd.DataFrame(columns=[ZONE_ID])
    dots: dict[str, str] = {}
    unit_name: str = "homes" if unit == "auto" else unit
    if visits is not None:
        require_columns(
            visits,
            [ZONE_ID, ADDRESS_TEXT, DISTANCE_M, MANDATORY, IS_BURGLED],
            what="visit list",
            fix="Make it with hotspots.cocoon.visit_lists.",
        )
        vz = visits[ZONE_ID].astype(str)
        unknown = sorted(set(vz) - set(zone_ids))
        if unknown:
            msg = (
                f"visit list names {len(unknown)} zone(s) not among the live zones, e.g. "
                f"{unknown[:3]}; build the visit list from the same zones."
            )
            raise SchemaError(msg)
        is_burgled = visits[IS_BURGLED].fillna(False).to_numpy(dtype=bool)
        targets = visits[~is_burgled].assign(_zone=vz[~is_burgled].to_numpy())
        unit_name = address_unit(targets) if unit == "auto" else unit
        if len(targets):
            doors = door_groups(
                targets.drop(columns="_zone"),
                unit=unit_name,  # type: ignore[arg-type]
                detail=list_scope == "all",
            )
            dots = zone_dots(targets, {z: i for i, z in enumerate(zone_ids)}, frames.px)
    # each zone's door rows as template records, in one pass over the door table
    mand_by: dict[str, list[dict[str, Any]]] = {}
    groups_by: dict[str, list[dict[str, Any]]] = {}
    if len(doors):
        kinds = {"mandatory": mand_by, "group": groups_by}
        zone_of = doors[ZONE_ID].astype(str).tolist()
        for zid_, record in zip(zone_of, doors.to_dict("records"), strict=True):
            bucket = kinds.get(record["kind"])
            if bucket is not None:
                bucket.setdefault(zid_, []).append(record)
    frame = pd.DataFrame(zones.drop(columns=zones.geometry.name)).assign(
        _pos=np.arange(len(zones)), _list_area=area_names
    )
    folder = Path(out_dir) / LISTS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    summary, details = provenance_lines(provenance)
    points = (
        sorted({str(v) for v in zones[ZONE_MONTH_DATES].dropna() if str(v)})
        if ZONE_MONTH_DATES in zones
        else []
    )
    month_note = (
        "Month-only data: each burglary is dated at the "
        + " / ".join(_MONTH_POINT.get(v, v) for v in points)
        + " of its month, so its zone is a retrospective risk area with no visit deadline."
        if points
        else ""
    )
    common = {
        "month_note": month_note,
        "css": template_text("lists.css"),
        "marking": marking_for(provenance, public=public),
        "as_of": _date(as_of, "%a %d %b %Y %H:%M"),
        "public": public,
        "scope_text": SCOPE_TEXT[list_scope],
        "unit": unit_name,
        "unit_long": UNIT_LONG[unit_name],
        "unit_one": UNIT_ONE[unit_name],
        "unit_col": "Postcode unit" if unit_name == "postcode units" else "Address",
        "grouped": list_scope != "all" and unit_name == "homes",
        "detail": list_scope == "all",
        "columns": 4 if unit_name == "postcode units" else 2,
        "other_caption": (
            "every other home, nearest first"
            if list_scope == "all"
            else "other postcode units by sector, nearest first"
            if unit_name == "postcode units"
            else "other homes by street (house numbers), nearest first"
        ),
        # the footer lines were escaped for the map's HTML: unescape them once, the template escapes
        "summary": Markup(summary),
        "details": [Markup(d) for d in details],
    }
    latest_month = _latest_retrospective_month(zones)
    written: dict[str, Path] = {}
    used: set[str] = set()
    for area in sorted(pd.unique(frame["_list_area"].astype(str))):
        part = urgency_order(frame[frame["_list_area"].astype(str) == area])
        listed: list[dict[str, Any]] = []
        visited: list[str] = []
        earlier: list[str] = []  # month data: risk areas already listed with their release
        same_point: dict[tuple, dict] = {}  # zones with one burglary point and one timetable
        for z in part.to_dict("records"):
            zid = str(z[ZONE_ID])
            key = (
                round(float(centres[int(z["_pos"]), 0]), 1),
                round(float(centres[int(z["_pos"]), 1]), 1),
                str(z[STATUS]),
                str(z[DUE_BY]),
                str(z[EXPIRES_ON]),
            )
            if key in same_point and not public:
                same_point[key]["also"].append(_short(zid))
                continue
            place = z.get(LOCATION)
            place = place if isinstance(place, str) and place.strip() and not public else ""
            if list_scope == "due" and _earlier_month(z, latest_month):
                street = place.removeprefix("On or near ")
                earlier.append(
                    f"{_short(zid) if not public else 'Zone'}"
                    + (f" {street}" if street else "")
                    + f" \u00b7 until {_date(z[EXPIRES_ON], '%d %b')}"
                )
                continue
            if list_scope == "due" and z[STATUS] == "visited":
                visited.append(
                    f"{_short(zid) if not public else 'Zone'}"
                    + (f" \u00b7 {place}" if place else "")
                    + f" \u00b7 burglary {_date(z[OCCURRED_AT])} \u00b7 visited"
                    f" \u00b7 expires {_date(z[EXPIRES_ON])}"
                )
                continue
            mand = mand_by.get(zid, [])
            groups = groups_by.get(zid, [])
            n_other = int(sum(int(r["count"]) for r in groups))
            listed.append(
                {
                    "also": [],
                    "number": len(listed) + 1,
                    "zid": _short(zid) if not public else f"Zone {len(listed) + 1}",
                    "zid_full": zid if not public else "",
                    "place": place,
                    "status": str(z[STATUS]),
                    "colour": ZONE_COLOURS.get(str(z[STATUS]), "#555"),
                    "when": _when(z[OCCURRED_AT], z.get(ZONE_MONTH_DATES)),
                    "retro": bool(z.get(ZONE_MONTH_DATES))
                    and isinstance(z.get(ZONE_MONTH_DATES), str),
                    "due": _date(z[DUE_BY], "%a %d %b %H:%M"),
                    "due_short": _date(z[DUE_BY], "%d %b %H:%M"),
                    "expires": _date(z[EXPIRES_ON], "%d %b"),
                    "n_units": _count(z.get(N_HOMES), public=public),
                    "n_mandatory": len(mand),
                    "n_other": n_other,
                    "svg": Markup(frames.svg(int(z["_pos"]), dots.get(zid, ""))),
                    "mandatory": [
                        {
                            "order": "" if isna(r["order"]) else int(r["order"]),
                            "address": r[ADDRESS_TEXT],
                            "postcode": r["postcode"]
                            if r["postcode"] and r["postcode"] != r[ADDRESS_TEXT]
                            else "",
                            "dist": _metres(r["nearest_m"]),
                        }
                        for r in mand
                    ],
                    "groups": _group_rows(groups),
                }
            )
            same_point[key] = listed[-1]
        page = render_page(
            "lists.html.j2", area=area, zones=listed, visited=visited, earlier=earlier, **common
        )
        slug = area_slug(area)
        while slug in used:
            slug += "-2"
        used.add(slug)
        written[area] = write_text(folder / f"{slug}.html", page)
    return written
