"""The one-page briefing for the tasking meeting: ``briefing.html``, printable on A4.

Per area the top harm spots by place name, with their harm, the change since the last
run and the patrol dosage planned for them (Sherman & Weisburd 1995; Koper 1995 on
short visits); the cocoon zones due in the next 48 hours (Johnson & Bowers 2004); the
Knox result in one sentence; and the data caveats. It is what goes on the screen in
the meeting, and prints on one or two A4 pages. Rendered from the autoescaped template
``templates/briefing.html.j2``; it links to no external file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from hotspots._validate import require_columns
from hotspots.outputs._maptext import (
    harm_unit,
    isna,
    marking_for,
    provenance_lines,
    render_page,
    template_text,
)
from hotspots.outputs.files import write_text
from hotspots.outputs.maps import ZONE_COLOURS
from hotspots.outputs.public import SMALL_COUNT
from hotspots.schema import (
    AREA_NAME,
    AREA_RANK,
    DUE_BY,
    HARM_PREVIOUS,
    HARM_TOTAL,
    LOCATION,
    N_HOMES,
    PLACE_NAME,
    PLANNED_VISITS,
    RANK,
    SPOT_ID,
    STATUS,
    TREND,
    ZONE_ID,
    ZONE_KIND,
    ZONE_MONTH_DATES,
    zones_phrase,
)

__all__ = ["BRIEFING_FILE", "write_briefing"]

BRIEFING_FILE = "briefing.html"
MAX_ZONES = 25  # zones listed on the page; the rest are counted
_MINUTES = "minutes"  # patrol_plan.csv: length of each planned visit
_TREND_TEXT = {"up": "harm up", "down": "harm down", "steady": "steady", "flat": "steady"}
_NO_EARLIER = ("new", "no_earlier_data")  # trend with nothing to compare against


def _num(value: object, digits: int = 0) -> str:
    return "\u2013" if value is None or isna(value) else f"{float(value):,.{digits}f}"  # type: ignore[arg-type]


def _change(row: Mapping[str, Any]) -> str:
    """Status against the last run, and the trend against the previous window, briefly."""
    status = row.get(STATUS)
    parts = []
    if status == "new":
        parts.append("new")
    elif status == "persisting":
        parts.append("as last run")
    trend = row.get(TREND)
    if isinstance(trend, str) and trend in _TREND_TEXT:
        prev = row.get(HARM_PREVIOUS)
        text = _TREND_TEXT[trend]
        if prev is not None and not isna(prev):
            text += f" (was {_num(prev)})"
        parts.append(text)
    elif trend in _NO_EARLIER:
        parts.append("no earlier period")
    return ", ".join(parts) or "\u2013"


def _place(row: Mapping[str, Any]) -> str:
    for key in (PLACE_NAME, LOCATION):
        value = row.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return f"spot {row.get(SPOT_ID, '')}".strip()


def _dosage(spot_id: object, row: Mapping[str, Any], plan: Mapping[Any, tuple[int, int]]) -> str:
    if spot_id in plan:
        visits, minutes = plan[spot_id]
        return f"{visits} visits, {minutes} min" if minutes else f"{visits} visits"
    planned = row.get(PLANNED_VISITS)
    if planned is not None and not isna(planned):
        return f"{int(planned)} visits"  # type: ignore[call-overload]
    return "no plan"


def _delivered(dosage: Mapping[str, Any] | None) -> dict[str, str] | None:
    """The patrol delivery section: the week, its one-line total, interactions by activity."""
    if not dosage:
        return None
    start, end = pd.Timestamp(dosage["week_start"]), pd.Timestamp(dosage["week_end"])
    by_activity = dosage.get("interactions_by_activity") or {}
    return {
        "week": f"{start:%a %d %b} to {end:%a %d %b %Y}",
        "sentence": str(dosage.get("text", "")),
        "by_activity": ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in by_activity.items()),
        "outside": f"{int(dosage.get('no_spot_interactions', 0)):,}"
        if dosage.get("no_spot_interactions")
        else "",
    }


def _default_title(names: list[str]) -> str:
    if not names:
        return "no areas"
    return ", ".join(names) if len(names) <= 3 else f"{len(names)} areas"


def write_briefing(
    out_dir: str | Path,
    *,
    spots: pd.DataFrame,
    zones: pd.DataFrame | None,
    knox_summary: str | None,
    notes: Sequence[str],
    provenance: Mapping[str, Any],
    as_of: pd.Timestamp,
    patrol_plan: pd.DataFrame | None = None,
    title: str | None = None,
    top: int = 3,
    due_hours: float = 48.0,
    unit: str = "homes",
    public: bool = False,
    dosage: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``out_dir/briefing.html``, the one-page summary for the tasking meeting.

    Parameters
    ----------
    out_dir
        Output folder.
    spots
        Ranked harm spots with ``spot_id``, ``rank``, ``area``, ``harm``; ``area_rank``,
        ``place_name``/``location``, ``status``, ``trend``, ``harm_previous`` and
        ``planned_visits`` are used when present.
    zones
        Live cocoon zones (``zone_id``, ``due_by``, ``status``, ``area``; ``location``,
        ``n_homes``, ``month_dates`` when present), or None when cocoons were not run.
    knox_summary
        The Knox result in one sentence, or None (the page says it was not run).
    notes
        Data caveats, one sentence each (the run's notes).
    provenance
        ``build_provenance`` output (footer, data range, harm table).
    as_of
        Moment the run is for.
    patrol_plan
        ``patrol_plan.csv`` rows (``spot_id``, ``minutes``): the dosage per spot.
    title
        Page title (default: the area names, or their number when more than three).
    top
        Spots shown per area (default 3).
    due_hours
        Zones due within this many hours of ``as_of`` are listed (default 48).
    unit
        What the address points are, for the zone table (``homes`` or ``postcode units``).
    public
        Shareable version: no zone ids or burglary places, counts 1-2 as ``<3``.
    dosage
        The patrol log's latest complete week (``SpotRun.weekly_dosage``): its dates
        (``week_start``, ``week_end``), the force-wide line ``text``, interactions by
        activity and outside every spot; None (no log) shows nothing.

    Returns
    -------
    pathlib.Path
        The written page.

    Raises
    ------
    SchemaError
        ``spots`` or ``zones`` lacks a required column.
    """
    require_columns(spots, [SPOT_ID, RANK, AREA_NAME, HARM_TOTAL], what="spots")
    as_of = pd.Timestamp(as_of)
    plan: dict[Any, tuple[int, int]] = {}
    if patrol_plan is not None and len(patrol_plan) and SPOT_ID in patrol_plan:
        minutes = (
            patrol_plan[_MINUTES]
            if _MINUTES in patrol_plan
            else pd.Series(0, index=patrol_plan.index)
        )
        grouped = pd.DataFrame({"s": patrol_plan[SPOT_ID], "m": minutes}).groupby("s")["m"]
        plan = {
            k: (int(n), int(m))
            for k, n, m in zip(grouped.size().index, grouped.size(), grouped.sum(), strict=True)
        }
    ranked = spots.assign(
        _local=spots[AREA_RANK] if AREA_RANK in spots else spots[RANK],
        _area=spots[AREA_NAME].astype(object).where(spots[AREA_NAME].notna(), "Unassigned area"),
    )
    areas = []
    for name, part in ranked.groupby("_area", sort=True):
        part = part.sort_values(["_local", RANK], kind="stable")
        rows = []
        for r in part.head(top).to_dict("records"):
            rows.append(
                {
                    "rank": int(r["_local"]),
                    "place": _place(r),
                    "harm": _num(r[HARM_TOTAL]),
                    "change": _change(r),
                    "dosage": _dosage(r[SPOT_ID], r, plan),
                }
            )
        areas.append({"name": str(name), "n_spots": len(part), "spots": rows})
    zones_due: list[dict[str, Any]] = []
    zones_more = 0
    zones_text = "no cocoon zones"
    if zones is None:
        zones_none = "Cocoons were not run this week."
    else:
        require_columns(zones, [ZONE_ID, DUE_BY, STATUS, AREA_NAME], what="zones")
        month = (
            zones[ZONE_MONTH_DATES].astype("string").fillna("").str.len().gt(0)
            if ZONE_MONTH_DATES in zones
            else pd.Series(False, index=zones.index)
        )
        kinds = (
            zones[ZONE_KIND].astype(str)
            if ZONE_KIND in zones
            else pd.Series(np.where(month, "retrospective", "operational"))
        )
        zones_text = zones_phrase(len(zones), kinds)
        # compared in UTC: a zone from month data has no deadline (NaT never falls due)
        due_by = pd.to_datetime(zones[DUE_BY], utc=True)
        horizon = as_of + pd.Timedelta(hours=due_hours)
        horizon = horizon.tz_localize("UTC") if horizon.tzinfo is None else horizon
        pick = zones[
            zones[STATUS].isin(["due", "overdue"]).to_numpy()
            & (due_by <= horizon).to_numpy()
            & ~month.to_numpy()
        ]
        pick = pick.assign(_o=pick[STATUS].map({"overdue": 0, "due": 1})).sort_values(
            ["_o", DUE_BY, ZONE_ID], kind="stable"
        )
        for n, z in enumerate(pick.to_dict("records")):
            if n >= MAX_ZONES:
                zones_more = len(pick) - MAX_ZONES
                break
            homes = z.get(N_HOMES)
            count = "\u2013" if homes is None or isna(homes) else int(homes)
            if public and isinstance(count, int) and 0 < count < SMALL_COUNT:
                count = f"<{SMALL_COUNT}"
            place = z.get(LOCATION)
            zones_due.append(
                {
                    "zid": f"zone {n + 1}" if public else str(z[ZONE_ID]),
                    "area": z[AREA_NAME],
                    "place": place if isinstance(place, str) and not public else "\u2013",
                    "due": pd.Timestamp(z[DUE_BY]).strftime("%a %d %b %H:%M"),
                    "status": str(z[STATUS]),
                    "colour": ZONE_COLOURS.get(str(z[STATUS]), "#555"),
                    "n": count,
                }
            )
        if month.all() and len(zones):
            zones_none = (
                f"None with a deadline: the {zones_text} come from month-only data, so none "
                "has a visit deadline (see the cocoon lists)."
            )
        else:
            zones_none = f"No zone falls due in the next {due_hours:g} hours."
    summary, details = provenance_lines(provenance)
    dmin, dmax = provenance.get("date_min"), provenance.get("date_max")
    span = f"{str(dmin)[:10]} to {str(dmax)[:10]}" if dmin or dmax else "not recorded"
    page = render_page(
        "briefing.html.j2",
        css=template_text("briefing.css"),
        title=title or _default_title([str(a["name"]) for a in areas]),
        marking=marking_for(provenance, public=public),
        as_of=as_of.strftime("%a %d %b %Y %H:%M"),
        span=span,
        unit=harm_unit(provenance),
        n_spots=len(spots),
        zones_text=zones_text,
        areas=areas,
        top=top,
        dosage_note=(
            "Patrol dosage: visits planned this week in patrol_plan.csv (about 15 minutes "
            "each, at varied times in the spot's peak windows). Change: against the last "
            "run (new / as last run) and harm against the previous equal window."
            if plan
            else ""
        ),
        delivered=_delivered(dosage),
        due_hours=f"{due_hours:g}",
        zones_due=zones_due,
        zones_more=zones_more,
        zones_none=zones_none,
        unit_units="Postcode units" if unit == "postcode units" else "Homes",
        knox=knox_summary or "The Knox test was not run this week.",
        notes=[str(n) for n in notes],
        summary=Markup(summary),
        details=[Markup(d) for d in details],
    )
    return write_text(Path(out_dir) / BRIEFING_FILE, page)
