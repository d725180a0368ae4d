"""Knox test: hand-worked band edges, Monte Carlo formulae, brute-force properties, errors."""

from __future__ import annotations

import dataclasses
import itertools
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.errors import CRSError, InputError, OptionError, SchemaError, TimeResolutionError
from hotspots.nearrepeat import (
    FRAME_COLUMNS,
    close_pairs,
    cocoon_settings_from_knox,
    knox_by_year,
    knox_test,
)
from hotspots.nearrepeat.knox import per_year_text
from hotspots.schema import OCCURRED_AT, TIME_RESOLUTION


def events(xs, ys, days, *, crs=27700, extra=None) -> gpd.GeoDataFrame:
    """Point events in metres; ``days`` are whole days after 1 Jan 2024 (local midnight)."""
    naive = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.asarray(days, dtype="int64"), unit="D")
    times = pd.DatetimeIndex(naive).tz_localize("Europe/London")  # local midnights
    data = {OCCURRED_AT: times}
    data.update(extra or {})
    return gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(xs, ys), crs=crs)


def hand_worked() -> gpd.GeoDataFrame:
    """Pairs of events, each pair 10 km from the others and the pairs 200 days apart.

    pair  distance                  gap     cell (default bands)
    A     100 m exactly             7 d     [0,100] x [0,7]
    B     100.5 m                   7 d     (100,200] x [0,7]
    C     50 m                      8 d     [0,100] x (7,14]
    D     0 m (same place)          0 d     [0,100] x [0,7]  (same-location band with D=0.1)
    E     400 m exactly             42 d    (300,400] x (35,42]
    F     400.001 m                 1 d     not counted (beyond 400 m)
    G     10 m                      43 d    not counted (beyond 42 days)
    H     100 m + 1.5e-11 (float)   14 d    [0,100] x (7,14]  (micrometre rounding)
    """
    xs, ys, days = [], [], []
    spec = [
        (100.0, 7),
        (100.5, 7),
        (50.0, 8),
        (0.0, 0),
        (400.0, 42),
        (400.001, 1),
        (10.0, 43),
        (None, 14),
    ]
    for k, (dist, gap) in enumerate(spec):
        x0 = 10_000.0 * (k + 1)
        x1 = x0 + dist if dist is not None else 80_100.00000000001  # 80_000 + 100 + float noise
        xs += [x0, x1]
        ys += [0.0, 0.0]
        days += [200 * k, 200 * k + gap]
    return events(xs, ys, days)


HAND = hand_worked()


def test_hand_worked_band_edges():
    res = knox_test(HAND, n_permutations=19)
    obs = res.observed.to_numpy()
    expected = np.zeros((4, 6), dtype=int)
    expected[0, 0] = 2  # A (exactly 100 m, exactly 7 days) and D (same place, same day)
    expected[1, 0] = 1  # B
    expected[0, 1] = 2  # C and H
    expected[3, 5] = 1  # E (exactly 400 m, exactly 42 days)
    np.testing.assert_array_equal(obs, expected)
    assert res.n_pairs_in_range == 6
    assert res.n_close_pairs == 7  # G is close in space, outside the time range
    assert list(res.observed.index) == [
        "[0, 100] m",
        "(100, 200] m",
        "(200, 300] m",
        "(300, 400] m",
    ]
    assert list(res.observed.columns)[:2] == ["[0, 7] days", "(7, 14] days"]
    assert res.time_resolution == "day"


def test_same_location_band_is_separate():
    res = knox_test(HAND, same_location_m=0.1, n_permutations=19)
    obs = res.observed.to_numpy()
    assert obs.shape == (5, 6)
    assert obs[0, 0] == 1  # D only
    assert obs[1, 0] == 1  # A: exactly 100 m is in (0.1, 100]
    assert res.observed.index[0] == "[0, 0.1] m (same location)"
    assert res.observed.index[1] == "(0.1, 100] m"
    frame = res.to_frame()
    assert frame.loc[0, ["d_lo_m", "d_hi_m"]].tolist() == [0.0, 0.1]
    assert frame.loc[6, ["d_lo_m", "d_hi_m"]].tolist() == [0.1, 100.0]


