"""The weekly run, stage by stage: ingest, harm, spots, Knox, cocoons, outputs.

One call gives the analyst's map, the planners' layers and the neighbourhood teams'
cocoon lists. Every output is first written into a staging folder beside the output
folder and moved into place only when the whole run has succeeded, so a failure part
way leaves the previous week's outputs untouched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from hotspots._progress import Progress, report
from hotspots._time import default_as_of, parse_as_of
from hotspots._validate import check_choice
from hotspots.areas import read_areas
from hotspots.config import IngestOptions
from hotspots.errors import EmptyWindowError, OptionError, TimeResolutionError
from hotspots.outputs.publish import stable_html_ids, staged_outputs
from hotspots.schema import (
    DWELLING_BURGLARY,
    OCCURRED_AT,
    RESOLUTION_DAYS,
    TIME_RESOLUTION,
)

__all__ = ["WEEKLY_OUTPUTS", "WeeklyResult", "WeeklySettings", "default_as_of", "run_weekly"]

# every file the weekly run may write (cocoon_lists/ is a folder); stale ones are removed
WEEKLY_OUTPUTS = (
    "map.html",
    "harm_spots.geojson",
    "harm_spots.csv",
    "patrol_plan.csv",
    "patrol_summary.csv",
    "cocoon_zones.geojson",
    "cocoon_visits.csv",
    "cocoon_streets.csv",
    "cocoon_compliance.csv",
    "cocoon_compliance_areas.csv",
    "cocoon_overdue.csv",
    "cocoon_team_lists.csv",
    "cocoon_zones_merged.geojson",
    "knox.csv",
    "knox.html",
    "knox.png",
    "knox.json",
    "hotspots.gpkg",
    "rejected.csv",
    "rejected_visits.csv",
    "rejected_addresses.csv",
    "run.json",
    "cocoon_lists",
)


@dataclass(frozen=True)
class WeeklySettings:
    """Every option of the weekly run (the CLI flags and the TOML keys use these names).

    Distances are metres, durations days unless the name says hours.
    """

    as_of: str | None = None
    harm_table: str = "cchi-2026-police-uk"
    areas: Path | None = None
    area_field: str | None = None
    addresses: Path | None = None
    address_x_col: str | None = None
    address_y_col: str | None = None
    address_id_col: str | None = None
    address_crs: str | None = None
    visits: Path | None = None
    patrols: Path | None = None
    month_dates: str | None = None
    # harm spots
    method: str = "grid"
    cell_m: float = 150.0
    lookback_days: int = 365
    offences: tuple[str, ...] | None = None
    top: int | None = None
    harm_share: float | None = None
    max_area_km2: float | None = None
    visit_minutes: int = 15
    crossover: bool = False
    gistar_permutations: int = 0  # 0: analytic p-values (999 cannot pass FDR on a force grid)
    # cocoons
    radius_m: float = 400.0
    window_days: int = 42
    due_hours: float = 48.0
    nearest: int = 8
    # Knox
    knox: bool = True
    distance_bands_m: tuple[float, ...] = (0, 100, 200, 300, 400)
    time_bands_days: tuple[float, ...] = (0, 7, 14, 21, 28, 35, 42)
    permutations: int = 999
    # outputs
    seed: int = 0
    public: bool = False
    tiles: bool = True
    offline_assets: Path | None = None
    map_addresses: bool = False
    title: str | None = None
    ingest: IngestOptions = field(default_factory=IngestOptions)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, source: str = "settings") -> WeeklySettings:
        """Build from a flat mapping (TOML file, CLI), refusing unknown keys.

        Ingest options (``x_col``, ``tz`` ...) may sit at the top level or in an
        ``[ingest]`` table.
        """
        own = {f.name for f in fields(cls)} - {"ingest"}
        ingest_keys = {f.name for f in fields(IngestOptions)}
        ingest_values = dict(values.get("ingest", {}))
        kwargs: dict[str, Any] = {}
        unknown = []
        for key, value in values.items():
            if key == "ingest":
                continue
            if key in own:
                kwargs[key] = value
            elif key in ingest_keys:
                ingest_values[key] = value
            else:
                unknown.append(key)
        if unknown:
            msg = (
                f"{source}: unknown setting(s) {sorted(unknown)}; known: "
                f"{sorted(own | ingest_keys)}."
            )
            raise OptionError(msg)
        for key in ("areas", "addresses", "visits", "patrols", "offline_assets"):
            if kwargs.get(key) is not None:
                kwargs[key] = Path(kwargs[key])
        for key in ("offences", "distance_bands_m", "time_bands_days"):
            if isinstance(kwargs.get(key), str):
                kwargs[key] = tuple(s.strip() for s in kwargs[key].split(",") if s.strip())
            if kwargs.get(key) is not None:
                kwargs[key] = tuple(kwargs[key])
        for key in ("distance_bands_m", "time_bands_days"):
            if kwargs.get(key) is not None:
                kwargs[key] = tuple(float(v) for v in kwargs[key])
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        return cls(ingest=IngestOptions.from_mapping(ingest_values, source=source), **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters (for run.json)."""
        out = asdict(self)
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in out.items()}


