"""Reporting periods: which months a period covers, its comparison period, and coverage.

Force performance papers compare "the 12 months to December 2021" with "the 12 months to
December 2020". A period here is a closed range of calendar days; on month-resolution data
(police.uk) it must be whole months, and an incident belongs to it by its month.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from hotspots._validate import check_choice
from hotspots.errors import DataQualityWarning, EmptyWindowError, HotspotsError, OptionError
from hotspots.schema import OCCURRED_AT, OCCURRED_TO, TIME_RESOLUTION

__all__ = [
    "AGAINST_CHOICES",
    "Against",
    "IncompletePeriodError",
    "Period",
    "check_coverage",
    "comparison_period",
    "in_period",
    "incident_months",
    "parse_day",
    "period_from",
    "periods_record",
]

Against = Literal["previous", "same-period-last-year", "dates"]
AGAINST_CHOICES: tuple[str, ...] = get_args(Against)


class IncompletePeriodError(HotspotsError, ValueError):
    """A reporting period includes months the data does not cover."""


@dataclass(frozen=True)
class Period:
    """A closed range of calendar days, ``start`` to ``end`` inclusive (tz-naive dates).

    Attributes
    ----------
    start, end
        First and last day (midnight, no time zone).
    label
        Name used in outputs, e.g. ``"current"`` or ``"comparison"``.
    """

    start: pd.Timestamp
    end: pd.Timestamp
    label: str

    @property
    def months(self) -> list[str]:
        """Calendar months the period touches, as ``YYYY-MM``."""
        months = pd.period_range(self.start.to_period("M"), self.end.to_period("M"), freq="M")
        return [str(m) for m in months]

    @property
    def whole_months(self) -> bool:
        """True when the period starts on a 1st and ends on a month end."""
        return self.start.day == 1 and self.end == self.end + pd.offsets.MonthEnd(0)

    @property
    def n_days(self) -> int:
        """Length in days (both ends included)."""
        return int((self.end - self.start).days) + 1

    @property
    def n_months(self) -> int | None:
        """Whole number of months from ``start`` to ``end`` (any start day), else None."""
        after = self.end + pd.Timedelta(days=1)
        k = (after.year - self.start.year) * 12 + after.month - self.start.month
        return k if k > 0 and after - pd.DateOffset(months=k) == self.start else None

    def describe(self) -> str:
        """``"Jan 2025 to Apr 2025 (4 months)"``, ``"12 months to 2026-11-22"`` or days."""
        if self.whole_months:
            n = len(self.months)
            first, last = self.start.strftime("%b %Y"), self.end.strftime("%b %Y")
            span = first if n == 1 else f"{first} to {last}"
            return f"{span} ({n} month{'s' if n != 1 else ''})"
        if self.n_months is not None:
            return f"{self.n_months} months to {self.end:%Y-%m-%d} (from {self.start:%Y-%m-%d})"
        return f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d} ({self.n_days} days)"

    def short(self) -> str:
        """Column heading: ``"Jan-Apr 2024"``, ``"Nov 2024-Oct 2025"`` or the days.

        Examples
        --------
        >>> Period(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-04-30"), "c").short()
        'Jan-Apr 2024'
        """
        if self.whole_months:
            if self.start.to_period("M") == self.end.to_period("M"):
                return f"{self.start:%b %Y}"
            if self.start.year == self.end.year:
                return f"{self.start:%b}-{self.end:%b %Y}"
            return f"{self.start:%b %Y}-{self.end:%b %Y}"
        return f"{self.start:%d %b %Y}-{self.end:%d %b %Y}"

    def to_dict(self) -> dict[str, Any]:
        """Plain record for run.json and the CSV header."""
        return {
            "label": self.label,
            "start": f"{self.start:%Y-%m-%d}",
            "end": f"{self.end:%Y-%m-%d}",
            "months": self.months,
            "description": self.describe(),
            "short": self.short(),
        }


def parse_day(text: str, *, name: str) -> pd.Timestamp:
    """``"2025-01-31"`` -> a tz-naive midnight; anything else is a one-line OptionError.

    Examples
    --------
    >>> parse_day("2025-01-31", name="--end")
    Timestamp('2025-01-31 00:00:00')
    """
    try:
        day = pd.Timestamp(str(text).strip())
    except ValueError:
        day = pd.NaT
    if day is pd.NaT or pd.isna(day):
        msg = f"{name} {text!r} is not a date; use YYYY-MM-DD, e.g. {name} 2025-01-31."
        raise OptionError(msg)
    if day.tzinfo is not None:
        day = day.tz_localize(None)
    return day.normalize()


def _data_resolution(incidents: pd.DataFrame) -> str:
    if TIME_RESOLUTION in incidents and len(incidents):
        values = set(incidents[TIME_RESOLUTION].dropna().astype(str))
        for coarse in ("month", "day", "exact"):
            if coarse in values:
                return coarse
    return "exact"


def incident_months(incidents: pd.DataFrame) -> pd.Series:
    """Calendar month (``YYYY-MM``) of each incident's start time, in its own time zone."""
    times = incidents[OCCURRED_AT]
    return times.dt.tz_localize(None).dt.to_period("M").astype(str)


def _days(incidents: pd.DataFrame) -> pd.Series:
    return incidents[OCCURRED_AT].dt.tz_localize(None).dt.normalize()


def in_period(incidents: pd.DataFrame, period: Period) -> np.ndarray:
    """Boolean mask: the incident's start day lies in ``period`` (month data: its month)."""
    days = _days(incidents)
    return ((days >= period.start) & (days <= period.end)).to_numpy()


def _last_full_month_end(incidents: pd.DataFrame) -> pd.Timestamp:
    latest = incidents[OCCURRED_AT].max()
    if OCCURRED_TO in incidents and incidents[OCCURRED_TO].notna().any():
        latest = max(latest, incidents[OCCURRED_TO].max())
    last = pd.Timestamp(latest).tz_localize(None).normalize()
    month_end = last + pd.offsets.MonthEnd(0)
    return month_end if last == month_end else last - pd.offsets.MonthEnd(1)


def period_from(
    incidents: pd.DataFrame,
    *,
    start: str | None = None,
    end: str | None = None,
    months: int = 12,
    label: str = "current",
) -> Period:
    """The reporting period from ``--start/--end``; by default the last ``months`` full months.

    Parameters
    ----------
    incidents
        Incidents (``occurred_at``, ``time_resolution``); only read.
    start, end
        ``YYYY-MM-DD`` days, both included. ``end`` defaults to the end of the latest
        complete month in the data; ``start`` to ``months`` months before ``end``.
    months
        Length of the default period in months (default 12).
    label
        Name of the period in outputs.

    Raises
    ------
    OptionError
        A date is not a date, ``start`` is after ``end``, or month data is asked for
        part of a month.
    EmptyWindowError
        ``incidents`` is empty.
    """
    if len(incidents) == 0:
        msg = "No incidents to report on; check the input files."
        raise EmptyWindowError(msg)
    if end is not None:
        end_day = parse_day(end, name="--end")
    elif _data_resolution(incidents) == "month":
        end_day = _last_full_month_end(incidents)
    else:  # exact or day data: up to the last day of data
        end_day = _last_day(incidents)
    if start is not None:
        start_day = parse_day(start, name="--start")
    else:
        start_day = (end_day + pd.Timedelta(days=1)) - pd.DateOffset(months=months)
    if start_day > end_day:
        msg = f"--start {start_day:%Y-%m-%d} is after --end {end_day:%Y-%m-%d}; swap them."
        raise OptionError(msg)
    period = Period(start=start_day, end=end_day, label=label)
    _check_month_aligned(period, incidents, name="--start/--end")
    return period


def _check_month_aligned(period: Period, incidents: pd.DataFrame, *, name: str) -> None:
    if _data_resolution(incidents) == "month" and not period.whole_months:
        msg = (
            f"{name} {period.start:%Y-%m-%d} to {period.end:%Y-%m-%d} covers part of a month, "
            f"but the data has month resolution (police.uk); start on a 1st and end on a month "
            f"end, e.g. {period.start:%Y-%m}-01 to {period.end + pd.offsets.MonthEnd(0):%Y-%m-%d}."
        )
        raise OptionError(msg)


def comparison_period(
    current: Period,
    incidents: pd.DataFrame,
    *,
    against: Against = "previous",
    against_start: str | None = None,
    against_end: str | None = None,
) -> Period:
    """The period ``current`` is compared with.

    Parameters
    ----------
    current
        From :func:`period_from`.
    incidents
        Only read for the time resolution.
    against
        ``"previous"``: the equal period just before (same number of months for whole
        months, else of days); ``"same-period-last-year"``: the same days a year earlier;
        ``"dates"``: ``against_start`` to ``against_end``.
    against_start, against_end
        ``YYYY-MM-DD`` for ``against="dates"`` (giving them implies it).

    Raises
    ------
    OptionError
        Unknown ``against``, missing or bad explicit dates, or part-month periods on
        month data.

    Examples
    --------
    >>> cur = Period(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-04-30"), "current")
    >>> empty = pd.DataFrame({"time_resolution": ["month"]})
    >>> comparison_period(cur, empty, against="same-period-last-year").describe()
    'Jan 2024 to Apr 2024 (4 months)'
    >>> comparison_period(cur, empty, against="previous").describe()
    'Sep 2024 to Dec 2024 (4 months)'
    """
    check_choice(against, AGAINST_CHOICES, name="--against")
    explicit = against_start is not None or against_end is not None
    if explicit and against != "dates" and against != "previous":
        msg = "Give --against-start/--against-end or --against, not both."
        raise OptionError(msg)
    if against == "dates" or explicit:
        if against_start is None or against_end is None:
            msg = "Explicit comparison dates need both --against-start and --against-end."
            raise OptionError(msg)
        start = parse_day(against_start, name="--against-start")
        end = parse_day(against_end, name="--against-end")
        if start > end:
            msg = f"--against-start {start:%Y-%m-%d} is after --against-end {end:%Y-%m-%d}."
            raise OptionError(msg)
    elif against == "same-period-last-year":
        start = current.start - pd.DateOffset(years=1)
        end = current.end - pd.DateOffset(years=1)
        if current.whole_months:
            end = end + pd.offsets.MonthEnd(0)  # Feb 29 -> Feb 28 stays a month end
    elif current.n_months is not None:  # "12 months to ..." against the 12 before
        start = current.start - pd.DateOffset(months=current.n_months)
        end = current.start - pd.Timedelta(days=1)
    else:
        end = current.start - pd.Timedelta(days=1)
        start = end - pd.Timedelta(days=current.n_days - 1)
    period = Period(start=pd.Timestamp(start), end=pd.Timestamp(end), label="comparison")
    _check_month_aligned(period, incidents, name="The comparison period")
    return period


def check_coverage(
    incidents: pd.DataFrame, periods: list[Period], *, allow_incomplete: bool = False
) -> dict[str, list[str]]:
    """Months of each period that the data does not cover; refuse or warn when any.

    A month is missing when it lies outside the data's span or when, inside the span, it
    has no rows at all. For exact-dated data a period must also lie within the first and
    last day of data.

    Returns
    -------
    dict
        Period label -> missing months (``YYYY-MM``), empty lists when complete.

    Raises
    ------
    IncompletePeriodError
        A period has missing months and ``allow_incomplete`` is False.
    """
    present = set(incident_months(incidents).unique())
    days = _days(incidents)
    first_day, last_day = days.min(), _last_day(incidents)
    missing: dict[str, list[str]] = {}
    for period in periods:
        gaps = {m for m in period.months if m not in present}
        if period.start < first_day:  # exact data starting mid-month: that month is partial
            gaps.add(period.months[0])
        if period.end > last_day:
            gaps.add(period.months[-1])
        missing[period.label] = sorted(gaps)
    bad = {k: v for k, v in missing.items() if v}
    if bad:
        text = "; ".join(f"{k} period lacks {', '.join(v)}" for k, v in bad.items())
        span = f"{first_day:%Y-%m-%d} to {last_day:%Y-%m-%d}"
        if not allow_incomplete:
            msg = (
                f"Incomplete period: {text} (data covers {span}). Add the missing months' "
                f"files, choose other dates, or pass --allow-incomplete to report anyway."
            )
            raise IncompletePeriodError(msg)
        warnings.warn(
            f"Incomplete period: {text} (data covers {span}); figures undercount.",
            DataQualityWarning,
            stacklevel=2,
        )
    return missing


def _last_day(incidents: pd.DataFrame) -> pd.Timestamp:
    latest = incidents[OCCURRED_AT].max()
    if OCCURRED_TO in incidents and incidents[OCCURRED_TO].notna().any():
        latest = max(latest, incidents[OCCURRED_TO].max())
    return pd.Timestamp(latest).tz_localize(None).normalize()


def periods_record(*periods: Period) -> list[dict[str, Any]]:
    """Each period as a plain record (for run.json)."""
    return [p.to_dict() for p in periods]
