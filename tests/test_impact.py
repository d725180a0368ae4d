"""WDD (Wheeler & Ratcliffe 2018): the published worked example, harm weighting, a synthetic
intervention in the demo town (detected) and a placebo (not), crossover spot-days, the CLI.
"""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from tests.conftest import run_cli

from hotspots.demo import generate_town
from hotspots.errors import EmptyWindowError, OptionError, TimeResolutionError
from hotspots.harm import apply_harm, load_harm_table
from hotspots.impact import crossover_effect, evaluate_impact, impact_areas, wdd, wdd_from_sums
from hotspots.schema import HARM, OCCURRED_AT, OFFENCE, SPOT_ID, TIME_RESOLUTION

# ---------------------------------------------------------------- the statistic


def test_reproduces_the_papers_worked_example():
    # Wheeler & Ratcliffe (2018), Crime Science 7:11: treated 207 -> 110, control 308 -> 318,
    # displacement 178 -> 157, displacement control 150 -> 140. Published: WDD = -118,
    # variance 1568, z = -2.98, 95% CI -196 to -40 (also pinned in Wheeler's ptools tests).
    r = wdd((207, 110), (308, 318), displacement=(178, 157), displacement_control=(150, 140))
    assert r.wdd == pytest.approx(-118.0)
    assert r.se**2 == pytest.approx(1568.0)
    assert round(r.z, 2) == -2.98
    assert (round(r.ci_low), round(r.ci_high)) == (-196, -40)
    assert r.local == pytest.approx((110 - 207) - (318 - 308))
    assert r.displacement == pytest.approx((157 - 178) - (140 - 150))
    assert r.p_value == pytest.approx(2 * 0.5 * math.erfc(2.98 / math.sqrt(2)), abs=2e-4)


def test_time_weights_for_a_longer_before_window():
    # Wheeler (2021) "different pre/post time periods": before twice as long.
    # treated 80/2 -> 20, control 100/2 -> 50: WDD = -20 - 0; var = 80/4 + 20 + 100/4 + 50 = 115
    r = wdd((80, 20), (100, 50), time_weights=(2, 1))
    assert r.wdd == pytest.approx(-20.0)
    assert r.se == pytest.approx(math.sqrt(115))


def test_area_weights_match_the_published_figures():
    # Wheeler (2021) "different area sizes" (ptools test): weights control .9, treated 1.2,
    # displacement control 1.6, displacement 1.5
    r = wdd((207, 110), (308, 318), displacement=(178, 157), displacement_control=(150, 140),
            area_weights=(0.9, 1.2, 1.6, 1.5))  # fmt: skip
    assert r.wdd == pytest.approx(-99.69444444)
    assert r.se == pytest.approx(35.4280755)
    assert r.z == pytest.approx(-2.813995483)
    assert (r.ci_low, r.ci_high) == (pytest.approx(-169.1321965), pytest.approx(-30.25669241))


def test_harm_form_equals_harm_weighted_sum_of_category_tests():
    # three categories, harm 10, 5, 1 (the ptools wdd_harm example): robbery treated 20->10,
    # control 20->20; burglary 25->20, 30->30; theft 70->20, 80->60
    per = {"rob": ((20, 10), (20, 20), 10), "burg": ((25, 20), (30, 30), 5),
           "theft": ((70, 20), (80, 60), 1)}  # fmt: skip
    sums = {"treated": [0.0, 0.0], "control": [0.0, 0.0]}
    sq = {"treated": [0.0, 0.0], "control": [0.0, 0.0]}
    for treated, control, w in per.values():
        for role, pair in (("treated", treated), ("control", control)):
            for k in (0, 1):
                sums[role][k] += w * pair[k]
                sq[role][k] += w * w * pair[k]
    r = wdd_from_sums({k: tuple(v) for k, v in sums.items()}, {k: tuple(v) for k, v in sq.items()})
    # hand: -10*10 + -5*5 + -30*1 = -155; var = 100*70 + 25*105 + 1*230 = 9855
    assert r.wdd == pytest.approx(-155.0)
    assert r.se**2 == pytest.approx(9855.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"treated": (1, 2, 3), "control": (1, 1)}, r"treated counts must be \(before, after\)"),
        ({"treated": (-1, 2), "control": (1, 1)}, "non-negative"),
        ({"treated": (1, 2), "control": (1, 1), "alpha": 1.5}, "alpha must be between 0 and 1"),
    ],
)
def test_bad_counts_are_one_line_errors(kwargs, match):
    with pytest.raises(OptionError, match=match):
        wdd(**kwargs)


