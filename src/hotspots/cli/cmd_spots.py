"""``hotspots spots``: rank harm spots, plan patrols, write the layers (registers on the app)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from hotspots.cli._app import app, console, progress_reporter, stdout
from hotspots.cli._options import Inputs, OutDir, out_dir_for, with_options
from hotspots.cli._run import report_rejected, settings_from
from hotspots.config import EngineOptions, HarmOptions, IngestOptions, SpotOptions, engine_from
from hotspots.schema import AREA_NAME, HARM, N_INCIDENTS, RANK, SPOT_ID, STATUS, TREND

if TYPE_CHECKING:
    from hotspots.perforce import SpotsDone

__all__ = ["show_done", "show_spots", "spots"]


@app.command("spots")
@with_options(
    SpotOptions,
    HarmOptions,
    IngestOptions,
    EngineOptions,
    run=("as_of", "areas", "area_field", "patrols", "seed", "layers"),
)
def spots(inputs: Inputs, out: OutDir = None, given: dict[str, Any] | None = None) -> None:
    """Rank places by crime harm, pick the top spots (per area) and plan this week's patrols.

    Writes harm_spots.geojson (RFC 7946), harm_spots.csv, patrol_plan.csv, rejected.csv and
    run.json (parameters, input hashes, counts, concentration, harm table, seed, version)
    into --out, plus patrol_dosage.csv, patrol_summary.csv (and rejected_patrols.csv) with
    --patrols, and layer_counts.csv (and rejected_layers.csv) with --layer NAME=FILE.
    Inputs holding several police.uk forces are ranked per force, each in its own study
    area, into --out/<force>/, with national.csv (one row per force) in --out.
    """
    engine, given = engine_from(given or {})
    settings = settings_from(given)
    folder = out_dir_for(out, "spots")

    from hotspots.engine import open_engine, require_dask
    from hotspots.national import run_single_force, several_forces
    from hotspots.perforce import run_per_force, spots_force

    if engine.is_dask:
        require_dask()  # one line before any input is read
    if several_forces(inputs):  # several forces: each ranked in its own study area
        with progress_reporter() as progress, open_engine(engine, progress=progress) as runner:
            multi = run_per_force(
                "spots", inputs, out_dir=folder, settings=settings, progress=progress,
                run_tasks=runner.map if runner.is_dask else None, engine=runner.record,
            )  # fmt: skip
        for force, done in multi.forces.items():
            stdout.print(f"[bold]{escape(force)}[/] -> {escape(str(done.out_dir))}")
            show_done(done)
        stdout.print(
            f"[bold]National:[/] {len(multi.forces)} forces, each ranked in its own study "
            f"area; {escape(str(multi.national_csv))}."
        )
        return
    with progress_reporter() as progress, open_engine(engine, progress=progress) as runner:
        done = run_single_force(
            spots_force, inputs, out_dir=folder, settings=settings,
            engine_record=runner.record if runner.is_dask else None,  # run.json as before
            runner=runner, progress=progress, task="spots run",
        )  # fmt: skip
    show_done(done)


def show_done(done: SpotsDone) -> None:
    """Print one force's run: ingest summary, rejected rows and notes, then the spots."""
    from hotspots.cli.cmd_ingest import show_ingest_report

    show_ingest_report(done.report)
    if done.n_rejected:
        console.print(f"Rejected rows with reasons: {escape(str(done.out_dir / 'rejected.csv'))}")
    for note in done.place_notes:
        console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    report_rejected(done.rejected, done.written)
    for note in done.weighting_notes:
        console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    show_spots(done.spots, done.summary, done.written)


def show_spots(
    spots: Any, summary: dict[str, Any], written: dict[str, Path], *, rows: int = 10
) -> None:
    """Print the top spots, the concentration line, notes and the files written."""
    table = Table(title=f"Top harm spots ({summary['method']})", title_justify="left")
    for name in ("rank", "spot", "area", "harm", "incidents", "trend", "status"):
        table.add_column(name, justify="right" if name in ("rank", "harm", "incidents") else "left")
    for _, row in spots.head(rows).iterrows():  # a handful of rows for display only
        table.add_row(
            str(row[RANK]),
            escape(str(row[SPOT_ID])),
            escape(str(row[AREA_NAME])),
            f"{row[HARM]:,.0f}",
            f"{row[N_INCIDENTS]:,}",
            str(row[TREND]),
            str(row[STATUS]),
        )
    stdout.print(table)
    if len(spots) > rows:
        stdout.print(f"... and {len(spots) - rows} more in harm_spots.csv")
    stdout.print(
        f"[bold]{escape(summary['headline'])}[/] ({summary['incident_share']:.0%} of incidents; "
        f"study area {summary['study_area_km2']:,.1f} km2, {escape(summary['study_area'])}). "
        f"New {summary['n_new']}, persisting {summary['n_persisting']}, dropped "
        f"{summary['n_dropped']}."
    )
    for note in summary.get("notes", []):
        console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    stdout.print("Wrote " + ", ".join(escape(p.name) for p in written.values()))
