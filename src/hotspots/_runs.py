"""Decisions every stage runner and command shares, one function each (private).

The run's date, its time resolution and its study areas are decided here and nowhere
else, so ``spots``, ``knox``, ``cocoon``, ``weekly`` and ``evaluate`` agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from hotspots._time import default_as_of, parse_as_of
from hotspots.schema import OCCURRED_AT, RESOLUTION_DAYS, TIME_RESOLUTION

__all__ = ["read_run_areas", "run_as_of", "time_resolution_of"]


def run_as_of(text: str | None, incidents: gpd.GeoDataFrame) -> pd.Timestamp:
    """The run's moment: ``--as-of`` in the data's time zone, else the latest data moment.

    A date alone means the end of that day.
    """
    if text is None:
        return default_as_of(incidents)
    return parse_as_of(text, incidents[OCCURRED_AT].dt.tz)


def time_resolution_of(incidents: gpd.GeoDataFrame) -> str:
    """The coarsest time resolution among ``incidents`` (``exact`` < ``day`` < ``month``)."""
    if TIME_RESOLUTION not in incidents.columns or len(incidents) == 0:
        return "exact"
    values = set(incidents[TIME_RESOLUTION].dropna().astype(str).unique())
    return max(values, key=lambda r: RESOLUTION_DAYS.get(r, 0.0)) if values else "exact"


def read_run_areas(
    path: Path | None, *, area_field: str | None, working_crs: Any
) -> gpd.GeoDataFrame | None:
    """The study areas (``--areas``) in the incidents' working CRS, or None."""
    if path is None:
        return None
    from hotspots.areas import read_areas

    return read_areas(path, area_field=area_field, working_crs=working_crs)
