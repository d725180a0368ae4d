"""Fixed-origin grids: cells, the edge rule, readable ids, hexagons of equal area."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.spots import cell_ids, cell_polygons, grid_cells, hex_cells, hex_polygons
from hotspots.spots._grid import bng_reference, hex_centres, hex_side_m


def test_point_on_edge_goes_east_and_north():
    ix, iy = grid_cells(
        np.array([150.0, 149.999, 0.0, -0.001]), np.array([300.0, 299.999, 0.0, -150.0]), cell_m=150
    )
    assert ix.tolist() == [1, 0, 0, -1]
    assert iy.tolist() == [2, 1, 0, -1]


def test_cell_origin_is_fixed_not_data_dependent():
    a = grid_cells(np.array([600_010.0]), np.array([199_960.0]), cell_m=150)
    b = grid_cells(np.array([600_010.0, 1_000.0]), np.array([199_960.0, 5.0]), cell_m=150)
    assert (a[0][0], a[1][0]) == (b[0][0], b[1][0]) == (4000, 1333)


@pytest.mark.parametrize(
    ("e", "n", "digits", "ref"),
    [
        (530_000, 180_000, 4, "TQ3000_8000"),  # central London, TQ 30 80
        (216_667, 771_285, 5, "NN16667_71285"),  # Ben Nevis summit, NN 16667 71285
        (651_409, 313_177, 4, "TG5140_1317"),  # Norwich area, TG
        (0, 0, 4, "SV0000_0000"),  # false origin
    ],
)
def test_bng_reference_matches_known_grid_references(e, n, digits, ref):
    assert bng_reference(np.array([e]), np.array([n]), digits=digits).tolist() == [ref]


def test_cell_ids_readable_in_bng_and_indices_elsewhere():
    ix, iy = np.array([4000, 4001]), np.array([1333, 1333])
    assert cell_ids(ix, iy, cell_m=150.0, crs=27700).tolist() == ["TR0000_9995", "TR0015_9995"]
    assert cell_ids(ix, iy, cell_m=150.0, crs=32631).tolist() == ["x4000_y1333", "x4001_y1333"]
    # 1 m digits when the cell is not a multiple of 10 m, so ids stay unique
    assert cell_ids(np.array([1, 2]), np.array([0, 0]), cell_m=5.0, crs=27700).tolist() == [
        "SV00005_00000",
        "SV00010_00000",
    ]
    # outside the BNG extent: index ids
    assert cell_ids(np.array([-1]), np.array([0]), cell_m=150.0, crs=27700).tolist() == ["x-1_y0"]


def test_cell_polygons_are_the_cells():
    polys = cell_polygons(np.array([4000]), np.array([1333]), cell_m=150.0)
    assert shapely.bounds(polys).tolist() == [[600_000.0, 199_950.0, 600_150.0, 200_100.0]]


def test_hexagons_have_the_square_cells_area():
    q, r = np.array([0, 3, -2]), np.array([0, -1, 5])
    np.testing.assert_allclose(shapely.area(hex_polygons(q, r, cell_m=150.0)), 22_500.0)
    np.testing.assert_allclose(hex_side_m(150.0) ** 2 * 3 * np.sqrt(3) / 2, 22_500.0)


def test_hex_edge_point_goes_north_then_east():
    s = hex_side_m(150.0)
    w = np.sqrt(3.0) * s
    # midway between the centres (0,0) and (w,0): same y, so the east one wins
    q, r = hex_cells(np.array([w / 2]), np.array([0.0]), cell_m=150.0)
    assert (q[0], r[0]) == (1, 0)
    # midway between (0,0) and the centre of (0,1) to its north-east: the north one wins
    cx, cy = hex_centres(np.array([0]), np.array([1]), cell_m=150.0)
    q, r = hex_cells(cx / 2, cy / 2, cell_m=150.0)
    assert (q[0], r[0]) == (0, 1)


@settings(max_examples=60, deadline=None)
@given(x=st.floats(-5e5, 5e5), y=st.floats(-5e5, 5e5), cell_m=st.floats(20, 500))
def test_each_point_lies_in_its_cell_and_hexagon(x, y, cell_m):
    ix, iy = grid_cells(np.array([x]), np.array([y]), cell_m=cell_m)
    box = cell_polygons(ix, iy, cell_m=cell_m)[0]
    assert shapely.intersects(box, shapely.Point(x, y)) or box.distance(shapely.Point(x, y)) < 1e-6
    q, r = hex_cells(np.array([x]), np.array([y]), cell_m=cell_m)
    hexagon = hex_polygons(q, r, cell_m=cell_m)[0]
    assert hexagon.distance(shapely.Point(x, y)) < 1e-6 * max(1.0, abs(x), abs(y))
    # and no other hexagon centre is nearer than its own (brute force over neighbours)
    cx, cy = hex_centres(q, r, cell_m=cell_m)
    own = np.hypot(x - cx[0], y - cy[0])
    dq, dr = np.meshgrid(np.arange(-2, 3), np.arange(-2, 3))
    ox, oy = hex_centres(q[0] + dq.ravel(), r[0] + dr.ravel(), cell_m=cell_m)
    assert own <= np.hypot(x - ox, y - oy).min() + 1e-6 * max(1.0, abs(x), abs(y))
