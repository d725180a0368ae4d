"""The ingest store: parsed incidents kept as a partitioned GeoParquet dataset (private).

``hotspots ingest INPUT... --store DIR`` parses each source file once and keeps its
validated rows and its rejected rows; the next run parses only the files whose content
(SHA-256) is new or changed. Layout::

    DIR/manifest.json                               source path -> sha256, partition, counts
    DIR/incidents/force=<slug>/<file>-<sha12>.parquet   kept rows of one source file
    DIR/rejected/<file>-<sha12>.parquet             rejected rows of that file
    DIR/run.json                                    provenance of the last update

**Partitioned by source file** (grouped in hive folders by force): a monthly download
that changes replaces exactly its own partition, and a new month adds one, with no
re-partitioning of rows; the ``force=`` folders let a reader prune to one force. The
store **mirrors the inputs given**: a file no longer among the inputs loses its
partition (say so in the summary), so reading the store always equals reading the
inputs directly; give the whole download folder every week. Changing an ingest option
(or the hotspots version) re-parses every file.

Reading (:func:`read_store`, used by :func:`hotspots.ingest.read_incidents` when its
only input is a store folder) goes through a pyarrow dataset over the manifest's files
in order, with force and column pruning. Ids repeated across files are moved to the
rejected rows as ``duplicate_id``, as a joint read of the files would.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.dataset as ds

from hotspots.errors import InputError
from hotspots.ingest._files import force_slug
from hotspots.ingest._result import IngestReport, IngestResult, by_reason, kept_span
from hotspots.schema import (
    INCIDENT_ID,
    OCCURRED_AT,
    OCCURRED_TO,
    REJECT_DETAIL,
    REJECT_REASON,
    SOURCE_FILE,
    SOURCE_ROW,
    TIME_RESOLUTION,
)

__all__ = [
    "FORCE",
    "MANIFEST",
    "StoreUpdate",
    "files_by_force",
    "force_of_file",
    "is_store",
    "parse_into_partition",
    "read_store",
    "store_forces",
    "store_partitions",
    "update_store",
]

MANIFEST = "manifest.json"
STORE_FORMAT = "hotspots-store/1"
FORCE = "force"  # hive partition key of the store (police.uk force slug of a source file)
UNKNOWN_FORCE = "unknown"
_INCIDENTS = "incidents"
_REJECTED = "rejected"
# police.uk download names: 2025-01-essex-street.csv(.gz), 2025-01-metropolitan-street.csv
_POLICE_UK_NAME = re.compile(r"^\d{4}-\d{2}-(?P<force>[a-z0-9-]+?)-street\.csv(\.gz)?$", re.I)
_COUNTED_NOTE = re.compile(r"^(?P<n>\d[\d,]*) (?P<rest>rows .*)$")
_SET_ASIDE_NAME = re.compile(r"-(outcomes|stop-and-search)\.csv(\.gz)?$", re.I)


def force_of_file(name: str | os.PathLike[str]) -> str:
    """The police.uk force slug in a download's file name, else ``"unknown"``.

    Examples
    --------
    >>> force_of_file("2025-01-devon-and-cornwall-street.csv.gz")
    'devon-and-cornwall'
    >>> force_of_file("export.csv")
    'unknown'
    """
    match = _POLICE_UK_NAME.match(Path(name).name)
    return force_slug(match["force"]) if match else UNKNOWN_FORCE


def files_by_force(inputs: Sequence[str | os.PathLike[str]]) -> dict[str, list[Path]]:
    """Force slug -> its input files (or ``[store]`` for an ingest store), without parsing.

    Files whose names are not police.uk downloads go under ``"unknown"``.
    """
    from hotspots.ingest._files import expand_inputs

    items = [inputs] if isinstance(inputs, str | os.PathLike) else list(inputs)
    if any(is_store(i) for i in items):
        if len(items) > 1:
            msg = "An ingest store folder must be the only input; give the store alone."
            raise InputError(msg)
        return {force: [Path(items[0])] for force in store_forces(items[0])}
    groups: dict[str, list[Path]] = {}
    for path in expand_inputs([str(i) for i in items]):
        groups.setdefault(force_of_file(path), []).append(path)
    return groups


def is_store(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a folder holding an ingest store's ``manifest.json``."""
    p = Path(path)
    return p.is_dir() and (p / MANIFEST).is_file()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _load_manifest(store: Path) -> dict[str, Any]:
    path = store / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"{path} is not a readable ingest store manifest ({exc}); re-run ingest --store."
        raise InputError(msg) from exc
    if manifest.get("format") != STORE_FORMAT:
        msg = (
            f"{path} has format {manifest.get('format')!r}, not {STORE_FORMAT!r}; re-run "
            f"hotspots ingest --store into a new folder."
        )
        raise InputError(msg)
    return manifest


