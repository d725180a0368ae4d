"""``hotspots weekly``: everything for Monday's tasking meeting in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from hotspots.cli._app import app, console, progress_reporter
from hotspots.cli._options import Inputs, OutDir, with_options
from hotspots.cli._run import settings_from
from hotspots.config import (
    CocoonOptions,
    HarmOptions,
    IngestOptions,
    KnoxOptions,
    OutputOptions,
    SpotOptions,
)

__all__ = ["show_weekly_summary", "weekly"]

_WEEKLY_GROUPS = (
    IngestOptions,
    HarmOptions,
    SpotOptions,
    KnoxOptions,
    CocoonOptions,
    OutputOptions,
)
_IN_REJECTED = ("incidents", "strays")  # both go to rejected.csv, each row with its reason
_WEEKLY_RUN = ("as_of", "areas", "area_field", "addresses", "visits", "patrols", "seed", "run_knox")


@app.command("weekly")
@with_options(*_WEEKLY_GROUPS, run=_WEEKLY_RUN)
def weekly(
    inputs: Inputs,
    out: OutDir = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="TOML file with any of these options, out included (names with _ for -, "
            "flat or in tables named ingest, harm, spots, knox, cocoon, output); flags "
            "given on the command line win.",
        ),
    ] = None,
    given: dict[str, Any] | None = None,
) -> None:
    """Run ingest, harm spots, Knox, cocoons and write the map, lists and layers.

    Writes map.html, harm_spots.geojson/.csv, patrol_plan.csv, cocoon_zones.geojson,
    cocoon_visits.csv, cocoon_lists/<area>.html, knox.csv (day-level data), hotspots.gpkg
    (EPSG:27700), rejected.csv (and rejected_<input>.csv) and run.json into --out
    (default maps/weekly), all at once when the run succeeds.
    """
    settings = settings_from(given, config=config, out=out)

    from hotspots.national import forces_in, run_national
    from hotspots.pipeline import run_weekly

    if len(forces_in(inputs)) > 1:  # several police.uk forces: one run per force + national
        with progress_reporter() as progress:
            national = run_national(inputs, settings=settings, progress=progress)
        for force, force_result in national.forces.items():
            console.print(f"[bold]{force}[/] -> {force_result.out_dir}")
            show_weekly_summary(force_result.summary, {})
        console.print(
            f"[bold]National:[/] {len(national.forces)} forces, each ranked in its own study "
            f"area; {national.files['national.csv']}, {national.files['index.html']}."
        )
        return
    with progress_reporter() as progress:
        result = run_weekly(inputs, settings=settings, progress=progress)
    show_weekly_summary(result.summary, result.files)


def show_weekly_summary(summary: dict[str, Any], files: dict[str, Path]) -> None:
    """Print the headline figures and the files written (none listed when empty)."""
    ingest = summary.get("ingest", {})
    console.print(
        f"[bold]Read[/] {ingest.get('n_read', '?'):,} rows, kept {ingest.get('n_kept', '?'):,}, "
        f"rejected {sum(ingest.get('rejected_by_reason', {}).values()):,} "
        f"({ingest.get('time_resolution', '?')} resolution, {ingest.get('crs', '?')}); "
        f"as of {summary['as_of']:%Y-%m-%d %H:%M}."
    )
    spots = summary.get("spots", {})
    if spots.get("headline"):
        console.print(f"[bold]Harm spots:[/] {spots['headline']}")
    for note in spots.get("notes", []):
        if note.startswith("no new data"):  # the week-on-week rule: say so, change nothing
            console.print(f"[yellow]note:[/] {note}")
    cocoon = summary.get("cocoon", {})
    if "skipped" in cocoon:
        console.print(f"[bold]Cocoons:[/] skipped. {cocoon['skipped']}")
    else:
        console.print(
            f"[bold]Cocoons:[/] {cocoon.get('zones', 0)} live zones "
            f"{cocoon.get('by_status', {})}; visit lists {cocoon.get('visit_lists')}."
        )
    rejected = {k: v for k, v in summary.get("rejected", {}).items() if v}
    if rejected:
        console.print(
            "[bold]Rejected rows:[/] "
            + ", ".join(f"{k} {v:,} (rejected{'' if k in _IN_REJECTED else '_' + k}.csv)"
                        for k, v in rejected.items())
        )  # fmt: skip
    knox = summary.get("knox", {})
    console.print(f"[bold]Knox:[/] {knox.get('skipped') or knox.get('text', '')}")
    if not files:
        return
    table = Table(title="Files written", show_header=False, box=None)
    for name, path in files.items():
        table.add_row(name, str(path))
    console.print(table)
