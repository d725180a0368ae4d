"""Evidence: rolling backtests of harm spots and cocoons, and their accuracy metrics.

Hit rate and PAI (Chainey, Tompson & Uhlig 2008), PEI (Hunt 2016), RRI (Levine 2008),
prospective hot-spotting (Johnson & Bowers 2004), scored for several methods on the same
grid cells at the same coverage levels. The methods, the study grid, Gi* and the KDE are
the spot-method registry's (:data:`hotspots.spots.RULES`): a name scores exactly the rule
the weekly run deploys under that name.
"""

from hotspots.evaluate.backtest import (
    DEFAULT_COVERAGE,
    DEFAULT_LOOKBACK_DAYS,
    DEFAULT_METHOD,
    DEFAULT_METHODS,
    METRICS,
    MIN_PERIODS,
    BacktestResult,
    backtest,
    filter_offences,
    summarise,
)
from hotspots.evaluate.cocoons import CocoonBacktestResult, cocoon_backtest, select_burglaries
from hotspots.evaluate.metrics import (
    area_share,
    harm_capture,
    harm_pai,
    hit_rate,
    n_cells_for_coverage,
    pai,
    pei,
    rri,
    select_by_coverage,
    stability,
)
from hotspots.spots import RULES, MethodParams

METHODS: tuple[str, ...] = tuple(RULES)  # every registered spot method and baseline

__all__ = [
    "DEFAULT_COVERAGE",
    "DEFAULT_LOOKBACK_DAYS",
    "DEFAULT_METHOD",
    "DEFAULT_METHODS",
    "METHODS",
    "METRICS",
    "MIN_PERIODS",
    "BacktestResult",
    "CocoonBacktestResult",
    "MethodParams",
    "area_share",
    "backtest",
    "cocoon_backtest",
    "filter_offences",
    "harm_capture",
    "harm_pai",
    "hit_rate",
    "n_cells_for_coverage",
    "pai",
    "pei",
    "rri",
    "select_burglaries",
    "select_by_coverage",
    "stability",
    "summarise",
]
