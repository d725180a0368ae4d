"""Did an operation work? Counts and harm around an intervention, and its WDD tests.

The treated area is the union of the given polygons (areas or harm spots). The
displacement area is the ring ``buffer_m`` wide around it; the control area is either the
polygons given (less the treated and displacement areas) or, by default, the next ring
out, ``control_ring_m`` wide. A separate control for the displacement area can be given;
without one its change counts as zero, as in Wheeler & Ratcliffe's two-area form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots._validate import check_positive, require_columns, require_metric_crs
from hotspots.errors import EmptyWindowError, OptionError, TimeResolutionError
from hotspots.impact._wdd import AREA_ROLES, WDDResult, wdd_from_sums
from hotspots.schema import HARM, OCCURRED_AT, OFFENCE, TIME_RESOLUTION

__all__ = ["ImpactResult", "evaluate_impact", "impact_areas"]


@dataclass(frozen=True)
class ImpactResult:
    """WDD on counts and on harm, with the counts behind them and the areas used."""

    counts: pd.DataFrame
    count_test: WDDResult
    harm_test: WDDResult | None
    areas: gpd.GeoDataFrame
    windows: dict[str, str]
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Plain record for run.json."""
        return {
            "windows": self.windows,
            "count_wdd": self.count_test.to_dict(),
            "harm_wdd": None if self.harm_test is None else self.harm_test.to_dict(),
            "notes": self.notes,
        }


def _union(layer: gpd.GeoDataFrame | None) -> Any:
    if layer is None or len(layer) == 0:
        return None
    return shapely.union_all(shapely.make_valid(layer.geometry.to_numpy()))


