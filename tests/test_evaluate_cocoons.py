"""Cocoon backtest: calendar days across clock changes, and PAI beside every share."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from hotspots.evaluate import cocoon_backtest
from hotspots.schema import HARM, OCCURRED_AT, OFFENCE, TIME_RESOLUTION

TZ = "Europe/London"


def burglaries(xy, stamps, *, resolution="exact") -> gpd.GeoDataFrame:
    xy = np.asarray(xy, dtype=float)
    return gpd.GeoDataFrame(
        {
            OCCURRED_AT: pd.DatetimeIndex(pd.to_datetime(list(stamps))).tz_localize(TZ),
            OFFENCE: "Burglary",
            HARM: 1.0,
            TIME_RESOLUTION: resolution,
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=27700,
    )


def in_zone(seed: str, later: str, *, resolution: str = "exact") -> bool:
    """Is ``later`` (10 m from ``seed``) inside the 42-day zone the seed opened?"""
    frame = burglaries([[0, 0], [10, 0]], [seed, later], resolution=resolution)
    start = pd.Timestamp(seed).normalize() + pd.Timedelta(days=1)
    end = pd.Timestamp(later).normalize() + pd.Timedelta(days=1)
    result = cocoon_backtest(frame, start=str(start.date()), end=str(end.date()))
    assert result.summary["n_burglaries"] == 1
    return result.summary["n_in_live_zone"] == 1


def test_autumn_clock_change_keeps_the_42nd_day():
    # 2024-10-27 (last Sunday of October) the clocks go back: 1 Oct 00:00 BST to
    # 12 Nov 00:00 GMT is 42 calendar days but 42 days and 1 hour of elapsed time
    assert in_zone("2024-10-01", "2024-11-12", resolution="day")
    assert not in_zone("2024-10-01", "2024-11-13", resolution="day")
    assert in_zone("2024-10-01 10:00", "2024-11-12 10:00")


def test_spring_clock_change_ends_the_zone_at_the_same_wall_clock_time():
    # 2024-03-31 (last Sunday of March) the clocks go forward: 1 Mar 12:00 GMT to
    # 12 Apr 12:30 BST is 42 days 30 minutes on the calendar, 41 days 23.5 hours elapsed
    assert in_zone("2024-03-01 12:00", "2024-04-12 12:00")
    assert not in_zone("2024-03-01 12:00", "2024-04-12 12:30")
    assert in_zone("2024-03-01", "2024-04-12", resolution="day")


def test_time_band_counts_calendar_days():
    frame = burglaries([[0, 0], [10, 0]], ["2024-10-01", "2024-11-12"], resolution="day")
    result = cocoon_backtest(frame, start="2024-10-02", end="2024-11-13")
    bands = result.bands.set_index(["distance_band", "time_band"])["n_burglaries"]
    assert bands[("0-100 m", "35-42 days")] == 1


def test_every_live_zone_share_comes_with_area_share_and_pai():
    xy = [[0, 0], [100, 0], [1000, 0], [0, 300], [0, 350]]
    dates = ["2024-01-01", "2024-01-04", "2024-01-06", "2024-02-20", "2024-02-21"]
    frame = burglaries(xy, dates, resolution="day")
    result = cocoon_backtest(
        frame, start="2024-01-02", end="2024-03-01", study_area_km2=10.0, study_area="areas layer"
    )
    s = result.summary
    assert s["share_in_live_zone"] == pytest.approx(0.5)  # 2 of 4, as in the backtest tests
    assert s["area_share"] == pytest.approx(s["mean_live_area_km2"] / 10.0)
    assert s["pai"] == pytest.approx(0.5 / s["area_share"])
    assert (s["study_area"], s["study_area_km2"]) == ("areas layer", 10.0)
    first = result.periods.iloc[0]  # Jan 2: one live 400 m zone, 1 of 2 burglaries that week
    circle_km2 = np.pi * 0.4**2
    assert first["area_share"] == pytest.approx(circle_km2 / 10.0, rel=0.01)
    assert first["share_in_live_zone"] == pytest.approx(0.5)
    assert first["pai"] == pytest.approx(0.5 / (circle_km2 / 10.0), rel=0.01)
    assert {"area_share", "pai"} <= set(result.periods.columns)


def test_without_a_study_area_the_area_figures_are_missing_not_invented():
    frame = burglaries([[0, 0], [10, 0]], ["2024-01-01", "2024-01-03"], resolution="day")
    result = cocoon_backtest(frame, start="2024-01-02", end="2024-01-04")
    assert np.isnan(result.summary["pai"]) and np.isnan(result.summary["area_share"])
    assert result.periods["pai"].isna().all()
