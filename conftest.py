"""Root conftest: names that docstring examples use (run with --doctest-modules)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely


def make_example_spots() -> gpd.GeoDataFrame:
    """Three 150 m harm spots in British National Grid metres, ranked by harm."""
    corners = [(560_100.0, 190_050.0), (560_250.0, 190_050.0), (560_700.0, 190_500.0)]
    return gpd.GeoDataFrame(
        {
            "spot_id": ["TQ6010_9005", "TQ6025_9005", "TQ6070_9050"],
            "rank": [1, 2, 3],
            "area_rank": [1, 2, 3],
            "area": ["Town"] * 3,
            "harm": [1_460.0, 730.0, 365.0],
            "harm_share": [0.4, 0.2, 0.1],
            "n_incidents": [6, 3, 1],
            "offence_mix": [
                "Robbery: 4; Violence and sexual offences: 2",
                "Robbery: 2; Drugs: 1",
                "Robbery: 1",
            ],
            "area_m2": [22_500.0] * 3,
            "harm_per_ha": [648.9, 324.4, 162.2],
            "status": ["persisting", "new", "new"],
            "peak_windows": ["Fri-Sat 22:00-03:00", "", ""],
        },
        geometry=[shapely.box(x, y, x + 150, y + 150) for x, y in corners],
        crs=27700,
    )


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace: dict) -> None:
    doctest_namespace["example_spots"] = make_example_spots()
    doctest_namespace["pd"] = pd
    doctest_namespace["gpd"] = gpd
