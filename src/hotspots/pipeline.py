"""The weekly run: ingest, harm, then the stage runners in order, then the outputs.

One call gives the analyst's map, the planners' layers and the neighbourhood teams'
cocoon lists. It calls the same stage runners as ``hotspots spots``, ``hotspots knox``
and ``hotspots cocoon`` (:func:`hotspots.spots.run`, :func:`hotspots.nearrepeat.run`,
:func:`hotspots.cocoon.run`), with the options of one :class:`WeeklySettings`. Every
output is first written into a staging folder beside the output folder and moved into
place only when the whole run has succeeded, so a failure part way leaves the previous
week's outputs untouched.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import geopandas as gpd
import pandas as pd

from hotspots import cocoon, nearrepeat, spots
from hotspots._forked import SideBySide, side_by_side
from hotspots._memory import release_freed_memory
from hotspots._progress import Progress, report
from hotspots._runs import (
    read_previous_run,
    read_run_areas,
    run_areas,
    run_as_of,
    time_resolution_of,
    with_strays,
)
from hotspots._time import default_as_of
from hotspots.config import CocoonOptions, SpotOptions, WeeklySettings, check_input_paths
from hotspots.errors import EmptyWindowError, InputError, TimeResolutionError
from hotspots.harm import weigh_used
from hotspots.outputs.publish import stable_html_ids, staged_outputs
from hotspots.schema import (
    ADDRESS_ID,
    ADDRESS_TEXT,
    AREA_NAME,
    DWELLING_BURGLARY,
    EASTING,
    IS_BURGLED,
    NORTHING,
    OCCURRED_AT,
    OFFENCE,
)

if TYPE_CHECKING:
    from hotspots.ingest import IngestResult

__all__ = [
    "COCOON_OUTPUTS",
    "COMMAND_OUTPUTS",
    "EVALUATE_OUTPUTS",
    "KNOX_OUTPUTS",
    "SPOTS_OUTPUTS",
    "WEEKLY_OUTPUTS",
    "WeeklyResult",
    "WeeklySettings",
    "cocoon_options_from_knox",
    "write_printable_lists",
    "default_as_of",
    "offences_in_use",
    "run_weekly",
]

# every file the weekly run may write (cocoon_lists/ is a folder); stale ones are removed
WEEKLY_OUTPUTS = (
    "map.html",
    "briefing.html",
    "harm_spots.geojson",
    "harm_spots.csv",
    "patrol_plan.csv",
    "patrol_summary.csv",
    "patrol_dosage.csv",
    "layer_counts.csv",
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
    "rejected_harm.csv",
    "rejected_visits.csv",
    "rejected_addresses.csv",
    "rejected_patrols.csv",
    "rejected_layers.csv",
    "run.json",
    "cocoon_lists",
)

# every file each stage command may write: they publish through the same staged swap
SPOTS_OUTPUTS = (
    "harm_spots.geojson",
    "harm_spots.csv",
    "patrol_plan.csv",
    "patrol_summary.csv",
    "patrol_dosage.csv",
    "layer_counts.csv",
    "rejected.csv",
    "rejected_patrols.csv",
    "rejected_layers.csv",
    "run.json",
)
KNOX_OUTPUTS = ("knox.csv", "knox.html", "knox.png", "knox.json", "rejected.csv", "run.json")
COCOON_OUTPUTS = (
    "cocoon_zones.geojson",
    "cocoon_zones_merged.geojson",
    "cocoon_visits.csv",
    "cocoon_team_lists.csv",
    "cocoon_streets.csv",
    "cocoon_compliance.csv",
    "cocoon_compliance_areas.csv",
    "cocoon_overdue.csv",
    "rejected.csv",
    "rejected_addresses.csv",
    "rejected_visits.csv",
    "run.json",
    "cocoon_lists",
)
EVALUATE_OUTPUTS = (
    "evaluation.csv",
    "summary.csv",
    "pai_by_coverage.png",
    "harm_capture_over_time.png",
    "evaluation.html",
    "cocoon_periods.csv",
    "cocoon_bands.csv",
    "rejected.csv",
    "run.json",
)
COMMAND_OUTPUTS: dict[str, tuple[str, ...]] = {
    "weekly": WEEKLY_OUTPUTS,
    "spots": SPOTS_OUTPUTS,
    "knox": KNOX_OUTPUTS,
    "cocoon": COCOON_OUTPUTS,
    "evaluate": EVALUATE_OUTPUTS,
}


KNOX_PAGES = ("knox.html", "knox.png")  # pair counts drawn in cells: not in public runs


@dataclass(frozen=True)
class WeeklyResult:
    """What a weekly run wrote and its headline figures."""

    out_dir: Path
    files: dict[str, Path]
    summary: dict[str, Any]


@dataclass(frozen=True)
class CocoonStage:
    """The cocoon stage of a run: its result and zones as the outputs show them.

    ``run`` holds no address index (the index stays where it was built: the public
    recount that needs it is done in :func:`cocoon_stage`); ``skipped`` says why no zone
    was opened (month dates without --month-dates, no burglary in the window).
    """

    run: cocoon.CocoonRun | None = None
    zones: gpd.GeoDataFrame | None = None
    skipped: str | None = None


def cocoon_stage(
    weighted: gpd.GeoDataFrame,
    options: CocoonOptions,
    *,
    as_of: pd.Timestamp,
    areas: gpd.GeoDataFrame | None,
    settings: WeeklySettings,
    progress: Progress | None = None,
) -> CocoonStage:
    """Zones, visit lists and compliance, the zones generalised in public mode."""
    from hotspots.outputs.public import generalise_zones

    try:
        run = cocoon.run(
            weighted,
            options,
            as_of=as_of,
            areas=areas,
            addresses=settings.addresses,
            visits=settings.visits,
            progress=progress,
        )
    except (TimeResolutionError, EmptyWindowError) as exc:
        return CocoonStage(skipped=str(exc))
    zones = run.zones
    if settings.output.public:
        zones = generalise_zones(zones, radius_m=options.radius_m, addresses=run.addresses)
    return CocoonStage(run=replace(run, addresses=None), zones=zones)


def extra_layer_name(name: str) -> str:
    """The GeoPackage layer of a ``--layer NAME=FILE``: ``Street-Safe`` -> ``layer_street_safe``."""
    from hotspots.outputs.lists import area_slug

    return "layer_" + area_slug(name).replace("-", "_")


def write_printable_lists(
    cocoon_run: cocoon.CocoonRun,
    zones: gpd.GeoDataFrame,
    out: Path,
    *,
    as_of: pd.Timestamp,
    provenance: Mapping[str, Any],
    settings: WeeklySettings,
    list_areas: gpd.GeoDataFrame | None,
) -> None:
    """The printable visit lists, ``cocoon_lists/<area>.html``, as every command writes them.

    Nothing without a visit list (no --addresses) or in public mode (they hold addresses).
    """
    if settings.output.public or cocoon_run.visit_list is None:
        return
    from hotspots.outputs.lists import write_cocoon_lists

    write_cocoon_lists(
        zones,
        cocoon_run.visit_list,
        out,
        as_of=as_of,
        provenance=provenance,
        public=False,
        list_scope=settings.output.list_scope,  # type: ignore[arg-type]  # checked in config
        list_areas=list_areas,
        list_area_field=AREA_NAME,
        offline_assets=settings.output.offline_assets,
    )


def offences_in_use(
    incidents: gpd.GeoDataFrame, options: SpotOptions, *, burglaries: bool
) -> tuple[str, ...]:
    """Offences a run uses: the ranked set, plus burglaries when cocoons or Knox run.

    Only these need a harm weight (:func:`hotspots.harm.weigh_used`).
    """
    used = list(spots.offences_used(incidents, options))
    if burglaries:
        flag = incidents[DWELLING_BURGLARY].astype("boolean").fillna(False).to_numpy(dtype=bool)
        used += sorted(str(o) for o in incidents.loc[flag, OFFENCE].dropna().unique())
    return tuple(dict.fromkeys(used))


def cocoon_options_from_knox(
    options: CocoonOptions, knox_run: nearrepeat.KnoxRun | None, *, why_not: str = ""
) -> tuple[CocoonOptions, str]:
    """The cocoon options sized by a Knox run (``--cocoon-from-knox``), and the note why.

    A significant Knox result gives the zones its recommended radius and window (the
    window rounded up to whole days); otherwise, or without a Knox run (``why_not`` says
    why), the options keep ``radius_m`` and ``window_days``.
    """
    if knox_run is None:
        note = (
            f"Cocoon zones keep the defaults {options.radius_m:g} m, {options.window_days} "
            f"days: no Knox result to size them from ({why_not or 'Knox not run'})."
        )
        return options, note
    radius_m, window_days, note = nearrepeat.cocoon_settings_from_knox(
        knox_run.result, radius_m=options.radius_m, window_days=options.window_days
    )
    sized = replace(options, radius_m=float(radius_m), window_days=int(math.ceil(window_days)))
    if knox_run.by_year:
        note += f" Per year: {knox_run.per_year}."
    return sized, note


def run_weekly(
    inputs: Sequence[str | Path],
    *,
    out: str | Path | None = None,
    settings: WeeklySettings | None = None,
    progress: Progress | None = None,
    ingested: IngestResult | None = None,
    engine: Mapping[str, Any] | None = None,
) -> WeeklyResult:
    """Run the whole weekly pipeline and write every output into ``out``.

    Parameters
    ----------
    inputs
        Incident files, folders or globs (any format ingest reads).
    out
        Output folder (default ``settings.out``). Files appear there only when the whole
        run succeeded.
    settings
        All options (defaults: 150 m grid, 365-day look-back, serious-violence offences,
        400 m / 42-day cocoons due in 48 hours, Knox with 999 permutations, seed 0).
    progress
        Callback ``progress(task, done, total)`` (the CLI draws it).
    ingested
        The incidents already read from ``inputs`` (e.g. one force's partitions of an
        ingest store, :mod:`hotspots.national`); default: read ``inputs``.
    engine
        Where the run ran (``{"name": "dask", "scheduler": ...}``), recorded in run.json
        only; default not recorded.

    Returns
    -------
    WeeklyResult
        Paths written and the headline figures (also in ``run.json``).
    """
    s = settings or WeeklySettings()
    check_input_paths(s)
    if out is not None:  # the folder written is the one every output's provenance names
        s = replace(s, out=Path(out))
    out_dir = s.out
    previous = read_previous_run(out_dir)  # before staging: last week's files
    # the pool's block ends (every child joined) before the staging is swapped in
    with staged_outputs(out_dir, owned=WEEKLY_OUTPUTS) as staging, side_by_side() as pool:
        result = _run_into(
            staging, inputs, s, progress, ingested, pool=pool, previous=previous, engine=engine
        )
    files = {p.name: p for p in (out_dir / n for n in WEEKLY_OUTPUTS) if p.exists()}
    report(progress, "done", 1, 1)
    return WeeklyResult(out_dir=out_dir, files=files, summary=result)


def _run_into(
    staging: Path,
    inputs: Sequence[str | Path],
    s: WeeklySettings,
    progress: Progress | None,
    given: IngestResult | None = None,
    *,
    pool: SideBySide,
    previous: Any = None,
    engine: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """All stages, writing into ``staging``; returns the run summary.

    ``pool`` runs the cocoon stage beside the harm spots and the cocoon writers beside
    the map (:mod:`hotspots._forked`); the caller's block joins it before the swap.
    """
    from hotspots.ingest import read_incidents
    from hotspots.outputs import build_provenance, write_csv, write_geopackage, write_json
    from hotspots.outputs.files import areas_layer, points_layer, write_text
    from hotspots.outputs.public import (
        day_times,
        make_public_folder,
        public_burglaries,
        public_figures,
    )

    ingested = given or read_incidents(list(inputs), s.ingest, progress=progress)
    input_files = [f["path"] for f in ingested.report.files]
    resolution = time_resolution_of(ingested.incidents)
    as_of = run_as_of(s.as_of, ingested.incidents)
    working_crs = ingested.incidents.crs
    # --areas, else police.uk LSOA districts (strays into rejected.csv), else none
    places = run_areas(ingested.incidents, s)
    incidents, areas = places.incidents, places.areas
    write_csv(with_strays(ingested.rejected, places.strays), staging / "rejected.csv")
    list_areas = read_run_areas(
        s.output.list_areas, area_field=s.output.list_area_field, working_crs=working_crs
    )
    extra_inputs = [
        p for p in (s.areas, s.addresses, s.visits, s.patrols, s.output.list_areas) if p is not None
    ] + [Path(f) for _, f in s.output.layers]
    used = offences_in_use(incidents, s.spots, burglaries=True)
    weighting = weigh_used(incidents, s.harm, used=used)
    weighted = weighting.incidents
    if len(weighting.rejected):
        write_csv(weighting.rejected, staging / "rejected_harm.csv")
    harm_table = weighting.table

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
        "notes": [*ingested.report.notes, *places.notes, *weighting.notes],
        "rejected": {
            "incidents": len(ingested.rejected),
            "strays": len(places.strays),
            "harm": len(weighting.rejected),
        },
        "study_area": places.figures,
    }
    layers: dict[str, gpd.GeoDataFrame] = {}
    public = s.output.public

    # one record for the run (one run time, inputs hashed once); each output takes it
    # with the notes known when it is written
    base_record = build_provenance(
        command="weekly",
        parameters={**s.to_dict(), "as_of": as_of},
        inputs=[*input_files, *extra_inputs],
        extra={
            "date_min": ingested.report.date_min,
            "date_max": ingested.report.date_max,
            "harm_table": summary["harm_table"],
            "time_resolution": resolution,
        },
    )

    def provenance() -> dict[str, Any]:
        record = {**base_record, "notes": list(summary["notes"])}
        return public_figures(record) if s.output.public else record

    def cocoon_files(stage: CocoonStage) -> None:
        """The cocoon files that need nothing else of the run: its tables and lists."""
        if stage.run is None or stage.zones is None:
            return
        cocoon.write_run(
            stage.run,
            staging,
            provenance=provenance(),
            zones=stage.zones,
            with_lists=not public,
            parts=("tables",),
        )
        write_printable_lists(
            stage.run,
            stage.zones,
            staging,
            as_of=as_of,
            provenance=provenance(),  # the lists show the run's stamp, not its notes
            settings=s,
            list_areas=list_areas,
        )

    # the cocoon stage needs only the weighted incidents (unless Knox sizes it): a process
    # of its own draws the zones and writes their tables and lists while this one ranks
    # the harm spots
    burglaries = cocoon.cocoon_rows(weighted)  # all the cocoon stage reads, compact
    cocoon_job = None
    if not s.cocoon.cocoon_from_knox:
        report(progress, "cocoon zones", 0, 1)
        cocoon_job = pool.start(
            "cocoon zones",
            partial(cocoon_stage, burglaries, s.cocoon, as_of=as_of, areas=areas, settings=s),
            then=cocoon_files,
        )

    # ---------------------------------------------------------------- harm spots
    report(progress, "harm spots", 0, 1)
    spot_run = spots.run(
        weighted,
        s.spots,
        as_of=as_of,
        areas=areas,
        study_area=places.study_area,
        patrols=s.patrols,
        previous=previous,
        today=s.ingest.today,  # the run's date (--today, default now): plans start after it
        seed=s.seed,
        layers=s.output.layers,
    )
    spots.write_run(spot_run, staging, provenance=provenance())
    summary["spots"] = spot_run.figures
    if spot_run.weekly_dosage is not None:  # the log's latest complete week, force-wide
        summary["patrol_dosage"] = spot_run.weekly_dosage
    _add_notes(summary, [*spot_run.result.summary.get("notes", []), *spot_run.notes])
    summary["rejected"].update({k: len(v) for k, v in spot_run.rejected.items()})
    layers["harm_spots"] = spot_run.result.spots
    if len(spot_run.result.dropped):
        layers["dropped_spots"] = spot_run.result.dropped
    report(progress, "harm spots", 1, 1)

    # ---------------------------------------------------------------- Knox
    knox_run = None
    if not s.run_knox:
        summary["knox"] = {"skipped": "disabled"}
    else:
        try:
            knox_run = nearrepeat.run(weighted, s.knox, seed=s.seed, progress=progress)
        except (TimeResolutionError, InputError) as exc:
            summary["knox"] = {"skipped": str(exc)}
        else:
            nearrepeat.write_run(knox_run, staging, provenance=provenance())
            summary["knox"] = knox_run.figures
            summary["notes"].extend(knox_run.notes)
            if public:  # the heat table's cells show pair counts, small ones included
                for name in KNOX_PAGES:
                    (staging / name).unlink(missing_ok=True)
                summary["notes"].append(
                    "knox.html and knox.png are left out of public runs (their cells show "
                    "pair counts); knox.csv has the table with counts below 3 suppressed."
                )

    # ---------------------------------------------------------------- cocoons
    cocoon_options = s.cocoon
    if cocoon_job is None:  # sized by this run's Knox test: after it, here
        cocoon_options, sized = cocoon_options_from_knox(
            s.cocoon, knox_run, why_not=str(summary["knox"].get("skipped", ""))
        )
        summary["notes"].append(sized)
        stage = cocoon_stage(
            burglaries, cocoon_options, as_of=as_of, areas=areas, settings=s, progress=progress
        )
        pool.start("cocoon tables", partial(cocoon_files, stage))
    else:
        stage = cast(CocoonStage, cocoon_job.result())
        report(progress, "cocoon zones", 1, 1)
    zones = visit_list = None
    if stage.run is None:
        summary["cocoon"] = {"skipped": stage.skipped}
        summary["notes"].append(f"Cocoon zones skipped: {stage.skipped}")
    else:
        cocoon_run, zones = stage.run, stage.zones
        visit_list = None if public else cocoon_run.visit_list
        cocoon_prov = provenance()  # the record as it stands once the zones are drawn
        summary["cocoon"] = {**cocoon_run.figures, "from_knox": s.cocoon.cocoon_from_knox}
        _add_notes(summary, cocoon_run.figures.get("notes", []))
        summary["rejected"].update({k: len(v) for k, v in cocoon_run.rejected.items()})
        layers["cocoon_zones"] = zones

    # ------------------------------------------------- map, layers, package: side by side
    # the zone layers are written by a process of their own while this one draws the map
    # and the package (hotspots._forked); a failed writer fails the run before the swap
    prov = provenance()
    release_freed_memory(len(weighted))  # the stages' freed buffers, before the map's
    if zones is not None:
        pool.start(
            "cocoon layers",
            partial(
                cocoon.write_run,
                cocoon_run,
                staging,
                provenance=cocoon_prov,
                zones=zones,
                with_lists=not public,
                parts=("layers",),
            ),
        )
    window = pd.Timedelta(days=cocoon_options.window_days)
    recent = burglaries[burglaries[OCCURRED_AT] > as_of - window]
    recent = recent[recent[OCCURRED_AT] <= as_of]
    title = s.output.title or _title_for(areas)
    map_addresses = (
        _addresses_in_zones(visit_list, crs=working_crs)
        if s.output.map_addresses and not s.output.public
        else None
    )
    html = _map_html(
        spot_run.result,
        zones=day_times(zones, tz=s.ingest.tz) if public and zones is not None else zones,
        burglaries=day_times(recent, tz=s.ingest.tz) if public else recent,
        areas=areas,
        title=title,
        as_of=as_of,
        provenance=prov,
        settings=s,
        addresses=map_addresses,
        dosage=summary.get("patrol_dosage"),
        spot_run=spot_run,
    )
    write_text(staging / "map.html", stable_html_ids(html))
    unit = "homes"
    if zones is not None and cocoon_run.visit_list is not None:
        from hotspots.outputs.doors import address_unit

        unit = address_unit(cocoon_run.visit_list)
    _write_briefing(
        staging,
        spot_run=spot_run,
        zones=day_times(zones, tz=s.ingest.tz) if public and zones is not None else zones,
        summary=summary,
        provenance=prov,
        as_of=as_of,
        settings=s,
        unit=unit,
    )
    if areas is not None:
        layers["areas"] = (
            areas_layer(s.areas, area_field=s.area_field, crs=working_crs)
            if s.areas is not None
            else areas
        )
    if len(recent):
        layers["recent_burglaries"] = public_burglaries(recent) if public else recent
    if visit_list is not None and not public:
        layers["cocoon_visits"] = points_layer(visit_list, crs=working_crs)
    if len(spot_run.plan):
        layers["patrol_plan"] = spot_run.spots[["spot_id", "geometry"]].merge(
            spot_run.plan, on="spot_id"
        )
    if not public:  # --layer points, one layer each (public runs keep the counts only)
        for extra in spot_run.point_layers:
            layers[extra_layer_name(extra.name)] = extra.points
    gpkg = {k: v for k, v in layers.items() if len(v)}
    write_geopackage(gpkg, staging / "hotspots.gpkg", metadata=prov)
    run_engine = {"engine": dict(engine)} if engine is not None else {}
    write_json(staging / "run.json", {**prov, **run_engine, "summary": summary})
    pool.wait()  # every file is written before the public pass reads them
    if public:  # one pass over every table and figure file, just before the swap
        make_public_folder(
            staging, crs=working_crs, tz=s.ingest.tz, radius_m=cocoon_options.radius_m
        )
    return summary


def _add_notes(summary: dict[str, Any], notes: Sequence[str]) -> None:
    """The stages' caveats into the run's notes (each once), as the stage commands show them."""
    for note in notes:
        if note not in summary["notes"]:
            summary["notes"].append(note)


def _knox_sentence(knox: dict[str, Any]) -> str:
    """The Knox result in one sentence, or why the test did not run."""
    if "skipped" not in knox:
        return str(knox.get("text", ""))
    if knox["skipped"] == "disabled":
        return "The Knox test was turned off for this run (--no-knox)."
    return f"The Knox test did not run: {knox['skipped']}"


def _write_briefing(
    staging: Path,
    *,
    spot_run: spots.SpotRun,
    zones: gpd.GeoDataFrame | None,
    summary: dict[str, Any],
    provenance: dict[str, Any],
    as_of: pd.Timestamp,
    settings: WeeklySettings,
    unit: str,
) -> Path:
    """briefing.html: top spots, zones due, the Knox sentence and the run's caveats."""
    from hotspots.outputs.briefing import write_briefing
    from hotspots.outputs.public import public_figures

    public = settings.output.public
    notes = [str(n) for n in summary["notes"]]
    knox = _knox_sentence(summary.get("knox", {}))
    return write_briefing(
        staging,
        spots=spot_run.result.spots,
        zones=zones,
        knox_summary=public_figures(knox) if public else knox,
        notes=public_figures(notes) if public else notes,
        provenance=provenance,
        as_of=as_of,
        patrol_plan=spot_run.plan,
        title=settings.output.title,
        due_hours=settings.cocoon.due_hours,
        unit=unit,
        public=public,
        dosage=summary.get("patrol_dosage"),
    )


