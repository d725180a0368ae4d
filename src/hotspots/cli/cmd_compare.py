"""``hotspots compare``: a period against a comparison period, by area x category."""

from __future__ import annotations

import dataclasses
import warnings
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from hotspots.cli._app import app, console
from hotspots.cli._options import Inputs, OutDir, out_dir_for, with_options
from hotspots.cli._report_flags import AllowIncomplete, End, Spots, Start
from hotspots.cli._run import settings_from
from hotspots.config import HarmOptions, IngestOptions
from hotspots.errors import DataQualityWarning

if TYPE_CHECKING:
    from hotspots.reports import CompareResult

__all__ = ["COMPARE_OUTPUTS", "compare", "show_compare"]

_PER = "Periods"

COMPARE_OUTPUTS = (
    "compare.csv",
    "compare.html",
    "category_shares.csv",
    "concentration.csv",
    "concentration_curve.csv",
    "monthly_harm.csv",
    "monthly_harm.png",
    "outcome_shares.csv",
    "spot_outcome_shares.csv",
    "rejected.csv",
    "run.json",
)


@app.command("compare")
@with_options(HarmOptions, IngestOptions, run=("areas", "area_field", "cell_m"))
def compare(
    inputs: Inputs,
    out: OutDir = None,
    start: Start = None,
    end: End = None,
    against: Annotated[
        str,
        typer.Option(
            "--against",
            help="previous (equal period just before), same-period-last-year, or dates "
            "(with --against-start/--against-end).",
            rich_help_panel=_PER,
        ),
    ] = "previous",
    against_start: Annotated[
        str | None,
        typer.Option("--against-start", help="Comparison start, YYYY-MM-DD.", rich_help_panel=_PER),
    ] = None,
    against_end: Annotated[
        str | None,
        typer.Option("--against-end", help="Comparison end, YYYY-MM-DD.", rich_help_panel=_PER),
    ] = None,
    allow_incomplete: AllowIncomplete = False,
    spots: Spots = None,
    given: dict[str, Any] | None = None,
) -> None:
    """Counts and harm for a period against a comparison period, by area and offence.

    Writes compare.csv (one row per area x category, both periods' counts and harm, the
    difference and % difference, area and overall totals), compare.html (printable, A4),
    category_shares.csv, concentration.csv and concentration_curve.csv (harm vs share of
    --cell-m cells, Gini, km2 holding 50% of harm), monthly_harm.csv/.png,
    outcome_shares.csv (when the data has police.uk outcomes; per spot too with --spots)
    and run.json into --out.
    """
    settings = settings_from(given)
    folder = out_dir_for(out, "compare")
    import pandas as pd

    from hotspots.areas import read_areas
    from hotspots.cli.cmd_ingest import load_for_command
    from hotspots.harm import weigh_used
    from hotspots.ingest import write_rejected
    from hotspots.outputs import build_provenance, write_csv, write_json
    from hotspots.outputs.publish import staged_outputs
    from hotspots.reports import (
        compare_periods,
        render_compare_html,
        write_html,
        write_monthly_png,
    )

    areas, area_field, cell_m = settings.areas, settings.area_field, settings.spots.cell_m
    ingested = load_for_command(inputs, settings.ingest, out_dir=None)
    weighting = weigh_used(ingested.incidents, settings.harm, used=None)
    incidents, table = weighting.incidents, weighting.table
    layer = (read_areas(areas, area_field=area_field, working_crs=incidents.crs)
             if areas is not None else None)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # shown below as notes
        result = compare_periods(
            incidents, areas=layer, start=start, end=end, against=against,  # type: ignore[arg-type]
            against_start=against_start, against_end=against_end,
            allow_incomplete=allow_incomplete, cell_m=cell_m,
        )  # fmt: skip
    result = dataclasses.replace(result, notes=[*weighting.notes, *result.notes])
    spot_outcomes = None
    if spots is not None:
        from hotspots.reports import in_period, outcome_column, spot_outcome_shares

        column = outcome_column(incidents)
        if column is not None:
            spot_layer = read_areas(spots, area_field="spot_id", working_crs=incidents.crs,
                                    what="--spots")  # fmt: skip
            now = incidents[in_period(incidents, result.current)]
            spot_outcomes = spot_outcome_shares(now, spot_layer, column=column)
    unit = "harm index days" if table.name != "count" else "count"
    parameters = {
        "start": start, "end": end, "against": against, "against_start": against_start,
        "against_end": against_end, "allow_incomplete": allow_incomplete,
        "areas": str(areas) if areas else None, "area_field": area_field,
        "harm_table": table.name, "harm_map": settings.harm.mapping,
        "harm_unknown": settings.harm.harm_unknown, "cell_m": cell_m, "tz": settings.ingest.tz,
    }  # fmt: skip
    provenance = build_provenance(
        command="compare",
        parameters=parameters,
        inputs=[*(f["path"] for f in ingested.report.files), *([areas] if areas else [])],
        extra={"ingest": ingested.report.to_dict(), "harm_table": table.to_dict(),
               "compare": result.summary()},
    )  # fmt: skip
    cur, cmp = result.current.to_dict(), result.comparison.to_dict()
    footer = (
        f"hotspots {provenance['software']['version']}, run {provenance['run_at']}; harm table "
        f"{table.name}; data {ingested.report.time_resolution} resolution. Areas: "
        f"{areas.name if areas else 'none (one area)'}."
    )
    with staged_outputs(folder, owned=COMPARE_OUTPUTS) as stage:
        write_csv(result.table, stage / "compare.csv")
        write_html(
            stage / "compare.html",
            render_compare_html(result.table, current=cur, comparison=cmp,
                                headlines=result.headlines, harm_unit=unit, footer=footer),
        )  # fmt: skip
        write_csv(result.shares, stage / "category_shares.csv")
        write_csv(result.concentration, stage / "concentration.csv")
        write_csv(result.curve, stage / "concentration_curve.csv")
        write_csv(result.monthly, stage / "monthly_harm.csv")
        write_monthly_png(result.monthly, stage / "monthly_harm.png", harm_unit=unit)
        if result.outcomes is not None:
            write_csv(result.outcomes, stage / "outcome_shares.csv")
        if spot_outcomes is not None:
            write_csv(spot_outcomes, stage / "spot_outcome_shares.csv")
        rejected = ingested.rejected
        if len(weighting.rejected):
            rejected = pd.concat([rejected, weighting.rejected], ignore_index=True)
        if len(rejected):
            write_rejected(rejected, stage / "rejected.csv")
        write_json(stage / "run.json", provenance)
        names = sorted(p.name for p in stage.iterdir())
    show_compare(result, names)


