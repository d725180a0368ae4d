"""``hotspots ingest`` and the helpers other commands use (load_for_command, summary)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from hotspots.cli import main
from hotspots.cli.cmd_ingest import load_for_command, parse_harm_map, show_ingest_report
from hotspots.errors import OptionError
from hotspots.ingest import read_incidents

DATA = Path(__file__).parent / "data" / "ingest"


def run_cli(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_ingest_writes_parquet_rejected_and_run_json(tmp_path, capsys):
    out = tmp_path / "inc.parquet"
    assert run_cli("ingest", str(DATA / "police_uk"), "--out", str(out)) == 0
    inc = gpd.read_parquet(out)
    assert len(inc) == 5 and inc.crs.to_epsg() == 27700
    rejected = pd.read_csv(
        tmp_path / "inc.rejected.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    assert sorted(rejected["reason"]) == sorted(
        [
            "no_location",
            "coordinates_zero",
            "coordinates_out_of_range",
            "duplicate_id",
            "unparseable_date",
            "unknown_offence",
        ]
    )
    run = json.loads((tmp_path / "inc.run.json").read_text(encoding="utf-8"))
    assert run["command"] == "ingest"
    assert run["ingest"]["n_read"] == 11 and run["ingest"]["n_kept"] == 5
    assert run["time_resolution"] == "month"
    assert len(run["inputs"]) == 2 and all(len(i["sha256"]) == 64 for i in run["inputs"])
    err = capsys.readouterr().err
    for text in ("rows read", "11", "rows kept", "no_location 1", "month", "EPSG:27700", "snapped"):
        assert text in err


def test_ingest_with_harm_table_rejects_unknown(tmp_path):
    out = tmp_path / "dc.parquet"
    code = run_cli(
        "ingest",
        str(DATA / "dc_like.csv"),
        "--out",
        str(out),
        "--x-col",
        "x",
        "--y-col",
        "y",
        "--time-col",
        "t",
        "--id-col",
        "id",
        "--offence",
        "Prowling",
        "--harm-table",
        "cchi-2026-police-uk",
        "--harm-unknown",
        "reject",
    )
    assert code == 0
    assert len(gpd.read_parquet(out)) == 0
    rejected = pd.read_csv(tmp_path / "dc.rejected.csv", dtype=str, encoding="utf-8-sig")
    assert rejected["reason"].value_counts().to_dict() == {"unknown_offence": 2, "duplicate_id": 1}


def test_ingest_with_harm_map(tmp_path):
    out = tmp_path / "dc.parquet"
    code = run_cli(
        "ingest",
        str(DATA / "dc_like.csv"),
        "--out",
        str(out),
        "--x-col",
        "x",
        "--y-col",
        "y",
        "--time-col",
        "t",
        "--id-col",
        "id",
        "--offence",
        "Prowling",
        "--harm-table",
        "cchi-2026-police-uk",
        "--harm-map",
        "prowling=Burglary",
    )
    assert code == 0
    inc = gpd.read_parquet(out)
    assert inc["harm"].tolist() == pytest.approx([244.68, 244.68])
    assert inc.crs.to_epsg() == 32618
    run = json.loads((tmp_path / "dc.run.json").read_text(encoding="utf-8"))
    assert run["harm_table"]["name"] == "cchi-2026-police-uk"
    assert run["parameters"]["harm_map"] == {"prowling": "Burglary"}


def test_ingest_harm_unknown_zero(tmp_path):
    out = tmp_path / "dc.parquet"
    assert (
        run_cli(
            "ingest",
            str(DATA / "dc_like.csv"),
            "--out",
            str(out),
            "--x-col",
            "x",
            "--y-col",
            "y",
            "--time-col",
            "t",
            "--offence",
            "Prowling",
            "--harm-table",
            "cchi-2026-police-uk",
            "--harm-unknown",
            "zero",
        )
        == 0
    )
    assert gpd.read_parquet(out)["harm"].tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "x.csv"], "--out must be a .parquet file"),
        (["--out", "x.parquet", "--harm-unknown", "drop"], "--harm-unknown must be one of"),
        (["--out", "x.parquet", "--harm-map", "nonsense"], "must look like 'DATA VALUE=Table"),
        (["--out", "x.parquet", "--harm-table", "nope"], "Harm table 'nope' is neither"),
    ],
)
def test_ingest_option_errors_exit_1(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    assert run_cli("ingest", str(DATA / "snake_2018.csv"), *args) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_file_exits_1_with_one_message(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "hotspots",
            "ingest",
            str(DATA / "empty.csv"),
            "--out",
            str(tmp_path / "x.parquet"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "empty.csv is empty" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.parquet").exists()


def test_ingest_help_lists_options():
    proc = subprocess.run(
        [sys.executable, "-m", "hotspots", "ingest", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    for option in ("--out", "--harm-table", "--x-col", "--time-format", "--boundary", "--tz"):
        assert option in proc.stdout


def test_load_for_command_writes_rejected(tmp_path, capsys):
    result = load_for_command([DATA / "police_uk"], None, out_dir=tmp_path)
    assert result.report.n_kept == 5
    assert (tmp_path / "rejected.csv").exists()
    assert "rows rejected" in capsys.readouterr().err


def test_load_for_command_without_out_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    load_for_command([DATA / "snake_2018.csv"], None, out_dir=None)
    assert not (tmp_path / "rejected.csv").exists()


def test_show_ingest_report_prints_reasons(capsys):
    show_ingest_report(read_incidents([DATA / "police_uk"]).report)
    err = capsys.readouterr().err
    assert "duplicate_id 1" in err and "2025-01-01" in err and "2025-02-28" in err


def test_parse_harm_map():
    assert parse_harm_map(["A = Burglary", "b=Robbery"]) == {"A": "Burglary", "b": "Robbery"}
    with pytest.raises(OptionError, match="must look like"):
        parse_harm_map(["=Burglary"])
