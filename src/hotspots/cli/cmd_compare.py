"""``hotspots compare``: a period against a comparison period, by area x category."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hotspots.cli._app import app, console
from hotspots.cli._options import AreaField, AreasFile, Inputs, OutDir, with_ingest_options
from hotspots.config import IngestOptions
from hotspots.errors import DataQualityWarning, OptionError

if TYPE_CHECKING:
    from hotspots.reports import CompareResult

__all__ = ["COMPARE_OUTPUTS", "compare", "show_compare"]

_PER = "Periods"
_REP = "Report"

COMPARE_OUTPUTS = (
    "compare.csv",
    "compare.html",
    "category_shares.csv",
    "concentration.csv",
    "concentration_curve.csv",
    "monthly_harm.csv",
    "monthly_harm.png",
    "outcome_shares.csv",
    "rejected.csv",
    "run.json",
)


@app.command("compare")
@with_ingest_options
def compare(
    inputs: Inputs,
    out: OutDir,
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            help="First day of the period, YYYY-MM-DD (month data: a 1st). Default: 12 "
            "months before --end.",
            rich_help_panel=_PER,
            show_default=False,
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--end",
            help="Last day of the period, YYYY-MM-DD (month data: a month end). Default: "
            "end of the latest complete month in the data.",
            rich_help_panel=_PER,
            show_default=False,
        ),
    ] = None,
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
    allow_incomplete: Annotated[
        bool,
        typer.Option(
            "--allow-incomplete",
            help="Report even when a period has months with no data (warns; figures "
            "undercount). Default: refuse.",
            rich_help_panel=_PER,
        ),
    ] = False,
    areas: AreasFile = None,
    area_field: AreaField = None,
    harm_table: Annotated[
        str,
        typer.Option(
            "--harm-table",
            help="Harm weights: cchi-2026-police-uk, cchi-2026-subgroups, a CSV file of "
            "offence,weight, or 'count' for unweighted.",
            rich_help_panel=_REP,
        ),
    ] = "cchi-2026-police-uk",
    harm_unknown: Annotated[
        str,
        typer.Option(
            "--harm-unknown",
            help="Offences the harm table lacks: raise (stop and list them) or zero.",
            rich_help_panel=_REP,
        ),
    ] = "raise",
    cell_m: Annotated[
        float,
        typer.Option(
            "--cell-m",
            help="Grid cell side (metres) of the concentration curve.",
            rich_help_panel=_REP,
        ),
    ] = 150.0,
    options: IngestOptions = IngestOptions(),
) -> None:
    """Counts and harm for a period against a comparison period, by area and offence.

    Writes compare.csv (one row per area x category, both periods' counts and harm, the
    difference and % difference, area and overall totals), compare.html (printable, A4),
    category_shares.csv, concentration.csv and concentration_curve.csv (harm vs share of
    150 m cells, Gini, km2 holding 50% of harm), monthly_harm.csv/.png,
    outcome_shares.csv (when the data has police.uk outcomes) and run.json into --out.
    """
    if area_field is not None and areas is None:
        msg = "--area-field needs --areas FILE (the boundary layer that has that field)."
        raise OptionError(msg)
    from hotspots.areas import read_areas
    from hotspots.cli.cmd_ingest import load_for_command
    from hotspots.harm import apply_harm, load_harm_table
    from hotspots.ingest import write_rejected
    from hotspots.outputs import build_provenance, write_csv, write_json
    from hotspots.outputs.publish import staged_outputs
    from hotspots.reports import compare_periods
    from hotspots.reports._write import render_compare_html, write_html, write_monthly_png

    table = load_harm_table(harm_table)
    ingested = load_for_command(inputs, options, out_dir=None)
    incidents = apply_harm(ingested.incidents, table, unknown=harm_unknown)  # type: ignore[arg-type]
    layer = (read_areas(areas, area_field=area_field, working_crs=incidents.crs)
             if areas is not None else None)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # shown below as notes
        result = compare_periods(
            incidents, areas=layer, start=start, end=end, against=against,  # type: ignore[arg-type]
            against_start=against_start, against_end=against_end,
            allow_incomplete=allow_incomplete, cell_m=cell_m,
        )  # fmt: skip
    unit = "harm index days" if table.name != "count" else "count"
    parameters = {
        "start": start, "end": end, "against": against, "against_start": against_start,
        "against_end": against_end, "allow_incomplete": allow_incomplete,
        "areas": str(areas) if areas else None, "area_field": area_field,
        "harm_table": table.name, "harm_unknown": harm_unknown, "cell_m": cell_m,
        "tz": options.tz,
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
    with staged_outputs(out, owned=COMPARE_OUTPUTS) as stage:
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
        if len(ingested.rejected):
            write_rejected(ingested.rejected, stage / "rejected.csv")
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
