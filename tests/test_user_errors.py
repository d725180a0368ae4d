"""User mistakes reach the user as one-line HotspotsError messages, not bare ValueErrors."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.errors import HotspotsError, InputError, OptionError
from hotspots.nearrepeat.pairs import close_pairs


@pytest.mark.parametrize(
    ("xy", "pattern"),
    [
        (np.zeros((3, 3)), r"xy must have shape \(n, 2\) .*; got \(3, 3\)\."),
        (np.array([[0.0, 0.0], [np.nan, 1.0]]), "NaN or infinite coordinates"),
    ],
)
def test_close_pairs_bad_points_are_input_errors(xy, pattern):
    with pytest.raises(InputError, match=pattern) as info:
        close_pairs(xy, max_distance_m=10)
    assert isinstance(info.value, ValueError) and "\n" not in str(info.value)


def test_visit_list_negative_nearest_is_an_option_error():
    from hotspots.cocoon import cocoon_zones, visit_lists

    burglary = gpd.GeoDataFrame(
        {
            "incident_id": ["b1"],
            "occurred_at": pd.to_datetime(["2025-03-03 10:00"]).tz_localize("Europe/London"),
            "offence": ["Burglary"],
            "dwelling_burglary": [True],
            "time_resolution": ["exact"],
        },
        geometry=[shapely.Point(0, 0)],
        crs=27700,
    )
    zones = cocoon_zones(burglary, as_of=pd.Timestamp("2025-03-04", tz="Europe/London"))
    homes = gpd.GeoDataFrame({"address_id": ["a1"]}, geometry=[shapely.Point(10, 0)], crs=27700)
    with pytest.raises(OptionError, match=r"nearest must be a whole number >= 0; got -1\.$"):
        visit_lists(zones, homes, nearest=-1)


def test_every_package_error_is_a_hotspots_error():
    assert issubclass(InputError, HotspotsError) and issubclass(OptionError, ValueError)