def test_first_band_includes_its_lower_edge_when_not_zero():
    # bands from 100 m / 7 days: A (100 m, 7 d), B (100.5 m, 7 d), H (100 m, 14 d) in the
    # first cell; C (50 m) and D (0 m, 0 d) are below the first edges; E is in the last cell
    res = knox_test(
        HAND, distance_bands_m=(100, 200, 400), time_bands_days=(7, 14, 42), n_permutations=9
    )
    np.testing.assert_array_equal(res.observed.to_numpy(), [[3, 0], [0, 1]])


def test_ties_three_events_same_place_and_day():
    ev = events([0, 0, 0, 5000], [0, 0, 0, 0], [0, 0, 0, 0])
    res = knox_test(ev, n_permutations=9)
    assert res.observed.iat[0, 0] == 3
    assert res.to_frame()["observed"].sum() == 3


def test_day_data_uses_calendar_days_across_clock_change():
    # clocks went back in the UK at 02:00 on 27 Oct 2024: midnight 22 Oct (BST) to midnight
    # 29 Oct (GMT) is 7 calendar days but 7 d 1 h of elapsed time
    times = pd.DatetimeIndex(["2024-10-22", "2024-10-29"]).tz_localize("Europe/London")
    ev = gpd.GeoDataFrame(
        {OCCURRED_AT: times}, geometry=gpd.points_from_xy([0, 10], [0, 0]), crs=27700
    )
    day = knox_test(ev, n_permutations=9)
    assert day.time_resolution == "day" and day.observed.iat[0, 0] == 1
    exact = knox_test(ev, n_permutations=9, time_resolution="exact")
    assert exact.observed.iat[0, 0] == 0 and exact.observed.iat[0, 1] == 1


def test_exact_times_round_to_the_second_and_allow_part_days():
    base = pd.Timestamp("2024-03-01 12:00", tz="UTC")
    times = pd.DatetimeIndex(
        [
            base,
            base + pd.Timedelta(days=7, milliseconds=400),
            base + pd.Timedelta(days=100),
            base + pd.Timedelta(days=100.5),
        ]
    )
    ev = gpd.GeoDataFrame(
        {OCCURRED_AT: times},
        geometry=gpd.points_from_xy([0, 10, 0, 10], [0, 0, 5000, 5000]),
        crs=27700,
    )
    res = knox_test(ev, time_bands_days=(0, 0.5, 7, 14), n_permutations=9)
    assert res.time_resolution == "exact"
    # 7 d + 0.4 s rounds to exactly 7 d -> (0.5, 7]; the 0.5-day pair sits on the first edge
    np.testing.assert_array_equal(res.observed.to_numpy()[0], [1, 1, 0])


def test_resolution_from_column_is_the_coarsest():
    ev = events(
        [0, 10, 20], [0, 0, 0], [0, 1, 2], extra={TIME_RESOLUTION: ["exact", "day", "exact"]}
    )
    assert knox_test(ev, n_permutations=9).time_resolution == "day"


