"""``hotspots ingest``: read incident files into one checked GeoParquet, with a summary.

Also home of the two helpers every other command uses to read its incidents:
:func:`load_for_command` (read with a progress bar, print the summary, write
``rejected.csv``) and :func:`show_ingest_report` (the summary itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from hotspots.cli._app import app, console, progress_reporter
from hotspots.cli._options import (
    Inputs,
    with_ingest_options,
)
from hotspots.config import IngestOptions
from hotspots.errors import OptionError
from hotspots.ingest import (
    IngestReport,
    IngestResult,
    read_incidents,
    weigh_at_ingest,
    write_rejected,
)
from hotspots.ingest._write import write_ingest_outputs
from hotspots.outputs.provenance import build_provenance

__all__ = ["REJECTED_CSV", "ingest", "load_for_command", "parse_harm_map", "show_ingest_report"]

REJECTED_CSV = "rejected.csv"
_HARM = "Harm weights at ingest (optional)"


def _when(stamp: Any) -> str:
    return "-" if stamp is None else stamp.strftime("%Y-%m-%d %H:%M %Z")


def show_ingest_report(report: IngestReport) -> None:
    """Print the ingest summary: rows read/kept/rejected by reason, dates, resolution, CRS."""
    table = Table(title="Ingest", show_header=False, title_justify="left", box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    files = report.files
    formats = sorted({str(f.get("format", "?")) for f in files})
    table.add_row("files", f"{len(files):,} ({', '.join(formats)})")
    table.add_row("rows read", f"{report.n_read:,}")
    table.add_row("rows kept", f"{report.n_kept:,}")
    rejected = {k: v for k, v in report.rejected_by_reason.items() if v}
    total = sum(rejected.values())
    table.add_row(
        "rows rejected",
        f"{total:,}"
        + (" (" + ", ".join(f"{k} {v:,}" for k, v in rejected.items()) + ")" if rejected else ""),
    )
    table.add_row("dates", f"{_when(report.date_min)} to {_when(report.date_max)}")
    table.add_row("time resolution", report.time_resolution)
    table.add_row("working CRS", report.crs)
    console.print(table)
    for note in report.notes:
        console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)


def load_for_command(
    inputs: Sequence[str | Path], options: IngestOptions | None, *, out_dir: Path | None
) -> IngestResult:
    """Read incidents for a CLI command: progress bar, summary, ``rejected.csv`` in out_dir."""
    with progress_reporter() as progress:
        result = read_incidents(list(inputs), options, progress=progress)
    show_ingest_report(result.report)
    if out_dir is not None:
        path = write_rejected(result.rejected, Path(out_dir) / REJECTED_CSV)
        if len(result.rejected):
            console.print(f"Rejected rows with reasons: {escape(str(path))}")
    return result


def parse_harm_map(pairs: Sequence[str] | None) -> dict[str, str]:
    """``["BATTERY=Violence and sexual offences", ...]`` -> mapping (data value -> table)."""
    mapping: dict[str, str] = {}
    for pair in pairs or ():
        source, sep, target = pair.partition("=")
        if not sep or not source.strip() or not target.strip():
            msg = (
                f"--harm-map {pair!r} must look like 'DATA VALUE=Table offence', e.g. "
                f"--harm-map 'BATTERY=Violence and sexual offences'."
            )
            raise OptionError(msg)
        mapping[source.strip()] = target.strip()
    return mapping


@app.command("ingest")
@with_ingest_options
def ingest(
    inputs: Inputs,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="GeoParquet file to write, e.g. essex.parquet; <name>.rejected.csv and "
            "<name>.run.json are written beside it, as one unit.",
        ),
    ],
    harm_table: Annotated[
        str | None,
        typer.Option(
            "--harm-table",
            help="Also weight offences: cchi-2026-police-uk, cchi-2026-subgroups, "
            "count, or a CSV offence,weight. Rows whose offence it lacks are rejected "
            "(unknown_offence).",
            rich_help_panel=_HARM,
        ),
    ] = None,
    harm_map: Annotated[
        list[str] | None,
        typer.Option(
            "--harm-map",
            help="Map a data value to a table offence, 'DATA=Table offence' (repeatable).",
            rich_help_panel=_HARM,
        ),
    ] = None,
    harm_unknown: Annotated[
        str,
        typer.Option(
            "--harm-unknown",
            help="Offences the harm table lacks: reject (default) or zero.",
            rich_help_panel=_HARM,
        ),
    ] = "reject",
    options: IngestOptions = IngestOptions(),
) -> None:
    """Read incident files (police.uk folders, exports) into one checked GeoParquet.

    Prints rows read / kept / rejected by reason, the date range, time resolution and
    working CRS; every rejected row is in <name>.rejected.csv with its reason.
    """
    from hotspots.harm import load_harm_table

    if out.suffix.lower() != ".parquet":
        msg = f"--out must be a .parquet file (GeoParquet), e.g. essex.parquet; got {out}."
        raise OptionError(msg)
    if harm_unknown not in ("reject", "zero"):
        msg = f"--harm-unknown must be one of ('reject', 'zero'); got {harm_unknown!r}."
        raise OptionError(msg)
    mapping = parse_harm_map(harm_map)
    if mapping and harm_table is None:
        msg = "--harm-map needs --harm-table (the table the values are mapped into)."
        raise OptionError(msg)
    table = load_harm_table(harm_table) if harm_table is not None else None
    with progress_reporter() as progress:
        result = read_incidents(list(inputs), options, progress=progress)
    if table is not None:
        result = weigh_at_ingest(
            result, table, mapping=mapping, unknown="zero" if harm_unknown == "zero" else "reject"
        )
    show_ingest_report(result.report)

    parameters: dict[str, Any] = {
        k: (str(v) if isinstance(v, Path) else v) for k, v in vars(options).items()
    }
    parameters.update(
        harm_table=harm_table,
        harm_map=mapping or None,
        harm_unknown=harm_unknown if table is not None else None,
        out=str(out),
    )
    extra: dict[str, Any] = {
        "ingest": result.report.to_dict(),
        "date_min": result.report.date_min,
        "date_max": result.report.date_max,
        "time_resolution": result.report.time_resolution,
    }
    if table is not None:
        extra["harm_table"] = {
            "name": table.name,
            "version": table.version,
            "source": table.source,
            "licence": table.licence,
        }
    record = build_provenance(
        command="ingest",
        parameters=parameters,
        inputs=[f["path"] for f in result.report.files],
        extra=extra,
    )
    written = write_ingest_outputs(result.incidents, result.rejected, record, out)
    rejected_path, run_path = written["rejected"], written["run"]
    console.print(
        f"Wrote {escape(str(out))} ({result.report.n_kept:,} incidents), "
        f"{escape(str(rejected_path))} ({len(result.rejected):,} rows), "
        f"{escape(str(run_path))}."
    )
