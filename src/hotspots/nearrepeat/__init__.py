"""Near repeat: space-time pair enumeration and the Knox test (Knox 1964; Johnson & Bowers 2004)."""

from hotspots.nearrepeat._run import KnoxRun, run, select_events, write_run
from hotspots.nearrepeat.knox import (
    FRAME_COLUMNS,
    KnoxResult,
    cocoon_settings_from_knox,
    knox_by_year,
    knox_test,
)
from hotspots.nearrepeat.pairs import close_pairs
from hotspots.nearrepeat.report import knox_html, write_knox_outputs

__all__ = [
    "write_run",
    "select_events",
    "run",
    "KnoxRun",
    "FRAME_COLUMNS",
    "KnoxResult",
    "close_pairs",
    "cocoon_settings_from_knox",
    "knox_by_year",
    "knox_html",
    "knox_test",
    "write_knox_outputs",
]