def test_monte_carlo_formulae_match_an_independent_recount():
    rng_data = np.random.default_rng(7)
    n = 14
    xs, ys = rng_data.integers(0, 300, n), rng_data.integers(0, 300, n)
    days = rng_data.integers(0, 40, n)
    ev = events(xs, ys, days)
    n_perm = 49
    res = knox_test(ev, n_permutations=n_perm, seed=3)

    def table(d):
        out = np.zeros((4, 6), dtype=int)
        for a, b in itertools.combinations(range(n), 2):
            dist2 = (xs[a] - xs[b]) ** 2 + (ys[a] - ys[b]) ** 2
            gap = abs(int(d[a]) - int(d[b]))
            r = next((k for k, hi in enumerate([100, 200, 300, 400]) if dist2 <= hi * hi), None)
            c = next((k for k, hi in enumerate([7, 14, 21, 28, 35, 42]) if gap <= hi), None)
            if r is not None and c is not None:
                out[r, c] += 1
        return out

    obs = table(days)
    # permutation k shuffles the times with its own documented stream
    streams = [
        np.random.default_rng(np.random.SeedSequence(3, spawn_key=(k,))) for k in range(n_perm)
    ]
    perms = np.stack([table(rng.permutation(days)) for rng in streams])
    np.testing.assert_array_equal(res.observed.to_numpy(), obs)
    np.testing.assert_allclose(res.expected.to_numpy(), perms.mean(axis=0))
    p = ((perms >= obs).sum(axis=0) + 1) / (n_perm + 1)
    np.testing.assert_allclose(res.p_value.to_numpy(), p)
    med = np.median(perms, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_allclose(
            res.knox_ratio_median.to_numpy(),
            np.where(med > 0, obs / np.where(med > 0, med, 1), np.nan),
        )
        mean = perms.mean(axis=0)
        np.testing.assert_allclose(
            res.knox_ratio.to_numpy(), np.where(mean > 0, obs / np.where(mean > 0, mean, 1), np.nan)
        )


def test_p_value_floor_and_ceiling():
    # one pair at the same place and time: no permutation can beat it, all tie it
    ev = events([0, 0], [0, 0], [0, 0])
    res = knox_test(ev, n_permutations=99)
    assert res.p_value.iat[0, 0] == pytest.approx(1.0)  # (99 + 1) / (99 + 1)
    assert res.p_value.iat[1, 0] == pytest.approx(1.0)  # 0 observed, 99 permutations >= 0


def test_seed_is_deterministic_and_matters():
    rng = np.random.default_rng(1)
    ev = events(rng.uniform(0, 800, 60), rng.uniform(0, 800, 60), rng.integers(0, 90, 60))
    a = knox_test(ev, n_permutations=49, seed=5)
    b = knox_test(ev, n_permutations=49, seed=5)
    c = knox_test(ev, n_permutations=49, seed=6)
    pd.testing.assert_frame_equal(a.expected, b.expected)
    assert not a.expected.equals(c.expected)
    assert a.seed == 5


def test_input_not_changed():
    ev = HAND.copy()
    knox_test(ev, n_permutations=9, same_location_m=0.1)
    pd.testing.assert_frame_equal(pd.DataFrame(ev), pd.DataFrame(HAND))


def test_to_frame_columns_and_order():
    frame = knox_test(HAND, n_permutations=9).to_frame()
    assert tuple(frame.columns) == FRAME_COLUMNS
    assert len(frame) == 24
    assert frame[["d_lo_m", "t_lo_days"]].iloc[:2].to_numpy().tolist() == [[0, 0], [0, 7]]


# ---------------------------------------------------------------- recommendation


def _with_tables(res, sig_cells):
    """Copy of ``res`` whose significant cells are exactly ``sig_cells``."""
    shape = res.observed.shape
    p = np.full(shape, 0.5)
    ratio = np.full(shape, 1.0)
    for r, c in sig_cells:
        p[r, c], ratio[r, c] = 0.001, 1.5
    like = res.observed
    return dataclasses.replace(
        res,
        p_value=pd.DataFrame(p, index=like.index, columns=like.columns),
        knox_ratio=pd.DataFrame(ratio, index=like.index, columns=like.columns),
    )


def test_recommendation_runs_from_the_origin():
    res = knox_test(HAND, n_permutations=9)
    rec = _with_tables(res, [(0, 0), (1, 0), (0, 1), (0, 2), (3, 0), (0, 4)]).recommendation()
    assert rec["radius_m"] == 200.0 and rec["window_days"] == 21.0  # gaps stop each run
    assert rec["knox_ratio_nearest"] == pytest.approx(1.5)
    assert rec["p_value_nearest"] == pytest.approx(0.001)
    assert "200 m" in rec["text"] and "21 days" in rec["text"]
    none = _with_tables(res, [(1, 0), (0, 1)]).recommendation()
    assert none["radius_m"] is None and none["window_days"] is None
    assert "No near-repeat pattern" in none["text"]


def test_recommendation_skips_same_location_band():
    res = knox_test(HAND, n_permutations=9, same_location_m=0.1)
    rec = _with_tables(res, [(0, 0), (1, 0), (1, 1)]).recommendation()
    assert rec["radius_m"] == 100.0 and rec["window_days"] == 14.0
    assert "Same-location repeats" in rec["text"]


def test_recommendation_thresholds():
    res = _with_tables(knox_test(HAND, n_permutations=9), [(0, 0)])
    assert res.recommendation(min_ratio=1.6)["radius_m"] is None
    assert res.recommendation(alpha=0.001)["radius_m"] is None
    assert res.recommendation()["radius_m"] == 100.0


# ---------------------------------------------------------------- brute-force properties


def brute_force(xs, ys, gaps_key, d_edges, t_edges, *, metric, same_location_m, tick_per_day):
    """All pairs in Python, exact arithmetic: squared integer distances, integer time ticks."""

    def inside(value, lo, hi, first):
        return (lo <= value if first else lo < value) and value <= hi

    n_d = len(d_edges) - 1 + (same_location_m is not None)
    out = np.zeros((n_d, len(t_edges) - 1), dtype=int)
    for a, b in itertools.combinations(range(len(xs)), 2):
        dx, dy = abs(int(xs[a]) - int(xs[b])), abs(int(ys[a]) - int(ys[b]))
        if metric == "euclidean":  # compare d^2 with edge^2: no square roots, no rounding
            dist, scale = dx * dx + dy * dy, (lambda e: e * e)
        else:
            dist, scale = dx + dy, (lambda e: e)
        gap = abs(int(gaps_key[a]) - int(gaps_key[b]))
        r = None
        if same_location_m is not None and dist <= scale(same_location_m):
            r = 0
        else:
            offset = same_location_m is not None
            for k in range(len(d_edges) - 1):
                if inside(dist, scale(d_edges[k]), scale(d_edges[k + 1]), k == 0):
                    r = k + offset
                    break
        c = None
        for k in range(len(t_edges) - 1):
            if inside(gap, t_edges[k] * tick_per_day, t_edges[k + 1] * tick_per_day, k == 0):
                c = k
                break
        if r is not None and c is not None:
            out[r, c] += 1
    return out


edges_st = st.lists(st.integers(1, 60), min_size=1, max_size=4, unique=True).map(
    lambda v: [0, *sorted(x * 10 for x in v)]
)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 40),
    data_seed=st.integers(0, 2**32 - 1),
    d_edges=edges_st,
    t_edges=st.lists(st.integers(1, 30), min_size=1, max_size=4, unique=True).map(
        lambda v: [0, *sorted(v)]
    ),
    metric=st.sampled_from(["euclidean", "manhattan"]),
    same=st.sampled_from([None, 0.0, 0.1, 1.5, 5.0]),
)
def test_observed_equals_brute_force_day_data(n, data_seed, d_edges, t_edges, metric, same):
    rng = np.random.default_rng(data_seed)
    xs, ys = rng.integers(0, 400, n), rng.integers(0, 400, n)
    days = rng.integers(0, 60, n)
    if same is not None and same >= d_edges[1]:
        same = None
    ev = events(xs, ys, days)
    res = knox_test(
        ev,
        distance_bands_m=d_edges,
        time_bands_days=t_edges,
        metric=metric,
        same_location_m=same,
        n_permutations=3,
    )
    want = brute_force(
        xs, ys, days, d_edges, t_edges, metric=metric, same_location_m=same, tick_per_day=1
    )
    np.testing.assert_array_equal(res.observed.to_numpy(), want)
    assert res.n_pairs_in_range == want.sum()
    # unordered pairs: reversing the rows changes nothing
    rev = knox_test(
        ev.iloc[::-1],
        distance_bands_m=d_edges,
        time_bands_days=t_edges,
        metric=metric,
        same_location_m=same,
        n_permutations=3,
    )
    np.testing.assert_array_equal(rev.observed.to_numpy(), want)
    # every permutation table also sums to at most the number of close pairs
    assert res.expected.to_numpy().sum() <= res.n_close_pairs + 1e-9


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(2, 30),
    data_seed=st.integers(0, 2**32 - 1),
    metric=st.sampled_from(["euclidean", "manhattan"]),
)
def test_observed_equals_brute_force_exact_data(n, data_seed, metric):
    rng = np.random.default_rng(data_seed)
    xs, ys = rng.integers(0, 300, n), rng.integers(0, 300, n)
    # seconds over 20 days, with gaps exactly on the half-day edges now and then
    secs = rng.integers(0, 40, n) * 43_200 + rng.choice([0, 0, 1, -1], n)
    secs = np.clip(secs, 0, None)
    times = pd.Timestamp("2024-05-01", tz="UTC") + pd.to_timedelta(secs, unit="s")
    ev = gpd.GeoDataFrame({OCCURRED_AT: times}, geometry=gpd.points_from_xy(xs, ys), crs=27700)
    t_edges = [0, 0.5, 1, 2.5, 7]
    res = knox_test(
        ev,
        distance_bands_m=[0, 50, 150, 300],
        time_bands_days=t_edges,
        metric=metric,
        n_permutations=2,
        time_resolution="exact",
    )
    want = brute_force(
        xs,
        ys,
        secs,
        [0, 50, 150, 300],
        t_edges,
        metric=metric,
        same_location_m=None,
        tick_per_day=86_400,
    )
    np.testing.assert_array_equal(res.observed.to_numpy(), want)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 60),
    seed=st.integers(0, 10_000),
    r=st.floats(0, 300),
    metric=st.sampled_from(["euclidean", "manhattan"]),
)
def test_close_pairs_equals_brute_force(n, seed, r, metric):
    xy = np.random.default_rng(seed).uniform(0, 500, (n, 2))
    i, j, d = close_pairs(xy, max_distance_m=r, metric=metric)
    want = []
    for a, b in itertools.combinations(range(n), 2):
        dx, dy = xy[a] - xy[b]
        dist = math.hypot(dx, dy) if metric == "euclidean" else abs(dx) + abs(dy)
        if round(dist * 1e6) <= round(r * 1e6):
            want.append((a, b))
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == want
    assert np.all(i < j)
    if len(d):
        assert d.max() <= r + 1e-6


