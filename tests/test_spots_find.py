"""find_spots on hand-worked fixtures: every method, ties, edges, areas, status, errors."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.errors import CRSError, OptionError, SchemaError
from hotspots.schema import (
    AREA_NAME,
    AREA_RANK,
    HARM,
    HARM_PREVIOUS,
    HARM_SHARE,
    N_INCIDENTS,
    OCCURRED_AT,
    OFFENCE,
    PEAK_WINDOWS,
    RANK,
    SPOT_ID,
    STATUS,
    TIME_RESOLUTION,
    TREND,
)
from hotspots.spots import SERIOUS_VIOLENCE, HarmSpotClusterer, find_spots

X0, Y0 = 600_000.0, 199_950.0  # SW corner of cell TR0000_9995 (ix 4000, iy 1333)
TZ = "Europe/London"
VIOLENCE = "Violence and sexual offences"


def make(points, *, crs=27700) -> gpd.GeoDataFrame:
    """Points (dx, dy, harm, date, offence) relative to (X0, Y0)."""
    dx, dy, harm, dates, offences = zip(*points, strict=True)
    return gpd.GeoDataFrame(
        {
            OCCURRED_AT: pd.to_datetime(list(dates), format="mixed").tz_localize(TZ),
            OFFENCE: list(offences),
            HARM: np.array(harm, dtype="float64"),
            TIME_RESOLUTION: "exact",
        },
        geometry=gpd.points_from_xy(X0 + np.array(dx), Y0 + np.array(dy)),
        crs=crs,
    )


def cells_fixture() -> gpd.GeoDataFrame:
    """A: 3 incidents, 250 harm in TR0000_9995; B: 2 incidents, 250 in TR0015_9995 (one on
    its west edge); C: 3 incidents, 250 in TR0045_9995; D: 1 burglary, 9999 (not ranked)."""
    d = "2025-06-01 21:00"
    return make(
        [
            (10, 10, 100, d, VIOLENCE),
            (20, 20, 100, d, "Robbery"),
            (140, 140, 50, d, "Drugs"),
            (150, 10, 200, d, VIOLENCE),
            (290, 140, 50, d, VIOLENCE),  # (150, 10) is on the edge
            (460, 10, 100, d, VIOLENCE),
            (470, 10, 100, d, VIOLENCE),
            (480, 10, 50, d, "Robbery"),
            (20, 20, 9999, d, "Burglary"),
        ]
    )


def areas_fixture(crs=27700) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {AREA_NAME: ["West", "East", "Empty"]},
        geometry=[
            shapely.box(X0 - 300, Y0 - 300, X0 + 300, Y0 + 300),
            shapely.box(X0 + 300, Y0 - 300, X0 + 900, Y0 + 300),
            shapely.box(X0 + 5000, Y0, X0 + 6000, Y0 + 1000),
        ],
        crs=crs,
    )


def test_grid_ranks_by_harm_with_deterministic_ties():
    result = find_spots(cells_fixture(), top=3)
    spots = result.spots
    # all three hold 250: more incidents first (A, C have 3), then spot id (A < C)
    assert spots[SPOT_ID].tolist() == ["TR0000_9995", "TR0045_9995", "TR0015_9995"]
    assert spots[RANK].tolist() == [1, 2, 3]
    assert spots[HARM].tolist() == pytest.approx([250, 250, 250])
    assert spots[N_INCIDENTS].tolist() == [3, 3, 2]
    assert spots["n_robbery"].tolist() == [1, 1, 0]
    assert spots[HARM_SHARE].tolist() == pytest.approx([1 / 3] * 3)
    assert spots["offence_mix"].iloc[0] == "Violence and sexual offences: 1; Robbery: 1; Drugs: 1"
    assert spots["area_m2"].tolist() == pytest.approx([22_500.0] * 3)
    assert spots["harm_per_ha"].tolist() == pytest.approx([250 / 2.25] * 3)
    # the burglary is not in the serious-violence set
    assert result.summary["harm_total"] == pytest.approx(750)
    assert result.parameters["offences"] == list(SERIOUS_VIOLENCE)


def test_top_one_and_shuffled_rows_give_the_same_answer():
    data = cells_fixture()
    shuffled = data.sample(frac=1.0, random_state=3)
    a = find_spots(data, top=1).spots
    b = find_spots(shuffled, top=1).spots
    assert a[SPOT_ID].tolist() == b[SPOT_ID].tolist() == ["TR0000_9995"]


def test_all_offences_and_edge_point():
    spots = find_spots(cells_fixture(), top=10, offences=None).spots
    by_id = spots.set_index(SPOT_ID)[HARM]
    assert by_id["TR0000_9995"] == pytest.approx(250 + 9999)
    assert by_id["TR0015_9995"] == pytest.approx(250)  # the edge point is in the east cell


def test_per_area_top_n_with_empty_area_and_short_area():
    result = find_spots(cells_fixture(), top=5, areas=areas_fixture())
    spots = result.spots
    assert spots[[SPOT_ID, AREA_NAME, RANK, AREA_RANK]].values.tolist() == [
        ["TR0000_9995", "West", 1, 1],
        ["TR0045_9995", "East", 2, 1],
        ["TR0015_9995", "West", 3, 2],
    ]
    per_area = {row["area"]: row for row in result.summary["per_area"]}
    assert per_area["Empty"]["n_spots"] == 0
    assert per_area["West"]["n_candidates"] == 2
    assert per_area["East"]["harm_share"] == pytest.approx(1.0)
    assert per_area["West"]["area_km2"] == pytest.approx(0.36)
    notes = " ".join(result.summary["notes"])
    assert "Empty: no harm in the window" in notes
    assert "West: only 2 places" in notes
    # concentration: 750 of 750 harm in 3 cells of a 0.36 + 0.36 + 1.0 km2 study area
    assert result.summary["area_share"] == pytest.approx(3 * 0.0225 / 1.72)
    assert result.summary["headline"] == (
        "3 spots hold 100% of harm in 3.9% of the area (areas layer, 1.7 km²)"
    )


def test_per_area_top_one():
    spots = find_spots(cells_fixture(), top=1, areas=areas_fixture()).spots
    assert spots[SPOT_ID].tolist() == ["TR0000_9995", "TR0045_9995"]
    assert spots[AREA_RANK].tolist() == [1, 1]


def test_areas_in_another_crs_are_projected():
    areas = areas_fixture().to_crs(4326)
    spots = find_spots(cells_fixture(), top=1, areas=areas).spots
    assert spots[AREA_NAME].tolist() == ["West", "East"]


@pytest.mark.parametrize(("share", "expected"), [(0.5, 1), (0.6, 2), (0.8, 2), (0.81, 3)])
def test_harm_share_picks_fewest_spots(share, expected):
    data = make(
        [
            (10, 10, 500, "2025-06-01", VIOLENCE),
            (200, 10, 300, "2025-06-01", VIOLENCE),
            (400, 10, 200, "2025-06-01", VIOLENCE),
        ]
    )
    result = find_spots(data, top=None, harm_share=share)
    assert len(result.spots) == expected


def test_max_area_caps_the_set():
    spots = find_spots(cells_fixture(), top=None, max_area_km2=0.05).spots
    assert len(spots) == 2  # 2 x 0.0225 km2 fit under 0.05, 3 do not


@pytest.mark.parametrize("method", ["grid", "hex", "dbscan", "gistar"])
def test_every_method_returns_ranked_spots_inside_the_data(method):
    rng = np.random.default_rng(5)
    n = 400
    pts = [
        (float(rng.normal(0, 600)), float(rng.normal(0, 600)), 10.0, "2025-05-01", VIOLENCE)
        for _ in range(n)
    ]
    pts += [
        (
            500.0 + float(rng.normal(0, 20)),
            500.0 + float(rng.normal(0, 20)),
            100.0,
            "2025-05-02",
            "Robbery",
        )
        for _ in range(60)
    ]
    data = make(pts)
    result = find_spots(data, method=method, top=3, min_harm=1000, eps_m=60, permutations=0, seed=1)
    spots = result.spots
    assert 1 <= len(spots) <= 3
    assert spots[HARM].is_monotonic_decreasing
    # the planted cluster of robberies is the top spot
    assert spots.geometry.iloc[0].distance(shapely.Point(X0 + 500, Y0 + 500)) < 100
    # every spot's harm equals the harm of the incidents it holds (independent check)
    window = data[data[OFFENCE].isin(SERIOUS_VIOLENCE)]
    if method != "dbscan":  # cells and hexagons partition the plane
        for geom, harm in zip(spots.geometry, spots[HARM], strict=True):
            inside = window.geometry.within(geom) | window.geometry.touches(geom)
            assert window.loc[inside.to_numpy(), HARM].sum() >= harm - 1e-9
    assert result.parameters["method"] == method
    assert result.parameters["seed"] == 1


def test_grid_harm_equals_pandas_groupby():
    rng = np.random.default_rng(11)
    n = 2000
    data = make(
        [
            (float(x), float(y), float(h), "2025-03-01", VIOLENCE)
            for x, y, h in zip(
                rng.uniform(-3000, 3000, n),
                rng.uniform(-3000, 3000, n),
                rng.choice([1.0, 5.0, 365.0], n),
                strict=True,
            )
        ]
    )
    result = find_spots(data, top=50)
    xy = data.get_coordinates()
    frame = pd.DataFrame(
        {
            "ix": np.floor(xy["x"] / 150).astype(int),
            "iy": np.floor(xy["y"] / 150).astype(int),
            "h": data[HARM],
        }
    )
    expected = frame.groupby(["ix", "iy"])["h"].sum().sort_values(ascending=False)
    assert result.candidates[HARM].sum() == pytest.approx(frame["h"].sum())
    np.testing.assert_allclose(
        np.sort(result.candidates[HARM].to_numpy())[::-1], expected.to_numpy()
    )
    np.testing.assert_allclose(result.spots[HARM].to_numpy(), expected.to_numpy()[:50])


def test_dbscan_hand_worked_core_threshold():
    pts = [
        (10, 10, 1000, "2025-06-01", VIOLENCE),
        (60, 10, 1000, "2025-06-01", VIOLENCE),
        (2000, 10, 1500, "2025-06-01", VIOLENCE),
    ]
    data = make(pts)
    spots = find_spots(data, method="dbscan", eps_m=100, min_harm=2000, top=5).spots
    assert len(spots) == 1  # 1000 + 1000 >= 2000 makes both core; 1500 alone is noise
    assert spots[HARM].iloc[0] == pytest.approx(2000)
    assert spots[N_INCIDENTS].iloc[0] == 2
    assert not bool(spots["split"].iloc[0])


def test_dbscan_fractional_min_harm_and_noise():
    data = make([(10, 10, 1000, "2025-06-01", VIOLENCE), (60, 10, 1000, "2025-06-01", VIOLENCE)])
    assert len(find_spots(data, method="dbscan", eps_m=100, min_harm=2000.5, top=5).spots) == 0
    assert len(find_spots(data, method="dbscan", eps_m=100, min_harm=1999.5, top=5).spots) == 1


def test_dbscan_splits_wide_clusters_along_the_grid():
    line = [(float(x), 10.0, 1000.0, "2025-06-01", VIOLENCE) for x in range(0, 600, 50)]
    fitted = HarmSpotClusterer(eps_m=60, min_harm=2000, buffer_m=10).fit(make(line))
    spots = fitted.spots_
    assert spots["cluster"].nunique() == 1
    assert len(spots) == 4  # x 0-149, 150-299, 300-449, 450-599
    assert spots["split"].all()
    assert spots["n_incidents"].sum() == 12
    widths = 2 * shapely.minimum_bounding_radius(spots.geometry.to_numpy())
    assert (widths <= 150 + 2 * 10 + 1e-6).all()
    # labels point at the piece polygons that hold each incident
    pts = make(line).geometry.to_numpy()
    assert all(
        spots.geometry.iloc[lab].contains(p) for lab, p in zip(fitted.labels_, pts, strict=True)
    )


def test_status_new_persisting_dropped_and_trend():
    as_of = "2025-06-30"
    pts = [
        (10, 10, 300, "2025-06-01", VIOLENCE),  # P: in both this and last week's run
        (310, 10, 1000, "2025-06-28", VIOLENCE),  # Q: arrived this week
        (10, 20, 100, "2025-05-15", VIOLENCE),
    ]  # P's harm in the previous look-back
    data = make(pts)
    one = find_spots(data, top=1, as_of=as_of, lookback_days=30)
    assert one.spots[[SPOT_ID, STATUS]].values.tolist() == [["TR0030_9995", "new"]]
    assert one.dropped[SPOT_ID].tolist() == ["TR0000_9995"]
    assert one.dropped[STATUS].tolist() == ["dropped"]
    assert one.summary["dropped"] == ["TR0000_9995"]
    two = find_spots(data, top=2, as_of=as_of, lookback_days=30)
    assert two.spots[[SPOT_ID, STATUS, HARM_PREVIOUS, TREND]].values.tolist() == [
        ["TR0030_9995", "new", 0.0, "up"],  # trend is never "new": no harm before is "up"
        ["TR0000_9995", "persisting", 100.0, "up"],
    ]
    assert len(two.dropped) == 0
    assert two.parameters["window_start"] == "2025-06-01"


def test_window_edges_are_whole_days():
    pts = [
        (10, 10, 1, "2025-06-01 00:00", VIOLENCE),
        (10, 10, 10, "2025-06-30 23:59", VIOLENCE),
        (10, 10, 100, "2025-05-31 23:59", VIOLENCE),
        (10, 10, 1000, "2025-07-01", VIOLENCE),
    ]
    result = find_spots(make(pts), top=1, as_of="2025-06-30", lookback_days=30)
    assert result.spots[HARM].tolist() == pytest.approx([11.0])


def test_peak_windows_from_exact_times_and_blank_for_months():
    times = [
        "2025-06-06 22:30",
        "2025-06-06 23:10",
        "2025-06-07 00:20",
        "2025-06-07 01:05",
        "2025-06-14 02:30",
    ]  # Fridays into Saturdays
    data = make([(10, 10, 10, t, VIOLENCE) for t in times])
    spots = find_spots(data, top=1).spots
    assert spots[PEAK_WINDOWS].iloc[0].split("; ")[0] == "Fri-Sat 22:00-02:00"
    monthly = data.assign(**{TIME_RESOLUTION: "month"})
    result = find_spots(monthly, top=1)
    assert result.spots[PEAK_WINDOWS].tolist() == [""]
    assert any("no hour-of-week profile" in n for n in result.summary["notes"])


def test_inputs_are_not_changed():
    data = cells_fixture()
    before = data.copy()
    find_spots(data, top=2, areas=areas_fixture())
    pd.testing.assert_frame_equal(pd.DataFrame(data), pd.DataFrame(before))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), top=st.integers(1, 8))
def test_spots_are_the_top_of_the_candidates(seed, top):
    rng = np.random.default_rng(seed)
    n = 60
    data = make(
        [
            (float(x), float(y), float(h), "2025-03-01", VIOLENCE)
            for x, y, h in zip(
                rng.uniform(0, 900, n), rng.uniform(0, 900, n), rng.integers(1, 5, n), strict=True
            )
        ]
    )
    result = find_spots(data, top=top)
    cands = result.candidates
    assert len(result.spots) == min(top, len(cands))
    assert result.spots[HARM].min() >= cands[HARM].nlargest(len(result.spots)).min() - 1e-9
    assert cands[HARM].sum() == pytest.approx(data[HARM].sum())


# ---------------------------------------------------------------- bad input, one line each
def test_unknown_method():
    with pytest.raises(OptionError, match=r"method must be one of \('grid', 'hex', 'dbscan', "):
        find_spots(cells_fixture(), method="kde")


def test_unknown_offence_names_the_categories():
    with pytest.raises(
        OptionError,
        match=r"offences: \['Robery'\] not in the data; its offence "
        r"categories are \['Burglary', 'Drugs'",
    ):
        find_spots(cells_fixture(), offences=["Robbery", "Robery"])


def test_missing_harm_says_apply_harm():
    with pytest.raises(SchemaError, match=r"missing column\(s\) \['harm'\].*apply_harm"):
        find_spots(cells_fixture().drop(columns=[HARM]))


def test_negative_harm_is_refused():
    data = cells_fixture()
    data.loc[2, HARM] = -1.0
    with pytest.raises(SchemaError, match="1 rows are missing or negative"):
        find_spots(data)


def test_areas_that_do_not_overlap():
    far = gpd.GeoDataFrame(
        {AREA_NAME: ["Elsewhere"]},
        geometry=[shapely.box(100_000, 100_000, 101_000, 101_000)],
        crs=27700,
    )
    with pytest.raises(OptionError, match="areas layer does not overlap the incidents"):
        find_spots(cells_fixture(), areas=far)


def test_areas_without_area_column():
    with pytest.raises(SchemaError, match=r"areas is missing column\(s\) \['area'\]"):
        find_spots(cells_fixture(), areas=areas_fixture().rename(columns={AREA_NAME: "name"}))


def test_window_with_no_incidents():
    with pytest.raises(
        OptionError,
        match=r"No Violence and sexual offences, Robbery, Possession "
        r"of weapons, Drugs incidents in the window 2024-01-02..2024-12-31 "
        r"\(the data runs 2025-06-01 to 2025-06-01\)",
    ):
        find_spots(cells_fixture(), as_of="2024-12-31")


def test_non_metric_crs():
    with pytest.raises(CRSError, match="projected CRS in metres"):
        find_spots(cells_fixture().to_crs(4326))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"top": 5, "harm_share": 0.5}, "not both"),
        ({"top": 0}, "top must be a whole number"),
        ({"top": None}, "Say how many spots"),
        ({"harm_share": 1.5, "top": None}, "harm_share"),
        ({"cell_m": -1.0}, "cell_m must be a finite number > 0"),
        ({"fdr_alpha": 1.0}, "fdr_alpha must be between 0 and 1"),
    ],
)
def test_bad_options(kwargs, match):
    with pytest.raises(OptionError, match=match):
        find_spots(cells_fixture(), **kwargs)


def test_study_area_without_areas_is_the_convex_hull():
    pts = [
        (0, 0, 1, "2025-06-01", VIOLENCE),
        (1000, 0, 1, "2025-06-01", VIOLENCE),
        (1000, 1000, 1, "2025-06-01", VIOLENCE),
        (0, 1000, 1, "2025-06-01", VIOLENCE),
        (500, 500, 50, "2025-06-01", VIOLENCE),
    ]
    result = find_spots(make(pts), top=1)
    assert result.summary["study_area_km2"] == pytest.approx(1.0)
    assert result.summary["area_share"] == pytest.approx(0.0225)
    assert result.summary["harm_share"] == pytest.approx(50 / 54)


def test_dbscan_exact_mode_matches_scikit_learn():
    from sklearn.cluster import DBSCAN

    rng = np.random.default_rng(21)
    xy = np.vstack([rng.normal(0, 400, (1500, 2)), rng.normal(600, 50, (300, 2))]).round(0)
    harm = rng.choice([1.0, 10.0, 100.0], len(xy))
    data = make([(x, y, h, "2025-06-01", VIOLENCE) for (x, y), h in zip(xy, harm, strict=True)])
    fitted = HarmSpotClusterer(eps_m=80, min_harm=500, snap_m=0, max_width_m=1e9).fit(data)
    ref = DBSCAN(eps=80, min_samples=500).fit(xy, sample_weight=harm)
    np.testing.assert_array_equal(fitted.labels_ >= 0, ref.labels_ >= 0)
    core = ref.core_sample_indices_
    # same partition of core points (cluster numbers differ: ours are ranked by harm)
    pairs = set(zip(fitted.labels_[core].tolist(), ref.labels_[core].tolist(), strict=True))
    assert len(pairs) == len(set(ref.labels_[core])) == len(set(fitted.labels_[core]))
    # the default snapping (eps / 5) keeps nearly every incident's membership
    snapped = HarmSpotClusterer(eps_m=80, min_harm=500, max_width_m=1e9).fit(data)
    assert np.mean((snapped.labels_ >= 0) == (ref.labels_ >= 0)) > 0.97


def test_hex_hand_worked_with_edge_point():
    import math

    side = math.sqrt(2 * 150.0**2 / (3 * math.sqrt(3)))  # 93.06 m: same area as 150 m square
    half_gap = math.sqrt(3) * side / 2  # 80.59 m: midway between hexagons (0,0) and (1,0)
    data = gpd.GeoDataFrame(
        {
            OCCURRED_AT: pd.to_datetime(["2025-06-01"] * 3).tz_localize(TZ),
            OFFENCE: [VIOLENCE] * 3,
            HARM: [10.0, 10.0, 15.0],
        },
        geometry=gpd.points_from_xy([5.0, -5.0, half_gap], [5.0, 0.0, 0.0]),
        crs=27700,
    )
    spots = find_spots(data, method="hex", top=5).spots
    # hexagon (0,0) is centred on the CRS origin; (1,0) on (161.2, 0): the edge point goes east
    assert spots[SPOT_ID].tolist() == ["HSV0000_0000", "HSV0016_0000"]
    assert spots[HARM].tolist() == pytest.approx([20.0, 15.0])
    assert spots["area_m2"].tolist() == pytest.approx([22_500.0, 22_500.0])


def test_spots_without_location_text_are_named_by_their_busiest_point():
    from pyproj import Transformer

    spots = find_spots(cells_fixture(), top=3).spots
    assert "location" not in cells_fixture().columns
    top = spots.iloc[0]
    # cell A (TR0000_9995): its busiest point is (10, 10) (ties: the most westerly, then south)
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(X0 + 10, Y0 + 10)
    names = dict(zip(spots["spot_id"], spots["place_name"], strict=True))
    assert names["TR0000_9995"] == f"near {lat:.5f}, {lon:.5f}"
    assert all(str(n).startswith("near ") for n in spots["place_name"])
    assert top["location"] == ""
