"""Crossover patrol trials: crime on patrolled against unpatrolled spot-days.

``hotspots spots --crossover`` leaves a seeded random half of each spot's days unpatrolled
(the ``patrol`` column of the plan is False). Each spot is its own control, as in the
crossover hot-spot trials of Sherman & Weisburd (1995) and Ariel, Weinborn & Sherman (2016).
Under no effect, the crimes of all spot-days split between patrolled and unpatrolled days in
proportion to their number of spot-days; the exact conditional binomial test gives the
p-value (the standard comparison of two Poisson rates).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.stats import binomtest

from hotspots._validate import require_columns, require_metric_crs
from hotspots.errors import EmptyWindowError, TimeResolutionError
from hotspots.schema import HARM, OCCURRED_AT, SPOT_ID, TIME_RESOLUTION

__all__ = ["CrossoverResult", "crossover_effect"]


@dataclass(frozen=True)
class CrossoverResult:
    """Crime on patrolled and unpatrolled spot-days of a crossover plan."""

    patrolled_days: int
    unpatrolled_days: int
    crimes_patrolled: int
    crimes_unpatrolled: int
    rate_patrolled: float  # crimes per spot-day
    rate_unpatrolled: float
    rate_ratio: float  # patrolled / unpatrolled; < 1 means less crime when patrolled
    p_value: float  # exact conditional binomial, two-sided
    harm_patrolled: float
    harm_unpatrolled: float

    def to_dict(self) -> dict[str, float]:
        """Plain record for CSV and run.json."""
        return {k: float(v) for k, v in asdict(self).items()}


def crossover_effect(
    plan: pd.DataFrame, incidents: gpd.GeoDataFrame, spots: gpd.GeoDataFrame
) -> CrossoverResult:
    """Compare crime on the plan's patrolled and unpatrolled spot-days.

    Parameters
    ----------
    plan
        ``patrol_plan(..., crossover=True)``: ``spot_id``, ``date`` (YYYY-MM-DD, local)
        and ``patrol`` (bool).
    incidents
        Incidents with exact or day times (``occurred_at``), in the spots' CRS; not
        changed. With ``harm`` the harm per group is added.
    spots
        The spot polygons (``spot_id``, geometry).

    Raises
    ------
    TimeResolutionError
        The incidents are dated by month: spot-days cannot be told apart.
    EmptyWindowError
        The plan has no patrolled or no unpatrolled spot-day.
    """
    require_columns(plan, [SPOT_ID, "date", "patrol"], what="patrol plan")
    require_columns(spots, [SPOT_ID], what="spots")
    require_metric_crs(incidents, what="incidents")
    if TIME_RESOLUTION in incidents and (incidents[TIME_RESOLUTION] == "month").any():
        msg = (
            "Crossover needs incidents dated to the day; police.uk month data cannot say which day."
        )
        raise TimeResolutionError(msg)
    patrol = plan["patrol"].astype(bool).to_numpy()
    if patrol.all() or not patrol.any():
        msg = "The plan has no unpatrolled (or no patrolled) spot-days; make it with --crossover."
        raise EmptyWindowError(msg)
    days = plan[[SPOT_ID, "date"]].astype(str).assign(patrol=patrol)
    spot_idx, inc_idx = spots.sindex.query(incidents.geometry.to_numpy(), predicate="intersects")
    hits = pd.DataFrame(
        {
            SPOT_ID: spots[SPOT_ID].astype(str).to_numpy()[inc_idx],
            "date": incidents[OCCURRED_AT].dt.strftime("%Y-%m-%d").to_numpy()[spot_idx],
            HARM: (
                incidents[HARM].to_numpy(dtype="float64")[spot_idx]
                if HARM in incidents
                else np.ones(len(spot_idx))
            ),
        }
    )
    joined = hits.merge(days, on=[SPOT_ID, "date"], how="inner")
    n_p, n_u = int(patrol.sum()), int((~patrol).sum())
    c_p = int(joined["patrol"].sum())
    c_u = int((~joined["patrol"]).sum())
    rate_p, rate_u = c_p / n_p, c_u / n_u
    total = c_p + c_u
    p = float(binomtest(c_p, total, n_p / (n_p + n_u)).pvalue) if total else 1.0
    return CrossoverResult(
        patrolled_days=n_p,
        unpatrolled_days=n_u,
        crimes_patrolled=c_p,
        crimes_unpatrolled=c_u,
        rate_patrolled=rate_p,
        rate_unpatrolled=rate_u,
        rate_ratio=rate_p / rate_u if rate_u > 0 else float("inf") if rate_p > 0 else 1.0,
        p_value=p,
        harm_patrolled=float(joined.loc[joined["patrol"], HARM].sum()),
        harm_unpatrolled=float(joined.loc[~joined["patrol"], HARM].sum()),
    )
