"""read_incidents: files -> one validated, canonical, metric incident table (private).

The steps: find the files, read each as text, recognise the format, check every file
has the same columns, then parse all rows at once (dates, offences, ids, coordinates),
give each unusable row one reason, and project the rest to the working CRS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
from geopandas.array import GeometryArray

from hotspots._memory import release_freed_memory
from hotspots._progress import Progress, report
from hotspots._validate import check_choice
from hotspots.config import IngestOptions
from hotspots.crs import BNG
from hotspots.errors import InputError
from hotspots.ingest._batches import Tally, batches_of, read_batched
from hotspots.ingest._coords import locate
from hotspots.ingest._dates import (
    DATE_MAX,
    DATE_MIN,
    ParsedTimes,
    day_end,
    month_end,
    parse_times,
    typed_times,
)
from hotspots.ingest._files import RawTable, expand_inputs, force_slug, read_tables
from hotspots.ingest._formats import (
    API_CATEGORIES,
    HOTSPOTS,
    MAPPED,
    Plan,
    column_key,
    plan_for,
)
from hotspots.ingest._own import is_own_table, own_columns, own_rows
from hotspots.ingest._result import IngestReport, IngestResult, by_reason, kept_span
from hotspots.ingest._rows import (
    X_COL,
    Y_COL,
    check_same_columns,
    combine,
    details,
    dwelling_flags,
    text_column,
)
from hotspots.schema import (
    CONTEXT,
    DWELLING_BURGLARY,
    FORCE,
    INCIDENT_COLUMNS,
    INCIDENT_ID,
    LAST_OUTCOME,
    LOCATION,
    LSOA_CODE,
    LSOA_NAME,
    OCCURRED_AT,
    OCCURRED_TO,
    OFFENCE,
    OFFENCE_CODE,
    OUTCOME_COLUMNS,
    REJECT_DETAIL,
    REJECT_REASON,
    SOURCE_FILE,
    SOURCE_ROW,
    TIME_RESOLUTION,
    TIME_RESOLUTIONS,
)

__all__ = ["IngestReport", "IngestResult", "read_incidents"]

DEFAULT_TZ = IngestOptions().tz
ImplausibleDates = Literal["reject", "keep"]
FROM_OPTIONS: Any = object()  # ``date_floor`` not given: the options' (None means no floor)
_IMPLAUSIBLE_CHOICES: tuple[str, ...] = get_args(ImplausibleDates)
SNAPPED_NOTE = (
    "police.uk data: points are snapped to anonymous map points (many crimes share one "
    "point, 'On or near ...') and dates are months (occurred_at = first day 00:00, "
    "occurred_to = month end). Good for ranking harm spots; not for day-level near-repeat "
    "or cocoon timing."
)
NONE_KEPT_NOTE = "No rows were kept; see rejected.csv for the reasons."
BURGLARY_NOTE = (
    "'Burglary' rows are flagged dwelling_burglary as candidates: police.uk (and any "
    "plain 'Burglary' category) may include non-dwelling (business, community) burglary."
)


def read_incidents(
    inputs: Sequence[str | Path],
    options: IngestOptions | None = None,
    *,
    progress: Progress | None = None,
    today: str | pd.Timestamp | None = None,
    date_floor: Any = FROM_OPTIONS,
    implausible_dates: ImplausibleDates | None = None,
) -> IngestResult:
    """Read incident files into one canonical, validated GeoDataFrame in metres.

    Parameters
    ----------
    inputs
        Files, folders (searched recursively) or globs: ``.csv``, ``.csv.gz``, ``.parquet``,
        ``.gpkg``, ``.geojson``. All must share one format and header.
    options
        How to read tables that are not police.uk or hotspots files (column names, CRS,
        date format, time zone, boundary, working CRS). Default: recognise everything.
    progress
        Callback ``progress(task, done, total)`` (see :mod:`hotspots._progress`).
    today
        The run date: rows dated after the end of this day are ``future_date``. Default:
        ``options.today``, else now. A date alone is read in the run's time zone.
    date_floor
        Rows dated before this are ``date_before_floor`` (default ``options.date_floor``,
        1990-01-01; None: no floor). Dates outside 1678-2261 (e.g. the 9999-12-31
        "unknown" sentinel) are always rejected, as ``date_out_of_range``.
    implausible_dates
        ``"reject"`` (default) moves future and too-early rows to ``rejected``;
        ``"keep"`` keeps them and adds a note with their count. Default: from
        ``options.keep_implausible_dates``.

    Returns
    -------
    IngestResult
        ``incidents`` (``schema.INCIDENT_COLUMNS``, then ``schema.OUTCOME_COLUMNS`` when
        the source has police.uk outcome columns, + geometry, working CRS, index 0..n-1),
        ``rejected`` (source_file, source_row, reason, detail, then the raw columns as
        text) and ``report``.

    Raises
    ------
    InputError
        A file is missing, empty, not a CSV, undecodable, or headers differ between files.
    SchemaError
        Required columns are missing or dates are ambiguous without ``time_format``.
    CRSError, OptionError
        The CRS cannot be detected, lon/lat columns look swapped, or an option is invalid.

    Notes
    -----
    Rows are never dropped silently: each unusable row is in ``rejected`` with one
    reason (``schema.REJECT_REASONS``), e.g. ``date_out_of_range`` (9999-12-31),
    ``future_date``, ``outside_area`` (outside Great Britain for EPSG:27700, never a
    reason to change the working CRS, which follows the bulk of the points) or
    ``malformed_row`` (a CSV line with the wrong number of fields, named by line).
    police.uk outcomes and stop-and-search files and polygon layers found among the
    inputs are set aside with a note. hotspots' own parquet is read typed, keeping
    each row's original ``source_file``/``source_row``.

    Examples
    --------
    >>> result = read_incidents(["../shared/data/police_uk/essex_2025"])  # doctest: +SKIP
    >>> result.report.n_read, result.report.rejected_by_reason["no_location"]  # doctest: +SKIP
    (158217, 2140)
    >>> chicago = IngestOptions(x_col="x", y_col="y", crs="EPSG:26971",
    ...                         time_col="date_single", time_format="%d/%m/%Y",
    ...                         offence="Burglary", tz="America/Chicago")
    >>> read_incidents(["chicago.csv.gz"], chicago).report.crs  # doctest: +SKIP
    'EPSG:32616'
    """
    from hotspots.ingest._store import is_store, read_store

    items = [inputs] if isinstance(inputs, str | Path) else list(inputs)
    if any(is_store(i) for i in items):  # an ingest store folder: read its partitions
        if len(items) > 1:
            msg = "An ingest store folder must be the only input; give the store alone."
            raise InputError(msg)
        return read_store(items[0])
    opts = options or IngestOptions()
    # the run's options say it unless the caller does (``--today``, ``--date-floor``, ...)
    today = opts.today if today is None else today
    date_floor = opts.date_floor if date_floor is FROM_OPTIONS else date_floor
    if implausible_dates is None:
        implausible_dates = "keep" if opts.keep_implausible_dates else "reject"
    check_choice(implausible_dates, _IMPLAUSIBLE_CHOICES, name="implausible_dates")
    today_end = day_end(today, opts.tz, option="today")
    floor = None if date_floor is None else day_end(date_floor, opts.tz, option="date_floor")
    if floor is not None:
        floor = floor.normalize()
    files = expand_inputs(inputs)
    batches = batches_of(files)
    if len(batches) > 1:  # a big CSV input: parse and validate it a batch of files at a time
        batched = read_batched(
            batches,
            files,
            opts,
            today_end=today_end,
            floor=floor,
            implausible_dates=implausible_dates,
            progress=progress,
        )
        if batched is not None:
            return batched
    report(progress, "reading files", 0, len(files))
    tables = read_tables(files, on_done=lambda k: report(progress, "reading files", k, len(files)))
    tables, skip_notes = _set_aside(tables)
    if is_own_table(tables, opts):  # hotspots' own typed parquet: no text round trip
        own = _read_own(
            tables,
            opts,
            notes=skip_notes,
            today_end=today_end,
            floor=floor,
            reject_implausible=implausible_dates == "reject",
        )
        # the allocators keep the pages of the freed read buffers: hand them back, or a
        # large read stays resident (about 0.3 GB more at 6M rows) through later stages
        del tables
        release_freed_memory(own.report.n_read)
        return own
    result, _ = _validate(
        tables,
        files,
        opts,
        skip_notes=skip_notes,
        today_end=today_end,
        floor=floor,
        implausible_dates=implausible_dates,
        progress=progress,
    )
    return result


def _validate(
    tables: list[RawTable],
    files: list[Path],
    opts: IngestOptions,
    *,
    skip_notes: list[str],
    today_end: pd.Timestamp,
    floor: pd.Timestamp | None,
    implausible_dates: str,
    progress: Progress | None,
    reference: tuple[RawTable, Plan] | None = None,
    tally: Tally | None = None,
    what: str | None = None,
) -> tuple[IngestResult, list[tuple[int, str]]]:
    """Parse and validate ``tables`` (text) into an :class:`IngestResult`.

    With ``tally`` (one batch of a batched read, :func:`_read_batched`), ids already kept
    by earlier batches are duplicates, the notes that carry counts are left as markers
    whose counts go into ``tally``, and the force column is always kept. Returns the
    result and its notes with the stage that wrote each (to merge batches in order).
    """
    plans = [
        plan_for(list(t.frame.columns), opts, what=t.path.name, spatial=t.geo_x is not None)
        for t in tables
    ]
    if reference is not None:  # a later batch: same header as the first file of all
        check_same_columns([reference[0], *tables], [reference[1], *plans])
    check_same_columns(tables, plans)
    plan = plans[0]
    raw_tables = tables
    if reference is not None:  # the first file's column spelling, as one pass has it
        plan = reference[1]
        spelling = {column_key(c): c for c in reference[0].frame.columns}
        raw_tables = [
            replace(t, frame=t.frame.rename(columns=lambda c: spelling[column_key(c)]))
            for t in tables
        ]
    raw, geo_crs = combine(raw_tables, plans)
    if what is None:
        what = (
            tables[0].path.name if len(tables) == 1 else f"{len(tables)} files ({files[0].name}...)"
        )
    n = len(raw)
    staged: list[tuple[int, str]] = [(0, t) for t in skip_notes]
    staged += [(1, note) for t in tables for note in t.notes]

    class _Staged(list):  # notes.append(text) at the stage reached so far
        stage = 2

        def append(self, text: str) -> None:
            staged.append((self.stage, text))

        def extend(self, texts: Any) -> None:
            for text in texts:
                self.append(text)

    notes = _Staged()
    steps = 4
    report(progress, "validating rows", 0, steps)

    # ------------------------------------------------------------- dates
    times = _times(raw[plan.time_col], plan.time_format, opts.tz, what, plan.time_col)
    occurred_at = times.values
    resolution = np.repeat(np.array([times.resolution], dtype=object), n)
    if times.how not in {"YYYY-MM", "ISO 8601", "empty"}:
        notes.append(f"Dates in {plan.time_col!r} read as {times.how}.")
    if times.resolution == "month":
        occurred_to = month_end(occurred_at)
    else:
        occurred_to = pd.Series(pd.NaT, index=raw.index, dtype=occurred_at.dtype)
    to_failed = np.zeros(n, dtype=bool)
    to_outside = np.zeros(n, dtype=bool)
    if plan.time_to_col is not None:
        to = _times(raw[plan.time_to_col], plan.time_format, opts.tz, what, plan.time_to_col)
        occurred_to = to.values.where(~to.empty, occurred_to)
        to_failed = to.failed
        to_outside = to.outside
    if plan.resolution_col is not None:
        given = text_column(raw, plan.resolution_col).str.lower()
        valid = given.isin(TIME_RESOLUTIONS).to_numpy()
        resolution = np.where(valid, given.to_numpy(dtype=object), resolution)
    report(progress, "validating rows", 1, steps)

    notes.stage = 3
    # ------------------------------------------------------------- offences and ids
    if plan.offence_value is not None:
        offence = pd.Series(plan.offence_value, index=raw.index, dtype="str")
    else:
        offence = text_column(raw, plan.offence_col)
        if plan.map_api_categories:
            slugs = offence.str.lower()
            offence = slugs.map(API_CATEGORIES).fillna(offence).astype("str")
    offence_code = text_column(raw, plan.offence_code_col) if plan.offence_code_col else None
    dwelling = dwelling_flags(
        offence, text_column(raw, plan.dwelling_col) if plan.dwelling_col else None
    )
    ids = text_column(raw, plan.id_col)
    no_id = (ids == "").to_numpy()
    generated = raw[SOURCE_FILE].astype("str") + "#" + raw[SOURCE_ROW].astype("str")
    if len({t.path.name for t in tables}) < len(tables):  # same file names in two folders
        generated = pd.Series(
            [f"{t.path}#{r}" for t in tables for r in range(1, len(t.frame) + 1)], index=raw.index
        )
    incident_id = ids.where(~no_id, generated)
    if plan.id_col is not None and no_id.any():
        if tally is not None:
            tally.count("no_id", int(no_id.sum()), 3)
        else:
            notes.append(_no_id_note(int(no_id.sum()), plan))
    report(progress, "validating rows", 2, steps)

    notes.stage = 4
    # ------------------------------------------------------------- coordinates
    if geo_crs is not None and opts.x_col is None:
        coords_frame = raw[[X_COL, Y_COL]]
        found = locate(
            coords_frame,
            x_col=X_COL,
            y_col=Y_COL,
            crs=geo_crs,
            working_crs=opts.working_crs,
            what=what,
        )
        x_name = "geometry"
    else:
        found = locate(
            raw,
            x_col=plan.x_col,
            y_col=plan.y_col,
            crs=plan.crs,
            working_crs=opts.working_crs,
            what=what,
        )
        x_name = f"{found.x_col}/{found.y_col}"
        if found.crs_assumed and plan.format == MAPPED:
            notes.append(
                f"CRS of {x_name} detected from the values as "
                f"{found.source_crs.to_string()}; pass --crs if that is wrong."
            )
    working = found.working_crs
    if opts.tz == DEFAULT_TZ and not working.equals(BNG) and times.resolution != "month":
        notes.append(
            f"Times are in {DEFAULT_TZ} (the default --tz) but the data lies outside "
            f"Great Britain (working CRS {working.to_string()}); pass its zone, e.g. "
            f"--tz America/Chicago, so hours and days are local."
        )
    points = found.points
    report(progress, "validating rows", 3, steps)
    notes.stage = 5

    # ------------------------------------------------------------- reasons (first one wins)
    reason = np.repeat(np.array([""], dtype=object), n)
    detail = pd.Series("", index=raw.index, dtype="object")

    def reject(mask: np.ndarray, code: str, text: pd.Series) -> None:
        new = mask & (reason == "")
        if new.any():
            reason[new] = code
            detail.loc[np.flatnonzero(new)] = text.reindex(np.flatnonzero(new)).to_numpy()

    date_text = raw[plan.time_col]
    reject(times.empty, "unparseable_date", details(times.empty, f"{plan.time_col} is empty"))
    reject(
        times.failed,
        "unparseable_date",
        details(
            times.failed,
            f"{plan.time_col} ",
            date_text,
            f" is not a date ({times.how}); fix it or pass --time-format",
        ),
    )
    span = f"{DATE_MIN.year}-{DATE_MAX.year}"
    reject(
        times.outside,
        "date_out_of_range",
        details(
            times.outside,
            f"{plan.time_col} ",
            date_text,
            f" is outside the years a date can hold ({span}), e.g. a 9999-12-31 'unknown' "
            f"placeholder; fix it or leave it empty",
        ),
    )
    if plan.time_to_col is not None:
        reject(
            to_outside,
            "date_out_of_range",
            details(
                to_outside,
                f"{plan.time_to_col} ",
                raw[plan.time_to_col],
                f" is outside the years a date can hold ({span}); fix it or leave it empty",
            ),
        )
    at_ns = pd.Series(occurred_at)
    future = (at_ns > today_end).to_numpy(dtype=bool)
    early = (at_ns < floor).to_numpy(dtype=bool) if floor is not None else np.zeros(n, dtype=bool)
    if implausible_dates == "reject":
        reject(
            future,
            "future_date",
            details(
                future,
                f"{plan.time_col} ",
                date_text,
                f" is after the run date {today_end.date()}; fix it (or keep such rows "
                f"with implausible_dates='keep')",
            ),
        )
        reject(
            early,
            "date_before_floor",
            details(
                early,
                f"{plan.time_col} ",
                date_text,
                f" is before {floor.date() if floor is not None else ''}, too early to be "
                f"plausible; fix it (or lower --date-floor)",
            ),
        )
    else:
        for mask, what_kind in (
            (future, f"after the run date {today_end.date()}"),
            (early, "before the date floor"),
        ):
            if mask.any() and tally is not None:
                tally.count(f"kept:{what_kind}", int(mask.sum()), 5)
            elif mask.any():
                notes.append(_kept_note(int(mask.sum()), what_kind))
    if plan.time_to_col is not None:
        reject(
            to_failed,
            "unparseable_date",
            details(
                to_failed,
                f"{plan.time_to_col} ",
                raw[plan.time_to_col],
                " is not a date; fix it or leave it empty",
            ),
        )
    loc_text = text_column(raw, plan.location_col) if plan.location_col else None
    no_loc = found.reasons == "no_location"
    if plan.police_uk and loc_text is not None:
        snapped_missing = no_loc & (loc_text.str.lower() == "no location").to_numpy()
        reject(
            snapped_missing,
            "no_location",
            details(snapped_missing, "police.uk 'No Location' row: no coordinates"),
        )
    reject(no_loc, "no_location", details(no_loc, f"{x_name} empty or not a number"))
    zero = found.reasons == "coordinates_zero"
    reject(
        zero,
        "coordinates_zero",
        details(zero, f"{x_name} are 0,0 (a missing location written as zero)"),
    )
    out_range = found.reasons == "coordinates_out_of_range"
    if out_range.any():
        if x_name == "geometry":
            shown = raw[X_COL].astype("str") + "," + raw[Y_COL].astype("str")
        else:
            shown = raw[found.x_col].astype("str") + "," + raw[found.y_col].astype("str")
        reject(
            out_range,
            "coordinates_out_of_range",
            details(
                out_range,
                f"{x_name} ",
                shown,
                f" outside the valid range of {found.source_crs.to_string()}; "
                f"check the values or --crs",
            ),
        )
    away = found.reasons == "outside_area"
    if away.any():
        if x_name == "geometry":
            shown = raw[X_COL].astype("str") + "," + raw[Y_COL].astype("str")
        else:
            shown = raw[found.x_col].astype("str") + "," + raw[found.y_col].astype("str")
        area = working.area_of_use.name.split(";")[0] if working.area_of_use else "its area"
        place = "Great Britain" if working.equals(BNG) else area
        reject(
            away,
            "outside_area",
            details(
                away,
                f"{x_name} ",
                shown,
                f" lies outside {place}, the area of use of the working CRS "
                f"{working.to_string()}; fix the coordinates (or pass --working-crs)",
            ),
        )
    empty_offence = (offence == "").to_numpy()
    reject(
        empty_offence,
        "unknown_offence",
        details(empty_offence, f"{plan.offence_col or 'offence'} is empty"),
    )
    notes.stage = 6
    if opts.boundary is not None:
        from hotspots.areas import read_areas

        boundary = read_areas(
            opts.boundary, area_field=None, working_crs=working, what="--boundary"
        )
        notes.extend(boundary.attrs.get("notes", []))
        ok_pts = np.flatnonzero(reason == "")
        inside = np.zeros(n, dtype=bool)
        if len(ok_pts):
            hit, _ = boundary.sindex.query(points.to_numpy()[ok_pts], predicate="intersects")
            inside[ok_pts[np.unique(hit)]] = True
        outside = (reason == "") & ~inside
        reject(
            outside,
            "outside_boundary",
            details(outside, f"point outside --boundary {Path(opts.boundary).name}"),
        )
    if plan.id_col is not None:
        candidates = (reason == "") & ~no_id
        cand_ids = incident_id[candidates]
        dup = np.zeros(n, dtype=bool)
        # factorising plain objects first is several times faster than arrow-backed strings
        codes = pd.Series(pd.factorize(cand_ids.to_numpy(dtype=object))[0])
        repeat = codes.duplicated(keep="first").to_numpy()
        earlier = tally.earlier(cand_ids) if tally is not None else None
        if earlier is not None:  # kept by an earlier batch: a duplicate here
            repeat = repeat | earlier.notna().to_numpy()
        dup[np.flatnonzero(candidates)[repeat]] = True
        if dup.any():
            firsts = cand_ids.drop_duplicates(keep="first")
            where = (
                raw.loc[firsts.index, SOURCE_FILE].astype("str")
                + " row "
                + raw.loc[firsts.index, SOURCE_ROW].astype("str")
            )
            first_of = pd.Series(where.to_numpy(), index=firsts.to_numpy())
            if earlier is not None:  # the first use is in an earlier batch
                before = earlier.dropna().drop_duplicates()
                first_of = pd.concat(
                    [
                        pd.Series(before.to_numpy(), index=cand_ids[before.index].to_numpy()),
                        first_of[~first_of.index.isin(cand_ids[before.index])],
                    ]
                )
            text = (
                f"{plan.id_col} '"
                + incident_id[dup]
                + "' already used by "
                + incident_id[dup].map(first_of)
            )
            reject(dup, "duplicate_id", text.set_axis(np.flatnonzero(dup)))
    report(progress, "validating rows", 4, steps)

    # ------------------------------------------------------------- assemble
    keep = reason == ""
    kept_idx = np.flatnonzero(keep)

    def kept(values: pd.Series | np.ndarray | None, *, text: bool = False) -> pd.Series:
        if values is None:
            return pd.Series(np.nan, index=range(len(kept_idx)), dtype="str")
        series = pd.Series(values).iloc[kept_idx].reset_index(drop=True)
        if text:  # canonical text columns: "" means missing
            series = series.astype("str")
            series = series.where(series != "", np.nan)
        return series

    frame = pd.DataFrame(
        {
            INCIDENT_ID: kept(incident_id).astype("str"),
            OCCURRED_AT: kept(occurred_at),
            OCCURRED_TO: kept(occurred_to),
            OFFENCE: kept(offence).astype("str"),
            OFFENCE_CODE: kept(offence_code, text=True),
            DWELLING_BURGLARY: kept(dwelling).astype(bool),
            LOCATION: kept(loc_text, text=True),
            LSOA_CODE: kept(text_column(raw, plan.lsoa_col) if plan.lsoa_col else None, text=True),
            TIME_RESOLUTION: kept(resolution).astype("str"),
            SOURCE_FILE: kept(raw[SOURCE_FILE]).astype("str"),
            SOURCE_ROW: kept(raw[SOURCE_ROW]).astype("int64"),
        }
    )
    columns = list(INCIDENT_COLUMNS)
    if plan.outcome_col is not None or plan.context_col is not None:  # police.uk outcomes
        frame[LAST_OUTCOME] = kept(
            text_column(raw, plan.outcome_col) if plan.outcome_col else None, text=True
        )
        frame[CONTEXT] = kept(
            text_column(raw, plan.context_col) if plan.context_col else None, text=True
        )
        columns += list(OUTCOME_COLUMNS)
    if plan.lsoa_name_col is not None:  # police.uk 'LSOA name': districts without --areas
        frame[LSOA_NAME] = kept(text_column(raw, plan.lsoa_name_col), text=True)
        columns.append(LSOA_NAME)
    forces = _row_forces(raw, plan, always=tally is not None)
    if forces is not None:  # rows of several forces in one input: keep each row's force
        frame[FORCE] = kept(forces).astype("str")
        columns.append(FORCE)
    incidents = gpd.GeoDataFrame(frame[columns], geometry=points.to_numpy()[kept_idx], crs=working)

    raw_cols = [c for c in raw.columns if c not in (SOURCE_FILE, SOURCE_ROW, X_COL, Y_COL)]
    bad = np.flatnonzero(~keep)
    rejected = pd.concat(
        [
            pd.DataFrame(
                {
                    SOURCE_FILE: raw[SOURCE_FILE].to_numpy()[bad],
                    SOURCE_ROW: raw[SOURCE_ROW].to_numpy(dtype="int64")[bad],
                    REJECT_REASON: reason[bad].astype(str),
                    REJECT_DETAIL: detail.to_numpy()[bad].astype(str),
                }
            ),
            raw.iloc[bad][raw_cols].reset_index(drop=True),
        ],
        axis=1,
    )
    if geo_crs is not None:
        rejected["geometry_x"] = raw[X_COL].to_numpy()[bad]
        rejected["geometry_y"] = raw[Y_COL].to_numpy()[bad]
    malformed = _malformed_rows(tables)
    if len(malformed):
        rejected = pd.concat([rejected, malformed], ignore_index=True)

    # ------------------------------------------------------------- report
    notes.stage = 7
    if plan.police_uk:
        notes.append(SNAPPED_NOTE)
        if tally is not None:
            tally.forces(raw)
        else:
            force_note = _forces_note(raw)
            if force_note:
                notes.append(force_note)
    notes.stage = 8
    if plan.police_uk:  # the non-dwelling caveat belongs to police.uk's 'Burglary' only
        plain = incidents.loc[incidents[DWELLING_BURGLARY], OFFENCE].str.lower().eq("burglary")
        if plain.any():
            notes.append(BURGLARY_NOTE)
    notes.stage = 9
    if int(keep.sum()) == 0 and tally is None:  # a batched read says it of the whole
        notes.append(NONE_KEPT_NOTE)
    reasons = by_reason([*reason[~keep], *(["malformed_row"] * len(malformed))])
    dataset_res, date_min, date_max = kept_span(incidents, default_resolution=times.resolution)
    file_rows = [
        {
            "path": str(t.path),
            "file": t.path.name,
            "format": p.format,
            "rows": len(t.frame) + len(t.bad_lines),
            "encoding": t.encoding,
        }
        for t, p in zip(tables, plans, strict=True)
    ]
    crs_text = working.to_string()
    epsg = working.to_epsg()
    if epsg is not None:
        crs_text = f"EPSG:{epsg}"
    result_report = IngestReport(
        n_read=n + len(malformed),
        n_kept=int(keep.sum()),
        rejected_by_reason=reasons,
        date_min=date_min,
        date_max=date_max,
        time_resolution=str(dataset_res),
        crs=crs_text,
        files=tuple(file_rows),
        notes=tuple(dict.fromkeys(text for _, text in staged)),
    )
    if tally is not None:
        tally.keep(incidents, ~no_id[kept_idx])
    return IngestResult(incidents=incidents, rejected=rejected, report=result_report), staged


def _read_own(
    tables: list[RawTable],
    opts: IngestOptions,
    *,
    notes: list[str],
    today_end: pd.Timestamp,
    floor: pd.Timestamp | None,
    reject_implausible: bool,
) -> IngestResult:
    """IngestResult of hotspots' own typed tables (see :mod:`hotspots.ingest._own`)."""
    frame, geometry, rows, at, to = own_rows(
        tables, opts, today_end=today_end, floor=floor, reject_implausible=reject_implausible
    )
    keep = rows.free
    columns = own_columns(frame)
    everything = bool(keep.all())
    times = {OCCURRED_AT: at, OCCURRED_TO: to}
    if everything:  # the usual case: the columns as read, no row copied
        data = {c: (times[c] if c in times else frame[c]).reset_index(drop=True) for c in columns}
        kept = pd.DataFrame(data, copy=False)
        geoms = geometry
    else:
        kept = frame.loc[keep, columns].reset_index(drop=True)
        kept[OCCURRED_AT] = at[keep].array
        kept[OCCURRED_TO] = to[keep].array
        geoms = geometry[keep]
    # the geometries came from the file's own reader: wrap them, no per-row type check
    incidents = gpd.GeoDataFrame(kept, geometry=GeometryArray(geoms, crs=rows.crs), crs=rows.crs)
    bad = np.flatnonzero(~keep)
    reason, detail = rows.reasons(bad)
    others = [c for c in frame.columns if c not in (SOURCE_FILE, SOURCE_ROW)]
    picked = frame.iloc[bad] if len(bad) else frame.iloc[:0]  # a slice: no take when none
    rejected = pd.concat(
        [
            pd.DataFrame(
                {
                    SOURCE_FILE: picked[SOURCE_FILE].to_numpy(),
                    SOURCE_ROW: picked[SOURCE_ROW].to_numpy(dtype="int64"),
                    REJECT_REASON: reason.astype(str),
                    REJECT_DETAIL: detail.astype(str),
                }
            ),
            picked[others].astype("str").reset_index(drop=True),
        ],
        axis=1,
    )
    reasons = by_reason(reason)
    dataset_res, date_min, date_max = kept_span(incidents, default_resolution="day")
    if dataset_res == "month":
        notes = [*notes, SNAPPED_NOTE]
    epsg = rows.crs.to_epsg()
    report = IngestReport(
        n_read=len(frame),
        n_kept=int(keep.sum()),
        rejected_by_reason=reasons,
        date_min=date_min,
        date_max=date_max,
        time_resolution=str(dataset_res),
        crs=f"EPSG:{epsg}" if epsg is not None else rows.crs.to_string(),
        files=tuple(
            {
                "path": str(t.path),
                "file": t.path.name,
                "format": HOTSPOTS,
                "rows": len(t.frame),
                "encoding": t.encoding,
            }
            for t in tables
        ),
        notes=tuple(dict.fromkeys(notes)),
    )
    return IngestResult(incidents=incidents, rejected=rejected, report=report)


