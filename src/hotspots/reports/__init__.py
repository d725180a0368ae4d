"""The force's own reports: period comparisons, category shares, harm concentration.

``compare_periods`` gives counts and harm for a period against a comparison period by area
and offence category (the layout of force performance papers), the harm share against the
count share of each category, the concentration of harm in grid cells per area (Gini and the
area holding half of the harm) and a monthly series per area.
"""

from hotspots.reports._compare import ALL_AREAS, ALL_CRIME, ROW_TYPE, compare_table, pct_change
from hotspots.reports._concentration import CURVE_POINTS, concentration, gini
from hotspots.reports._periods import (
    AGAINST_CHOICES,
    Against,
    IncompletePeriodError,
    Period,
    check_coverage,
    comparison_period,
    in_period,
    parse_day,
    period_from,
)
from hotspots.reports._run import CompareResult, compare_periods
from hotspots.reports._shares import (
    category_shares,
    monthly_series,
    outcome_column,
    outcome_shares,
    share_headline,
    spot_outcome_shares,
)
from hotspots.reports._write import (
    render_compare_html,
    render_template,
    write_html,
    write_monthly_png,
)

__all__ = [
    "AGAINST_CHOICES",
    "ALL_AREAS",
    "ALL_CRIME",
    "CURVE_POINTS",
    "ROW_TYPE",
    "Against",
    "CompareResult",
    "IncompletePeriodError",
    "Period",
    "category_shares",
    "check_coverage",
    "compare_periods",
    "compare_table",
    "comparison_period",
    "concentration",
    "gini",
    "in_period",
    "monthly_series",
    "outcome_column",
    "outcome_shares",
    "parse_day",
    "pct_change",
    "period_from",
    "render_compare_html",
    "render_template",
    "share_headline",
    "spot_outcome_shares",
    "write_html",
    "write_monthly_png",
]
