"""``hotspots spots`` end to end on a small police.uk-style file, and its one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import POLICE_UK_HEADER, run_cli, write_police_uk

HEADER = POLICE_UK_HEADER


def police_uk_csv(folder: Path) -> Path:
    """Two months of street crime around Southend: a robbery cluster and scattered violence."""
    rng = np.random.default_rng(4)
    rows = []
    for i in range(120):
        month = "2025-05" if i % 2 else "2025-06"
        if i < 40:
            lon, lat, kind = (
                0.7105 + rng.normal(0, 0.0002),
                51.5380 + rng.normal(0, 0.0002),
                "Robbery",
            )
        else:
            lon, lat, kind = (
                0.70 + rng.uniform(0, 0.03),
                51.53 + rng.uniform(0, 0.02),
                "Violence and sexual offences",
            )
        rows.append(
            [
                f"id{i}",
                month,
                "Essex Police",
                "Essex Police",
                f"{lon:.6f}",
                f"{lat:.6f}",
                "On or near High Street",
                "E01015800",
                "Southend-on-Sea 001A",
                kind,
                "",
                "",
            ]
        )
    rows.append(
        [
            "id-b",
            "2025-06",
            "Essex Police",
            "Essex Police",
            "0.71",
            "51.538",
            "On or near X",
            "E01015800",
            "Southend-on-Sea 001A",
            "Burglary",
            "",
            "",
        ]
    )
    rows.append(
        [
            "",
            "2025-06",
            "Essex Police",
            "Essex Police",
            "",
            "",
            "No Location",
            "",
            "",
            "Violence and sexual offences",
            "",
            "",
        ]
    )
    path = folder / "2025-06-essex-street.csv"
    write_police_uk(path, rows)
    return path


def test_spots_command_writes_every_output(tmp_path, capsys):
    data = police_uk_csv(tmp_path)
    out = tmp_path / "out"
    code, text = run_cli(
        ["spots", str(data), "--out", str(out), "--top", "3", "--seed", "7", "--crossover"], capsys
    )
    assert code == 0, text
    assert "spots hold" in text and "of harm in" in text
    for name in (
        "harm_spots.geojson",
        "harm_spots.csv",
        "patrol_plan.csv",
        "rejected.csv",
        "run.json",
    ):
        assert (out / name).exists(), name
    run_json = json.loads((out / "run.json").read_text())
    assert run_json["command"] == "spots"
    assert run_json["parameters"]["seed"] == 7
    assert run_json["parameters"]["as_of"] == "2025-06-30"  # end of the last month
    assert run_json["harm_table"]["name"] == "cchi-2026-police-uk"
    assert run_json["inputs"][0]["sha256"]
    assert run_json["concentration"]["n_spots"] == 3
    spots = pd.read_csv(out / "harm_spots.csv", encoding="utf-8-sig")
    assert spots["rank"].tolist() == [1, 2, 3]
    assert spots["n_robbery"].iloc[0] > 0  # the robbery cluster tops the list
    assert {"easting", "northing", "latitude", "longitude"} <= set(spots.columns)
    gj = json.loads((out / "harm_spots.geojson").read_text())
    lon, lat = gj["features"][0]["geometry"]["coordinates"][0][0]
    assert 0.6 < lon < 0.8 and 51.4 < lat < 51.6
    assert gj["metadata"]["spot_parameters"]["seed"] == 7
    plan = pd.read_csv(out / "patrol_plan.csv", encoding="utf-8-sig")
    assert len(plan) == 3 * 7
    assert (plan.groupby("spot_id")["patrol"].sum() == 4).all()  # 3 of 7 days are controls
    assert set(plan["seed"]) == {7}
    rejected = pd.read_csv(out / "rejected.csv", encoding="utf-8-sig")
    assert len(rejected) == 1


def test_patrol_log_summary(tmp_path, capsys):
    """Delivery is measured against the plan the log is about: the previous run's."""
    data = police_uk_csv(tmp_path)
    out = tmp_path / "out"
    today = pd.Timestamp.now(tz="Europe/London").date().isoformat()
    # this week's plan starts today, so today's logged visit falls inside it
    code, text = run_cli(
        ["spots", str(data), "--out", str(out), "--top", "1", "--plan-start", today], capsys
    )
    assert code == 0, text
    spot = pd.read_csv(out / "harm_spots.csv", encoding="utf-8-sig")["spot_id"].iloc[0]
    days = sorted(pd.read_csv(out / "patrol_plan.csv", encoding="utf-8-sig")["date"].unique())
    assert days[0] == today and len(days) == 7
    log = tmp_path / "patrols.csv"
    log.write_text(
        f"time,spot_id,minutes,activity\n{today} 00:01,{spot},20,stop search\n"
        f"{days[2]} 21:00,{spot},15,patrol\nnot a time,{spot},15,patrol\n"
    )
    # the next run (its own plan starts next Monday) reads last run's patrol_plan.csv
    code, text = run_cli(
        ["spots", str(data), "--out", str(out), "--top", "1", "--patrols", str(log)], capsys
    )
    assert code == 0, text
    summary = pd.read_csv(out / "patrol_summary.csv", encoding="utf-8-sig")
    mine = summary[summary["spot_id"] == spot].iloc[0]
    assert mine["week_start"] == today
    assert mine["planned_minutes"] == 7 * 15
    assert mine["minutes"] == 20 and mine["interactions"] == 1
    assert mine["minutes_vs_plan"] == pytest.approx(20 / 105)
    rejected = pd.read_csv(out / "rejected_patrols.csv", encoding="utf-8-sig")
    assert sorted(rejected["reason"]) == ["future_date", "unparseable_date"]