def _row_forces(raw: pd.DataFrame, plan: Plan, *, always: bool = False) -> np.ndarray | None:
    """Each row's force slug ('Falls within') when the rows span two or more forces, else None.

    A blank 'Falls within' is ``"unknown"``. Single-force inputs (the usual download) get
    no column, so their incidents are as before.
    """
    if plan.force_col is None or not len(raw):
        return None
    codes, names = pd.factorize(text_column(raw, plan.force_col).to_numpy(dtype=object))
    slugs = np.array([force_slug(n) for n in names], dtype=object)
    if len(set(slugs)) < 2 and not always:
        return None
    return slugs[codes]


def _no_id_note(n: int, plan: Plan) -> str:
    return (
        f"{n:,} rows have no {plan.id_col} (police.uk anti-social "
        f"behaviour has none); they got generated ids FILE#ROW and are not "
        f"treated as duplicates."
        if plan.police_uk
        else f"{n:,} rows have no {plan.id_col}; they got generated ids FILE#ROW."
    )


def _kept_note(n: int, what_kind: str) -> str:
    return f"Kept {n:,} rows dated {what_kind} (as asked); they move the default as-of and windows."


def _force_counts(raw: pd.DataFrame) -> pd.Series | None:
    """Rows per 'Falls within' text ("(blank)" for none), most first; None without the column."""
    col = next((c for c in raw.columns if column_key(c) == "falls_within"), None)
    if col is None:
        return None
    return text_column(raw, col).replace("", "(blank)").value_counts()