def show_compare(result: CompareResult, names: list[str]) -> None:
    """Print the periods, the area totals, the headlines and the files written."""
    from hotspots.reports import ROW_TYPE
    from hotspots.schema import AREA_NAME, OFFENCE

    r = result
    console.print(
        f"[bold]Period[/] {escape(r.current.describe())} ({', '.join(r.current.months)}) "
        f"[bold]against[/] {escape(r.comparison.describe())} "
        f"({', '.join(r.comparison.months)})",
        soft_wrap=True,
    )
    t = r.table
    cur, cmp = r.current.label, r.comparison.label
    cur_name, cmp_name = r.current.short(), r.comparison.short()
    rows = t[
        t[ROW_TYPE].isin(["area_total"])
        | ((t[ROW_TYPE] == "overall") & (t[OFFENCE] == "All crime"))
    ]
    view = Table(title="Recorded offences and harm", title_justify="left")
    heads = ("area", cmp_name, cur_name, "change", "%", "harm " + cmp_name, "harm " + cur_name)
    for name in (*heads, "harm %"):
        view.add_column(name, justify="left" if name == "area" else "right")
    for rec in rows.to_dict("records"):
        view.add_row(
            escape(str(rec[AREA_NAME])),
            f"{rec[f'count_{cmp}']:,}",
            f"{rec[f'count_{cur}']:,}",
            f"{rec['count_change']:+,}",
            "-"
            if rec["count_change_pct"] != rec["count_change_pct"]
            else f"{rec['count_change_pct']:+.1f}",
            f"{rec[f'harm_{cmp}']:,.0f}",
            f"{rec[f'harm_{cur}']:,.0f}",
            "-"
            if rec["harm_change_pct"] != rec["harm_change_pct"]
            else f"{rec['harm_change_pct']:+.1f}",
        )
    console.print(view)
    for area, line in r.headlines.items():
        if area == "All areas" or len(r.headlines) == 1:
            console.print(escape(line), soft_wrap=True)
    for rec in r.concentration.to_dict("records"):
        if rec[AREA_NAME].startswith("All areas"):
            console.print(
                f"Half of the harm lies in {rec['km2_for_50pct_harm']:,.2f} km2 "
                f"({rec['area_share_for_50pct_harm']:.1%} of {escape(str(rec[AREA_NAME]))}, "
                f"{rec['study_area_km2']:,.1f} km2); Gini {rec['gini']:.3f}.",
                soft_wrap=True,
            )
    for note in r.notes:
        console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    console.print("Wrote " + ", ".join(escape(n) for n in names))
