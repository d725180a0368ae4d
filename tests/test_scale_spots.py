"""Spots' memory savings change no result: location ties, categorical text, extra columns."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from hotspots.errors import OptionError
from hotspots.schema import HARM, LOCATION, OCCURRED_AT, OFFENCE, SOURCE_FILE, TIME_RESOLUTION
from hotspots.spots import find_spots
from hotspots.spots._track import snap_columns

VIOLENCE = "Violence and sexual offences"


def _window(texts: list[object], dtype: str | None = None) -> gpd.GeoDataFrame:
    n = len(texts)
    location = pd.Series(texts, dtype="str") if dtype is None else pd.Series(texts).astype(dtype)
    return gpd.GeoDataFrame(
        {LOCATION: location},
        geometry=gpd.points_from_xy(np.arange(n, dtype=float), np.zeros(n)),
        crs=27700,
    )


@pytest.mark.parametrize("dtype", [None, "category", "object"])
def test_most_common_location_per_unit_ties_alphabetical(dtype):
    # unit 0: b twice, a twice -> tie -> 'On or near A'; unit 1: only blank and missing;
    # unit 2: 'Z' once beside blanks -> 'Z'; unit 3: no incidents
    texts = ["On or near B", "On or near A", "On or near B", "On or near A", "", None, "", "Z"]
    of = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    out = snap_columns(_window(texts, dtype), of, 4)
    assert out[LOCATION].tolist() == ["On or near A", "", "Z", ""]
    assert out[LOCATION].dtype == object


def _incidents(n: int = 400, seed: int = 3) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    offences = rng.choice([VIOLENCE, "Robbery", "Burglary", "Shoplifting"], size=n)
    return gpd.GeoDataFrame(
        {
            OCCURRED_AT: pd.Timestamp("2024-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 700 * 24, size=n), unit="h"),
            OFFENCE: pd.Series(offences, dtype="str"),
            LOCATION: pd.Series(
                [f"On or near Street {i}" for i in rng.integers(0, 15, size=n)], dtype="str"
            ),
            TIME_RESOLUTION: pd.Series(["exact"] * n, dtype="str"),
            HARM: rng.choice([1.0, 10.0, 100.0], size=n),
            SOURCE_FILE: pd.Series([f"file{i % 3}.csv" for i in range(n)], dtype="str"),
        },
        geometry=gpd.points_from_xy(
            600_000 + rng.uniform(0, 1_500, size=n), 200_000 + rng.uniform(0, 1_500, size=n)
        ),
        crs=27700,
    )


def test_spots_equal_with_text_as_categories_and_without_extra_columns():
    inc = _incidents()
    as_of = pd.Timestamp("2025-11-30 23:59:59", tz="UTC")
    base = find_spots(inc, top=5, as_of=as_of)
    categorical = inc.assign(**{c: inc[c].astype("category") for c in (OFFENCE, LOCATION)})
    other = find_spots(categorical, top=5, as_of=as_of)
    slim = find_spots(inc.drop(columns=[SOURCE_FILE]), top=5, as_of=as_of)
    for result in (other, slim):
        pd.testing.assert_frame_equal(
            pd.DataFrame(result.spots.drop(columns="geometry")),
            pd.DataFrame(base.spots.drop(columns="geometry")),
        )
        assert result.spots.geometry.equals(base.spots.geometry)
        assert len(result.candidates) == len(base.candidates)
    assert SOURCE_FILE in inc.columns  # the input is not changed


def test_empty_window_still_refused_before_any_window_is_built():
    inc = _incidents()
    with pytest.raises(OptionError, match="incidents in the window"):
        find_spots(inc, top=5, as_of=pd.Timestamp("2030-06-30 23:59:59", tz="UTC"))