def _forces_note(raw: pd.DataFrame) -> str | None:
    """A note with the rows per force when a police.uk input mixes forces ('Falls within')."""
    counts = _force_counts(raw)
    return None if counts is None else _forces_text(counts)


def _forces_text(counts: pd.Series) -> str | None:
    if len(counts) < 2:
        return None
    listed = "; ".join(f"{name} {n:,}" for name, n in counts.head(10).items())
    more = f"; and {len(counts) - 10} more" if len(counts) > 10 else ""
    return (
        f"The input mixes {len(counts)} forces (police.uk 'Falls within'): {listed}{more}. "
        f"Check that is intended; per-force runs keep each force's study area apart."
    )


def _malformed_rows(tables: list[RawTable]) -> pd.DataFrame:
    """Rejected rows for the CSV lines that had the wrong number of fields."""
    rows = [
        {
            SOURCE_FILE: t.path.name,
            SOURCE_ROW: max(b.line - 1, 0),
            REJECT_REASON: "malformed_row",
            REJECT_DETAIL: (
                f"{t.path.name} line {b.line} has {b.actual} fields where the header has "
                f"{b.expected}: {b.text[:80]!r}; quote fields that contain commas"
            ),
        }
        for t in tables
        for b in t.bad_lines
    ]
    return pd.DataFrame(rows, columns=[SOURCE_FILE, SOURCE_ROW, REJECT_REASON, REJECT_DETAIL])


