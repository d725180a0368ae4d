"""Write a cocoon run: zones (GeoJSON), visit, team and street lists, compliance (CSV)."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from hotspots.cocoon.compliance import Compliance
from hotspots.cocoon.lists import street_summary, team_lists
from hotspots.cocoon.zones import merged_zones
from hotspots.outputs import write_csv, write_geojson

__all__ = ["COCOON_FILES", "COCOON_PARTS", "write_cocoon_outputs"]

COCOON_PARTS = ("layers", "tables")  # GeoJSON zone layers; CSV visit, team, street tables

COCOON_FILES = {
    "zones": "cocoon_zones.geojson",
    "merged": "cocoon_zones_merged.geojson",
    "visits": "cocoon_visits.csv",
    "teams": "cocoon_team_lists.csv",
    "streets": "cocoon_streets.csv",
    "compliance": "cocoon_compliance.csv",
    "compliance_areas": "cocoon_compliance_areas.csv",
    "overdue": "cocoon_overdue.csv",
}


def write_cocoon_outputs(
    zones: gpd.GeoDataFrame,
    visits_list: pd.DataFrame | None,
    compliance: Compliance | None,
    out_dir: str | os.PathLike[str],
    *,
    provenance: Mapping[str, Any],
    parts: Collection[str] = COCOON_PARTS,
) -> dict[str, Path]:
    """Write the cocoon files into ``out_dir`` (atomically, one by one).

    Parameters
    ----------
    zones
        Output of :func:`cocoon_zones`.
    visits_list
        Output of :func:`visit_lists`, or None without an address layer (then only the
        zone layers are written).
    compliance
        Output of :func:`compliance`, or None without a visit log.
    out_dir
        Folder to write into (created if needed).
    provenance
        ``build_provenance`` record, stored as each GeoJSON's ``metadata`` member.
    parts
        ``layers`` (the two GeoJSON files) and/or ``tables`` (the CSV files): a run may
        write the tables, which carry no provenance, as soon as the zones are drawn.

    Returns
    -------
    dict
        File role -> path: ``zones`` (``cocoon_zones.geojson``, RFC 7946), ``merged``
        (union of the live zones), and with a visit list ``visits``
        (``cocoon_visits.csv``), ``teams`` (one row per address per area),
        ``streets`` (``cocoon_streets.csv``); with compliance ``compliance``
        (per zone), ``compliance_areas`` and ``overdue``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = dict(provenance)
    written: dict[str, Path] = {}
    unknown = set(parts) - set(COCOON_PARTS)
    if unknown:
        msg = f"parts must be among {COCOON_PARTS}; got {sorted(unknown)}."
        raise ValueError(msg)
    if "layers" in parts:
        written["zones"] = write_geojson(zones, out / COCOON_FILES["zones"], metadata=meta)
        written["merged"] = write_geojson(
            merged_zones(zones), out / COCOON_FILES["merged"], metadata=meta
        )
    if "tables" not in parts:
        return written
    if visits_list is not None:
        written["visits"] = write_csv(visits_list, out / COCOON_FILES["visits"])
        written["teams"] = write_csv(team_lists(visits_list), out / COCOON_FILES["teams"])
        written["streets"] = write_csv(street_summary(visits_list), out / COCOON_FILES["streets"])
    if compliance is not None:
        written["compliance"] = write_csv(compliance.per_zone, out / COCOON_FILES["compliance"])
        written["compliance_areas"] = write_csv(
            compliance.per_area, out / COCOON_FILES["compliance_areas"]
        )
        written["overdue"] = write_csv(compliance.overdue, out / COCOON_FILES["overdue"])
    return written