def store_forces(store: str | os.PathLike[str]) -> list[str]:
    """Forces (partition values) held by the store, sorted."""
    manifest = _load_manifest(Path(store))
    return sorted({entry[FORCE] for entry in manifest["files"]})


@dataclass(frozen=True)
class StoreUpdate:
    """What one ``ingest --store`` run did: source paths parsed, unchanged and dropped."""

    store: Path
    parsed: tuple[str, ...]
    unchanged: tuple[str, ...]
    dropped: tuple[str, ...]
    reparse_all: str | None  # why every file was parsed again, or None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures (go into the store's run.json)."""
        return {
            "store": str(self.store),
            "files_parsed": len(self.parsed),
            "files_unchanged": len(self.unchanged),
            "files_dropped": len(self.dropped),
            "parsed": list(self.parsed),
            "dropped": list(self.dropped),
            "reparse_all": self.reparse_all,
        }


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write one partition file atomically (temporary name, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def _text_columns(rejected: pd.DataFrame) -> pd.DataFrame:
    """Rejected rows with the raw (object) columns as text, so parquet stores any mix."""
    out = pd.DataFrame(rejected).copy()
    for name in out.columns:
        if out[name].dtype == object:
            out[name] = out[name].astype("string")
    return out


def update_store(
    inputs: Sequence[str | os.PathLike[str]],
    store: str | os.PathLike[str],
    options: Any = None,
    *,
    fingerprint: Mapping[str, Any] | None = None,
    parse: Any = None,
    progress: Any = None,
    run_tasks: Any = None,
) -> StoreUpdate:
    """Bring the store in ``store`` up to date with ``inputs``, parsing only what changed.

    Parameters
    ----------
    inputs
        Files, folders or globs, as for :func:`hotspots.ingest.read_incidents`.
    store
        The store folder (created if missing).
    options
        :class:`hotspots.config.IngestOptions` for parsing each file.
    fingerprint
        Everything else that shapes the parsed rows (e.g. harm options); when it or the
        options differ from the manifest's, every file is parsed again.
    parse
        ``parse(path) -> IngestResult`` for one file (default: ``read_incidents([path],
        options)``); the CLI passes one that also weighs harm.
    progress
        Callback ``progress(task, done, total)``.
    run_tasks
        ``run_tasks(fn, items, task=...) -> [fn(item) ...]`` in order, to run the
        per-file parses elsewhere (:meth:`hotspots.engine.Engine.map`: one Dask task per
        file, each writing its own partition); default: a loop in this process. The
        manifest is written here, after every file is parsed.

    Returns
    -------
    StoreUpdate
        Source paths parsed, unchanged and dropped.
    """
    from hotspots import __version__
    from hotspots._progress import report
    from hotspots.ingest._files import expand_inputs
    from hotspots.outputs.publish import staged_outputs

    folder = Path(store)
    if folder.exists() and not folder.is_dir():
        msg = f"--store {folder} is a file; give a folder for the ingest store."
        raise InputError(msg)
    if folder.is_dir() and any(folder.iterdir()) and not is_store(folder):
        visible = [p for p in folder.iterdir() if not p.name.startswith(".")]
        if visible:
            msg = (
                f"--store {folder} is a folder that is not an ingest store (no {MANIFEST}); "
                f"give an empty or new folder."
            )
            raise InputError(msg)
    files = [
        p for p in expand_inputs([str(i) for i in inputs]) if not _SET_ASIDE_NAME.search(p.name)
    ]
    opts_record = {
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(options).items()}
        if options is not None
        else {},
        "fingerprint": dict(fingerprint or {}),
        "version": __version__,
    }
    old = _load_manifest(folder) if is_store(folder) else None
    old_by_path = {e["path"]: e for e in old["files"]} if old else {}
    reparse_all = None
    if old is not None and json.dumps(old.get("settings"), sort_keys=True, default=str) != (
        json.dumps(opts_record, sort_keys=True, default=str)
    ):
        reparse_all = "ingest options or hotspots version changed since the store was written"
        old_by_path = {}
    parse_one = parse or functools.partial(_read_one, options=options)

    parsed: list[str] = []
    unchanged: list[str] = []
    slots: list[dict[str, Any] | None] = []  # an entry per file; None: to be parsed
    todo: list[tuple[Path, str]] = []
    with staged_outputs(folder, owned=[MANIFEST]) as staging:
        for k, path in enumerate(files):
            report(progress, "store: hashing", k, len(files))
            key = str(path.resolve())
            sha = _file_sha256(path)
            previous = old_by_path.get(key)
            if previous is not None and previous["sha256"] == sha:
                unchanged.append(key)
                slots.append(previous)
            else:
                parsed.append(key)
                slots.append(None)
                todo.append((path, sha))
        report(progress, "store: hashing", len(files), len(files))
        task = functools.partial(parse_into_partition, folder=folder, parse=parse_one)
        if run_tasks is None:
            new_entries = []
            for k, item in enumerate(todo):
                report(progress, "store: parsing", k, len(todo))
                new_entries.append(task(item))
            report(progress, "store: parsing", len(todo), len(todo))
        else:  # e.g. one Dask task per file (hotspots.engine)
            new_entries = run_tasks(task, todo, task="store: parsing")
        fresh = iter(new_entries)
        entries = [slot if slot is not None else next(fresh) for slot in slots]
        kept = {e["path"] for e in entries}
        dropped = sorted(
            p for p in (e["path"] for e in (old["files"] if old else [])) if p not in kept
        )
        manifest = {"format": STORE_FORMAT, "settings": opts_record, "files": entries}
        (staging / MANIFEST).write_text(
            json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
        )
    _remove_unlisted(folder, entries)
    return StoreUpdate(
        store=folder,
        parsed=tuple(parsed),
        unchanged=tuple(unchanged),
        dropped=tuple(dropped),
        reparse_all=reparse_all,
    )


