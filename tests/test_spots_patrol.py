"""Patrol plan (seeded, inside peak windows, crossover), patrol logs and delivery summary."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from hotspots.errors import InputError, OptionError, SchemaError
from hotspots.schema import AREA_NAME, PEAK_BY_DAY, PEAK_WINDOWS, RANK, SPOT_ID
from hotspots.spots import patrol_plan, patrol_summary, read_patrols
from hotspots.spots._patrol import TIMES_SET_LOCALLY, plan_start_of
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
    plan = patrol_plan(spots_fixture(), as_of=AS_OF, today=AS_OF, visit_minutes=15, seed=3)
    assert len(plan) == 21
    assert plan.groupby(SPOT_ID)["date"].nunique().tolist() == [7, 7, 7]
    assert plan["date"].min() == "2025-06-30" and plan["date"].max() == "2025-07-06"
    timed = plan[plan[SPOT_ID] != "B"]
    assert (timed["end"] - timed["start"] == pd.Timedelta(minutes=15)).all()
    assert plan["patrol"].all() and set(plan["seed"]) == {3}
    for _, visit in plan.iterrows():  # 21 rows: checking each by hand is the point
        start = visit["start"]
        if visit[SPOT_ID] == "B":  # no peak windows: spot and day only, no invented time
            assert pd.isna(start) and pd.isna(visit["end"])
            assert visit["window"] == TIMES_SET_LOCALLY
            continue
        minutes = start.hour * 60 + start.minute
        if visit[SPOT_ID] == "C":  # Tue 08-12 is used (its hours on other days too)
            assert 8 * 60 <= minutes <= 12 * 60 - 15
        else:
            in_night = minutes >= 22 * 60 or minutes <= 2 * 60 - 15
            in_afternoon = 14 * 60 <= minutes <= 18 * 60 - 15
            assert in_night or in_afternoon
            if start.day_of_week == 5:  # Saturday uses a window that starts on Saturday
                assert in_afternoon and visit["window"] == "peak 14:00-18:00"


def test_plan_start_is_the_monday_after_today_and_never_past():
    tz = "Europe/London"
    # Wed 7 Jan 2026 -> Mon 12 Jan; a Monday -> the Monday after; Sun -> the next day
    assert plan_start_of("2026-01-07", None, tz=tz) == pd.Timestamp("2026-01-12", tz=tz)
    assert plan_start_of("2026-01-12", None, tz=tz) == pd.Timestamp("2026-01-19", tz=tz)
    assert plan_start_of("2026-01-11", None, tz=tz) == pd.Timestamp("2026-01-12", tz=tz)
    with pytest.raises(OptionError, match="plan_start 2026-01-06 is in the past"):
        plan_start_of("2026-01-07", "2026-01-06", tz=tz)
    # the data ends 29 Jun 2025 but the run is on 2 Feb 2026: the plan is 9-15 Feb 2026
    plan = patrol_plan(spots_fixture(), as_of=AS_OF, today="2026-02-02")
    assert (plan["date"].min(), plan["date"].max()) == ("2026-02-09", "2026-02-15")
    plan = patrol_plan(spots_fixture(), as_of=AS_OF, today="2026-02-02", plan_start="2026-02-04")
    assert sorted(set(plan["date"])) == [f"2026-02-{d:02d}" for d in range(4, 11)]


def test_visit_times_come_from_that_weekday_window():
    spots = spots_fixture()
    spots[PEAK_BY_DAY] = ["Mon 20:00-00:00; Sat 14:00-18:00", "", ""]
    plan = patrol_plan(spots, as_of=AS_OF, today=AS_OF, seed=4)
    a = plan[plan[SPOT_ID] == "A"].set_index("date")
    mon, sat = a.loc["2025-06-30"], a.loc["2025-07-05"]
    assert 20 * 60 <= mon["start"].hour * 60 + mon["start"].minute <= 24 * 60 - 15
    assert mon["window"] == "peak 20:00-00:00"
    assert 14 * 60 <= sat["start"].hour * 60 + sat["start"].minute <= 18 * 60 - 15


def test_plan_is_seeded():
    a = patrol_plan(spots_fixture(), as_of=AS_OF, today=AS_OF, seed=1)
    b = patrol_plan(spots_fixture(), as_of=AS_OF, today=AS_OF, seed=1)
    c = patrol_plan(spots_fixture(), as_of=AS_OF, today=AS_OF, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert not a["start"].equals(c["start"])


def test_crossover_leaves_three_of_seven_days_per_spot():
    plan = patrol_plan(spots_fixture(), as_of=AS_OF, today=AS_OF, crossover=True, seed=5)
    assert plan.groupby(SPOT_ID)["patrol"].sum().tolist() == [4, 4, 4]
    other = patrol_plan(spots_fixture(), as_of=AS_OF, today=AS_OF, crossover=True, seed=6)
    assert not plan["patrol"].equals(other["patrol"])


def test_plan_for_no_spots_is_empty_with_columns():
    plan = patrol_plan(spots_fixture().iloc[:0], as_of=AS_OF, today=AS_OF)
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
    plan = patrol_plan(spots, as_of=AS_OF, today=AS_OF, seed=0)
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
    plan = patrol_plan(spots, as_of=AS_OF, today=AS_OF)
    centre = gpd.GeoSeries([shapely.Point(600_075, 200_075)], crs=27700).to_crs(4326).iloc[0]
    path = write(
        tmp_path,
        f"time,longitude,latitude,minutes\n2025-06-30 20:00,{centre.x:.7f},{centre.y:.7f},12\n",
    )
    patrols, _ = read_patrols(path)
    table = patrol_summary(plan, patrols, spots)
    assert table.set_index(SPOT_ID).loc["A", "minutes"] == 12


@pytest.mark.slow
def test_demo_visits_start_inside_that_weekday_peak():
    """On the demo town, >= 95% of planned visits start inside the busiest 4-hour window
    of that weekday in the spot's own harm profile (checked here from the incidents)."""
    import numpy as np

    from hotspots.demo import generate_town
    from hotspots.harm import apply_harm, load_harm_table
    from hotspots.spots import find_spots
    from hotspots.spots._units import unit_ids_of_points

    town = generate_town(n_homes=2_000, years=1)
    weighted = apply_harm(town.incidents, load_harm_table())
    result = find_spots(weighted, top=10, as_of=town.as_of)
    plan = patrol_plan(result.spots, as_of=town.as_of, today="2026-01-07", seed=0)
    assert plan["date"].min() == "2026-01-12"  # the Monday after today
    # independent oracle: each spot's 168-hour harm profile from its window's incidents
    window = weighted[
        (weighted["occurred_at"] > town.as_of - pd.Timedelta(days=365))
        & (weighted["occurred_at"] <= town.as_of)
        & weighted["offence"].isin(result.parameters["offences"])
    ]
    xy = window.get_coordinates().to_numpy()
    ids = unit_ids_of_points(xy[:, 0], xy[:, 1], method="grid", cell_m=150.0, crs=window.crs)
    how = (window["occurred_at"].dt.day_of_week * 24 + window["occurred_at"].dt.hour).to_numpy()
    timed = plan[plan["start"].notna()]
    assert len(timed) == len(plan)  # exact demo times: every visit has a time
    inside = 0
    for _, visit in timed.iterrows():
        mine = ids == visit[SPOT_ID]
        prof = np.bincount(how[mine], weights=window["harm"].to_numpy()[mine], minlength=168)
        idx = (np.arange(168)[:, None] + np.arange(4)[None, :]) % 168
        sums = prof[idx].sum(axis=1)
        day = pd.Timestamp(visit["date"]).day_of_week  # the plan day (a visit may be after 0:00)
        starts = np.arange(day * 24, day * 24 + 24)
        best = starts[np.isclose(sums[starts], sums[starts].max())]
        v_how = visit["start"].day_of_week * 24 + visit["start"].hour
        ok = any((v_how - b) % 168 < 4 for b in best)
        inside += ok
    assert inside / len(timed) >= 0.95, inside / len(timed)
