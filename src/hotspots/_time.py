"""The run's date and windows: one as-of rule and one window rule for every resolution.

* **As-of.** An explicit date means the end of that day (its last second); with no date
  the as-of is the end of the last day the data covers (the end of the last month for
  month-resolution data). The same rule holds for ``exact``, ``day`` and ``month`` data.
* **Windows.** On day or exact data a look-back of N days is the N whole local days
  ending on the as-of day. On month data (police.uk) it is the ``round(N / 30.4375)``
  whole months (at least one) ending at the latest month that is complete at the as-of:
  at as-of 2026-01-07 December 2025 is the last complete month, so a 365-day look-back
  is 2025-01..2025-12, exactly as at 2025-12-31.
* **Membership.** A month-resolution incident covers its whole month and belongs to a
  window when its month overlaps the window; other incidents belong when their time
  falls inside ``[start, stop)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots.errors import OptionError
from hotspots.schema import OCCURRED_AT, OCCURRED_TO, RESOLUTION_DAYS, TIME_RESOLUTION

__all__ = [
    "DAYS_PER_MONTH",
    "Window",
    "analysis_window",
    "data_resolution",
    "default_as_of",
    "in_window",
    "months_of",
    "parse_as_of",
    "resolve_as_of",
]

DAYS_PER_MONTH = 30.4375  # mean Gregorian month: 365.25 / 12


@dataclass(frozen=True)
class Window:
    """A look-back window: local times ``[start, stop)`` and how it was chosen.

    ``months`` is the number of whole months on month data (None on day/exact data).
    """

    start: pd.Timestamp
    stop: pd.Timestamp
    resolution: str
    months: int | None = None

    @property
    def last_day(self) -> pd.Timestamp:
        """Midnight of the window's last day."""
        return (self.stop - pd.Timedelta(days=1)).normalize()

    @property
    def label(self) -> str:
        """``"2025-01..2025-12"`` on month data, ``"2025-01-01..2025-12-31"`` otherwise."""
        if self.months is not None:
            return f"{self.start:%Y-%m}..{self.last_day:%Y-%m}"
        return f"{self.start:%Y-%m-%d}..{self.last_day:%Y-%m-%d}"

    @property
    def last_month(self) -> str:
        """``"2025-12"``: the month of the window's last day."""
        return f"{self.last_day:%Y-%m}"

    def previous(self) -> Window:
        """The equal window just before this one (for the trend)."""
        if self.months is not None:
            start = _month_start(self.start) - pd.DateOffset(months=self.months)
            return Window(_relocal(start, self.start), self.start, self.resolution, self.months)
        length = (self.stop.normalize() - self.start.normalize()).days
        start = _relocal(self.start.tz_localize(None) - pd.Timedelta(days=length), self.start)
        return Window(start, self.start, self.resolution, None)

    def shifted(self, *, days: int) -> Window:
        """The window of a run ``days`` earlier: one month earlier on month data."""
        if self.months is not None:
            stop = _relocal(self.stop.tz_localize(None) - pd.DateOffset(months=1), self.stop)
            start = _relocal(self.start.tz_localize(None) - pd.DateOffset(months=1), self.start)
            return Window(start, stop, self.resolution, self.months)
        shift = pd.Timedelta(days=days)
        return Window(
            _relocal(self.start.tz_localize(None) - shift, self.start),
            _relocal(self.stop.tz_localize(None) - shift, self.stop),
            self.resolution,
            None,
        )


def _relocal(wall: pd.Timestamp, like: pd.Timestamp) -> pd.Timestamp:
    """Wall-clock midnight ``wall`` in the time zone of ``like`` (naive stays naive)."""
    wall = pd.Timestamp(wall)
    if wall.tzinfo is not None:
        wall = wall.tz_localize(None)
    if like.tzinfo is None:
        return wall
    return wall.tz_localize(like.tzinfo, ambiguous=True, nonexistent="shift_forward")


def _month_start(stamp: pd.Timestamp) -> pd.Timestamp:
    wall = stamp.tz_localize(None) if stamp.tzinfo is not None else stamp
    return wall.normalize().replace(day=1)