# ---------------------------------------------------------------- areas and incidents


def test_areas_ring_buffer_and_control():
    treated = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 100)], crs=27700)
    areas = impact_areas(treated, buffer_m=50, control_ring_m=100).set_index("role")
    assert areas.loc["treated", "area_km2"] == pytest.approx(0.01)
    ring = shapely.area(shapely.buffer(shapely.box(0, 0, 100, 100), 50)) / 1e6 - 0.01
    assert areas.loc["displacement", "area_km2"] == pytest.approx(ring, abs=1e-4)
    assert not areas.loc["control", "geometry"].intersects(shapely.box(10, 10, 90, 90))


def _points(rows):
    """(x, y, YYYY-MM-DD, offence) rows as exact-dated incidents in metres."""
    return gpd.GeoDataFrame(
        {OCCURRED_AT: pd.to_datetime([r[2] for r in rows]).tz_localize("Europe/London"),
         OFFENCE: [r[3] for r in rows], TIME_RESOLUTION: "exact"},
        geometry=gpd.points_from_xy([r[0] for r in rows], [r[1] for r in rows]), crs=27700,
    )  # fmt: skip


def test_evaluate_counts_each_area_and_window_by_hand():
    treated = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 100)], crs=27700)
    areas = impact_areas(treated, buffer_m=50, control_ring_m=200)
    rows = [(50, 50, "2025-01-10", "Robbery")] * 4 + [(50, 50, "2025-03-10", "Robbery")]
    rows += [(120, 50, "2025-01-10", "Robbery"), (120, 50, "2025-03-10", "Robbery")]  # ring
    rows += [(250, 50, "2025-01-20", "Robbery")] * 3 + [(250, 50, "2025-03-20", "Robbery")] * 3
    rows += [(50, 50, "2024-01-01", "Robbery")]  # outside both windows
    inc = _points(rows)
    r = evaluate_impact(inc, areas=areas, start="2025-02-01", before_days=31, after_days=59)
    c = r.counts.set_index("role")
    assert c.loc["treated", ["count_before", "count_after"]].tolist() == [4, 1]
    assert c.loc["displacement", ["count_before", "count_after"]].tolist() == [1, 1]
    assert c.loc["control", ["count_before", "count_after"]].tolist() == [3, 3]
    tw = 31 / 59  # before is shorter: before counts are scaled up to the after length
    assert r.count_test.local == pytest.approx((1 - 4 / tw) - (3 - 3 / tw))
    assert r.harm_test is None  # no harm column
    assert r.windows == {"before": "2025-01-01 to 2025-01-31", "after": "2025-02-01 to 2025-03-31"}


def test_month_data_needs_a_first_of_month_start():
    inc = _points([(50, 50, "2025-01-01", "Robbery")]).assign(**{TIME_RESOLUTION: "month"})
    areas = impact_areas(gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 100)], crs=27700))
    with pytest.raises(TimeResolutionError, match="mid-month.*start on the 1st"):
        evaluate_impact(inc, areas=areas, start="2025-01-15")


def test_nothing_in_the_treated_area_is_an_error():
    inc = _points([(5000, 50, "2025-01-01", "Robbery")])
    areas = impact_areas(gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 100)], crs=27700))
    with pytest.raises(EmptyWindowError, match="No incident in the treated area"):
        evaluate_impact(inc, areas=areas, start="2025-01-15", before_days=30, after_days=30)


# ---------------------------------------------------------------- the demo town


@pytest.fixture(scope="module")
def town():
    t = generate_town(n_homes=2000)
    return t, apply_harm(t.incidents, load_harm_table())


def _disc(town, i: int, radius_m: float = 400.0) -> gpd.GeoDataFrame:
    centre = town.districts.geometry.representative_point().iloc[i]
    return gpd.GeoDataFrame(geometry=[centre.buffer(radius_m)], crs=27700)


START = pd.Timestamp("2025-11-23")


def _inject(incidents, treated, *, drop_share, seed):
    """Remove a seeded ``drop_share`` of the incidents inside ``treated`` from START on."""
    rng = np.random.default_rng(seed)
    inside = incidents.geometry.within(treated.geometry.iloc[0]).to_numpy()
    after = (incidents[OCCURRED_AT] >= START.tz_localize("Europe/London")).to_numpy()
    drop = inside & after & (rng.random(len(incidents)) < drop_share)
    return incidents[~drop], int(drop.sum())


