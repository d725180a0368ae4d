"""``hotspots spots`` end to end on a small police.uk-style file, and its one-line errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotspots.cli import main

HEADER = [
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
]


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
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def run(args: list[str], capsys) -> tuple[int, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_spots_command_writes_every_output(tmp_path, capsys):
    data = police_uk_csv(tmp_path)
    out = tmp_path / "out"
    code, text = run(
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
    data = police_uk_csv(tmp_path)
    out = tmp_path / "out"
    code, text = run(["spots", str(data), "--out", str(out), "--top", "1"], capsys)
    assert code == 0, text
    spot = pd.read_csv(out / "harm_spots.csv", encoding="utf-8-sig")["spot_id"].iloc[0]
    # the plan is for the coming week (from the Monday after today), so a log can only
    # hold visits before it: they count for no planned week yet, and dated visits after
    # the run date are rejected by the log reader
    days = sorted(pd.read_csv(out / "patrol_plan.csv", encoding="utf-8-sig")["date"].unique())
    today = pd.Timestamp.now(tz="Europe/London").date().isoformat()
    assert days[0] > today
    log = tmp_path / "patrols.csv"
    log.write_text(
        f"time,spot_id,minutes,activity\n{today} 00:01,{spot},20,stop search\n"
        f"{days[2]} 21:00,{spot},15,patrol\nnot a time,{spot},15,patrol\n"
    )
    code, text = run(
        ["spots", str(data), "--out", str(out), "--top", "1", "--patrols", str(log)], capsys
    )
    assert code == 0, text
    summary = pd.read_csv(out / "patrol_summary.csv", encoding="utf-8-sig")
    planned = summary[(summary["spot_id"] == spot) & (summary["planned_minutes"] > 0)].iloc[0]
    assert planned["planned_minutes"] == 7 * 15
    assert planned["week_start"] == days[0]
    assert int(summary["interactions"].sum()) == 1  # today's stop search, before the plan week
    rejected = pd.read_csv(out / "rejected_patrols.csv", encoding="utf-8-sig")
    assert sorted(rejected["reason"]) == ["future_date", "unparseable_date"]


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
    code, text = run(["spots", str(data), "--out", str(tmp_path / "o"), *extra], capsys)
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
    code, text = run(
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
    code, text = run(
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
    code, text = run(["spots", "--help"], capsys)
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
