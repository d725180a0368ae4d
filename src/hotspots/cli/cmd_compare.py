"""``hotspots compare``: a period against a comparison period, by area x category."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from hotspots.cli._app import app, console, progress_reporter
from hotspots.cli._options import Inputs, OutDir, out_dir_for, with_options
from hotspots.cli._report_flags import AllowIncomplete, End, Spots, Start
from hotspots.cli._run import settings_from
from hotspots.cli.cmd_ingest import show_ingest_report
from hotspots.config import EngineOptions, HarmOptions, IngestOptions, engine_from

if TYPE_CHECKING:
    from hotspots.reports import CompareResult

__all__ = ["compare", "show_compare"]

_PER = "Periods"


@app.command("compare")
@with_options(HarmOptions, IngestOptions, EngineOptions, run=("areas", "area_field", "cell_m"))
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
    and run.json into --out. Inputs holding several police.uk forces are compared per
    force, each in its own districts, into --out/<force>/, with national.csv (each force's
    all-crime totals) in --out.
    """
    engine, given = engine_from(given or {})
    settings = settings_from(given)
    folder = out_dir_for(out, "compare")

    from hotspots.engine import open_engine, require_dask
    from hotspots.national import run_single_force, several_forces
    from hotspots.perforce import CompareRequest, compare_force, run_per_force

    request = CompareRequest(
        start=start, end=end, against=against, against_start=against_start,
        against_end=against_end, allow_incomplete=allow_incomplete, spots=spots,
    )  # fmt: skip
    if engine.is_dask:
        require_dask()  # one line before any input is read
    if several_forces(inputs):  # several forces: each compared in its own districts
        with progress_reporter() as progress, open_engine(engine, progress=progress) as runner:
            multi = run_per_force(
                "compare", inputs, out_dir=folder, settings=settings, request=request,
                progress=progress, run_tasks=runner.map if runner.is_dask else None,
                engine=runner.record,
            )  # fmt: skip
        for force, done in multi.forces.items():
            console.print(f"[bold]{escape(force)}[/] -> {escape(str(done.out_dir))}")
            show_ingest_report(done.report)
            show_compare(done.result, done.names)
        console.print(
            f"[bold]National:[/] {len(multi.forces)} forces, each in its own districts; "
            f"{escape(str(multi.national_csv))}."
        )
        return
    with progress_reporter() as progress, open_engine(engine, progress=progress) as runner:
        done = run_single_force(
            partial(compare_force, request=request), inputs, out_dir=folder,
            settings=settings, engine_record=runner.record if runner.is_dask else None,
            runner=runner, progress=progress, task="compare",
        )  # fmt: skip
    show_ingest_report(done.report)
    show_compare(done.result, done.names)


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
