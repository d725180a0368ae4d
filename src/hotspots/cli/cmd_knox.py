"""``hotspots knox``: Knox near-repeat test on burglaries (registers on the shared app)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from hotspots.cli._app import app, progress_reporter, stdout
from hotspots.cli._options import Inputs, OutDir, out_dir_for, with_options
from hotspots.cli._run import load_run, settings_from
from hotspots.cli._staged import staged_command
from hotspots.config import IngestOptions, KnoxOptions

__all__ = ["knox"]


@app.command()
@with_options(KnoxOptions, IngestOptions, run=("seed",))
def knox(inputs: Inputs, out: OutDir = None, given: dict[str, Any] | None = None) -> None:
    """Test whether burglaries cluster in space and time (near repeats) with a Knox table.

    Writes knox.csv, knox.html and knox.png (heat table: outlined cells have p < 0.05 and
    Knox ratio >= 1.2), knox.json, rejected.csv and run.json, and prints the table with a
    recommended cocoon radius and window. Needs day-level or exact dates.
    """
    settings = settings_from(given)
    folder = out_dir_for(out, "knox")

    from hotspots import nearrepeat
    from hotspots.outputs import build_provenance, write_json

    with staged_command(folder, "knox") as staging:
        loaded = load_run(inputs, settings, out=staging, shown=folder)
        with progress_reporter() as progress:
            knox_run = nearrepeat.run(
                loaded.incidents, settings.knox, seed=settings.seed, progress=progress
            )
        result = knox_run.result
        options = settings.to_dict()
        parameters = {
            **{k: options[k] for k in ("distance_bands_m", "time_bands_days", "same_location_m",
                                       "metric", "knox_permutations", "knox_offences",
                                       "dwelling_only", "seed")},
            "working_crs": loaded.incidents.crs.to_string(),
        }  # fmt: skip
        recommendation = knox_run.figures
        provenance = build_provenance(
            command="knox",
            parameters=parameters,
            inputs=loaded.input_files,
            extra={
                "ingest": loaded.ingested.report.to_dict(),
                "knox": {
                    "n_events": result.n_events,
                    "n_close_pairs": result.n_close_pairs,
                    "n_pairs_in_range": result.n_pairs_in_range,
                    "time_resolution": result.time_resolution,
                    "recommendation": recommendation,
                },
            },
        )
        written = nearrepeat.write_run(knox_run, staging, provenance=provenance)
        written["run"] = write_json(staging / "run.json", provenance)
    from hotspots.outputs.publish import placed  # not at import: --help stays light

    written = placed(written, staging, folder)
    _show(result, recommendation, written)


def _show(result: Any, recommendation: dict[str, Any], written: dict[str, Path]) -> None:
    sig = result.significant().to_numpy()
    table = Table(title="Knox ratio (observed / expected pairs); * p < 0.05 and ratio >= 1.2")
    table.add_column("distance \\ time")
    for col in result.knox_ratio.columns:
        table.add_column(escape(str(col)), justify="right")
    for r, label in enumerate(result.knox_ratio.index):
        cells = []
        for c in range(result.knox_ratio.shape[1]):
            ratio = float(result.knox_ratio.iat[r, c])
            text = "n/a" if not math.isfinite(ratio) else f"{ratio:.2f}"
            cells.append(f"[bold red]{text} *[/]" if sig[r, c] else text)
        table.add_row(escape(str(label)), *cells)
    stdout.print(table)
    stdout.print(
        f"{result.n_events:,} events, {result.n_close_pairs:,} pairs within "
        f"{result.distance_bands_m[-1]:g} m, {result.n_permutations} permutations (seed "
        f"{result.seed}), {result.time_resolution} dates."
    )
    stdout.print(escape(recommendation["text"]))
    stdout.print("Wrote " + ", ".join(escape(p.name) for p in written.values()))
