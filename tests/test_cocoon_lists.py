"""Visit lists, team lists and street summaries against the hand-worked fixture."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from hotspots.cocoon import (
    AddressIndex,
    cocoon_zones,
    distance_bands,
    street_summary,
    team_lists,
    visit_lists,
)
from hotspots.errors import CRSError
from hotspots.schema import (
    ADDRESS_ID,
    AREA_NAME,
    DISTANCE_BAND,
    DISTANCE_M,
    DUE_BY,
    IS_BURGLED,
    MANDATORY,
    ZONE_ID,
)
from test_cocoon_fixtures import make_addresses, make_areas, make_incidents, stamp

AS_OF = stamp("2025-03-04 00:00")


@pytest.fixture
def zones():
    return cocoon_zones(make_incidents(), as_of=AS_OF, areas=make_areas())


def test_visit_list_by_hand(zones):
    visits = visit_lists(zones, make_addresses(), nearest=1)
    b1 = visits[visits[ZONE_ID] == "WES-250301-01"]
    assert b1[ADDRESS_ID].tolist() == ["home", "a100", "b2home", "a400"]  # "out" is 500 m
    assert b1[DISTANCE_M].tolist() == [5.0, 100.0, 310.0, 400.0]
    assert b1[DISTANCE_BAND].tolist() == ["0-100", "0-100", "200-400", "200-400"]
    assert b1[IS_BURGLED].tolist() == [True, False, False, False]
    assert b1["order"].tolist() == [pd.NA, 1, 2, 3]
    assert b1[MANDATORY].tolist() == [False, True, False, False]
    b2 = visits[visits[ZONE_ID] == "WES-250303-01"]
    assert b2[ADDRESS_ID].tolist() == ["b2home", "a100", "home"]
    assert b2[DISTANCE_BAND].tolist() == ["0-100", "100-200", "200-400"]
    assert b2[IS_BURGLED].tolist() == [True, False, False]
    assert b2["order"].tolist() == [pd.NA, 1, 2]
    assert (visits[ZONE_ID] == "EAS-250302-01").sum() == 0  # no homes near B3
    # sorted by deadline: B1 (due 3 Mar) before B2 (due 5 Mar)
    assert visits[ZONE_ID].tolist()[:4] == ["WES-250301-01"] * 4
    assert visits[AREA_NAME].unique().tolist() == ["West"]
    first = visits.iloc[1]
    assert (first["easting"], first["northing"]) == (500_100.0, 200_000.0)
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(500_100.0, 200_000.0)
    assert first["latitude"] == pytest.approx(lat, abs=1e-6)
    assert first["longitude"] == pytest.approx(lon, abs=1e-6)


def test_mandatory_counts_targets_only(zones):
    visits = visit_lists(zones, make_addresses(), nearest=8)
    per_zone = visits.groupby(ZONE_ID)[MANDATORY].sum().to_dict()
    assert per_zone == {
        "WES-250301-01": 3,
        "WES-250303-01": 2,
    }  # the burgled homes are never mandatory
    assert not visits.loc[visits[IS_BURGLED], MANDATORY].any()


def test_no_burgled_flag_when_nearest_address_is_far(zones):
    visits = visit_lists(zones, make_addresses(), burgled_within_m=4.0)
    b1 = visits[visits[ZONE_ID] == "WES-250301-01"]
    assert not b1[IS_BURGLED].any()  # "home" is 5 m away, beyond 4 m
    assert b1["order"].tolist() == [1, 2, 3, 4]


def test_index_and_layer_give_the_same_list(zones):
    layer = make_addresses()
    a = visit_lists(zones, layer)
    b = visit_lists(zones, AddressIndex(layer))
    pd.testing.assert_frame_equal(a, b)


def test_team_list_merges_address_in_two_zones(zones):
    teams = team_lists(visit_lists(zones, make_addresses()))
    row = teams.set_index(ADDRESS_ID).loc["a100"]
    assert row["zone_ids"] == "WES-250301-01;WES-250303-01"
    assert row["n_zones"] == 2
    assert row[DUE_BY] == stamp("2025-03-03 10:00")  # the earlier deadline (B1)
    assert row[DISTANCE_M] == 100.0
    # burgled in one zone, target in the other: listed once, for the other zone only
    home = teams.set_index(ADDRESS_ID).loc["home"]
    assert home["zone_ids"] == "WES-250303-01"
    assert teams.set_index(ADDRESS_ID).loc["b2home", "zone_ids"] == "WES-250301-01"
    assert sorted(teams[ADDRESS_ID]) == ["a100", "a400", "b2home", "home"]
    assert teams[[AREA_NAME, ADDRESS_ID]].duplicated().sum() == 0


def test_team_list_per_area():
    # move B2 into the East area: a100 is then on both teams' lists, once each
    inc = make_incidents()
    areas = make_areas()
    areas.loc[1, "geometry"] = shapely.box(500_200, 190_000, 520_000, 210_000)
    areas.loc[0, "geometry"] = shapely.box(490_000, 190_000, 500_200, 210_000)
    zones = cocoon_zones(inc, as_of=AS_OF, areas=areas)
    teams = team_lists(visit_lists(zones, make_addresses()))
    a100 = teams[teams[ADDRESS_ID] == "a100"]
    assert a100[AREA_NAME].tolist() == ["East", "West"]
    assert a100["zone_ids"].tolist() == ["EAS-250303-01", "WES-250301-01"]


def test_street_summary(zones):
    streets = street_summary(visit_lists(zones, make_addresses(), nearest=1))
    b1 = streets[streets[ZONE_ID] == "WES-250301-01"].set_index("street")
    assert b1["homes"].to_dict() == {"High St": 1, "Mill Rd": 2}  # home is the burgled one
    assert b1["nearest_m"].to_dict() == {"High St": 100.0, "Mill Rd": 310.0}
    assert b1["mandatory"].to_dict() == {"High St": 1, "Mill Rd": 0}


def test_street_unknown_grouped():
    inc = make_incidents()
    adds = make_addresses()
    zones = cocoon_zones(inc, as_of=stamp("2025-03-02 00:00"), radius_m=600.0)
    streets = street_summary(visit_lists(zones, adds, radius_m=600.0))
    b1 = streets[streets[ZONE_ID] == "ZON-250301-01"].set_index("street")
    assert b1.loc["(street unknown)", "homes"] == 1  # "out", 500 m, has no street


def test_distance_bands_edges():
    d = np.array([0.0, 100.0, 100.01, 200.0, 399.99, 400.0])
    assert distance_bands(d).tolist() == [
        "0-100",
        "0-100",
        "100-200",
        "100-200",
        "200-400",
        "200-400",
    ]
    assert distance_bands(np.array([250.0, 300.0]), radius_m=300.0).tolist() == ["200-300"] * 2
    assert distance_bands(np.array([450.0]), radius_m=600.0).tolist() == ["400-600"]


def test_crs_mismatch_refused(zones):
    adds = make_addresses().to_crs(32631)
    with pytest.raises(CRSError, match="different CRSs"):
        visit_lists(zones, adds)


def test_inputs_not_changed(zones):
    adds = make_addresses()
    before_a, before_z = adds.copy(), zones.copy()
    visit_lists(zones, adds)
    pd.testing.assert_frame_equal(pd.DataFrame(adds), pd.DataFrame(before_a))
    pd.testing.assert_frame_equal(pd.DataFrame(zones), pd.DataFrame(before_z))


# ---------------------------------------------------------------- property: index vs brute force
@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), radius_m=st.floats(20, 400))
def test_within_equals_brute_force(seed, radius_m):
    rng = np.random.default_rng(seed)
    axy = rng.uniform(0, 1000, (200, 2)).round(0)  # integer metres: many exact ties
    qxy = rng.uniform(0, 1000, (15, 2)).round(0)
    import geopandas as gpd

    layer = gpd.GeoDataFrame(
        {ADDRESS_ID: [f"a{i}" for i in range(len(axy))]},
        geometry=gpd.points_from_xy(axy[:, 0], axy[:, 1]),
        crs=27700,
    )
    zi, ai, dist = AddressIndex(layer).within(shapely.points(qxy), radius_m)
    full = np.hypot(qxy[:, None, 0] - axy[None, :, 0], qxy[:, None, 1] - axy[None, :, 1])
    bz, ba = np.nonzero(full <= radius_m)
    assert sorted(zip(zi.tolist(), ai.tolist(), strict=True)) == sorted(
        zip(bz.tolist(), ba.tolist(), strict=True)
    )
    np.testing.assert_allclose(dist, full[zi, ai])
    # sorted by zone then distance (equal distances may differ in the last bit)
    assert np.all(np.diff(zi) >= 0)
    same_zone = np.diff(zi) == 0
    assert np.all(np.diff(dist)[same_zone] >= -1e-9)


# ---------------------------------------------------------------- vectorised lists vs plain pandas
def _random_case(seed: int):
    import geopandas as gpd

    from hotspots.schema import DWELLING_BURGLARY, INCIDENT_ID, OCCURRED_AT, STREET, TIME_RESOLUTION

    rng = np.random.default_rng(seed)
    axy = rng.uniform(0, 3000, (600, 2)).round(0) + 500_000
    adds = gpd.GeoDataFrame(
        {
            ADDRESS_ID: pd.array([f"a{i}" for i in range(600)], dtype="string"),
            STREET: pd.array(
                [None if i % 7 == 0 else f"S{i % 11}" for i in range(600)], dtype="string"
            ),
        },
        geometry=gpd.points_from_xy(axy[:, 0], axy[:, 1]),
        crs=27700,
    )
    bxy = rng.uniform(0, 3000, (40, 2)) + 500_000
    inc = gpd.GeoDataFrame(
        {
            INCIDENT_ID: [f"B{i}" for i in range(40)],
            OCCURRED_AT: stamp("2025-03-01") + pd.to_timedelta(rng.integers(0, 30, 40), unit="D"),
            DWELLING_BURGLARY: True,
            TIME_RESOLUTION: "exact",
        },
        geometry=gpd.points_from_xy(bxy[:, 0], bxy[:, 1]),
        crs=27700,
    )
    areas = make_areas()
    areas.loc[0, "geometry"] = shapely.box(490_000, 190_000, 501_500, 210_000)
    areas.loc[1, "geometry"] = shapely.box(501_500, 190_000, 520_000, 210_000)
    zones = cocoon_zones(inc, as_of=stamp("2025-04-01"), areas=areas)
    return visit_lists(zones, adds, nearest=5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_team_and_street_lists_equal_plain_pandas(seed):
    visits = _random_case(seed)
    targets = visits[~visits[IS_BURGLED]].sort_values([DUE_BY, ZONE_ID])
    expected = (
        targets.groupby([AREA_NAME, ADDRESS_ID])
        .agg(
            due_by=(DUE_BY, "min"),
            zone_ids=(ZONE_ID, ";".join),
            n_zones=(ZONE_ID, "size"),
            distance_m=(DISTANCE_M, "min"),
            mandatory=(MANDATORY, "any"),
        )
        .reset_index()
    )
    got = team_lists(visits)
    assert len(got) == len(expected)
    merged = got.merge(expected, on=[AREA_NAME, ADDRESS_ID], suffixes=("", "_x"))
    assert len(merged) == len(expected)
    for col in ("due_by", "zone_ids", "n_zones", "distance_m", "mandatory"):
        assert merged[col].tolist() == merged[f"{col}_x"].tolist(), col
    assert (got["n_zones"] > 1).any()  # the case really has addresses in several zones
    streets = street_summary(visits)
    t = targets.assign(street=targets["street"].astype("string").fillna("(street unknown)"))
    exp = (
        t.groupby([ZONE_ID, "street"])
        .agg(homes=(DISTANCE_M, "size"), nearest_m=(DISTANCE_M, "min"))
        .reset_index()
    )
    m = streets.merge(exp, on=[ZONE_ID, "street"], suffixes=("", "_x"))
    assert len(m) == len(exp) == len(streets)
    assert m["homes"].tolist() == m["homes_x"].tolist()
    assert m["nearest_m"].tolist() == m["nearest_m_x"].tolist()


def test_burgled_flag_off_with_zero(zones):
    visits = visit_lists(zones, make_addresses(), burgled_within_m=0.0)
    assert not visits[IS_BURGLED].any()
    assert visits[visits[ZONE_ID] == "WES-250301-01"]["order"].tolist() == [1, 2, 3, 4]


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    nearest=st.integers(0, 12),
    radius_m=st.sampled_from([150.0, 300.0, 400.0]),
)
def test_visit_list_invariants(seed, nearest, radius_m):
    import geopandas as gpd

    from hotspots.schema import DWELLING_BURGLARY, INCIDENT_ID, OCCURRED_AT, TIME_RESOLUTION

    rng = np.random.default_rng(seed)
    axy = rng.uniform(0, 800, (150, 2)).round(0) + 500_000
    axy[:20] = axy[20:40]  # flats: several addresses on one point
    adds = gpd.GeoDataFrame(
        {ADDRESS_ID: [f"a{i}" for i in range(len(axy))]},
        geometry=gpd.points_from_xy(axy[:, 0], axy[:, 1]),
        crs=27700,
    )
    bxy = np.vstack([axy[rng.integers(0, len(axy), 4)], rng.uniform(0, 800, (4, 2)) + 500_000])
    inc = gpd.GeoDataFrame(
        {
            INCIDENT_ID: [f"B{i}" for i in range(len(bxy))],
            OCCURRED_AT: pd.DatetimeIndex([stamp("2025-03-01")] * len(bxy)),
            DWELLING_BURGLARY: True,
            TIME_RESOLUTION: "exact",
        },
        geometry=gpd.points_from_xy(bxy[:, 0], bxy[:, 1]),
        crs=27700,
    )
    zones = cocoon_zones(inc, as_of=stamp("2025-03-02"), radius_m=radius_m)
    visits = visit_lists(zones, adds, radius_m=radius_m, nearest=nearest)
    full = np.hypot(bxy[:, None, 0] - axy[None, :, 0], bxy[:, None, 1] - axy[None, :, 1])
    for i, zone_id in enumerate(zones["zone_id"]):
        rows = visits[visits[ZONE_ID] == zone_id]
        assert len(rows) == int((full[i] <= radius_m).sum())
        d = rows[DISTANCE_M].to_numpy()
        assert np.all(np.diff(d) >= -0.05)  # nearest first (distances rounded to 0.1 m)
        burgled = rows[IS_BURGLED].to_numpy()
        assert burgled.sum() <= 1 and (not burgled.any() or burgled[0])
        targets = rows[~burgled]
        assert targets["order"].tolist() == list(range(1, len(targets) + 1))
        assert targets[MANDATORY].sum() == min(nearest, len(targets))
        assert not rows.loc[rows[IS_BURGLED], MANDATORY].any()
        assert set(rows[DISTANCE_BAND]) <= {
            "0-100",
            "100-200",
            f"200-{radius_m:g}",
            f"100-{radius_m:g}",
        }


# ---------------------------------------------------------------- lists for the doors


@pytest.mark.parametrize(
    ("numbers", "bridge", "text"),
    [
        ([1, 3, 5, 7, 2, 4, 6, 15, 20, 22], (), "odd 1\u20137, 15; even 2\u20136, 20\u201322"),
        ([1, 3, 7, 9], (5,), "odd 1\u20139"),  # 5 is mandatory: listed on its own row
        ([1, 3, 7, 9], (11,), "odd 1\u20133, 7\u20139"),  # a bridge never ends a run
        ([4], (), "even 4"),
        (list(range(1, 60, 4)), (), "odd 1, 5, 9, 13, 17, 21, +9 more"),
    ],
)
def test_house_ranges_by_hand(numbers, bridge, text):
    from hotspots.cocoon.lists import house_ranges

    assert house_ranges(numbers, bridge=bridge) == text


def _door_visits(addresses, streets, mandatory, **extra):
    n = len(addresses)
    return pd.DataFrame(
        {
            "zone_id": extra.get("zones", ["Z1"] * n),
            "address": addresses,
            "street": streets,
            "distance_m": [10.0 * (i + 1) for i in range(n)],
            "order": pd.array(range(1, n + 1), dtype="Int64"),
            "mandatory": mandatory,
            "is_burgled_address": extra.get("burgled", [False] * n),
        }
    )


def test_door_groups_by_hand():
    from hotspots.cocoon import lists

    visits = _door_visits(
        [
            "1 Victim Rd",
            "3 Elm Rd",
            "5 Elm Rd",
            "7 Elm Rd",
            "9 Elm Rd",
            "2 Ash Way",
            "Rose Cottage",
        ],
        ["Victim Rd", "Elm Rd", "Elm Rd", "Elm Rd", "Elm Rd", "Ash Way", None],
        [False, True, False, False, False, False, False],
        burgled=[True, False, False, False, False, False, False],
    )
    got = lists.door_groups(visits)
    assert got[["kind", "address", "numbers", "count"]].values.tolist() == [
        ["mandatory", "3 Elm Rd", "", 1],
        ["group", "Elm Rd", "odd 5\u20139", 3],  # nearest at 30 m
        ["group", "Ash Way", "even 2", 1],
        ["group", "(street unknown)", "Rose Cottage", 1],
    ]
    assert got["nearest_m"].tolist() == pytest.approx([20.0, 30.0, 60.0, 70.0])
    assert "1 Victim Rd" not in got["address"].tolist()
    full = lists.door_groups(visits, detail=True)
    assert full["address"].tolist() == [
        "3 Elm Rd", "5 Elm Rd", "7 Elm Rd", "9 Elm Rd", "2 Ash Way", "Rose Cottage"
    ]  # fmt: skip


def test_door_groups_postcode_units_by_sector():
    from hotspots.cocoon import lists

    units = ["SS16 5NL", "SS165NP", "SS16 5NA", "SS13 1AB", "SS16 5GX"]
    visits = _door_visits(units, [None] * 5, [True, False, False, False, False])
    assert lists.address_unit(visits) == "postcode units"
    got = lists.door_groups(visits)
    assert got[["address", "numbers", "count"]].values.tolist() == [
        ["SS16 5NL", "", 1],
        ["SS16 5", "5GX, 5NA, 5NP", 3],
        ["SS13 1", "1AB", 1],
    ]
    assert lists.address_unit(visits.assign(address=["1 A Rd"] + units[1:])) == "homes"


def test_door_groups_rejects_an_unknown_unit():
    from hotspots.cocoon import lists
    from hotspots.errors import OptionError

    with pytest.raises(OptionError, match=r"unit must be one of \('auto', 'homes'"):
        lists.door_groups(_door_visits(["1 A Rd"], ["A Rd"], [True]), unit="flats")