def _times(values: pd.Series, fmt: str | None, tz: str, what: str, column: str) -> ParsedTimes:
    """A date column parsed from text, or taken as it is when the file stored it typed."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return typed_times(values, tz=tz)
    return parse_times(values, fmt=fmt, tz=tz, what=what, column=column)


def _set_aside(tables: list[RawTable]) -> tuple[list[RawTable], list[str]]:
    """Tables to read, and notes on the files set aside whole (outcomes, polygons...)."""
    keep = [t for t in tables if t.skipped is None]
    gone = [t for t in tables if t.skipped is not None]
    notes = []
    polygons = [t for t in gone if t.skipped == "area polygons"]
    if polygons and not keep:
        msg = (
            f"{polygons[0].path.name} holds area polygons, not incident points; pass it as "
            f"--areas (or --boundary) and give the incident files as inputs."
        )
        raise InputError(msg)
    if not keep:
        kinds = sorted({str(t.skipped) for t in gone})
        msg = (
            f"{gone[0].path.name} is a {kinds[0]} file, not street crimes, and no street file "
            f"was given; pass the *-street.csv files (or their folder)."
        )
        raise InputError(msg)
    by_kind: dict[str, list[RawTable]] = {}
    for t in gone:
        by_kind.setdefault(str(t.skipped), []).append(t)
    for kind, group in by_kind.items():
        rows = sum(t.skipped_rows for t in group)
        names = ", ".join(t.path.name for t in group[:3]) + (", ..." if len(group) > 3 else "")
        advice = (
            "pass it as --areas (or --boundary)"
            if kind == "area polygons"
            else "they are not street crimes"
        )
        notes.append(f"Skipped {len(group):,} {kind} file(s) ({rows:,} rows: {names}); {advice}.")
    return keep, notes
