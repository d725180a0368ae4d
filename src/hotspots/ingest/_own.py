"""hotspots' own typed tables (the parquet ``hotspots ingest`` writes), read as they are.

Their columns are already canonical and typed (tz-aware times, booleans, point
geometry in a metric CRS) and carry the lineage of each row (``source_file``,
``source_row`` of the file it first came from), so nothing is cast to text and parsed
back: the same row rules as any input are applied to the typed columns directly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from pyproj import CRS

from hotspots.config import IngestOptions
from hotspots.ingest._coords import OUTSIDE_AREA, outside_working_area
from hotspots.ingest._dates import DATE_MAX, DATE_MIN, typed_times
from hotspots.ingest._files import RawTable
from hotspots.schema import (
    DWELLING_BURGLARY,
    FORCE,
    INCIDENT_COLUMNS,
    INCIDENT_ID,
    LSOA_NAME,
    OCCURRED_AT,
    OCCURRED_TO,
    OFFENCE,
    OUTCOME_COLUMNS,
    SOURCE_FILE,
    SOURCE_ROW,
    TIME_RESOLUTION,
    TIME_RESOLUTIONS,
)

__all__ = ["OwnRows", "ids_unique", "is_own_table", "own_rows"]

_OPTION_FIELDS = (
    "x_col",
    "y_col",
    "time_col",
    "time_to_col",
    "time_format",
    "offence_col",
    "offence",
    "id_col",
    "location_col",
    "crs",
    "boundary",
)


def _metric(crs: CRS | None) -> bool:
    if crs is None or not crs.is_projected:
        return False
    unit = crs.axis_info[0].unit_name if crs.axis_info else None
    return unit in {"metre", "meter"}


def is_own_table(tables: list[RawTable], opts: IngestOptions) -> bool:
    """Whether every table is a typed hotspots table that needs no mapping or parsing."""
    if any(getattr(opts, name, None) is not None for name in _OPTION_FIELDS):
        return False
    first = tables[0]
    for t in tables:
        frame = t.frame
        if t.geometry is None or t.geo_crs is None or not _metric(t.geo_crs):
            return False
        if not t.geo_crs.equals(first.geo_crs):
            return False
        if any(c not in frame.columns for c in INCIDENT_COLUMNS):
            return False
        if list(frame.columns) != list(first.frame.columns):
            return False
        if not isinstance(frame[OCCURRED_AT].dtype, pd.DatetimeTZDtype):
            return False
        if not pd.api.types.is_datetime64_any_dtype(frame[OCCURRED_TO].dtype):
            return False
        if not pd.api.types.is_bool_dtype(frame[DWELLING_BURGLARY].dtype):
            return False
        if not pd.api.types.is_integer_dtype(frame[SOURCE_ROW].dtype):
            return False
        if frame[SOURCE_FILE].isna().any():
            return False
    wanted = opts.working_crs
    return wanted is None or CRS.from_user_input(wanted).equals(first.geo_crs)


class OwnRows:
    """The typed rows of hotspots tables with one reason per unusable row.

    Reasons are kept as a small code per row (0: none yet), so the usual table with no
    unusable row never builds per-row text; :meth:`reasons` gives the text of some rows.
    """

    def __init__(self, frame: pd.DataFrame, geometry: np.ndarray, crs: CRS) -> None:
        self.frame = frame
        self.geometry = geometry
        self.crs = crs
        self.code = np.zeros(len(frame), dtype=np.uint8)  # index into self._texts, 0: none
        self._texts: list[tuple[str, str]] = [("", "")]

    @property
    def free(self) -> np.ndarray:
        """Rows with no reason yet."""
        return self.code == 0

    def reject(self, mask: np.ndarray, code: str, text: str) -> None:
        """Give ``code`` to the rows in ``mask`` that have no reason yet (first one wins)."""
        new = np.asarray(mask, dtype=bool) & (self.code == 0)
        if new.any():
            self._texts.append((code, text))
            self.code[new] = len(self._texts) - 1

    def reasons(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Reason codes and details (object arrays of text) of the given row positions."""
        table = np.array(self._texts, dtype=object).reshape(-1, 2)
        picked = table[self.code[rows]]
        return picked[:, 0], picked[:, 1]


