"""Per-activity patrol dosage where the plan and the log meet in the same week.

Each table is checked against an independent count: a plain pandas groupby of the raw
log CSV and the plan CSV, the log's visits given their spot by geopandas' own nearest
join, never by the code under test.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.cli import main
from hotspots.schema import AREA_NAME, RANK, SPOT_ID
from hotspots.spots import (
    dosage_sentence,
    patrol_dosage,
    patrol_plan,
    patrol_summary,
    read_patrols,
    weekly_dosage,
)
from hotspots.spots._patrol import ALL_SPOTS, DOSAGE_COLUMNS, NO_SPOT

AS_OF = pd.Timestamp("2025-07-06 23:59", tz="Europe/London")  # the Sunday ending the week
COUNTS = ["planned_visits", "planned_minutes", "delivered_visits", "delivered_minutes"]


def two_spots() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {SPOT_ID: ["A", "B"], RANK: [1, 2], AREA_NAME: ["West", "East"]},
        geometry=[shapely.box(0, 0, 150, 150), shapely.box(1000, 0, 1150, 150)],
        crs=27700,
    )


# two spots, three activities, one visit outside every spot; by hand, week of 30 June:
#   A patrol: 2 visits, 35 min, 3 interactions; A stop search: 1, 10 min, 1
#   B patrol: 1 visit, 15 min, 0;  B business check: 1, 20 min, 2  (B's rows by x/y)
#   (no spot) patrol: 1, 12 min, 4 (400 m from both spots)
#   week of 7 July: A patrol 1 visit, 15 min, 1
LOG = (
    "time,spot_id,easting,northing,minutes,activity,interactions\n"
    "2025-06-30 20:00,A,,,20,patrol,2\n"
    "2025-07-02 21:30,A,,,15,patrol,1\n"
    "2025-07-03 22:00,,75,75,10,stop search,1\n"
    "2025-07-01 19:00,,1170,75,15,patrol,0\n"  # 20 m east of B
    "2025-07-05 13:00,B,,,20,business check,2\n"
    "2025-07-04 23:00,,500,75,12,patrol,4\n"  # 350 m from A, 500 m from B: no spot
    "2025-07-08 20:00,A,,,15,patrol,1\n"
)


@pytest.fixture
def hand(tmp_path) -> tuple[pd.DataFrame, Path, Path]:
    plan = patrol_plan(two_spots(), today="2025-06-29", as_of=AS_OF, seed=1)
    plan_path = tmp_path / "patrol_plan.csv"
    plan.to_csv(plan_path, index=False)
    log_path = tmp_path / "patrols.csv"
    log_path.write_text(LOG, encoding="utf-8")
    return plan, plan_path, log_path


def test_hand_worked_week(hand):
    plan, _, log_path = hand
    log, rejected = read_patrols(log_path, today="2025-07-10")
    assert len(rejected) == 0
    table = patrol_dosage(plan, log, two_spots(), match_m=50)
    assert list(table.columns) == list(DOSAGE_COLUMNS)
    week = table[table["week_start"] == "2025-06-30"].set_index([SPOT_ID, "activity"])
    assert week.loc[("A", "patrol"), [*COUNTS, "interactions"]].tolist() == [7, 105, 2, 35, 3]
    assert week.loc[("A", "stop search"), [*COUNTS, "interactions"]].tolist() == [0, 0, 1, 10, 1]
    assert week.loc[("B", "patrol"), [*COUNTS, "interactions"]].tolist() == [7, 105, 1, 15, 0]
    assert week.loc[("B", "business check"), "interactions"] == 2
    assert week.loc[(NO_SPOT, "patrol"), ["delivered_visits", "interactions"]].tolist() == [1, 4]
    total = week.loc[ALL_SPOTS]
    assert total["interactions"].sum() == 3 + 1 + 0 + 2  # the no-spot visit is not counted
    assert total.loc["patrol", "planned_visits"] == 14
    assert week.loc[("A", "patrol"), "week_end"] == "2025-07-06"
    later = table[table["week_start"] == "2025-07-07"].set_index([SPOT_ID, "activity"])
    assert later.loc[("A", "patrol"), ["planned_visits", "delivered_visits"]].tolist() == [0, 1]
    figures = weekly_dosage(table, as_of=AS_OF)  # the week of 7 July is not over yet
    assert figures["week_start"] == "2025-06-30" and figures["interactions"] == 6
    assert figures["interactions_by_activity"] == {
        "business check": 2,
        "patrol": 3,
        "stop search": 1,
    }
    assert figures["no_spot_interactions"] == 4
    assert dosage_sentence(figures).startswith(
        "Week Mon 30 Jun to Sun 06 Jul 2025: 6 interactions in harm spots; 5 visits, 80 min "
        "delivered against 14 visits, 210 min planned."
    )


def test_hand_worked_equals_independent_groupby(hand):
    plan, plan_path, log_path = hand
    log, _ = read_patrols(log_path, today="2025-07-10")
    table = patrol_dosage(plan, log, two_spots(), match_m=50)
    assert_equals_independent(table, plan_path, log_path, two_spots(), time_col="time")


def test_summary_is_the_dosage_summed_over_activities(hand):
    plan, _, log_path = hand
    log, _ = read_patrols(log_path, today="2025-07-10")
    dosage = patrol_dosage(plan, log, two_spots())
    summary = patrol_summary(plan, log, two_spots())
    per_spot = dosage[dosage[SPOT_ID] != ALL_SPOTS]
    sums = per_spot.groupby([SPOT_ID, "week_start"])[["delivered_visits", "interactions"]].sum()
    got = summary.set_index([SPOT_ID, "week_start"])[["visits", "interactions"]]
    assert got.sort_index().to_numpy().tolist() == sums.sort_index().to_numpy().tolist()


def test_plan_with_its_own_activity(hand):
    plan, _, log_path = hand
    log, _ = read_patrols(log_path, today="2025-07-10")
    own = plan.assign(activity=np.where(plan[SPOT_ID] == "B", "business check", "patrol"))
    table = patrol_dosage(own, log, two_spots()).set_index([SPOT_ID, "week_start", "activity"])
    assert table.loc[("B", "2025-06-30", "business check"), "planned_visits"] == 7
    assert table.loc[("B", "2025-06-30", "patrol"), "planned_visits"] == 0


def test_no_log_no_figures():
    assert weekly_dosage(None, as_of=AS_OF) is None
    assert dosage_sentence(None) == ""


def assert_equals_independent(
    table: pd.DataFrame,
    plan_path: Path,
    log_path: Path,
    spots: gpd.GeoDataFrame,
    *,
    time_col: str,
    x_col: str = "easting",
    y_col: str = "northing",
    match_m: float = 50.0,
) -> None:
    """``table`` equals a plain groupby of the raw CSVs (spots by sjoin_nearest)."""
    plan = pd.read_csv(plan_path, dtype={SPOT_ID: str})
    plan = plan[plan["patrol"].astype(str) == "True"]
    day0 = pd.Timestamp(plan["date"].min())
    plan = plan.assign(
        week=(pd.to_datetime(plan["date"]) - day0).dt.days // 7,
        activity="patrol",
    )
    planned = plan.groupby([SPOT_ID, "week", "activity"]).agg(
        planned_visits=("minutes", "size"), planned_minutes=("minutes", "sum")
    )
    raw = pd.read_csv(log_path, encoding="utf-8-sig", dtype={SPOT_ID: str, "patrol_id": str})
    when = pd.to_datetime(raw[time_col], format="ISO8601")
    when = when.dt.tz_localize("Europe/London") if when.dt.tz is None else when
    local = when.dt.tz_convert("Europe/London").dt.tz_localize(None).dt.normalize()
    spot = raw[SPOT_ID].fillna("") if SPOT_ID in raw else pd.Series("", index=raw.index)
    need = ~spot.isin(set(spots[SPOT_ID].astype(str)) | set(plan[SPOT_ID]))
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(raw.loc[need, x_col], raw.loc[need, y_col]),
        index=raw.index[need],
        crs=spots.crs,
    )
    near = gpd.sjoin_nearest(pts, spots[[SPOT_ID, RANK, "geometry"]], max_distance=match_m)
    near = near.sort_values(RANK, kind="stable")  # a tie (shared edge): the higher rank
    near = near[~near.index.duplicated(keep="first")]
    spot = spot.where(~need, NO_SPOT)
    spot.loc[near.index] = near[SPOT_ID].astype(str)
    log = raw.assign(spot_id=spot, week=(local - day0).dt.days // 7)
    delivered = log.groupby([SPOT_ID, "week", "activity"]).agg(
        delivered_visits=("minutes", "size"),
        delivered_minutes=("minutes", "sum"),
        interactions=("interactions", "sum"),
    )
    expected = planned.join(delivered, how="outer").fillna(0).reset_index()
    expected["week_start"] = (day0 + pd.to_timedelta(expected["week"] * 7, unit="D")).dt.strftime(
        "%Y-%m-%d"
    )
    cols = [*COUNTS, "interactions"]
    got = table[table[SPOT_ID] != ALL_SPOTS].set_index([SPOT_ID, "week_start", "activity"])[cols]
    want = expected.set_index([SPOT_ID, "week_start", "activity"])[cols]
    pd.testing.assert_frame_equal(
        got.sort_index().astype("float64"), want.sort_index().astype("float64")
    )
    totals = expected[expected[SPOT_ID] != NO_SPOT].groupby(["week_start", "activity"])[cols].sum()
    got_totals = table[table[SPOT_ID] == ALL_SPOTS].set_index(["week_start", "activity"])[cols]
    pd.testing.assert_frame_equal(
        got_totals.sort_index().astype("float64"), totals.sort_index().astype("float64")
    )


def run(args: list[str], capsys) -> tuple[str, str]:
    """The command run in process; it must succeed. Its stdout and stderr apart."""
    try:
        main(args)
    except SystemExit as exc:
        assert not exc.code, capsys.readouterr()
    captured = capsys.readouterr()
    return captured.out, captured.err


@pytest.mark.slow
def test_demo_plan_and_log_meet_and_equal_an_independent_count(tmp_path, capsys):
    """The demo's previous run plans the log's week; the dosage equals a plain count."""
    from hotspots.demo import generate_town, previous_week

    data = tmp_path / "demo"
    run(["demo", "--out", str(data), "--homes", "2000", "--data-only"], capsys)
    files = data / "data"
    last_week = previous_week(generate_town(n_homes=2_000))
    common = [
        str(files / "incidents.csv"),
        "--areas",
        str(files / "districts.geojson"),
        "--area-field",
        "area",
    ]
    out = tmp_path / "run"
    run(
        ["spots", *common, "--out", str(out), "--as-of", last_week["as_of"],
         "--today", last_week["today"], "--plan-start", last_week["plan_start"]],
        capsys,
    )  # fmt: skip
    plan_path = shutil.copy(out / "patrol_plan.csv", tmp_path / "last_week_plan.csv")
    run(
        ["spots", *common, "--out", str(out), "--as-of", "2026-11-22",
         "--patrols", str(files / "patrols.csv")],
        capsys,
    )  # fmt: skip
    table = pd.read_csv(out / "patrol_dosage.csv", encoding="utf-8-sig", dtype={SPOT_ID: str})
    spots = gpd.read_file(out / "harm_spots.geojson").to_crs(27700)
    # the WGS84 round trip moves corners by micrometres: snap them back to the 150 m grid
    spots = spots.set_geometry(shapely.set_precision(spots.geometry.to_numpy(), 0.01))
    assert_equals_independent(table, Path(plan_path), files / "patrols.csv", spots,
                              time_col="started_at")  # fmt: skip
    week = table[(table[SPOT_ID] == ALL_SPOTS) & (table["week_start"] == last_week["plan_start"])]
    assert week["planned_visits"].sum() > 0 and week["delivered_visits"].sum() > 0
    assert week["interactions"].sum() > 0


@pytest.mark.slow
def test_demo_briefing_and_map_show_the_week(tmp_path, capsys):
    out = tmp_path / "demo"
    printed, errors = run(["demo", "--out", str(out), "--homes", "2000", "--json"], capsys)
    payload = json.loads(printed)  # --json: one JSON document and nothing else
    assert errors == "" and payload["out_dir"] == str(out)
    assert payload["summary"] == json.loads((out / "run.json").read_text())["summary"]
    table = pd.read_csv(out / "patrol_dosage.csv", encoding="utf-8-sig")
    total = table[(table[SPOT_ID] == ALL_SPOTS) & (table["week_start"] == "2026-11-16")]
    assert total["planned_visits"].sum() > 0 and total["delivered_visits"].sum() > 0
    line = f"Week Mon 16 Nov to Sun 22 Nov 2026: {total['interactions'].sum():,} interactions"
    assert line in (out / "briefing.html").read_text(encoding="utf-8")
    assert line in (out / "map.html").read_text(encoding="utf-8")
    assert payload["summary"]["patrol_dosage"]["text"].startswith(line)
    from hotspots.cli.cmd_weekly import weekly_summary_lines

    shown = weekly_summary_lines(payload["summary"])  # what the console prints without --json
    assert any(t.startswith(f"Patrol dosage: {line}") for t in shown), shown
