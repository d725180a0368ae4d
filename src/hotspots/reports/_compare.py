"""Counts and harm for a period against a comparison period, by area x offence category.

The layout of force performance papers: "12 months to December 2021 compared to the 12
months to December 2020", with the difference and the % difference, by offence and by
district, plus totals per district and force-wide.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hotspots._validate import require_columns
from hotspots.reports._periods import Period, in_period
from hotspots.schema import AREA_NAME, HARM, OFFENCE

__all__ = [
    "ALL_AREAS",
    "ALL_CRIME",
    "ROW_TYPE",
    "compare_table",
    "pct_change",
]

ALL_AREAS = "All areas"
ALL_CRIME = "All crime"
ROW_TYPE = "row_type"  # "category" | "area_total" | "overall"


def pct_change(current: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Percentage change from ``previous`` to ``current``; NaN where ``previous`` is 0.

    Examples
    --------
    >>> pct_change(np.array([12.0, 5.0, 3.0]), np.array([10.0, 0.0, 4.0])).round(1).tolist()
    [20.0, nan, -25.0]
    """
    cur = np.asarray(current, dtype="float64")
    prev = np.asarray(previous, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(prev > 0, (cur - prev) / np.where(prev > 0, prev, 1.0) * 100.0, np.nan)


def _sums(frame: pd.DataFrame, mask: np.ndarray, keys: list[str]) -> pd.DataFrame:
    part = frame.loc[mask, [*keys, HARM]]
    return part.groupby(keys, sort=False, observed=True)[HARM].agg(["size", "sum"])


def _finish(table: pd.DataFrame, cur: Period, cmp: Period) -> pd.DataFrame:
    out = table.copy()
    c, p = f"count_{cur.label}", f"count_{cmp.label}"
    hc, hp = f"harm_{cur.label}", f"harm_{cmp.label}"
    out[c] = out[c].astype("int64")
    out[p] = out[p].astype("int64")
    out["count_change"] = out[c] - out[p]
    out["count_change_pct"] = pct_change(out[c].to_numpy(), out[p].to_numpy()).round(1)
    out["harm_change"] = (out[hc] - out[hp]).round(1)
    out["harm_change_pct"] = pct_change(out[hc].to_numpy(), out[hp].to_numpy()).round(1)
    out[hc] = out[hc].round(1)
    out[hp] = out[hp].round(1)
    return out


def compare_table(
    incidents: pd.DataFrame,
    *,
    current: Period,
    comparison: Period,
    area_labels: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per area x offence category, plus a total per area and an overall total.

    Parameters
    ----------
    incidents
        Weighted incidents (``offence``, ``occurred_at``, ``harm``); not changed.
    current, comparison
        The two periods (from :mod:`hotspots.reports._periods`).
    area_labels
        Area name of each incident (``hotspots.areas.label_points``); None puts every
        incident in one area, ``All areas``.

    Returns
    -------
    pandas.DataFrame
        Columns ``area``, ``offence``, ``row_type`` (``category``, ``area_total``,
        ``overall``), ``count_<current>``, ``count_<comparison>``, ``count_change``,
        ``count_change_pct`` (NaN when the comparison count is 0), ``harm_<current>``,
        ``harm_<comparison>``, ``harm_change``, ``harm_change_pct``. Every category
        present in either period appears for every area (zeros included); areas and
        categories are sorted by name, each area followed by its total, the overall
        rows last.

    Examples
    --------
    >>> from hotspots.reports._periods import Period
    >>> inc = pd.DataFrame({"offence": ["Robbery", "Robbery", "Drugs"], "harm": [1.0, 1.0, 2.0],
    ...     "occurred_at": pd.to_datetime(["2025-01-05", "2024-01-05", "2025-01-09"])})
    >>> cur = Period(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-01-31"), "current")
    >>> cmp = Period(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-31"), "comparison")
    >>> compare_table(inc, current=cur, comparison=cmp)[["offence", "count_current",
    ...     "count_comparison", "count_change"]].values.tolist()
    [['Drugs', 1, 0, 1], ['Robbery', 1, 1, 0], ['All crime', 2, 1, 1]]
    """
    require_columns(
        incidents, [OFFENCE, HARM], what="incidents", fix="Weigh them with hotspots.apply_harm."
    )
    labels = (
        np.full(len(incidents), ALL_AREAS, dtype=object)
        if area_labels is None
        else np.asarray(area_labels, dtype=object)
    )
    frame = pd.DataFrame(
        {
            AREA_NAME: labels,
            OFFENCE: incidents[OFFENCE].astype("string").fillna("(no offence)").to_numpy(),
            HARM: incidents[HARM].to_numpy(dtype="float64"),
        }
    )
    masks = {p.label: in_period(incidents, p) for p in (current, comparison)}
    keep = masks[current.label] | masks[comparison.label]
    areas = sorted(set(frame.loc[keep, AREA_NAME])) if area_labels is not None else [ALL_AREAS]
    offences = sorted(set(frame.loc[keep, OFFENCE]))
    index = pd.MultiIndex.from_product([areas, offences], names=[AREA_NAME, OFFENCE])
    parts = []
    for label, mask in masks.items():
        s = _sums(frame, mask, [AREA_NAME, OFFENCE]).reindex(index, fill_value=0)
        parts.append(s.rename(columns={"size": f"count_{label}", "sum": f"harm_{label}"}))
    cells = pd.concat(parts, axis=1).reset_index()
    cells[ROW_TYPE] = "category"
    value_cols = [c for c in cells.columns if c.startswith(("count_", "harm_"))]
    area_totals = cells.groupby(AREA_NAME, sort=True)[value_cols].sum().reset_index()
    area_totals[OFFENCE] = ALL_CRIME
    area_totals[ROW_TYPE] = "area_total"
    pieces = []
    for area in areas:
        pieces.append(cells[cells[AREA_NAME] == area])
        if len(areas) > 1:
            pieces.append(area_totals[area_totals[AREA_NAME] == area])
    by_offence = cells.groupby(OFFENCE, sort=True)[value_cols].sum().reset_index()
    overall = pd.DataFrame({OFFENCE: [ALL_CRIME], **{c: [cells[c].sum()] for c in value_cols}})
    if len(areas) > 1:
        by_offence[AREA_NAME] = ALL_AREAS
        by_offence[ROW_TYPE] = "overall"
        pieces.append(by_offence)
    overall[AREA_NAME] = ALL_AREAS if len(areas) > 1 else areas[0] if areas else ALL_AREAS
    overall[ROW_TYPE] = "overall"
    pieces.append(overall)
    table = pd.concat(pieces, ignore_index=True)
    ordered = [AREA_NAME, OFFENCE, ROW_TYPE]
    cur_c, cmp_c = f"count_{current.label}", f"count_{comparison.label}"
    cur_h, cmp_h = f"harm_{current.label}", f"harm_{comparison.label}"
    table = _finish(table[[*ordered, cur_c, cmp_c, cur_h, cmp_h]], current, comparison)
    return table[
        [*ordered, cur_c, cmp_c, "count_change", "count_change_pct",
         cur_h, cmp_h, "harm_change", "harm_change_pct"]
    ].reset_index(drop=True)  # fmt: skip
