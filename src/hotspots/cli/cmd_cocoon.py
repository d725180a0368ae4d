"""``hotspots cocoon``: cocoon zones, visit lists and compliance (registers on the shared app)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from hotspots.cli._app import app, console, progress_reporter, stdout
from hotspots.cli._options import Inputs, OutDir, out_dir_for, with_options
from hotspots.cli._run import load_run, report_rejected, settings_from
from hotspots.cli._staged import staged_command
from hotspots.config import CocoonOptions, IngestOptions

__all__ = ["cocoon"]


@app.command()
@with_options(
    CocoonOptions,
    IngestOptions,
    run=(
        "as_of", "areas", "area_field", "addresses", "visits",
        "list_scope", "list_areas", "list_area_field", "offline_assets",
    ),
)  # fmt: skip
def cocoon(inputs: Inputs, out: OutDir = None, given: dict[str, Any] | None = None) -> None:
    """Open a cocoon zone around each recent dwelling burglary and list the homes to visit.

    Writes cocoon_zones.geojson (RFC 7946) and cocoon_zones_merged.geojson; with
    --addresses also cocoon_visits.csv, cocoon_team_lists.csv, cocoon_streets.csv and the
    printable lists cocoon_lists/<area>.html (one A4 page set per area); with
    --visits cocoon_compliance.csv, cocoon_compliance_areas.csv and cocoon_overdue.csv;
    always rejected.csv and run.json (and rejected_addresses.csv / rejected_visits.csv).
    """
    settings = settings_from(given)
    folder = out_dir_for(out, "cocoon")

    from hotspots import cocoon as cc
    from hotspots._runs import read_run_areas
    from hotspots.outputs import build_provenance, write_json
    from hotspots.outputs.lists import LISTS_FOLDER
    from hotspots.pipeline import write_printable_lists

    with staged_command(folder, "cocoon") as staging:
        loaded = load_run(inputs, settings, out=staging, shown=folder)
        cocoon_options, knox_figures, sized = settings.cocoon, None, None
        with progress_reporter() as progress:
            if settings.cocoon.cocoon_from_knox:
                cocoon_options, knox_figures, sized = _sized_by_knox(loaded, settings, progress)
            cocoon_run = cc.run(
                loaded.incidents, cocoon_options, as_of=loaded.as_of, areas=loaded.areas,
                addresses=settings.addresses, visits=settings.visits, progress=progress,
            )  # fmt: skip
        if sized:
            console.print(f"[yellow]Note:[/] {escape(sized)}", soft_wrap=True)
        options = {**settings.to_dict(), "radius_m": cocoon_options.radius_m,
                   "window_days": cocoon_options.window_days}  # fmt: skip
        parameters = {
            "as_of": loaded.as_of,
            "cocoon_from_knox": settings.cocoon.cocoon_from_knox,
            **{k: options[k] for k in ("radius_m", "window_days", "due_hours", "month_dates",
                                       "areas", "area_field", "addresses", "address_x_col",
                                       "address_y_col", "address_id_col", "address_crs",
                                       "address_cache_dir", "nearest", "visits", "tz")},
            "burgled_within_m": settings.cocoon.burgled_within,
            "working_crs": loaded.incidents.crs.to_string(),
        }  # fmt: skip
        extra_inputs = [p for p in (settings.areas, settings.addresses, settings.visits) if p]
        provenance = build_provenance(
            command="cocoon",
            parameters=parameters,
            inputs=[*loaded.input_files, *extra_inputs],
            extra={
                "date_min": loaded.ingested.report.date_min,
                "date_max": loaded.ingested.report.date_max,
                "ingest": loaded.ingested.report.to_dict(),
                "cocoon": cocoon_run.figures,
                "knox": knox_figures,
                "study_area": loaded.places.figures,
                "notes": [*loaded.places.notes, *([sized] if sized else [])],
                "rejected": {"strays": len(loaded.places.strays),
                             **{k: len(v) for k, v in cocoon_run.rejected.items()}},
            },
        )  # fmt: skip
        written = cc.write_run(cocoon_run, staging, provenance=provenance)
        if cocoon_run.visit_list is not None:
            list_areas = read_run_areas(
                settings.output.list_areas,
                area_field=settings.output.list_area_field,
                working_crs=loaded.incidents.crs,
            )
            write_printable_lists(
                cocoon_run, cocoon_run.zones, staging, as_of=loaded.as_of,
                provenance=provenance, settings=settings, list_areas=list_areas,
            )  # fmt: skip
            written["lists"] = staging / LISTS_FOLDER
        written["run"] = write_json(staging / "run.json", provenance)
    from hotspots.outputs.publish import placed  # not at import: --help stays light

    written = placed(written, staging, folder)
    report_rejected(cocoon_run.rejected, written)
    _show(cocoon_run, written)


def _sized_by_knox(
    loaded: Any, settings: Any, progress: Any
) -> tuple[Any, dict[str, Any] | None, str]:
    """--cocoon-from-knox: run Knox (default bands) and size the zones from it."""
    from hotspots import nearrepeat
    from hotspots.errors import InputError, TimeResolutionError
    from hotspots.pipeline import cocoon_options_from_knox

    try:
        knox_run = nearrepeat.run(
            loaded.incidents, settings.knox, seed=settings.seed, progress=progress
        )
    except (TimeResolutionError, InputError) as exc:
        options, note = cocoon_options_from_knox(settings.cocoon, None, why_not=str(exc))
        return options, {"skipped": str(exc)}, note
    options, note = cocoon_options_from_knox(settings.cocoon, knox_run)
    return options, knox_run.figures, note


def _show(cocoon_run: Any, written: dict[str, Path]) -> None:
    from hotspots.schema import AREA_NAME, N_HOMES, STATUS, ZONE_KIND, zones_phrase

    zones, result, summary = cocoon_run.zones, cocoon_run.compliance, cocoon_run.figures
    kinds = zones.get(ZONE_KIND, ["operational"])
    table = Table(title=f"Cocoon zones: {zones_phrase(len(zones), kinds)}")
    for col in ("area", "zones", "due", "overdue", "visited", "active", "homes"):
        table.add_column(col, justify="left" if col == "area" else "right")
    for area, group in zones.groupby(AREA_NAME, sort=True):
        counts = group[STATUS].value_counts()
        homes = "-" if group[N_HOMES].isna().all() else f"{int(group[N_HOMES].sum()):,}"
        table.add_row(
            str(area),
            f"{len(group):,}",
            *(f"{int(counts.get(s, 0)):,}" for s in ("due", "overdue", "visited", "active")),
            homes,
        )
    stdout.print(table)
    if result is not None:
        o = result.overall
        share = "-" if o["share"] is None else f"{o['share']:.0%}"
        stdout.print(
            f"[bold]Compliance:[/] {o['cocooned_in_time']:,} of {o['decided']:,} "
            f"decided zones cocooned within the deadline ({share}); "
            f"{o['overdue_now']:,} overdue now, {o['due_now']:,} still due."
        )
    for note in summary["notes"]:
        console.print(f"[yellow]Note:[/] {note}")
    for name, path in written.items():
        stdout.print(f"  {name}: {path}")
