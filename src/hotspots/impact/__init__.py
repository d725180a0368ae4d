"""Did it work? The weighted displacement difference test and crossover patrol trials.

WDD after Wheeler & Ratcliffe (2018, Crime Science 7:11), on counts and on harm, with a
displacement buffer and control areas; crossover spot-days compared with an exact test.
"""

from hotspots.impact._crossover import CrossoverResult, crossover_effect
from hotspots.impact._evaluate import ImpactResult, evaluate_impact, impact_areas
from hotspots.impact._wdd import AREA_ROLES, WDDResult, wdd, wdd_from_sums

__all__ = [
    "AREA_ROLES",
    "CrossoverResult",
    "ImpactResult",
    "WDDResult",
    "crossover_effect",
    "evaluate_impact",
    "impact_areas",
    "wdd",
    "wdd_from_sums",
]
