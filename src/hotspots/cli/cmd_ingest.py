"""``hotspots ingest``: read incident files into one checked GeoParquet, with a summary.

Also home of the two helpers every other command uses to read its incidents:
:func:`load_for_command` (read with a progress bar, print the summary, write
``rejected.csv``) and :func:`show_ingest_report` (the summary itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from hotspots.cli._app import app, console, progress_reporter
from hotspots.cli._options import Inputs, with_options
from hotspots.config import EngineOptions, HarmOptions, IngestOptions, engine_from, options_from
from hotspots.errors import OptionError

if TYPE_CHECKING:
    from hotspots.ingest import IngestReport, IngestResult

__all__ = ["REJECTED_CSV", "ingest", "load_for_command", "parse_harm_map", "show_ingest_report"]

REJECTED_CSV = "rejected.csv"


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
    inputs: Sequence[str | Path],
    options: IngestOptions | None,
    *,
    out_dir: Path | None,
    shown_dir: Path | None = None,
) -> IngestResult:
    """Read incidents for a CLI command: progress bar, summary, ``rejected.csv`` in out_dir.

    ``shown_dir`` is the folder named in the console line when ``out_dir`` is a staging
    folder whose files move there at the end of the command.
    """
    from hotspots.ingest import read_incidents, write_rejected

    with progress_reporter() as progress:
        result = read_incidents(list(inputs), options, progress=progress)
    show_ingest_report(result.report)
    if out_dir is not None:
        path = write_rejected(result.rejected, Path(out_dir) / REJECTED_CSV)
        if len(result.rejected):
            shown = Path(shown_dir) / path.name if shown_dir is not None else path
            console.print(f"Rejected rows with reasons: {escape(str(shown))}")
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
@with_options(IngestOptions, HarmOptions, EngineOptions)
def ingest(
    inputs: Inputs,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="GeoParquet file to write, e.g. essex.parquet; <name>.rejected.csv and "
            "<name>.run.json are written beside it, as one unit.",
        ),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            help="Ingest store folder (instead of --out): a GeoParquet dataset partitioned "
            "by source file, with manifest.json; a re-run parses only new or changed files "
            "and drops files no longer given. Every command reads the folder as its input.",
        ),
    ] = None,
    given: dict[str, Any] | None = None,
) -> None:
    """Read incident files (police.uk folders, exports) into one checked GeoParquet.

    Prints rows read / kept / rejected by reason, the date range, time resolution and
    working CRS; every rejected row is in <name>.rejected.csv with its reason. Any --harm-*
    option also adds a harm column (offences the table lacks: --harm-unknown). With
    --store DIR the rows go into an incremental store instead (see README).
    """
    from hotspots.harm import load_harm_table, weigh_used
    from hotspots.ingest import read_incidents, weigh_at_ingest, write_ingest_outputs
    from hotspots.outputs.provenance import build_provenance

    engine, values = engine_from(given or {})
    options = options_from(IngestOptions, values)
    harm = options_from(HarmOptions, values)
    if (out is None) == (store is None):
        msg = "Give exactly one of --out FILE.parquet or --store DIR (got both or neither)."
        raise OptionError(msg)
    if engine.is_dask and store is None:
        msg = "--engine dask writes an ingest store (one task per file): add --store DIR."
        raise OptionError(msg)
    if store is not None:
        _ingest_to_store(inputs, store, options, harm, values, engine)
        return
    assert out is not None
    if out.suffix.lower() != ".parquet":
        msg = f"--out must be a .parquet file (GeoParquet), e.g. essex.parquet; got {out}."
        raise OptionError(msg)
    weigh = any(k in values for k in ("harm_table", "harm_map", "harm_unknown"))
    table = load_harm_table(harm.harm_table) if weigh else None
    mapping = harm.mapping
    harm_table = harm.harm_table if weigh else None
    harm_unknown = harm.harm_unknown
    with progress_reporter() as progress:
        result = read_incidents(list(inputs), options, progress=progress)
    if table is not None:
        if harm_unknown == "raise":
            weigh_used(result.incidents, harm, used=None)  # stops, naming unknown offences
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


def _ingest_to_store(
    inputs: Sequence[str],
    store: Path,
    options: IngestOptions,
    harm: HarmOptions,
    values: Any,
    engine: EngineOptions,
) -> None:
    """``ingest --store``: update the store, print what was parsed, write DIR/run.json.

    With ``--engine dask`` each new or changed file is parsed (and weighed) by one Dask
    task writing its own partition; the manifest and run.json are written here after.
    """
    from hotspots.engine import open_engine, require_dask
    from hotspots.harm import load_harm_table, weigh_used
    from hotspots.ingest import read_incidents, read_store, update_store, weigh_at_ingest
    from hotspots.outputs.files import write_json
    from hotspots.outputs.provenance import build_provenance
    from hotspots.outputs.publish import staged_outputs

    weigh = any(k in values for k in ("harm_table", "harm_map", "harm_unknown"))
    table = load_harm_table(harm.harm_table) if weigh else None
    harm_record = (
        {"harm_table": harm.harm_table, "harm_map": harm.mapping or None,
         "harm_unknown": harm.harm_unknown}
        if table is not None
        else {}
    )  # fmt: skip

    def parse(path: Path) -> IngestResult:
        result = read_incidents([path], options)
        if table is None:
            return result
        if harm.harm_unknown == "raise":
            weigh_used(result.incidents, harm, used=None)
        return weigh_at_ingest(
            result,
            table,
            mapping=harm.mapping,
            unknown="zero" if harm.harm_unknown == "zero" else "reject",
        )

    if engine.is_dask:
        require_dask()
    with progress_reporter() as progress, open_engine(engine, progress=progress) as runner:
        update = update_store(
            list(inputs), store, options, fingerprint=harm_record, parse=parse,
            progress=progress, run_tasks=runner.map if runner.is_dask else None,
        )  # fmt: skip
        record_engine = runner.record
    result = read_store(store)
    show_ingest_report(result.report)
    if update.reparse_all:
        console.print(f"[yellow]note:[/] every file parsed again: {escape(update.reparse_all)}.")
    console.print(
        f"Store {escape(str(store))}: parsed {len(update.parsed):,} new or changed file(s), "
        f"{len(update.unchanged):,} unchanged (not parsed), dropped {len(update.dropped):,} "
        f"no longer given" + (": " + ", ".join(Path(p).name for p in update.dropped[:5])
                              if update.dropped else "") + "."
    )  # fmt: skip
    parameters: dict[str, Any] = {
        k: (str(v) if isinstance(v, Path) else v) for k, v in vars(options).items()
    }
    parameters.update(harm_record, store=str(store))
    record = build_provenance(
        command="ingest",
        parameters=parameters,
        inputs=[f["source_path"] for f in result.report.files],
        extra={
            "ingest": result.report.to_dict(),
            **update.to_dict(),
            "engine": record_engine,
            "date_min": result.report.date_min,
            "date_max": result.report.date_max,
            "time_resolution": result.report.time_resolution,
        },
    )
    with staged_outputs(store, owned=["run.json"]) as staging:
        write_json(staging / "run.json", record)
    console.print(
        f"Store holds {result.report.n_kept:,} incidents and {len(result.rejected):,} rejected "
        f"rows; wrote {escape(str(store / 'run.json'))}."
    )
