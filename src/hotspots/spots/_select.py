"""Choosing spots: ranking, top N, harm share and area cap (private).

Ties in harm are broken deterministically: more incidents first, then spot id.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots.areas import AREA_UNASSIGNED
from hotspots.schema import AREA_M2, AREA_NAME, AREA_RANK, HARM, N_INCIDENTS, RANK, SPOT_ID

__all__ = ["headline", "order_units", "select_units"]


def order_units(units: pd.DataFrame) -> pd.DataFrame:
    """Most harm first; ties by more incidents, then spot id (A before B)."""
    return units.sort_values(
        [HARM, N_INCIDENTS, SPOT_ID], ascending=[False, False, True], kind="stable"
    )


def select_units(
    units: gpd.GeoDataFrame,
    *,
    top: int | None,
    harm_share: float | None,
    max_area_km2: float | None,
    per_area: bool,
    total_harm: float,
    area_harm: pd.Series | None,
) -> gpd.GeoDataFrame:
    """Rows of ``units`` chosen as spots, ranked (``rank`` overall, ``area_rank`` in area).

    ``units`` needs ``eligible``, ``area``, ``harm``, ``n_incidents``, ``spot_id`` and
    ``area_m2``. With ``per_area`` the top N and the harm share apply within each area
    (share of that area's harm); ``max_area_km2`` caps the total area of the whole set,
    keeping the most harmful spots.
    """
    pool = units[units["eligible"].to_numpy(dtype=bool) & (units[HARM] > 0).to_numpy()]
    if per_area:
        pool = pool[pool[AREA_NAME] != AREA_UNASSIGNED]
    pool = order_units(pool)
    group = pool[AREA_NAME] if per_area else pd.Series("all", index=pool.index)
    keep = pd.Series(True, index=pool.index)
    if top is not None:
        keep &= pool.groupby(group, sort=False).cumcount() < top
    if harm_share is not None:
        before = pool.groupby(group, sort=False)[HARM].cumsum() - pool[HARM]
        if per_area and area_harm is not None:
            target = group.map(area_harm).fillna(0.0).astype("float64")
        else:
            target = pd.Series(total_harm, index=pool.index)
        keep &= before < harm_share * target - 1e-9 * max(total_harm, 1.0)
    chosen = pool[keep.to_numpy()]
    if max_area_km2 is not None:
        within = chosen[AREA_M2].cumsum() <= max_area_km2 * 1e6 + 1e-6
        chosen = chosen[within.to_numpy()]
    chosen = chosen.copy()
    chosen.insert(1, RANK, np.arange(1, len(chosen) + 1, dtype="int64"))
    area_group = chosen[AREA_NAME] if per_area else pd.Series("all", index=chosen.index)
    chosen.insert(2, AREA_RANK, chosen.groupby(area_group, sort=False).cumcount().to_numpy() + 1)
    return chosen.reset_index(drop=True)


def headline(
    n_spots: int, harm_share: float, area_share: float, *, study: str | None = None
) -> str:
    """'20 spots hold 41% of harm in 2.6% of the area (areas layer, 3,677.0 km²)'.

    ``study`` names the area denominator and its size; every share-of-area figure
    carries it.
    """
    noun = "spot holds" if n_spots == 1 else "spots hold"
    text = f"{n_spots} {noun} {harm_share:.0%} of harm in {_pct(area_share)} of the area"
    return f"{text} ({study})" if study else text


def _pct(share: float) -> str:
    pct = 100.0 * share
    if 0 < pct < 0.1:
        return f"{pct:.2f}%"
    return f"{pct:.1f}%" if pct < 10 else f"{pct:.0f}%"
