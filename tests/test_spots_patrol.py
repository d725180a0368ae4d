"""Patrol plan (seeded, inside peak windows, crossover), patrol logs and delivery summary."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from hotspots.errors import InputError, SchemaError
from hotspots.schema import AREA_NAME, PEAK_WINDOWS, RANK, SPOT_ID
from hotspots.spots import patrol_plan, patrol_summary, read_patrols
from hotspots.spots._profile import name_window, parse_windows, peak_windows

AS_OF = pd.Timestamp("2025-06-29", tz="Europe/London")  # a Sunday: the plan runs Mon-Sun


def spots_fixture() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            SPOT_ID: ["A", "B", "C"],
            RANK: [1, 2, 3],
            AREA_NAME: ["West", "East", "West"],
            PEAK_WINDOWS: ["Fri-Sat 22:00-02:00; Sat 14:00-18:00", "", "Tue 08:00-12:00"],
        },
        geometry=[
            shapely.box(0, 0, 150, 150),
            shapely.box(1000, 0, 1150, 150),
            shapely.box(0, 1000, 150, 1150),
        ],
        crs=27700,
    )


def test_plan_is_one_visit_per_spot_per_day_inside_windows():
    plan = patrol_plan(spots_fixture(), as_of=AS_OF, visit_minutes=15, seed=3)
    assert len(plan) == 21
    assert plan.groupby(SPOT_ID)["date"].nunique().tolist() == [7, 7, 7]
    assert plan["date"].min() == "2025-06-30" and plan["date"].max() == "2025-07-06"
    assert (plan["end"] - plan["start"] == pd.Timedelta(minutes=15)).all()
    assert plan["patrol"].all() and set(plan["seed"]) == {3}
    for _, visit in plan.iterrows():  # 21 rows: checking each by hand is the point
        start = visit["start"]
        minutes = start.hour * 60 + start.minute
        if visit[SPOT_ID] == "B":  # no peak windows: default evening 18:00-23:00
            assert 18 * 60 <= minutes <= 23 * 60 - 15
            assert visit["window"] == "default 18:00-23:00"
        elif visit[SPOT_ID] == "C":  # Tue 08-12 is used (its hours on other days too)
            assert 8 * 60 <= minutes <= 12 * 60 - 15
        else:
            in_night = minutes >= 22 * 60 or minutes <= 2 * 60 - 15
            in_afternoon = 14 * 60 <= minutes <= 18 * 60 - 15
            assert in_night or in_afternoon
            if start.day_of_week == 5:  # Saturday uses a window that starts on Saturday
                assert in_afternoon and visit["window"] == "peak 14:00-18:00"


def test_plan_is_seeded():
    a = patrol_plan(spots_fixture(), as_of=AS_OF, seed=1)
    b = patrol_plan(spots_fixture(), as_of=AS_OF, seed=1)
    c = patrol_plan(spots_fixture(), as_of=AS_OF, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert not a["start"].equals(c["start"])


def test_crossover_leaves_three_of_seven_days_per_spot():
    plan = patrol_plan(spots_fixture(), as_of=AS_OF, crossover=True, seed=5)
    assert plan.groupby(SPOT_ID)["patrol"].sum().tolist() == [4, 4, 4]
    other = patrol_plan(spots_fixture(), as_of=AS_OF, crossover=True, seed=6)
    assert not plan["patrol"].equals(other["patrol"])


def test_plan_for_no_spots_is_empty_with_columns():
    plan = patrol_plan(spots_fixture().iloc[:0], as_of=AS_OF)
    assert len(plan) == 0 and SPOT_ID in plan.columns and "patrol" in plan.columns


@pytest.mark.parametrize(
    ("start", "hours", "name"),
    [
        (0, 4, "Mon 00:00-04:00"),
        (4 * 24 + 22, 5, "Fri-Sat 22:00-03:00"),
        (6 * 24 + 23, 2, "Sun-Mon 23:00-01:00"),
        (2 * 24 + 20, 4, "Wed-Thu 20:00-00:00"),
    ],
)
def test_window_names_round_trip(start, hours, name):
    assert name_window(start, hours) == name
    day, hour, length = parse_windows(name)[0]
    assert (day * 24 + hour, length) == (start, hours)


def test_peak_windows_pick_the_busiest_non_overlapping_stretches():
    profile = [0.0] * 168
    profile[5 * 24 + 14] = 6.0  # Sat 14:00
    profile[5 * 24 + 15] = 6.0
    for h in (4 * 24 + 22, 4 * 24 + 23, 5 * 24 + 0, 5 * 24 + 1):
        profile[h] = 4.0
    assert peak_windows(profile) == ["Fri-Sat 22:00-02:00", "Sat 14:00-18:00"]
    assert peak_windows([0.0] * 168) == []


def write(tmp_path, text: str, name: str = "patrols.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_patrols_keeps_good_rows_and_rejects_bad_ones(tmp_path):
    path = write(
        tmp_path,
        "Time,Spot_ID,Minutes,Activity\n"
        "2025-06-30 20:10,A,15,patrol\n"
        "2025-06-30 21:00,A,-5,patrol\n"
        "yesterday,B,10,stop\n"
        "2025-07-01 19:00,,10,stop\n",
    )
    patrols, rejected = read_patrols(path)
    assert len(patrols) == 1 and patrols["minutes"].tolist() == [15]
    assert rejected["reason"].tolist() == ["bad_minutes", "unparseable_date", "no_location"]
    assert rejected["source_row"].tolist() == [2, 3, 4]
    assert "minutes must be a number >= 0" in rejected["detail"].iloc[0]


def test_read_patrols_names_missing_columns(tmp_path):
    with pytest.raises(SchemaError, match=r"needs column\(s\) \['minutes', 'spot_id or x/y'\]"):
        read_patrols(write(tmp_path, "time,officer\n2025-06-30 20:00,PC 1\n"))
    with pytest.raises(InputError, match="does not exist"):
        read_patrols(tmp_path / "nope.csv")


def test_patrol_summary_matches_by_id_and_by_location(tmp_path):
    spots = spots_fixture()
    plan = patrol_plan(spots, as_of=AS_OF, seed=0)
    path = write(
        tmp_path,
        "time,spot_id,easting,northing,minutes,activity,interactions\n"
        "2025-06-30 20:00,A,,,20,patrol,2\n"
        "2025-07-01 20:00,,1170,75,15,patrol,1\n"  # 20 m east of B
        "2025-07-01 21:00,,1300,75,15,patrol,0\n"  # 150 m away: no spot
        "2025-07-08 20:00,A,,,10,patrol,0\n",
    )  # the following week
    patrols, rejected = read_patrols(path)
    assert len(rejected) == 0
    table = patrol_summary(plan, patrols, spots, match_m=50)
    week1 = table[table["week_start"] == "2025-06-30"].set_index(SPOT_ID)
    assert week1.loc["A", ["visits", "minutes", "interactions"]].tolist() == [1, 20, 2]
    assert week1.loc["B", ["visits", "minutes", "interactions"]].tolist() == [1, 15, 1]
    assert week1.loc["C", "visits"] == 0
    assert week1.loc["A", "planned_minutes"] == 7 * 15
    assert week1.loc["A", "minutes_vs_plan"] == pytest.approx(20 / 105)
    assert week1.loc["(no spot)", "minutes"] == 15
    week2 = table[table["week_start"] == "2025-07-07"].set_index(SPOT_ID)
    assert week2.loc["A", ["planned_visits", "minutes"]].tolist() == [0, 10]


def test_patrol_summary_lonlat_log(tmp_path):
    spots = (
        spots_fixture()
        .set_geometry(spots_fixture().geometry.translate(600_000, 200_000))
        .set_crs(27700, allow_override=True)
    )
    plan = patrol_plan(spots, as_of=AS_OF)
    centre = gpd.GeoSeries([shapely.Point(600_075, 200_075)], crs=27700).to_crs(4326).iloc[0]
    path = write(
        tmp_path,
        f"time,longitude,latitude,minutes\n2025-06-30 20:00,{centre.x:.7f},{centre.y:.7f},12\n",
    )
    patrols, _ = read_patrols(path)
    table = patrol_summary(plan, patrols, spots)
    assert table.set_index(SPOT_ID).loc["A", "minutes"] == 12
