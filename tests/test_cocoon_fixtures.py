"""Hand-worked cocoon fixtures (imported by the other test_cocoon_* modules).

Three live dwelling burglaries in British National Grid metres, Europe/London times:

* B1 at (500000, 200000), 2025-03-01 10:00 -> due 2025-03-03 10:00
* B2 at (500300, 200000), 2025-03-03 12:00 -> due 2025-03-05 12:00 (300 m from B1: overlap)
* B3 at (510000, 200000), 2025-03-02 00:00 -> due 2025-03-04 00:00 (alone, in area East)
* B0 at (500000, 200000), 2025-01-01 -> expired on 2025-02-12 (never a zone at these dates)
* one shoplifting at (500000, 200000): not a dwelling burglary, never a zone

Addresses and their distances, worked out on paper:

=========  ==================  ==========  ==========
id         point               from B1     from B2
=========  ==================  ==========  ==========
home       (500005, 200000)    5 (home)    295
a100       (500100, 200000)    100         200
b2home     (500310, 200000)    310         10 (home)
a400       (500000, 200400)    400         500 (out)
out        (499500, 200000)    500 (out)   800 (out)
=========  ==================  ==========  ==========
"""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
import shapely

from hotspots.schema import (
    ADDRESS_ID,
    ADDRESS_TEXT,
    DWELLING_BURGLARY,
    INCIDENT_ID,
    OCCURRED_AT,
    OFFENCE,
    OFFENCE_CODE,
    POSTCODE,
    STREET,
    TIME_RESOLUTION,
)

TZ = "Europe/London"


def stamp(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


def make_incidents(resolution: str = "exact") -> gpd.GeoDataFrame:
    rows = [
        ("B1", "2025-03-01 10:00", 500_000.0, 200_000.0, True, "Burglary"),
        ("B2", "2025-03-03 12:00", 500_300.0, 200_000.0, True, "Burglary"),
        ("B3", "2025-03-02 00:00", 510_000.0, 200_000.0, True, "Burglary"),
        ("B0", "2025-01-01 00:00", 500_000.0, 200_000.0, True, "Burglary"),
        ("S1", "2025-03-02 00:00", 500_000.0, 200_000.0, False, "Shoplifting"),
    ]
    return gpd.GeoDataFrame(
        {
            INCIDENT_ID: [r[0] for r in rows],
            OCCURRED_AT: pd.to_datetime([r[1] for r in rows]).tz_localize(TZ),
            OFFENCE: [r[5] for r in rows],
            OFFENCE_CODE: pd.array(["28A", "28A", "28A", "28A", pd.NA], dtype="string"),
            DWELLING_BURGLARY: [r[4] for r in rows],
            TIME_RESOLUTION: resolution,
        },
        geometry=gpd.points_from_xy([r[2] for r in rows], [r[3] for r in rows]),
        crs=27700,
    )


def make_addresses() -> gpd.GeoDataFrame:
    pts = {
        "home": (500_005.0, 200_000.0),
        "a100": (500_100.0, 200_000.0),
        "b2home": (500_310.0, 200_000.0),
        "a400": (500_000.0, 200_400.0),
        "out": (499_500.0, 200_000.0),
    }
    ids = list(pts)
    return gpd.GeoDataFrame(
        {
            ADDRESS_ID: pd.array(ids, dtype="string"),
            ADDRESS_TEXT: pd.array([f"{i} house" for i in ids], dtype="string"),
            STREET: pd.array(["High St", "High St", "Mill Rd", "Mill Rd", pd.NA], dtype="string"),
            POSTCODE: pd.array(["CM1 1AA"] * 5, dtype="string"),
        },
        geometry=gpd.points_from_xy([p[0] for p in pts.values()], [p[1] for p in pts.values()]),
        crs=27700,
    )


def make_areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"area": ["West", "East"]},
        geometry=[
            shapely.box(490_000, 190_000, 505_000, 210_000),
            shapely.box(505_000, 190_000, 520_000, 210_000),
        ],
        crs=27700,
    )


def test_fixture_distances_are_as_documented():
    adds = make_addresses().set_index(ADDRESS_ID).geometry
    b1 = shapely.Point(500_000, 200_000)
    b2 = shapely.Point(500_300, 200_000)
    assert adds["a400"].distance(b1) == 400.0
    assert adds["a100"].distance(b1) == 100.0
    assert math.isclose(adds["a400"].distance(b2), 500.0)
    assert adds["b2home"].distance(b2) == 10.0
