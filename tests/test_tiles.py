"""Pair searches per tile with a halo give exactly the pairs of one search over everything.

Tiles are made tiny (1 km, or 500 m) and tiling forced on, so random points straddle many
tile edges; hand-placed pairs sit exactly at the search distance across an edge and at
the halo's outer limit.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.cocoon import addresses as addr
from hotspots.errors import InputError
from hotspots.nearrepeat import pairs
from hotspots.nearrepeat.pairs import close_pairs, tiles_with_halo


def _points(seed: int, n: int = 3_000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-2_500, 2_500, (n, 2)).round(0)  # whole metres: exact distances occur
    edge = np.array(  # exactly 400 m apart across tile edges at x=0, x=1000 and y=-1000
        [[800.0, 10.0], [1_200.0, 10.0], [-200.0, 55.0], [200.0, 55.0],
         [300.0, -1_200.0], [300.0, -800.0], [-1_000.0, 0.0], [-600.0, 0.0]]
    )  # fmt: skip
    return np.vstack([xy, edge])


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
@pytest.mark.parametrize(("seed", "tile_m"), [(0, 1_000.0), (1, 500.0), (2, 400.0)])
def test_tiled_close_pairs_equal_one_search(seed, tile_m, metric):
    xy = _points(seed)
    whole = close_pairs(xy, max_distance_m=400.0, metric=metric, tile_min_events=10**9)
    tiled = close_pairs(xy, max_distance_m=400.0, metric=metric, tile_m=tile_m, tile_min_events=0)
    for a, b in zip(whole, tiled, strict=True):
        np.testing.assert_array_equal(a, b)
    n = len(xy)
    got = set(zip(tiled[0].tolist(), tiled[1].tolist(), strict=True))
    assert {(n - 8, n - 7), (n - 6, n - 5), (n - 4, n - 3), (n - 2, n - 1)} <= got  # at 400 m
    assert len(whole[0]) > 1_000  # the comparison covers many pairs


def test_distance_wider_than_a_tile_is_one_search():
    xy = _points(3, 500)
    whole = close_pairs(xy, max_distance_m=900.0, tile_min_events=10**9)
    tiled = close_pairs(xy, max_distance_m=900.0, tile_m=500.0, tile_min_events=0)
    for a, b in zip(whole, tiled, strict=True):
        np.testing.assert_array_equal(a, b)


def test_tiles_own_each_point_once_and_hold_its_halo():
    xy = np.array([[0.0, 0.0], [999.0, 0.0], [1_000.0, 0.0], [1_400.0, 5.0], [-400.0, -400.0]])
    seen = np.zeros(len(xy), dtype=int)
    halos = {}
    for owned, near in tiles_with_halo(xy, tile_m=1_000.0, halo_m=400.0):
        seen += owned
        halos[tuple(np.flatnonzero(owned))] = near.tolist()
    assert seen.tolist() == [1, 1, 1, 1, 1]
    # tile (0, 0) owns points 0 and 1; its halo reaches x = 1400 (point 3 at exactly 400 m)
    assert halos[(0, 1)] == [0, 1, 2, 3, 4]
    assert halos[(2, 3)] == [1, 2, 3]  # tile (1, 0): x from 600 to 2400
    with pytest.raises(InputError, match="halo_m .* must not exceed tile_m"):
        next(tiles_with_halo(xy, tile_m=100.0, halo_m=400.0))


def test_knox_counts_equal_with_tiling(monkeypatch):
    from hotspots import knox_test

    rng = np.random.default_rng(5)
    n = 1_500
    xy = rng.uniform(0, 6_000, (n, 2)).round(0)
    when = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 200 * 86_400, n), unit="s"
    )
    events = gpd.GeoDataFrame({"occurred_at": when}, geometry=gpd.points_from_xy(*xy.T), crs=27700)
    whole = knox_test(events, n_permutations=19, seed=1)
    monkeypatch.setattr(pairs, "TILE_MIN_EVENTS", 0)
    monkeypatch.setattr(pairs, "TILE_M", 1_000.0)
    tiled = knox_test(events, n_permutations=19, seed=1)
    np.testing.assert_array_equal(np.asarray(whole.observed), np.asarray(tiled.observed))
    pd.testing.assert_frame_equal(whole.p_value, tiled.p_value)
    pd.testing.assert_frame_equal(whole.expected, tiled.expected)
    assert whole.n_close_pairs == tiled.n_close_pairs > 0


def test_address_matching_per_tile_equals_one_query(monkeypatch):
    rng = np.random.default_rng(7)
    homes = rng.uniform(0, 5_000, (4_000, 2)).round(0)
    homes = np.vstack([homes, [[1_400.0, 700.0]]])  # exactly 400 m from the zone at 1000
    layer = gpd.GeoDataFrame(
        {"address_id": [f"A{k}" for k in range(len(homes))]},
        geometry=gpd.points_from_xy(*homes.T),
        crs=27700,
    )
    index = addr.AddressIndex(layer)
    zones = shapely.points(np.vstack([rng.uniform(0, 5_000, (300, 2)), [[1_000.0, 700.0]]]))
    whole_within = index.within(zones, 400.0)
    whole_count = index.count_within(zones, 400.0)
    whole_near = index.nearest(zones, max_distance_m=400.0)
    monkeypatch.setattr(addr, "TILE_MIN_POINTS", 0)
    monkeypatch.setattr(addr, "TILE_M", 1_000.0)
    for a, b in zip(whole_within, index.within(zones, 400.0), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(whole_count, index.count_within(zones, 400.0))
    for a, b in zip(whole_near, index.nearest(zones, max_distance_m=400.0), strict=True):
        np.testing.assert_array_equal(a, b)
    last = len(zones) - 1
    assert len(homes) - 1 in whole_within[1][whole_within[0] == last].tolist()
    assert whole_count.sum() > 10_000
