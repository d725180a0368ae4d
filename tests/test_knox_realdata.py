"""Knox on 22,127 Chicago residential burglaries (2016-2017) against a brute-force count."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from hotspots.nearrepeat import knox_test
from hotspots.schema import OCCURRED_AT

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

D_EDGES = np.array([0, 100, 200, 300, 400], dtype=float)
T_EDGES = np.array([0, 7, 14, 21, 28, 35, 42], dtype=float)


def chicago(shared) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    path = shared("exact_dated", "chicago", "chicago_residential_burglary_2016_2017.csv.gz")
    frame = pd.read_csv(path)
    when = pd.to_datetime(frame["date_single"], format="%d/%m/%Y")
    events = gpd.GeoDataFrame(
        {OCCURRED_AT: when.dt.tz_localize("America/Chicago")},
        geometry=gpd.points_from_xy(frame["x"], frame["y"]),
        crs=26971,
    )
    xy = frame[["x", "y"]].to_numpy()
    days = (when - pd.Timestamp("2016-01-01")).dt.days.to_numpy()
    return events, xy, days


def brute_force(xy: np.ndarray, days: np.ndarray, *, block: int = 1000) -> np.ndarray:
    """All pairs i < j in blocks of rows: float distances against the edges, no index."""
    out = np.zeros((len(D_EDGES) - 1, len(T_EDGES) - 1), dtype=np.int64)
    n = len(xy)
    for start in range(0, n - 1, block):
        stop = min(start + block, n)
        rows, cols = np.arange(start, stop), np.arange(start, n)  # columns j >= first row
        dx = xy[rows, None, 0] - xy[None, cols, 0]
        dy = xy[rows, None, 1] - xy[None, cols, 1]
        near = dx * dx + dy * dy <= (D_EDGES[-1] + 1.0) ** 2  # cheap prefilter, then exact
        gap = np.abs(days[rows, None] - days[None, cols])
        near &= (cols[None, :] > rows[:, None]) & (gap <= T_EDGES[-1])
        dk, gk = np.hypot(dx[near], dy[near]), gap[near]
        dk, gk = dk[dk <= D_EDGES[-1]], gk[dk <= D_EDGES[-1]]
        r = np.clip(np.ceil(dk / 100.0).astype(int) - 1, 0, None)  # [0,100] -> 0, (100,200] -> 1
        c = np.clip(np.ceil(gk / 7.0).astype(int) - 1, 0, None)  # [0,7] -> 0, (7,14] -> 1
        np.add.at(out, (r, c), 1)
    return out


def test_chicago_default_run_matches_brute_force(shared):
    events, xy, days = chicago(shared)
    assert len(events) == 22_127
    res = knox_test(events, n_permutations=999, seed=0)
    assert res.time_resolution == "day"
    # about 410,000 pairs lie within 400 m (issue 6)
    assert 400_000 <= res.n_close_pairs <= 420_000
    want = brute_force(xy, days)
    np.testing.assert_array_equal(res.observed.to_numpy(), want)
    assert res.n_pairs_in_range == want.sum()
    # the near-repeat signal the literature reports for Chicago burglary
    assert res.knox_ratio.iat[0, 0] > 2.0 and res.p_value.iat[0, 0] == pytest.approx(0.001)
    rec = res.recommendation()
    assert rec["radius_m"] is not None and rec["window_days"] is not None


def test_chicago_through_ingest_matches_the_direct_read(shared):
    from hotspots.config import IngestOptions
    from hotspots.ingest import read_incidents

    events, _, _ = chicago(shared)
    path = shared("exact_dated", "chicago", "chicago_residential_burglary_2016_2017.csv.gz")
    options = IngestOptions(
        x_col="x",
        y_col="y",
        crs="EPSG:26971",
        working_crs="EPSG:26971",
        time_col="date_single",
        time_format="%d/%m/%Y",
        tz="America/Chicago",
        offence="Burglary",
    )
    ingested = read_incidents([path], options).incidents
    assert len(ingested) == len(events)
    via_ingest = knox_test(ingested, n_permutations=9)
    direct = knox_test(events, n_permutations=9)
    assert via_ingest.time_resolution == "day"  # from the time_resolution column
    pd.testing.assert_frame_equal(via_ingest.observed, direct.observed)
    assert via_ingest.n_close_pairs == direct.n_close_pairs
