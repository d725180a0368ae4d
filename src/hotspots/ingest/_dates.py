"""Parsing date/time text columns into timezone-aware timestamps (private).

Recognised without a format: ``YYYY-MM`` (police.uk months), ISO 8601 dates and
date-times (with or without an offset or ``Z``), and day/month/year or month/day/year
with ``/``, ``.`` or ``-`` when the values prove which order is meant (a first number
above 12 proves day-first). An order the values cannot prove is an error, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hotspots.errors import OptionError, SchemaError

__all__ = [
    "DATE_MAX",
    "DATE_MIN",
    "ParsedTimes",
    "check_tz",
    "day_end",
    "in_bounds",
    "month_end",
    "parse_times",
    "typed_times",
]

_MONTH = re.compile(r"^\d{4}-\d{2}$")
_ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_OFFSET = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
# groups: day-or-month, separator, month-or-day, separator, year, hour, minute, second, am/pm
# (no back-reference, so pyarrow's RE2 engine runs it; separators are compared afterwards)
_DMY = re.compile(
    r"^(\d{1,2})([/.-])(\d{1,2})([/.-])(\d{4})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$"
)
_LAYOUT_SAMPLE = 5_000  # distinct values used to recognise the layout
_ARROW_TEXT = "string[pyarrow]"  # regexes run vectorised in pyarrow (RE2)
# the dates a nanosecond timestamp holds, in whole years (pandas' own limits are
# 1677-09-21 and 2262-04-11); dates outside are rejected rows, never a crash
DATE_MIN = pd.Timestamp("1678-01-01")
DATE_MAX = pd.Timestamp("2261-12-31 23:59:59")
_FORMATS_HINT = "--time-format %d/%m/%Y (day first) or --time-format %m/%d/%Y (month first)"


@dataclass(frozen=True)
class ParsedTimes:
    """Timestamps (tz-aware, NaT where unusable), how they were read, and what failed."""

    values: pd.Series  # datetime64[ns, tz]
    failed: np.ndarray  # bool: non-empty text that could not be read
    empty: np.ndarray  # bool: missing value
    resolution: str  # "exact" | "day" | "month"
    how: str  # e.g. "YYYY-MM", "ISO 8601", "%d/%m/%Y"
    out_of_range: np.ndarray | None = None  # bool: a date outside DATE_MIN..DATE_MAX

    @property
    def outside(self) -> np.ndarray:
        """Rows whose date was read but lies outside DATE_MIN..DATE_MAX."""
        if self.out_of_range is None:
            return np.zeros(len(self.values), dtype=bool)
        return self.out_of_range


def _matches(text: pd.Series, pattern: str) -> pd.Series:
    """Boolean Series: ``pattern`` (anchored by the caller) found in each value, via pyarrow."""
    arrow = pa.array(text.astype(_ARROW_TEXT).array)
    found = pc.match_substring_regex(arrow, pattern).to_numpy(zero_copy_only=False)
    return pd.Series(np.asarray(found, dtype=bool), index=text.index)


def check_tz(tz: str) -> str:
    try:
        pd.Timestamp("2020-01-01").tz_localize(tz)
    except Exception as exc:  # noqa: BLE001 - pytz/zoneinfo raise different types
        msg = f"--tz {tz!r} is not a time zone name; use e.g. Europe/London or America/Chicago."
        raise OptionError(msg) from exc
    return tz


def in_bounds(parsed: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Dates outside DATE_MIN..DATE_MAX set to NaT, and the mask of those dates.

    ``parsed`` may be of any unit (pandas 3 keeps microseconds), naive or aware.
    """
    if len(parsed) == 0 or not pd.api.types.is_datetime64_any_dtype(parsed.dtype):
        return parsed, np.zeros(len(parsed), dtype=bool)
    aware = isinstance(parsed.dtype, pd.DatetimeTZDtype)
    lo, hi = parsed.min(), parsed.max()  # two reductions decide the usual case
    if pd.isna(lo) or (
        (lo.tz_convert(None) if aware else lo) >= DATE_MIN
        and (hi.tz_convert(None) if aware else hi) <= DATE_MAX
    ):
        return parsed, np.zeros(len(parsed), dtype=bool)
    naive = parsed.dt.tz_convert("UTC").dt.tz_localize(None) if aware else parsed
    outside = (naive.notna() & ((naive < DATE_MIN) | (naive > DATE_MAX))).to_numpy(dtype=bool)
    if outside.any():
        parsed = parsed.where(~outside)
    return parsed, outside


