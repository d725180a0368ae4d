"""Writers: CSV formula injection, the clean-number policy, the GeoPackage for planners."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from hotspots.demo import generate_town, write_town
from hotspots.outputs.files import (
    clean_numbers,
    neutralise_formulas,
    write_csv,
    write_geojson,
    write_geopackage,
)
from hotspots.pipeline import WeeklySettings, run_weekly

# ---------------------------------------------------------------------------- CSV injection


@pytest.mark.parametrize("cell", ['=HYPERLINK("x")', "+44 1234", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_get_a_quote(cell, tmp_path):
    frame = pd.DataFrame({"address": [cell, "1 High Street"], "n": [1, 2]})
    path = write_csv(frame, tmp_path / "t.csv")
    back = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    quoted = "'" + cell.replace("\r", "\n")  # a CR in a cell is written as a quoted LF
    assert back["address"].tolist() == [quoted, "1 High Street"]


def test_numbers_stay_numbers(tmp_path):
    frame = pd.DataFrame(
        {"change": [-3.5, 2.25], "delta": [-1, 4], "flag": [True, False], "when": ["-", "ok"]}
    )
    text = write_csv(frame, tmp_path / "t.csv").read_text("utf-8-sig")
    assert text.splitlines() == ["change,delta,flag,when", "-3.5,-1,True,'-", "2.25,4,False,ok"]


def test_categorical_and_string_columns_are_neutralised():
    frame = pd.DataFrame(
        {
            "street": pd.Categorical(["=cmd|' /C calc'!A0", "Abbey Street"]),
            "postcode": pd.array(["@ZZ1", None], dtype="string"),
        }
    )
    out = neutralise_formulas(frame)
    assert out["street"].tolist() == ["'=cmd|' /C calc'!A0", "Abbey Street"]
    assert out["postcode"].iloc[0] == "'@ZZ1" and pd.isna(out["postcode"].iloc[1])
    assert frame["street"].iloc[0].startswith("=")  # input unchanged


# ---------------------------------------------------------------------------- clean numbers


def test_rounding_policy_by_column_name():
    frame = pd.DataFrame(
        {
            "harm": [57634.05999999995],
            "harm_per_ha": [32032.29777777777],
            "harm_share": [0.004308732534138662],
            "mandatory_share_visited": [1 / 3],
            "easting": [569975.1342440792],
            "northing": [147975.5],
            "latitude": [51.2309421234],
            "longitude": [-1.9308471234],
            "area_m2": [22500.000000001],
            "area_km2": [4.885963891206205],
            "expected": [17.157894736842106],
            "p_value": [0.000123456789],
            "n_incidents": [371],
        }
    )
    out = clean_numbers(frame)
    row = out.iloc[0]
    assert row["harm"] == pytest.approx(57634.06) and repr(float(row["harm"])) == "57634.06"
    assert row["harm_per_ha"] == pytest.approx(32032.3)
    assert "harm_share" not in out and row["harm_share_pct"] == pytest.approx(0.43)
    assert row["mandatory_share_visited_pct"] == pytest.approx(33.33)
    assert row["easting"] == 569975 and str(out["easting"].dtype) == "Int64"
    assert row["northing"] == 147976  # half up at .5 by banker's rule: 147975.5 -> 147976
    assert repr(float(row["latitude"])) == "51.230942"
    assert repr(float(row["longitude"])) == "-1.930847"
    assert row["area_m2"] == 22500
    assert repr(float(row["area_km2"])) == "4.886"
    assert repr(float(row["expected"])) == "17.1579"
    assert repr(float(row["p_value"])) == "0.000123457"
    assert row["n_incidents"] == 371
    assert list(frame.columns)[2] == "harm_share"  # input unchanged


def test_missing_values_survive_rounding():
    out = clean_numbers(pd.DataFrame({"easting": [1.4, np.nan], "harm": [np.nan, 1.005]}))
    assert out["easting"].isna().tolist() == [False, True]
    assert out["harm"].isna().tolist() == [True, False]


def _decimals(value: float) -> int:
    text = repr(float(value))
    if "e" in text:
        return 99
    return len(text.split(".")[1].rstrip("0")) if "." in text else 0


ALLOWED = {"harm": 2, "harm_per_ha": 2, "harm_previous": 2, "harm_share_pct": 2, "easting": 0,
           "northing": 0, "latitude": 6, "longitude": 6, "area_m2": 0}  # fmt: skip


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = write_town(generate_town(seed=7, n_homes=1_000, years=1), tmp_path_factory.mktemp("t"))
    settings = WeeklySettings.from_mapping(
        {
            "areas": files["districts"],
            "area_field": "area",
            "addresses": files["addresses"],
            "visits": files["visits"],
            "patrols": files["patrols"],
            "knox_permutations": 19,
            "top": 3,
            "tiles": False,
        }
    )
    out = tmp_path_factory.mktemp("weekly") / "out"
    run_weekly([files["incidents"]], out=out, settings=settings)
    return out


def test_harm_spots_csv_has_no_float_noise(demo_run):
    frame = pd.read_csv(demo_run / "harm_spots.csv", encoding="utf-8-sig")
    assert "harm_share_pct" in frame and "harm_share" not in frame
    for name in frame.select_dtypes("number").columns:
        limit = ALLOWED.get(name, 6)
        worst = max((_decimals(v) for v in frame[name].dropna()), default=0)
        assert worst <= limit, f"{name}: {worst} decimals"


def test_cocoon_zones_geojson_has_no_float_noise(demo_run):
    doc = json.loads((demo_run / "cocoon_zones.geojson").read_text())
    for feature in doc["features"]:
        for name, value in feature["properties"].items():
            if isinstance(value, float):
                assert _decimals(value) <= ALLOWED.get(name, 6), (name, value)
            if name in ("easting", "northing"):
                assert isinstance(value, int), (name, value)


# ---------------------------------------------------------------------------- GeoPackage


def test_geopackage_metadata_datetimes_and_layers(demo_run):
    path = demo_run / "hotspots.gpkg"
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert {"harm_spots", "cocoon_zones", "areas", "cocoon_visits", "patrol_plan"} <= layers
    info = pyogrio.read_info(path, layer="cocoon_zones")
    types = dict(zip(info["fields"], info["ogr_types"], strict=True))
    assert types["occurred_at"] == "OFTDateTime" and types["due_by"] == "OFTDateTime"
    meta = info["dataset_metadata"]
    record = json.loads(meta["hotspots_provenance"])
    assert (
        record["command"] == "weekly" and meta["hotspots_version"] == record["software"]["version"]
    )
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT md_scope, metadata FROM gpkg_metadata").fetchall()
        refs = db.execute("SELECT reference_scope FROM gpkg_metadata_reference").fetchall()
        stamp = db.execute("SELECT occurred_at FROM cocoon_zones LIMIT 1").fetchone()[0]
    assert any("hotspots_provenance" in text for _, text in rows)
    assert ("geopackage",) in refs
    assert stamp.endswith("Z")  # GeoPackage DATETIME is UTC ISO 8601
    areas = gpd.read_file(path, layer="areas")
    source = gpd.read_file(next(demo_run.parent.parent.glob("t*/districts.geojson")))
    assert set(source.columns) - {"geometry"} <= set(areas.columns)


def test_write_geopackage_roundtrips_times(tmp_path):
    times = pd.to_datetime(["2026-10-12T04:44:15+01:00", "2026-01-12T09:00:00+00:00"], utc=True)
    layer = gpd.GeoDataFrame(
        {"occurred_at": times.tz_convert("Europe/London"), "harm": [1.234567, 2.0]},
        geometry=gpd.points_from_xy([1.0, 2.0], [3.0, 4.0]),
        crs=27700,
    )
    path = write_geopackage({"x": layer}, tmp_path / "x.gpkg", metadata={"command": "test"})
    back = pyogrio.read_dataframe(path, layer="x")
    assert back["occurred_at"].dt.tz_convert("UTC").tolist() == list(times)
    assert back["harm"].tolist() == pytest.approx([1.23, 2.0])
    assert pyogrio.read_info(path)["dataset_metadata"]["hotspots_command"] == "test"


def test_geojson_properties_are_clean(tmp_path):
    layer = gpd.GeoDataFrame(
        {"harm": [0.1 + 0.2], "harm_share": [0.5]},
        geometry=gpd.points_from_xy([400_000.123], [300_000.987]),
        crs=27700,
    )
    doc = json.loads(write_geojson(layer, tmp_path / "x.geojson").read_text())
    assert doc["features"][0]["properties"] == {"harm": 0.3, "harm_share_pct": 50.0}
