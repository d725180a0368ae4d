"""Harm spots ranked by crime harm, with status, peak windows and a patrol plan.

Grid, hexagon, harm-weighted DBSCAN and Gi* places; week-on-week status, hour-of-week
peaks, a seeded patrol plan and delivery against it.
"""

from hotspots.spots._dbscan import HarmSpotClusterer
from hotspots.spots._find import (
    METHODS,
    SERIOUS_VIOLENCE,
    Method,
    SpotResult,
    find_spots,
    offence_slug,
    resolve_offences,
)
from hotspots.spots._gistar import GiStarResult, benjamini_hochberg, gi_star_dense, gi_star_grid
from hotspots.spots._grid import (
    cell_ids,
    cell_polygons,
    grid_cells,
    hex_cells,
    hex_ids,
    hex_polygons,
)
from hotspots.spots._patrol import (
    DEFAULT_PATROL_WINDOW,
    dosage_sentence,
    patrol_dosage,
    patrol_plan,
    patrol_summary,
    read_patrols,
    weekly_dosage,
)
from hotspots.spots._profile import peak_windows
from hotspots.spots._registry import (
    BASELINES,
    DEPLOYABLE,
    RULES,
    MethodParams,
    SpotRule,
    TrainingData,
    score_cells,
)
from hotspots.spots._run import SpotRun, offences_used, run, write_run
from hotspots.spots._studygrid import StudyGrid, grid_indices, study_grid
from hotspots.spots._write import write_spot_outputs

__all__ = [
    "write_run",
    "run",
    "offences_used",
    "SpotRun",
    "BASELINES",
    "DEFAULT_PATROL_WINDOW",
    "DEPLOYABLE",
    "METHODS",
    "RULES",
    "SERIOUS_VIOLENCE",
    "GiStarResult",
    "HarmSpotClusterer",
    "Method",
    "MethodParams",
    "SpotResult",
    "SpotRule",
    "StudyGrid",
    "TrainingData",
    "benjamini_hochberg",
    "cell_ids",
    "cell_polygons",
    "find_spots",
    "gi_star_dense",
    "gi_star_grid",
    "grid_cells",
    "grid_indices",
    "hex_cells",
    "hex_ids",
    "hex_polygons",
    "dosage_sentence",
    "offence_slug",
    "patrol_dosage",
    "patrol_plan",
    "patrol_summary",
    "peak_windows",
    "read_patrols",
    "resolve_offences",
    "score_cells",
    "study_grid",
    "weekly_dosage",
    "write_spot_outputs",
]
