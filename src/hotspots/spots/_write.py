"""Writing a harm-spot run: GeoJSON (RFC 7946), CSV and the patrol plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from hotspots.outputs.files import write_csv, write_geojson
from hotspots.spots._find import SpotResult

__all__ = ["write_spot_outputs"]


def write_spot_outputs(
    result: SpotResult, plan: pd.DataFrame | None, out_dir: Path, *, provenance: dict[str, Any]
) -> dict[str, Path]:
    """Write ``harm_spots.geojson``, ``harm_spots.csv`` and ``patrol_plan.csv``.

    The GeoJSON is WGS84 (RFC 7946) with ``metadata`` = ``provenance`` plus the spot
    parameters, the concentration summary and the ids of dropped spots; the CSV has
    easting/northing (spot centre, metres) and latitude/longitude. Every file is written
    atomically.

    Returns
    -------
    dict
        File role -> path written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metadata = {**provenance, "spot_parameters": result.parameters, "spot_summary": result.summary}
    files = {
        "harm_spots.geojson": write_geojson(
            result.spots, out / "harm_spots.geojson", metadata=metadata
        ),
        "harm_spots.csv": write_csv(result.spots, out / "harm_spots.csv"),
    }
    if plan is not None:
        files["patrol_plan.csv"] = write_csv(plan, out / "patrol_plan.csv")
    return files
