"""``compare``: every report of a period against its comparison period, in one result."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots.areas import AREA_UNASSIGNED, label_points
from hotspots.errors import DataQualityWarning, EmptyWindowError
from hotspots.reports._compare import ALL_AREAS, compare_table
from hotspots.reports._concentration import concentration
from hotspots.reports._periods import (
    Against,
    Period,
    check_coverage,
    comparison_period,
    in_period,
    period_from,
)
from hotspots.reports._shares import (
    category_shares,
    monthly_series,
    outcome_column,
    outcome_shares,
    share_headline,
)
from hotspots.schema import AREA_NAME, LSOA_NAME

__all__ = ["CompareResult", "compare_periods"]


@dataclass(frozen=True)
class CompareResult:
    """Everything ``hotspots compare`` writes (frames are new objects, inputs untouched)."""

    current: Period
    comparison: Period
    table: pd.DataFrame
    shares: pd.DataFrame
    headlines: dict[str, str]
    concentration: pd.DataFrame
    curve: pd.DataFrame
    monthly: pd.DataFrame
    outcomes: pd.DataFrame | None
    missing_months: dict[str, list[str]]
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Plain record for run.json."""
        return {
            "periods": [self.current.to_dict(), self.comparison.to_dict()],
            "missing_months": self.missing_months,
            "headlines": self.headlines,
            "concentration": self.concentration.to_dict("records"),
            "notes": self.notes,
        }


def compare_periods(
    incidents: gpd.GeoDataFrame,
    *,
    areas: gpd.GeoDataFrame | None = None,
    start: str | None = None,
    end: str | None = None,
    months: int = 12,
    against: Against = "previous",
    against_start: str | None = None,
    against_end: str | None = None,
    allow_incomplete: bool = False,
    cell_m: float = 150.0,
    harm_target: float = 0.75,
) -> CompareResult:
    """Compare a period with its comparison period, by area and offence category.

    Parameters
    ----------
    incidents
        Weighted incidents (``hotspots.apply_harm``) in a metric CRS; not changed.
    areas
        From :func:`hotspots.areas.read_areas` (same CRS). When None and the data has
        police.uk LSOA names, the force's districts are taken from them
        (:func:`hotspots.studyarea.study_area_from_lsoa_names`; strays are reported as
        ``(outside areas)``); otherwise everything is one area.
    start, end
        The reporting period, ``YYYY-MM-DD`` inclusive (default: the last ``months``
        complete months of data).
    months
        Length of the default period in months.
    against, against_start, against_end
        The comparison period (see :func:`comparison_period`).
    allow_incomplete
        Warn (``DataQualityWarning``) instead of raising when a period has months with
        no data.
    cell_m
        Grid cell side for the concentration curve (metres).
    harm_target
        Harm share the category headline reaches (default 0.75).

    Raises
    ------
    IncompletePeriodError
        A period includes months with no data and ``allow_incomplete`` is False.
    OptionError
        Bad dates or choices.
    EmptyWindowError
        No incident in either period.
    """
    current = period_from(incidents, start=start, end=end, months=months)
    comparison = comparison_period(
        current, incidents, against=against, against_start=against_start, against_end=against_end
    )
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        missing = check_coverage(
            incidents, [current, comparison], allow_incomplete=allow_incomplete
        )
    for w in caught:
        notes.append(str(w.message))
        warnings.warn(str(w.message), DataQualityWarning, stacklevel=2)
    labels = label_points(incidents.geometry, areas) if areas is not None else None
    if areas is None and LSOA_NAME in incidents.columns and incidents[LSOA_NAME].notna().any():
        from hotspots.studyarea import study_area_from_lsoa_names

        study = study_area_from_lsoa_names(incidents)
        if len(study.districts):
            areas = study.districts[[AREA_NAME, study.districts.geometry.name]]
            labels = study.district.astype(object).fillna(AREA_UNASSIGNED).to_numpy(dtype=object)
            notes.append(f"No --areas: districts from police.uk LSOA names. {study.note()}")
    cur_mask = in_period(incidents, current)
    if not cur_mask.any() and not in_period(incidents, comparison).any():
        msg = (
            f"No incident in {current.describe()} or {comparison.describe()}; the data covers "
            f"other dates. Choose --start/--end inside the data."
        )
        raise EmptyWindowError(msg)
    table = compare_table(incidents, current=current, comparison=comparison, area_labels=labels)
    cur = incidents[cur_mask]
    cur_labels = labels[cur_mask] if labels is not None else None
    shares = category_shares(cur, area_labels=cur_labels)
    headlines = {
        str(a): share_headline(shares, area=str(a), harm_target=harm_target)
        for a in dict.fromkeys(shares[AREA_NAME])
    }
    conc, curve = concentration(cur, areas=areas, area_labels=cur_labels, cell_m=cell_m)
    months_all = sorted(set(comparison.months) | set(current.months))
    monthly = monthly_series(incidents, months=months_all, area_labels=labels)
    column = outcome_column(incidents)
    outcomes = None
    if column is None:
        notes.append(
            "No police.uk 'Last outcome category' column in the data; outcome shares skipped "
            "(re-ingest the police.uk files with a hotspots version that keeps it)."
        )
    else:
        outcomes = outcome_shares(cur, column=column, area_labels=cur_labels)
    if labels is not None:
        outside = int(np.sum(labels == AREA_UNASSIGNED))
        if outside:
            notes.append(
                f"{outside:,} incidents lie outside every area of the areas layer; they are "
                f"reported as '(outside areas)' and counted in the '{ALL_AREAS}' totals of the "
                f"table, but not in the concentration of harm (which needs a study area)."
            )
    return CompareResult(
        current=current,
        comparison=comparison,
        table=table,
        shares=shares,
        headlines=headlines,
        concentration=conc,
        curve=curve,
        monthly=monthly,
        outcomes=outcomes,
        missing_months=missing,
        notes=notes,
    )
