"""Areas layers checked (issue 11): repairs, names, overlaps and the one labelling rule."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from hotspots.areas import AREA_UNASSIGNED, label_points, read_areas
from hotspots.errors import InputError, SchemaError


def layer(names: list[object], geoms: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": names}, geometry=geoms, crs=27700)


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_invalid_polygon_is_repaired_with_a_note():
    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])  # self-crossing
    areas = read_areas(
        layer(["bow", "box"], [bowtie, shapely.box(20, 0, 30, 10)]),
        area_field="name",
        working_crs=27700,
    )
    assert areas.is_valid.all()
    assert areas.set_index("area").area["bow"] == pytest.approx(50.0)  # two 25 m² triangles
    assert areas.attrs["notes"] == [
        "--areas: repaired 1 invalid polygon(s) ('bow') with make_valid; check their shape "
        "in a GIS."
    ]


def test_unrepairable_polygon_is_refused():
    flat = shapely.Polygon([(0, 0), (10, 0), (20, 0)])  # no area at all
    with pytest.raises(InputError, match=r"the polygon of 'flat' is invalid and cannot be") as exc:
        read_areas(layer(["flat"], [flat]), area_field="name", working_crs=27700)
    one_line(exc)


def test_duplicate_names_are_refused_with_the_fix_or_merged_on_request(tmp_path):
    two = layer(
        ["A", "A", "B"], [shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1), shapely.box(5, 0, 6, 1)]
    )
    with pytest.raises(
        SchemaError, match=r"1 name name\(s\) belong to more than one feature \('A' x2\); pass"
    ) as exc:
        read_areas(two, area_field="name", working_crs=27700)
    one_line(exc)
    merged = read_areas(two, area_field="name", working_crs=27700, same_names="merge")
    assert merged["area"].tolist() == ["A", "B"]
    assert merged.area.tolist() == pytest.approx([2.0, 1.0])


@pytest.mark.parametrize("blank", [None, "", "  "])
def test_null_names_are_refused(blank):
    areas = layer(["A", blank], [shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)])
    with pytest.raises(
        SchemaError, match=r"1 feature\(s\) have no name \(feature 2\); fill"
    ) as exc:
        read_areas(areas, area_field="name", working_crs=27700)
    one_line(exc)


def test_over_long_names_are_refused():
    areas = layer(["x" * 245], [shapely.box(0, 0, 1, 1)])
    with pytest.raises(
        SchemaError, match=r"is 245 characters; area names become file names"
    ) as exc:
        read_areas(areas, area_field="name", working_crs=27700)
    one_line(exc)


def test_overlaps_go_to_the_smallest_area_whatever_the_order():
    town = shapely.box(0, 0, 100, 100)
    centre = shapely.box(40, 40, 60, 60)
    pts = gpd.GeoSeries(
        [shapely.Point(50, 50), shapely.Point(10, 10), shapely.Point(500, 500)], crs=27700
    )
    for names, geoms in (
        (["Town", "Centre"], [town, centre]),
        (["Centre", "Town"], [centre, town]),
    ):
        areas = read_areas(layer(names, geoms), area_field="name", working_crs=27700)
        assert "each point is given to the smallest area" in areas.attrs["notes"][0]
        assert list(label_points(pts, areas)) == ["Centre", "Town", AREA_UNASSIGNED]


def test_border_point_goes_to_the_smaller_then_first_named_area():
    areas = read_areas(
        layer(
            ["Wide", "Narrow", "Twin"],
            [shapely.box(0, 0, 20, 10), shapely.box(20, 0, 30, 10), shapely.box(30, 0, 40, 10)],
        ),
        area_field="name",
        working_crs=27700,
    )
    pts = gpd.GeoSeries([shapely.Point(20, 5), shapely.Point(30, 5)], crs=27700)
    # (20, 5): Wide 200 m² vs Narrow 100 m² -> Narrow; (30, 5): equal sizes -> by name
    assert list(label_points(pts, areas)) == ["Narrow", "Narrow"]
    assert areas.attrs["notes"] == []  # touching is not overlapping


def test_input_layer_is_not_changed():
    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    given = layer(["bow"], [bowtie])
    read_areas(given, area_field="name", working_crs=27700)
    assert not given.is_valid.iloc[0] and given.columns.tolist() == ["name", "geometry"]
    assert np.isclose(given.area.iloc[0], 0.0)
