"""Evidence: rolling backtests of harm spots and cocoons, and their accuracy metrics.

Hit rate and PAI (Chainey, Tompson & Uhlig 2008), PEI (Hunt 2016), RRI (Levine 2008),
prospective hot-spotting (Johnson & Bowers 2004), scored for several methods on the same
grid cells at the same coverage levels.
"""

from hotspots.evaluate.backtest import (
    DEFAULT_COVERAGE,
    DEFAULT_METHODS,
    METRICS,
    BacktestResult,
    backtest,
    filter_offences,
    summarise,
)
from hotspots.evaluate.cocoons import CocoonBacktestResult, cocoon_backtest, select_burglaries
from hotspots.evaluate.grid import StudyGrid, grid_indices, study_grid
from hotspots.evaluate.methods import METHODS, MethodParams, TrainingData, gistar_z, score_cells
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

__all__ = [
    "DEFAULT_COVERAGE",
    "DEFAULT_METHODS",
    "METHODS",
    "METRICS",
    "BacktestResult",
    "CocoonBacktestResult",
    "MethodParams",
    "StudyGrid",
    "TrainingData",
    "area_share",
    "backtest",
    "cocoon_backtest",
    "filter_offences",
    "gistar_z",
    "grid_indices",
    "harm_capture",
    "harm_pai",
    "hit_rate",
    "n_cells_for_coverage",
    "pai",
    "pei",
    "rri",
    "score_cells",
    "select_burglaries",
    "select_by_coverage",
    "stability",
    "study_grid",
    "summarise",
]