def local_timestamp(value: object, tz: Any, *, error: str) -> pd.Timestamp:
    """``value`` as a timestamp in ``tz`` (naive ones localised, aware ones converted).

    The one parse of a date option; ``error`` is the one-line message (an
    :class:`~hotspots.errors.OptionError`) when ``value`` is not a date. ``tz`` None
    returns the timestamp as parsed.
    """
    try:
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:
        raise OptionError(error) from exc
    if stamp is pd.NaT:
        raise OptionError(error)
    if tz is None:
        return stamp
    return stamp.tz_localize(tz) if stamp.tzinfo is None else stamp.tz_convert(tz)


def parse_as_of(text: str, tz: Any) -> pd.Timestamp:
    """``--as-of`` as a time in ``tz``; a date alone means the end of that day.

    Examples
    --------
    >>> parse_as_of("2025-12-31", "Europe/London")
    Timestamp('2025-12-31 23:59:59+0000', tz='Europe/London')
    """
    try:
        stamp = pd.Timestamp(text)
    except ValueError as exc:
        msg = f"--as-of {text!r} is not a date; use YYYY-MM-DD (e.g. 2025-12-31)."
        raise OptionError(msg) from exc
    if stamp is pd.NaT:
        msg = f"--as-of {text!r} is not a date; use YYYY-MM-DD (e.g. 2025-12-31)."
        raise OptionError(msg)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(tz) if tz is not None else stamp
        if len(text.strip()) <= 10:  # a date alone means the end of that day
            stamp = stamp + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    return stamp


def data_resolution(incidents: gpd.GeoDataFrame) -> str:
    """The dataset's resolution: its coarsest row (``exact`` when there is no column)."""
    if TIME_RESOLUTION not in incidents.columns or len(incidents) == 0:
        return "exact"
    values = {str(v) for v in incidents[TIME_RESOLUTION].dropna().unique()}
    values &= set(RESOLUTION_DAYS)
    return max(values, key=RESOLUTION_DAYS.__getitem__) if values else "exact"


def _end_of_day(stamp: pd.Timestamp) -> pd.Timestamp:
    """Last second of ``stamp``'s local day (clock changes included)."""
    next_day = _relocal(stamp.tz_localize(None).normalize() + pd.Timedelta(days=1), stamp)
    return next_day - pd.Timedelta(seconds=1)


def default_as_of(incidents: gpd.GeoDataFrame) -> pd.Timestamp:
    """End of the last day (the last month, for month data) the data covers.

    Examples
    --------
    >>> inc = gpd.GeoDataFrame({"occurred_at": pd.DatetimeIndex(
    ...     ["2025-12-01"], tz="Europe/London"), "time_resolution": ["month"]})
    >>> default_as_of(inc)
    Timestamp('2025-12-31 23:59:59+0000', tz='Europe/London')
    """
    times = incidents[OCCURRED_AT]
    latest = times.max()
    if pd.isna(latest):
        msg = "incidents have no dates; cannot choose --as-of. Check the time column."
        raise OptionError(msg)
    latest = pd.Timestamp(latest)
    if TIME_RESOLUTION in incidents.columns:
        monthly = (incidents[TIME_RESOLUTION].astype(str) == "month").to_numpy()
        if monthly.any():
            last_month = _relocal(_month_start(times[monthly].max()), latest)
            month_end = _relocal(
                last_month.tz_localize(None) + pd.DateOffset(months=1), latest
            ) - pd.Timedelta(seconds=1)
            latest = max(latest, month_end)
    if OCCURRED_TO in incidents.columns and incidents[OCCURRED_TO].notna().any():
        latest = max(latest, pd.Timestamp(incidents[OCCURRED_TO].max()))
    return _end_of_day(latest)