def _localise(naive: pd.Series, tz: str) -> pd.Series:
    """Naive local times -> tz-aware; clock-change gaps shift forward, repeats take DST."""
    ambiguous = np.ones(len(naive), dtype=bool)
    return naive.dt.tz_localize(tz, ambiguous=ambiguous, nonexistent="shift_forward")


def _resolution(values: pd.Series) -> str:
    ok = values.dropna()
    if len(ok) == 0:
        return "day"
    local = ok.dt.tz_localize(None) if ok.dt.tz is not None else ok
    has_time = (local != local.dt.normalize()).any()
    return "exact" if has_time else "day"


def month_end(starts: pd.Series) -> pd.Series:
    """Last second of each month that ``starts`` (tz-aware month starts) begin."""
    tz = starts.dt.tz
    naive = starts.dt.tz_localize(None)
    ends = naive + pd.offsets.MonthBegin(1) - pd.Timedelta(seconds=1)
    return _localise(ends.astype("datetime64[ns]"), tz)


def _parse_iso(text: pd.Series, tz: str) -> pd.Series:
    has_offset = _matches(text, _OFFSET)
    out = pd.Series(pd.NaT, index=text.index, dtype=f"datetime64[ns, {tz}]")
    if has_offset.any():
        aware = pd.to_datetime(text[has_offset], format="ISO8601", utc=True, errors="coerce")
        aware, _ = in_bounds(aware)
        out[has_offset] = aware.dt.tz_convert(tz).astype(out.dtype)
    naive_rows = ~has_offset
    if naive_rows.any():
        naive = pd.to_datetime(text[naive_rows], format="ISO8601", errors="coerce")
        naive, _ = in_bounds(naive)
        out[naive_rows] = _localise(naive.astype("datetime64[ns]"), tz)
    return out


def _parse_format(text: pd.Series, fmt: str, tz: str, *, what: str, column: str) -> pd.Series:
    try:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    except ValueError as exc:
        msg = (
            f"--time-format {fmt!r} is not a valid date format for {what} column {column!r}: {exc}"
        )
        raise OptionError(msg) from exc
    parsed, _ = in_bounds(parsed)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        return parsed.dt.tz_convert(tz).astype(f"datetime64[ns, {tz}]")
    if parsed.notna().any() and getattr(parsed.dt, "tz", None) is None:
        return _localise(parsed.astype("datetime64[ns]"), tz)
    return parsed.astype("datetime64[ns]").dt.tz_localize(tz)


def _dmy_order(text: pd.Series, *, what: str, column: str) -> tuple[str, pd.DataFrame]:
    """'dmy' or 'mdy' as proven by the values, else a one-line error."""
    parts = text.str.extract(_DMY)
    parts = parts.where((parts[1] == parts[3]).fillna(False), axis=0)  # 1/2-2016 is not a date
    first = pd.to_numeric(parts[0], errors="coerce")
    second = pd.to_numeric(parts[2], errors="coerce")
    day_first = bool((first > 12).any())
    month_first = bool((second > 12).any())
    example = str(text[parts[0].notna()].iloc[0])
    if day_first and month_first:
        a = str(text[(first > 12).fillna(False)].iloc[0])
        b = str(text[(second > 12).fillna(False)].iloc[0])
        msg = (
            f"{what} column {column!r} mixes day-first ({a!r}) and month-first ({b!r}) "
            f"dates; fix the file, then pass {_FORMATS_HINT}."
        )
        raise SchemaError(msg)
    if not day_first and not month_first:
        msg = (
            f"{what} column {column!r} has ambiguous dates such as {example!r} (day/month or "
            f"month/day?); it is never guessed: pass {_FORMATS_HINT}."
        )
        raise SchemaError(msg)
    return ("dmy" if day_first else "mdy"), parts


