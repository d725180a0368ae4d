"""Districts from LSOA names, strays and the study area (hand-worked, then real forces)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from tests.conftest import shared_path

from hotspots.errors import SchemaError
from hotspots.schema import HARM, LSOA_NAME, OCCURRED_AT, OFFENCE, TIME_RESOLUTION
from hotspots.spots import find_spots
from hotspots.studyarea import district_of_lsoa_name, study_area_from_lsoa_names


def test_district_of_lsoa_name():
    names = pd.Series(["Amber Valley 005E", "Southend-on-Sea 012B", " Basildon 001A ", None])
    assert district_of_lsoa_name(names).tolist() == [
        "Amber Valley",
        "Southend-on-Sea",
        "Basildon",
        pd.NA,
    ]


def town() -> gpd.GeoDataFrame:
    """'Town': 16 points on a 1 km lattice 0..3000 m (a 3 x 3 km square, 9 km²), 10 records
    at each lattice point (160); 1 Town record 50 km east (far from its district); 1 'Kent'
    record 200 km north (a district with 1 of 162 records: 0.6% < 1%)."""
    g = np.arange(0, 3001, 1000.0)
    xx, yy = np.meshgrid(g, g)
    x = np.repeat(xx.ravel(), 10).tolist() + [50_000.0, 0.0]
    y = np.repeat(yy.ravel(), 10).tolist() + [0.0, 200_000.0]
    names = ["Town 001A"] * 160 + ["Town 002B", "Kent 001A"]
    return gpd.GeoDataFrame({LSOA_NAME: names}, geometry=gpd.points_from_xy(x, y), crs=27700)


def test_strays_flagged_with_reasons_and_kept_out_of_the_study_area():
    area = study_area_from_lsoa_names(town(), min_share=0.01)
    assert area.districts["area"].tolist() == ["Town"]
    assert area.n_strays == 2
    assert area.stray_reason[-2:].tolist() == ["far_from_district", "outside_force_districts"]
    assert area.district.iloc[0] == "Town"
    assert area.district.iloc[-2:].isna().all()
    # the hull of the lattice is the 3 x 3 km square; grown cells cover all of it
    assert area.area_km2 == pytest.approx(9.0)
    assert area.text == "force districts from police.uk LSOA names (1), 9.0 km²"
    assert "2 stray records kept out of it" in area.note()


def test_enclosed_town_keeps_its_own_records():
    """'Ring' surrounds 'Core': Ring's hull covers Core, yet Core's records stay Core's."""
    ring = [(x, y) for x in range(0, 10_001, 1000) for y in (0, 10_000)]
    ring += [(x, y) for x in (0, 10_000) for y in range(1000, 10_000, 1000)]
    core = [(x, y) for x in (4500, 5000, 5500) for y in (4500, 5000, 5500)]
    xy = ring + core
    pts = gpd.GeoDataFrame(
        {LSOA_NAME: ["Ring 001A"] * len(ring) + ["Core 001A"] * len(core)},
        geometry=gpd.points_from_xy(*zip(*xy, strict=True)),
        crs=27700,
    )
    area = study_area_from_lsoa_names(pts, grow_m=3000.0)
    from hotspots.areas import label_points

    labels = label_points(pts.geometry, area.districts)
    assert labels.tolist() == pts[LSOA_NAME].str[:4].tolist()
    core_shape = area.districts.set_index("area").geometry["Core"]
    ring_shape = area.districts.set_index("area").geometry["Ring"]
    assert core_shape.intersection(ring_shape).area == pytest.approx(0.0, abs=1e-6)
    assert area.area_km2 <= 100.0 + 1e-6  # inside the ring's 10 x 10 km hull


def test_without_lsoa_names_is_refused():
    with pytest.raises(SchemaError, match="no 'lsoa_name' column"):
        study_area_from_lsoa_names(town().drop(columns=[LSOA_NAME]))


def test_find_spots_names_the_study_area_in_its_figures():
    pts = town()
    pts[OCCURRED_AT] = pd.Timestamp("2025-06-01", tz="Europe/London")
    pts[OFFENCE] = "Robbery"
    pts[HARM] = 10.0
    pts[TIME_RESOLUTION] = "month"
    area = study_area_from_lsoa_names(pts, min_share=0.01)
    r = find_spots(pts, top=1, offences=None, study_area=area)
    assert r.summary["study_area_km2"] == pytest.approx(9.0)
    assert r.summary["headline"].endswith(
        "(force districts from police.uk LSOA names (1), 9.0 km²)"
    )
    # one 150 m cell of 9 km²: 0.0225 / 9 = 0.25%
    assert r.summary["area_share"] == pytest.approx(0.0225 / 9.0)


