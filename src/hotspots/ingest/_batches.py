"""Batched ingest: a big CSV input parsed and validated a batch of files at a time (private).

Memory then follows the largest batch of raw text, not the sum of every file: each
batch is read as text, validated into the typed incident frame and its rejected rows,
and its text dropped before the next batch is read. Only the typed results are kept and
joined. The result is the one a single pass gives (same rows, reasons, details, order,
notes): ids kept by an earlier batch make later uses duplicates, the notes that carry
counts are written once from the summed counts, and the force column is decided on all
rows. Inputs where a single pass decides something from all rows together that a batch
could decide differently (a mapped table's date layout or CRS, a working CRS detected
differently in two batches, one file name in two folders) are read in one pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hotspots._progress import Progress, report
from hotspots.config import IngestOptions
from hotspots.ingest._files import RawTable, read_tables
from hotspots.ingest._formats import column_key
from hotspots.ingest._result import IngestReport, IngestResult, kept_span
from hotspots.schema import (
    FORCE,
    INCIDENT_ID,
    REJECT_REASON,
    REJECT_REASONS,
    SOURCE_FILE,
    SOURCE_ROW,
)

__all__ = ["BATCH_BYTES", "Tally", "batches_of", "read_batched"]

BATCH_BYTES = 64 * 1024 * 1024  # raw CSV text per batch (a gzip file counts 7x its size)
_GZIP_RATIO = 7
_FORCE_STAGE = 7.5  # the mixed-forces note: after the police.uk note, before the burglary one


def _text_bytes(path: Path) -> int:
    size = path.stat().st_size
    return size * _GZIP_RATIO if path.name.lower().endswith(".gz") else size


def batches_of(files: Sequence[Path], *, limit: int | None = None) -> list[list[Path]]:
    """Consecutive groups of ``files`` of at most ``limit`` bytes of text each (one, if small).

    Only CSV inputs with distinct file names are batched; any other input is one batch.
    """
    limit = BATCH_BYTES if limit is None else limit
    names = [p.name.lower() for p in files]
    csv_only = all(n.endswith((".csv", ".csv.gz")) for n in names)
    if not csv_only or len(set(names)) < len(names) or len(files) < 2:
        return [list(files)]
    out: list[list[Path]] = [[]]
    size = 0
    for path in files:
        n = _text_bytes(path)
        if out[-1] and size + n > limit:
            out.append([])
            size = 0
        out[-1].append(path)
        size += n
    return out


def _hashes(ids: np.ndarray) -> np.ndarray:
    return pd.util.hash_array(ids, categorize=False)


@dataclass
class Tally:
    """What the batches of one read share: counts for notes, ids kept so far, forces.

    Kept ids are remembered as sorted 64-bit hashes (with the batch's id column for the
    exact check of a hit), not as Python strings, so memory stays small.
    """

    counts: dict[str, tuple[int, float]] = field(default_factory=dict)
    force_rows: pd.Series | None = None
    force_slugs: set[str] = field(default_factory=set)
    _hashes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    _rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    _starts: list[int] = field(default_factory=list)  # first global row of each batch
    _lineage: list[pd.DataFrame] = field(default_factory=list)

    def count(self, key: str, n: int, stage: float) -> None:
        """Add ``n`` to the count behind note ``key`` (written at ``stage``)."""
        old = self.counts.get(key, (0, stage))[0]
        self.counts[key] = (old + n, stage)

    def forces(self, raw: pd.DataFrame) -> None:
        """Add the batch's rows per 'Falls within' text."""
        from hotspots.ingest._reader import _force_counts

        counts = _force_counts(raw)
        if counts is None:
            return
        self.force_rows = (
            counts if self.force_rows is None else self.force_rows.add(counts, fill_value=0)
        )

    def earlier(self, ids: pd.Series) -> pd.Series | None:
        """Per id: where an earlier batch kept it ("FILE row N"), NaN when it did not."""
        if not len(self._hashes):
            return None
        out = np.full(len(ids), np.nan, dtype=object)
        values = ids.to_numpy(dtype=object)
        wanted = _hashes(values)
        order = np.argsort(wanted)  # sorted queries walk the sorted array in one direction
        pos = np.empty(len(wanted), dtype=np.int64)
        pos[order] = np.searchsorted(self._hashes, wanted[order])
        pos = np.minimum(pos, len(self._hashes) - 1)
        hit = np.flatnonzero(self._hashes[pos] == wanted)
        rows = self._rows[pos[hit]]
        batch = np.searchsorted(np.asarray(self._starts), rows, side="right") - 1
        for b in np.unique(batch):
            mine = batch == b
            kept = self._lineage[b]
            at = rows[mine] - self._starts[b]
            same = kept[INCIDENT_ID].to_numpy(dtype=object)[at] == values[hit[mine]]
            where = hit[mine][same]  # a hash collision is not a use
            at = at[same]
            out[where] = (
                kept[SOURCE_FILE].to_numpy(dtype=object)[at]
                + " row "
                + kept[SOURCE_ROW].to_numpy()[at].astype(str).astype(object)
            )
        return pd.Series(out, index=ids.index, dtype=object)

    def keep(self, incidents: pd.DataFrame, real: np.ndarray) -> None:
        """Remember the batch's kept ids that came from the source (not generated).

        All batches' hashes are kept in one sorted array (merged in linear time each
        batch), so a batch's check is one sorted search, not one per earlier batch.
        """
        if FORCE in incidents.columns:
            self.force_slugs.update(pd.unique(incidents[FORCE].astype("str")))
        start = self._starts[-1] + len(self._lineage[-1]) if self._starts else 0
        self._starts.append(start)
        self._lineage.append(incidents[[INCIDENT_ID, SOURCE_FILE, SOURCE_ROW]])
        rows = np.flatnonzero(real)
        if not len(rows):
            return
        hashes = _hashes(incidents[INCIDENT_ID].to_numpy(dtype=object)[rows])
        order = np.argsort(hashes)
        hashes, rows = hashes[order], rows[order] + start
        at = np.searchsorted(self._hashes, hashes)  # a linear merge of two sorted runs
        self._hashes = np.insert(self._hashes, at, hashes)
        self._rows = np.insert(self._rows, at, rows)