def resolve_as_of(as_of: object, incidents: gpd.GeoDataFrame) -> pd.Timestamp:
    """The one as-of rule: None -> :func:`default_as_of`; a date -> the end of that day.

    A time of day given explicitly (``"2025-12-31 12:00"``, or a Timestamp not at
    midnight) is kept as it is.
    """
    tz = incidents[OCCURRED_AT].dt.tz
    if as_of is None:
        return default_as_of(incidents)
    if isinstance(as_of, str):
        return parse_as_of(as_of, tz)
    stamp = local_timestamp(
        as_of, tz, error=f"as_of must be a date such as 2025-12-31; got {as_of!r}."
    )
    wall = stamp.tz_localize(None) if stamp.tzinfo is not None else stamp
    if wall == wall.normalize():  # a date: the end of that day
        stamp = (
            _end_of_day(stamp)
            if stamp.tzinfo is not None
            else wall + pd.Timedelta(days=1, seconds=-1)
        )
    return stamp


def months_of(lookback_days: int) -> int:
    """Whole months of a look-back on month data: ``round(days / 30.4375)``, at least 1.

    Examples
    --------
    >>> months_of(365), months_of(30), months_of(90), months_of(7)
    (12, 1, 3, 1)
    """
    return max(1, round(lookback_days / DAYS_PER_MONTH))


def analysis_window(as_of: pd.Timestamp, *, lookback_days: int, resolution: str) -> Window:
    """The look-back window ending at ``as_of`` for data of ``resolution``.

    Examples
    --------
    >>> w = analysis_window(pd.Timestamp("2026-01-07 23:59:59", tz="Europe/London"),
    ...                     lookback_days=365, resolution="month")
    >>> w.label
    '2025-01..2025-12'
    >>> analysis_window(pd.Timestamp("2025-12-31 23:59:59"), lookback_days=7,
    ...                 resolution="day").label
    '2025-12-25..2025-12-31'
    """
    as_of = pd.Timestamp(as_of)
    wall = as_of.tz_localize(None) if as_of.tzinfo is not None else as_of
    if resolution == "month":
        n = months_of(lookback_days)
        # the month of as_of is complete only when as_of is its last second (or later)
        this_month = wall.normalize().replace(day=1)
        next_month = this_month + pd.DateOffset(months=1)
        complete = wall >= next_month - pd.Timedelta(seconds=1)
        stop_wall = next_month if complete else this_month
        start_wall = stop_wall - pd.DateOffset(months=n)
        return Window(_relocal(start_wall, as_of), _relocal(stop_wall, as_of), resolution, n)
    stop_wall = wall.normalize() + pd.Timedelta(days=1)
    start_wall = stop_wall - pd.Timedelta(days=int(lookback_days))
    return Window(_relocal(start_wall, as_of), _relocal(stop_wall, as_of), resolution, None)


def in_window(incidents: pd.DataFrame, window: Window) -> np.ndarray:
    """Rows of ``incidents`` in ``window``: by month overlap for month-resolution rows.

    Examples
    --------
    >>> inc = pd.DataFrame({"occurred_at": pd.DatetimeIndex(
    ...     ["2025-11-01", "2025-12-01", "2025-12-02 10:00"], tz="UTC"),
    ...     "time_resolution": ["month", "month", "exact"]})
    >>> w = analysis_window(pd.Timestamp("2025-12-03 23:59:59", tz="UTC"),
    ...                     lookback_days=2, resolution="day")
    >>> in_window(inc, w).tolist()  # December's month row overlaps 2-3 Dec
    [False, True, True]
    """
    times = incidents[OCCURRED_AT]
    point = ((times >= window.start) & (times < window.stop)).to_numpy(dtype=bool, na_value=False)
    if TIME_RESOLUTION not in incidents.columns:
        return point
    monthly = (incidents[TIME_RESOLUTION].astype(str) == "month").to_numpy()
    if not monthly.any():
        return point
    tz = times.dt.tz
    wall = times[monthly].dt.tz_localize(None) if tz is not None else times[monthly]
    first = wall.dt.normalize() - pd.to_timedelta(wall.dt.day - 1, unit="D")
    after = first + pd.offsets.MonthBegin(1)
    if tz is not None:
        first = first.dt.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
        after = after.dt.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    overlap = ((first < window.stop) & (after > window.start)).to_numpy(dtype=bool, na_value=False)
    out = point.copy()
    out[monthly] = overlap
    return out
