"""When harm happens: hour-of-week profiles and named peak windows.

A spot's harm is binned into the 168 hours of the week (Monday 00:00 first) from exact
times only; day- and month-resolution rows carry no hour. The busiest ``window_hours``
stretches (they may run past midnight) are named like ``"Fri-Sat 22:00-02:00"``; the
patrol plan parses those names back with :func:`parse_windows`.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = [
    "DAY_NAMES",
    "hour_of_week",
    "name_window",
    "parse_windows",
    "peak_by_day",
    "peak_windows",
]

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WINDOW_RE = re.compile(
    r"^(?P<d1>Mon|Tue|Wed|Thu|Fri|Sat|Sun)(?:-(?P<d2>Mon|Tue|Wed|Thu|Fri|Sat|Sun))?\s+"
    r"(?P<h1>\d{2}):00-(?P<h2>\d{2}):00$"
)


def hour_of_week(times: pd.Series) -> np.ndarray:
    """Hour of the week (0 = Monday 00:00-01:00, 167 = Sunday 23:00) in local time."""
    return (times.dt.day_of_week * 24 + times.dt.hour).to_numpy(dtype="int64")


def name_window(start_how: int, hours: int) -> str:
    """Readable name of the ``hours``-long window starting at hour-of-week ``start_how``.

    Examples
    --------
    >>> name_window(4 * 24 + 22, 4)
    'Fri-Sat 22:00-02:00'
    >>> name_window(167, 1)
    'Sun-Mon 23:00-00:00'
    """
    day, hour = divmod(start_how % 168, 24)
    end = (hour + hours) % 24
    days = DAY_NAMES[day] if hour + hours < 24 else f"{DAY_NAMES[day]}-{DAY_NAMES[(day + 1) % 7]}"
    return f"{days} {hour:02d}:00-{end:02d}:00"


def peak_windows(profile: np.ndarray, *, window_hours: int = 4, n_windows: int = 2) -> list[str]:
    """The busiest non-overlapping windows of a 168-hour harm profile, busiest first.

    Among equally busy windows the one whose first hour holds more harm wins, then the
    earliest start in the week (Monday 00:00 first), so the result is deterministic.
    Windows with no harm are never named.

    Examples
    --------
    >>> prof = np.zeros(168); prof[[118, 119, 120]] = [5.0, 3.0, 2.0]  # Fri 22:00 - Sat 01:00
    >>> peak_windows(prof, window_hours=4, n_windows=1)
    ['Fri-Sat 22:00-02:00']
    """
    prof = np.asarray(profile, dtype="float64")
    taken = np.zeros(168, dtype=bool)
    names: list[str] = []
    offsets = np.arange(window_hours)
    for _ in range(n_windows):
        idx = (np.arange(168)[:, None] + offsets[None, :]) % 168
        sums = np.where(taken[idx].any(axis=1), -1.0, prof[idx].sum(axis=1))
        # ties: the window whose first hour holds more harm (it starts when harm starts),
        # then the earliest start in the week
        tied = np.nonzero(np.isclose(sums, sums.max(), rtol=1e-12, atol=0.0))[0]
        best = int(tied[np.argmax(prof[tied])])
        if sums[best] <= 0:
            break
        names.append(name_window(best, window_hours))
        taken[idx[best]] = True
    return names


def peak_by_day(profile: np.ndarray, *, window_hours: int = 4) -> list[str]:
    """For each weekday with harm, the busiest window starting that day (Monday first).

    Ties go to the window whose first hour holds more harm, then the earliest start.

    Examples
    --------
    >>> prof = np.zeros(168); prof[[20, 21, 24 + 9]] = [2.0, 1.0, 4.0]  # Mon 20-22, Tue 09
    >>> peak_by_day(prof, window_hours=4)
    ['Mon-Tue 20:00-00:00', 'Tue 09:00-13:00']
    """
    prof = np.asarray(profile, dtype="float64")
    idx = (np.arange(168)[:, None] + np.arange(window_hours)[None, :]) % 168
    sums = prof[idx].sum(axis=1)
    out: list[str] = []
    for day in range(7):
        hours = np.arange(day * 24, day * 24 + 24)
        if prof[hours].sum() <= 0:
            continue  # no harm that day: no window named for it
        best = sums[hours]
        tied = hours[np.isclose(best, best.max(), rtol=1e-12, atol=0.0)]
        out.append(name_window(int(tied[np.argmax(prof[tied])]), window_hours))
    return out


def parse_windows(text: str) -> list[tuple[int | None, int, int]]:
    """``(weekday or None, start hour, length hours)`` for each window in ``text``.

    Examples
    --------
    >>> parse_windows("Fri-Sat 22:00-02:00; Sat 14:00-18:00")
    [(4, 22, 4), (5, 14, 4)]
    """
    out: list[tuple[int | None, int, int]] = []
    for part in str(text or "").split(";"):
        m = _WINDOW_RE.match(part.strip())
        if not m:
            continue
        h1, h2 = int(m["h1"]), int(m["h2"])
        length = (h2 - h1) % 24 or 24
        out.append((DAY_NAMES.index(m["d1"]), h1, length))
    return out
