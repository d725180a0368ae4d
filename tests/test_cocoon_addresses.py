"""Reading address layers: Code-Point Open, generic CSV, GeoJSON/GeoPackage, bad input."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.cocoon import AddressIndex, read_addresses
from hotspots.errors import InputError, SchemaError
from hotspots.schema import ADDRESS_ID, ADDRESS_TEXT, POSTCODE, REJECT_REASON, SOURCE_ROW, STREET

CODEPOINT = (
    "Postcode,Positional_quality_indicator,Eastings,Northings,Country_code,NHS_regional_HA_code,"
    "NHS_HA_code,Admin_county_code,Admin_district_code,Admin_ward_code,longitude,latitude\n"
    "CM0 7AA,10,595734,199745,E92000001,E19000001,E18000006,E10000012,E07000074,E05004202,"
    "0.828708,51.662389\n"
    "CM0 7AB,10,595736,199886,E92000001,E19000001,E18000006,E10000012,E07000074,E05004202,"
    "0.828816,51.663654\n"
    "CM0 7AD,10,,,E92000001,E19000001,E18000006,E10000012,E07000074,E05004202,,\n"
)


def test_codepoint_open_is_recognised(tmp_path):
    path = tmp_path / "cp.csv"
    path.write_text(CODEPOINT)
    adds, rejected = read_addresses(path)
    assert adds[ADDRESS_ID].tolist() == ["CM0 7AA", "CM0 7AB"]
    assert adds[ADDRESS_TEXT].tolist() == ["CM0 7AA", "CM0 7AB"]
    assert adds[POSTCODE].tolist() == ["CM0 7AA", "CM0 7AB"]
    assert adds[STREET].isna().all()
    assert adds.crs.to_epsg() == 27700
    # Eastings/Northings are used as they are (not the rounded lon/lat columns)
    assert adds.geometry.x.tolist() == [595734.0, 595736.0]
    assert rejected[SOURCE_ROW].tolist() == [3]
    assert rejected[REJECT_REASON].tolist() == ["no_location"]
    assert rejected[ADDRESS_ID].tolist() == ["CM0 7AD"]


def test_generic_csv_lonlat_with_named_columns(tmp_path):
    path = tmp_path / "uprn.csv"
    pd.DataFrame(
        {
            "UPRN": ["100", "101", "102", "101"],
            "lat": [51.7, 51.71, 0.0, 51.72],
            "lon": [0.5, 0.51, 0.0, 0.52],
            "full_address": ["1 High St", "2 High St", "nowhere", "dup"],
            "street_name": ["High St", "High St", "X", "Y"],
        }
    ).to_csv(path, index=False)
    adds, rejected = read_addresses(path)
    assert adds[ADDRESS_ID].tolist() == ["100", "101"]
    assert adds[ADDRESS_TEXT].tolist() == ["1 High St", "2 High St"]
    assert adds[STREET].tolist() == ["High St", "High St"]
    assert adds.crs.to_epsg() == 27700  # lon/lat in Great Britain -> BNG
    assert rejected[REJECT_REASON].tolist() == ["coordinates_zero", "duplicate_id"]
    assert rejected[SOURCE_ROW].tolist() == [3, 4]


def test_ids_generated_when_absent(tmp_path):
    path = tmp_path / "pts.csv"
    pd.DataFrame({"x": [550_000.0, 550_010.0], "y": [200_000.0, 200_000.0]}).to_csv(
        path, index=False
    )
    adds, _ = read_addresses(path, crs="EPSG:27700")
    assert adds[ADDRESS_ID].tolist() == ["A1", "A2"]


def test_id_col_named_and_missing(tmp_path):
    path = tmp_path / "pts.csv"
    pd.DataFrame({"x": [550_000.0], "y": [200_000.0], "ref": ["007"]}).to_csv(path, index=False)
    adds, _ = read_addresses(path, id_col="ref")
    assert adds[ADDRESS_ID].tolist() == ["007"]  # kept as text, leading zeros intact
    with pytest.raises(SchemaError, match=r"Address file pts.csv has no column 'uprn'"):
        read_addresses(path, id_col="uprn")


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg"])
def test_spatial_files(tmp_path, suffix):
    layer = gpd.GeoDataFrame(
        {"id": ["a", "b", "c"], "addr:street": ["Mill Rd", "Mill Rd", None]},
        geometry=[shapely.Point(0.5, 51.7), shapely.box(0.5, 51.7, 0.5001, 51.7001), None],
        crs=4326,
    )
    path = tmp_path / f"osm{suffix}"
    layer.to_file(path, engine="pyogrio")
    adds, rejected = read_addresses(path, working_crs=27700)
    assert adds[ADDRESS_ID].tolist() == ["a", "b"]
    assert adds[STREET].tolist() == ["Mill Rd", "Mill Rd"]
    assert (adds.geom_type == "Point").all()  # the polygon became a point inside it
    assert rejected[REJECT_REASON].tolist() == ["no_location"]


def test_no_usable_coordinates_is_one_line_error(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("Postcode,Eastings,Northings\nCM0 7AA,,\nCM0 7AB,,\n")
    with pytest.raises(
        InputError,
        match=r"Address file bad.csv has no usable coordinates in any "
        r"of its 2 rows .*--address-x-col/--address-y-col",
    ):
        read_addresses(path)


def test_no_coordinate_columns(tmp_path):
    path = tmp_path / "text.csv"
    path.write_text("uprn,address\n1,1 High St\n")
    with pytest.raises(SchemaError, match=r"has no coordinate columns .* --x-col and --y-col"):
        read_addresses(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"does not exist .* --addresses path"):
        read_addresses(tmp_path / "nope.csv")


def test_index_nearest_and_ties():
    layer = gpd.GeoDataFrame(
        {ADDRESS_ID: ["a", "b", "c"]},
        geometry=gpd.points_from_xy([0.0, 10.0, -10.0], [0.0, 0.0, 0.0]),
        crs=27700,
    )
    index = AddressIndex(layer)
    found, dist = index.nearest(
        shapely.points([[5.0, 0.0], [100.0, 0.0], [1.0, 0.0]]), max_distance_m=25.0
    )
    assert found.tolist() == [0, -1, 0]  # 5 m tie between a and b -> lowest position
    np.testing.assert_allclose(dist[[0, 2]], [5.0, 1.0])
    assert index.count_within(shapely.points([[0.0, 0.0]]), 10.0).tolist() == [3]


def test_index_refuses_non_points():
    layer = gpd.GeoDataFrame({ADDRESS_ID: ["a"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=27700)
    with pytest.raises(InputError, match="addresses must be points"):
        AddressIndex(layer)


def test_disk_cache_gives_same_pairs_and_is_reused(tmp_path):
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 2000, (3000, 2)).round(1) + 500_000
    layer = gpd.GeoDataFrame(
        {ADDRESS_ID: [f"a{i}" for i in range(len(xy))]},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=27700,
    )
    pts = shapely.points(rng.uniform(0, 2000, (50, 2)) + 500_000)
    memory = AddressIndex(layer)
    disk = AddressIndex(layer, cache_dir=tmp_path / "cache")
    assert disk.tree_ is None and disk.cache_path_ is not None
    for got, want in zip(disk.within(pts, 250.0), memory.within(pts, 250.0), strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(
        disk.nearest(pts, max_distance_m=30.0)[0], memory.nearest(pts, max_distance_m=30.0)[0]
    )
    files = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(files) == 2 and {f.rsplit(".", 1)[1] for f in files} == {"dat", "idx"}
    stamp = (tmp_path / "cache" / files[0]).stat().st_mtime_ns
    again = AddressIndex(layer, cache_dir=tmp_path / "cache")  # opened, not rebuilt
    assert again.cache_path_ == disk.cache_path_
    assert (tmp_path / "cache" / files[0]).stat().st_mtime_ns == stamp
    moved = layer.set_geometry(layer.geometry.translate(1.0, 0.0))  # changed layer: new index
    assert AddressIndex(moved, cache_dir=tmp_path / "cache").cache_path_ != disk.cache_path_
