"""``hotspots evaluate``: rolling backtest of the harm-spot methods (and cocoons)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from hotspots.cli._app import app, console, progress_reporter, stdout
from hotspots.cli._options import Inputs, OutDir, out_dir_for, with_options
from hotspots.cli._run import settings_from
from hotspots.cli._staged import staged_command
from hotspots.config import HarmOptions, IngestOptions
from hotspots.errors import OptionError

__all__ = ["evaluate", "parse_list", "parse_numbers", "show_evaluation_summary"]

_BT = "Backtest"
_ME = "Methods"
_CO = "Cocoons"


def parse_numbers(text: str, *, name: str) -> tuple[float, ...]:
    """Comma-separated numbers (``0.005,0.01``) as floats; OptionError naming the option."""
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError as exc:
        msg = f"{name} must be comma-separated numbers such as 0.005,0.01,0.02; got {text!r}."
        raise OptionError(msg) from exc
    if not values:
        msg = f"{name} needs at least one number; got {text!r}."
        raise OptionError(msg)
    return values


def parse_list(text: str | None) -> tuple[str, ...] | None:
    """Comma-separated names, stripped; None stays None."""
    if text is None:
        return None
    return tuple(v.strip() for v in text.split(",") if v.strip())


def _is_burglary_only(offences: tuple[str, ...] | None, incidents: Any) -> bool:
    from hotspots.schema import OFFENCE

    names = offences
    if names is None:
        names = tuple(incidents[OFFENCE].dropna().astype(str).unique())
    return bool(names) and all("burglary" in n.casefold() for n in names)


@app.command("evaluate")
@with_options(
    IngestOptions,
    HarmOptions,
    run=("areas", "area_field", "seed", "lookback_days", "offences", "cell_m", "eps_m",
         "min_harm", "fdr_alpha", "gistar_permutations", "radius_m", "window_days"),
)  # fmt: skip
def evaluate(
    inputs: Inputs,
    out: OutDir = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            help="First period start (YYYY-MM-DD). Default: first Monday / month start "
            "with a full look-back of data.",
            rich_help_panel=_BT,
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--end",
            help="No period starts on or after this date. Default: end of the data.",
            rich_help_panel=_BT,
        ),
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            help="week or month. Default: month for police.uk (month-dated) data, else week.",
            rich_help_panel=_BT,
        ),
    ] = None,
    horizon_days: Annotated[
        int | None,
        typer.Option(
            "--horizon-days",
            help="Days each forecast is scored on. Default 7 for weeks, the "
            "calendar month for months.",
            rich_help_panel=_BT,
        ),
    ] = None,
    coverage: Annotated[
        str,
        typer.Option(
            "--coverage",
            help="Shares of the study area to select, comma-separated.",
            rich_help_panel=_BT,
        ),
    ] = "0.005,0.01,0.02,0.05",
    methods: Annotated[
        str | None,
        typer.Option(
            "--methods",
            help="Comma-separated spot methods (grid, hex, dbscan, gistar: the weekly run's "
            "rules) and baselines (count_grid, kde, promap, last_period). Default: grid and "
            "the baselines (promap only when every offence is a burglary).",
            rich_help_panel=_ME,
        ),
    ] = None,
    kde_bandwidth_m: Annotated[
        float,
        typer.Option(
            "--kde-bandwidth-m",
            help="Gaussian kernel standard deviation for kde.",
            rich_help_panel=_ME,
        ),
    ] = 300.0,
    cocoon: Annotated[
        bool | None,
        typer.Option(
            "--cocoon/--no-cocoon",
            help="Also score cocoon zones on the burglaries. Default: on "
            "for day-dated burglary data.",
            rich_help_panel=_CO,
        ),
    ] = None,
    given: dict[str, Any] | None = None,
) -> None:
    """Backtest harm-spot methods period by period and write tables, plots and a page.

    Writes evaluation.csv (method x period x coverage x metric), summary.csv,
    pai_by_coverage.png, harm_capture_over_time.png, evaluation.html (self-contained),
    cocoon_periods.csv / cocoon_bands.csv (day-dated burglaries), rejected.csv and run.json.
    """
    settings = settings_from(given)
    out = out_dir_for(out, "evaluate")
    options = settings.ingest
    # a look-back the user did not give adapts to the data (see hotspots.evaluate.backtest)
    lookback_days = settings.spots.lookback_days if "lookback_days" in (given or {}) else None
    cell_m, eps_m = settings.spots.cell_m, settings.spots.eps_m
    radius_m, window_days = settings.cocoon.radius_m, settings.cocoon.window_days
    seed, areas, area_field = settings.seed, settings.areas, settings.area_field

    from hotspots._runs import run_areas, time_resolution_of, with_strays
    from hotspots.cli.cmd_ingest import load_for_command
    from hotspots.config import SpotOptions
    from hotspots.evaluate import DEFAULT_METHODS, MethodParams, backtest, cocoon_backtest
    from hotspots.evaluate.report import write_evaluation_outputs
    from hotspots.harm import weigh_used
    from hotspots.ingest import write_rejected
    from hotspots.outputs import build_provenance, write_json
    from hotspots.spots import offences_used

    levels = parse_numbers(coverage, name="--coverage")
    offence_list = settings.spots.offences
    method_list = parse_list(methods)
    with staged_command(out, "evaluate") as staging:
        ingested = load_for_command(inputs, options, out_dir=staging, shown_dir=out)
        # the spots' rule: names match any case; default the serious-violence set the data has
        scored = offences_used(ingested.incidents, SpotOptions(offences=offence_list))
        weighting = weigh_used(ingested.incidents, settings.harm, used=scored)
        table = weighting.table
        weighted = weighting.incidents
        resolution = time_resolution_of(weighted)
        chosen_period = period or ("month" if resolution == "month" else "week")
        burglary_only = _is_burglary_only(scored, weighted)
        if method_list is None:
            method_list = DEFAULT_METHODS + (("promap",) if burglary_only else ())
        # the run's one areas rule: --areas, else the LSOA study area (strays left out and
        # written to rejected.csv) as the denominator of every share-of-area figure
        places = run_areas(weighted, settings)
        weighted = places.incidents
        area_layer = places.areas if areas is not None else None
        study = places.study_area
        if len(places.strays):
            write_rejected(with_strays(ingested.rejected, places.strays), staging / "rejected.csv")
        params = MethodParams(
            kde_bandwidth_m=kde_bandwidth_m,
            eps_m=eps_m,
            min_harm=settings.spots.min_harm,
            fdr_alpha=settings.spots.fdr_alpha,
            gistar_permutations=settings.spots.gistar_permutations,
        )
        run_cocoon = cocoon if cocoon is not None else (burglary_only and resolution != "month")
        with progress_reporter() as progress:
            result = backtest(
                weighted,
                start=start,
                end=end,
                period=chosen_period,  # type: ignore[arg-type]
                lookback_days=lookback_days,
                horizon_days=horizon_days,
                coverage=levels,
                methods=method_list,
                offences=scored,
                cell_m=cell_m,
                areas=area_layer,
                study_area=study,
                params=params,
                seed=seed,
                progress=progress,
            )
            cocoon_result = None
            if run_cocoon:
                cocoon_result = cocoon_backtest(
                    weighted,
                    start=result.periods["period_start"].min(),
                    end=result.periods["period_end"].max(),
                    radius_m=radius_m,
                    window_days=window_days,
                    offences=offence_list,
                    study_area_km2=result.study["area_km2"],
                    study_area=result.study["source"],
                    progress=progress,
                )
        input_files = [f["path"] for f in ingested.report.files]
        extra_inputs = [p for p in (areas,) if p is not None]
        provenance = build_provenance(
            command="evaluate",
            parameters={
                **result.parameters,
                "harm_table": table.name,
                "harm_map": settings.harm.mapping or None,
                "areas": areas,
                "area_field": area_field,
                "cocoon": run_cocoon,
                "radius_m": radius_m,
                "window_days": window_days,
            },
            inputs=[*input_files, *extra_inputs],
            extra={
                "ingest": ingested.report.to_dict(),
                "harm_table": {k: v for k, v in table.to_dict().items() if k != "weights"},
                "study": result.study,
                "study_area": places.figures,
                "rejected": {"incidents": len(ingested.rejected), "strays": len(places.strays)},
                "notes": list(result.notes),
                "summary": result.summary.to_dict(orient="records"),
                "cocoon": None if cocoon_result is None else cocoon_result.summary,
            },
        )
        files = write_evaluation_outputs(
            result, staging, provenance=provenance, cocoon=cocoon_result
        )
        files["run.json"] = write_json(staging / "run.json", provenance)
    from hotspots.outputs.publish import placed  # not at import: --help stays light

    files = placed(files, staging, out)
    show_evaluation_summary(result, cocoon_result, files)


def show_evaluation_summary(result: Any, cocoon_result: Any, files: dict[str, Path]) -> None:
    """Print the summary at each coverage level and the files written."""
    summary = result.summary
    table = Table(
        title=f"Backtest: {len(result.periods)} {result.parameters['period']} periods (means)"
    )
    for col in (
        "method",
        "coverage",
        "hit rate",
        "harm capture",
        "PAI",
        "PEI",
        "stability",
        "random filler",
    ):
        table.add_column(col, justify="left" if col == "method" else "right")
    for row in summary.itertuples(index=False):
        stab = getattr(row, "stability", float("nan"))
        table.add_row(
            row.method,
            f"{row.coverage * 100:g}%",
            f"{row.hit_rate:.1%}",
            f"{row.harm_capture:.1%}",
            f"{row.pai:.2f}",
            f"{row.pei:.2f}",
            "-" if stab != stab else f"{stab:.2f}",
            f"{row.filler_share:.0%}",
        )
    stdout.print(table)
    for note in result.notes:
        console.print(f"[yellow]Note:[/] {note}")
    if cocoon_result is not None:
        s = cocoon_result.summary
        stdout.print(
            f"[bold]Cocoons:[/] {s['n_in_live_zone']:,} of {s['n_burglaries']:,} "
            f"burglaries ({s['share_in_live_zone']:.1%}) fell in a live zone; mean live "
            f"area {s['mean_live_area_km2']:.1f} km2 = {s['area_share']:.1%} of the study "
            f"area ({s['study_area']}, {s['study_area_km2']:,.1f} km2), PAI {s['pai']:.2f}."
        )
    for name, path in files.items():
        stdout.print(f"  {name}: {path}")
