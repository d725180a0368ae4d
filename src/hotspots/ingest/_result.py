"""What ingest returns: the incidents, the rejected rows and the report (private)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from hotspots.schema import (
    OCCURRED_AT,
    OCCURRED_TO,
    REJECT_REASONS,
    RESOLUTION_DAYS,
    TIME_RESOLUTION,
)

__all__ = ["IngestReport", "IngestResult", "by_reason", "kept_span"]


def by_reason(reasons: Iterable[object]) -> dict[str, int]:
    """Rejected rows per reason code, every code named (0 where none), as reports hold them."""
    counts = pd.Series(list(reasons), dtype=object).value_counts()
    return {code: int(counts.get(code, 0)) for code in REJECT_REASONS}


def kept_span(
    incidents: pd.DataFrame, *, default_resolution: str
) -> tuple[str, pd.Timestamp | None, pd.Timestamp | None]:
    """The kept rows' time resolution (the coarsest present) and the dates they cover.

    The range runs from the first ``occurred_at`` to the last time covered (a window's
    ``occurred_to`` when it has one); with no rows, ``default_resolution`` and no dates.
    """
    kept = set(incidents[TIME_RESOLUTION].unique()) if len(incidents) else set()
    resolution = max(kept, key=lambda r: RESOLUTION_DAYS[r]) if kept else default_resolution
    if not len(incidents):
        return str(resolution), None, None
    ends = incidents[OCCURRED_TO].where(incidents[OCCURRED_TO].notna(), incidents[OCCURRED_AT])
    return str(resolution), incidents[OCCURRED_AT].min(), ends.max()


@dataclass(frozen=True)
class IngestReport:
    """What ingest read, kept and rejected (JSON-ready via :meth:`to_dict`).

    ``date_max`` is the latest time the kept rows cover (``occurred_to`` when present,
    so the end of the last month for police.uk data).
    """

    n_read: int
    n_kept: int
    rejected_by_reason: dict[str, int]
    date_min: pd.Timestamp | None
    date_max: pd.Timestamp | None
    time_resolution: str
    crs: str
    files: tuple[dict, ...]
    notes: tuple[str, ...]

    @property
    def n_rejected(self) -> int:
        """Rows rejected for any reason."""
        return int(sum(self.rejected_by_reason.values()))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary (goes into run.json)."""
        return {
            "n_read": self.n_read,
            "n_kept": self.n_kept,
            "n_rejected": self.n_rejected,
            "rejected_by_reason": dict(self.rejected_by_reason),
            "date_min": None if self.date_min is None else self.date_min.isoformat(),
            "date_max": None if self.date_max is None else self.date_max.isoformat(),
            "time_resolution": self.time_resolution,
            "crs": self.crs,
            "files": [dict(f) for f in self.files],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class IngestResult:
    """Incidents (canonical columns, metric CRS), rejected rows with reasons, and the report."""

    incidents: gpd.GeoDataFrame
    rejected: pd.DataFrame
    report: IngestReport