def test_patrol_log_without_a_previous_plan_meets_the_week_it_covers(tmp_path, capsys):
    data = police_uk_csv(tmp_path)
    out = tmp_path / "out"
    log = tmp_path / "patrols.csv"
    # Tue 10 and Sun 15 June 2025 are in the week from Monday 9 June
    log.write_text(
        "time,spot_id,minutes,activity\n"
        "2025-06-10 20:00,{s},15,patrol\n2025-06-15 21:00,{s},25,patrol\n"
    )
    code, text = run_cli(["spots", str(data), "--out", str(out), "--top", "1"], capsys)
    assert code == 0, text
    spot = pd.read_csv(out / "harm_spots.csv", encoding="utf-8-sig")["spot_id"].iloc[0]
    log.write_text(log.read_text().replace("{s}", spot))
    (out / "patrol_plan.csv").unlink()  # no previous plan to measure against
    code, text = run_cli(
        ["spots", str(data), "--out", str(out), "--top", "1", "--patrols", str(log)], capsys
    )
    assert code == 0, text
    summary = pd.read_csv(out / "patrol_summary.csv", encoding="utf-8-sig")
    mine = summary[summary["spot_id"] == spot]
    assert mine["week_start"].tolist() == ["2025-06-09"]
    assert mine["planned_minutes"].tolist() == [7 * 15]
    assert mine["minutes"].tolist() == [40]
    notes = json.loads((out / "run.json").read_text())["notes"]
    assert any("for the weeks the log covers" in n for n in notes)


def test_plan_start_gives_the_seven_days_from_it(tmp_path, capsys):
    data = police_uk_csv(tmp_path)
    out = tmp_path / "out"
    code, text = run_cli(
        ["spots", str(data), "--out", str(out), "--top", "2", "--plan-start", "2099-01-05"],
        capsys,
    )
    assert code == 0, text
    plan = pd.read_csv(out / "patrol_plan.csv", encoding="utf-8-sig")
    assert sorted(plan["date"].unique()) == [f"2099-01-{d:02d}" for d in range(5, 12)]
    assert json.loads((out / "run.json").read_text())["parameters"]["plan_start"] == "2099-01-05"