def test_close_pairs_edge_is_inclusive():
    xy = np.array([[0.0, 0.0], [100.0, 0.0], [60.0, 80.0], [0.0, 100.00000000000001]])
    i, j, d = close_pairs(xy, max_distance_m=100)
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == [
        (0, 1),
        (0, 2),
        (0, 3),
        (1, 2),
        (2, 3),
    ]
    im, jm, dm = close_pairs(xy, max_distance_m=140, metric="manhattan")
    assert (0, 2) in set(zip(im.tolist(), jm.tolist(), strict=True))
    assert dm[list(zip(im, jm, strict=True)).index((0, 2))] == pytest.approx(140.0)


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize("crs", [4326, 2264], ids=["geographic", "us-survey-feet"])
def test_refuses_non_metre_crs(crs):
    with pytest.raises(CRSError, match="projected CRS in metres"):
        knox_test(HAND.set_crs(crs, allow_override=True), n_permutations=9)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"distance_bands_m": (0, 200, 100)}, OptionError, "distance_bands_m must be strictly inc"),
        (
            {"time_bands_days": (0, 7, 7)},
            OptionError,
            "time_bands_days must be strictly increasing",
        ),
        ({"distance_bands_m": (100,)}, OptionError, "needs at least two edges"),
        ({"same_location_m": 100}, OptionError, r"same_location_m \(100 m\) must be below"),
        ({"same_location_m": -1}, OptionError, "same_location_m must be a finite number >= 0"),
        ({"metric": "chebyshev"}, OptionError, "metric must be one of"),
        ({"n_permutations": 0}, OptionError, "n_permutations must be at least 1"),
        ({"n_permutations": 9.5}, TypeError, "n_permutations must be an integer"),
        ({"time_resolution": "week"}, OptionError, "time_resolution must be one of"),
        (
            {"time_bands_days": (0, 0.5, 7)},
            TimeResolutionError,
            r"not whole days.*dated to the day",
        ),
        ({"time_resolution": "month"}, TimeResolutionError, "month resolution.*police.uk"),
    ],
)
def test_refuses_bad_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        knox_test(HAND, **{"n_permutations": 9, **kwargs})