def _title_for(areas: gpd.GeoDataFrame | None) -> str:
    if areas is not None and len(areas) <= 3:
        return "Harm spots and cocoon zones: " + ", ".join(areas[AREA_NAME].astype(str))
    if areas is not None:
        return f"Harm spots and cocoon zones: {len(areas)} areas"
    return "Harm spots and cocoon zones"


def _addresses_in_zones(visit_list: pd.DataFrame | None, *, crs: Any) -> gpd.GeoDataFrame | None:
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


def _map_html(
    spot_result: spots.SpotResult,
    *,
    zones: gpd.GeoDataFrame | None,
    burglaries: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame | None,
    title: str,
    as_of: pd.Timestamp,
    provenance: dict[str, Any],
    settings: WeeklySettings,
    addresses: gpd.GeoDataFrame | None = None,
    dosage: dict[str, Any] | None = None,
    spot_run: spots.SpotRun | None = None,
) -> str:
    """The analyst map as HTML text (build_map generalises points itself in public mode)."""
    from hotspots.outputs.maps import build_map, write_map

    output = settings.output
    map_spots = spot_result.spots
    point_layers: tuple[tuple[str, gpd.GeoDataFrame], ...] = ()
    if spot_run is not None and spot_run.point_layers:  # --layer: points and counts
        from hotspots.extra_layers import LAYER_TEXT, spot_layer_text

        point_layers = tuple((p.name, p.points) for p in spot_run.point_layers)
        if not output.public and spot_run.layer_counts is not None:
            text = spot_layer_text(spot_run.layer_counts, map_spots["spot_id"].tolist())
            map_spots = map_spots.assign(**{LAYER_TEXT: text})
    m = build_map(
        spots=map_spots,
        dropped=spot_result.dropped,
        surface=spot_result.candidates,
        zones=zones,
        burglaries=burglaries,
        areas=areas,
        addresses=None if output.public else addresses,
        title=title,
        as_of=as_of,
        provenance=provenance,
        public=output.public,
        tiles=output.tiles,
        tiles_attribution=output.tiles_attribution,
        surface_cell_m=settings.spots.cell_m,
        dosage_line=(dosage or {}).get("text") or None,
        point_layers=point_layers,
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = write_map(
            m, Path(tmp) / "map.html", cdn=output.cdn, offline_assets=output.offline_assets
        )
        return path.read_text(encoding="utf-8")