# ---------------------------------------------------------------- real forces
# Published force areas, ONS standard area measurements (km², rounded): the reference
# for forces without a boundary file here. Essex also has its real boundary.
FORCE_AREA_KM2 = {
    "essex": 3_670,
    "devon-and-cornwall": 10_270,
    "hampshire": 4_150,
    "lancashire": 3_075,
    "northumbria": 5_555,
    "sussex": 3_790,
}


def _police_uk(force: str) -> gpd.GeoDataFrame:
    folder = shared_path("police_uk", f"{force}_2025")
    cols = ["Longitude", "Latitude", "LSOA name", "LSOA code"]
    raw = pd.concat(
        [pd.read_csv(f, usecols=cols) for f in sorted(folder.glob("*.csv.gz"))],
        ignore_index=True,
    ).dropna(subset=["Longitude", "Latitude"])
    pts = gpd.GeoDataFrame(
        {LSOA_NAME: raw["LSOA name"].to_numpy(), "lsoa_code": raw["LSOA code"].to_numpy()},
        geometry=gpd.points_from_xy(raw["Longitude"], raw["Latitude"]),
        crs=4326,
    )
    return pts.to_crs(27700)


def _lsoa_point_hulls_km2(pts: gpd.GeoDataFrame, keep: np.ndarray) -> float:
    import shapely

    sub = pts[keep]
    hulls = sub.geometry.groupby(sub["lsoa_code"].to_numpy()).agg(
        lambda g: shapely.convex_hull(shapely.multipoints(g.to_numpy()))
    )
    return float(shapely.union_all(hulls.to_numpy()).area) / 1e6


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("force", sorted(FORCE_AREA_KM2))
def test_study_area_of_real_forces(force):
    pts = _police_uk(force)
    area = study_area_from_lsoa_names(pts)
    ref = FORCE_AREA_KM2[force]
    assert abs(area.area_km2 - ref) / ref < 0.20, (force, area.area_km2, ref)
    # never smaller than what the force districts' LSOA points themselves cover
    assert area.area_km2 >= _lsoa_point_hulls_km2(pts, ~area.stray)
    assert 0 < area.n_strays < 0.01 * len(pts)
    # districts never overlap, cover the study area, and hold their own records
    assert float(area.districts.area.sum()) / 1e6 == pytest.approx(area.area_km2, rel=1e-6)
    from hotspots.areas import label_points

    kept = pts[~area.stray]
    labels = label_points(kept.geometry, area.districts)
    same = labels == area.district[~area.stray].fillna("").to_numpy(dtype=object)
    assert same.mean() > 0.99, same.mean()
    if force == "essex":
        boundary = gpd.read_file(
            shared_path("boundaries", "essex_police_force_area.geojson")
        ).to_crs(27700)
        real_km2 = float(boundary.area.sum()) / 1e6
        assert abs(area.area_km2 - real_km2) / real_km2 < 0.10
        assert len(area.districts) == 14
        assert "Redbridge" not in set(area.districts["area"])


def test_districts_as_areas_are_named_in_the_figures():
    pts = town()
    pts[OCCURRED_AT] = pd.Timestamp("2025-06-01", tz="Europe/London")
    pts[OFFENCE] = "Robbery"
    pts[HARM] = 10.0
    pts[TIME_RESOLUTION] = "month"
    area = study_area_from_lsoa_names(pts, min_share=0.01)
    r = find_spots(pts, top=1, offences=None, areas=area.districts, study_area=area)
    assert r.spots["area"].tolist() == ["Town"]
    assert r.summary["study_area"] == "force districts from police.uk LSOA names (1)"
    assert any("2 incidents in the window lie outside every area" in n for n in r.summary["notes"])


def test_find_spots_builds_the_study_area_from_lsoa_names_by_default():
    pts = town()
    pts[OCCURRED_AT] = pd.Timestamp("2025-06-01", tz="Europe/London")
    pts[OFFENCE] = "Robbery"
    pts[HARM] = 10.0
    pts[TIME_RESOLUTION] = "month"
    r = find_spots(pts, top=1, offences=None)
    # the default min_share 0.5% keeps Kent (1 of 162 records) as a district here, but
    # the Town record 50 km away is a stray: the study area is Town's 9 km² square plus
    # Kent's single occupied cell
    notes = " ".join(r.summary["notes"])
    assert "Study area: force districts from police.uk LSOA names (2)" in notes
    assert "1 stray records kept out of it (1 far from district)" in notes
    assert r.summary["study_area_km2"] == pytest.approx(10.0)
    assert find_spots(pts, top=1, offences=None, study_area=None).summary["study_area"] == (
        "data extent (convex hull of the window's incidents)"
    )