def test_refuses_too_few_events():
    with pytest.raises(InputError, match="at least 2 events; got 1"):
        knox_test(HAND.iloc[:1], n_permutations=9)


def test_refuses_month_data_from_column():
    ev = events([0, 10], [0, 0], [0, 31], extra={TIME_RESOLUTION: ["month", "month"]})
    with pytest.raises(TimeResolutionError, match="needs day or exact dates"):
        knox_test(ev, n_permutations=9)


def test_refuses_naive_and_missing_times_and_bad_geometry():
    naive = HAND.assign(**{OCCURRED_AT: HAND[OCCURRED_AT].dt.tz_localize(None)})
    with pytest.raises(SchemaError, match="timezone-aware"):
        knox_test(naive, n_permutations=9)
    gap = HAND.copy()
    gap.loc[3, OCCURRED_AT] = pd.NaT
    with pytest.raises(SchemaError, match=r"empty on 1 row\(s\) \(first at position 3\)"):
        knox_test(gap, n_permutations=9)
    with pytest.raises(SchemaError, match="missing column"):
        knox_test(HAND.drop(columns=[OCCURRED_AT]), n_permutations=9)
    poly = HAND.copy()
    poly.loc[2, "geometry"] = poly.geometry.iloc[2].buffer(5)
    with pytest.raises(SchemaError, match="non-point geometry"):
        knox_test(poly, n_permutations=9)
    with pytest.raises(TypeError, match="must be a GeoDataFrame"):
        knox_test(pd.DataFrame(HAND), n_permutations=9)


