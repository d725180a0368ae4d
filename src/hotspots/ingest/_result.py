"""What ingest returns: the incidents, the rejected rows and the report (private)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

__all__ = ["IngestReport", "IngestResult"]


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
