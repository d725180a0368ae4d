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
    result = find_spots(weighted, areas=areas, top=5)
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
    s = result.summary
    assert 0 < s["area_share"] < s["harm_share"] < 1
    assert s["study_area_km2"] == pytest.approx(3677, rel=0.01)
    assert s["headline"].startswith("70 spots hold ")


@pytest.mark.slow
def test_essex_week_later_marks_new_persisting_dropped(essex):
    from hotspots.spots import find_spots

    _, _, weighted, areas, _ = essex
    before = find_spots(weighted, areas=areas, top=5, as_of="2025-11-28")
    after = find_spots(weighted, areas=areas, top=5, as_of="2025-12-05")  # December arrives
    old, new = set(before.spots["spot_id"]), set(after.spots["spot_id"])
    status = dict(zip(after.spots["spot_id"], after.spots["status"], strict=True))
    assert {k for k, v in status.items() if v == "persisting"} == new & old
    assert {k for k, v in status.items() if v == "new"} == new - old
    assert set(after.dropped["spot_id"]) == old - new
    assert len(new - old) > 0  # December's data moves some spots
    assert (after.dropped["status"] == "dropped").all()
    assert after.summary["n_dropped"] == len(old - new)


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
