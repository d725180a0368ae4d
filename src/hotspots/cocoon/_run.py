"""The cocoon stage, once: the entry point ``hotspots cocoon`` and the weekly run share.

``run`` reads the side inputs (address points in the incidents' working CRS, the visit
log in their time zone), opens a zone around each recent dwelling burglary, lists the
homes to visit and measures compliance; it returns a frozen :class:`CocoonRun` whose
``rejected`` holds every unusable address and visit row. ``write_run`` writes its files.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from hotspots._progress import Progress, report
from hotspots._validate import require_columns
from hotspots.cocoon.addresses import AddressIndex, read_addresses
from hotspots.cocoon.compliance import Compliance, compliance, read_visits
from hotspots.cocoon.lists import visit_lists
from hotspots.cocoon.write import COCOON_PARTS, write_cocoon_outputs
from hotspots.cocoon.zones import cocoon_zones, zone_notes
from hotspots.config import CocoonOptions, check_side_inputs
from hotspots.schema import (
    AREA_NAME,
    DWELLING_BURGLARY,
    IS_BURGLED,
    N_HOMES,
    OCCURRED_AT,
    STATUS,
    ZONE_KIND,
)

__all__ = ["CocoonRun", "run", "write_run"]


@dataclass(frozen=True)
class CocoonRun:
    """One cocoon run: zones, visit list, compliance, rejected side-input rows, figures."""

    zones: gpd.GeoDataFrame
    visit_list: pd.DataFrame | None
    compliance: Compliance | None
    rejected: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    figures: dict[str, Any] = field(default_factory=dict)
    addresses: AddressIndex | None = None  # the index the lists came from (public recounts)


def cocoon_rows(incidents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The rows a cocoon run reads, the dwelling burglaries, as a compact copy of their own.

    Zones, visit lists and compliance depend on these rows alone (:func:`run` gives the
    same result on them as on the whole frame), so a run may hand its cocoon stage this
    copy. Its point objects are new and lie together: a forked cocoon stage
    (:mod:`hotspots._forked`) touching them copies a few pages, not the pages of every
    point of the force it would touch picking burglaries out of the whole frame.
    """
    require_columns(incidents, [DWELLING_BURGLARY], what="incidents")
    flag = incidents[DWELLING_BURGLARY].fillna(False).astype(bool).to_numpy()
    rows = incidents[flag]
    geoms = rows.geometry.to_numpy()
    plain_points = (  # what ingest makes: 2D points, none empty or missing
        len(geoms)
        and bool((shapely.get_type_id(geoms) == 0).all())
        and not bool(shapely.is_empty(geoms).any() or shapely.has_z(geoms).any())
    )
    if plain_points:
        fresh = shapely.points(shapely.get_coordinates(geoms))
        rows = rows.set_geometry(gpd.GeoSeries(fresh, index=rows.index, crs=rows.crs))
    return rows


def run(
    incidents: gpd.GeoDataFrame,
    options: CocoonOptions,
    *,
    as_of: pd.Timestamp,
    areas: gpd.GeoDataFrame | None = None,
    addresses: Path | None = None,
    visits: Path | None = None,
    progress: Progress | None = None,
) -> CocoonRun:
    """Cocoon zones, visit lists (with ``addresses``) and compliance (with ``visits``).

    Raises
    ------
    OptionError
        ``visits`` without ``addresses`` (before anything is read).
    TimeResolutionError
        Month-dated burglaries without ``options.month_dates``.
    EmptyWindowError
        No dwelling burglary in the window before ``as_of``.
    """
    check_side_inputs(addresses=addresses, visits=visits)
    rejected: dict[str, pd.DataFrame] = {}
    notes: list[str] = []
    index = None
    if addresses is not None:
        report(progress, "reading addresses", 0, 1)
        layer, rejected["addresses"] = read_addresses(
            addresses,
            x_col=options.address_x_col,
            y_col=options.address_y_col,
            crs=options.address_crs,
            id_col=options.address_id_col,
            working_crs=incidents.crs,
        )
        if len(rejected["addresses"]):
            notes.append(
                f"{len(rejected['addresses']):,} address rows rejected (see rejected_addresses.csv)"
            )
        index = AddressIndex(layer, cache_dir=options.address_cache_dir)
        report(progress, "reading addresses", 1, 1)
    zone_options: dict[str, Any] = {
        "as_of": as_of,
        "radius_m": options.radius_m,
        "window_days": options.window_days,
        "due_hours": options.due_hours,
        "month_dates": options.month_dates,
        "areas": areas,
        "addresses": index,
    }
    report(progress, "cocoon zones", 0, 1)
    zones = cocoon_zones(incidents, **zone_options)
    report(progress, "cocoon zones", 1, 1)
    visit_list = result = None
    if index is not None:
        visit_list = visit_lists(
            zones,
            index,
            radius_m=options.radius_m,
            nearest=options.nearest,
            burgled_within_m=options.burgled_within,
        )
        if visits is not None:
            tz = incidents[OCCURRED_AT].dt.tz
            log, rejected["visits"] = read_visits(
                visits, addresses=index, tz=str(tz) if tz is not None else "Europe/London"
            )
            if len(rejected["visits"]):
                notes.append(
                    f"{len(rejected['visits']):,} visit rows rejected (see rejected_visits.csv)"
                )
            result = compliance(zones, visit_list, log, as_of=as_of)
            if len(result.rejected):  # read, but in no zone's window: reported, not dropped
                rejected["visits"] = pd.concat(
                    [rejected["visits"], result.rejected], ignore_index=True
                )
                notes.append(
                    f"{len(result.rejected):,} visits fall in no zone's window "
                    f"(outside_zone_window, see rejected_visits.csv)"
                )
            first = result.per_zone.set_index("zone_id")["first_visit_at"]
            zones = cocoon_zones(incidents, **zone_options, first_visits=first)
    else:
        notes.append("visit lists need an address layer: pass --addresses FILE")
    figures = _figures(zones, visit_list, result, options, notes)
    return CocoonRun(
        zones=zones,
        visit_list=visit_list,
        compliance=result,
        rejected=rejected,
        notes=tuple(figures["notes"]),
        figures=figures,
        addresses=index,
    )


