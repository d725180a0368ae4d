"""One as-of rule and one window rule for every time resolution (hand-worked)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from hotspots._time import (
    analysis_window,
    default_as_of,
    in_window,
    months_of,
    parse_as_of,
    resolve_as_of,
)
from hotspots.errors import OptionError
from hotspots.schema import HARM, OCCURRED_AT, OFFENCE, SPOT_ID, STATUS, TIME_RESOLUTION, TREND
from hotspots.spots import find_spots

TZ = "Europe/London"
VIOLENCE = "Violence and sexual offences"


def at(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


def frame(dates, resolution, xs=None) -> gpd.GeoDataFrame:
    n = len(dates)
    xs = xs if xs is not None else [600_010.0] * n
    return gpd.GeoDataFrame(
        {
            OCCURRED_AT: pd.DatetimeIndex(dates).tz_localize(TZ),
            OFFENCE: [VIOLENCE] * n,
            HARM: [100.0] * n,
            TIME_RESOLUTION: [resolution] * n if isinstance(resolution, str) else resolution,
        },
        geometry=gpd.points_from_xy(xs, [200_010.0] * n),
        crs=27700,
    )


# ---------------------------------------------------------------- as-of
@pytest.mark.parametrize("resolution", ["exact", "day", "month"])
def test_explicit_date_means_end_of_that_day_for_every_resolution(resolution):
    data = frame(["2025-12-01"], resolution)
    for given in ("2025-12-31", pd.Timestamp("2025-12-31"), at("2025-12-31")):
        assert resolve_as_of(given, data) == at("2025-12-31 23:59:59")


def test_default_as_of_is_end_of_last_day_or_month():
    assert default_as_of(frame(["2025-12-01"], "month")) == at("2025-12-31 23:59:59")
    assert default_as_of(frame(["2025-12-05"], "day")) == at("2025-12-05 23:59:59")
    # exact data: the end of the last day, the same as naming that day explicitly
    last = frame(["2025-12-05 10:30"], "exact")
    assert default_as_of(last) == parse_as_of("2025-12-05", TZ)
    # end of a day with a clock change (26 Oct 2025 has 25 hours in London)
    assert default_as_of(frame(["2025-10-26 00:30"], "exact")) == at("2025-10-26 23:59:59")


def test_explicit_time_of_day_is_kept_and_bad_dates_refused():
    assert resolve_as_of("2025-12-31 12:00", frame(["2025-12-01"], "day")) == at("2025-12-31 12:00")
    with pytest.raises(OptionError, match="is not a date; use YYYY-MM-DD"):
        resolve_as_of("someday", frame(["2025-12-01"], "day"))


# ---------------------------------------------------------------- windows
def test_months_of_lookback():
    assert [months_of(d) for d in (365, 366, 30, 28, 90, 1)] == [12, 12, 1, 1, 3, 1]


@pytest.mark.parametrize(
    ("as_of", "label"),
    [
        ("2025-12-31 23:59:59", "2025-01..2025-12"),  # December complete at its last second
        ("2026-01-07 23:59:59", "2025-01..2025-12"),  # January not complete: still December
        ("2026-01-28 23:59:59", "2025-01..2025-12"),
        ("2026-01-31 23:59:59", "2025-02..2026-01"),  # January now complete
        ("2025-12-31 12:00", "2024-12..2025-11"),  # mid-day on the 31st: December is not done
    ],
)
def test_month_window_is_whole_months_to_latest_complete_month(as_of, label):
    w = analysis_window(at(as_of), lookback_days=365, resolution="month")
    assert w.label == label
    assert w.months == 12


def test_month_window_bounds_previous_and_shifted():
    w = analysis_window(at("2026-01-07 23:59:59"), lookback_days=365, resolution="month")
    assert (w.start, w.stop) == (at("2025-01-01"), at("2026-01-01"))
    assert w.previous().label == "2024-01..2024-12"
    assert w.shifted(days=7).label == "2024-12..2025-11"  # the previous monthly release


def test_day_window_is_whole_local_days_across_a_clock_change():
    w = analysis_window(at("2025-10-27 23:59:59"), lookback_days=2, resolution="day")
    assert (w.start, w.stop) == (at("2025-10-26"), at("2025-10-28"))
    assert w.stop - w.start == pd.Timedelta(hours=49)  # 26 Oct has 25 hours
    assert w.label == "2025-10-26..2025-10-27"
    assert w.previous().label == "2025-10-24..2025-10-25"
    assert w.shifted(days=7).label == "2025-10-19..2025-10-20"


def test_month_rows_belong_by_overlap_at_window_edges():
    # month rows are dated on the 1st; each covers its whole month
    data = frame(
        ["2025-11-01", "2025-12-01", "2026-01-01", "2025-12-03 23:59", "2025-12-04 00:00"],
        ["month", "month", "month", "exact", "exact"],
    )
    # 30-day look-back ending 3 Dec: 4 Nov .. 3 Dec, overlapping both November and December
    w = analysis_window(at("2025-12-03 23:59:59"), lookback_days=30, resolution="day")
    assert in_window(data, w).tolist() == [True, True, False, True, False]
    # a window of 1-3 Dec only: November's month ends before it starts
    w3 = analysis_window(at("2025-12-03 23:59:59"), lookback_days=3, resolution="day")
    assert in_window(data, w3).tolist() == [False, True, False, True, False]


# ---------------------------------------------------------------- find_spots on month data
def month_data() -> gpd.GeoDataFrame:
    months = [f"2025-{m:02d}-01" for m in range(1, 13)]
    # spot A (x 600010) every month; spot B (x 600310) only in December
    return frame(months + ["2025-12-01"], "month", xs=[600_010.0] * 12 + [600_310.0])


def test_month_data_same_spots_at_three_as_of_dates_and_states_months():
    data = month_data()
    results = [find_spots(data, top=2, as_of=d) for d in ("2025-12-31", "2026-01-07", "2026-01-28")]
    for r in results:
        assert r.spots[SPOT_ID].tolist() == ["TR0000_9995", "TR0030_9995"]
        assert r.summary["window_months"] == "2025-01..2025-12"
        assert r.spots["harm"].tolist() == [1200.0, 100.0]
        assert set(r.spots[TREND]) == {"no_earlier_data"}  # no 2024 in the data


def test_no_new_data_keeps_spots_and_statuses():
    data = month_data()
    first = find_spots(data, top=2, as_of="2025-12-31")
    assert first.spots[STATUS].tolist() == ["persisting", "new"]  # B is new in December
    again = find_spots(
        data,
        top=2,
        as_of="2026-01-07",
        previous_spots=first.spots,
        previous_window=first.summary["window"],
    )
    assert again.spots[STATUS].tolist() == ["persisting", "new"]  # nothing flips
    assert len(again.dropped) == 0
    assert again.summary["notes"][0] == "no new data since 2025-12; spots unchanged"


def test_trend_vocabulary_never_new():
    data = month_data()
    r = find_spots(data, top=2, as_of="2025-12-31", lookback_days=30)  # December vs November
    assert r.summary["window_months"] == "2025-12..2025-12"
    assert dict(zip(r.spots[SPOT_ID], r.spots[TREND], strict=True)) == {
        "TR0000_9995": "steady",  # 100 vs 100
        "TR0030_9995": "up",  # 100 vs 0: earlier data exists, so "up", never "new"
    }
    assert np.isin(r.spots[TREND], ["up", "down", "steady", "no_earlier_data"]).all()
