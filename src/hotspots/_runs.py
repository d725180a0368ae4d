"""Decisions every stage runner and command shares, one function each (private).

The run's date, its time resolution and its study areas are decided here and nowhere
else, so ``spots``, ``knox``, ``cocoon``, ``weekly`` and ``evaluate`` agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots._time import default_as_of, parse_as_of
from hotspots.schema import (
    INCIDENT_ID,
    LOCATION,
    LSOA_NAME,
    OCCURRED_AT,
    OFFENCE,
    REJECT_DETAIL,
    REJECT_REASON,
    RESOLUTION_DAYS,
    SOURCE_FILE,
    SOURCE_ROW,
    TIME_RESOLUTION,
)

if TYPE_CHECKING:
    from hotspots.config import WeeklySettings
    from hotspots.studyarea import StudyArea

__all__ = [
    "PreviousRun",
    "RunAreas",
    "read_previous_run",
    "read_run_areas",
    "run_areas",
    "run_as_of",
    "time_resolution_of",
    "with_strays",
]


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


@dataclass(frozen=True)
class RunAreas:
    """The run's places: the incidents used, the areas spots are chosen in, the study area.

    Attributes
    ----------
    incidents
        The incidents with the strays left out (the input itself when there are none).
    areas
        The ``--areas`` layer, else the force districts named by police.uk LSOA names,
        else None.
    study_area
        The :class:`hotspots.studyarea.StudyArea` built from LSOA names (None with
        ``--areas`` or without LSOA names): the denominator of every share-of-area figure.
    strays
        Stray records in the ``rejected.csv`` shape (``source_file``, ``source_row``,
        ``reason``, ``detail``, then the incident's id, date, offence, location, LSOA).
    notes
        One line naming the study area and counting the strays, when there is one.
    """

    incidents: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame | None
    study_area: StudyArea | None = None
    strays: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: tuple[str, ...] = ()

    @property
    def figures(self) -> dict[str, Any]:
        """What run.json records: the study area, its size and the strays by reason."""
        if self.study_area is None:
            return {"source": "areas layer" if self.areas is not None else None}
        by_reason = self.strays[REJECT_REASON].value_counts() if len(self.strays) else {}
        return {
            "source": self.study_area.name,
            "area_km2": round(self.study_area.area_km2, 1),
            "districts": [str(d) for d in self.study_area.districts["area"]],
            "n_strays": int(len(self.strays)),
            "strays_by_reason": {str(k): int(v) for k, v in dict(by_reason).items()},
        }


def run_areas(incidents: gpd.GeoDataFrame, settings: WeeklySettings) -> RunAreas:
    """The one rule for a run's places, shared by spots, cocoon, weekly and evaluate.

    ``--areas`` if given; else, when the incidents carry police.uk LSOA names, the force
    districts and study area of :func:`hotspots.studyarea.study_area_from_lsoa_names`,
    with its strays taken out of the incidents (into ``strays`` for ``rejected.csv``), so
    they never set the study area nor become a spot; else no areas.
    """
    areas = read_run_areas(
        settings.areas, area_field=settings.area_field, working_crs=incidents.crs
    )
    if areas is not None:
        return RunAreas(incidents=incidents, areas=areas)
    if LSOA_NAME not in incidents.columns or not incidents[LSOA_NAME].notna().any():
        return RunAreas(incidents=incidents, areas=None)
    from hotspots.studyarea import study_area_from_lsoa_names

    study = study_area_from_lsoa_names(incidents)
    stray = np.asarray(study.stray, dtype=bool)
    kept = incidents[~stray] if stray.any() else incidents
    return RunAreas(
        incidents=kept,
        areas=study.districts,
        study_area=study,
        strays=_stray_rows(incidents, study),
        notes=(study.note(),),
    )


def _stray_rows(incidents: gpd.GeoDataFrame, study: StudyArea) -> pd.DataFrame:
    """The stray records as rejected rows, each with its reason and a one-line detail."""
    stray = np.asarray(study.stray, dtype=bool)
    rows = incidents[stray]
    reasons = np.asarray(study.stray_reason, dtype=object)[stray].astype(str)
    names = rows[LSOA_NAME].astype("string").fillna("")
    force = ", ".join(str(d) for d in study.districts["area"])
    detail = np.where(
        reasons == "outside_force_districts",
        "LSOA '" + names + "' is not in one of the force's districts (" + force + ")",
        "LSOA '" + names + "' lies more than 15 km from the rest of its district",
    )
    out = pd.DataFrame(
        {
            SOURCE_FILE: rows[SOURCE_FILE].to_numpy() if SOURCE_FILE in rows else "",
            SOURCE_ROW: rows[SOURCE_ROW].to_numpy() if SOURCE_ROW in rows else 0,
            REJECT_REASON: reasons,
            REJECT_DETAIL: np.asarray(detail, dtype=object),
        }
    )
    for col in (INCIDENT_ID, OCCURRED_AT, OFFENCE, LOCATION, LSOA_NAME):
        if col in rows.columns:
            out[col] = rows[col].astype("string").to_numpy()
    return out


def with_strays(rejected: pd.DataFrame, strays: pd.DataFrame) -> pd.DataFrame:
    """Ingest's rejected rows with the run's stray records after them (rejected.csv)."""
    if not len(strays):
        return rejected
    return pd.concat([rejected, strays], ignore_index=True)


@dataclass(frozen=True)
class PreviousRun:
    """What the previous run left in the output folder (see :func:`read_previous_run`).

    Attributes
    ----------
    spots
        Its ``harm_spots.geojson`` (``spot_id``, ``status`` ... and the shapes, so its
        dropped spots keep theirs; WGS84 as written), or None.
    window
        Its look-back window label (``2025-01..2025-12`` on month data), or None.
    plan
        Its ``patrol_plan.csv``: the week a patrol log is measured against, or None.
    """

    spots: gpd.GeoDataFrame | None = None
    window: str | None = None
    plan: pd.DataFrame | None = None


def read_previous_run(out_dir: Path) -> PreviousRun:
    """The previous run's spots, window and patrol plan from ``out_dir`` (empty if none).

    Files that are missing or unreadable count as no previous run; they are never an error
    (the folder may be new, or hold another command's files).
    """
    import json

    folder = Path(out_dir)
    spots = _read_spots(folder / "harm_spots.geojson")
    plan = _read_csv(folder / "patrol_plan.csv", needs="spot_id")
    window = None
    try:
        record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    for where in (
        record.get("summary", {}).get("spots", {}),  # weekly
        record.get("concentration", {}),  # spots
        record.get("parameters", {}),
    ):
        if isinstance(where, dict) and isinstance(where.get("window"), str):
            window = where["window"]
            break
    return PreviousRun(spots=spots, window=window if spots is not None else None, plan=plan)


def _read_spots(path: Path) -> gpd.GeoDataFrame | None:
    """The previous spots with their shapes (dropped spots keep theirs), or None."""
    if not path.is_file():
        return None
    try:
        layer = gpd.read_file(path)
    except Exception:  # noqa: BLE001 - an unreadable old layer is no previous run
        return None
    if "spot_id" not in layer.columns or layer.crs is None:
        return None
    return layer.assign(spot_id=layer["spot_id"].astype(str))


def _read_csv(path: Path, *, needs: str) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig", dtype={needs: "str"})
    except (OSError, ValueError, pd.errors.ParserError):
        return None
    return frame if needs in frame.columns else None