def _read_one(path: Path, *, options: Any) -> IngestResult:
    """Parse and validate one file (the default ``parse`` of :func:`update_store`)."""
    from hotspots.ingest._reader import read_incidents

    return read_incidents([path], options)


def parse_into_partition(
    item: tuple[Path, str], *, folder: Path, parse: Callable[[Path], IngestResult]
) -> dict[str, Any]:
    """Parse one source file into its store partition; returns its manifest entry.

    ``item`` is ``(path, sha256)``. The kept rows go to
    ``incidents/force=<slug>/<file>-<sha12>.parquet`` and the rejected rows to
    ``rejected/<file>-<sha12>.parquet``, each written atomically; the manifest (written
    by :func:`update_store` once every file is done) lists them. Runs in this process
    or as a Dask task.
    """
    path, sha = item
    result = parse(path)
    force = force_of_file(path)
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", path.name)
    part = f"{stem}-{sha[:12]}.parquet"
    inc_rel = f"{_INCIDENTS}/{FORCE}={force}/{part}"
    rej_rel = f"{_REJECTED}/{part}"
    _write_parquet(result.incidents, folder / inc_rel)
    _write_parquet(_text_columns(result.rejected), folder / rej_rel)
    report_dict = result.report.to_dict()
    return {
        "path": str(path.resolve()),
        "file": path.name,
        "sha256": sha,
        FORCE: force,
        "incidents": inc_rel,
        "rejected": rej_rel,
        "crs": result.incidents.crs.to_wkt() if result.incidents.crs else None,
        "n_read": result.report.n_read,
        "n_kept": result.report.n_kept,
        "time_resolution": result.report.time_resolution,
        "report_files": report_dict["files"],
        "notes": report_dict["notes"],
    }


def store_partitions(
    store: str | os.PathLike[str], *, forces: Sequence[str] | None = None
) -> list[Path]:
    """The incident partition files of ``forces`` (default all), in the manifest's order."""
    folder = Path(store)
    manifest = _load_manifest(folder)
    wanted = None if forces is None else set(forces)
    return [
        folder / e["incidents"] for e in manifest["files"] if wanted is None or e[FORCE] in wanted
    ]


def _remove_unlisted(folder: Path, entries: list[dict[str, Any]]) -> None:
    """Delete partition files the new manifest no longer lists (replaced or dropped)."""
    listed = {folder / e["incidents"] for e in entries} | {folder / e["rejected"] for e in entries}
    for sub in (_INCIDENTS, _REJECTED):
        for path in (folder / sub).rglob("*.parquet") if (folder / sub).is_dir() else ():
            if path not in listed:
                path.unlink(missing_ok=True)
        for empty in (
            sorted((folder / sub).glob("*/"), reverse=True) if (folder / sub).is_dir() else ()
        ):
            if empty.is_dir() and not any(empty.iterdir()):
                empty.rmdir()


