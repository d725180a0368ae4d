"""``hotspots spots``: rank harm spots, plan patrols, write the layers (registers on the app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from hotspots._validate import check_choice
from hotspots.cli._app import app, console, progress_reporter
from hotspots.cli._options import (
    AreaField,
    AreasFile,
    AsOf,
    Inputs,
    OutDir,
    Seed,
    with_ingest_options,
)
from hotspots.config import IngestOptions
from hotspots.errors import OptionError
from hotspots.schema import AREA_NAME, HARM, N_INCIDENTS, OFFENCE, RANK, SPOT_ID, STATUS, TREND

__all__ = ["parse_offences", "show_spots", "spots"]

_SP = "Harm spots"
_SEL = "Selection"
_PAT = "Patrol plan"


def parse_offences(text: str | None, present: list[str]) -> tuple[str, ...] | None:
    """``"robbery, Drugs"`` -> the data's own spelling of each category (case-insensitive).

    Names that match no category are passed on unchanged so the library can say which
    categories the data has.
    """
    if text is None:
        return None
    by_fold = {p.casefold(): p for p in present}
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        msg = f"--offences {text!r} names no offence; write e.g. --offences 'Robbery,Drugs'."
        raise OptionError(msg)
    return tuple(by_fold.get(n.casefold(), n) for n in names)


@app.command("spots")
@with_ingest_options
def spots(
    inputs: Inputs,
    out: OutDir,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="grid: square cells; hex: hexagons of the same area; dbscan: harm-weighted "
            "density clusters; gistar: Getis-Ord Gi* hot cells with FDR control.",
            rich_help_panel=_SP,
        ),
    ] = "grid",
    cell_m: Annotated[
        float,
        typer.Option(
            "--cell-m", help="Cell side in metres (grid, hex, gistar).", rich_help_panel=_SP
        ),
    ] = 150.0,
    eps_m: Annotated[
        float,
        typer.Option("--eps-m", help="DBSCAN neighbourhood radius in metres.", rich_help_panel=_SP),
    ] = 150.0,
    min_harm: Annotated[
        float,
        typer.Option(
            "--min-harm",
            help="DBSCAN: harm needed within --eps-m of a core point.",
            rich_help_panel=_SP,
        ),
    ] = 2000.0,
    as_of: AsOf = None,
    lookback_days: Annotated[
        int,
        typer.Option(
            "--lookback-days", help="Days of data ranked, ending at --as-of.", rich_help_panel=_SP
        ),
    ] = 365,
    offences: Annotated[
        str | None,
        typer.Option(
            "--offences",
            help="Comma-separated categories ranked, e.g. 'Robbery,Drugs'. Default: violence "
            "and sexual offences, robbery, possession of weapons, drugs.",
            rich_help_panel=_SP,
            show_default=False,
        ),
    ] = None,
    harm_table: Annotated[
        str,
        typer.Option(
            "--harm-table",
            help="Harm weights: cchi-2026-police-uk, cchi-2026-subgroups, a CSV file of "
            "offence,weight, or 'count' for unweighted.",
            rich_help_panel=_SP,
        ),
    ] = "cchi-2026-police-uk",
    harm_map: Annotated[
        list[str] | None,
        typer.Option(
            "--harm-map",
            help="Map a data offence to a harm-table offence, e.g. 'BATTERY=Violence and "
            "sexual offences' (repeatable).",
            rich_help_panel=_SP,
            show_default=False,
        ),
    ] = None,
    areas: AreasFile = None,
    area_field: AreaField = None,
    top: Annotated[
        int | None,
        typer.Option(
            "--top",
            help="Spots per area with --areas (default 5), else overall (default 20).",
            rich_help_panel=_SEL,
            show_default=False,
        ),
    ] = None,
    harm_share: Annotated[
        float | None,
        typer.Option(
            "--harm-share",
            help="Instead of --top: the fewest spots holding this share of (area) harm, 0-1.",
            rich_help_panel=_SEL,
            show_default=False,
        ),
    ] = None,
    max_area_km2: Annotated[
        float | None,
        typer.Option(
            "--max-area-km2",
            help="Cap on the total area of the chosen spots (km2).",
            rich_help_panel=_SEL,
            show_default=False,
        ),
    ] = None,
    fdr_alpha: Annotated[
        float,
        typer.Option(
            "--fdr-alpha",
            help="Gi*: false discovery rate (Benjamini-Hochberg).",
            rich_help_panel=_SEL,
        ),
    ] = 0.05,
    permutations: Annotated[
        int,
        typer.Option(
            "--permutations",
            help="Gi*: conditional permutations per cell; 0 for analytic p-values (needed on "
            "force-sized grids, where permutation p-values are too coarse for FDR).",
            rich_help_panel=_SEL,
        ),
    ] = 999,
    visit_minutes: Annotated[
        int,
        typer.Option(
            "--visit-minutes", help="Length of each planned patrol visit.", rich_help_panel=_PAT
        ),
    ] = 15,
    crossover: Annotated[
        bool,
        typer.Option(
            "--crossover",
            help="Leave a seeded random half of each spot's days "
            "unpatrolled, to measure the effect later.",
            rich_help_panel=_PAT,
        ),
    ] = False,
    patrols: Annotated[
        Path | None,
        typer.Option(
            "--patrols",
            help="Patrol/interaction log CSV (time, spot_id or x/y, minutes, activity): "
            "writes patrol_summary.csv, minutes and interactions per spot per week vs plan.",
            rich_help_panel=_PAT,
            show_default=False,
        ),
    ] = None,
    seed: Seed = 0,
    options: IngestOptions = IngestOptions(),
) -> None:
    """Rank places by crime harm, pick the top spots (per area) and plan this week's patrols.

    Writes harm_spots.geojson (RFC 7946), harm_spots.csv, patrol_plan.csv, rejected.csv and
    run.json (parameters, input hashes, counts, concentration, harm table, seed, version)
    into --out, plus patrol_summary.csv with --patrols.
    """
    from hotspots.spots import METHODS

    check_choice(method, METHODS, name="--method")
    if top is not None and harm_share is not None:
        msg = "Give --top or --harm-share, not both."
        raise OptionError(msg)
    if area_field is not None and areas is None:
        msg = "--area-field needs --areas FILE (the boundary layer that has that field)."
        raise OptionError(msg)
    if top is None and harm_share is None:
        top = 5 if areas is not None else 20

    from hotspots.areas import read_areas
    from hotspots.cli.cmd_ingest import load_for_command, parse_harm_map
    from hotspots.harm import apply_harm, load_harm_table
    from hotspots.outputs import build_provenance, write_csv, write_json
    from hotspots.spots import (
        SERIOUS_VIOLENCE,
        find_spots,
        patrol_plan,
        patrol_summary,
        read_patrols,
        resolve_offences,
        write_spot_outputs,
    )

    mapping = parse_harm_map(harm_map)
    table = load_harm_table(harm_table)
    out.mkdir(parents=True, exist_ok=True)
    ingested = load_for_command(inputs, options, out_dir=out)
    incidents = ingested.incidents
    layer = (read_areas(areas, area_field=area_field, working_crs=incidents.crs)
             if areas is not None else None)  # fmt: skip
    present = [str(o) for o in incidents[OFFENCE].dropna().unique()]
    chosen = parse_offences(offences, present)
    wanted = resolve_offences(incidents, chosen if chosen is not None else SERIOUS_VIOLENCE)
    # weigh only what is ranked, so unrelated categories need no harm weight
    ranked = incidents[incidents[OFFENCE].isin(wanted).to_numpy()]
    weighted = apply_harm(ranked, table, mapping=mapping or None)
    with progress_reporter() as progress:
        result = find_spots(
            weighted, method=method, cell_m=cell_m, eps_m=eps_m, min_harm=min_harm,
            as_of=as_of, lookback_days=lookback_days, offences=wanted, areas=layer, top=top,
            harm_share=harm_share, max_area_km2=max_area_km2, fdr_alpha=fdr_alpha,
            permutations=permutations, seed=seed, progress=progress,
        )  # fmt: skip
    as_of_day = pd.Timestamp(result.parameters["as_of"]).tz_localize(options.tz)
    plan = patrol_plan(result.spots, as_of=as_of_day, visit_minutes=visit_minutes,
                       crossover=crossover, seed=seed)  # fmt: skip
    parameters = {**result.parameters, "harm_table": table.name, "harm_map": mapping,
                  "areas": str(areas) if areas else None, "area_field": area_field,
                  "visit_minutes": visit_minutes, "crossover": crossover,
                  "patrols": str(patrols) if patrols else None, "tz": options.tz}  # fmt: skip
    extra_inputs = [p for p in (areas, patrols) if p is not None]
    provenance = build_provenance(
        command="spots",
        parameters=parameters,
        inputs=[*(f["path"] for f in ingested.report.files), *extra_inputs],
        extra={"ingest": ingested.report.to_dict(), "harm_table": table.to_dict(),
               "counts": {"n_incidents": len(incidents), "n_ranked": len(ranked),
                          "n_spots": len(result.spots), "n_dropped": len(result.dropped),
                          "n_candidates": len(result.candidates), "n_plan_visits": len(plan)},
               "concentration": result.summary},
    )  # fmt: skip
    written = write_spot_outputs(result, plan, out, provenance=provenance)
    if patrols is not None:
        log, rejected = read_patrols(patrols, tz=options.tz, crs=incidents.crs.to_epsg() or 27700)
        written["patrol_summary.csv"] = write_csv(
            patrol_summary(plan, log, result.spots), out / "patrol_summary.csv"
        )
        if len(rejected):
            written["rejected_patrols.csv"] = write_csv(rejected, out / "rejected_patrols.csv")
            console.print(
                f"[yellow]note:[/] {len(rejected)} patrol log rows rejected; see "
                f"{escape(str(written['rejected_patrols.csv']))}"
            )
    written["run.json"] = write_json(out / "run.json", provenance)
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
    console.print(table)
    if len(spots) > rows:
        console.print(f"... and {len(spots) - rows} more in harm_spots.csv")
    console.print(
        f"[bold]{escape(summary['headline'])}[/] ({summary['incident_share']:.0%} of incidents; "
        f"study area {summary['study_area_km2']:,.1f} km2, {escape(summary['study_area'])}). "
        f"New {summary['n_new']}, persisting {summary['n_persisting']}, dropped "
        f"{summary['n_dropped']}."
    )
    for note in summary.get("notes", []):
        console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    console.print("Wrote " + ", ".join(escape(p.name) for p in written.values()))