@pytest.mark.parametrize("max_compare", [16, 0], ids=["compare", "searchsorted"])
@pytest.mark.parametrize("first_edge", [0, 1])
def test_time_band_paths_agree_with_brute_force(monkeypatch, max_compare, first_edge):
    # exact times over ~200 days in seconds, counted by edge comparisons or by searchsorted
    from hotspots.nearrepeat import _kernel

    monkeypatch.setattr(_kernel, "_MAX_COMPARE_EDGES", max_compare)
    rng = np.random.default_rng(max_compare + first_edge)
    n = 80
    xs, ys = rng.integers(0, 300, n), rng.integers(0, 300, n)
    secs = rng.integers(0, 400, n) * 43_200 + rng.choice([0, 0, 1, -1, 3600], n) + 86_400
    times = pd.Timestamp("2024-05-01", tz="UTC") + pd.to_timedelta(secs, unit="s")
    ev = gpd.GeoDataFrame({OCCURRED_AT: times}, geometry=gpd.points_from_xy(xs, ys), crs=27700)
    t_edges = [first_edge, 1.5, 7, 14, 42]
    res = knox_test(
        ev,
        distance_bands_m=[0, 100, 300],
        time_bands_days=t_edges,
        n_permutations=5,
        time_resolution="exact",
    )
    want = brute_force(
        xs,
        ys,
        secs,
        [0, 100, 300],
        t_edges,
        metric="euclidean",
        same_location_m=None,
        tick_per_day=86_400,
    )
    np.testing.assert_array_equal(res.observed.to_numpy(), want)
    assert want.sum() > 0


def test_docstring_examples_run():
    import doctest

    from hotspots.nearrepeat import knox as knox_module
    from hotspots.nearrepeat import pairs as pairs_module

    for module in (knox_module, pairs_module):
        outcome = doctest.testmod(module, extraglobs={"np": np}, optionflags=doctest.ELLIPSIS)
        assert outcome.attempted > 0 and outcome.failed == 0, module.__name__


# ---------------------------------------------------------------- wording and cocoon settings
def test_recommendation_at_the_widest_band_says_at_least():
    res = knox_test(HAND, n_permutations=9)
    every_band = [(r, 0) for r in range(4)] + [(0, c) for c in range(6)]
    rec = _with_tables(res, every_band).recommendation()
    assert (rec["radius_m"], rec["window_days"]) == (400.0, 42.0)
    assert rec["radius_at_widest_band"] and rec["window_at_widest_band"]
    assert "at least 400 m (the widest band tested)" in rec["text"]
    assert "at least 42 days (the widest band tested)" in rec["text"]
    inner = _with_tables(res, [(0, 0), (1, 0)]).recommendation()
    assert "at least" not in inner["text"] and "reaches 200 m and lasts 7 days" in inner["text"]