def read_store(
    store: str | os.PathLike[str],
    *,
    forces: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
) -> IngestResult:
    """Read an ingest store as one :class:`IngestResult`, like reading its files directly.

    Parameters
    ----------
    store
        The store folder (holding ``manifest.json``).
    forces
        Read only these forces' partitions (pyarrow partition pruning); default all.
    columns
        Read only these incident columns (geometry, id, times, time resolution and
        source file/row are always read); default all.

    Raises
    ------
    InputError
        The manifest is unreadable or lists a partition file that is missing.
    """
    folder = Path(store)
    manifest = _load_manifest(folder)
    entries = [e for e in manifest["files"] if forces is None or e[FORCE] in set(forces)]
    if not manifest["files"]:
        msg = f"Ingest store {folder} holds no files; run hotspots ingest INPUT --store {folder}."
        raise InputError(msg)
    if not entries:
        msg = (
            f"Ingest store {folder} holds no rows of force(s) {sorted(forces or [])}; it "
            f"holds {store_forces(folder)}."
        )
        raise InputError(msg)
    for e in entries:
        for rel in (e["incidents"], e["rejected"]):
            if not (folder / rel).is_file():
                msg = f"Ingest store {folder} is missing {rel}; re-run ingest --store {folder}."
                raise InputError(msg)
    incidents = _read_incidents_dataset(folder, entries, forces=forces, columns=columns)
    rejected_parts = [pd.read_parquet(folder / e["rejected"]) for e in entries]
    rejected = pd.concat(rejected_parts, ignore_index=True) if rejected_parts else pd.DataFrame()
    incidents, rejected = _cross_file_duplicates(incidents, rejected)
    return _assemble(folder, incidents, _in_read_order(rejected, entries), entries)


def _in_read_order(rejected: pd.DataFrame, entries: list[dict[str, Any]]) -> pd.DataFrame:
    """Rejected rows in the order one read gives: by file and row, malformed lines last."""
    if not len(rejected):
        return rejected
    order = {e["file"]: k for k, e in enumerate(entries)}
    key = pd.DataFrame(
        {
            "malformed": (rejected[REJECT_REASON] == "malformed_row").to_numpy(),
            "file": rejected[SOURCE_FILE].astype(str).map(order).fillna(len(order)).to_numpy(),
            "row": rejected[SOURCE_ROW].to_numpy(),
        }
    )
    ranked = key.sort_values(["malformed", "file", "row"], kind="stable").index.to_numpy()
    return rejected.iloc[ranked].reset_index(drop=True)


def _read_incidents_dataset(
    folder: Path,
    entries: list[dict[str, Any]],
    *,
    forces: Sequence[str] | None,
    columns: Sequence[str] | None,
) -> gpd.GeoDataFrame:
    """The kept rows of ``entries`` in manifest order, through one pyarrow dataset."""
    paths = [str(folder / e["incidents"]) for e in entries]
    dataset = ds.dataset(
        paths,
        format="parquet",
        partitioning=ds.partitioning(flavor="hive"),
        partition_base_dir=str(folder / _INCIDENTS),
    )
    names = [n for n in dataset.schema.names if n != FORCE]
    if columns is not None:
        always = {INCIDENT_ID, OCCURRED_AT, OCCURRED_TO, TIME_RESOLUTION, SOURCE_FILE}
        always |= {SOURCE_ROW, "geometry"}  # the report and the duplicate check need these
        names = [n for n in names if n in set(columns) | always]
    flt = ds.field(FORCE).isin(list(forces)) if forces is not None else None
    table = dataset.to_table(columns=names, filter=flt)
    frame = table.to_pandas()
    crs_wkt = entries[0]["crs"]
    geometry = gpd.GeoSeries.from_wkb(frame.pop("geometry"), crs=crs_wkt)
    crss = {e["crs"] for e in entries}
    out = gpd.GeoDataFrame(frame, geometry=geometry.to_numpy(), crs=crs_wkt)
    if len(crss) > 1:  # per-file CRS detection disagreed: take the first file's, say nothing
        msg = (
            f"Ingest store {folder} mixes working CRSs across files; re-run ingest --store "
            f"with --working-crs set."
        )
        raise InputError(msg)
    for name in (OCCURRED_AT, OCCURRED_TO):
        if name in out.columns and out[name].dtype == object:
            out[name] = pd.to_datetime(out[name])
    return out


