"""``hotspots spots``: rank harm spots, plan patrols, write the layers (registers on the app)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from hotspots.cli._app import app, console, progress_reporter, stdout
from hotspots.cli._options import Inputs, OutDir, out_dir_for, with_options
from hotspots.cli._run import load_run, report_rejected, settings_from
from hotspots.cli._staged import placed, staged_command
from hotspots.config import HarmOptions, IngestOptions, SpotOptions
from hotspots.schema import AREA_NAME, HARM, N_INCIDENTS, OFFENCE, RANK, SPOT_ID, STATUS, TREND

__all__ = ["show_spots", "spots"]


@app.command("spots")
@with_options(
    SpotOptions,
    HarmOptions,
    IngestOptions,
    run=("as_of", "areas", "area_field", "patrols", "seed", "layers"),
)
def spots(inputs: Inputs, out: OutDir = None, given: dict[str, Any] | None = None) -> None:
    """Rank places by crime harm, pick the top spots (per area) and plan this week's patrols.

    Writes harm_spots.geojson (RFC 7946), harm_spots.csv, patrol_plan.csv, rejected.csv and
    run.json (parameters, input hashes, counts, concentration, harm table, seed, version)
    into --out, plus patrol_dosage.csv, patrol_summary.csv (and rejected_patrols.csv) with
    --patrols, and layer_counts.csv (and rejected_layers.csv) with --layer NAME=FILE.
    """
    settings = settings_from(given)
    folder = out_dir_for(out, "spots")

    from hotspots import spots as sp
    from hotspots._runs import read_previous_run
    from hotspots.harm import weigh_used
    from hotspots.outputs import build_provenance, write_json

    with staged_command(folder, "spots") as staging:
        previous = read_previous_run(folder)  # statuses and patrol delivery against it
        loaded = load_run(inputs, settings, out=staging, shown=folder)
        incidents = loaded.incidents
        weighting = weigh_used(
            incidents, settings.harm, used=sp.offences_used(incidents, settings.spots)
        )
        with progress_reporter() as progress:
            spot_run = sp.run(
                weighting.incidents, settings.spots, as_of=loaded.as_of, areas=loaded.areas,
                study_area=loaded.study_area, patrols=settings.patrols, previous=previous,
                today=settings.ingest.today, seed=settings.seed, progress=progress,
                layers=settings.output.layers,
            )  # fmt: skip
        result, table, places = spot_run.result, weighting.table, loaded.places
        parameters = {
            **result.parameters,
            **{k: settings.to_dict()[k] for k in ("harm_table", "harm_map", "harm_unknown",
                                                  "areas", "area_field", "visit_minutes",
                                                  "crossover", "patrols", "tz",
                                                  "plan_start", "keep_prisons", "layers")},
        }  # fmt: skip
        extra_inputs = [p for p in (settings.areas, settings.patrols) if p is not None]
        extra_inputs += [Path(f) for _, f in settings.output.layers]
        provenance = build_provenance(
            command="spots",
            parameters=parameters,
            inputs=[*loaded.input_files, *extra_inputs],
            extra={"ingest": loaded.ingested.report.to_dict(), "harm_table": table.to_dict(),
                   "counts": {"n_incidents": len(incidents), "n_ranked": int(
                       incidents[OFFENCE].isin(spot_run.offences).sum()),
                              "n_spots": len(result.spots), "n_dropped": len(result.dropped),
                              "n_candidates": len(result.candidates),
                              "n_plan_visits": len(spot_run.plan)},
                   "rejected": {"strays": len(places.strays),
                                **{k: len(v) for k, v in spot_run.rejected.items()}},
                   "study_area": places.figures,
                   "notes": [*places.notes, *weighting.notes, *spot_run.notes],
                   "concentration": result.summary},
        )  # fmt: skip
        written = sp.write_run(spot_run, staging, provenance=provenance)
        written["run.json"] = write_json(staging / "run.json", provenance)
    written = placed(written, staging, folder)
    report_rejected(spot_run.rejected, written)
    for note in weighting.notes:
        console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    show_spots(result.spots, result.summary, written)


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
