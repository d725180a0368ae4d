"""Attach harm weights to incidents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots._validate import check_choice, require_columns
from hotspots.errors import OptionError, SchemaError
from hotspots.harm._tables import HarmTable, normalise_key
from hotspots.schema import HARM, OFFENCE, OFFENCE_CODE

__all__ = ["UnknownOffence", "apply_harm", "harm_weights", "unknown_offence_message"]

UnknownOffence = Literal["raise", "zero"]
_UNKNOWN_CHOICES: tuple[str, ...] = get_args(UnknownOffence)
_SHOW_UNKNOWN = 10


def _check_mapping(table: HarmTable, mapping: Mapping[str, str] | None) -> dict[str, str]:
    """Normalised source value -> table key; every target must be in the table."""
    if not mapping:
        return {}
    bad = [t for t in mapping.values() if not table.knows(t) and table.default is None]
    if bad:
        msg = (
            f"Offence mapping targets {sorted(set(bad))} are not in harm table {table.name!r}; "
            f"map to one of {sorted(table.weights)}."
        )
        raise OptionError(msg)
    return {normalise_key(src): target for src, target in mapping.items()}


def harm_weights(
    incidents: pd.DataFrame, table: HarmTable, *, mapping: Mapping[str, str] | None = None
) -> np.ndarray:
    """Weight per row (float64), NaN where the table does not know the offence.

    ``offence_code`` is looked up first when the table knows it, then ``offence``; a
    ``mapping`` (data value -> table key) is applied to both before the lookup. Values are
    matched ignoring case, spaces and punctuation.
    """
    require_columns(
        incidents, [OFFENCE], what="incidents", fix="Read them with hotspots.ingest.read_incidents."
    )
    remap = _check_mapping(table, mapping)

    def lookup(values: pd.Series) -> np.ndarray:
        text = values.astype("string")
        codes, uniques = pd.factorize(text, use_na_sentinel=True)
        found = np.full(len(uniques) + 1, np.nan)  # last slot: missing value
        for i, value in enumerate(uniques):
            key = remap.get(normalise_key(value), value)
            weight = table.weight_of(key) if table.knows(key) else None
            if weight is not None:
                found[i] = weight
        return found[np.where(codes < 0, len(uniques), codes)]

    weights = lookup(incidents[OFFENCE])
    if OFFENCE_CODE in incidents.columns:
        by_code = lookup(incidents[OFFENCE_CODE])
        weights = np.where(np.isnan(by_code), weights, by_code)
    if table.default is not None:
        weights = np.where(np.isnan(weights), table.default, weights)
    return weights


def unknown_offence_message(incidents: pd.DataFrame, unknown: np.ndarray, table: HarmTable) -> str:
    """One-line error naming the unknown offence values (with counts) and the fixes."""
    values = incidents.loc[unknown, OFFENCE].astype("string").fillna("<empty>")
    counts = values.value_counts()
    shown = ", ".join(f"{name!r} ({n:,})" for name, n in counts.head(_SHOW_UNKNOWN).items())
    more = f" and {len(counts) - _SHOW_UNKNOWN} more" if len(counts) > _SHOW_UNKNOWN else ""
    example = str(counts.index[0])
    return (
        f"Harm table {table.name!r} has no weight for {len(counts)} offence value(s) in "
        f"{int(unknown.sum()):,} rows: {shown}{more}. Map them to table offences "
        f"(mapping={{{example!r}: 'Other crime'}}, CLI --harm-map '{example}=Other crime'), "
        f"weight them zero (unknown='zero', CLI --harm-unknown zero), or pass a table that "
        f"has them (--harm-table FILE.csv with offence,weight)."
    )


def apply_harm(
    incidents: gpd.GeoDataFrame,
    table: HarmTable,
    *,
    unknown: UnknownOffence = "raise",
    mapping: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Return a copy of ``incidents`` with a ``harm`` column of weights from ``table``.

    Parameters
    ----------
    incidents
        Incidents with ``offence`` (and optionally ``offence_code``); not changed.
    table
        From :func:`load_harm_table`.
    unknown
        ``"raise"`` (default): offences the table does not know are an error that lists
        them; ``"zero"``: they weigh 0.
    mapping
        Data value -> table offence, e.g. ``{"BURGLARY": "Burglary"}`` (matched ignoring
        case and punctuation); targets must be in the table.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with column ``harm`` (float64, >= 0).

    Raises
    ------
    SchemaError
        An offence is unknown and ``unknown="raise"``, or ``offence`` is missing.
    OptionError
        Bad ``unknown`` choice or a mapping target that is not in the table.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from hotspots.harm import load_harm_table
    >>> pts = gpd.GeoDataFrame({"offence": ["Burglary", "shoplifting"]},
    ...                        geometry=gpd.points_from_xy([0, 1], [0, 1]), crs=27700)
    >>> apply_harm(pts, load_harm_table())["harm"].tolist()
    [244.68, 1.0]
    """
    check_choice(unknown, _UNKNOWN_CHOICES, name="unknown")
    weights = harm_weights(incidents, table, mapping=mapping)
    missing = np.isnan(weights)
    if missing.any() and unknown == "raise":
        raise SchemaError(unknown_offence_message(incidents, missing, table))
    weighted = incidents.copy(deep=False)  # copy-on-write: the new column alone is new
    weighted[HARM] = np.where(missing, 0.0, weights).astype("float64")
    return weighted
