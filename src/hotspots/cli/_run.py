"""What every stage command does around its stage runner (private).

Parse: the flags the user gave become one checked :class:`hotspots.config.WeeklySettings`
(flags a command does not have keep their defaults), before any file is read. Read: the
incidents (summary printed, ``rejected.csv`` written), the run's date and study areas.
The command then calls its stage runner and writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from hotspots.cli._app import console
from hotspots.config import WeeklySettings, check_input_paths, load_toml

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from hotspots._runs import RunAreas
    from hotspots.ingest import IngestResult

__all__ = ["Loaded", "load_run", "report_rejected", "settings_from"]


def settings_from(
    given: Mapping[str, Any] | None, *, config: Path | None = None, out: Path | None = None
) -> WeeklySettings:
    """The command's settings: TOML ``config`` (if any), then the flags given, which win."""
    values: dict[str, Any] = load_toml(config) if config is not None else {}
    values.update(given or {})
    if out is not None:
        values["out"] = out
    settings = WeeklySettings.from_mapping(values, source=str(config) if config else "options")
    check_input_paths(settings)  # a wrong path stops here, before any input is read
    return settings


@dataclass(frozen=True)
class Loaded:
    """A command's inputs, read: incidents, their areas, the run's moment and resolution."""

    ingested: IngestResult
    incidents: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame | None
    as_of: pd.Timestamp
    resolution: str
    places: RunAreas  # the areas decision: study area and strays

    @property
    def study_area(self) -> Any:
        """The study area from LSOA names (None with --areas or without names)."""
        return self.places.study_area

    @property
    def input_files(self) -> list[Any]:
        """The incident files read (for provenance)."""
        return [f["path"] for f in self.ingested.report.files]


def load_run(
    inputs: list[str], settings: WeeklySettings, *, out: Path, shown: Path | None = None
) -> Loaded:
    """Read the incidents (printing the summary, writing rejected.csv), areas and as-of.

    ``shown`` is the output folder named on the console when ``out`` is its staging folder.
    """
    from hotspots._runs import run_areas, run_as_of, time_resolution_of, with_strays
    from hotspots.cli.cmd_ingest import load_for_command

    out.mkdir(parents=True, exist_ok=True)
    ingested = load_for_command(inputs, settings.ingest, out_dir=out, shown_dir=shown)
    places = run_areas(ingested.incidents, settings)
    if len(places.strays):  # stray records join ingest's rejected rows, with their reason
        from hotspots.ingest import write_rejected

        write_rejected(with_strays(ingested.rejected, places.strays), out / "rejected.csv")
    for note in places.notes:
        console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    return Loaded(
        ingested=ingested,
        incidents=places.incidents,
        areas=places.areas,
        as_of=run_as_of(settings.as_of, ingested.incidents),
        resolution=time_resolution_of(ingested.incidents),
        places=places,
    )


def report_rejected(rejected: Mapping[str, Any], written: Mapping[str, Path]) -> None:
    """One console line per side input with rejected rows, naming its file."""
    for name, rows in rejected.items():
        if len(rows):
            path = written.get(f"rejected_{name}.csv", Path(f"rejected_{name}.csv"))
            console.print(
                f"[yellow]note:[/] {len(rows):,} {name} rows rejected; see {escape(str(path))}"
            )
