"""``hotspots knox``: Knox near-repeat test on burglaries (registers on the shared app)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import geopandas as gpd
import typer
from rich.markup import escape
from rich.table import Table

from hotspots._validate import check_increasing
from hotspots.cli._app import app, console, progress_reporter
from hotspots.cli._options import (
    Inputs,
    OutDir,
    Seed,
    with_ingest_options,
)
from hotspots.config import IngestOptions
from hotspots.errors import InputError, OptionError
from hotspots.schema import DWELLING_BURGLARY, OFFENCE

__all__ = ["knox", "parse_edges", "select_events"]

_KX = "Knox test"


def parse_edges(text: str, *, option: str) -> tuple[float, ...]:
    """``"0,100,200"`` as floats, or OptionError naming the option and an example."""
    try:
        values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        values = ()
    if not values or not all(math.isfinite(v) for v in values):
        msg = (
            f"{option} {text!r} is not a comma-separated list of numbers; "
            f"write it like 0,100,200,300,400."
        )
        raise OptionError(msg)
    return values


def select_events(
    incidents: gpd.GeoDataFrame, *, offences: str | None, dwelling_only: bool
) -> gpd.GeoDataFrame:
    """The events to test: offence categories (case-insensitive), then dwelling burglaries.

    With no ``offences`` and ``dwelling_only`` False, every burglary (category "Burglary")
    is kept. Raises InputError, saying what was found, when fewer than two remain.
    """
    wanted = (
        [o.strip().casefold() for o in offences.split(",") if o.strip()]
        if offences
        else ([] if dwelling_only else ["burglary"])
    )
    chosen = incidents
    if wanted:
        chosen = chosen[chosen[OFFENCE].astype("string").str.casefold().isin(wanted).fillna(False)]
    if dwelling_only:
        flag = chosen[DWELLING_BURGLARY].astype("boolean").fillna(False).astype(bool)
        chosen = chosen[flag]
    if len(chosen) < 2:
        found = incidents[OFFENCE].astype("string").value_counts().head(5)
        cats = ", ".join(f"{k} ({v})" for k, v in found.items()) or "none"
        what = f"offences {wanted}" if wanted else "all offences"
        msg = (
            f"the Knox test needs at least 2 events; {len(chosen)} of {len(incidents)} incidents "
            f"match ({what}{', dwelling burglaries only' if dwelling_only else ''}). "
            f"Most common categories: {cats}. Use --offences and/or --all-burglary."
        )
        raise InputError(msg)
    return chosen


@app.command()
@with_ingest_options
def knox(
    inputs: Inputs,
    out: OutDir,
    distance_bands_m: Annotated[
        str,
        typer.Option(
            "--distance-bands-m",
            help="Distance band edges in metres; bands are [0,100], (100,200], ...",
            rich_help_panel=_KX,
        ),
    ] = "0,100,200,300,400",
    time_bands_days: Annotated[
        str,
        typer.Option(
            "--time-bands-days",
            help="Time band edges in days; bands are [0,7], (7,14], ...",
            rich_help_panel=_KX,
        ),
    ] = "0,7,14,21,28,35,42",
    same_location_m: Annotated[
        float | None,
        typer.Option(
            "--same-location-m",
            help="Give pairs this close (metres, e.g. 0.1) their own band (repeat "
            "victimisation); off by default.",
            rich_help_panel=_KX,
            show_default=False,
        ),
    ] = None,
    manhattan: Annotated[
        bool,
        typer.Option(
            "--manhattan",
            help="Manhattan (|dx| + |dy|) instead of straight-line distance.",
            rich_help_panel=_KX,
        ),
    ] = False,
    permutations: Annotated[
        int,
        typer.Option(
            "--permutations",
            help="Monte Carlo permutations of the event times.",
            rich_help_panel=_KX,
        ),
    ] = 999,
    seed: Seed = 0,
    offences: Annotated[
        str | None,
        typer.Option(
            "--offences",
            help="Offence categories to test, comma-separated (e.g. Burglary). "
            "Default: dwelling burglaries.",
            rich_help_panel=_KX,
            show_default=False,
        ),
    ] = None,
    dwelling_only: Annotated[
        bool,
        typer.Option(
            "--dwelling-only/--all-burglary",
            help="Keep only dwelling (home) burglaries, or every burglary.",
            rich_help_panel=_KX,
        ),
    ] = True,
    options: IngestOptions = IngestOptions(),
) -> None:
    """Test whether burglaries cluster in space and time (near repeats) with a Knox table.

    Writes knox.csv, knox.html and knox.png (heat table: outlined cells have p < 0.05 and
    Knox ratio >= 1.2), knox.json, rejected.csv and run.json, and prints the table with a
    recommended cocoon radius and window. Needs day-level or exact dates.
    """
    d_edges = parse_edges(distance_bands_m, option="--distance-bands-m")
    t_edges = parse_edges(time_bands_days, option="--time-bands-days")
    check_increasing(d_edges, name="--distance-bands-m")
    check_increasing(t_edges, name="--time-bands-days")
    if permutations < 1:
        msg = f"--permutations must be at least 1 (999 is usual); got {permutations}."
        raise OptionError(msg)

    from hotspots.cli.cmd_ingest import load_for_command
    from hotspots.nearrepeat import knox_test, write_knox_outputs
    from hotspots.outputs import build_provenance, write_json

    metric = "manhattan" if manhattan else "euclidean"
    out.mkdir(parents=True, exist_ok=True)
    ingested = load_for_command(inputs, options, out_dir=out)
    events = select_events(ingested.incidents, offences=offences, dwelling_only=dwelling_only)
    with progress_reporter() as progress:
        result = knox_test(
            events,
            distance_bands_m=d_edges,
            time_bands_days=t_edges,
            same_location_m=same_location_m,
            metric=metric,
            n_permutations=permutations,
            seed=seed,
            progress=progress,
        )
    parameters = {
        "distance_bands_m": list(d_edges),
        "time_bands_days": list(t_edges),
        "same_location_m": same_location_m,
        "metric": metric,
        "permutations": permutations,
        "seed": seed,
        "offences": offences,
        "dwelling_only": dwelling_only,
        "working_crs": events.crs.to_string(),
    }
    recommendation = result.recommendation()
    provenance = build_provenance(
        command="knox",
        parameters=parameters,
        inputs=[f["path"] for f in ingested.report.files],
        extra={
            "ingest": ingested.report.to_dict(),
            "knox": {
                "n_events": result.n_events,
                "n_close_pairs": result.n_close_pairs,
                "n_pairs_in_range": result.n_pairs_in_range,
                "time_resolution": result.time_resolution,
                "recommendation": recommendation,
            },
        },
    )
    written = write_knox_outputs(result, out, provenance=provenance)
    written["run"] = write_json(out / "run.json", provenance)
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
    console.print(table)
    console.print(
        f"{result.n_events:,} events, {result.n_close_pairs:,} pairs within "
        f"{result.distance_bands_m[-1]:g} m, {result.n_permutations} permutations (seed "
        f"{result.seed}), {result.time_resolution} dates."
    )
    console.print(escape(recommendation["text"]))
    console.print("Wrote " + ", ".join(escape(p.name) for p in written.values()))
