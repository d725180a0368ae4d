"""Cocoon zones: window, deadline, status, overlap, areas, month dating, bad input."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.cocoon import cocoon_zones, merged_zones
from hotspots.errors import CRSError, HotspotsError, OptionError
from hotspots.schema import (
    AREA_NAME,
    DUE_BY,
    EXPIRES_ON,
    N_HOMES,
    N_OVERLAPPING,
    OCCURRED_AT,
    STATUS,
    ZONE_ID,
)
from test_cocoon_fixtures import make_addresses, make_areas, make_incidents, stamp

AS_OF = stamp("2025-03-04 00:00")


def test_one_zone_per_live_dwelling_burglary():
    zones = cocoon_zones(make_incidents(), as_of=AS_OF)
    # B0 expired, S1 is not a burglary; ordered by occurred_at
    assert zones[ZONE_ID].tolist() == ["ZON-250301-01", "ZON-250302-01", "ZON-250303-01"]
    assert zones["burglary_id"].tolist() == ["B1", "B3", "B2"]
    assert zones[DUE_BY].tolist() == [
        stamp("2025-03-03 10:00"),
        stamp("2025-03-04 00:00"),
        stamp("2025-03-05 12:00"),
    ]
    assert zones[EXPIRES_ON].iloc[0] == stamp("2025-04-12 10:00")
    assert zones.crs.to_epsg() == 27700
    assert zones[N_HOMES].isna().all()
    assert (zones["month_dates"] == "").all()
    assert (zones["dwelling_note"] == "").all()


def test_status_without_visit_log():
    zones = cocoon_zones(make_incidents(), as_of=AS_OF).set_index(ZONE_ID)
    # B1 past its deadline (no visit log -> active); B3 exactly at its deadline -> due
    assert zones[STATUS].to_dict() == {
        "ZON-250301-01": "active",
        "ZON-250302-01": "due",
        "ZON-250303-01": "due",
    }


@pytest.mark.parametrize(
    ("as_of", "first", "expected"),
    [
        ("2025-03-02 00:00", None, "due"),
        ("2025-03-03 10:00", None, "due"),  # exactly at the deadline
        ("2025-03-03 10:01", None, "active"),
        ("2025-03-03 10:01", pd.NaT, "overdue"),
        ("2025-03-02 00:00", "2025-03-01 12:00", "visited"),
        ("2025-03-10 00:00", "2025-03-05 00:00", "visited"),  # late, still visited
        ("2025-03-04 00:00", "2025-03-05 00:00", "overdue"),  # the visit is after as_of
        ("2025-03-02 00:00", "2025-03-05 00:00", "due"),
    ],
)
def test_status_rules_for_b1(as_of, first, expected):
    firsts = (
        None
        if first is None
        else pd.Series([pd.Timestamp(first, tz="Europe/London")], index=["ZON-250301-01"])
    )
    zones = cocoon_zones(make_incidents(), as_of=stamp(as_of), first_visits=firsts)
    assert zones.set_index(ZONE_ID).loc["ZON-250301-01", STATUS] == expected


def test_zone_missing_from_first_visits_is_not_visited():
    firsts = pd.Series([stamp("2025-03-01 12:00")], index=["ZON-250301-01"])
    zones = cocoon_zones(make_incidents(), as_of=stamp("2025-03-06"), first_visits=firsts)
    assert zones.set_index(ZONE_ID)[STATUS].to_dict() == {
        "ZON-250301-01": "visited",
        "ZON-250302-01": "overdue",
        "ZON-250303-01": "overdue",
    }


def test_overlap_counts_other_live_zones():
    zones = cocoon_zones(make_incidents(), as_of=AS_OF).set_index(ZONE_ID)
    assert zones[N_OVERLAPPING].to_dict() == {
        "ZON-250301-01": 1,
        "ZON-250302-01": 0,
        "ZON-250303-01": 1,
    }
    # at 150 m radius B1 and B2 (300 m apart) just touch: still counted (closed circles)
    small = cocoon_zones(make_incidents(), as_of=AS_OF, radius_m=150.0).set_index(ZONE_ID)
    assert small.loc["ZON-250301-01", N_OVERLAPPING] == 1
    smaller = cocoon_zones(make_incidents(), as_of=AS_OF, radius_m=149.0).set_index(ZONE_ID)
    assert smaller.loc["ZON-250301-01", N_OVERLAPPING] == 0


def test_areas_and_homes():
    zones = cocoon_zones(
        make_incidents(), as_of=AS_OF, areas=make_areas(), addresses=make_addresses()
    ).set_index(ZONE_ID)
    assert zones[AREA_NAME].to_dict() == {
        "WES-250301-01": "West",
        "EAS-250302-01": "East",
        "WES-250303-01": "West",
    }
    # B1: home, a100, b2home, a400 (exactly 400 m) -> 4; B2: home, a100, b2home -> 3
    assert zones[N_HOMES].to_dict() == {"WES-250301-01": 4, "EAS-250302-01": 0, "WES-250303-01": 3}


def test_geometry_is_radius_buffer_around_burglary():
    zones = cocoon_zones(make_incidents(), as_of=AS_OF, radius_m=250.0)
    b1 = zones.iloc[0]
    assert (b1["easting"], b1["northing"]) == (500_000.0, 200_000.0)
    area = b1.geometry.area
    assert area == pytest.approx(np.pi * 250.0**2, rel=2e-3)


def test_inputs_not_changed():
    incidents = make_incidents()
    before = incidents.copy()
    cocoon_zones(incidents, as_of=AS_OF, addresses=make_addresses())
    pd.testing.assert_frame_equal(pd.DataFrame(incidents), pd.DataFrame(before))


def test_naive_as_of_is_read_in_data_time_zone():
    zones = cocoon_zones(make_incidents(), as_of=pd.Timestamp("2025-03-04"))
    assert len(zones) == 3


def test_merged_zones_union_overlapping():
    zones = cocoon_zones(make_incidents(), as_of=AS_OF)
    merged = merged_zones(zones)
    assert merged["n_zones"].tolist() == [2, 1]
    assert merged["zone_ids"].tolist() == ["ZON-250301-01;ZON-250303-01", "ZON-250302-01"]
    assert merged[DUE_BY].iloc[0] == stamp("2025-03-03 10:00")
    assert merged.geometry.iloc[0].area == pytest.approx(
        shapely.union(zones.geometry.iloc[0], zones.geometry.iloc[2]).area
    )


# ---------------------------------------------------------------- month-resolution data
def test_month_data_gives_retrospective_zones_without_deadlines():
    # month rows dated on 1 Mar: the risk window is 1 Mar .. (1 Apr + 42 days) = 13 May
    zones = cocoon_zones(make_incidents("month"), as_of=stamp("2025-04-20"))
    assert zones["zone_kind"].tolist() == ["retrospective"] * 3
    assert zones[DUE_BY].isna().all()
    assert set(zones[STATUS]) == {"active"}  # never due or overdue
    assert zones[EXPIRES_ON].iloc[0] == stamp("2025-05-13 00:00")
    assert zones[OCCURRED_AT].iloc[0] == stamp("2025-03-01 00:00")
    # ids carry the month only: no invented day
    assert zones[ZONE_ID].tolist() == ["ZON-2503-01", "ZON-2503-02", "ZON-2503-03"]
    # even with a visit log, no overdue state
    late = cocoon_zones(
        make_incidents("month"), as_of=stamp("2025-04-20"), first_visits=pd.Series(dtype=object)
    )
    assert set(late[STATUS]) == {"active"}
    # still live late on 12 May, gone at 13 May 00:00
    assert len(cocoon_zones(make_incidents("month"), as_of=stamp("2025-05-12 23:00"))) == 3
    with pytest.raises(HotspotsError, match="No dwelling burglary"):
        cocoon_zones(make_incidents("month"), as_of=stamp("2025-05-13 00:00"))


def test_day_and_exact_zones_stay_operational():
    for resolution in ("exact", "day"):
        zones = cocoon_zones(make_incidents(resolution), as_of=AS_OF)
        assert set(zones["zone_kind"]) == {"operational"}
        assert zones[DUE_BY].notna().all()


@pytest.mark.parametrize(
    ("choice", "b1_at"),
    [("start", "2025-03-01 00:00"), ("mid", "2025-03-16 12:00"), ("end", "2025-03-31 23:59:59")],
)
def test_month_dates_start_the_risk_window_only(choice, b1_at):
    zones = cocoon_zones(
        make_incidents("month"), as_of=stamp("2025-03-31 23:59:59"), month_dates=choice
    )
    assert zones[OCCURRED_AT].iloc[0] == stamp(b1_at)
    assert (zones["month_dates"] == choice).all()
    assert zones[DUE_BY].isna().all()  # never a deadline from month data


def test_month_mid_in_february_is_the_15th():
    inc = make_incidents("month")
    inc[OCCURRED_AT] = pd.Series([stamp("2025-02-01")] * len(inc))
    zones = cocoon_zones(inc, as_of=stamp("2025-02-28"), month_dates="mid")
    assert zones[OCCURRED_AT].iloc[0] == stamp("2025-02-15 00:00")


def test_candidate_note_only_on_police_uk_burglary():
    inc = make_incidents("month")
    inc["offence_code"] = pd.array([pd.NA] * len(inc), dtype="string")
    zones = cocoon_zones(inc, as_of=stamp("2025-03-31"))
    assert zones["dwelling_note"].str.contains("may include non-dwelling").all()
    # exact-dated "Burglary" without a code (e.g. Chicago, DC): no police.uk caveat
    exact = make_incidents("exact")
    exact["offence_code"] = pd.array([pd.NA] * len(exact), dtype="string")
    assert (cocoon_zones(exact, as_of=AS_OF)["dwelling_note"] == "").all()


def test_radio_ids_are_short_unique_deterministic_and_stable():
    inc = make_incidents()
    inc["location"] = ["On or near High St", "On or near Mill Rd", "On or near Elm Way", "", ""]
    zones = cocoon_zones(inc, as_of=AS_OF, areas=make_areas())
    assert zones[ZONE_ID].tolist() == ["WES-250301-01", "EAS-250302-01", "WES-250303-01"]
    assert zones["location"].tolist() == [
        "On or near High St",
        "On or near Elm Way",
        "On or near Mill Rd",
    ]
    assert zones[ZONE_ID].str.len().max() <= 16
    # a second burglary the same day in the same area: sequence by time
    two = pd.concat([inc, inc.iloc[[0]].assign(incident_id="B1b")], ignore_index=True)
    two.loc[5, OCCURRED_AT] = stamp("2025-03-01 09:00")
    ids = cocoon_zones(two, as_of=AS_OF, areas=make_areas()).set_index("burglary_id")[ZONE_ID]
    assert (ids["B1b"], ids["B1"]) == ("WES-250301-01", "WES-250301-02")
    # ids do not change as other zones expire: B3 keeps its id a day later
    later = cocoon_zones(inc, as_of=stamp("2025-04-11 23:00"), areas=make_areas())
    assert later.set_index("burglary_id")[ZONE_ID].to_dict() == {
        "B1": "WES-250301-01",
        "B3": "EAS-250302-01",
        "B2": "WES-250303-01",
    }


def test_expiry_is_42_calendar_days_across_a_clock_change():
    # B1 on 1 Mar 10:00 GMT; clocks go forward on 30 Mar; expiry 12 Apr 10:00 BST, which
    # is only 41 days 23 hours of elapsed time later
    zones = cocoon_zones(make_incidents(), as_of=stamp("2025-04-12 09:30"))
    b1 = zones.set_index("burglary_id").loc["B1"]
    assert b1[EXPIRES_ON] == stamp("2025-04-12 10:00")
    assert b1[EXPIRES_ON] - b1[OCCURRED_AT] == pd.Timedelta(days=41, hours=23)
    after = cocoon_zones(make_incidents(), as_of=stamp("2025-04-12 10:00"))
    assert "B1" not in set(after["burglary_id"])


# ---------------------------------------------------------------- bad input
def test_window_without_burglaries_names_window_and_data_range():
    with pytest.raises(
        HotspotsError,
        match=r"No dwelling burglary in the 42-day window "
        r"2025-07-20 00:00 to 2025-08-31 00:00; .* dated 2025-01-01 to 2025-03-03",
    ):
        cocoon_zones(make_incidents(), as_of=stamp("2025-08-31"))


def test_bad_month_dates_choice():
    with pytest.raises(OptionError, match=r"month_dates must be one of \('start', 'mid', 'end'\)"):
        cocoon_zones(make_incidents("month"), as_of=AS_OF, month_dates="middle")


@pytest.mark.parametrize("crs", [4326, 2264], ids=["geographic", "us-survey-feet"])
def test_refuses_non_metre_crs(crs):
    relabelled = make_incidents().set_crs(crs, allow_override=True)
    with pytest.raises(CRSError, match="projected CRS in metres"):
        cocoon_zones(relabelled, as_of=AS_OF)


def test_refuses_negative_radius():
    with pytest.raises(OptionError, match="radius_m must be a finite number > 0"):
        cocoon_zones(make_incidents(), as_of=AS_OF, radius_m=-1.0)


INCIDENTS = make_incidents()


@settings(max_examples=25, deadline=None)
@given(radius_m=st.floats(min_value=10, max_value=1_000))
def test_zone_covers_its_burglary(radius_m):
    zones = cocoon_zones(INCIDENTS, radius_m=radius_m, as_of=AS_OF)
    pts = gpd.points_from_xy(zones["easting"], zones["northing"])
    assert shapely.contains(zones.geometry.to_numpy(), pts).all()


def test_docstring_examples_run():
    import doctest

    from hotspots.cocoon import lists, zones

    for module in (zones, lists):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.attempted > 0
        assert result.failed == 0, module.__name__


def test_addresses_in_another_crs_refused():
    with pytest.raises(CRSError, match=r"incidents \(EPSG:27700\) and addresses .* different CRSs"):
        cocoon_zones(make_incidents(), as_of=AS_OF, addresses=make_addresses().to_crs(32631))


def _one(at: str) -> gpd.GeoDataFrame:
    inc = make_incidents().iloc[:1].copy()
    inc[OCCURRED_AT] = pd.DatetimeIndex([at], tz="Europe/London")
    return inc


def test_expiry_in_skipped_clock_hour():
    # 16 Feb 01:30 + 42 days = 30 Mar 01:30, which London skips (01:00 -> 02:00 BST)
    zones = cocoon_zones(_one("2025-02-16 01:30"), as_of=stamp("2025-03-01"))
    assert zones[EXPIRES_ON].iloc[0] == pd.Timestamp("2025-03-30 02:00", tz="Europe/London")
    assert zones[EXPIRES_ON].iloc[0].utcoffset() == pd.Timedelta(hours=1)


def test_expiry_in_repeated_clock_hour():
    # 14 Sep 01:30 BST + 42 days = 26 Oct 01:30, which happens twice: the first one counts
    zones = cocoon_zones(_one("2025-09-14 01:30"), as_of=stamp("2025-10-01"))
    expected = pd.Timestamp("2025-10-26 00:30", tz="UTC").tz_convert("Europe/London")
    assert zones[EXPIRES_ON].iloc[0] == expected
    # one second before that expiry it is live; at the expiry it is gone
    live = cocoon_zones(_one("2025-09-14 01:30"), as_of=expected - pd.Timedelta(seconds=1))
    assert len(live) == 1
    with pytest.raises(HotspotsError, match="No dwelling burglary"):
        cocoon_zones(_one("2025-09-14 01:30"), as_of=expected)


@settings(max_examples=40, deadline=None)
@given(minutes=st.integers(0, 365 * 24 * 60))
def test_any_time_of_year_gives_a_zone(minutes):
    at = pd.Timestamp("2025-01-01", tz="UTC") + pd.Timedelta(minutes=minutes)
    inc = make_incidents().iloc[:1].copy()
    inc[OCCURRED_AT] = pd.DatetimeIndex([at]).tz_convert("Europe/London")
    zones = cocoon_zones(inc, as_of=at + pd.Timedelta(hours=1))
    expires = zones[EXPIRES_ON].iloc[0]
    assert pd.Timedelta(days=41, hours=22) <= expires - at <= pd.Timedelta(days=42, hours=2)


def test_zone_notes_say_what_retrospective_zones_are():
    from hotspots.cocoon.zones import zone_notes

    retro = cocoon_zones(make_incidents("month"), as_of=stamp("2025-04-20"))
    notes = zone_notes(retro, window_days=42)
    assert notes == [
        "Month-only dates: these are retrospective near-repeat risk areas (no visit deadline, "
        "no overdue state); each covers its burglary's month and the 42 days after it. "
        "(3 zones)"
    ]
    assert zone_notes(cocoon_zones(make_incidents(), as_of=AS_OF), window_days=42) == []