@pytest.mark.parametrize(
    ("date", "message"),
    [("2020-01-06", "plan_start 2020-01-06 is in the past"), ("soon", "--plan-start must be")],
)
def test_bad_plan_start_is_one_line(tmp_path, capsys, date, message):
    data = police_uk_csv(tmp_path)
    code, text = run_cli(["spots", str(data), "--out", str(tmp_path), "--plan-start", date], capsys)
    assert code == 1
    assert message in " ".join(text[text.index("Error:") :].split())


def street_rows(n: int, *, lon: float, lat: float, lsoa: str, kind: str, where: str) -> list:
    """``n`` police.uk street rows of one category at one snapped point."""
    return [
        [f"{lsoa}-{where}-{i}", "2025-06", "Essex Police", "Essex Police", f"{lon:.6f}",
         f"{lat:.6f}", where, "E01000000", lsoa, kind, "", ""]
        for i in range(n)
    ]  # fmt: skip


def write_street(folder: Path, rows: list) -> Path:
    path = folder / "2025-06-essex-street.csv"
    write_police_uk(path, rows)
    return path


def test_without_areas_lsoa_names_give_districts_and_a_stray_is_rejected(tmp_path, capsys):
    # 150 Southend and 100 Rochford records; one record in Salford: 1 / 251 = 0.4% of the
    # records, under the 0.5% a district needs, so it is a stray
    rows = street_rows(150, lon=0.7105, lat=51.538, lsoa="Southend-on-Sea 001A",
                       kind="Robbery", where="On or near High Street")  # fmt: skip
    rows += street_rows(100, lon=0.706, lat=51.585, lsoa="Rochford 004B",
                        kind="Robbery", where="On or near West Street")  # fmt: skip
    rows += street_rows(1, lon=-2.29, lat=53.487, lsoa="Salford 012A",
                        kind="Robbery", where="On or near Chapel Street")  # fmt: skip
    data = write_street(tmp_path, rows)
    out = tmp_path / "out"
    code, text = run_cli(["spots", str(data), "--out", str(out), "--top", "1"], capsys)
    assert code == 0, text
    record = json.loads((out / "run.json").read_text())
    assert record["study_area"]["districts"] == ["Rochford", "Southend-on-Sea"]
    assert record["study_area"]["strays_by_reason"] == {"outside_force_districts": 1}
    assert record["rejected"]["strays"] == 1
    # the study area is the two districts, not a hull reaching Salford (about 300 km away)
    assert 0 < record["concentration"]["study_area_km2"] < 200
    assert "force districts from police.uk LSOA names (2)" in record["concentration"]["headline"]
    spots = pd.read_csv(out / "harm_spots.csv", encoding="utf-8-sig")
    assert sorted(spots["area"]) == ["Rochford", "Southend-on-Sea"]  # one spot per district
    rejected = pd.read_csv(out / "rejected.csv", encoding="utf-8-sig")
    stray = rejected[rejected["reason"] == "outside_force_districts"]
    assert stray["incident_id"].tolist() == ["Salford 012A-On or near Chapel Street-0"]
    assert "Salford 012A" in stray["detail"].iloc[0]