@dataclass(frozen=True)
class WeeklyResult:
    """What a weekly run wrote and its headline figures."""

    out_dir: Path
    files: dict[str, Path]
    summary: dict[str, Any]


def _parse_as_of(text: str | None, incidents: gpd.GeoDataFrame) -> pd.Timestamp:
    if text is None:
        return default_as_of(incidents)
    return parse_as_of(text, incidents[OCCURRED_AT].dt.tz)


def _coarsest_resolution(incidents: gpd.GeoDataFrame) -> str:
    values = set(incidents[TIME_RESOLUTION].astype(str).unique())
    return max(values, key=lambda r: RESOLUTION_DAYS.get(r, 0.0)) if values else "exact"


def run_weekly(
    inputs: Sequence[str | Path],
    *,
    out: str | Path,
    settings: WeeklySettings | None = None,
    progress: Progress | None = None,
) -> WeeklyResult:
    """Run the whole weekly pipeline and write every output into ``out``.

    Parameters
    ----------
    inputs
        Incident files, folders or globs (any format ingest reads).
    out
        Output folder. Files appear there only when the whole run succeeded.
    settings
        All options (defaults: 150 m grid, 365-day look-back, serious-violence offences,
        400 m / 42-day cocoons due in 48 hours, Knox with 999 permutations, seed 0).
    progress
        Callback ``progress(task, done, total)`` (the CLI draws it).

    Returns
    -------
    WeeklyResult
        Paths written and the headline figures (also in ``run.json``).
    """
    from hotspots import _stages as stages

    s = settings or WeeklySettings()
    if s.month_dates is not None:
        check_choice(s.month_dates, ("start", "mid", "end"), name="month_dates")
    out_dir = Path(out)
    with staged_outputs(out_dir, owned=WEEKLY_OUTPUTS) as staging:
        result = _run_into(staging, inputs, s, stages, progress)
    files = {p.name: p for p in (out_dir / n for n in WEEKLY_OUTPUTS) if p.exists()}
    report(progress, "done", 1, 1)
    return WeeklyResult(out_dir=out_dir, files=files, summary=result)


