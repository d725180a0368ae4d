"""``hotspots weekly``: everything for Monday's tasking meeting in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from hotspots.cli._app import app, console, progress_reporter
from hotspots.cli._options import (
    AreaField,
    AreasFile,
    AsOf,
    Boundary,
    Crs,
    IdCol,
    Inputs,
    LocationCol,
    Offence,
    OffenceCol,
    TimeCol,
    TimeFormat,
    TimeToCol,
    WorkingCrs,
    XCol,
    YCol,
)
from hotspots.config import load_toml
from hotspots.errors import OptionError

__all__ = ["show_weekly_summary", "weekly"]

_SP = "Harm spots"
_CO = "Cocoons and Knox"
_OUT = "Outputs"


def _floats(text: str | None, *, name: str) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError as exc:
        msg = f"{name} must be comma-separated numbers such as 0,100,200; got {text!r}."
        raise OptionError(msg) from exc


@app.command("weekly")
def weekly(
    inputs: Inputs,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("maps/weekly"),
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="TOML file with any of these options (flag names with _ for -); "
            "flags given on the command line win.",
        ),
    ] = None,
    as_of: AsOf = None,
    areas: AreasFile = None,
    area_field: AreaField = None,
    harm_table: Annotated[
        str | None,
        typer.Option(
            "--harm-table",
            help="cchi-2026-police-uk (default), cchi-2026-subgroups, a CSV "
            "offence,weight, or count.",
        ),
    ] = None,
    addresses: Annotated[
        Path | None,
        typer.Option(
            "--addresses",
            help="Address points for cocoon visit lists (CSV/GeoPackage/GeoJSON).",
            rich_help_panel=_CO,
        ),
    ] = None,
    address_x_col: Annotated[
        str | None, typer.Option("--address-x-col", rich_help_panel=_CO, help="Address x column.")
    ] = None,
    address_y_col: Annotated[
        str | None, typer.Option("--address-y-col", rich_help_panel=_CO, help="Address y column.")
    ] = None,
    address_id_col: Annotated[
        str | None, typer.Option("--address-id-col", rich_help_panel=_CO, help="Address id column.")
    ] = None,
    address_crs: Annotated[
        str | None,
        typer.Option("--address-crs", rich_help_panel=_CO, help="CRS of the address x/y."),
    ] = None,
    visits: Annotated[
        Path | None,
        typer.Option(
            "--visits",
            help="Cocoon visit log: address id or location, time, outcome.",
            rich_help_panel=_CO,
        ),
    ] = None,
    patrols: Annotated[
        Path | None,
        typer.Option(
            "--patrols",
            help="Patrol/interaction log: time, location or spot id, minutes, activity.",
            rich_help_panel=_SP,
        ),
    ] = None,
    month_dates: Annotated[
        str | None,
        typer.Option(
            "--month-dates",
            help="Date monthly (police.uk) burglaries at the month's start, mid "
            "or end so cocoon zones can be made; recorded in the outputs.",
            rich_help_panel=_CO,
        ),
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(
            "--method", help="grid (default), hex, dbscan or gistar.", rich_help_panel=_SP
        ),
    ] = None,
    cell_m: Annotated[
        float | None,
        typer.Option("--cell-m", help="Cell size in metres (default 150).", rich_help_panel=_SP),
    ] = None,
    lookback_days: Annotated[
        int | None,
        typer.Option(
            "--lookback-days", help="Days of data ranked (default 365).", rich_help_panel=_SP
        ),
    ] = None,
    offences: Annotated[
        str | None,
        typer.Option(
            "--offences",
            help="Comma-separated categories ranked (default: violence and sexual "
            "offences, robbery, possession of weapons, drugs).",
            rich_help_panel=_SP,
        ),
    ] = None,
    top: Annotated[
        int | None,
        typer.Option(
            "--top",
            help="Spots to pick: per area with --areas (default 5), else overall (default 20).",
            rich_help_panel=_SP,
        ),
    ] = None,
    harm_share: Annotated[
        float | None,
        typer.Option(
            "--harm-share",
            help="Instead of --top: fewest spots holding this share of harm (0-1).",
            rich_help_panel=_SP,
        ),
    ] = None,
    max_area_km2: Annotated[
        float | None,
        typer.Option(
            "--max-area-km2", help="Cap on the total area of the chosen spots.", rich_help_panel=_SP
        ),
    ] = None,
    visit_minutes: Annotated[
        int | None,
        typer.Option(
            "--visit-minutes",
            help="Length of each planned patrol visit (default 15).",
            rich_help_panel=_SP,
        ),
    ] = None,
    crossover: Annotated[
        bool | None,
        typer.Option(
            "--crossover/--no-crossover",
            help="Leave a seeded random half of spot-days unpatrolled to measure the effect.",
            rich_help_panel=_SP,
        ),
    ] = None,
    gistar_permutations: Annotated[
        int | None,
        typer.Option(
            "--gistar-permutations",
            help="Gi* (--method gistar) permutations; 0 (default) uses analytic p-values, "
            "which a force-sized grid needs to pass the false-discovery control.",
            rich_help_panel=_SP,
        ),
    ] = None,
    radius_m: Annotated[
        float | None,
        typer.Option("--radius-m", help="Cocoon radius (default 400).", rich_help_panel=_CO),
    ] = None,
    window_days: Annotated[
        int | None,
        typer.Option("--window-days", help="Zone life (default 42).", rich_help_panel=_CO),
    ] = None,
    due_hours: Annotated[
        float | None,
        typer.Option(
            "--due-hours",
            help="Visit deadline after the burglary (default 48).",
            rich_help_panel=_CO,
        ),
    ] = None,
    nearest: Annotated[
        int | None,
        typer.Option(
            "--nearest", help="Nearest homes marked mandatory (default 8).", rich_help_panel=_CO
        ),
    ] = None,
    knox: Annotated[
        bool | None,
        typer.Option(
            "--knox/--no-knox",
            help="Run the Knox test when dates are day-level or exact (default on).",
            rich_help_panel=_CO,
        ),
    ] = None,
    distance_bands_m: Annotated[
        str | None,
        typer.Option(
            "--distance-bands-m",
            help="Knox distance band edges (default 0,100,200,300,400).",
            rich_help_panel=_CO,
        ),
    ] = None,
    time_bands_days: Annotated[
        str | None,
        typer.Option(
            "--time-bands-days",
            help="Knox time band edges (default 0,7,14,21,28,35,42).",
            rich_help_panel=_CO,
        ),
    ] = None,
    permutations: Annotated[
        int | None,
        typer.Option(
            "--permutations",
            help="Knox Monte Carlo permutations (default 999).",
            rich_help_panel=_CO,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Random seed (default 0; written into the outputs)."),
    ] = None,
    public: Annotated[
        bool | None,
        typer.Option(
            "--public/--internal",
            help="Shareable outputs: no address lists, points generalised "
            "to the grid, counts below 3 hidden.",
            rich_help_panel=_OUT,
        ),
    ] = None,
    tiles: Annotated[
        bool | None,
        typer.Option(
            "--tiles/--no-tiles",
            help="OpenStreetMap background (default on); --no-tiles for networks without internet.",
            rich_help_panel=_OUT,
        ),
    ] = None,
    offline_assets: Annotated[
        Path | None,
        typer.Option(
            "--offline-assets",
            help="Folder of Leaflet/plugin JS and CSS to inline so the map works "
            "with no internet (see scripts/fetch-offline-assets).",
            rich_help_panel=_OUT,
        ),
    ] = None,
    map_addresses: Annotated[
        bool | None,
        typer.Option(
            "--map-addresses/--no-map-addresses",
            help="Show the homes on live zones' visit lists on the map (never in --public).",
            rich_help_panel=_OUT,
        ),
    ] = None,
    title: Annotated[
        str | None, typer.Option("--title", help="Map title.", rich_help_panel=_OUT)
    ] = None,
    x_col: XCol = None,
    y_col: YCol = None,
    crs: Crs = None,
    time_col: TimeCol = None,
    time_format: TimeFormat = None,
    time_to_col: TimeToCol = None,
    offence_col: OffenceCol = None,
    offence: Offence = None,
    id_col: IdCol = None,
    location_col: LocationCol = None,
    boundary: Boundary = None,
    tz: Annotated[
        str | None,
        typer.Option("--tz", help="Time zone of timestamps without one (default Europe/London)."),
    ] = None,
    working_crs: WorkingCrs = None,
) -> None:
    """Run ingest, harm spots, Knox, cocoons and write the map, lists and layers.

    Writes map.html, harm_spots.geojson/.csv, patrol_plan.csv, cocoon_zones.geojson,
    cocoon_visits.csv, cocoon_lists/<area>.html, knox.csv (day-level data), hotspots.gpkg
    (EPSG:27700), rejected.csv and run.json into --out, all at once when the run succeeds.
    """
    from hotspots.pipeline import WeeklySettings, run_weekly

    cli_values: dict[str, Any] = {
        "as_of": as_of,
        "areas": areas,
        "area_field": area_field,
        "harm_table": harm_table,
        "addresses": addresses,
        "address_x_col": address_x_col,
        "address_y_col": address_y_col,
        "address_id_col": address_id_col,
        "address_crs": address_crs,
        "visits": visits,
        "patrols": patrols,
        "month_dates": month_dates,
        "method": method,
        "cell_m": cell_m,
        "lookback_days": lookback_days,
        "offences": offences,
        "top": top,
        "harm_share": harm_share,
        "max_area_km2": max_area_km2,
        "visit_minutes": visit_minutes,
        "crossover": crossover,
        "gistar_permutations": gistar_permutations,
        "map_addresses": map_addresses,
        "radius_m": radius_m,
        "window_days": window_days,
        "due_hours": due_hours,
        "nearest": nearest,
        "knox": knox,
        "distance_bands_m": _floats(distance_bands_m, name="--distance-bands-m"),
        "time_bands_days": _floats(time_bands_days, name="--time-bands-days"),
        "permutations": permutations,
        "seed": seed,
        "public": public,
        "tiles": tiles,
        "offline_assets": offline_assets,
        "title": title,
        "x_col": x_col,
        "y_col": y_col,
        "crs": crs,
        "time_col": time_col,
        "time_format": time_format,
        "time_to_col": time_to_col,
        "offence_col": offence_col,
        "offence": offence,
        "id_col": id_col,
        "location_col": location_col,
        "boundary": boundary,
        "tz": tz,
        "working_crs": working_crs,
    }
    values = load_toml(config) if config is not None else {}
    values.update({k: v for k, v in cli_values.items() if v is not None})
    settings = WeeklySettings.from_mapping(values, source=str(config) if config else "options")
    with progress_reporter() as progress:
        result = run_weekly(inputs, out=out, settings=settings, progress=progress)
    show_weekly_summary(result.summary, result.files)


def show_weekly_summary(summary: dict[str, Any], files: dict[str, Path]) -> None:
    """Print the headline figures and the files written."""
    ingest = summary.get("ingest", {})
    console.print(
        f"[bold]Read[/] {ingest.get('n_read', '?'):,} rows, kept {ingest.get('n_kept', '?'):,}, "
        f"rejected {sum(ingest.get('rejected_by_reason', {}).values()):,} "
        f"({ingest.get('time_resolution', '?')} resolution, {ingest.get('crs', '?')}); "
        f"as of {summary['as_of']:%Y-%m-%d %H:%M}."
    )
    spots = summary.get("spots", {})
    if spots.get("headline"):
        console.print(f"[bold]Harm spots:[/] {spots['headline']}")
    cocoon = summary.get("cocoon", {})
    if "skipped" in cocoon:
        console.print(f"[bold]Cocoons:[/] skipped. {cocoon['skipped']}")
    else:
        console.print(
            f"[bold]Cocoons:[/] {cocoon.get('zones', 0)} live zones "
            f"{cocoon.get('by_status', {})}; visit lists {cocoon.get('visit_lists')}."
        )
    knox = summary.get("knox", {})
    console.print(f"[bold]Knox:[/] {knox.get('skipped') or knox.get('text', '')}")
    table = Table(title="Files written", show_header=False, box=None)
    for name, path in files.items():
        table.add_row(name, str(path))
    console.print(table)
