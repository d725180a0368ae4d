"""Methods, backtest and cocoon backtest on tiny hand-worked fixtures."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.errors import CRSError, OptionError, SchemaError, TimeResolutionError
from hotspots.evaluate import METHODS, backtest, cocoon_backtest
from hotspots.schema import HARM, OCCURRED_AT, OFFENCE, TIME_RESOLUTION
from hotspots.spots import MethodParams, TrainingData, gi_star_dense, score_cells, study_grid

TZ = "Europe/London"


def run_backtest(*args, **kwargs):
    """The backtest over every offence of the fixture (its default is the serious-violence set)."""
    kwargs.setdefault("offences", None)
    return backtest(*args, **kwargs)


DAY_NS = 86_400 * 10**9


def box_areas(size_m: float) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"area": ["box"]}, geometry=[shapely.box(0, 0, size_m, size_m)], crs=27700
    )


def incidents(xy, dates, *, harm=None, offence="Burglary", resolution="day") -> gpd.GeoDataFrame:
    xy = np.asarray(xy, dtype=float)
    return gpd.GeoDataFrame(
        {
            OCCURRED_AT: pd.to_datetime(list(dates)).tz_localize(TZ),
            OFFENCE: offence,
            HARM: np.ones(len(xy)) if harm is None else np.asarray(harm, dtype=float),
            TIME_RESOLUTION: resolution,
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=27700,
    )


def training(grid, frame, origin: str, *, horizon_days: int = 7) -> TrainingData:
    x, y = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
    t = pd.DatetimeIndex(frame[OCCURRED_AT]).as_unit("ns").asi8
    return TrainingData(
        x=x,
        y=y,
        t_ns=t,
        harm=frame[HARM].to_numpy(float),
        cells=grid.cell_of(x, y),
        origin_ns=pd.Timestamp(origin, tz=TZ).as_unit("ns").value,
        previous_ns=pd.Timestamp(origin, tz=TZ).as_unit("ns").value - horizon_days * DAY_NS,
    )


# ---------------------------------------------------------------- grid


def test_study_grid_from_areas_and_edge_points():
    pts = incidents([[150.0, 0.0], [149.99, 1049.0]], ["2024-01-01"] * 2)
    grid = study_grid(pts, cell_m=150, areas=box_areas(1050))
    assert grid.n_cells == 49
    assert grid.area_km2 == pytest.approx(49 * 0.0225)
    # a point on a cell edge belongs to the cell to its east/north
    cells = grid.cell_of(np.array([150.0, 149.99, 5000.0]), np.array([0.0, 1049.0, 0.0]))
    assert grid.ix[cells[:2]].tolist() == [1, 0]
    assert grid.iy[cells[:2]].tolist() == [0, 6]
    assert cells[2] == -1


def test_study_grid_data_extent_keeps_every_incident_cell():
    pts = incidents([[0, 0], [1000, 0], [0, 1000], [990, 990]], ["2024-01-01"] * 4)
    grid = study_grid(pts, cell_m=100)
    assert (grid.cell_of(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()) >= 0).all()
    assert grid.source == "data extent"


def test_study_grid_refuses_degrees():
    pts = incidents([[0.1, 51.5]], ["2024-01-01"]).set_crs(4326, allow_override=True)
    with pytest.raises(CRSError, match="projected CRS in metres"):
        study_grid(pts)


# ---------------------------------------------------------------- methods


def test_promap_weights_by_hand():
    # burglaries at the centre of cell (3, 3) of a 7 x 7 grid of 150 m cells
    centre = [[525.0, 525.0]]
    frame = incidents(centre * 3, ["2024-02-20", "2024-01-01", "2023-12-22"])
    grid = study_grid(frame, cell_m=150, areas=box_areas(1050))
    score, _ = score_cells("promap", grid, training(grid, frame, "2024-03-01"))
    at = {(int(i), int(j)): s for i, j, s in zip(grid.ix, grid.iy, score, strict=True)}
    # 10 days old -> t = 1 week; 60 days -> t = 8 weeks (kept); 70 days -> 10 weeks (dropped)
    week_terms = 1 / 2 + 1 / 9
    assert at[(3, 3)] == pytest.approx(1.0 * week_terms)  # d = 0 bands of 50 m
    assert at[(4, 3)] == pytest.approx(1 / 4 * week_terms)  # 150 m -> d = 3
    assert at[(4, 4)] == pytest.approx(1 / 5 * week_terms)  # 212 m -> d = 4
    assert at[(5, 3)] == pytest.approx(1 / 7 * week_terms)  # 300 m -> d = 6
    assert at[(5, 4)] == pytest.approx(1 / 7 * week_terms)  # 335 m -> d = 6
    assert at[(5, 5)] == 0.0  # 424 m is beyond 400 m
    assert at[(6, 3)] == 0.0  # 450 m


def test_promap_ignores_future_incidents():
    frame = incidents([[525.0, 525.0]], ["2024-03-02"])
    grid = study_grid(frame, cell_m=150, areas=box_areas(1050))
    score, _ = score_cells("promap", grid, training(grid, frame, "2024-03-01"))
    assert score.sum() == 0.0


def test_gistar_matches_esda():
    esda = pytest.importorskip("esda")
    libpysal = pytest.importorskip("libpysal")
    rng = np.random.default_rng(0)
    values = rng.poisson(2, 36).astype(float)
    grid = study_grid(incidents([[10, 10]], ["2024-01-01"]), cell_m=150, areas=box_areas(900))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = libpysal.weights.lat2W(6, 6, rook=False)  # row-major ids = our raster order
        expected = esda.G_Local(values, w, transform="B", star=True, permutations=0).Zs
    z = gi_star_dense(grid.to_dense(values), grid.mask).z
    np.testing.assert_allclose(z, expected, rtol=1e-9)


def test_kde_peaks_at_the_busy_cell_and_is_symmetric():
    frame = incidents([[525.0, 525.0]] * 4, ["2024-02-20"] * 4)
    grid = study_grid(frame, cell_m=150, areas=box_areas(1050))
    score, _ = score_cells("kde", grid, training(grid, frame, "2024-03-01"))
    at = {(int(i), int(j)): s for i, j, s in zip(grid.ix, grid.iy, score, strict=True)}
    assert max(at, key=at.get) == (3, 3)
    assert at[(2, 3)] == pytest.approx(at[(4, 3)]) == pytest.approx(at[(3, 2)])
    assert at[(2, 3)] > at[(1, 3)] > 0


def test_dbscan_scores_the_cluster_cells():
    rng = np.random.default_rng(1)
    cluster = rng.normal([825.0, 825.0], 30.0, size=(40, 2))
    noise = rng.uniform(0, 1500, size=(10, 2))
    frame = incidents(np.vstack([cluster, noise]), ["2024-02-20"] * 50)
    grid = study_grid(frame, cell_m=150, areas=box_areas(1500))
    params = MethodParams(eps_m=100.0, min_harm=10.0)
    score, own = score_cells("dbscan", grid, training(grid, frame, "2024-03-01"), params)
    covered = score > 0
    assert grid.cell_of(np.array([825.0]), np.array([825.0]))[0] in np.flatnonzero(covered)
    assert covered.sum() <= 9  # the hull of a 30 m-sd cluster plus 50 m spans a few cells
    assert score[covered].max() == pytest.approx(own[covered].sum() - 0, rel=0.3)


def test_last_period_counts_only_the_last_horizon():
    frame = incidents([[75, 75], [75, 75], [225, 75]], ["2024-02-27", "2024-02-10", "2024-02-28"])
    grid = study_grid(frame, cell_m=150, areas=box_areas(300))
    score, _ = score_cells("last_period", grid, training(grid, frame, "2024-03-01"))
    assert sorted(score.tolist()) == [0.0, 0.0, 1.0, 1.0]


# ---------------------------------------------------------------- backtest


def hand_backtest_frame() -> gpd.GeoDataFrame:
    a, b, c = [75.0, 75.0], [1425.0, 1425.0], [775.0, 775.0]
    train = [a] * 5 + [b]  # week of 2024-01-01: 5 in A, 1 in B
    test = [a] * 3 + [c]  # week of 2024-01-08: 3 in A, 1 in C
    later = [[775.0, 75.0]]  # after the test week: the data runs past its end
    dates = ["2024-01-02"] * 6 + ["2024-01-09"] * 4 + ["2024-01-20"]
    return incidents(train + test + later, dates, harm=[10] * 5 + [100] + [10] * 3 + [50, 1])


def test_study_area_without_areas_sets_the_grid_and_its_name():
    from types import SimpleNamespace

    frame = hand_backtest_frame()
    stray = incidents([[20_000.0, 20_000.0]], ["2024-01-09"])
    both = pd.concat([frame, stray], ignore_index=True)
    study = SimpleNamespace(name="force districts (1)", geometry=shapely.box(0, 0, 1500, 1500))
    kwargs = {"start": "2024-01-08", "end": "2024-01-09", "lookback_days": 7}
    result = run_backtest(both, coverage=(0.01,), methods=("grid",), study_area=study, **kwargs)
    assert result.study["source"] == "force districts (1)"
    assert result.study["n_cells"] == 100  # 1.5 km square of 150 m cells, not the hull
    assert result.study["area_km2"] == pytest.approx(2.25)
    assert result.study["n_outside"] == 1  # the stray is counted, not studied
    hull = run_backtest(both, coverage=(0.01,), methods=("grid",), **kwargs)
    assert hull.study["area_km2"] > 2 * 2.25  # the stray stretches the hull


def test_backtest_by_hand():
    frame = hand_backtest_frame()
    result = run_backtest(
        frame,
        start="2024-01-08",
        end="2024-01-09",
        lookback_days=7,
        coverage=(0.01,),
        methods=("grid", "count_grid"),
        areas=box_areas(1500),
    )
    assert result.study["n_cells"] == 100
    ev = result.evaluation.set_index(["method", "metric"])["value"]
    # harm-grid picks B (harm 100 > 50): no hits; count-grid picks A (5 > 1): 3 of 4 hits
    assert ev[("grid", "hit_rate")] == pytest.approx(0.0)
    assert ev[("count_grid", "hit_rate")] == pytest.approx(0.75)
    assert ev[("count_grid", "pai")] == pytest.approx(0.75 / 0.01)
    assert ev[("count_grid", "pei")] == pytest.approx(1.0)
    assert ev[("count_grid", "harm_capture")] == pytest.approx(30 / 80)
    assert ev[("count_grid", "rri")] == pytest.approx((3 / 5) / (4 / 6))
    assert result.periods["n_test"].tolist() == [4]
    assert set(result.evaluation.columns) == {
        "method",
        "period_start",
        "coverage",
        "metric",
        "value",
    }


def test_backtest_is_deterministic_and_records_the_seed():
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 3000, size=(600, 2))
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 120, 600), unit="D")
    frame = incidents(xy, dates.strftime("%Y-%m-%d %H:%M"), resolution="exact")
    kwargs = {"lookback_days": 56, "coverage": (0.01, 0.05), "methods": METHODS, "seed": 4}
    first = run_backtest(frame, **kwargs)
    second = run_backtest(frame, **kwargs)
    pd.testing.assert_frame_equal(first.evaluation, second.evaluation)
    assert first.parameters["seed"] == 4
    assert first.periods["period_start"].dt.day_of_week.eq(0).all()  # Mondays
    assert first.periods["period_start"].dt.hour.eq(0).all()  # midnight across the BST change
    stab = first.evaluation[first.evaluation["metric"] == "stability"]
    assert len(stab) == (len(first.periods) - 1) * len(METHODS) * 2
    pei = first.evaluation[first.evaluation["metric"] == "pei"]["value"].dropna()
    assert (pei <= 1 + 1e-12).all()


def test_backtest_monthly_on_month_data():
    months = [f"2025-{m:02d}-01" for m in range(1, 7) for _ in range(5)]
    rng = np.random.default_rng(2)
    frame = incidents(rng.uniform(0, 2000, size=(30, 2)), months, resolution="month")
    result = run_backtest(
        frame, period="month", lookback_days=90, coverage=(0.05,), methods=("grid",)
    )
    assert [f"{t:%Y-%m}" for t in result.periods["period_start"]] == [
        "2025-04",
        "2025-05",
        "2025-06",
    ]
    assert result.periods["n_test"].tolist() == [5, 5, 5]
    assert result.periods["n_train"].tolist() == [15, 15, 15]


def test_last_period_is_the_previous_calendar_month():
    # months of 28, 31 and 30 days: the baseline must still see exactly the month before
    months = [f"2025-{m:02d}-01" for m in range(1, 7) for _ in range(5)]
    xy = np.column_stack([np.arange(30) * 160.0 + 5, np.full(30, 5.0)])  # 30 distinct cells
    frame = incidents(xy, months, resolution="month")
    result = run_backtest(
        frame,
        period="month",
        lookback_days=90,
        coverage=(0.05,),
        methods=("last_period",),
        areas=box_areas(4800),
    )
    filler = result.evaluation.query("metric == 'filler_share'")["value"]
    n_cells = result.study["n_cells"]
    k = int(np.ceil(0.05 * n_cells))
    np.testing.assert_allclose(filler.to_numpy(), (k - 5) / k)  # 5 cells known, rest random


def test_weekly_periods_on_month_data_are_refused():
    frame = incidents([[0, 0], [500, 500]], ["2025-01-01", "2025-02-01"], resolution="month")
    with pytest.raises(TimeResolutionError, match="--period month"):
        run_backtest(frame, period="week")


def test_missing_harm_names_the_fix():
    frame = hand_backtest_frame().drop(columns=[HARM])
    with pytest.raises(SchemaError, match=r"missing column\(s\) \['harm'\].*apply_harm"):
        run_backtest(frame)


def test_missing_dates_or_points_are_refused_with_counts():
    frame = hand_backtest_frame()
    frame.loc[0, OCCURRED_AT] = pd.NaT
    frame.loc[1, "geometry"] = None
    with pytest.raises(SchemaError, match=r"1 incident\(s\) have no occurred_at and 1 no point"):
        run_backtest(frame, lookback_days=7)


def test_unknown_offence_lists_the_categories():
    with pytest.raises(OptionError, match=r"\['Robbery'\] not in the data.*\['Burglary'\]"):
        run_backtest(hand_backtest_frame(), offences=["Robbery"], lookback_days=7)


def test_no_period_fits_suggests_a_shorter_lookback():
    with pytest.raises(OptionError, match="shorter --lookback-days"):
        run_backtest(hand_backtest_frame(), lookback_days=365)


@pytest.mark.parametrize(
    ("option", "value", "pattern"),
    [
        ("methods", ("grid", "magic"), "method must be one of"),
        ("period", "day", "period must be one of"),
        ("coverage", (0.0,), "coverage must be a finite number > 0"),
        ("coverage", (2.0,), "between 0 and 1"),
    ],
)
def test_bad_options(option, value, pattern):
    with pytest.raises(OptionError, match=pattern):
        run_backtest(hand_backtest_frame(), lookback_days=7, **{option: value})


# ---------------------------------------------------------------- cocoons


def test_cocoon_backtest_by_hand():
    xy = [[0, 0], [100, 0], [1000, 0], [0, 300], [0, 350]]
    dates = ["2024-01-01", "2024-01-04", "2024-01-06", "2024-02-20", "2024-02-21"]
    frame = incidents(xy, dates)
    result = cocoon_backtest(frame, start="2024-01-02", end="2024-03-01", study_area_km2=10.0)
    s = result.summary
    # scored: Jan 4 (100 m / 3 days after Jan 1: inside), Jan 6 (900 m away: outside),
    # Feb 20 (seeds 50 and 47 days old: expired), Feb 21 (50 m / 1 day after Feb 20: inside)
    assert (s["n_burglaries"], s["n_in_live_zone"]) == (4, 2)
    assert s["share_in_live_zone"] == pytest.approx(0.5)
    bands = result.bands.set_index(["distance_band", "time_band"])["n_burglaries"]
    assert bands[("0-100 m", "0-7 days")] == 2
    assert bands.sum() == 2
    first = result.periods.iloc[0]  # Jan 2: one live zone (Jan 1) of radius 400 m
    assert first["live_zones"] == 1
    assert first["live_area_km2"] == pytest.approx(np.pi * 0.4**2, rel=0.01)


def test_cocoon_backtest_refuses_month_data():
    frame = incidents([[0, 0], [10, 0]], ["2025-01-01", "2025-02-01"], resolution="month")
    with pytest.raises(TimeResolutionError, match="day-level dates"):
        cocoon_backtest(frame)


def test_hit_rate_grows_with_coverage_and_pai_is_hit_rate_over_area():
    rng = np.random.default_rng(11)
    xy = np.vstack([rng.normal(1500, 200, size=(300, 2)), rng.uniform(0, 3000, size=(300, 2))])
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 90, 600), unit="D")
    frame = incidents(xy, dates.strftime("%Y-%m-%d %H:%M"), resolution="exact")
    result = run_backtest(
        frame,
        lookback_days=28,
        coverage=(0.01, 0.02, 0.05, 0.2),
        methods=("grid", "kde", "gistar", "promap"),
    )
    wide = result.evaluation.pivot_table(
        index=["method", "period_start", "coverage"], columns="metric", values="value"
    )
    np.testing.assert_allclose(wide["pai"] * wide["area_share"], wide["hit_rate"])
    for _, part in wide.groupby(level=["method", "period_start"]):
        assert np.all(np.diff(part["hit_rate"].to_numpy()) >= -1e-12)  # nested selections
    assert (wide["hit_rate"].between(0, 1)).all()


def test_offences_follow_the_spots_rule_any_case():
    frame = hand_backtest_frame()
    kwargs = {
        "start": "2024-01-08",
        "end": "2024-01-09",
        "lookback_days": 7,
        "coverage": (0.01,),
        "methods": ("count_grid",),
        "areas": box_areas(1500),
    }
    for name in (" Burglary ", "burglary"):
        result = run_backtest(frame, offences=[name], **kwargs)
        assert result.periods["n_test"].tolist() == [4]
    with pytest.raises(OptionError, match=r"offences: \['Burglar'\] not in the data"):
        run_backtest(frame, offences=["Burglar"], **kwargs)


def test_default_offences_are_the_serious_violence_set_of_the_spots():
    frame = hand_backtest_frame()
    robbery = frame.copy()
    robbery[OFFENCE] = "Robbery"
    robbery = robbery.iloc[::2]  # every other row, so the counts tell the sets apart
    both = pd.concat([frame, robbery], ignore_index=True)
    result = backtest(
        both,
        start="2024-01-08",
        end="2024-01-09",
        lookback_days=7,
        coverage=(0.01,),
        methods=("count_grid",),
        areas=box_areas(1500),
    )
    start, end = pd.Timestamp("2024-01-08", tz=TZ), pd.Timestamp("2024-01-15", tz=TZ)
    in_week = robbery[OCCURRED_AT].between(start, end, inclusive="left")
    assert result.periods["n_test"].tolist() == [int(in_week.sum())] != [4]
    assert "Robbery" in result.parameters["offences"]


def test_default_lookback_adapts_to_one_year_of_month_data():
    # 12 months of month-dated rows: a 365-day look-back would leave no month to score
    months = pd.date_range("2025-01-01", periods=12, freq="MS")
    frame = incidents(
        [[75.0 + 150 * (i % 3), 75.0] for i in range(12)],
        [m.strftime("%Y-%m-%d") for m in months],
        resolution="month",
    )
    result = run_backtest(frame, period="month", coverage=(0.5,), methods=("grid",))
    assert len(result.periods) == 6  # the longest whole-month look-back leaving 6 months
    assert result.parameters["lookback_months"] == 6
    assert result.parameters["lookback_adapted"] is True
    assert any("too short for a 365-day look-back" in n for n in result.notes)
    with pytest.raises(OptionError, match="shorter --lookback-days"):
        run_backtest(frame, period="month", lookback_days=365, methods=("grid",))


def test_incidents_outside_the_areas_are_counted_in_a_note():
    frame = hand_backtest_frame()
    result = run_backtest(
        frame,
        start="2024-01-08",
        end="2024-01-09",
        lookback_days=7,
        coverage=(0.05,),
        methods=("count_grid",),
        areas=box_areas(750),
    )
    # B (1425, 1425), C (775, 775) and the later point (775, 75) lie outside a 750 m box
    assert result.study["n_outside"] == 3
    assert any("3 scored incident(s) lie outside the study area" in n for n in result.notes)
    assert result.periods["n_test"].tolist() == [3]
