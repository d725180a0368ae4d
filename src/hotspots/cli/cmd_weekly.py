"""``hotspots weekly``: everything for Monday's tasking meeting in one command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from hotspots.cli._app import app, console, progress_reporter, stdout
from hotspots.cli._app import quiet as quiet_console
from hotspots.cli._options import Inputs, OutDir, with_options
from hotspots.cli._run import settings_from
from hotspots.config import (
    CocoonOptions,
    EngineOptions,
    HarmOptions,
    IngestOptions,
    KnoxOptions,
    OutputOptions,
    SpotOptions,
    engine_from,
)
from hotspots.schema import zones_phrase

__all__ = [
    "print_summary_json",
    "show_weekly_summary",
    "summary_payload",
    "weekly",
    "weekly_summary_lines",
]

_WEEKLY_GROUPS = (
    IngestOptions,
    HarmOptions,
    SpotOptions,
    KnoxOptions,
    CocoonOptions,
    OutputOptions,
)
_IN_REJECTED = ("incidents", "strays")  # both go to rejected.csv, each row with its reason
_WEEKLY_RUN = ("as_of", "areas", "area_field", "addresses", "visits", "patrols", "seed", "run_knox")


Quiet = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="Print nothing but errors (one line on standard error), for scheduled runs.",
    ),
]
AsJson = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print the run summary (run.json's summary, the folder and the files written) "
        "as JSON on standard output and nothing else; progress and notes are not shown.",
    ),
]


@app.command("weekly")
@with_options(*_WEEKLY_GROUPS, EngineOptions, run=_WEEKLY_RUN)
def weekly(
    inputs: Inputs,
    out: OutDir = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="TOML file with any of these options, out included (names with _ for -, "
            "flat or in tables named ingest, harm, spots, knox, cocoon, output); flags "
            "given on the command line win.",
        ),
    ] = None,
    quiet: Quiet = False,
    as_json: AsJson = False,
    given: dict[str, Any] | None = None,
) -> None:
    """Run ingest, harm spots, Knox, cocoons and write the map, lists and layers.

    Writes map.html, briefing.html, harm_spots.geojson/.csv, patrol_plan.csv,
    cocoon_zones.geojson, cocoon_visits.csv, cocoon_lists/<area>.html, knox.csv (day-level
    data), hotspots.gpkg (EPSG:27700), rejected.csv (and rejected_<input>.csv) and
    run.json into --out (default maps/weekly), all at once when the run succeeds. The
    summary goes to standard output, progress and notes to standard error.
    """
    engine, given = engine_from(given or {})
    settings = settings_from(given, config=config, out=out)

    from hotspots.engine import open_engine, require_dask
    from hotspots.national import run_force, run_national, run_single_force, several_forces

    if engine.is_dask:
        require_dask()  # one line before any input is read
    if several_forces(inputs):  # several police.uk forces: one run per force + national
        with (
            quiet_console(quiet or as_json),
            progress_reporter() as progress,
            open_engine(engine, progress=progress) as runner,
        ):
            national = run_national(
                inputs,
                settings=settings,
                progress=progress,
                run_tasks=runner.map if runner.is_dask else None,  # one Dask task per force
                engine=runner.record,
            )
        if as_json:
            payload = {
                "forces": {
                    force: summary_payload(r.out_dir, r.files)
                    for force, r in national.forces.items()
                },
                "files": {name: str(path) for name, path in national.files.items()},
            }
            typer.echo(json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False))
        elif not quiet:
            for force, force_result in national.forces.items():
                stdout.print(f"[bold]{escape(force)}[/] -> {escape(str(force_result.out_dir))}")
                show_weekly_summary(force_result.summary, {})
            stdout.print(
                f"[bold]National:[/] {len(national.forces)} forces, each ranked in its own "
                f"study area; {escape(str(national.files['national.csv']))}, "
                f"{escape(str(national.files['index.html']))}."
            )
        return
    with (
        quiet_console(quiet or as_json),
        progress_reporter() as progress,
        open_engine(engine, progress=progress) as runner,
    ):
        result = run_single_force(
            run_force, inputs, out_dir=settings.out, settings=settings,
            engine_record=runner.record, runner=runner, progress=progress, task="weekly run",
        )  # fmt: skip
    if as_json:
        print_summary_json(result.out_dir, result.files)
    elif not quiet:
        show_weekly_summary(result.summary, result.files)


def summary_payload(out_dir: Path, files: dict[str, Path]) -> dict[str, Any]:
    """A run's summary as written in run.json (public in --public), its folder and files."""
    run = json.loads((out_dir / "run.json").read_text(encoding="utf-8"))
    return {
        "out_dir": str(out_dir),
        "files": {name: str(path) for name, path in files.items()},
        "summary": run.get("summary", {}),
    }