def test_a_synthetic_intervention_is_detected_and_a_placebo_is_not(town):
    t, weighted = town
    treated, placebo, control = _disc(t, 2), _disc(t, 1), _disc(t, 3)
    reduced, n_dropped = _inject(weighted, treated, drop_share=0.4, seed=11)
    assert n_dropped > 150
    areas = impact_areas(treated, buffer_m=200, control=control)
    hit = evaluate_impact(reduced, areas=areas, start=START)
    assert hit.count_test.z < -1.96 and hit.count_test.ci_high < 0
    assert hit.harm_test is not None and hit.harm_test.z < -1.96
    assert hit.count_test.local == pytest.approx(
        hit.counts.set_index("role").pipe(
            lambda c: (
                (c.loc["treated", "count_after"] - c.loc["treated", "count_before"])
                - (c.loc["control", "count_after"] - c.loc["control", "count_before"])
            )
        )
    )
    # the placebo disc got nothing: its WDD is not significant
    placebo_areas = impact_areas(placebo, buffer_m=200, control=control)
    miss = evaluate_impact(reduced, areas=placebo_areas, start=START)
    assert abs(miss.count_test.z) < 1.96 and miss.count_test.ci_low < 0 < miss.count_test.ci_high
    assert abs(miss.harm_test.z) < 1.96


# ---------------------------------------------------------------- crossover


def test_crossover_compares_patrolled_and_unpatrolled_spot_days():
    spots = gpd.GeoDataFrame({SPOT_ID: ["A", "B"]},
                             geometry=[shapely.box(0, 0, 100, 100), shapely.box(200, 0, 300, 100)],
                             crs=27700)  # fmt: skip
    days = [f"2025-03-0{d}" for d in range(1, 5)]
    patrol = [True, False, True, False, False, True, True, False]
    plan = pd.DataFrame({SPOT_ID: ["A"] * 4 + ["B"] * 4, "date": days * 2, "patrol": patrol})
    # A: 1 crime on a patrolled day (03-01), 3 on unpatrolled (03-02); B: 2 on unpatrolled 03-04
    rows = [(50, 50, "2025-03-01 10:00", "Robbery")] + [(50, 50, "2025-03-02 22:00", "Robbery")] * 3
    rows += [(250, 50, "2025-03-04 12:00", "Robbery")] * 2 + [
        (900, 900, "2025-03-01 09:00", "Robbery")
    ]
    inc = _points(rows).assign(**{HARM: 2.0})
    r = crossover_effect(plan, inc, spots)
    assert (r.patrolled_days, r.unpatrolled_days) == (4, 4)
    assert (r.crimes_patrolled, r.crimes_unpatrolled) == (1, 5)
    assert r.rate_ratio == pytest.approx(0.2)
    # exact binomial: P(X <= 1 | n=6, p=.5) * 2 = 2 * 7/64
    assert r.p_value == pytest.approx(14 / 64)
    assert r.harm_unpatrolled == pytest.approx(10.0)
    with pytest.raises(TimeResolutionError, match="dated to the day"):
        crossover_effect(plan, inc.assign(**{TIME_RESOLUTION: "month"}), spots)


# ---------------------------------------------------------------- command line


def test_impact_command_on_the_demo_town(town, tmp_path, capsys):
    t, _ = town
    incidents = tmp_path / "demo.parquet"
    t.incidents.to_parquet(incidents)
    treated = tmp_path / "treated.geojson"
    _disc(t, 2).to_crs(4326).to_file(treated, driver="GeoJSON")
    out = tmp_path / "out"
    code, text = run_cli(["impact", str(incidents), "--treated", str(treated), "--start",
                      "2025-11-23", "--out", str(out)], capsys)  # fmt: skip
    assert code == 0, text
    assert "WDD" in text and "z " in text
    table = pd.read_csv(out / "wdd.csv", encoding="utf-8-sig")
    assert table["measure"].tolist() == ["count", "harm (cchi-2026-police-uk)"]
    meta = json.loads((out / "impact_areas.geojson").read_text(encoding="utf-8"))["metadata"]
    assert meta["windows"]["after"] == "2025-11-23 to 2026-11-22"


def test_impact_command_needs_a_start(tmp_path, capsys):
    code, text = run_cli(["impact", str(tmp_path), "--treated", str(tmp_path / "t.geojson"),
                      "--out", str(tmp_path / "o")], capsys)  # fmt: skip
    assert code == 1
    assert "--treated needs --start" in text


