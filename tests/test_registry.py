"""The spot-method registry: one name, one rule, in spots and in evaluate."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots import find_spots
from hotspots.errors import OptionError
from hotspots.schema import HARM, OCCURRED_AT, OFFENCE, SPOT_ID
from hotspots.spots import (
    BASELINES,
    DEPLOYABLE,
    METHODS,
    RULES,
    MethodParams,
    TrainingData,
    cell_ids,
    score_cells,
    study_grid,
)

TZ = "Europe/London"


def hand_grid() -> gpd.GeoDataFrame:
    """A toy study of 8 x 8 cells of 150 m: a hot block, a lone hot cell and a scatter.

    Cell (1, 1) and its 8 neighbours hold 20 harm each; cell (6, 6) alone holds 60;
    every other cell of the first column holds 1. The study area is the 8 x 8 box.
    """
    pts, harm = [], []
    for ix in range(0, 3):
        for iy in range(0, 3):
            pts.append((ix * 150 + 75, iy * 150 + 75))
            harm.append(20.0)
    pts.append((6 * 150 + 75, 6 * 150 + 75))
    harm.append(60.0)
    for iy in range(3, 8):
        pts.append((75.0, iy * 150 + 75))
        harm.append(1.0)
    xy = np.asarray(pts, dtype=float)
    return gpd.GeoDataFrame(
        {
            OCCURRED_AT: pd.Timestamp("2025-06-01", tz=TZ),
            OFFENCE: "Robbery",
            HARM: harm,
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=27700,
    )


def box(size_m: float) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"area": ["box"]}, geometry=[shapely.box(0, 0, size_m, size_m)], crs=27700
    )


def training(grid, frame) -> TrainingData:
    x, y = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
    t = pd.DatetimeIndex(frame[OCCURRED_AT]).as_unit("ns").asi8
    origin = pd.Timestamp("2025-06-02", tz=TZ).as_unit("ns").value
    return TrainingData(
        x=x,
        y=y,
        t_ns=t,
        harm=frame[HARM].to_numpy(float),
        cells=grid.cell_of(x, y),
        origin_ns=origin,
        previous_ns=origin - 7 * 86_400 * 10**9,
    )


def evaluated_cells(frame, method, areas=None, params=None) -> set[str]:
    grid = study_grid(frame, cell_m=150, areas=areas)
    score, _ = score_cells(method, grid, training(grid, frame), params)
    chosen = score > 0
    return set(cell_ids(grid.ix[chosen], grid.iy[chosen], cell_m=150, crs=frame.crs))


def deployed_cells(frame, method, areas=None) -> set[str]:
    result = find_spots(
        frame,
        method=method,
        offences=["Robbery"],
        areas=areas,
        top=1000,
        permutations=0,
        lookback_days=30,
    )
    return set(result.spots[SPOT_ID])


@pytest.mark.parametrize("areas", [box(1200), None], ids=["areas", "data extent"])
def test_evaluate_gistar_scores_exactly_the_cells_spots_deploys(areas):
    frame = hand_grid()
    deployed = deployed_cells(frame, "gistar", areas)
    assert deployed  # the hand-made hot block is found
    assert evaluated_cells(frame, "gistar", areas) == deployed


def test_evaluate_grid_scores_every_cell_with_harm_like_spots():
    frame = hand_grid()
    assert evaluated_cells(frame, "grid", box(1200)) == deployed_cells(frame, "grid", box(1200))


def test_gistar_hot_block_by_hand():
    # the 3 x 3 block of 20s: its centre cell (1, 1) sums 180 over 9 cells, the most of all
    frame = hand_grid()
    grid = study_grid(frame, cell_m=150, areas=box(1200))
    score, secondary = score_cells("gistar", grid, training(grid, frame))
    centre = grid.cell_of(np.array([225.0]), np.array([225.0]))[0]
    assert score[centre] == pytest.approx(20.0)
    assert secondary[centre] == pytest.approx(1.0)
    assert (score[score > 0] >= 1).all()


def test_registry_names_and_deployable_methods_agree_with_spots():
    from hotspots.config import SPOT_METHODS

    assert set(DEPLOYABLE) == set(METHODS) == set(SPOT_METHODS)
    assert set(BASELINES) == {"count_grid", "kde", "promap", "last_period"}
    assert set(RULES) == set(DEPLOYABLE) | set(BASELINES)
    for rule in RULES.values():
        assert rule.summary


def test_unknown_method_lists_the_registered_names():
    frame = hand_grid()
    grid = study_grid(frame, cell_m=150)
    with pytest.raises(OptionError, match="method must be one of .*'gistar'.*; got 'magic'"):
        score_cells("magic", grid, training(grid, frame))


def test_hex_rule_scores_cells_by_their_hexagon():
    frame = hand_grid()
    grid = study_grid(frame, cell_m=150, areas=box(1200))
    score, own = score_cells("hex", grid, training(grid, frame))
    assert score.sum() > 0
    assert own.sum() == pytest.approx(frame[HARM].sum())
    # the lone 60 lands in one hexagon; the cell holding it scores at least 60
    lone = grid.cell_of(np.array([975.0]), np.array([975.0]))[0]
    assert score[lone] >= 60


def test_dbscan_rule_uses_the_spots_min_harm():
    frame = hand_grid()
    low = evaluated_cells(frame, "dbscan", box(1200), MethodParams(eps_m=160.0, min_harm=50.0))
    high = evaluated_cells(frame, "dbscan", box(1200), MethodParams(eps_m=160.0, min_harm=1e6))
    assert low and not high


def test_find_spots_builds_its_places_through_the_registry(monkeypatch):
    from hotspots.spots import _registry
    from hotspots.spots._units import build_units, grid_units

    calls = []

    def toy_units(window, options):
        calls.append(options.cell_m)
        return grid_units(window, options)

    toy = _registry.SpotRule(name="toy", score=RULES["grid"].score, build=toy_units, summary="t")
    monkeypatch.setitem(RULES, "toy", toy)
    opts = {
        "cell_m": 150.0,
        "eps_m": 150.0,
        "min_harm": 1.0,
        "study": None,
        "fdr_alpha": 0.05,
        "permutations": 0,
        "seed": 0,
        "progress": None,
    }
    units = build_units(hand_grid(), method="toy", **opts)
    assert calls == [150.0] and len(units.table) == 15
    with pytest.raises(OptionError, match="'kde' is an evaluation baseline"):
        build_units(hand_grid(), method="kde", **opts)


def test_evaluate_methods_help_names_every_registered_rule():
    import inspect
    import typing

    from hotspots.cli import cmd_evaluate

    param = inspect.signature(cmd_evaluate.evaluate, eval_str=True).parameters["methods"]
    help_text = typing.get_args(param.annotation)[1].help
    for name in RULES:
        assert name in help_text, name
