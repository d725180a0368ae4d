"""Writing ingest's outputs: the rejected-rows report, and the ingest unit (private)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from hotspots.outputs.files import write_csv, write_json
from hotspots.outputs.publish import staged_outputs

__all__ = ["ingest_output_names", "write_ingest_outputs", "write_rejected"]


def write_rejected(rejected: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``IngestResult.rejected`` as UTF-8 CSV (with BOM), atomically.

    Columns: source_file, source_row, reason, detail, then the raw columns as text, so
    each row can be found and fixed in the source file. Written even when empty (header
    only), so "no rejections" is visible.
    """
    return write_csv(pd.DataFrame(rejected), path)


def ingest_output_names(out: str | os.PathLike[str]) -> dict[str, str]:
    """Names of one ingest unit: ``essex.parquet``, ``essex.rejected.csv``, ``essex.run.json``."""
    stem = Path(out).stem
    return {
        "parquet": Path(out).name,
        "rejected": f"{stem}.rejected.csv",
        "run": f"{stem}.run.json",
    }


def write_ingest_outputs(
    incidents: gpd.GeoDataFrame,
    rejected: pd.DataFrame,
    provenance: Mapping[str, Any],
    out: str | os.PathLike[str],
) -> dict[str, Path]:
    """Write the GeoParquet, its rejected rows and its run.json as ONE unit named after ``out``.

    The three files are staged and swapped in together under the folder's lock (see
    :mod:`hotspots.outputs.publish`): a kill leaves the previous unit or the new one, and
    a second ingest into the same folder under another name keeps the first one's files.

    Returns
    -------
    dict
        ``parquet``, ``rejected`` and ``run`` -> the paths written.
    """
    target = Path(out)
    names = ingest_output_names(target)
    record = {**dict(provenance), "outputs": [names["parquet"], names["rejected"], names["run"]]}
    with staged_outputs(target.parent, owned=names.values()) as staging:
        incidents.to_parquet(staging / names["parquet"], index=False)
        write_rejected(rejected, staging / names["rejected"])
        write_json(staging / names["run"], record)
    return {role: target.parent / name for role, name in names.items()}
