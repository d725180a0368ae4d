"""``hotspots knox``: option errors, event selection and an end-to-end run."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest

from hotspots.cli import main
from hotspots.errors import InputError, OptionError
from hotspots.nearrepeat import FRAME_COLUMNS, select_events
from hotspots.schema import DWELLING_BURGLARY, OCCURRED_AT, OFFENCE


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotspots", *args], capture_output=True, text=True, check=False
    )


def incidents() -> gpd.GeoDataFrame:
    when = pd.DatetimeIndex(["2024-01-01"] * 5).tz_localize("Europe/London")
    return gpd.GeoDataFrame(
        {
            OCCURRED_AT: when,
            OFFENCE: ["Burglary", "burglary", "Burglary", "Robbery", "Burglary"],
            DWELLING_BURGLARY: pd.array([True, False, True, False, pd.NA], dtype="boolean"),
        },
        geometry=gpd.points_from_xy(range(5), range(5)),
        crs=27700,
    )


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"time_bands_days": "0,a"}, r"--time-bands-days must be comma-separated numbers"),
        ({"distance_bands_m": "0,nan"}, r"--distance-bands-m must be two or more finite edges"),
    ],
)
def test_band_edges_are_checked_when_the_options_are_built(values, match):
    from hotspots.config import KnoxOptions, options_from

    assert options_from(KnoxOptions, {"distance_bands_m": "0, 100,200"}).distance_bands_m == (
        0.0,
        100.0,
        200.0,
    )
    with pytest.raises(OptionError, match=match):
        options_from(KnoxOptions, values)


def test_select_events_defaults_to_dwelling_burglary():
    ev = incidents()
    assert select_events(ev, offences=None, dwelling_only=True).index.tolist() == [0, 2]
    assert select_events(ev, offences=None, dwelling_only=False).index.tolist() == [0, 1, 2, 4]
    both = select_events(ev, offences=("Robbery", "BURGLARY"), dwelling_only=False)
    assert both.index.tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(InputError, match=r"1 of 5 incidents match \(offences \['robbery'\]\)"):
        select_events(ev, offences=("Robbery",), dwelling_only=False)
    assert len(ev) == 5  # input untouched


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--distance-bands-m", "0,200,100"], "--distance-bands-m must be strictly increasing"),
        (["--time-bands-days", "seven"], "--time-bands-days must be comma-separated numbers"),
        (["--knox-permutations", "0"], "--knox-permutations must be a whole number >= 1"),
    ],
)
def test_option_mistakes_exit_1_with_one_message(tmp_path, capsys, args, match):
    with pytest.raises(SystemExit) as stop:
        main(["knox", str(tmp_path / "in.csv"), "--out", str(tmp_path / "out"), *args])
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert match in err and "Traceback" not in err
    assert err.strip().startswith("Error:")


def test_help_names_units():
    out = run("knox", "--help")
    assert out.returncode == 0
    for flag in (
        "--distance-bands-m",
        "--time-bands-days",
        "--same-location-m",
        "--knox-metric",
        "--knox-permutations",
        "--seed",
        "--knox-offences",
        "--all-burglary",
    ):
        assert flag in out.stdout


@pytest.fixture
def ingest_ready():
    from hotspots.cli import cmd_ingest

    if not hasattr(cmd_ingest, "load_for_command"):
        pytest.skip("hotspots.cli.cmd_ingest.load_for_command (helper A) has not landed yet")


@pytest.mark.realdata
def test_end_to_end_on_chicago_sample(tmp_path, shared, ingest_ready):
    src = shared("exact_dated", "chicago", "chicago_residential_burglary_2016_2017.csv.gz")
    sample = pd.read_csv(src).iloc[:3000]
    path = tmp_path / "chicago.csv"
    sample[["x", "y", "date_single"]].to_csv(path, index=False)
    out = tmp_path / "out"
    args = [
        "knox",
        str(path),
        "--out",
        str(out),
        "--x-col",
        "x",
        "--y-col",
        "y",
        "--crs",
        "EPSG:26971",
        "--working-crs",
        "EPSG:26971",
        "--time-col",
        "date_single",
        "--time-format",
        "%d/%m/%Y",
        "--tz",
        "America/Chicago",
        "--offence",
        "Burglary",
        "--all-burglary",
        "--knox-permutations",
        "49",
        "--seed",
        "3",
        "--same-location-m",
        "0.1",
    ]
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code in (0, None)
    table = pd.read_csv(out / "knox.csv", encoding="utf-8-sig")
    assert tuple(table.columns) == FRAME_COLUMNS and len(table) == 30
    run_json = json.loads((out / "run.json").read_text())
    assert run_json["command"] == "knox"
    assert run_json["parameters"]["seed"] == 3 and run_json["parameters"]["same_location_m"] == 0.1
    assert run_json["knox"]["n_events"] == 3000
    for name in ("knox.html", "knox.png", "knox.json"):
        assert (out / name).stat().st_size > 0


POLICE_UK_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context"
)


def test_month_dated_police_uk_file_is_refused(tmp_path, ingest_ready):
    rows = [
        f"id{k},2025-0{1 + k % 3},Essex Police,Essex Police,0.4{k}3,51.63{k},On or near X Road,"
        f"E01021237,Basildon 001A,Burglary,Under investigation,"
        for k in range(6)
    ]
    path = tmp_path / "2025-01-essex-street.csv"
    path.write_text("\n".join([POLICE_UK_HEADER, *rows]) + "\n", encoding="utf-8")
    out = run("knox", str(path), "--out", str(tmp_path / "out"))
    assert out.returncode == 1
    assert "month resolution" in out.stderr and "needs day or exact dates" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "out" / "knox.csv").exists()