def _number(values: pd.Series, errors: str = "coerce") -> pd.Series:
    """Text -> float64 (NaN where missing), whatever the text dtype."""
    return pd.to_numeric(values, errors=errors).astype("float64")


def _parse_dmy(text: pd.Series, tz: str, *, what: str, column: str) -> tuple[pd.Series, str]:
    order, parts = _dmy_order(text, what=what, column=column)
    day = parts[0] if order == "dmy" else parts[2]
    month = parts[2] if order == "dmy" else parts[0]
    hour = _number(parts[5], errors="coerce").fillna(0)
    ampm = parts[8].astype("string").str.lower()
    pm = (ampm == "pm").fillna(False).to_numpy(dtype=bool)
    am = (ampm == "am").fillna(False).to_numpy(dtype=bool)
    hour = hour.where(~(pm & (hour < 12).to_numpy()), hour + 12)
    hour = hour.where(~(am & (hour == 12).to_numpy()), 0)
    frame = pd.DataFrame(
        {
            "year": _number(parts[4], errors="coerce"),
            "month": _number(month, errors="coerce"),
            "day": _number(day, errors="coerce"),
            "hour": hour,
            "minute": _number(parts[6], errors="coerce").fillna(0),
            "second": _number(parts[7], errors="coerce").fillna(0),
        }
    )
    naive, _ = in_bounds(pd.to_datetime(frame, errors="coerce"))
    sep = parts[1].dropna().iloc[0] if parts[1].notna().any() else "/"
    how = f"%d{sep}%m{sep}%Y" if order == "dmy" else f"%m{sep}%d{sep}%Y"
    if parts[5].notna().any():
        how += " %H:%M"
    return _localise(naive.astype("datetime64[ns]"), tz), how


def parse_times(
    values: pd.Series, *, fmt: str | None, tz: str, what: str, column: str
) -> ParsedTimes:
    """Parse a text column of dates/times into tz-aware timestamps.

    Parameters
    ----------
    values
        Text ("" for missing).
    fmt
        ``strftime`` format; when None the layout is recognised from the values.
    tz
        Zone of naive times; offset times are converted into it.
    what, column
        File name and column name for messages.
    """
    check_tz(tz)
    # parse each distinct text once (police.uk has 12 months in 150,000 rows)
    codes, uniques = pd.factorize(values.astype(_ARROW_TEXT).str.strip().fillna(""))
    parsed = _parse_unique(
        pd.Series(uniques, dtype=_ARROW_TEXT), fmt=fmt, tz=tz, what=what, column=column
    )
    out = pd.Series(parsed.values.take(codes).array, index=values.index)
    return ParsedTimes(
        out,
        parsed.failed[codes],
        parsed.empty[codes],
        parsed.resolution,
        parsed.how,
        parsed.outside[codes],
    )


def typed_times(values: pd.Series, *, tz: str, resolution: bool = True) -> ParsedTimes:
    """Timestamps from a column that is already a datetime (typed files: no text round trip).

    Aware times are converted into ``tz``, naive ones read in it; dates outside
    DATE_MIN..DATE_MAX are marked ``out_of_range``.
    """
    check_tz(tz)
    values, outside = in_bounds(values)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        out = values.dt.tz_convert(tz).astype(f"datetime64[ns, {tz}]")
    else:
        out = _localise(values.astype("datetime64[ns]"), tz)
    empty = values.isna().to_numpy(dtype=bool) & ~outside
    out = out.set_axis(values.index)
    res = _resolution(out) if resolution else "exact"  # callers with a per-row column skip it
    return ParsedTimes(out, np.zeros(len(out), dtype=bool), empty, res, "typed", outside)