_MIX_1 = np.uint64(0x9E3779B97F4A7C15)
_MIX_2 = np.uint64(0xC2B2AE3D27D4EB4F)
_ALL_BITS = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix(h: np.ndarray) -> np.ndarray:
    """A 64-bit finaliser (splitmix64's): every input bit moves every output bit."""
    with np.errstate(over="ignore"):
        h = (h ^ (h >> np.uint64(30))) * _MIX_1
        h = (h ^ (h >> np.uint64(27))) * _MIX_2
        return h ^ (h >> np.uint64(31))


def _string_keys(chunk: pa.Array) -> np.ndarray:
    """A 64-bit key of each string of an Arrow string chunk without nulls.

    The key mixes the string's byte length and its first and last 8 bytes (bytes outside
    the string masked to zero), so equal strings always have equal keys; different
    strings may share one (the caller compares those exactly).
    """
    n = len(chunk)
    buffers = chunk.buffers()
    wide = pa.types.is_large_string(chunk.type)
    raw = np.frombuffer(buffers[1], dtype=np.int64 if wide else np.int32)
    offsets: np.ndarray = raw[chunk.offset : chunk.offset + n + 1].astype(np.int64)
    lo, hi = int(offsets[0]), int(offsets[-1])
    start, end = offsets[:-1] - lo, offsets[1:] - lo
    length = (end - start).astype(np.uint64)
    if hi - lo < 8:  # under 8 bytes in all: one padded word
        data = np.zeros(8, dtype=np.uint8)
        data[: hi - lo] = np.frombuffer(buffers[2], dtype=np.uint8)[lo:hi]
        size, base = 8, data.data
    else:
        size, base = hi - lo, memoryview(buffers[2])[lo:hi]
    # every 8 bytes from each byte position, as one unaligned little-endian word
    words = np.ndarray(shape=(size - 7,), dtype="<u8", buffer=base, strides=(1,))
    head = np.minimum(start, size - 8)  # a string near the end: read back, shift down
    first = words[head] >> ((start - head).astype(np.uint64) * np.uint64(8))
    tail = np.maximum(end - 8, 0)  # a string near the start: read on, shift up
    last = words[tail] << ((tail - (end - 8)).astype(np.uint64) * np.uint64(8))
    short = length < 8
    if short.any():  # keep only the string's own bytes of a string under 8 bytes
        bits = np.minimum(length, np.uint64(7)) * np.uint64(8)
        first = np.where(short, first & ((np.uint64(1) << bits) - np.uint64(1)), first)
        last = np.where(short, last & ~(_ALL_BITS >> bits), last)
    with np.errstate(over="ignore"):
        return _mix(_mix(_mix(first) + last) + length)


def ids_unique(ids: pd.Series) -> bool:
    """Whether no two ids are equal (missing ids count as equal), as ``ids.is_unique``.

    Arrow-backed text is checked on 64-bit keys of each id (:func:`_string_keys`); only
    ids whose key repeats are compared as text, so the usual all-unique column never
    builds a hash table of its strings (which costs a copy of every id).
    """
    values = ids.array
    chunked = getattr(values, "_pa_array", None)
    if (
        not isinstance(chunked, pa.ChunkedArray)
        or chunked.null_count
        or not (pa.types.is_string(chunked.type) or pa.types.is_large_string(chunked.type))
    ):
        return bool(ids.is_unique)
    parts = [_string_keys(c) for c in chunked.chunks if len(c)]
    keys = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
    if len(pd.unique(keys)) == len(keys):
        return True
    shared = pd.Series(keys).duplicated(keep=False).to_numpy()
    return bool(ids[shared].is_unique)