def test_pooled_over_years_note():
    res = knox_test(HAND, n_permutations=9)  # the pairs are 200 days apart: about 4 years
    assert res.pooled_over_years
    assert "pooled over years" in res.recommendation()["text"]
    one_year = HAND[HAND[OCCURRED_AT] < HAND[OCCURRED_AT].min() + pd.Timedelta(days=300)]
    assert not knox_test(one_year, n_permutations=9).pooled_over_years


def test_knox_by_year_splits_calendar_years():
    by_year = knox_by_year(HAND, min_events=2, n_permutations=9)
    years = HAND[OCCURRED_AT].dt.year
    assert list(by_year) == sorted(years.unique().tolist())
    assert sum(r.n_events for r in by_year.values()) == len(HAND)


def test_cocoon_settings_from_knox_uses_significant_result_else_defaults():
    res = knox_test(HAND, n_permutations=9)
    radius, window, note = cocoon_settings_from_knox(
        _with_tables(res, [(0, 0), (1, 0), (0, 1), (0, 2)]), radius_m=400, window_days=42
    )
    assert (radius, window) == (200.0, 21.0)
    assert note.startswith("Cocoon zones use the Knox recommendation: 200 m, 21 days")
    radius, window, note = cocoon_settings_from_knox(
        _with_tables(res, [(1, 0)]), radius_m=400, window_days=42
    )
    assert (radius, window) == (400.0, 42.0)
    assert "keep the defaults 400 m, 42 days" in note


@pytest.mark.realdata
@pytest.mark.slow
def test_chicago_2016_17_cocoon_settings(shared):
    path = shared("exact_dated", "chicago", "chicago_residential_burglary_2016_2017.csv.gz")
    frame = pd.read_csv(path)
    when = pd.to_datetime(frame["date_single"], format="%d/%m/%Y")
    events = gpd.GeoDataFrame(
        {OCCURRED_AT: when.dt.tz_localize("America/Chicago")},
        geometry=gpd.points_from_xy(frame["x"], frame["y"]),
        crs=26971,
    )
    res = knox_test(events, n_permutations=99, seed=0)
    radius, window, note = cocoon_settings_from_knox(res, radius_m=400, window_days=42)
    assert (radius, window) == (200.0, 28.0), note
    assert res.pooled_over_years  # 2016-2017: the text says the years are pooled
    by_year = knox_by_year(events, n_permutations=99, seed=0)
    assert list(by_year) == [2016, 2017]
    text = per_year_text(by_year)
    assert text.startswith("2016: ") and "; 2017: " in text


# ---------------------------------------------------------------- counting engines


