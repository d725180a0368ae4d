"""hotspots: harm-spot and cocooning planner for police crime analysts.

Rank small places by crime harm (Cambridge Crime Harm Index; Sherman, Neyroud & Neyroud
2016), plan Grip-style patrols, open near-repeat burglary cocoon zones with visit lists
(Johnson & Bowers 2004), test near-repeat with Knox (Knox 1964), and write maps and
planner exports. Metres inside (EPSG:27700 in Great Britain), WGS84 only at the output
edge.

The public names below are imported lazily (on first use), so ``hotspots --version``
and ``--help`` start without loading scikit-learn or folium.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("hotspots")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

_PUBLIC = {
    # ingest and harm
    "IngestOptions": "hotspots.config",
    "HarmOptions": "hotspots.config",
    "SpotOptions": "hotspots.config",
    "KnoxOptions": "hotspots.config",
    "CocoonOptions": "hotspots.config",
    "OutputOptions": "hotspots.config",
    "IngestReport": "hotspots.ingest",
    "IngestResult": "hotspots.ingest",
    "read_incidents": "hotspots.ingest",
    "HarmTable": "hotspots.harm",
    "apply_harm": "hotspots.harm",
    "load_harm_table": "hotspots.harm",
    "read_areas": "hotspots.areas",
    # harm spots
    "SERIOUS_VIOLENCE": "hotspots.spots",
    "HarmSpotClusterer": "hotspots.spots",
    "SpotResult": "hotspots.spots",
    "find_spots": "hotspots.spots",
    "grid_cells": "hotspots.spots",
    "patrol_plan": "hotspots.spots",
    "patrol_summary": "hotspots.spots",
    "patrol_dosage": "hotspots.spots",
    # near repeat and cocoons
    "KnoxResult": "hotspots.nearrepeat",
    "knox_test": "hotspots.nearrepeat",
    "AddressIndex": "hotspots.cocoon",
    "Compliance": "hotspots.cocoon",
    "cocoon_zones": "hotspots.cocoon",
    "compliance": "hotspots.cocoon",
    "read_addresses": "hotspots.cocoon",
    "read_visits": "hotspots.cocoon",
    "visit_lists": "hotspots.cocoon",
    # evaluation
    "BacktestResult": "hotspots.evaluate",
    "CocoonBacktestResult": "hotspots.evaluate",
    "backtest": "hotspots.evaluate",
    "cocoon_backtest": "hotspots.evaluate",
    "pai": "hotspots.evaluate",
    "pei": "hotspots.evaluate",
    "rri": "hotspots.evaluate",
    # outputs and the weekly run
    "build_map": "hotspots.outputs.maps",
    "write_map": "hotspots.outputs.maps",
    "write_cocoon_lists": "hotspots.outputs.lists",
    "WeeklySettings": "hotspots.pipeline",
    "run_weekly": "hotspots.pipeline",
    "generate_town": "hotspots.demo",
}

__all__ = [
    "__version__",
    "BacktestResult",
    "CocoonBacktestResult",
    "AddressIndex",
    "Compliance",
    "HarmSpotClusterer",
    "HarmTable",
    "IngestOptions",
    "HarmOptions",
    "SpotOptions",
    "KnoxOptions",
    "CocoonOptions",
    "OutputOptions",
    "IngestReport",
    "IngestResult",
    "KnoxResult",
    "SERIOUS_VIOLENCE",
    "SpotResult",
    "WeeklySettings",
    "apply_harm",
    "backtest",
    "build_map",
    "cocoon_backtest",
    "cocoon_zones",
    "compliance",
    "find_spots",
    "generate_town",
    "grid_cells",
    "knox_test",
    "load_harm_table",
    "pai",
    "patrol_dosage",
    "patrol_plan",
    "patrol_summary",
    "pei",
    "read_addresses",
    "read_areas",
    "read_incidents",
    "read_visits",
    "rri",
    "run_weekly",
    "visit_lists",
    "write_cocoon_lists",
    "write_map",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        msg = f"module 'hotspots' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from hotspots.areas import read_areas
    from hotspots.cocoon import (  # type: ignore[no-redef]  # function shadows the submodule
        AddressIndex,
        Compliance,
        cocoon_zones,
        compliance,
        read_addresses,
        read_visits,
        visit_lists,
    )
    from hotspots.config import (
        CocoonOptions,
        HarmOptions,
        IngestOptions,
        KnoxOptions,
        OutputOptions,
        SpotOptions,
    )
    from hotspots.demo import generate_town
    from hotspots.evaluate import (  # type: ignore[no-redef]  # function shadows the submodule
        BacktestResult,
        CocoonBacktestResult,
        backtest,
        cocoon_backtest,
        pai,
        pei,
        rri,
    )
    from hotspots.harm import HarmTable, apply_harm, load_harm_table
    from hotspots.ingest import IngestReport, IngestResult, read_incidents
    from hotspots.nearrepeat import KnoxResult, knox_test
    from hotspots.outputs.lists import write_cocoon_lists
    from hotspots.outputs.maps import build_map, write_map
    from hotspots.pipeline import WeeklySettings, run_weekly
    from hotspots.spots import (
        SERIOUS_VIOLENCE,
        HarmSpotClusterer,
        SpotResult,
        find_spots,
        grid_cells,
        patrol_dosage,
        patrol_plan,
        patrol_summary,
    )
