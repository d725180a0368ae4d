"""Adapters between the weekly pipeline and each stage's public API (private).

Each function takes the run's :class:`~hotspots.pipeline.WeeklySettings` and calls one
stage with the options it needs, so ``pipeline.py`` reads as the data flow alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from hotspots._progress import Progress
from hotspots.schema import (
    ADDRESS_ID,
    ADDRESS_TEXT,
    AREA_NAME,
    EASTING,
    IS_BURGLED,
    N_HOMES,
    NORTHING,
    STATUS,
)

if TYPE_CHECKING:
    from hotspots.pipeline import WeeklySettings


def ingest(inputs: Sequence[str | Path], s: WeeklySettings, *, progress: Progress | None) -> Any:
    from hotspots.ingest import read_incidents

    return read_incidents(list(inputs), s.ingest, progress=progress)


def weight(incidents: gpd.GeoDataFrame, s: WeeklySettings) -> tuple[gpd.GeoDataFrame, Any]:
    from hotspots.harm import apply_harm, load_harm_table

    table = load_harm_table(s.harm_table)
    return apply_harm(incidents, table), table


def spots(
    weighted: gpd.GeoDataFrame,
    s: WeeklySettings,
    *,
    as_of: pd.Timestamp,
    areas: gpd.GeoDataFrame | None,
) -> tuple[Any, pd.DataFrame, pd.DataFrame | None]:
    from hotspots import spots as sp

    top = s.top if s.top is not None else (5 if areas is not None else 20)
    result = sp.find_spots(
        weighted,
        method=s.method,
        cell_m=s.cell_m,
        as_of=as_of,
        lookback_days=s.lookback_days,
        offences=s.offences if s.offences is not None else sp.SERIOUS_VIOLENCE,
        areas=areas,
        top=None if s.harm_share is not None else top,
        harm_share=s.harm_share,
        max_area_km2=s.max_area_km2,
        permutations=s.gistar_permutations,
        seed=s.seed,
    )
    plan = sp.patrol_plan(
        result.spots, as_of=as_of, visit_minutes=s.visit_minutes, crossover=s.crossover, seed=s.seed
    )
    patrol_table = None
    if s.patrols is not None:
        patrols, _rejected = sp.read_patrols(s.patrols)
        patrol_table = sp.patrol_summary(plan, patrols, result.spots)
    return result, plan, patrol_table


def write_spots(result: Any, plan: pd.DataFrame, staging: Path, *, provenance: dict) -> None:
    from hotspots.spots import write_spot_outputs

    write_spot_outputs(result, plan, staging, provenance=provenance)


def knox(
    burglaries: gpd.GeoDataFrame, s: WeeklySettings, *, resolution: str, progress: Progress | None
) -> Any:
    from hotspots.nearrepeat import knox_test

    return knox_test(
        burglaries,
        distance_bands_m=s.distance_bands_m,
        time_bands_days=s.time_bands_days,
        n_permutations=s.permutations,
        seed=s.seed,
        time_resolution=resolution,
        progress=progress,
    )


def write_knox(result: Any, staging: Path, *, provenance: dict) -> None:
    from hotspots.nearrepeat import write_knox_outputs

    write_knox_outputs(result, staging, provenance=provenance)


def cocoon(
    weighted: gpd.GeoDataFrame,
    s: WeeklySettings,
    *,
    as_of: pd.Timestamp,
    areas: gpd.GeoDataFrame | None,
    working_crs: Any,
    staging: Path,
    progress: Progress | None,
) -> tuple[Any, Any, Any, dict[str, Any]]:
    from hotspots import cocoon as cc
    from hotspots.outputs import write_csv
    from hotspots.outputs.public import generalise_zones

    index = None
    if s.addresses is not None:
        addresses, rejected = cc.read_addresses(
            s.addresses,
            x_col=s.address_x_col,
            y_col=s.address_y_col,
            crs=s.address_crs,
            id_col=s.address_id_col,
            working_crs=working_crs,
        )
        if len(rejected):
            write_csv(rejected, staging / "rejected_addresses.csv")
        index = cc.AddressIndex(addresses)  # built once, queried by every step below
    zone_options = {
        "as_of": as_of,
        "radius_m": s.radius_m,
        "window_days": s.window_days,
        "due_hours": s.due_hours,
        "month_dates": s.month_dates,
        "areas": areas,
        "addresses": index,
    }
    zones = cc.cocoon_zones(weighted, **zone_options)
    visit_list = compliance = None
    if index is not None:
        # police.uk points are snapped to anonymous map points: the burgled home is unknown
        burgled_within_m = 0.0 if s.month_dates is not None else 15.0
        visit_list = cc.visit_lists(
            zones, index, radius_m=s.radius_m, nearest=s.nearest, burgled_within_m=burgled_within_m
        )
        if s.visits is not None:
            visits, rejected_visits = cc.read_visits(s.visits, addresses=index, tz=s.ingest.tz)
            if len(rejected_visits):
                write_csv(rejected_visits, staging / "rejected_visits.csv")
            compliance = cc.compliance(zones, visit_list, visits, as_of=as_of)
            first = compliance.per_zone.set_index("zone_id")["first_visit_at"]
            zones = cc.cocoon_zones(weighted, **zone_options, first_visits=first)
    status_counts = zones[STATUS].value_counts().sort_index().to_dict() if len(zones) else {}
    summary: dict[str, Any] = {
        "zones": int(len(zones)),
        "by_status": {str(k): int(v) for k, v in status_counts.items()},
        "by_area": {
            str(k): int(v) for k, v in zones[AREA_NAME].value_counts().sort_index().items()
        },
        "homes_in_zones": (int(zones[N_HOMES].fillna(0).sum()) if N_HOMES in zones else None),
        "month_dates": s.month_dates,
        "visit_lists": (
            "written"
            if visit_list is not None
            else "not written: visit lists need an address layer (--addresses)"
        ),
    }
    if compliance is not None:
        summary["compliance"] = compliance.overall
    if s.public:
        zones = generalise_zones(zones, radius_m=s.radius_m, addresses=index)
        visit_list = None
    return zones, visit_list, compliance, summary


def write_cocoon(
    zones: Any, visit_list: Any, compliance: Any, staging: Path, *, provenance: dict
) -> None:
    from hotspots.cocoon import write_cocoon_outputs

    write_cocoon_outputs(zones, visit_list, compliance, staging, provenance=provenance)


def title_for(areas: gpd.GeoDataFrame | None, incidents: gpd.GeoDataFrame) -> str:
    if areas is not None and len(areas) <= 3:
        return "Harm spots and cocoon zones: " + ", ".join(areas[AREA_NAME].astype(str))
    if areas is not None:
        return f"Harm spots and cocoon zones: {len(areas)} areas"
    return "Harm spots and cocoon zones"


def addresses_in_zones(visit_list: pd.DataFrame | None, *, crs: Any) -> gpd.GeoDataFrame | None:
    """One point per address on a live zone's visit list (never the burgled homes)."""
    if visit_list is None or not len(visit_list):
        return None
    targets = visit_list[~visit_list[IS_BURGLED].astype(bool)]
    unique = targets.drop_duplicates(ADDRESS_ID)
    return gpd.GeoDataFrame(
        {
            ADDRESS_ID: unique[ADDRESS_ID].astype(str).to_numpy(),
            ADDRESS_TEXT: unique[ADDRESS_TEXT].astype("string").fillna("").to_numpy(),
        },
        geometry=gpd.points_from_xy(unique[EASTING], unique[NORTHING]),
        crs=crs,
    )