def _figures(
    zones: gpd.GeoDataFrame,
    visit_list: pd.DataFrame | None,
    result: Compliance | None,
    options: CocoonOptions,
    notes: list[str],
) -> dict[str, Any]:
    month_dates = options.month_dates
    all_notes = [*notes, *zone_notes(zones, window_days=options.window_days)]
    if month_dates and visit_list is not None and options.burgled_within > 0:
        all_notes.append(
            "police.uk points are snapped to anonymous map points, so the address flagged "
            "as burgled is only the one nearest that point (--burgled-within-m 0 turns the "
            "flag off)"
        )
    if month_dates:
        all_notes.append(
            f"each retrospective risk window starts at the {month_dates} of its burglary's "
            f"month (--month-dates {month_dates}); no visit deadline is set"
        )
    status_counts = zones[STATUS].value_counts().sort_index() if len(zones) else {}
    out: dict[str, Any] = {
        "zones": int(len(zones)),
        "by_status": {str(k): int(v) for k, v in dict(status_counts).items()},
        "by_kind": (
            {str(k): int(v) for k, v in zones[ZONE_KIND].value_counts().sort_index().items()}
            if ZONE_KIND in zones
            else {}
        ),
        "by_area": {
            str(k): int(v) for k, v in zones[AREA_NAME].value_counts().sort_index().items()
        },
        "homes_in_zones": (
            int(zones[N_HOMES].fillna(0).sum())
            if N_HOMES in zones and len(zones) and not zones[N_HOMES].isna().all()
            else None
        ),
        "radius_m": float(options.radius_m),
        "window_days": int(options.window_days),
        "month_dates": month_dates,
        "burgled_within_m": options.burgled_within,
        "visit_lists": (
            "written"
            if visit_list is not None
            else "not written: visit lists need an address layer (--addresses)"
        ),
        "visit_rows": (
            None
            if visit_list is None
            else int((~visit_list[IS_BURGLED].to_numpy(dtype=bool)).sum())
        ),
        "notes": all_notes,
    }
    if result is not None:
        out["compliance"] = result.overall
    return out


def write_run(
    cocoon_run: CocoonRun,
    out_dir: Path,
    *,
    provenance: Mapping[str, Any],
    zones: gpd.GeoDataFrame | None = None,
    with_lists: bool = True,
    parts: Collection[str] = COCOON_PARTS,
) -> dict[str, Path]:
    """Write the zone layers, visit files, compliance and rejected side-input rows.

    ``zones`` replaces the run's zones (the public, generalised ones) and ``with_lists``
    False leaves out the visit list (public mode); both are decided at the output edge.
    ``parts`` picks the GeoJSON ``layers`` and/or the CSV ``tables`` (rejected rows
    included), see :func:`~hotspots.cocoon.write.write_cocoon_outputs`.
    """
    from hotspots.outputs import write_csv

    written = write_cocoon_outputs(
        cocoon_run.zones if zones is None else zones,
        cocoon_run.visit_list if with_lists else None,
        cocoon_run.compliance,
        out_dir,
        provenance=provenance,
        parts=parts,
    )
    if "tables" not in parts:
        return written
    for name, rows in cocoon_run.rejected.items():
        if len(rows):
            written[f"rejected_{name}.csv"] = write_csv(
                rows, Path(out_dir) / f"rejected_{name}.csv"
            )
    return written
