"""``hotspots target``: rank wards/LSOAs by an offence, list streets and postcodes to reach."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from hotspots.cli._app import app, console
from hotspots.cli._options import Inputs, OutDir, out_dir_for, with_options
from hotspots.cli._report_flags import AllowIncomplete, End, Start
from hotspots.cli._run import settings_from
from hotspots.config import HarmOptions, IngestOptions
from hotspots.errors import DataQualityWarning, OptionError

__all__ = ["TARGET_OUTPUTS", "render_target_html", "target"]

_SEL = "What to rank"
_PER = "Window"

TARGET_OUTPUTS = (
    "target_units.csv",
    "target_units.geojson",
    "target_streets.csv",
    "target_postcodes.csv",
    "target_addresses.csv",
    "target.html",
    "run.json",
)


def _fmt(value: Any, digits: int = 0) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "-"
    if number != number:  # NaN
        return "-"
    return f"{number:,.{digits}f}"


def render_target_html(result: Any, *, unit_label: str, footer: str) -> str:
    """Printable targeting page: the chosen units, then one page of streets per unit."""
    from hotspots.reports import render_template

    ranking = result.ranking
    chosen = ranking[ranking["chosen"]]
    has_addresses = "n_address_points" in ranking.columns
    rows = [
        {
            "rank": int(r["rank"]),
            "area": str(r["area"]),
            "count": _fmt(r["count"]),
            "harm": _fmt(r["harm"]),
            "per_km2": _fmt(r["count_per_km2"], 1),
            "n_address_points": _fmt(r.get("n_address_points")),
            "n_postcodes": _fmt(r.get("n_postcodes")),
            "per_1000": _fmt(r.get("count_per_1000_addresses"), 1),
        }
        for r in chosen.to_dict("records")
    ]
    units = []
    if has_addresses:
        for row in rows:
            streets = result.streets[result.streets["rank"] == row["rank"]]
            units.append(
                {
                    **row,
                    "streets": [
                        {
                            "name": str(s["street_or_sector"]),
                            "n_address_points": _fmt(s["n_address_points"]),
                            "n_postcodes": _fmt(s["n_postcodes"]),
                            "postcodes": str(s["postcodes"]),
                        }
                        for s in streets.to_dict("records")
                    ],
                }
            )
    title = f"Targeting: {', '.join(result.offences)} by {unit_label}"
    description = (
        f"Units ranked by {result.measure} over {result.period.describe()} "
        f"({result.period.start:%Y-%m-%d} to {result.period.end:%Y-%m-%d}); top {len(rows)}."
    )
    return render_template(
        "target.html.j2",
        title=title,
        description=description,
        unit_label=unit_label,
        chosen=rows,
        units=units,
        has_addresses=has_addresses,
        notes=result.notes,
        footer=footer,
    )


@app.command("target")
@with_options(
    HarmOptions,
    IngestOptions,
    run=("areas", "area_field", "offences", "addresses", "address_x_col", "address_y_col",
         "address_id_col", "address_crs"),
)  # fmt: skip
def target(
    inputs: Inputs,
    out: OutDir = None,
    measure: Annotated[
        str,
        typer.Option(
            "--measure",
            help="count, harm, or rate (per 1,000 address points with --addresses, else per km2).",
            rich_help_panel=_SEL,
        ),
    ] = "count",
    top_units: Annotated[
        int,
        typer.Option("--top-units", help="Number of units chosen.", rich_help_panel=_SEL),
    ] = 10,
    start: Start = None,
    end: End = None,
    allow_incomplete: AllowIncomplete = False,
    given: dict[str, Any] | None = None,
) -> None:
    """Rank the units of --areas (wards, LSOAs) by --offences; list streets and postcodes.

    Writes target_units.csv/.geojson (every unit ranked; the top --top-units chosen),
    target_streets.csv (address points and postcodes per street, or postcode sector for
    Code-Point Open), target_postcodes.csv (the postcode list for a social-media campaign),
    target_addresses.csv (house-to-house list), target.html (printable) and run.json.
    """
    settings = settings_from(given)
    folder = out_dir_for(out, "target")
    areas, area_field, addresses = settings.areas, settings.area_field, settings.addresses
    if areas is None:
        msg = "target ranks the units of an areas layer; add --areas FILE (e.g. wards)."
        raise OptionError(msg)
    import geopandas as gpd

    from hotspots._validate import check_choice
    from hotspots.target import MEASURES

    check_choice(measure, MEASURES, name="--measure")

    from hotspots.areas import read_areas
    from hotspots.cli.cmd_ingest import load_for_command
    from hotspots.cocoon import read_addresses
    from hotspots.harm import weigh_used
    from hotspots.outputs import build_provenance, write_csv, write_geojson, write_json
    from hotspots.outputs.publish import staged_outputs
    from hotspots.reports import check_coverage, period_from, write_html
    from hotspots.schema import OFFENCE
    from hotspots.spots import offences_used
    from hotspots.target import rank_units, unique_unit_names  # noqa: I001

    ingested = load_for_command(inputs, settings.ingest, out_dir=None)
    incidents = ingested.incidents
    wanted = list(offences_used(incidents, settings.spots))
    chosen = incidents[incidents[OFFENCE].isin(wanted).to_numpy()]
    weighting = weigh_used(chosen, settings.harm, used=wanted)
    weighted, table = weighting.incidents, weighting.table
    raw = read_areas_raw(areas)
    notes: list[str] = list(weighting.notes)
    if area_field is not None and area_field in raw.columns:
        raw, renamed = unique_unit_names(raw, area_field=area_field)
        notes += renamed
    units = read_areas(raw if area_field is not None else areas, area_field=area_field,
                       working_crs=weighted.crs, what=f"--areas file {areas}")  # fmt: skip
    period = period_from(incidents, start=start, end=end)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        check_coverage(incidents, [period], allow_incomplete=allow_incomplete)
    notes += [str(w.message) for w in caught]
    addr = None
    if addresses is not None:
        cocoon = settings.cocoon
        addr, _rejected = read_addresses(
            addresses, x_col=cocoon.address_x_col, y_col=cocoon.address_y_col,
            crs=cocoon.address_crs, id_col=cocoon.address_id_col, working_crs=weighted.crs,
        )  # fmt: skip
    result = rank_units(weighted, units, period=period, offences=wanted, measure=measure,  # type: ignore[arg-type]
                        addresses=addr, top=top_units)  # fmt: skip
    all_notes = [*notes, *result.notes]
    unit_label = area_field or "Area"
    parameters = {
        "areas": str(areas), "area_field": area_field, "offences": wanted, "measure": measure,
        "top_units": top_units, "addresses": str(addresses) if addresses else None, "start": start,
        "end": end, "allow_incomplete": allow_incomplete, "harm_table": table.name,
        "harm_map": settings.harm.mapping, "harm_unknown": settings.harm.harm_unknown,
    }  # fmt: skip
    provenance = build_provenance(
        command="target",
        parameters=parameters,
        inputs=[*(f["path"] for f in ingested.report.files), areas, *[p for p in [addresses] if p]],
        extra={"ingest": ingested.report.to_dict(), "harm_table": table.to_dict(),
               "target": {**result.summary(), "notes": all_notes}},
    )  # fmt: skip
    footer = (
        f"hotspots {provenance['software']['version']}, run {provenance['run_at']}; "
        f"{ingested.report.time_resolution} data. Addresses hold personal data: handle as "
        f"OFFICIAL-SENSITIVE."
    )
    shown = dataclasses.replace(result, notes=all_notes)
    with staged_outputs(folder, owned=TARGET_OUTPUTS) as stage:
        plain = result.ranking.drop(columns=result.ranking.geometry.name)
        write_csv(plain, stage / "target_units.csv")
        write_geojson(gpd.GeoDataFrame(result.ranking), stage / "target_units.geojson",
                      metadata={"command": "target", **result.summary()})  # fmt: skip
        if addresses is not None:
            write_csv(result.streets, stage / "target_streets.csv")
            write_csv(result.postcodes, stage / "target_postcodes.csv")
            write_csv(result.addresses, stage / "target_addresses.csv")
        write_html(stage / "target.html",
                   render_target_html(shown, unit_label=unit_label, footer=footer))  # fmt: skip
        write_json(stage / "run.json", provenance)
        names = sorted(p.name for p in stage.iterdir())
    view = Table(title=f"Top {unit_label} by {measure}: {', '.join(wanted)}", title_justify="left")
    cols = ["rank", "area", "count", "harm"] + (
        ["n_address_points", "n_postcodes"] if addr is not None else []
    )
    for c in cols:
        view.add_column(c, justify="left" if c == "area" else "right")
    for rec in result.ranking[result.ranking["chosen"]].to_dict("records"):
        view.add_row(*[escape(_fmt(rec[c]) if c != "area" else str(rec[c])) for c in cols])
    console.print(
        f"Window {escape(period.describe())} ({period.start:%Y-%m-%d} to {period.end:%Y-%m-%d})."
    )
    console.print(view)
    for note in all_notes:
        console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    console.print("Wrote " + ", ".join(escape(n) for n in names))


def read_areas_raw(path: Path) -> Any:
    """The areas file as it is (names untouched), for the duplicate-name check."""
    from hotspots.areas import read_areas
    from hotspots.errors import InputError

    if not path.exists():
        msg = f"--areas file {path} does not exist; check the path."
        raise InputError(msg)
    import geopandas as gpd

    try:
        return (
            gpd.read_file(path, engine="pyogrio")
            if path.suffix.lower() != ".parquet"
            else gpd.read_parquet(path)
        )
    except Exception:  # noqa: BLE001 - let read_areas give its one-line message
        return read_areas(path, area_field=None, working_crs=27700)