def _random_events(seed: int, n: int, *, exact: bool, span_days: int = 90) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    xs, ys = rng.integers(0, 600, n), rng.integers(0, 600, n)
    if not exact:
        return events(xs, ys, rng.integers(0, span_days, n))
    secs = rng.integers(0, span_days * 86_400, n)
    if span_days > 90:  # half the events within 60 days of 2024-05-01, the rest spread
        secs[: n // 2] = rng.integers(0, 60 * 86_400, n // 2)
    times = pd.Timestamp("1950-05-01", tz="UTC") + pd.to_timedelta(secs, unit="s")
    return gpd.GeoDataFrame({OCCURRED_AT: times}, geometry=gpd.points_from_xy(xs, ys), crs=27700)


def _assert_same_result(a, b):
    np.testing.assert_array_equal(a.observed.to_numpy(), b.observed.to_numpy())
    # the same integer permutation counts give the same floats, so compare exactly
    np.testing.assert_array_equal(a.expected.to_numpy(), b.expected.to_numpy())
    np.testing.assert_array_equal(a.p_value.to_numpy(), b.p_value.to_numpy())
    np.testing.assert_array_equal(a.knox_ratio_median.to_numpy(), b.knox_ratio_median.to_numpy())


ENGINE_CASES = [
    pytest.param(HAND, {"same_location_m": 0.1}, id="hand-worked"),
    pytest.param(_random_events(1, 150, exact=False), {}, id="random-day"),
    pytest.param(
        _random_events(2, 150, exact=True),
        {"time_bands_days": list(range(0, 43, 2)), "metric": "manhattan"},
        id="random-exact-22-time-bands",
    ),
    pytest.param(  # 80 years of seconds exceed int32: the kernel keeps int64 times
        _random_events(3, 150, exact=True, span_days=80 * 365),
        {"time_bands_days": [0, 7, 30, 60, 40_000]},
        id="random-exact-80-years",
    ),
]


@pytest.mark.parametrize(("ev", "options"), ENGINE_CASES)
def test_numba_and_numpy_engines_give_identical_counts_and_p_values(ev, options):
    pytest.importorskip("numba")
    a = knox_test(ev, n_permutations=99, seed=11, engine="numpy", **options)
    b = knox_test(ev, n_permutations=99, seed=11, engine="numba", **options)
    assert (a.engine, b.engine) == ("numpy", "numba")
    _assert_same_result(a, b)


def test_hand_worked_counts_with_the_numba_engine():
    pytest.importorskip("numba")
    obs = knox_test(HAND, n_permutations=9, engine="numba").observed.to_numpy()
    expected = np.zeros((4, 6), dtype=int)
    expected[0, 0], expected[1, 0], expected[0, 1], expected[3, 5] = 2, 1, 2, 1
    np.testing.assert_array_equal(obs, expected)


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_result_does_not_depend_on_workers_or_block_size(monkeypatch, engine):
    if engine == "numba":
        pytest.importorskip("numba")
    from hotspots.nearrepeat import knox as knox_module

    ev = _random_events(3, 120, exact=False)
    one = knox_test(ev, n_permutations=50, seed=4, engine=engine, workers=1)
    two = knox_test(ev, n_permutations=50, seed=4, engine=engine, workers=2)
    monkeypatch.setattr(knox_module, "_BLOCK", 3)  # 17 blocks over 3 threads
    three = knox_test(ev, n_permutations=50, seed=4, engine=engine, workers=3)
    _assert_same_result(one, two)
    _assert_same_result(one, three)


def test_permutation_k_uses_its_own_stream():
    from hotspots.nearrepeat.knox import _permuted_ticks, permutation_stream

    ticks = np.arange(10, dtype=np.int64) * 7
    block = _permuted_ticks(ticks, 5, 3, 6)  # permutations 3, 4, 5
    for row, k in enumerate(range(3, 6)):
        want = np.random.default_rng(np.random.SeedSequence(5).spawn(6)[k]).permutation(ticks)
        np.testing.assert_array_equal(block[row], want)
        np.testing.assert_array_equal(block[row], permutation_stream(5, k).permutation(ticks))
    assert sorted(block[0].tolist()) == ticks.tolist()


def test_auto_engine_uses_numba_for_large_jobs_only(monkeypatch):
    pytest.importorskip("numba")
    from hotspots.nearrepeat import knox as knox_module

    assert knox_test(HAND, n_permutations=9).engine == "numpy"  # tiny: not worth the import
    monkeypatch.setattr(knox_module, "_NUMBA_MIN_WORK", 0)
    assert knox_test(HAND, n_permutations=9).engine == "numba"


def test_numba_engine_without_numba_says_how_to_install(monkeypatch):
    from hotspots.nearrepeat import knox as knox_module

    monkeypatch.setattr(knox_module, "have_numba", lambda: False)
    monkeypatch.setattr(knox_module, "_NUMBA_MIN_WORK", 0)
    with pytest.raises(OptionError, match=r"needs the optional numba package.*hotspots\[fast\]"):
        knox_test(HAND, n_permutations=9, engine="numba")
    assert knox_test(HAND, n_permutations=9).engine == "numpy"  # auto falls back


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"engine": "cuda"}, OptionError, r"engine must be one of \('auto', 'numba', 'numpy'\)"),
        ({"workers": 0}, OptionError, "workers must be at least 1"),
        ({"workers": 1.5}, TypeError, "workers must be an integer"),
        ({"seed": -1}, OptionError, "seed must be a non-negative integer"),
    ],
)
def test_engine_workers_and_seed_are_checked(options, error, message):
    with pytest.raises(error, match=message):
        knox_test(HAND, n_permutations=9, **options)
