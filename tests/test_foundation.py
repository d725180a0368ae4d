import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Polygon

from hotspots._validate import check_choice, check_increasing, require_metric_crs
from hotspots.crs import BNG, detect_coordinate_kind, folium_location, working_crs_for
from hotspots.errors import CRSError, OptionError
from hotspots.outputs import write_csv, write_geojson, write_json


def test_detect_lonlat_and_projected():
    assert (
        detect_coordinate_kind(np.array([0.5, 0.6]), np.array([51.5, 51.6]), what="t") == "lonlat"
    )
    assert (
        detect_coordinate_kind(np.array([559000.0]), np.array([190000.0]), what="t") == "projected"
    )


def test_detect_mixed_refused():
    with pytest.raises(CRSError, match="pass --crs"):
        detect_coordinate_kind(np.array([0.5, 559000.0]), np.array([51.5, 190000.0]), what="t")


def test_working_crs_gb_and_utm():
    assert working_crs_for(np.array([0.5]), np.array([51.7])).equals(BNG)
    chicago = working_crs_for(np.array([-87.7]), np.array([41.9]))
    assert chicago.to_epsg() == 32616
    dc = working_crs_for(np.array([-77.0]), np.array([38.9]))
    assert dc.to_epsg() == 32618


@pytest.mark.parametrize("crs", [4326, 2264], ids=["geographic", "us-survey-feet"])
def test_require_metric_crs(crs):
    gdf = gpd.GeoDataFrame(geometry=gpd.points_from_xy([1.0], [1.0]), crs=crs)
    with pytest.raises(CRSError, match="projected CRS in metres"):
        require_metric_crs(gdf, what="incidents")


def test_choice_and_increasing_messages():
    with pytest.raises(OptionError, match=r"method must be one of \('grid', 'hex'\); got 'x'"):
        check_choice("x", ("grid", "hex"), name="method")
    with pytest.raises(OptionError, match="strictly increasing"):
        check_increasing([0, 200, 100], name="distance_bands_m")


def test_geojson_rfc7946(tmp_path):
    # clockwise exterior in BNG, must come out counter-clockwise, 7 decimals, no crs member
    square = Polygon([(560000, 190000), (560000, 190150), (560150, 190150), (560150, 190000)])
    layer = gpd.GeoDataFrame(
        {"name": ["<b>x</b>"], "when": [pd.Timestamp("2025-01-01", tz="Europe/London")]},
        geometry=[square],
        crs=27700,
    )
    path = write_geojson(layer, tmp_path / "a.geojson", metadata={"seed": 1})
    doc = json.loads(path.read_text())
    assert "crs" not in doc and doc["metadata"] == {"seed": 1}
    ring = doc["features"][0]["geometry"]["coordinates"][0]
    assert shapely.Polygon(ring).exterior.is_ccw
    for x, y in ring:
        assert round(x, 7) == x and round(y, 7) == y
        assert 0 < x < 1 and 51 < y < 52
    assert doc["features"][0]["properties"]["when"].startswith("2025-01-01T00:00:00")


def test_csv_has_both_coordinate_pairs(tmp_path):
    layer = gpd.GeoDataFrame(
        {"a": [1]}, geometry=gpd.points_from_xy([560000.0], [190000.0]), crs=27700
    )
    path = write_csv(layer, tmp_path / "a.csv")
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert list(back.columns) == ["a", "easting", "northing", "latitude", "longitude"]
    assert back.loc[0, "easting"] == pytest.approx(560000.0)


def test_json_nan_becomes_null(tmp_path):
    path = write_json(tmp_path / "r.json", {"x": float("nan"), "n": np.int64(3)})
    assert json.loads(path.read_text()) == {"n": 3, "x": None}


def test_folium_location_is_lat_lon():
    layer = gpd.GeoDataFrame(geometry=gpd.points_from_xy([560000.0], [190000.0]), crs=27700)
    lat, lon = folium_location(layer)
    assert 51 < lat < 52 and 0 < lon < 1


def test_iso_strings_match_isoformat_across_dst():
    from hotspots.outputs.files import iso_strings

    stamps = pd.Series(
        pd.to_datetime(["2025-03-30 00:30", "2025-03-30 02:30", None, "2025-10-26 01:30"])
    )
    local = stamps.dt.tz_localize("Europe/London", ambiguous=False, nonexistent="shift_forward")
    expected = [None if pd.isna(t) else t.isoformat() for t in local]
    assert iso_strings(local).tolist() == expected
    naive = pd.Series(pd.to_datetime(["2016-01-02 03:04:05"]))
    assert iso_strings(naive).tolist() == ["2016-01-02T03:04:05"]