def _run_into(
    staging: Path,
    inputs: Sequence[str | Path],
    s: WeeklySettings,
    stages: Any,
    progress: Progress | None,
) -> dict[str, Any]:
    """All stages, writing into ``staging``; returns the run summary."""
    from hotspots.outputs import build_provenance, write_csv, write_geopackage, write_json
    from hotspots.outputs.files import areas_layer, points_layer, write_text
    from hotspots.outputs.public import (
        day_times,
        make_public_folder,
        public_burglaries,
        public_figures,
    )

    ingested = stages.ingest(inputs, s, progress=progress)
    incidents = ingested.incidents
    input_files = [f["path"] for f in ingested.report.files]
    write_csv(ingested.rejected, staging / "rejected.csv")
    resolution = _coarsest_resolution(incidents)
    as_of = _parse_as_of(s.as_of, incidents)
    working_crs = incidents.crs
    areas = (
        read_areas(s.areas, area_field=s.area_field, working_crs=working_crs)
        if s.areas is not None
        else None
    )
    extra_inputs = [p for p in (s.areas, s.addresses, s.visits, s.patrols) if p is not None]
    weighted, harm_table = stages.weight(incidents, s)

    summary: dict[str, Any] = {
        "as_of": as_of,
        "time_resolution": resolution,
        "ingest": ingested.report.to_dict(),
        "harm_table": {
            "name": harm_table.name,
            "version": harm_table.version,
            "source": harm_table.source,
            "licence": harm_table.licence,
        },
        "notes": list(ingested.report.notes),
    }
    layers: dict[str, gpd.GeoDataFrame] = {}

    def provenance(command: str) -> dict[str, Any]:
        record = build_provenance(
            command=command,
            parameters={**s.to_dict(), "as_of": as_of},
            inputs=[*input_files, *extra_inputs],
            extra={
                "date_min": ingested.report.date_min,
                "date_max": ingested.report.date_max,
                "harm_table": summary["harm_table"],
                "time_resolution": resolution,
                "notes": summary["notes"],
            },
        )
        return public_figures(record) if s.public else record

    # ---------------------------------------------------------------- harm spots
    report(progress, "harm spots", 0, 1)
    spot_result, plan, patrol_table = stages.spots(weighted, s, as_of=as_of, areas=areas)
    stages.write_spots(spot_result, plan, staging, provenance=provenance("weekly"))
    if patrol_table is not None:
        write_csv(patrol_table, staging / "patrol_summary.csv")
    summary["spots"] = spot_result.summary
    layers["harm_spots"] = spot_result.spots
    if len(spot_result.dropped):
        layers["dropped_spots"] = spot_result.dropped
    report(progress, "harm spots", 1, 1)

    # ---------------------------------------------------------------- Knox
    burglaries = weighted[weighted[DWELLING_BURGLARY].fillna(False).astype(bool)]
    if s.knox and resolution in ("exact", "day") and len(burglaries) >= 2:
        knox = stages.knox(burglaries, s, resolution=resolution, progress=progress)
        stages.write_knox(knox, staging, provenance=provenance("weekly"))
        summary["knox"] = knox.recommendation()
    else:
        why = (
            "disabled"
            if not s.knox
            else f"the data has {resolution} resolution; Knox needs day or exact dates"
            if resolution not in ("exact", "day")
            else "fewer than two dwelling burglaries"
        )
        summary["knox"] = {"skipped": why}

    # ---------------------------------------------------------------- cocoons
    zones = visits_list = None
    try:
        cocoon = stages.cocoon(
            weighted,
            s,
            as_of=as_of,
            areas=areas,
            working_crs=working_crs,
            staging=staging,
            progress=progress,
        )
    except (TimeResolutionError, EmptyWindowError) as exc:
        summary["cocoon"] = {"skipped": str(exc)}
        summary["notes"].append(f"Cocoon zones skipped: {exc}")
        cocoon = None
    if cocoon is not None:
        zones, visits_list, compliance, cocoon_summary = cocoon
        stages.write_cocoon(
            zones, visits_list, compliance, staging, provenance=provenance("weekly")
        )
        summary["cocoon"] = cocoon_summary
        layers["cocoon_zones"] = zones

    # ---------------------------------------------------------------- map, lists, package
    prov = provenance("weekly")
    recent = burglaries[burglaries[OCCURRED_AT] > as_of - pd.Timedelta(days=s.window_days)]
    recent = recent[recent[OCCURRED_AT] <= as_of]
    title = s.title or stages.title_for(areas, incidents)
    map_addresses = (
        stages.addresses_in_zones(visits_list, crs=working_crs)
        if s.map_addresses and not s.public
        else None
    )
    html = stages.map_html(
        spot_result,
        zones=day_times(zones, tz=s.ingest.tz) if s.public and zones is not None else zones,
        burglaries=day_times(recent, tz=s.ingest.tz) if s.public else recent,
        areas=areas,
        title=title,
        as_of=as_of,
        provenance=prov,
        settings=s,
        addresses=map_addresses,
    )
    write_text(staging / "map.html", stable_html_ids(html))
    if zones is not None and visits_list is not None and not s.public:
        stages.write_lists(zones, visits_list, staging, as_of=as_of, provenance=prov, settings=s)
    if areas is not None:
        layers["areas"] = areas_layer(s.areas, area_field=s.area_field, crs=working_crs)
    if len(recent):
        layers["recent_burglaries"] = public_burglaries(recent) if s.public else recent
    if visits_list is not None and not s.public:
        layers["cocoon_visits"] = points_layer(visits_list, crs=working_crs)
    if len(plan):
        layers["patrol_plan"] = spot_result.spots[["spot_id", "geometry"]].merge(plan, on="spot_id")
    gpkg = {k: v for k, v in layers.items() if len(v)}
    write_geopackage(gpkg, staging / "hotspots.gpkg", metadata=prov)
    summary_out = {**prov, "summary": summary}
    write_json(staging / "run.json", summary_out)
    if s.public:  # one pass over every table and figure file, just before the swap
        make_public_folder(staging, crs=working_crs, tz=s.ingest.tz, radius_m=s.radius_m)
    return summary


def with_defaults(settings: WeeklySettings, **changes: Any) -> WeeklySettings:
    """A copy of ``settings`` with some options changed (keeps the object frozen)."""
    return replace(settings, **changes)
