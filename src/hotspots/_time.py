"""The run's date: ``--as-of`` parsing and its default (private, shared by commands)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

from hotspots.errors import OptionError
from hotspots.schema import OCCURRED_AT, OCCURRED_TO

__all__ = ["default_as_of", "parse_as_of"]


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


def default_as_of(incidents: gpd.GeoDataFrame) -> pd.Timestamp:
    """Latest moment the data covers: the end of the last window, else the last time.

    For police.uk months this is the end of the last month, so a zone dated mid-month
    (``--month-dates mid``) still falls inside the run's window.
    """
    latest = incidents[OCCURRED_AT].max()
    if OCCURRED_TO in incidents and incidents[OCCURRED_TO].notna().any():
        latest = max(latest, incidents[OCCURRED_TO].max())
    return pd.Timestamp(latest)