def print_summary_json(out_dir: Path, files: dict[str, Path]) -> None:
    """The run's summary (:func:`summary_payload`) as one JSON document on stdout."""
    payload = summary_payload(out_dir, files)
    typer.echo(json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False))


def _count(n: object) -> str:
    return f"{n:,}" if isinstance(n, int) and not isinstance(n, bool) else str(n)


def _by_status(counts: dict[str, Any]) -> str:
    order = ("overdue", "due", "active", "visited")
    keys = [k for k in order if k in counts] + sorted(k for k in counts if k not in order)
    return ", ".join(f"{_count(counts[k])} {k}" for k in keys)


def weekly_summary_lines(summary: dict[str, Any]) -> list[str]:
    """The headline figures of a weekly run as plain sentences (no raw dicts)."""
    lines = []
    ingest = summary.get("ingest", {})
    rejected_rows = sum(
        v for v in ingest.get("rejected_by_reason", {}).values() if isinstance(v, int)
    )
    as_of = summary.get("as_of")
    when = f"{as_of:%Y-%m-%d %H:%M}" if hasattr(as_of, "strftime") else str(as_of)
    lines.append(
        f"Read {_count(ingest.get('n_read', '?'))} rows, kept {_count(ingest.get('n_kept', '?'))}, "
        f"rejected {_count(rejected_rows)} ({ingest.get('time_resolution', '?')} dates, "
        f"{ingest.get('crs', '?')}); as of {when}."
    )
    spots = summary.get("spots", {})
    if spots.get("headline"):
        lines.append(f"Harm spots: {spots['headline']}.")
    dosage = summary.get("patrol_dosage") or {}
    if dosage.get("text"):  # the log's latest complete week, as on the map and briefing
        lines.append(f"Patrol dosage: {str(dosage['text']).rstrip('.')}.")
    cocoon = summary.get("cocoon", {})
    if "skipped" in cocoon:
        lines.append(f"Cocoons: skipped. {cocoon['skipped']}")
    elif cocoon:
        zones = cocoon.get("zones", 0)
        status = _by_status(cocoon.get("by_status", {}))
        text = f"Cocoons: {zones_phrase(zones, cocoon.get('by_kind') or ['operational'])}"
        text += f" ({status})" if status else ""
        visit = cocoon.get("visit_lists")
        if visit == "written":
            rows = cocoon.get("visit_rows")
            text += (
                f"; visit lists written ({_count(rows)} addresses to visit)."
                if rows is not None
                else "; visit lists written."
            )
        elif visit:
            text += f"; visit lists {visit}."
        else:
            text += "."
        lines.append(text)
        compliance = cocoon.get("compliance")
        if isinstance(compliance, dict) and "decided" in compliance:
            share = compliance.get("share")
            pct = "-" if not isinstance(share, int | float) else f"{share:.0%}"
            lines.append(
                f"Compliance: {_count(compliance.get('cocooned_in_time', 0))} of "
                f"{_count(compliance['decided'])} decided zones cocooned within the deadline "
                f"({pct}); {_count(compliance.get('overdue_now', 0))} overdue now."
            )
    knox = summary.get("knox", {})
    if knox:
        lines.append(f"Knox: {knox.get('skipped') or knox.get('text', '')}".rstrip())
    rejected = {k: v for k, v in summary.get("rejected", {}).items() if v}
    if rejected:
        lines.append(
            "Rejected rows: "
            + ", ".join(
                f"{k} {_count(v)} (rejected{'' if k in _IN_REJECTED else '_' + k}.csv)"
                for k, v in rejected.items()
            )
            + "."
        )
    return lines


def show_weekly_summary(summary: dict[str, Any], files: dict[str, Path]) -> None:
    """Print the headline figures and files written on stdout, then the notes on stderr.

    No file list is printed when ``files`` is empty (a force's run inside a national one).
    """
    for line in weekly_summary_lines(summary):
        stdout.print(escape(line))
    if files:
        folder = next(iter(files.values())).parent
        stdout.print(
            f"Wrote {len(files)} outputs to {escape(str(folder))}: "
            + ", ".join(escape(name) for name in files)
        )
    for note in summary.get("notes", []):
        console.print(f"[yellow]note:[/] {escape(str(note))}", soft_wrap=True)
