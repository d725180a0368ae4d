"""The one rule for harm weighting in every command: only offences the run uses need a weight.

A police.uk file holds fourteen categories; a run ranks a few of them (and looks at
burglaries for cocoons and Knox). An offence the harm table lacks is a problem only when
the run uses it: then ``unknown`` decides (``raise``: stop and name it; ``zero``: weigh 0;
``reject``: leave those rows out). Rows of offences the run does not use weigh 0 and are
never an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots.config import HarmOptions
from hotspots.errors import SchemaError
from hotspots.harm._apply import harm_weights, unknown_offence_message
from hotspots.harm._tables import HarmTable, load_harm_table
from hotspots.schema import HARM, OFFENCE

__all__ = ["Weighting", "weigh_used"]


@dataclass(frozen=True)
class Weighting:
    """Weighted incidents, the table used, rows left out (``reject``) and notes."""

    incidents: gpd.GeoDataFrame
    table: HarmTable
    rejected: pd.DataFrame
    notes: tuple[str, ...]


def weigh_used(
    incidents: gpd.GeoDataFrame, options: HarmOptions, *, used: Iterable[str] | None
) -> Weighting:
    """Weight ``incidents`` (a copy) by ``options.harm_table``; unknown offences per the rule.

    Parameters
    ----------
    incidents
        Incidents with ``offence``; not changed.
    options
        Harm table, offence mapping and what to do with used offences the table lacks.
    used
        Offence categories the run uses (exact data spelling); None: every offence.

    Raises
    ------
    SchemaError
        A used offence has no weight and ``options.harm_unknown`` is ``raise``; the
        message names ``--harm-map``, ``--harm-unknown`` and ``--harm-table``.
    """
    table = load_harm_table(options.harm_table)
    weights = harm_weights(incidents, table, mapping=options.mapping or None)
    offence = incidents[OFFENCE].astype("string")
    in_use = (
        np.ones(len(incidents), dtype=bool)
        if used is None
        else offence.isin(list(used)).fillna(False).to_numpy(dtype=bool)
    )
    missing = np.isnan(weights) & in_use
    weighted = incidents.copy(deep=False)  # copy-on-write: the new column alone is new
    weighted[HARM] = np.where(np.isnan(weights), 0.0, weights).astype("float64")
    notes: list[str] = []
    rejected = pd.DataFrame(columns=["reason", "detail"])
    if missing.any():
        if options.harm_unknown == "raise":
            raise SchemaError(unknown_offence_message(incidents, missing, table))
        names = ", ".join(f"{n!r}" for n in sorted(set(offence[missing].fillna("<empty>"))))
        if options.harm_unknown == "zero":
            notes.append(
                f"Harm table {table.name!r} has no weight for {names}; those "
                f"{int(missing.sum()):,} rows weigh 0 (--harm-unknown zero)."
            )
        else:
            rejected = pd.DataFrame(incidents.loc[missing].drop(columns=incidents.geometry.name))
            rejected["reason"] = "unknown_offence"
            rejected["detail"] = (
                "offence " + offence[missing].fillna("<empty>").astype(str).to_numpy()
                + f" is not in harm table {table.name!r}"
            )  # fmt: skip
            weighted = weighted[~missing]
            notes.append(
                f"Left out {int(missing.sum()):,} rows of {names}: harm table {table.name!r} "
                f"has no weight for them (--harm-unknown reject)."
            )
    return Weighting(incidents=weighted, table=table, rejected=rejected, notes=tuple(notes))