def read_batched(
    batches: list[list[Path]],
    files: list[Path],
    opts: IngestOptions,
    *,
    today_end: pd.Timestamp,
    floor: pd.Timestamp | None,
    implausible_dates: str,
    progress: Progress | None,
) -> IngestResult | None:
    """One :class:`IngestResult` of ``files`` read batch by batch; None: read in one pass."""
    from hotspots.ingest._reader import (
        NONE_KEPT_NOTE,
        _forces_text,
        _kept_note,
        _no_id_note,
        _set_aside,
        _validate,
    )

    tally = Tally()
    results: list[IngestResult] = []
    staged: list[tuple[float, int, int, str]] = []
    gone: list[RawTable] = []
    reference: tuple[RawTable, Any] | None = None
    plan = None
    done = 0
    what = f"{len(files)} files ({files[0].name}...)"
    for b, batch in enumerate(batches):
        report(progress, "reading files", done, len(files))
        tables = read_tables(batch)
        done += len(batch)
        gone += [t for t in tables if t.skipped is not None]
        tables = [t for t in tables if t.skipped is None]
        if not tables:
            continue
        first_batch = reference is None
        if reference is None:
            from hotspots.ingest._formats import plan_for

            first = tables[0]
            plan = plan_for(list(first.frame.columns), opts, what=first.path.name, spatial=False)
            if not plan.police_uk:  # a mapped table decides its layout from all rows at once
                return None
        result, notes = _validate(
            tables,
            files,
            opts,
            skip_notes=[],
            today_end=today_end,
            floor=floor,
            implausible_dates=implausible_dates,
            progress=progress,
            reference=reference,
            tally=tally,
            what=what,
        )
        if first_batch:
            reference = (replace(first, frame=first.frame.iloc[:0]), plan)
        if results and result.report.crs != results[0].report.crs:
            return None  # the batches chose different working CRSs: decide on all rows
        results.append(result)
        staged += [(stage, b, k, text) for k, (stage, text) in enumerate(notes)]
        del tables
    report(progress, "reading files", len(files), len(files))
    if reference is None:  # every file set aside: the one-pass messages
        _set_aside(gone)
    assert reference is not None and plan is not None
    _, skip_notes = _set_aside([*gone, reference[0]])
    staged += [(0, -1, k, text) for k, text in enumerate(skip_notes)]
    for key, (n, stage) in tally.counts.items():
        text = _no_id_note(n, plan) if key == "no_id" else _kept_note(n, key.split(":", 1)[1])
        staged.append((stage, len(batches), 0, text))
    if tally.force_rows is not None:
        counts = tally.force_rows.astype("int64").sort_values(ascending=False, kind="stable")
        mixed = _forces_text(counts)
        if mixed:
            staged.append((_FORCE_STAGE, len(batches), 0, mixed))
    return _join(results, staged, tally, reference[0], none_kept=NONE_KEPT_NOTE)


def _join(
    results: list[IngestResult],
    staged: list[tuple[float, int, int, str]],
    tally: Tally,
    first: RawTable,
    *,
    none_kept: str,
) -> IngestResult:
    """The batches' results as one: incidents, rejected rows (malformed last), report."""
    incidents = pd.concat([r.incidents for r in results], ignore_index=True)
    if FORCE in incidents.columns and len(tally.force_slugs) < 2:
        incidents = incidents.drop(columns=[FORCE])  # one force: no column, as in one pass
    spelling = {column_key(c): c for c in first.frame.columns}
    plain, malformed = [], []
    for r in results:
        rej = r.rejected.rename(columns=lambda c: spelling.get(column_key(c), c))
        bad = (rej[REJECT_REASON] == "malformed_row").to_numpy()
        plain.append(rej.loc[~bad])
        malformed.append(rej.loc[bad, [SOURCE_FILE, SOURCE_ROW, REJECT_REASON, "detail"]])
    rejected = pd.concat([*plain, *malformed], ignore_index=True)
    counts: dict[str, int] = {code: 0 for code in REJECT_REASONS}
    for r in results:
        for code, k in r.report.rejected_by_reason.items():
            counts[code] += k
    resolution, date_min, date_max = kept_span(
        incidents, default_resolution=results[0].report.time_resolution
    )
    if not len(incidents):
        staged.append((9, len(results), 0, none_kept))
    texts = [text for *_, text in sorted(staged, key=lambda s: s[:3])]
    report = IngestReport(
        n_read=sum(r.report.n_read for r in results),
        n_kept=len(incidents),
        rejected_by_reason=counts,
        date_min=date_min,
        date_max=date_max,
        time_resolution=str(resolution),
        crs=results[0].report.crs,
        files=tuple(f for r in results for f in r.report.files),
        notes=tuple(dict.fromkeys(texts)),
    )
    return IngestResult(incidents=incidents, rejected=rejected, report=report)
