"""Harm share against count share by offence category, monthly series and outcome shares.

The "five crime categories, contributing to almost a fifth of all recorded offences,
contribute to three-quarters of harm" view: categories ordered by harm per offence, with
cumulative shares of offences and of harm, and the fewest categories that carry a target
share of the harm (Sherman, Neyroud & Neyroud 2016 on the crime harm index).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots import schema
from hotspots.areas import AREA_UNASSIGNED, label_points
from hotspots.reports._compare import ALL_AREAS
from hotspots.reports._periods import incident_months
from hotspots.schema import AREA_NAME, HARM, OFFENCE, SPOT_ID

__all__ = [
    "category_shares",
    "monthly_series",
    "outcome_column",
    "outcome_shares",
    "share_headline",
    "spot_outcome_shares",
]

_OUTCOME_NAMES = ("last_outcome_category", "last_outcome", "outcome")


def _frame(incidents: pd.DataFrame, labels: np.ndarray | None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            AREA_NAME: (
                np.full(len(incidents), ALL_AREAS, dtype=object)
                if labels is None
                else np.asarray(labels, dtype=object)
            ),
            OFFENCE: incidents[OFFENCE].astype("string").fillna("(no offence)").to_numpy(),
            HARM: incidents[HARM].to_numpy(dtype="float64"),
        }
    )


def category_shares(
    incidents: pd.DataFrame, *, area_labels: np.ndarray | None = None
) -> pd.DataFrame:
    """Count share and harm share of each offence category, per area and overall.

    Parameters
    ----------
    incidents
        Weighted incidents of one period (``offence``, ``harm``); not changed.
    area_labels
        Area of each incident, or None (one area, ``All areas``).

    Returns
    -------
    pandas.DataFrame
        Columns ``area``, ``offence``, ``count``, ``count_share``, ``harm``,
        ``harm_share`` (shares 0-1 within the area), ``harm_per_offence``,
        ``cum_count_share``, ``cum_harm_share``; within each area, rows run from the
        most harmful category per offence down. ``All areas`` rows come last.

    Examples
    --------
    >>> inc = pd.DataFrame({"offence": ["Robbery", "Theft", "Theft", "Theft"],
    ...                     "harm": [30.0, 2.0, 2.0, 2.0]})
    >>> category_shares(inc)[["offence", "count_share", "harm_share"]].values.tolist()
    [['Robbery', 0.25, 0.8333333333333334], ['Theft', 0.75, 0.16666666666666666]]
    """
    frame = _frame(incidents, area_labels)
    tables = [frame]
    if area_labels is not None:
        everyone = frame.copy()
        everyone[AREA_NAME] = ALL_AREAS
        tables.append(everyone)
    both = pd.concat(tables, ignore_index=True)
    g = both.groupby([AREA_NAME, OFFENCE], sort=True)[HARM].agg(["size", "sum"]).reset_index()
    g = g.rename(columns={"size": "count", "sum": HARM})
    area_count = g.groupby(AREA_NAME)["count"].transform("sum")
    area_harm = g.groupby(AREA_NAME)[HARM].transform("sum")
    g["count_share"] = g["count"] / area_count
    g["harm_share"] = np.where(area_harm > 0, g[HARM] / area_harm.where(area_harm > 0, 1), 0.0)
    g["harm_per_offence"] = g[HARM] / g["count"]
    last = g[AREA_NAME] == ALL_AREAS
    g["_last"] = last.astype(int)
    g = g.sort_values(
        ["_last", AREA_NAME, "harm_per_offence", OFFENCE],
        ascending=[True, True, False, True],
        kind="stable",
    ).drop(columns="_last")
    g["cum_count_share"] = g.groupby(AREA_NAME, sort=False)["count_share"].cumsum()
    g["cum_harm_share"] = g.groupby(AREA_NAME, sort=False)["harm_share"].cumsum()
    g["count"] = g["count"].astype("int64")
    return g.reset_index(drop=True)


def share_headline(shares: pd.DataFrame, *, area: str, harm_target: float = 0.75) -> str:
    """``"5 categories, 19% of offences, carry 76% of harm (Essex)"`` for one area.

    The categories are taken in the order of :func:`category_shares` (most harmful per
    offence first) until their harm share reaches ``harm_target``.
    """
    rows = shares[shares[AREA_NAME] == area]
    if rows.empty or rows[HARM].sum() <= 0:
        return f"{area}: no harm recorded."
    reached = np.flatnonzero(rows["cum_harm_share"].to_numpy() >= harm_target - 1e-12)
    k = int(reached[0]) + 1 if len(reached) else len(rows)
    top = rows.iloc[:k]
    return (
        f"{k} categor{'y' if k == 1 else 'ies'} ({', '.join(top[OFFENCE])}), "
        f"{top['count_share'].sum():.0%} of offences, carry {top['harm_share'].sum():.0%} "
        f"of harm ({area})"
    )


def monthly_series(
    incidents: pd.DataFrame, *, months: list[str], area_labels: np.ndarray | None = None
) -> pd.DataFrame:
    """Count and harm per area per calendar month (every month listed, zeros included).

    Returns
    -------
    pandas.DataFrame
        Columns ``area``, ``month`` (``YYYY-MM``), ``count``, ``harm``; areas by name,
        then ``All areas`` when there are several.
    """
    frame = _frame(incidents, area_labels)
    frame["month"] = incident_months(incidents).to_numpy()
    frame = frame[frame["month"].isin(months)]
    areas = sorted(set(frame[AREA_NAME])) if area_labels is not None else [ALL_AREAS]
    if area_labels is not None and len(areas) > 1:
        everyone = frame.copy()
        everyone[AREA_NAME] = ALL_AREAS
        frame = pd.concat([frame, everyone], ignore_index=True)
        areas = [*areas, ALL_AREAS]
    index = pd.MultiIndex.from_product([areas, months], names=[AREA_NAME, "month"])
    g = frame.groupby([AREA_NAME, "month"])[HARM].agg(["size", "sum"])
    g = g.reindex(index, fill_value=0).reset_index()
    return pd.DataFrame(
        {
            AREA_NAME: g[AREA_NAME],
            "month": g["month"],
            "count": g["size"].astype("int64"),
            HARM: g["sum"].astype("float64").round(1),
        }
    )


def outcome_column(incidents: pd.DataFrame) -> str | None:
    """Name of the police.uk ``Last outcome category`` column when ingest kept it."""
    names = [
        getattr(schema, const)
        for const in ("LAST_OUTCOME", "OUTCOME", "LAST_OUTCOME_CATEGORY")
        if hasattr(schema, const)
    ]
    for name in (*names, *_OUTCOME_NAMES):
        if name in incidents.columns:
            return str(name)
    return None


def outcome_shares(
    incidents: pd.DataFrame, *, column: str, area_labels: np.ndarray | None = None
) -> pd.DataFrame:
    """Share of each last outcome per area and offence (blank outcomes as ``(none)``).

    Returns
    -------
    pandas.DataFrame
        Columns ``area``, ``offence``, ``outcome``, ``count``, ``share`` (0-1 within
        the area and offence).
    """
    frame = _frame(incidents, area_labels)
    frame["outcome"] = incidents[column].astype("string").fillna("(none)").to_numpy()
    frame.loc[frame["outcome"].str.strip() == "", "outcome"] = "(none)"
    g = frame.groupby([AREA_NAME, OFFENCE, "outcome"], sort=True).size().rename("count")
    g = g.reset_index()
    g["share"] = g["count"] / g.groupby([AREA_NAME, OFFENCE])["count"].transform("sum")
    g["count"] = g["count"].astype("int64")
    return g


def spot_outcome_shares(
    incidents: gpd.GeoDataFrame, spots: gpd.GeoDataFrame, *, column: str
) -> pd.DataFrame:
    """Outcome shares per harm spot (incidents outside every spot are left out).

    Parameters
    ----------
    incidents
        Incidents of one period with the outcome ``column``, in the spots' CRS.
    spots
        Spot polygons with their id in column ``area`` (``read_areas(...,
        area_field="spot_id")``).

    Returns
    -------
    pandas.DataFrame
        Columns ``spot_id``, ``offence``, ``outcome``, ``count``, ``share``.
    """
    labels = label_points(incidents.geometry, spots)
    inside = labels != AREA_UNASSIGNED
    shares = outcome_shares(incidents[inside], column=column, area_labels=labels[inside])
    return shares.rename(columns={AREA_NAME: SPOT_ID})
