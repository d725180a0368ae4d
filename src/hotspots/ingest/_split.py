"""One ingest result of several forces as one result per force (private).

A police.uk file can hold rows of several forces (its 'Falls within' column; ingest then
keeps each row's force slug in ``schema.FORCE``). :func:`split_by_force` gives each force
its own :class:`IngestResult`, as if its rows had come in a file of their own, so a
national run ranks each force within its own study area.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from hotspots.ingest._files import force_slug
from hotspots.ingest._formats import column_key
from hotspots.ingest._result import IngestReport, IngestResult, by_reason, kept_span
from hotspots.schema import (
    FORCE,
    REJECT_REASON,
    SOURCE_FILE,
)

__all__ = ["split_by_force"]

_MIXED_NOTE = "The input mixes "  # the ingest note on mixed forces: true of the whole only


def split_by_force(ingested: IngestResult) -> dict[str, IngestResult]:
    """Force slug -> that force's incidents, rejected rows and report.

    Parameters
    ----------
    ingested
        A result of :func:`hotspots.ingest.read_incidents`. Without a ``force`` column
        (one force, or a source without 'Falls within') it is returned whole under
        ``"unknown"``.

    Returns
    -------
    dict of str to IngestResult
        In order of each force's first row. Incidents keep their columns (``force``
        included) and order, re-indexed 0..n-1. A rejected row goes to the force of its
        'Falls within' text; one without (a malformed CSV line) goes to the force with the
        most kept rows of its source file. The report's counts, dates and resolution are
        the force's own; the files list and notes are the whole input's.

    Examples
    --------
    >>> parts = split_by_force(read_incidents(["all-forces.csv"]))  # doctest: +SKIP
    >>> sorted(parts)  # doctest: +SKIP
    ['essex', 'kent']
    """
    incidents = ingested.incidents
    if FORCE not in incidents.columns:
        return {"unknown": ingested}
    forces = incidents[FORCE].astype("str").to_numpy(dtype=object)
    rejected_forces = _rejected_forces(ingested.rejected, incidents, forces)
    order = list(dict.fromkeys([*pd.unique(forces), *pd.unique(rejected_forces)]))
    out: dict[str, IngestResult] = {}
    for force in order:
        mine = forces == force
        part = incidents.loc[mine].reset_index(drop=True)
        rejected = ingested.rejected.loc[rejected_forces == force].reset_index(drop=True)
        out[str(force)] = IngestResult(
            incidents=part,
            rejected=rejected,
            report=_report(ingested.report, part, rejected),
        )
    return out


def _rejected_forces(
    rejected: pd.DataFrame, incidents: pd.DataFrame, forces: np.ndarray
) -> np.ndarray:
    """The force slug of each rejected row (see :func:`split_by_force`)."""
    n = len(rejected)
    out = np.full(n, "unknown", dtype=object)
    if not n:
        return out
    col = next((c for c in rejected.columns if column_key(c) == "falls_within"), None)
    if col is not None:
        text = rejected[col]
        given = text.notna().to_numpy() & (text.astype("str").str.strip() != "").to_numpy()
        codes, names = pd.factorize(text.astype("str").str.strip().to_numpy(dtype=object))
        slugs = np.array([force_slug(v) for v in names], dtype=object)
        out[given] = slugs[codes[given]]
    else:
        given = np.zeros(n, dtype=bool)
    if (~given).any() and len(incidents):  # malformed lines: the file's main force
        main = (
            pd.DataFrame({"file": incidents[SOURCE_FILE].astype("str").to_numpy(), "f": forces})
            .groupby("file", sort=False)["f"]
            .agg(lambda s: s.value_counts().index[0])
        )
        files = rejected[SOURCE_FILE].astype("str").to_numpy(dtype=object)
        found = pd.Series(files[~given]).map(main).fillna("unknown").to_numpy(dtype=object)
        out[~given] = found
    return out


def _report(whole: IngestReport, incidents: pd.DataFrame, rejected: pd.DataFrame) -> IngestReport:
    """``whole`` with one force's counts, dates and time resolution."""
    reasons = by_reason(rejected[REJECT_REASON])
    resolution, date_min, date_max = kept_span(incidents, default_resolution=whole.time_resolution)
    notes = tuple(n for n in whole.notes if not n.startswith(_MIXED_NOTE))
    return replace(
        whole,
        n_read=len(incidents) + len(rejected),
        n_kept=len(incidents),
        rejected_by_reason=reasons,
        date_min=date_min,
        date_max=date_max,
        time_resolution=str(resolution),
        notes=notes,
    )
