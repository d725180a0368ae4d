"""Essex 2025 (police.uk) with the 14 districts: 70 spots checked against pandas."""

from __future__ import annotations

import gzip
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from tests.conftest import shared_path

pytestmark = pytest.mark.realdata

SV = ("Violence and sexual offences", "Robbery", "Possession of weapons", "Drugs")


@pytest.fixture(scope="module")
def essex():
    from hotspots.areas import read_areas
    from hotspots.harm import apply_harm, load_harm_table
    from hotspots.ingest import read_incidents

    folder = shared_path("police_uk", "essex_2025")
    boundary = shared_path("boundaries", "essex_lad2013.geojson")
    incidents = read_incidents([folder], None).incidents
    table = load_harm_table("cchi-2026-police-uk")
    weighted = apply_harm(incidents[incidents["offence"].isin(SV).to_numpy()], table)
    areas = read_areas(boundary, area_field="LAD13NM", working_crs=weighted.crs)
    return folder, boundary, weighted, areas, table


def independent_cells(folder: Path, boundary: Path, weights: dict[str, float]) -> pd.DataFrame:
    """Harm per 150 m cell straight from the CSVs: pandas, pyproj and a spatial join only."""
    frames = []
    for path in sorted(folder.glob("*.csv.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            frames.append(pd.read_csv(handle, usecols=["Longitude", "Latitude", "Crime type"]))
    raw = pd.concat(frames).dropna(subset=["Longitude", "Latitude"])
    raw = raw[raw["Crime type"].isin(SV)]
    x, y = Transformer.from_crs(4326, 27700, always_xy=True).transform(
        raw["Longitude"].to_numpy(), raw["Latitude"].to_numpy()
    )
    pts = pd.DataFrame(
        {
            "ix": np.floor(x / 150).astype(int),
            "iy": np.floor(y / 150).astype(int),
            "h": raw["Crime type"].map(weights).to_numpy(),
        }
    )
    lads = gpd.read_file(boundary).to_crs(27700)[["LAD13NM", "geometry"]]
    joined = gpd.sjoin(
        gpd.GeoDataFrame(pts, geometry=gpd.points_from_xy(x, y), crs=27700),
        lads,
        how="left",
        predicate="intersects",
    )
    joined = joined[~joined.index.duplicated(keep="first")]
    pts["lad"] = joined["LAD13NM"].fillna("(outside)").to_numpy()
    cell = pts.groupby(["ix", "iy"]).agg(harm=("h", "sum"), n=("h", "size")).reset_index()
    by_lad = (
        pts.groupby(["ix", "iy", "lad"])
        .agg(h=("h", "sum"), n=("h", "size"))
        .reset_index()
        .sort_values(["ix", "iy", "h", "n", "lad"], ascending=[True, True, False, False, True])
        .drop_duplicates(["ix", "iy"])
    )
    return cell.merge(by_lad[["ix", "iy", "lad"]], on=["ix", "iy"])


@pytest.mark.slow
def test_essex_top5_per_district_matches_pandas(essex):
    from hotspots.spots import find_spots

    folder, boundary, weighted, areas, table = essex
    # the ranking arithmetic against pandas: prisons kept, as the independent table has them
    result = find_spots(weighted, areas=areas, top=5, keep_prisons=True)
    spots = result.spots
    assert len(spots) == 70  # 14 districts x 5
    assert spots.groupby("area").size().eq(5).all()
    cells = independent_cells(folder, boundary, dict(table.weights))
    minx = spots.geometry.bounds["minx"].to_numpy()
    miny = spots.geometry.bounds["miny"].to_numpy()
    key = pd.DataFrame(
        {"ix": np.rint(minx / 150).astype(int), "iy": np.rint(miny / 150).astype(int)}
    )
    expected = key.merge(cells, on=["ix", "iy"], how="left")
    np.testing.assert_allclose(spots["harm"].to_numpy(), expected["harm"].to_numpy(), rtol=1e-9)
    assert (spots["n_incidents"].to_numpy() == expected["n"].to_numpy()).all()
    assert (spots["area"].to_numpy() == expected["lad"].to_numpy()).all()
    # and they are the top 5 of each district in the independent table (ties: incidents)
    top = (
        cells[cells["lad"] != "(outside)"]
        .sort_values(["lad", "harm", "n"], ascending=[True, False, False])
        .groupby("lad")
        .head(5)
    )
    assert set(zip(top["ix"], top["iy"], strict=True)) == set(
        zip(key["ix"], key["iy"], strict=True)
    )
    # by default the prison cells are left out, with a note, and the next cell moves up
    default = find_spots(weighted, areas=areas, top=5)
    prisons = spots[spots["institution"] == "prison"]
    assert len(prisons) >= 1
    assert not set(prisons["spot_id"]) & set(default.spots["spot_id"])
    assert any("at prisons left out" in n for n in default.summary["notes"])
    assert len(default.spots) == 70
    s = result.summary
    assert 0 < s["area_share"] < s["harm_share"] < 1
    assert s["study_area_km2"] == pytest.approx(3677, rel=0.01)
    assert s["headline"].startswith("70 spots hold ")


@pytest.mark.slow
def test_essex_week_later_marks_new_persisting_dropped(essex):
    from hotspots.spots import find_spots

    _, _, weighted, areas, _ = essex
    before = find_spots(weighted, areas=areas, top=5, as_of="2025-11-28")
    # month data: the windows are 2024-11..2025-10 and 2024-12..2025-11 (November arrives)
    after = find_spots(weighted, areas=areas, top=5, as_of="2025-12-05")
    old, new = set(before.spots["spot_id"]), set(after.spots["spot_id"])
    status = dict(zip(after.spots["spot_id"], after.spots["status"], strict=True))
    assert {k for k, v in status.items() if v == "persisting"} == new & old
    assert {k for k, v in status.items() if v == "new"} == new - old
    assert set(after.dropped["spot_id"]) == old - new
    assert len(new - old) > 0  # December's data moves some spots
    assert (after.dropped["status"] == "dropped").all()
    assert after.summary["n_dropped"] == len(old - new)


@pytest.mark.slow
def test_essex_same_spots_from_the_12_whole_months_at_three_as_of_dates(essex):
    from hotspots.spots import find_spots

    _, _, weighted, areas, _ = essex
    runs = [
        find_spots(weighted, areas=areas, top=5, as_of=day)
        for day in ("2025-12-31", "2026-01-07", "2026-01-28")
    ]
    ids = [r.spots["spot_id"].tolist() for r in runs]
    assert ids[0] == ids[1] == ids[2]
    assert {r.summary["window_months"] for r in runs} == {"2025-01..2025-12"}
    # given the previous run, the later runs say so and nothing flips
    again = find_spots(
        weighted,
        areas=areas,
        top=5,
        as_of="2026-01-07",
        previous_spots=runs[0].spots,
        previous_window=runs[0].summary["window"],
    )
    assert again.summary["notes"][0] == "no new data since 2025-12; spots unchanged"
    assert again.spots["status"].tolist() == runs[0].spots["status"].tolist()
    assert len(again.dropped) == 0
    # the vocabulary: no trend "new" (the data has no 2024), every spot named
    assert set(runs[0].spots["trend"]) == {"no_earlier_data"}
    assert (runs[0].spots["location"] != "").all()
    assert (runs[0].spots["n_points"] >= 1).all()
    assert "prison" not in set(runs[0].spots["institution"])


@pytest.mark.slow
def test_chicago_exact_times_name_peak_windows():
    from hotspots.config import IngestOptions
    from hotspots.harm import apply_harm, load_harm_table
    from hotspots.ingest import read_incidents
    from hotspots.spots import find_spots

    path = shared_path("exact_dated", "chicago", "chicago_crimes_sample_2017_2019.csv.gz")
    options = IngestOptions(
        x_col="longitude",
        y_col="latitude",
        time_col="date",
        time_format="%m/%d/%Y %H:%M",
        offence_col="primary_type",
        tz="America/Chicago",
    )
    incidents = read_incidents([path], options).incidents
    wanted = ["BATTERY", "ROBBERY", "ASSAULT"]
    weighted = apply_harm(
        incidents[incidents["offence"].isin(wanted).to_numpy()], load_harm_table("count")
    )
    result = find_spots(weighted, offences=wanted, top=5, lookback_days=1000, cell_m=300)
    spots = result.spots
    assert (spots["peak_windows"] != "").all()
    # independent check of the top spot's busiest 4-hour window with pandas
    top = spots.iloc[0]
    inside = weighted[weighted.geometry.within(top.geometry).to_numpy()]
    local = inside["occurred_at"]
    as_of = pd.Timestamp(result.parameters["as_of"], tz="America/Chicago")
    start = as_of - pd.Timedelta(days=999)
    local = local[(local >= start) & (local < as_of + pd.Timedelta(days=1))]
    how = (local.dt.day_of_week * 24 + local.dt.hour).to_numpy()
    counts = np.bincount(how, minlength=168)
    sums = np.array([counts[[(h + k) % 168 for k in range(4)]].sum() for h in range(168)])
    day, hour, length = _parse_first(top["peak_windows"])
    assert length == 4
    assert sums[day * 24 + hour] == sums.max()


def _parse_first(text: str) -> tuple[int, int, int]:
    from hotspots.spots._profile import parse_windows

    return parse_windows(text)[0]


@pytest.mark.slow
def test_dc_week_on_week_status_is_a_set_difference():
    """Exact-dated DC burglaries: a run at 2018-06-30 against the run 7 days earlier."""
    from hotspots.spots import find_spots

    raw = pd.read_csv(
        shared_path("exact_dated", "washington_dc", "DC_Burglary.csv.gz"), dtype={"id": str}
    )
    when = pd.to_datetime(raw["t"], utc=True).dt.tz_convert("America/New_York")
    pts = gpd.GeoDataFrame(
        {
            "occurred_at": when,
            "offence": "Burglary",
            "harm": 1.0,
            "time_resolution": "exact",
        },
        geometry=gpd.points_from_xy(raw["x"], raw["y"]),
        crs=4326,
    ).to_crs(26985)
    now = find_spots(pts, offences=None, top=20, as_of="2018-06-30", lookback_days=90)
    week = find_spots(pts, offences=None, top=20, as_of="2018-06-23", lookback_days=90)
    old, new = set(week.spots["spot_id"]), set(now.spots["spot_id"])
    status = dict(zip(now.spots["spot_id"], now.spots["status"], strict=True))
    assert {k for k, v in status.items() if v == "new"} == new - old
    assert {k for k, v in status.items() if v == "persisting"} == new & old
    assert set(now.dropped["spot_id"]) == old - new
    assert now.summary["window"] == "2018-04-02..2018-06-30"
    assert now.summary["window_months"] is None
    assert set(now.spots["trend"]) <= {"up", "down", "steady"}  # 2008 onwards: earlier data
