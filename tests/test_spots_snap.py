"""Snapped points made visible: location text, distinct points, institutions, prisons."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from hotspots.schema import (
    HARM,
    INSTITUTION,
    LOCATION,
    N_POINTS,
    OCCURRED_AT,
    OFFENCE,
    PLACE_NAME,
    SPOT_ID,
    TIME_RESOLUTION,
    TOP_POINT_SHARE,
)
from hotspots.spots import find_spots
from hotspots.spots._inputs import institution_of, place_name_of

TZ = "Europe/London"
VIOLENCE = "Violence and sexual offences"


def snapped() -> gpd.GeoDataFrame:
    """Cell A (x 600000-600150): 3 at one point 'Prison', 1 elsewhere 'Prison' -> 4 incidents,
    2 points, top share 3/4, harm 400. Cell B (600300-600450): 2 at 'High Street', 1 at
    'Mill Lane' (3 points), harm 300. Cell C (600600-): 1 at 'Hospital', harm 200."""
    rows = [
        (600_010, "On or near Prison", 100),
        (600_010, "On or near Prison", 100),
        (600_010, "On or near Prison", 100),
        (600_050, "On or near Prison", 100),
        (600_310, "On or near High Street", 100),
        (600_320, "On or near High Street", 100),
        (600_330, "On or near Mill Lane", 100),
        (600_610, "On or near Hospital", 200),
    ]
    xs, loc, harm = zip(*rows, strict=True)
    n = len(rows)
    return gpd.GeoDataFrame(
        {
            OCCURRED_AT: pd.DatetimeIndex(["2025-06-01"] * n).tz_localize(TZ),
            OFFENCE: [VIOLENCE] * n,
            HARM: [float(h) for h in harm],
            LOCATION: list(loc),
            TIME_RESOLUTION: ["month"] * n,
        },
        geometry=gpd.points_from_xy(xs, [200_010.0] * n),
        crs=27700,
    )


def test_place_name_and_institution_rules():
    assert place_name_of("On or near Great Eastern Avenue") == "Great Eastern Avenue"
    assert place_name_of(None) == ""
    assert institution_of("On or near Prison") == "prison"
    assert institution_of("HMP Chelmsford") == "prison"
    assert institution_of("Young Offender Institution") == "prison"
    assert institution_of("On or near Hospital") == "hospital"
    assert institution_of("On or near Police Station") == "police_station"
    assert institution_of("On or near Hampton Road") == ""  # "HMP" only as a word


def test_prison_left_out_by_default_with_a_note():
    r = find_spots(snapped(), top=3, offences=None)
    cols = [SPOT_ID, LOCATION, PLACE_NAME, N_POINTS, INSTITUTION]
    assert r.spots[cols].values.tolist() == [
        ["TR0030_9995", "On or near High Street", "High Street", 3, ""],
        ["TR0060_9995", "On or near Hospital", "Hospital", 1, "hospital"],
    ]
    assert r.spots[TOP_POINT_SHARE].tolist() == pytest.approx([1 / 3, 1.0])
    assert any("1 places at prisons left out" in n for n in r.summary["notes"])


def test_keep_prisons_keeps_them():
    r = find_spots(snapped(), top=3, offences=None, keep_prisons=True)
    first = r.spots.iloc[0]
    assert first[SPOT_ID] == "TR0000_9995"
    assert first[INSTITUTION] == "prison"
    assert first[N_POINTS] == 2
    assert first[TOP_POINT_SHARE] == pytest.approx(0.75)
    assert not any("prisons left out" in n for n in r.summary["notes"])


@pytest.mark.parametrize("text", [None, ""])
def test_units_whose_incidents_have_no_location_text(text):
    """Every location missing (or blank): no text, the place named by its busiest point."""
    import numpy as np

    from hotspots.spots._track import snap_columns

    window = gpd.GeoDataFrame(
        {"location": pd.Series([text] * 3, dtype="str")},
        geometry=gpd.points_from_xy([512000.0, 512000.0, 512300.0], [208000.0] * 3),
        crs=27700,
    )
    out = snap_columns(window, np.array([0, 0, 1]), 2)
    assert out["location"].tolist() == ["", ""]
    assert out["n_points"].tolist() == [1, 1]
    assert all(name.startswith("near 51.") for name in out["place_name"])