def _cross_file_duplicates(
    incidents: gpd.GeoDataFrame, rejected: pd.DataFrame
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Move rows whose source id was already used by an earlier file to the rejected rows."""
    if not len(incidents):
        return incidents, rejected
    generated = (
        incidents[SOURCE_FILE].astype(str) + "#" + incidents[SOURCE_ROW].astype(str)
    ).to_numpy()
    ids = incidents[INCIDENT_ID].astype(str).to_numpy()
    real = ids != generated
    dup = _repeat_in_real(ids, real)  # repeats within one file were rejected at ingest
    if not dup.any():
        return incidents, rejected
    firsts = pd.Series(np.flatnonzero(real), index=ids[real]).groupby(level=0).first()
    where = incidents[SOURCE_FILE].astype(str) + " row " + incidents[SOURCE_ROW].astype(str)
    first_where = where.to_numpy()[firsts.reindex(ids[dup]).to_numpy()]
    moved = pd.DataFrame(
        {
            SOURCE_FILE: incidents[SOURCE_FILE].to_numpy()[dup],
            SOURCE_ROW: incidents[SOURCE_ROW].to_numpy(dtype="int64")[dup],
            REJECT_REASON: "duplicate_id",
            REJECT_DETAIL: [
                f"id '{i}' already used by {w}" for i, w in zip(ids[dup], first_where, strict=True)
            ],
        }
    )
    kept = incidents.loc[~dup].reset_index(drop=True)
    return kept, pd.concat([rejected, moved], ignore_index=True)


def _repeat_in_real(ids: np.ndarray, real: np.ndarray) -> np.ndarray:
    """Per row: its id repeats an earlier *real* (source-given) id."""
    out = np.zeros(len(ids), dtype=bool)
    real_idx = np.flatnonzero(real)
    out[real_idx[pd.Series(ids[real]).duplicated(keep="first").to_numpy()]] = True
    return out


def _store_file_row(folder: Path, entry: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """A report row for a stored file: ``path`` is its partition, plus its source.

    The partition is what this run read and what provenance hashes (present even when the
    download has gone); ``source_path`` and ``source_sha256`` name the file it came from.
    """
    return {
        **row,
        "path": str(folder / entry["incidents"]),
        "source_path": entry["path"],
        "source_sha256": entry["sha256"],
    }


def _assemble(
    folder: Path,
    incidents: gpd.GeoDataFrame,
    rejected: pd.DataFrame,
    entries: list[dict[str, Any]],
) -> IngestResult:
    """The IngestResult (with its report) of rows read from ``entries``' files."""
    files = tuple(_store_file_row(folder, e, f) for e in entries for f in e["report_files"])
    notes = _merge_notes([n for e in entries for n in e["notes"]])
    n_read = int(sum(e["n_read"] for e in entries))
    return IngestResult(
        incidents=incidents,
        rejected=rejected,
        report=_report(incidents, rejected, files=files, notes=notes, n_read=n_read,
                       default_resolution=entries[0]["time_resolution"] if entries else "day"),
    )  # fmt: skip


def _merge_notes(notes: list[str]) -> tuple[str, ...]:
    """Per-file notes as one read would give them: counted notes with equal text summed.

    ``"948 rows have no Crime ID ..."`` and ``"935 rows have no Crime ID ..."`` become
    ``"1,883 rows have no Crime ID ..."``; other notes are kept once, in order.
    """
    totals: dict[str, int] = {}
    order: list[str] = []
    for note in notes:
        match = _COUNTED_NOTE.match(note)
        key = match["rest"] if match else note
        if key not in totals:
            totals[key] = 0
            order.append(key)
        if match:
            totals[key] += int(match["n"].replace(",", ""))
        else:
            totals[key] = -1
    return tuple(k if totals[k] < 0 else f"{totals[k]:,} {k}" for k in order)


def _report(
    incidents: gpd.GeoDataFrame,
    rejected: pd.DataFrame,
    *,
    files: tuple[dict, ...],
    notes: tuple[str, ...],
    n_read: int,
    default_resolution: str,
) -> IngestReport:
    """An IngestReport computed from rows (the same figures ingest reports)."""
    reasons = by_reason(rejected[REJECT_REASON] if len(rejected) else [])
    resolution, date_min, date_max = kept_span(incidents, default_resolution=default_resolution)
    crs = incidents.crs
    epsg = crs.to_epsg() if crs is not None else None
    return IngestReport(
        n_read=n_read,
        n_kept=len(incidents),
        rejected_by_reason=reasons,
        date_min=date_min,
        date_max=date_max,
        time_resolution=str(resolution),
        crs=f"EPSG:{epsg}" if epsg is not None else (crs.to_string() if crs else "?"),
        files=files,
        notes=notes,
    )