def _parse_unique(
    text: pd.Series, *, fmt: str | None, tz: str, what: str, column: str
) -> ParsedTimes:
    empty = (text == "").to_numpy()
    present = text[~empty]
    index = text.index
    if len(present) == 0:
        blank = pd.Series(pd.NaT, index=index, dtype=f"datetime64[ns, {tz}]")
        return ParsedTimes(blank, np.zeros(len(text), bool), empty, "day", "empty")
    if fmt is not None:
        parsed = _parse_format(present, fmt, tz, what=what, column=column)
        how = fmt
        resolution = "month" if not re.search(r"%[dj]", fmt) else _resolution(parsed)
    else:
        # recognise the layout on an even sample of the distinct values, then match all
        step = max(1, len(present) // _LAYOUT_SAMPLE)
        sample = present.iloc[::step]
        patterns = {"month": _MONTH.pattern, "iso": _ISO.pattern, "dmy": _DMY.pattern}
        counts = {k: int(_matches(sample, p).sum()) for k, p in patterns.items()}
        layout = max(counts, key=lambda k: counts[k])
        fits = _matches(present, patterns[layout])
        is_month = is_iso = is_dmy = fits
        if counts[layout] == 0:
            example = str(present.iloc[0])
            msg = (
                f"{what} column {column!r} has dates in a layout hotspots does not recognise, "
                f"e.g. {example!r}; pass --time-format (e.g. --time-format '%d %b %Y %H:%M')."
            )
            raise SchemaError(msg)
        if layout == "month":
            months, _ = in_bounds(
                pd.to_datetime(present.where(is_month) + "-01", format="%Y-%m-%d", errors="coerce")
            )
            parsed = _localise(months.astype("datetime64[ns]"), tz)
            how, resolution = "YYYY-MM", "month"
        elif layout == "iso":
            parsed = _parse_iso(present.where(is_iso, ""), tz)
            how, resolution = "ISO 8601", _resolution(parsed)
        else:
            parsed, how = _parse_dmy(present.where(is_dmy), tz, what=what, column=column)
            resolution = _resolution(parsed)
    out = pd.Series(pd.NaT, index=index, dtype=f"datetime64[ns, {tz}]")
    out[present.index] = parsed.astype(out.dtype)
    failed = (~empty) & out.isna().to_numpy()
    outside = np.zeros(len(text), dtype=bool)
    if failed.any():
        outside[failed] = _year_outside(text[failed])
    return ParsedTimes(out, failed & ~outside, empty, resolution, how, outside)


def _year_outside(text: pd.Series) -> np.ndarray:
    """Whether each (unreadable) text names a year outside DATE_MIN..DATE_MAX.

    Every recognised layout and ``%Y`` format writes the year as four digits; a value
    that failed to parse and holds such a year (9999-12-31, 0001-01-01) was a date too
    far out for a timestamp, not a typo.
    """
    years = pd.to_numeric(
        text.astype("str").str.extract(r"(?<!\d)(\d{4})(?!\d)", expand=False), errors="coerce"
    )
    return ((years < DATE_MIN.year) | (years > DATE_MAX.year)).fillna(False).to_numpy(dtype=bool)


def day_end(value: str | pd.Timestamp | None, tz: str, *, option: str) -> pd.Timestamp:
    """``value`` as a moment in ``tz``; a date alone means the end of that day; None: now.

    Used for the run date (``today``) and the date floor of every input.
    """
    check_tz(tz)
    if value is None:
        return pd.Timestamp.now(tz=tz)
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        msg = f"{option} {value!r} is not a date; use YYYY-MM-DD (e.g. 2025-12-31)."
        raise OptionError(msg) from exc
    if stamp is pd.NaT:
        msg = f"{option} {value!r} is not a date; use YYYY-MM-DD (e.g. 2025-12-31)."
        raise OptionError(msg)
    if stamp.tzinfo is None:
        if stamp == stamp.normalize():
            stamp = stamp + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
        stamp = stamp.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return stamp.tz_convert(tz)
