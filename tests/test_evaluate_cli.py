"""``hotspots evaluate`` end to end, and real-data backtests (Essex monthly, Chicago/DC weekly)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import shared_path

from hotspots.cli import main

ESSEX_SV = "Violence and sexual offences,Robbery,Possession of weapons,Drugs"


def run(*args: str) -> int:
    """Run the CLI in-process; return its exit status."""
    try:
        main(["evaluate", *args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def write_canonical(path: Path, *, n: int = 400, seed: int = 0) -> Path:
    """Burglaries on a 3 km square over 20 weeks, half of them in one busy 150 m cell."""
    rng = np.random.default_rng(seed)
    busy = rng.random(n) < 0.5
    x = np.where(busy, 600_010 + rng.uniform(0, 130, n), 600_000 + rng.uniform(0, 3_000, n))
    y = np.where(busy, 225_010 + rng.uniform(0, 130, n), 225_000 + rng.uniform(0, 3_000, n))
    when = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 140, n), unit="D")
    frame = pd.DataFrame(
        {
            "incident_id": [f"i{k}" for k in range(n)],
            "occurred_at": when.strftime("%Y-%m-%dT%H:%M:%S"),
            "offence": "Burglary",
            "location": ["<b>High St</b> & Co"] * n,  # must come out escaped in the HTML page
            "dwelling_burglary": "true",
            "time_resolution": "exact",
            "easting": x.round(1),
            "northing": y.round(1),
        }
    )
    frame.to_csv(path, index=False)
    return path


def test_evaluate_writes_every_output(tmp_path):
    src = write_canonical(tmp_path / "burglary.csv")
    out = tmp_path / "eval"
    assert (
        run(
            str(src),
            "--out",
            str(out),
            "--lookback-days",
            "56",
            "--coverage",
            "0.01,0.05",
            "--harm-table",
            "count",
            "--seed",
            "7",
            "--offences",
            "Burglary",
        )
        == 0
    )
    for name in (
        "evaluation.csv",
        "summary.csv",
        "pai_by_coverage.png",
        "harm_capture_over_time.png",
        "evaluation.html",
        "run.json",
        "rejected.csv",
        "cocoon_periods.csv",
        "cocoon_bands.csv",
    ):
        assert (out / name).stat().st_size > 0, name
    ev = pd.read_csv(out / "evaluation.csv", encoding="utf-8-sig")
    assert list(ev.columns) == ["method", "period_start", "coverage", "metric", "value"]
    # the weekly run's method and the baselines; burglary only: ProMap joins them
    assert set(ev["method"]) == {"grid", "count_grid", "kde", "last_period", "promap"}
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig").set_index(
        ["method", "coverage"]
    )
    # half of all burglaries sit in one cell: the count grid finds it every week
    assert summary.loc[("count_grid", 0.01), "hit_rate"] > 0.35
    assert summary.loc[("count_grid", 0.01), "pai"] > 10
    record = json.loads((out / "run.json").read_text())
    assert record["parameters"]["seed"] == 7
    assert record["command"] == "evaluate"
    assert record["inputs"][0]["sha256"]
    page = (out / "evaluation.html").read_text()
    assert "<script" not in page
    png = (out / "pai_by_coverage.png").read_bytes()
    assert base64.b64encode(png).decode("ascii") in page  # stands alone
    assert "Cocoons" in page
    assert page.index(">0-7 days<") < page.index(">7-14 days<") < page.index(">14-21 days<")


def test_evaluation_page_escapes_text_from_the_data(tmp_path):
    import geopandas as gpd

    from hotspots.evaluate import backtest
    from hotspots.evaluate.report import render_html

    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 2000, size=(200, 2))
    offence = '<img src=x onerror="alert(1)">'
    frame = gpd.GeoDataFrame(
        {
            "occurred_at": (
                pd.Timestamp("2024-01-01", tz="Europe/London")
                + pd.to_timedelta(rng.uniform(0, 60, 200), unit="D")
            ),
            "offence": offence,
            "harm": 1.0,
            "time_resolution": "exact",
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=27700,
    )
    result = backtest(frame, lookback_days=28, offences=[offence], methods=("count_grid",))
    page = render_html(result, images={"a <b>": b"png"}, provenance={})
    assert page.startswith("<!DOCTYPE html>")
    assert offence not in page and "<b>" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    assert 'src="data:image/png;base64,cG5n"' in page


def test_evaluation_page_escapes_script_and_names_the_study_area():
    import geopandas as gpd

    from hotspots.evaluate import backtest, cocoon_backtest
    from hotspots.evaluate.report import render_html

    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 2000, size=(200, 2))
    offence = "<script>alert('x')</script>"
    frame = gpd.GeoDataFrame(
        {
            "occurred_at": (
                pd.Timestamp("2024-01-01", tz="Europe/London")
                + pd.to_timedelta(rng.uniform(0, 90, 200), unit="D")
            ),
            "offence": offence,
            "harm": 1.0,
            "time_resolution": "exact",
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=27700,
    )
    result = backtest(frame, lookback_days=28, offences=[offence], methods=("grid",))
    cocoons = cocoon_backtest(
        frame,
        offences=[offence],
        study_area_km2=result.study["area_km2"],
        study_area=result.study["source"],
    )
    page = render_html(result, images={}, provenance={}, cocoon=cocoons)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "<strong>Study area:</strong> data extent: the convex hull" in page
    assert f"{result.study['area_km2']:.3g} km²" in page
    assert "share of study area" in page and "PAI" in page


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (["--coverage", "1%,2%"], "--coverage must be comma-separated numbers"),
        (["--period", "day"], "period must be one of"),
        (["--methods", "grid,crystal_ball"], "method must be one of"),
        (["--lookback-days", "900"], "shorter --lookback-days"),
    ],
)
def test_evaluate_user_mistakes_exit_1_with_one_message(tmp_path, capsys, args, pattern):
    src = write_canonical(tmp_path / "burglary.csv", n=60)
    common = ["--out", str(tmp_path / "o"), "--harm-table", "count", "--offences", "Burglary"]
    assert run(str(src), *common, *args) == 1
    err = capsys.readouterr().err
    assert re.search(pattern, " ".join(err.split())), err


# ---------------------------------------------------------------- real data


@pytest.mark.realdata
@pytest.mark.slow
def test_essex_one_year_runs_with_default_options(tmp_path):
    folder = shared_path("police_uk", "essex_2025")
    out = tmp_path / "ev"
    assert run(str(folder), "--out", str(out)) == 0
    record = json.loads((out / "run.json").read_text())
    params = record["parameters"]
    assert params["lookback_adapted"] is True and params["lookback_months"] == 6
    assert params["methods"] == ["grid", "count_grid", "kde", "last_period"]
    assert params["offences"] == ESSEX_SV.split(",")
    assert any("too short for a 365-day look-back" in n for n in record["notes"])
    page = (out / "evaluation.html").read_text()
    assert "<strong>Study area:</strong>" in page and " km²" in page


@pytest.mark.realdata
def test_essex_monthly_backtest_against_pandas(tmp_path):
    from hotspots.evaluate import backtest
    from hotspots.harm import apply_harm, load_harm_table
    from hotspots.ingest import read_incidents

    folder = shared_path("police_uk", "essex_2025")
    incidents = apply_harm(read_incidents([folder]).incidents, load_harm_table())
    offences = ESSEX_SV.split(",")
    result = backtest(
        incidents,
        period="month",
        lookback_days=91,
        start="2025-11-01",
        coverage=(0.01,),
        methods=("count_grid",),
        offences=offences,
    )
    assert [f"{t:%Y-%m}" for t in result.periods["period_start"]] == ["2025-11", "2025-12"]
    # independent pandas computation for November: train Aug-Oct, test November
    sv = incidents[incidents["offence"].isin(offences)]
    frame = pd.DataFrame(
        {
            "ix": np.floor(sv.geometry.x / 150),
            "iy": np.floor(sv.geometry.y / 150),
            "month": sv["occurred_at"].dt.strftime("%Y-%m").to_numpy(),
        }
    )
    train = frame[frame["month"].isin(["2025-08", "2025-09", "2025-10"])]
    test = frame[frame["month"] == "2025-11"]
    assert result.periods["n_train"].iloc[0] == len(train)
    assert result.periods["n_test"].iloc[0] == len(test)
    counts = train.groupby(["ix", "iy"]).size().sort_values(ascending=False)
    k = int(np.ceil(0.01 * result.study["n_cells"]))
    threshold = counts.iloc[k - 1]
    hits = test.groupby(["ix", "iy"]).size()
    sure = hits.reindex(counts[counts > threshold].index).fillna(0).sum()
    maybe = hits.reindex(counts[counts >= threshold].index).fillna(0).sum()
    ev = result.evaluation.query("metric == 'hit_rate'")["value"].iloc[0]
    assert sure / len(test) - 1e-12 <= ev <= maybe / len(test) + 1e-12
    assert ev > 0.3  # police.uk violence is concentrated: 1% of cells hold a third or more


@pytest.mark.realdata
def test_chicago_weekly_cli_with_promap_and_cocoons(tmp_path):
    src = shared_path("exact_dated", "chicago", "chicago_residential_burglary_2016_2017.csv.gz")
    out = tmp_path / "chicago"
    status = run(
        str(src),
        "--out",
        str(out),
        "--x-col",
        "x",
        "--y-col",
        "y",
        "--crs",
        "EPSG:26971",
        "--time-col",
        "date_single",
        "--time-format",
        "%d/%m/%Y",
        "--offence",
        "Burglary",
        "--start",
        "2017-06-05",
        "--end",
        "2017-07-03",
        "--methods",
        "count_grid,promap,last_period",
        "--coverage",
        "0.01,0.05",
        "--offences",
        "Burglary",
    )
    assert status == 0
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig").set_index(
        ["method", "coverage"]
    )
    assert summary["n_periods"].eq(4).all()
    assert summary.loc[("promap", 0.05), "pai"] > 1.5  # better than chance
    periods = pd.read_csv(out / "cocoon_periods.csv", encoding="utf-8-sig")
    assert periods["n_burglaries"].sum() > 300
    record = json.loads((out / "run.json").read_text())
    assert 0 < record["cocoon"]["share_in_live_zone"] < 1
    assert record["ingest"]["time_resolution"] == "day"


@pytest.mark.realdata
def test_dc_cocoon_backtest_against_brute_force():
    from hotspots.config import IngestOptions
    from hotspots.evaluate import cocoon_backtest
    from hotspots.ingest import read_incidents

    src = shared_path("exact_dated", "washington_dc", "DC_Burglary.csv.gz")
    options = IngestOptions(x_col="x", y_col="y", time_col="t", id_col="id", offence="Burglary")
    burglaries = read_incidents([src], options).incidents
    result = cocoon_backtest(burglaries, start="2017-03-01", end="2017-04-01")
    # brute force: every pair of burglaries, no index
    t = pd.DatetimeIndex(burglaries["occurred_at"]).as_unit("ns").asi8 / 86_400e9
    x, y = burglaries.geometry.x.to_numpy(), burglaries.geometry.y.to_numpy()
    start = pd.Timestamp("2017-03-01", tz=burglaries["occurred_at"].dt.tz).as_unit("ns").value
    end = pd.Timestamp("2017-04-01", tz=burglaries["occurred_at"].dt.tz).as_unit("ns").value
    scored = np.flatnonzero((t * 86_400e9 >= start) & (t * 86_400e9 < end))
    inside = 0
    for i in scored:
        dt = t[i] - t
        near = np.hypot(x - x[i], y - y[i]) <= 400
        inside += bool(np.any(near & (dt > 0) & (dt <= 42)))
    assert result.summary["n_burglaries"] == len(scored)
    assert result.summary["n_in_live_zone"] == inside