def test_area_weights_scale_each_area_to_the_treated_size():
    # treated 100 x 100 m (0.01 km2); control ring 0.04 km2 worth of counts scaled by 1/4
    treated = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 100)], crs=27700)
    control = gpd.GeoDataFrame(geometry=[shapely.box(1000, 0, 1200, 200)], crs=27700)
    areas = impact_areas(treated, control=control)
    rows = [(50, 50, "2025-01-10", "Robbery")] * 6 + [(50, 50, "2025-02-10", "Robbery")] * 2
    rows += [(1100, 100, "2025-01-10", "Robbery")] * 8 + [(1100, 100, "2025-02-10", "Robbery")] * 16
    inc = _points(rows)
    r = evaluate_impact(inc, areas=areas, start="2025-02-01", before_days=31, after_days=31,
                        area_weighted=True)  # fmt: skip
    # local = (2 - 6) - (16 - 8) / 4 = -6; var = 6 + 2 + (8 + 16) / 16 = 9.5
    assert r.count_test.local == pytest.approx(-6.0)
    assert r.count_test.se**2 == pytest.approx(9.5)
    raw = evaluate_impact(inc, areas=areas, start="2025-02-01", before_days=31, after_days=31)
    assert raw.count_test.local == pytest.approx(-12.0)


def test_impact_command_selects_spots_by_id(tmp_path, capsys):
    spots = gpd.GeoDataFrame(
        {SPOT_ID: ["S1", "S2"]},
        geometry=[shapely.box(570_000, 200_000, 570_150, 200_150),
                  shapely.box(571_000, 200_000, 571_150, 200_150)],
        crs=27700,
    )  # fmt: skip
    path = tmp_path / "harm_spots.geojson"
    spots.to_crs(4326).to_file(path)
    rows = [(570_050, 200_050, "2025-01-10 12:00", "Robbery")] * 5
    rows += [(570_050, 200_050, "2025-02-10 12:00", "Robbery")]
    rows += [(570_050, 200_400, "2025-01-10 12:00", "Robbery")]  # control ring
    data = tmp_path / "inc.parquet"
    _points(rows).to_parquet(data)
    out = tmp_path / "out"
    base = ["impact", str(data), "--treated", str(path), "--start", "2025-02-01",
            "--before-days", "31", "--after-days", "28", "--harm-table", "count"]  # fmt: skip
    code, text = run_cli([*base, "--treated-ids", "S1", "--out", str(out)], capsys)
    assert code == 0, text
    counts = pd.read_csv(out / "impact_counts.csv", encoding="utf-8-sig").set_index("role")
    assert counts.loc["treated", ["count_before", "count_after"]].tolist() == [5, 1]
    code, text = run_cli([*base, "--treated-ids", "S9", "--out", str(tmp_path / "o2")], capsys)
    assert code == 1
    assert "has no spot_id ['S9']" in text


def test_impact_command_crossover_from_a_plan(tmp_path, capsys):
    spots = gpd.GeoDataFrame({SPOT_ID: ["S1"]},
                             geometry=[shapely.box(570_000, 200_000, 570_150, 200_150)],
                             crs=27700)  # fmt: skip
    path = tmp_path / "harm_spots.geojson"
    spots.to_crs(4326).to_file(path)
    plan = tmp_path / "patrol_plan.csv"
    pd.DataFrame({SPOT_ID: ["S1"] * 4, "date": [f"2025-03-0{d}" for d in range(1, 5)],
                  "patrol": [True, False, True, False]}).to_csv(plan, index=False)  # fmt: skip
    rows = [(570_050, 200_050, "2025-03-02 21:00", "Robbery")] * 3
    rows += [(570_050, 200_050, "2025-03-03 21:00", "Robbery")]
    data = tmp_path / "inc.parquet"
    _points(rows).to_parquet(data)
    out = tmp_path / "out"
    code, text = run_cli(["impact", str(data), "--plan", str(plan), "--spots", str(path),
                      "--harm-table", "count", "--out", str(out)], capsys)  # fmt: skip
    assert code == 0, text
    row = pd.read_csv(out / "crossover.csv", encoding="utf-8-sig").iloc[0]
    assert (row["crimes_patrolled"], row["crimes_unpatrolled"]) == (1, 3)
    assert row["rate_ratio"] == pytest.approx(1 / 3)
