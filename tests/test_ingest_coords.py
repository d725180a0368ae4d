"""points_from_columns: column detection, CRS detection, projection, per-row reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from hotspots.errors import CRSError, OptionError, SchemaError
from hotspots.ingest import points_from_columns

# Colchester town hall, checked independently with pyproj below
LON, LAT = 0.899, 51.889


def _bng(lon: float, lat: float) -> tuple[float, float]:
    return Transformer.from_crs(4326, 27700, always_xy=True).transform(lon, lat)


@pytest.mark.parametrize(
    ("x_name", "y_name"),
    [
        ("Longitude", "Latitude"),
        ("longitude", "latitude"),
        ("lon", "lat"),
        ("long", "lat"),
        ("lng", "lat"),
        ("LNG", "LAT"),
        ("x", "y"),
    ],
)
def test_lonlat_pairs_detected_and_projected_to_bng(x_name, y_name):
    table = pd.DataFrame({x_name: [LON], y_name: [LAT]})
    points, reasons = points_from_columns(table, what="t.csv")
    assert points.crs.to_epsg() == 27700
    ex, ey = _bng(LON, LAT)
    assert points.iloc[0].x == pytest.approx(ex, abs=1e-6)
    assert points.iloc[0].y == pytest.approx(ey, abs=1e-6)
    assert list(reasons) == [""]


@pytest.mark.parametrize(
    ("x_name", "y_name"),
    [("easting", "northing"), ("Eastings", "Northings"), ("X_COORD_CD", "Y_COORD_CD")],
)
def test_metre_pairs_inside_gb_grid_are_bng(x_name, y_name):
    table = pd.DataFrame({x_name: [595734, 595736], y_name: [199745, 199886]})
    points, reasons = points_from_columns(table, what="t.csv")
    assert points.crs.to_epsg() == 27700
    np.testing.assert_allclose(points.x, [595734, 595736])
    assert list(reasons) == ["", ""]


def test_lonlat_preferred_over_projected_pair():
    table = pd.DataFrame(
        {"x": [350353.39], "y": [578924.25], "longitude": [-87.7267], "latitude": [41.879748]}
    )
    points, _ = points_from_columns(table, what="chicago.csv")
    assert points.crs.to_epsg() == 32616  # UTM 16N for Chicago


def test_given_projected_crs_goes_to_local_utm():
    table = pd.DataFrame({"x": [350353.3949568907], "y": [578924.2528580318]})
    points, reasons = points_from_columns(table, crs="EPSG:26971", what="chicago.csv")
    assert points.crs.to_epsg() == 32616
    # independent: EPSG:26971 -> lon/lat (the README gives -87.7267, 41.879748) -> UTM 16N
    ex, ey = Transformer.from_crs(4326, 32616, always_xy=True).transform(-87.7267, 41.879748)
    assert points.iloc[0].x == pytest.approx(ex, abs=1.0)
    assert points.iloc[0].y == pytest.approx(ey, abs=1.0)
    assert list(reasons) == [""]


def test_dc_lonlat_in_x_y_goes_to_utm_18n():
    table = pd.DataFrame({"x": [-76.994365889724193], "y": [38.888681416229346]})
    points, _ = points_from_columns(table, what="dc.csv")
    assert points.crs.to_epsg() == 32618


def test_working_crs_override():
    table = pd.DataFrame({"lon": [LON], "lat": [LAT]})
    points, _ = points_from_columns(table, working_crs="EPSG:32631", what="t.csv")
    assert points.crs.to_epsg() == 32631


def test_reason_codes_per_row():
    table = pd.DataFrame(
        {
            "Longitude": ["0.899", "", "0", "999", "abc", " 0.9 "],
            "Latitude": ["51.889", None, "0", "51", "51", "51.9"],
        }
    )
    points, reasons = points_from_columns(table, what="t.csv")
    assert list(reasons) == [
        "",
        "no_location",
        "coordinates_zero",
        "coordinates_out_of_range",
        "no_location",
        "",
    ]
    assert points.isna().tolist() == [False, True, True, True, True, False]
    assert points.index.equals(table.index)


def test_projected_point_outside_area_of_use_is_out_of_range():
    table = pd.DataFrame({"x": [350353.39, 1e9], "y": [578924.25, 5.0]})
    _, reasons = points_from_columns(table, crs="EPSG:26971", what="t.csv")
    assert list(reasons) == ["", "coordinates_out_of_range"]


def test_input_not_mutated():
    table = pd.DataFrame({"lon": ["0.899"], "lat": ["51.889"]})
    before = table.copy()
    points_from_columns(table, what="t.csv")
    pd.testing.assert_frame_equal(table, before)


def test_no_coordinate_columns():
    with pytest.raises(
        SchemaError, match=r"t\.csv has no coordinate columns .*--x-col and --y-col"
    ):
        points_from_columns(pd.DataFrame({"a": [1], "b": [2]}), what="t.csv")


def test_named_column_missing():
    with pytest.raises(SchemaError, match=r"t\.csv has no column\(s\) \['X'\]"):
        points_from_columns(pd.DataFrame({"x": [1], "y": [2]}), x_col="X", y_col="y", what="t.csv")


def test_only_one_of_x_y():
    with pytest.raises(OptionError, match="give both --x-col and --y-col"):
        points_from_columns(pd.DataFrame({"x": [1], "y": [2]}), x_col="x", what="t.csv")


def test_projected_outside_gb_needs_crs():
    table = pd.DataFrame({"x": [3503530.0], "y": [5789240.0]})
    with pytest.raises(CRSError, match=r"outside the British National Grid.*--crs"):
        points_from_columns(table, what="t.csv")


def test_mixed_degrees_and_metres_refused():
    table = pd.DataFrame({"x": [0.9, 0.91, 595734.0, 595736.0], "y": [51.9, 51.8, 199745.0, 2e5]})
    with pytest.raises(CRSError, match="mixes coordinates that look like lon/lat"):
        points_from_columns(table, what="t.csv")


def test_unknown_crs():
    with pytest.raises(CRSError, match=r"--crs 'EPSG:999999' is not a CRS"):
        points_from_columns(pd.DataFrame({"x": [1.0], "y": [2.0]}), crs="EPSG:999999", what="t.csv")


def test_geographic_working_crs_refused():
    with pytest.raises(CRSError, match="--working-crs must be a projected CRS in metres"):
        points_from_columns(
            pd.DataFrame({"x": [1.0], "y": [2.0]}), working_crs="EPSG:4326", what="t.csv"
        )
