"""``hotspots cocoon`` end to end on tiny files: outputs, messages, exit codes."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from hotspots.cli import main

INCIDENTS = (
    "id,occurred,easting,northing,offence\n"
    "B1,2025-03-01 10:00,500000,200000,Burglary - residential\n"
    "B2,2025-03-03 12:00,500300,200000,Burglary - residential\n"
    "B3,2025-03-02 00:00,510000,200000,Burglary - residential\n"
    "S1,2025-03-02 00:00,500000,200000,Shoplifting\n"
)
ADDRESSES = (
    "uprn,street,easting,northing\n"
    "home,High St,500005,200000\n"
    "a100,High St,500100,200000\n"
    "b2home,Mill Rd,500310,200000\n"
    "a400,Mill Rd,500000,200400\n"
    "out,,499500,200000\n"
    "nowhere,,,\n"
)
VISITS = "address_id,visited_at,outcome\na100,2025-03-02 09:00,spoke\nnope,2025-03-02 09:00,spoke\n"
POLICE_UK = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context\n"
    "abc1,2025-03,Essex Police,Essex Police,0.5,51.7,On or near High St,E01,X 001A,Burglary,,\n"
    "abc2,2025-03,Essex Police,Essex Police,0.51,51.7,On or near Mill Rd,E01,X 001A,Burglary,,\n"
)
MAPPING = ["--id-col", "id", "--time-col", "occurred", "--offence-col", "offence"]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "inc.csv").write_text(INCIDENTS)
    (tmp_path / "adds.csv").write_text(ADDRESSES)
    (tmp_path / "visits.csv").write_text(VISITS)
    (tmp_path / "police.csv").write_text(POLICE_UK)
    return tmp_path


def run(args, capsys):
    try:
        main(["cocoon", *args])
        code = 0
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()  # the summary is on stdout, notes and errors on stderr
    return code, captured.out + captured.err


def test_full_run_writes_every_file(files, capsys):
    out = files / "out"
    code, err = run(
        [
            str(files / "inc.csv"),
            "--as-of",
            "2025-03-04",
            "--out",
            str(out),
            *MAPPING,
            "--addresses",
            str(files / "adds.csv"),
            "--address-cache-dir",
            str(files / "cache"),
            "--nearest",
            "1",
            "--visits",
            str(files / "visits.csv"),
        ],
        capsys,
    )
    assert code == 0, err
    names = {p.name for p in out.iterdir()}
    assert {
        "cocoon_zones.geojson",
        "cocoon_zones_merged.geojson",
        "cocoon_visits.csv",
        "cocoon_team_lists.csv",
        "cocoon_streets.csv",
        "cocoon_compliance.csv",
        "cocoon_compliance_areas.csv",
        "cocoon_overdue.csv",
        "rejected.csv",
        "rejected_visits.csv",
        "rejected_addresses.csv",
        "run.json",
    } <= names
    visits = pd.read_csv(out / "cocoon_visits.csv", encoding="utf-8-sig")
    b1 = visits[visits["zone_id"] == "ZON-250301-01"]
    assert b1["address_id"].tolist() == ["home", "a100", "b2home", "a400"]
    assert b1["mandatory"].tolist() == [False, True, False, False]
    zones = json.loads((out / "cocoon_zones.geojson").read_text())
    assert [f["properties"]["zone_id"] for f in zones["features"]] == [
        "ZON-250301-01",
        "ZON-250302-01",
        "ZON-250303-01",
    ]
    # --as-of 2025-03-04 is the end of that day: B1 visited in time, B3 overdue, B2 still due
    assert [f["properties"]["status"] for f in zones["features"]] == ["visited", "overdue", "due"]
    assert zones["metadata"]["parameters"]["radius_m"] == 400.0
    run_json = json.loads((out / "run.json").read_text())
    assert run_json["cocoon"]["compliance"]["cocooned_in_time"] == 1
    assert run_json["parameters"]["nearest"] == 1
    rejected = pd.read_csv(out / "rejected_visits.csv", encoding="utf-8-sig")
    assert rejected["reason"].tolist() == ["unknown_address"]
    assert pd.read_csv(out / "rejected_addresses.csv", encoding="utf-8-sig")[
        "address_id"
    ].tolist() == ["nowhere"]
    assert "1 visit rows rejected" in err
    assert "Cocoon zones: 3 live zones" in err
    pages = sorted((out / "cocoon_lists").glob("*.html"))  # the printable lists, as weekly
    assert pages, names
    text = "".join(p.read_text("utf-8") for p in pages)
    # the default --list-scope due: B2 (due) and B3 (overdue) get door lists, B1 (visited)
    # is only named among the zones left off
    assert "ZON-250302-01" in text and "ZON-250303-01" in text and "High St" in text
    assert "ZON-250301-01 · burglary Sat 01 Mar 2025 · visited" in text
    assert "Data 2025-03-01 to 2025-03-03" in text and "harm table" not in text  # no harm used
    assert len(list((files / "cache").glob("addresses-*.idx"))) == 1


def test_without_addresses_says_lists_need_them(files, capsys):
    out = files / "out"
    code, err = run(
        [str(files / "inc.csv"), "--as-of", "2025-03-04", "--out", str(out), *MAPPING], capsys
    )
    assert code == 0, err
    assert "visit lists need an address layer: pass --addresses FILE" in err
    assert (out / "cocoon_zones.geojson").exists()
    assert not (out / "cocoon_visits.csv").exists()
    assert not (out / "cocoon_lists").exists()
    notes = json.loads((out / "run.json").read_text())["cocoon"]["notes"]
    assert any("visit lists need an address layer" in n for n in notes)


def test_month_data_gives_retrospective_zones(files, capsys):
    code, err = run(
        [str(files / "police.csv"), "--as-of", "2025-03-31", "--out", str(files / "out")], capsys
    )
    assert code == 0, err
    zones = json.loads((files / "out" / "cocoon_zones.geojson").read_text())
    assert {f["properties"]["zone_kind"] for f in zones["features"]} == {"retrospective"}
    assert {f["properties"]["due_by"] for f in zones["features"]} == {None}
    code, err = run(
        [
            str(files / "police.csv"),
            "--as-of",
            "2025-03-31",
            "--month-dates",
            "mid",
            "--out",
            str(files / "out"),
        ],
        capsys,
    )
    assert code == 0, err
    zones = json.loads((files / "out" / "cocoon_zones.geojson").read_text())
    assert {f["properties"]["month_dates"] for f in zones["features"]} == {"mid"}
    assert "may include non-dwelling" in zones["features"][0]["properties"]["dwelling_note"]


def test_empty_window_is_one_line_error(files, capsys):
    code, err = run(
        [str(files / "inc.csv"), "--as-of", "2025-09-01", "--out", str(files / "out"), *MAPPING],
        capsys,
    )
    assert code == 1
    assert "No dwelling burglary in the 42-day window" in err
    assert "dated 2025-03-01 to 2025-03-03" in err


def test_bad_month_dates_and_as_of(files, capsys):
    code, err = run(
        [
            str(files / "inc.csv"),
            "--as-of",
            "2025-03-04",
            "--month-dates",
            "middle",
            "--out",
            str(files / "out"),
            *MAPPING,
        ],
        capsys,
    )
    assert code == 1
    assert "--month-dates must be one of ('start', 'mid', 'end'); got 'middle'" in err
    code, err = run(
        [str(files / "inc.csv"), "--as-of", "soon", "--out", str(files / "out"), *MAPPING], capsys
    )
    assert code == 1
    assert "--as-of 'soon' is not a date" in err


def test_visits_need_addresses(files, capsys):
    code, err = run(
        [
            str(files / "inc.csv"),
            "--as-of",
            "2025-03-04",
            "--out",
            str(files / "o"),
            *MAPPING,
            "--visits",
            str(files / "visits.csv"),
        ],
        capsys,
    )
    assert code == 1
    assert "--visits needs --addresses" in err


def test_addresses_without_coordinates(files, capsys):
    (files / "bad.csv").write_text("uprn,easting,northing\n1,,\n2,,\n")
    code, err = run(
        [
            str(files / "inc.csv"),
            "--as-of",
            "2025-03-04",
            "--out",
            str(files / "o"),
            *MAPPING,
            "--addresses",
            str(files / "bad.csv"),
        ],
        capsys,
    )
    assert code == 1
    assert "Address file bad.csv has no usable coordinates" in err


def test_help_lists_options(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["cocoon", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for option in (
        "--radius-m",
        "--window-days",
        "--due-hours",
        "--month-dates",
        "--addresses",
        "--address-x-col",
        "--address-id-col",
        "--nearest",
        "--visits",
    ):
        assert option in text


def near_repeat_pairs(*, lag_days: int, step_days: int) -> str:
    """30 pairs of home burglaries, 50 m and ``lag_days`` apart, the pairs 2 km apart.

    Every pair within 400 m is one of the 30 designed pairs, all in the first distance
    band. With ``lag_days`` 3 all of them fall in the first time band: far more than the
    shuffled times give (Knox significant at 0-100 m, 0-7 days and in no band beyond it,
    so the recommendation is 100 m, 7 days). With ``lag_days`` 120 none of them does.
    """
    day0 = pd.Timestamp("2025-01-01 10:00")
    lines = ["id,occurred,easting,northing,offence"]
    for i in range(30):
        x, y = 500_000 + 2_000 * (i % 6), 200_000 + 2_000 * (i // 6)
        first = day0 + pd.Timedelta(days=step_days * i)
        second = first + pd.Timedelta(days=lag_days)
        lines.append(f"A{i},{first:%Y-%m-%d %H:%M},{x},{y},Burglary - residential")
        lines.append(f"B{i},{second:%Y-%m-%d %H:%M},{x + 50},{y},Burglary - residential")
    return "\n".join(lines) + "\n"


def test_cocoon_from_knox_uses_a_significant_recommendation(tmp_path, capsys):
    data = tmp_path / "pairs.csv"
    data.write_text(near_repeat_pairs(lag_days=3, step_days=10))  # last pair: 18 and 21 Oct
    out = tmp_path / "out"
    code, err = run(
        [str(data), "--as-of", "2025-10-22", "--out", str(out), "--cocoon-from-knox", *MAPPING],
        capsys,
    )
    assert code == 0, err
    record = json.loads((out / "run.json").read_text())
    assert record["parameters"]["radius_m"] == pytest.approx(100.0)
    assert record["parameters"]["window_days"] == 7
    assert record["cocoon"]["radius_m"] == pytest.approx(100.0)
    assert record["knox"]["radius_m"] == pytest.approx(100.0)
    assert "use the Knox recommendation: 100 m, 7 days" in " ".join(err.split())
    zones = gpd.read_file(out / "cocoon_zones.geojson").to_crs(27700)
    # a 7-day window at 22 Oct holds the last pair only; each zone a 100 m circle
    assert sorted(zones["burglary_id"]) == ["A29", "B29"]
    assert zones.area.to_numpy() == pytest.approx(np.pi * 100.0**2, rel=0.01)


def test_cocoon_from_knox_keeps_the_defaults_without_a_pattern(tmp_path, capsys):
    data = tmp_path / "pairs.csv"
    data.write_text(near_repeat_pairs(lag_days=120, step_days=5))  # last event 23 Sep
    out = tmp_path / "out"
    code, err = run(
        [str(data), "--as-of", "2025-09-24", "--out", str(out), "--cocoon-from-knox", *MAPPING],
        capsys,
    )
    assert code == 0, err
    record = json.loads((out / "run.json").read_text())
    assert record["parameters"]["radius_m"] == pytest.approx(400.0)
    assert record["parameters"]["window_days"] == 42
    assert record["knox"]["radius_m"] is None
    assert "keep the defaults 400 m, 42 days" in " ".join(err.split())
