"""``hotspots impact``: did an operation work? WDD on counts and harm; crossover trials."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from hotspots.cli._app import app, console
from hotspots.cli._options import Inputs, OutDir, out_dir_for, with_options
from hotspots.cli._report_flags import Spots, Start
from hotspots.cli._run import settings_from
from hotspots.config import HarmOptions, IngestOptions
from hotspots.errors import OptionError

__all__ = ["IMPACT_OUTPUTS", "impact"]

_WHERE = "Treated, displacement and control areas"
_WHEN = "Windows"
_X = "Crossover patrol trial"

IMPACT_OUTPUTS = ("impact_counts.csv", "wdd.csv", "impact_areas.geojson", "crossover.csv",
                  "run.json")  # fmt: skip


def _select(path: Path, *, field: str | None, ids: str | None, working_crs: Any, what: str) -> Any:
    """Polygons of ``path``, optionally only the features whose ``field`` is in ``ids``."""
    import geopandas as gpd

    from hotspots.areas import read_areas

    if ids is not None and field is None:
        field = "spot_id"
    layer = read_areas(path, area_field=field, working_crs=working_crs, what=what)
    if ids is None:
        return layer
    wanted = [i.strip() for i in ids.split(",") if i.strip()]
    chosen = layer[layer["area"].isin(wanted)]
    unknown = sorted(set(wanted) - set(chosen["area"]))
    if unknown:
        examples = ", ".join(layer["area"].astype(str).head(3))
        msg = f"{what} {path.name} has no {field} {unknown}; it has e.g. {examples}."
        raise OptionError(msg)
    return gpd.GeoDataFrame(chosen, crs=layer.crs)


@app.command("impact")
@with_options(HarmOptions, IngestOptions, run=("offences",))
def impact(
    inputs: Inputs,
    out: OutDir = None,
    treated: Annotated[
        Path | None,
        typer.Option(
            "--treated",
            help="Polygons treated by the operation (areas, or harm_spots.geojson).",
            rich_help_panel=_WHERE,
            show_default=False,
        ),
    ] = None,
    treated_field: Annotated[
        str | None,
        typer.Option(
            "--treated-field",
            help="Field naming the treated features (default spot_id with --treated-ids).",
            rich_help_panel=_WHERE,
            show_default=False,
        ),
    ] = None,
    treated_ids: Annotated[
        str | None,
        typer.Option(
            "--treated-ids",
            help="Comma-separated names/spot ids to keep from --treated.",
            rich_help_panel=_WHERE,
            show_default=False,
        ),
    ] = None,
    control: Annotated[
        Path | None,
        typer.Option(
            "--control",
            help="Control polygons. Default: a ring --control-ring-m wide "
            "outside the displacement buffer.",
            rich_help_panel=_WHERE,
            show_default=False,
        ),
    ] = None,
    displacement_control: Annotated[
        Path | None,
        typer.Option(
            "--displacement-control",
            help="Control polygons for the displacement buffer (optional).",
            rich_help_panel=_WHERE,
            show_default=False,
        ),
    ] = None,
    buffer_m: Annotated[
        float,
        typer.Option(
            "--buffer-m",
            help="Width of the displacement buffer around the treated areas, metres (0: none).",
            rich_help_panel=_WHERE,
        ),
    ] = 200.0,
    control_ring_m: Annotated[
        float,
        typer.Option(
            "--control-ring-m",
            help="Width of the default control ring, metres.",
            rich_help_panel=_WHERE,
        ),
    ] = 500.0,
    start: Start = None,
    before_days: Annotated[
        int,
        typer.Option("--before-days", help="Days before --start compared.", rich_help_panel=_WHEN),
    ] = 365,
    after_days: Annotated[
        int,
        typer.Option("--after-days", help="Days from --start on compared.", rich_help_panel=_WHEN),
    ] = 365,
    area_weighted: Annotated[
        bool,
        typer.Option(
            "--area-weighted",
            help="Scale each area's counts to the treated area's km2 (for controls of a "
            "different size).",
            rich_help_panel=_WHERE,
        ),
    ] = False,
    alpha: Annotated[
        float, typer.Option("--alpha", help="1 - confidence level of the intervals.")
    ] = 0.05,
    plan: Annotated[
        Path | None,
        typer.Option(
            "--plan",
            help="patrol_plan.csv from 'hotspots spots --crossover': compare "
            "patrolled and unpatrolled spot-days.",
            rich_help_panel=_X,
            show_default=False,
        ),
    ] = None,
    spots: Spots = None,
    given: dict[str, Any] | None = None,
) -> None:
    """Weighted displacement difference test (Wheeler & Ratcliffe 2018) on counts and harm.

    Writes impact_counts.csv (before/after counts and harm per area), wdd.csv (estimate,
    standard error, z, p, 95% interval; counts and harm), impact_areas.geojson and
    run.json; with --plan and --spots also crossover.csv.
    """
    settings = settings_from(given)
    folder = out_dir_for(out, "impact")
    if treated is None and plan is None:
        msg = (
            "Give --treated FILE (with --start) for a WDD test, or --plan and --spots for a "
            "crossover trial."
        )
        raise OptionError(msg)
    if treated is not None and start is None:
        msg = "--treated needs --start YYYY-MM-DD, the first day of the operation."
        raise OptionError(msg)
    if (plan is None) != (spots is None):
        msg = "A crossover comparison needs both --plan patrol_plan.csv and --spots FILE.geojson."
        raise OptionError(msg)
    import geopandas as gpd
    import pandas as pd

    from hotspots.cli.cmd_ingest import load_for_command
    from hotspots.harm import weigh_used
    from hotspots.impact import crossover_effect, evaluate_impact, impact_areas
    from hotspots.outputs import build_provenance, write_csv, write_geojson, write_json
    from hotspots.outputs.publish import staged_outputs
    from hotspots.reports import parse_day
    from hotspots.schema import OFFENCE
    from hotspots.spots import offences_used

    ingested = load_for_command(inputs, settings.ingest, out_dir=None)
    chosen = list(offences_used(ingested.incidents, settings.spots))
    data = ingested.incidents[ingested.incidents[OFFENCE].isin(chosen).to_numpy()]
    weighting = weigh_used(data, settings.harm, used=chosen)
    weighted, table = weighting.incidents, weighting.table
    crs = weighted.crs
    result = crossover = None
    if treated is not None:
        t = _select(
            treated, field=treated_field, ids=treated_ids, working_crs=crs, what="--treated"
        )
        c = (
            _select(control, field=None, ids=None, working_crs=crs, what="--control")
            if control
            else None
        )
        dc = (_select(displacement_control, field=None, ids=None, working_crs=crs,
                      what="--displacement-control") if displacement_control else None)  # fmt: skip
        areas = impact_areas(t, buffer_m=buffer_m, control=c, control_ring_m=control_ring_m,
                             displacement_control=dc)  # fmt: skip
        day = parse_day(str(start), name="--start")
        result = evaluate_impact(weighted, areas=areas, start=day, before_days=before_days,
                                 after_days=after_days, alpha=alpha,
                                 area_weighted=area_weighted)  # fmt: skip
    if plan is not None and spots is not None:
        plan_frame = pd.read_csv(plan, encoding="utf-8-sig")
        spot_layer = gpd.read_file(spots).to_crs(crs)
        crossover = crossover_effect(plan_frame, weighted, spot_layer)
    parameters = {
        "treated": str(treated) if treated else None, "treated_field": treated_field,
        "treated_ids": treated_ids, "control": str(control) if control else None,
        "displacement_control": str(displacement_control) if displacement_control else None,
        "buffer_m": buffer_m, "control_ring_m": control_ring_m, "start": start,
        "before_days": before_days, "after_days": after_days, "offences": chosen,
        "harm_table": table.name, "harm_map": settings.harm.mapping,
        "harm_unknown": settings.harm.harm_unknown, "alpha": alpha, "area_weighted": area_weighted,
        "plan": str(plan) if plan else None,
        "spots": str(spots) if spots else None,
    }  # fmt: skip
    extra_inputs = [p for p in (treated, control, displacement_control, plan, spots) if p]
    provenance = build_provenance(
        command="impact",
        parameters=parameters,
        inputs=[*(f["path"] for f in ingested.report.files), *extra_inputs],
        extra={"ingest": ingested.report.to_dict(), "harm_table": table.to_dict(),
               "impact": result.summary() if result else None,
               "crossover": crossover.to_dict() if crossover else None},
    )  # fmt: skip
    with staged_outputs(folder, owned=IMPACT_OUTPUTS) as stage:
        if result is not None:
            write_csv(result.counts, stage / "impact_counts.csv")
            tests = [{"measure": "count", **result.count_test.to_dict()}]
            if result.harm_test is not None:
                tests.append({"measure": f"harm ({table.name})", **result.harm_test.to_dict()})
            write_csv(pd.DataFrame(tests), stage / "wdd.csv")
            write_geojson(result.areas, stage / "impact_areas.geojson",
                          metadata={"command": "impact", "windows": result.windows})  # fmt: skip
        if crossover is not None:
            write_csv(pd.DataFrame([crossover.to_dict()]), stage / "crossover.csv")
        write_json(stage / "run.json", provenance)
        names = sorted(p.name for p in stage.iterdir())
    if result is not None:
        console.print(f"Before {result.windows['before']}; after {result.windows['after']}.")
        for name, test in (("Counts", result.count_test), ("Harm", result.harm_test)):
            if test is None:
                continue
            console.print(
                f"[bold]{name}[/]: WDD {test.wdd:+,.1f} (local {test.local:+,.1f}, displacement "
                f"{test.displacement:+,.1f}), SE {test.se:,.1f}, z {test.z:+.2f}, "
                f"p {test.p_value:.3f}, "
                f"{1 - test.alpha:.0%} CI {test.ci_low:+,.1f} to {test.ci_high:+,.1f}",
                soft_wrap=True,
            )
        for note in [*weighting.notes, *result.notes]:
            console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    if crossover is not None:
        console.print(
            f"[bold]Crossover[/]: {crossover.crimes_patrolled} crimes on "
            f"{crossover.patrolled_days} patrolled spot-days vs {crossover.crimes_unpatrolled} on "
            f"{crossover.unpatrolled_days} "
            f"unpatrolled; rate ratio {crossover.rate_ratio:.2f}, p {crossover.p_value:.3f}",
            soft_wrap=True,
        )
    console.print("Wrote " + ", ".join(escape(n) for n in names))
