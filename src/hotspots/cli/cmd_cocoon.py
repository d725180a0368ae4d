"""``hotspots cocoon``: cocoon zones, visit lists and compliance (registers on the shared app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from hotspots._time import parse_as_of
from hotspots._validate import check_choice
from hotspots.cli._app import app, console, progress_reporter
from hotspots.cli._options import (
    AreaField,
    AreasFile,
    Inputs,
    OutDir,
    with_ingest_options,
)
from hotspots.cocoon.zones import DWELLING_NOTE, MONTH_DATES
from hotspots.config import IngestOptions
from hotspots.errors import OptionError
from hotspots.schema import OCCURRED_AT

__all__ = ["cocoon", "parse_as_of"]

_CO = "Cocoon zones"
_AD = "Addresses and visits"


@app.command()
@with_ingest_options
def cocoon(
    inputs: Inputs,
    as_of: Annotated[
        str,
        typer.Option(
            "--as-of",
            help="Date (YYYY-MM-DD, meaning the end of that day) or time the zones "
            "are for: burglaries in the --window-days before it open zones.",
            rich_help_panel=_CO,
        ),
    ],
    out: OutDir,
    radius_m: Annotated[
        float,
        typer.Option(
            "--radius-m", help="Zone radius around each burglary, metres.", rich_help_panel=_CO
        ),
    ] = 400.0,
    window_days: Annotated[
        int,
        typer.Option(
            "--window-days", help="Days a zone stays live after the burglary.", rich_help_panel=_CO
        ),
    ] = 42,
    due_hours: Annotated[
        float,
        typer.Option(
            "--due-hours",
            help="Hours after the burglary by which the zone must be visited.",
            rich_help_panel=_CO,
        ),
    ] = 48.0,
    month_dates: Annotated[
        str | None,
        typer.Option(
            "--month-dates",
            help="For month-only dates (police.uk): date each burglary at the "
            "start, mid or end of its month. Recorded in the outputs.",
            rich_help_panel=_CO,
            show_default=False,
        ),
    ] = None,
    areas: AreasFile = None,
    area_field: AreaField = None,
    addresses: Annotated[
        Path | None,
        typer.Option(
            "--addresses",
            help="Address points for visit lists (CSV with coordinates, "
            "e.g. OS Code-Point Open or UPRN points; GeoPackage; GeoJSON).",
            rich_help_panel=_AD,
        ),
    ] = None,
    address_x_col: Annotated[
        str | None,
        typer.Option(
            "--address-x-col",
            help="Easting/longitude column of --addresses (default: detected).",
            rich_help_panel=_AD,
        ),
    ] = None,
    address_y_col: Annotated[
        str | None,
        typer.Option(
            "--address-y-col",
            help="Northing/latitude column of --addresses (default: detected).",
            rich_help_panel=_AD,
        ),
    ] = None,
    address_id_col: Annotated[
        str | None,
        typer.Option(
            "--address-id-col",
            help="Address id column (default: address_id/uprn/id; "
            "the postcode for Code-Point Open).",
            rich_help_panel=_AD,
        ),
    ] = None,
    address_crs: Annotated[
        str | None,
        typer.Option(
            "--address-crs",
            help="CRS of the address coordinates (default: detected).",
            rich_help_panel=_AD,
        ),
    ] = None,
    address_cache_dir: Annotated[
        Path | None,
        typer.Option(
            "--address-cache-dir",
            help="Folder for an on-disk R-tree of --addresses, reused by later runs "
            "(rebuilt automatically when the address points change).",
            rich_help_panel=_AD,
        ),
    ] = None,
    nearest: Annotated[
        int,
        typer.Option(
            "--nearest",
            help="The N nearest homes of each zone are mandatory visits.",
            rich_help_panel=_AD,
        ),
    ] = 8,
    burgled_within_m: Annotated[
        float,
        typer.Option(
            "--burgled-within-m",
            help="The address nearest each burglary, if this close (metres), is taken as the "
            "burgled home: flagged, never a target. 0 turns this off.",
            rich_help_panel=_AD,
        ),
    ] = 15.0,
    visits: Annotated[
        Path | None,
        typer.Option(
            "--visits",
            help="Visit log CSV (address_id or coordinates, visited_at, outcome) for compliance.",
            rich_help_panel=_AD,
        ),
    ] = None,
    options: IngestOptions = IngestOptions(),
) -> None:
    """Open a cocoon zone around each recent dwelling burglary and list the homes to visit.

    Writes cocoon_zones.geojson (RFC 7946) and cocoon_zones_merged.geojson; with
    --addresses also cocoon_visits.csv, cocoon_team_lists.csv and cocoon_streets.csv; with
    --visits cocoon_compliance.csv, cocoon_compliance_areas.csv and cocoon_overdue.csv;
    always rejected.csv and run.json.
    """
    from hotspots import cocoon as cc
    from hotspots.areas import read_areas
    from hotspots.cli.cmd_ingest import load_for_command
    from hotspots.outputs import build_provenance, write_csv, write_json

    if month_dates is not None:
        check_choice(month_dates, MONTH_DATES, name="--month-dates")
    out.mkdir(parents=True, exist_ok=True)
    ingested = load_for_command(inputs, options, out_dir=out)
    incidents = ingested.incidents
    when = parse_as_of(as_of, incidents[OCCURRED_AT].dt.tz)
    area_layer = (
        read_areas(areas, area_field=area_field, working_crs=incidents.crs)
        if areas is not None
        else None
    )
    written: dict[str, Path] = {}
    address_layer = index = None
    notes: list[str] = []
    with progress_reporter() as progress:
        if addresses is not None:
            progress("reading addresses", 0, 1)
            address_layer, rejected_addresses = cc.read_addresses(
                addresses,
                x_col=address_x_col,
                y_col=address_y_col,
                crs=address_crs,
                id_col=address_id_col,
                working_crs=incidents.crs,
            )
            if len(rejected_addresses):
                written["rejected_addresses"] = write_csv(
                    rejected_addresses, out / "rejected_addresses.csv"
                )
                notes.append(
                    f"{len(rejected_addresses):,} address rows rejected "
                    f"(see rejected_addresses.csv)"
                )
            index = cc.AddressIndex(address_layer, cache_dir=address_cache_dir)
            progress("reading addresses", 1, 1)
        progress("cocoon zones", 0, 1)
        zones = cc.cocoon_zones(
            incidents,
            as_of=when,
            radius_m=radius_m,
            window_days=window_days,
            due_hours=due_hours,
            month_dates=month_dates,  # type: ignore[arg-type]
            areas=area_layer,
            addresses=index,
        )
        progress("cocoon zones", 1, 1)
        visit_list = result = None
        if index is not None:
            progress("visit lists", 0, 1)
            visit_list = cc.visit_lists(
                zones,
                index,
                radius_m=radius_m,
                nearest=nearest,
                burgled_within_m=burgled_within_m,
            )
            progress("visit lists", 1, 1)
        else:
            notes.append("visit lists need an address layer: pass --addresses FILE")
        if visits is not None:
            if index is None:
                msg = "--visits needs --addresses (visits are matched to address points)."
                raise OptionError(msg)
            visit_log, rejected_visits = cc.read_visits(visits, addresses=index)
            if len(rejected_visits):
                written["rejected_visits"] = write_csv(rejected_visits, out / "rejected_visits.csv")
                notes.append(
                    f"{len(rejected_visits):,} visit rows rejected (see rejected_visits.csv)"
                )
            result = cc.compliance(zones, visit_list, visit_log, as_of=when)
            first = result.per_zone.set_index("zone_id")["first_visit_at"]
            zones = cc.cocoon_zones(
                incidents,
                as_of=when,
                radius_m=radius_m,
                window_days=window_days,
                due_hours=due_hours,
                month_dates=month_dates,  # type: ignore[arg-type]
                areas=area_layer,
                addresses=index,
                first_visits=first,
            )
    parameters = {
        "as_of": when,
        "radius_m": radius_m,
        "window_days": window_days,
        "due_hours": due_hours,
        "month_dates": month_dates,
        "areas": areas,
        "area_field": area_field,
        "addresses": addresses,
        "address_x_col": address_x_col,
        "address_y_col": address_y_col,
        "address_id_col": address_id_col,
        "address_crs": address_crs,
        "address_cache_dir": address_cache_dir,
        "nearest": nearest,
        "burgled_within_m": burgled_within_m,
        "visits": visits,
        "working_crs": incidents.crs.to_string(),
    }
    input_files = [f["path"] for f in ingested.report.files]
    extra_inputs = [p for p in (areas, addresses, visits) if p is not None]
    summary = _summary(zones, visit_list, result, month_dates, notes)
    provenance = build_provenance(
        command="cocoon",
        parameters=parameters,
        inputs=[*input_files, *extra_inputs],
        extra={"ingest": ingested.report.to_dict(), "cocoon": summary},
    )
    written.update(cc.write_cocoon_outputs(zones, visit_list, result, out, provenance=provenance))
    written["run"] = write_json(out / "run.json", provenance)
    _show(zones, visit_list, result, summary, written)


def _summary(
    zones: Any, visit_list: Any, result: Any, month_dates: str | None, notes: list[str]
) -> dict[str, Any]:
    from hotspots.schema import AREA_NAME, IS_BURGLED, N_HOMES, STATUS

    out: dict[str, Any] = {
        "zones": len(zones),
        "by_status": {str(k): int(v) for k, v in zones[STATUS].value_counts().sort_index().items()},
        "by_area": {
            str(k): int(v) for k, v in zones[AREA_NAME].value_counts().sort_index().items()
        },
        "month_dates": month_dates,
        "homes_in_zones": (
            None if zones[N_HOMES].isna().all() else int(zones[N_HOMES].fillna(0).sum())
        ),
        "visit_rows": (
            None
            if visit_list is None
            else int((~visit_list[IS_BURGLED].to_numpy(dtype=bool)).sum())
        ),
        "notes": notes,
    }
    if (zones[DWELLING_NOTE] != "").any():
        out["notes"] = [
            *out["notes"],
            "police.uk 'Burglary' includes non-dwelling burglary: "
            "zones marked in dwelling_note may not be homes",
        ]
    if month_dates and visit_list is not None:
        out["notes"] = [
            *out["notes"],
            "police.uk points are snapped to anonymous map points, so the address flagged "
            "as burgled is only the one nearest that point (--burgled-within-m 0 turns the "
            "flag off)",
        ]
    if month_dates:
        out["notes"] = [
            *out["notes"],
            f"police.uk dates are months; each burglary was dated "
            f"at the "
            f"{month_dates} of its month (--month-dates {month_dates})",
        ]
    if result is not None:
        out["compliance"] = result.overall
    return out


def _show(
    zones: Any, visit_list: Any, result: Any, summary: dict[str, Any], written: dict[str, Path]
) -> None:
    from hotspots.schema import AREA_NAME, N_HOMES, STATUS

    table = Table(title=f"Cocoon zones: {len(zones):,} live")
    for col in ("area", "zones", "due", "overdue", "visited", "active", "homes"):
        table.add_column(col, justify="left" if col == "area" else "right")
    for area, group in zones.groupby(AREA_NAME, sort=True):
        counts = group[STATUS].value_counts()
        homes = "-" if group[N_HOMES].isna().all() else f"{int(group[N_HOMES].sum()):,}"
        table.add_row(
            str(area),
            f"{len(group):,}",
            *(f"{int(counts.get(s, 0)):,}" for s in ("due", "overdue", "visited", "active")),
            homes,
        )
    console.print(table)
    if result is not None:
        o = result.overall
        share = "-" if o["share"] is None else f"{o['share']:.0%}"
        console.print(
            f"[bold]Compliance:[/] {o['cocooned_in_time']:,} of {o['decided']:,} "
            f"decided zones cocooned within the deadline ({share}); "
            f"{o['overdue_now']:,} overdue now, {o['due_now']:,} still due."
        )
    for note in summary["notes"]:
        console.print(f"[yellow]Note:[/] {note}")
    for name, path in written.items():
        console.print(f"  {name}: {path}")