def test_prisons_are_left_out_unless_kept(tmp_path, capsys):
    # the most harm sits at one point 'On or near Prison'; the next at a street
    violence = "Violence and sexual offences"
    rows = street_rows(30, lon=0.7105, lat=51.538, lsoa="Southend-on-Sea 001A",
                       kind=violence, where="On or near Prison")  # fmt: skip
    rows += street_rows(10, lon=0.7300, lat=51.545, lsoa="Southend-on-Sea 002A",
                        kind=violence, where="On or near Mill Road")  # fmt: skip
    data = write_street(tmp_path, rows)
    out = tmp_path / "out"
    code, text = run_cli(["spots", str(data), "--out", str(out), "--top", "1"], capsys)
    assert code == 0, text
    spots = pd.read_csv(out / "harm_spots.csv", encoding="utf-8-sig")
    assert spots["location"].tolist() == ["On or near Mill Road"]
    assert "1 places at prisons left out" in " ".join(text.split())
    kept = tmp_path / "kept"
    code, text = run_cli(
        ["spots", str(data), "--out", str(kept), "--top", "1", "--keep-prisons"], capsys
    )
    assert code == 0, text
    spots = pd.read_csv(kept / "harm_spots.csv", encoding="utf-8-sig")
    assert spots["location"].tolist() == ["On or near Prison"]
    assert spots["institution"].tolist() == ["prison"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--method", "kde"], "--method must be one of ('grid', 'hex', 'dbscan', 'gistar')"),
        (["--offences", "Robery"], "offences: ['Robery'] not in the data"),
        (["--as-of", "2020-01-01"], "No Violence and sexual offences, Robbery"),
        (["--area-field", "LAD13NM"], "--area-field needs --areas FILE"),
        (["--top", "3", "--harm-share", "0.5"], "Give --top or --harm-share, not both"),
    ],
)
def test_user_mistakes_exit_1_with_one_line(tmp_path, capsys, extra, message):
    data = police_uk_csv(tmp_path)
    code, text = run_cli(["spots", str(data), "--out", str(tmp_path / "o"), *extra], capsys)
    assert code == 1
    assert "Error:" in text
    error = text[text.index("Error:") :]
    assert message in " ".join(error.split())


def test_areas_that_do_not_overlap_exit_1(tmp_path, capsys):
    data = police_uk_csv(tmp_path)
    far = tmp_path / "far.geojson"
    far.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"NAME": "Far"},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [[-3, 53], [-2.9, 53], [-2.9, 53.1], [-3, 53.1], [-3, 53]]
                            ],
                        },
                    }
                ],
            }
        )
    )
    code, text = run_cli(
        [
            "spots",
            str(data),
            "--out",
            str(tmp_path / "o"),
            "--areas",
            str(far),
            "--area-field",
            "NAME",
        ],
        capsys,
    )
    assert code == 1
    assert "areas layer does not overlap the incidents" in " ".join(text.split())
    code, text = run_cli(
        [
            "spots",
            str(data),
            "--out",
            str(tmp_path / "o"),
            "--areas",
            str(far),
            "--area-field",
            "NOPE",
        ],
        capsys,
    )
    assert code == 1
    assert "has no field 'NOPE'" in " ".join(text.split())


def test_every_option_has_help(capsys):
    code, text = run_cli(["spots", "--help"], capsys)
    assert code == 0
    for option in (
        "--method",
        "--cell-m",
        "--eps-m",
        "--min-harm",
        "--as-of",
        "--lookback-days",
        "--offences",
        "--harm-table",
        "--areas",
        "--area-field",
        "--top",
        "--harm-share",
        "--max-area-km2",
        "--fdr-alpha",
        "--gistar-permutations",
        "--harm-map",
        "--harm-unknown",
        "--visit-minutes",
        "--crossover",
        "--patrols",
        "--seed",
    ):
        assert option in text, option


def test_today_sets_the_run_date_the_plan_starts_after(tmp_path, capsys):
    data = police_uk_csv(tmp_path)
    out = tmp_path / "out"
    # Wednesday 2 July 2025: the plan runs from the Monday after, 7 July
    code, text = run_cli(
        ["spots", str(data), "--out", str(out), "--top", "1", "--today", "2025-07-02"], capsys
    )
    assert code == 0, text
    plan = pd.read_csv(out / "patrol_plan.csv", encoding="utf-8-sig")
    assert sorted(plan["date"].unique()) == [f"2025-07-{d:02d}" for d in range(7, 14)]