def map_html(
    spot_result: Any,
    *,
    zones: Any,
    burglaries: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame | None,
    title: str,
    as_of: pd.Timestamp,
    provenance: dict,
    settings: WeeklySettings,
    addresses: gpd.GeoDataFrame | None = None,
) -> str:
    """The analyst map as HTML text (build_map generalises points itself in public mode)."""
    import tempfile

    from hotspots.outputs.maps import build_map, write_map

    m = build_map(
        spots=spot_result.spots,
        dropped=spot_result.dropped,
        surface=spot_result.candidates,
        zones=zones,
        burglaries=burglaries,
        areas=areas,
        addresses=None if settings.public else addresses,
        title=title,
        as_of=as_of,
        provenance=provenance,
        public=settings.public,
        tiles=settings.tiles,
        surface_cell_m=settings.cell_m,
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = write_map(m, Path(tmp) / "map.html", offline_assets=settings.offline_assets)
        return path.read_text(encoding="utf-8")


def write_lists(
    zones: Any,
    visit_list: Any,
    staging: Path,
    *,
    as_of: pd.Timestamp,
    provenance: dict,
    settings: WeeklySettings,
) -> None:
    from hotspots.outputs.lists import write_cocoon_lists

    write_cocoon_lists(
        zones,
        visit_list,
        staging,
        as_of=as_of,
        provenance=provenance,
        public=settings.public,
        offline_assets=settings.offline_assets,
    )