def impact_areas(
    treated: gpd.GeoDataFrame,
    *,
    buffer_m: float = 0.0,
    control: gpd.GeoDataFrame | None = None,
    control_ring_m: float = 500.0,
    displacement_control: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The areas of the test: treated, displacement ring, control, displacement control.

    Parameters
    ----------
    treated
        Polygons treated by the operation (metric CRS).
    buffer_m
        Width of the displacement ring around the treated area (metres; 0: none).
    control
        Control polygons; the treated and displacement areas are cut out of them.
        Default: a ring ``control_ring_m`` wide outside the displacement ring.
    control_ring_m
        Width of the default control ring (metres).
    displacement_control
        Control polygons for the displacement area (optional).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``role`` (``AREA_ROLES``), ``area_km2`` and geometry; roles without an
        area are left out.
    """
    require_metric_crs(treated, what="treated areas")
    check_positive(buffer_m, name="buffer_m", allow_zero=True)
    t = _union(treated)
    if t is None or shapely.is_empty(t) or shapely.area(t) <= 0:
        msg = "The treated areas are empty; give polygons (or spot ids that exist)."
        raise OptionError(msg)
    inner = shapely.buffer(t, buffer_m) if buffer_m > 0 else t
    geoms: dict[str, Any] = {"treated": t}
    if buffer_m > 0:
        geoms["displacement"] = shapely.difference(inner, t)
    if control is not None:
        require_metric_crs(control, what="control areas")
        geoms["control"] = shapely.difference(_union(control), inner)
    else:
        check_positive(control_ring_m, name="control_ring_m")
        geoms["control"] = shapely.difference(shapely.buffer(inner, control_ring_m), inner)
    if displacement_control is not None:
        geoms["displacement_control"] = shapely.difference(
            _union(displacement_control), shapely.union_all([inner, geoms["control"]])
        )
    roles = [r for r in AREA_ROLES if r in geoms and not shapely.is_empty(geoms[r])]
    if "control" not in roles:
        msg = "The control area is empty after cutting out the treated and displacement areas."
        raise OptionError(msg)
    shapes = [geoms[r] for r in roles]
    return gpd.GeoDataFrame(
        {"role": roles, "area_km2": [round(float(shapely.area(g)) / 1e6, 4) for g in shapes]},
        geometry=shapes,
        crs=treated.crs,
    )


def _windows(
    start: pd.Timestamp, before_days: int, after_days: int
) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    check_positive(before_days, name="before_days")
    check_positive(after_days, name="after_days")
    return start - pd.Timedelta(days=before_days), start, start + pd.Timedelta(days=after_days)


def evaluate_impact(
    incidents: gpd.GeoDataFrame,
    *,
    areas: gpd.GeoDataFrame,
    start: pd.Timestamp | str,
    before_days: int = 365,
    after_days: int = 365,
    offences: list[str] | None = None,
    alpha: float = 0.05,
    area_weighted: bool = False,
) -> ImpactResult:
    """Counts and harm before and after ``start`` in each area, and the WDD tests.

    Parameters
    ----------
    incidents
        Incidents in the areas' CRS; with a ``harm`` column the harm-weighted test is
        added. Not changed.
    areas
        From :func:`impact_areas`.
    start
        First day of the operation (a date; midnight local time). Windows are
        ``[start - before_days, start)`` and ``[start, start + after_days)``.
    before_days, after_days
        Window lengths in days; unequal lengths are handled with time weights.
    offences
        Offence categories counted (default: all).
    alpha
        1 - confidence level of the intervals (default 0.05).
    area_weighted
        Divide each area's figures by its size relative to the treated area, so a large
        control ring weighs as much as the treated area (Wheeler 2021, "The WDD test with
        different area sizes"). Default False: raw counts, as in the 2018 paper.

    Returns
    -------
    ImpactResult
        ``counts`` has one row per role: ``role``, ``area_km2``, ``count_before``,
        ``count_after``, ``harm_before``, ``harm_after``.

    Raises
    ------
    TimeResolutionError
        Month-resolution data and a start date that is not the 1st of a month.
    EmptyWindowError
        No incident in the treated area in either window.
    """
    require_metric_crs(incidents, what="incidents")
    require_columns(incidents, [OCCURRED_AT, OFFENCE], what="incidents")
    tz = incidents[OCCURRED_AT].dt.tz
    day = pd.Timestamp(start)
    day = day.tz_localize(tz) if day.tzinfo is None and tz is not None else day
    day = day.normalize()
    month_data = TIME_RESOLUTION in incidents and (incidents[TIME_RESOLUTION] == "month").any()
    notes: list[str] = []
    if month_data:
        if day.day != 1:
            msg = (
                f"Start {day:%Y-%m-%d} is mid-month but the data has month resolution; start "
                f"on the 1st (e.g. {day:%Y-%m}-01) and use windows of whole months."
            )
            raise TimeResolutionError(msg)
        notes.append("Month-resolution data: incidents are placed in a window by their month.")
    t0, t1, t2 = _windows(day, before_days, after_days)
    data = incidents
    if offences:
        data = incidents[incidents[OFFENCE].isin(offences).to_numpy()]
    times = data[OCCURRED_AT]
    before = ((times >= t0) & (times < t1)).to_numpy()
    after = ((times >= t1) & (times < t2)).to_numpy()
    has_harm = HARM in data.columns
    harm = data[HARM].to_numpy(dtype="float64") if has_harm else np.ones(len(data))
    pts = data.geometry.to_numpy()
    rows, sums, sq = [], {}, {}
    counts_by_role = {}
    for role, geom, km2 in zip(areas["role"], areas.geometry, areas["area_km2"], strict=True):
        inside = shapely.intersects(geom, pts)
        b, a = inside & before, inside & after
        counts_by_role[role] = (float(b.sum()), float(a.sum()))
        sums[role] = (float(harm[b].sum()), float(harm[a].sum()))
        sq[role] = (float((harm[b] ** 2).sum()), float((harm[a] ** 2).sum()))
        rows.append(
            {
                "role": role,
                "area_km2": km2,
                "count_before": int(b.sum()),
                "count_after": int(a.sum()),
                "harm_before": round(sums[role][0], 1),
                "harm_after": round(sums[role][1], 1),
            }
        )
    if sum(counts_by_role.get("treated", (0, 0))) == 0:
        msg = (
            f"No incident in the treated area between {t0:%Y-%m-%d} and {t2:%Y-%m-%d}; check "
            f"the treated areas, --start and the windows."
        )
        raise EmptyWindowError(msg)
    tw = (before_days / after_days, 1.0)
    aw = [1.0, 1.0, 1.0, 1.0]
    if area_weighted:  # every area scaled to the treated area's size (Wheeler 2021)
        km2 = {str(r): float(k) for r, k in zip(areas["role"], areas["area_km2"], strict=True)}
        aw = [km2.get(r, km2["treated"]) / km2["treated"] for r in AREA_ROLES]
        notes.append("Counts are scaled to the treated area's size (area weights).")
    count_test = wdd_from_sums(
        counts_by_role, counts_by_role, time_weights=tw, area_weights=aw, alpha=alpha
    )
    harm_test = (
        wdd_from_sums(sums, sq, time_weights=tw, area_weights=aw, alpha=alpha) if has_harm else None
    )
    if "displacement_control" not in set(areas["role"]) and "displacement" in set(areas["role"]):
        notes.append("No control for the displacement area: its change is compared with zero.")
    windows = {
        "before": f"{t0:%Y-%m-%d} to {t1 - pd.Timedelta(days=1):%Y-%m-%d}",
        "after": f"{t1:%Y-%m-%d} to {t2 - pd.Timedelta(days=1):%Y-%m-%d}",
    }
    return ImpactResult(
        counts=pd.DataFrame(rows),
        count_test=count_test,
        harm_test=harm_test,
        areas=areas,
        windows=windows,
        notes=notes,
    )