def own_rows(
    tables: list[RawTable],
    opts: IngestOptions,
    *,
    today_end: pd.Timestamp,
    floor: pd.Timestamp | None,
    reject_implausible: bool,
) -> tuple[pd.DataFrame, np.ndarray, OwnRows, pd.Series, pd.Series]:
    """Typed hotspots rows checked by the row rules.

    Returns the combined frame, the geometries, the reasons, and the occurred_at /
    occurred_to columns in the run's time zone.
    """
    frame = (
        pd.concat([t.frame for t in tables], ignore_index=True)
        if len(tables) > 1
        else tables[0].frame
    )
    parts = [(t.geometry, t.geo_x, t.geo_y) for t in tables]
    if any(g is None or x is None or y is None for g, x, y in parts) or tables[0].geo_crs is None:
        msg = "own_rows needs spatial tables (check is_own_table first)"
        raise TypeError(msg)
    geometry = np.concatenate([p[0] for p in parts])
    rows = OwnRows(frame, geometry, tables[0].geo_crs)
    at = typed_times(frame[OCCURRED_AT], tz=opts.tz, resolution=False)
    to = typed_times(frame[OCCURRED_TO], tz=opts.tz, resolution=False)
    span = f"{DATE_MIN.year}-{DATE_MAX.year}"
    rows.reject(at.empty, "unparseable_date", f"{OCCURRED_AT} is empty")
    rows.reject(at.outside, "date_out_of_range", f"{OCCURRED_AT} is outside {span}")
    rows.reject(to.outside, "date_out_of_range", f"{OCCURRED_TO} is outside {span}")
    if reject_implausible:
        when = at.values
        rows.reject(
            (when > today_end).to_numpy(dtype=bool),
            "future_date",
            f"{OCCURRED_AT} is after the run date {today_end.date()}",
        )
        if floor is not None:
            rows.reject(
                (when < floor).to_numpy(dtype=bool),
                "date_before_floor",
                f"{OCCURRED_AT} is before {floor.date()}, too early to be plausible",
            )
    if all(t.present is not None for t in tables):  # worked out when the file was read
        missing = ~np.concatenate([t.present for t in tables])
    else:
        missing = shapely.is_missing(geometry) | shapely.is_empty(geometry)
    rows.reject(missing, "no_location", "geometry is empty")
    x = np.concatenate([p[1] for p in parts])
    y = np.concatenate([p[2] for p in parts])
    away = ~missing & outside_working_area(x, y, rows.crs, lon=None, lat=None)
    rows.reject(
        away,
        OUTSIDE_AREA,
        f"point lies outside the area of use of the working CRS {rows.crs.to_string()}",
    )
    offence = frame[OFFENCE]
    names = pd.Series(offence.dropna().unique(), dtype="str")
    blank = names[names.str.strip() == ""].tolist()  # a dozen names, not every row
    rows.reject(
        (offence.isna() | offence.isin(blank)).to_numpy(dtype=bool),
        "unknown_offence",
        f"{OFFENCE} is empty",
    )
    if TIME_RESOLUTION in frame:
        bad_res = ~frame[TIME_RESOLUTION].isin(TIME_RESOLUTIONS).to_numpy(dtype=bool)
        rows.reject(
            bad_res, "unparseable_date", f"{TIME_RESOLUTION} is not one of {TIME_RESOLUTIONS}"
        )
    ids = frame[INCIDENT_ID]
    if not ids_unique(ids):  # the usual case (ids were made unique by ingest) is cheap
        candidates = rows.free
        dup = np.zeros(len(frame), dtype=bool)
        dup[np.flatnonzero(candidates)] = ids[candidates].duplicated(keep="first").to_numpy()
        rows.reject(dup, "duplicate_id", f"{INCIDENT_ID} repeats an earlier row")
    return frame, geometry, rows, at.values, to.values


def own_columns(frame: pd.DataFrame) -> list[str]:
    """Canonical columns to keep from a hotspots table (outcome columns when present)."""
    extra = [c for c in (*OUTCOME_COLUMNS, LSOA_NAME, FORCE) if c in frame.columns]
    return [*INCIDENT_COLUMNS, *extra]
