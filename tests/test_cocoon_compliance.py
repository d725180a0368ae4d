"""Visit logs and compliance against the hand-worked fixture.

Visits (Europe/London):

* a100 at 2025-03-02 09:00: after B1 (in time, B1's mandatory nearest), before B2 happened
* home at 2025-03-05 13:00: a target of B2 only, 1 hour after B2's deadline (late)
* a location 3.2 m from a100 at 2025-03-03 09:00: snaps to a100, counts for B1 only
* B3 has no visits: overdue once its deadline (2025-03-04 00:00) has passed
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotspots.cocoon import cocoon_zones, compliance, read_visits, visit_lists
from hotspots.errors import InputError, SchemaError
from hotspots.schema import ADDRESS_ID, REJECT_REASON, SOURCE_ROW, STATUS, ZONE_ID
from test_cocoon_fixtures import make_addresses, make_areas, make_incidents, stamp

VISITS_CSV = (
    "address_id,visited_at,outcome,easting,northing\n"
    "a100,2025-03-02 09:00,spoke to occupant,,\n"
    "home,2025-03-05T13:00,leaflet,,\n"
    ",2025-03-03 09:00,no answer,500101,200003\n"
    "nope,2025-03-03 09:00,spoke to occupant,,\n"
    "a400,yesterday,leaflet,,\n"
    ",2025-03-03 09:00,leaflet,509000,200000\n"
    ",2025-03-03 09:00,leaflet,,\n"
)


@pytest.fixture
def setup(tmp_path):
    zones = cocoon_zones(make_incidents(), as_of=stamp("2025-03-04"), areas=make_areas())
    adds = make_addresses()
    vlist = visit_lists(zones, adds, nearest=1)
    path = tmp_path / "visits.csv"
    path.write_text(VISITS_CSV)
    visits, rejected = read_visits(path, addresses=adds)
    return zones, vlist, visits, rejected


def test_read_visits_matches_and_rejects(setup):
    _, _, visits, rejected = setup
    assert visits[ADDRESS_ID].tolist() == ["a100", "home", "a100"]
    assert visits["matched_by"].tolist() == ["id", "id", "location"]
    assert visits["visited_at"].tolist() == [
        stamp("2025-03-02 09:00"),
        stamp("2025-03-05 13:00"),
        stamp("2025-03-03 09:00"),
    ]
    assert visits["outcome"].tolist() == ["spoke to occupant", "leaflet", "no answer"]
    # nothing dropped silently: every other row is rejected with a reason
    assert rejected[SOURCE_ROW].tolist() == [4, 5, 6, 7]
    assert rejected[REJECT_REASON].tolist() == [
        "unknown_address",
        "unparseable_date",
        "no_address_nearby",
        "no_location",
    ]
    assert "address id 'nope' is not in the address layer" in rejected["detail"].iloc[0]


def test_compliance_by_hand(setup):
    zones, vlist, visits, _ = setup
    result = compliance(zones, vlist, visits, as_of=stamp("2025-03-06"))
    z = result.per_zone.set_index(ZONE_ID)
    assert z["first_visit_at"]["WES-250301-01"] == stamp("2025-03-02 09:00")
    assert z["first_visit_at"]["WES-250303-01"] == stamp("2025-03-05 13:00")
    assert pd.isna(z["first_visit_at"]["EAS-250302-01"])
    assert z["visited_in_time"].to_dict() == {
        "WES-250301-01": True,
        "EAS-250302-01": False,
        "WES-250303-01": False,
    }
    assert z[STATUS].to_dict() == {
        "WES-250301-01": "visited",
        "EAS-250302-01": "overdue",
        "WES-250303-01": "visited",
    }
    assert z["visits"].to_dict() == {"WES-250301-01": 2, "EAS-250302-01": 0, "WES-250303-01": 1}
    # B1's one mandatory address (a100) visited; B2's (a100) not visited after B2 happened
    assert z["mandatory_share_visited"]["WES-250301-01"] == 1.0
    assert z["mandatory_share_visited"]["WES-250303-01"] == 0.0
    assert np.isnan(z["mandatory_share_visited"]["EAS-250302-01"])  # no homes, nothing mandatory
    assert result.overall == {
        "zones": 3,
        "decided": 3,
        "cocooned_in_time": 1,
        "share": 0.333,
        "overdue_now": 1,
        "due_now": 0,
    }
    areas = result.per_area.set_index("area")
    assert areas.loc["West", "cocooned_within_deadline"] == 1
    assert areas.loc["West", "share"] == 0.5
    assert areas.loc["East", "overdue_now"] == 1
    assert result.overdue[ZONE_ID].tolist() == ["EAS-250302-01"]


def test_compliance_before_deadlines(setup):
    zones, vlist, visits, _ = setup
    result = compliance(zones, vlist, visits, as_of=stamp("2025-03-05 00:00"))
    z = result.per_zone.set_index(ZONE_ID)
    # B2's late visit has not happened yet at as_of: B2 is still due and undecided
    assert z[STATUS].to_dict() == {
        "WES-250301-01": "visited",
        "EAS-250302-01": "overdue",
        "WES-250303-01": "due",
    }
    assert result.overall["decided"] == 2
    assert result.overall["share"] == 0.5
    assert result.overall["due_now"] == 1


def test_first_visits_feed_zone_status(setup):
    zones, vlist, visits, _ = setup
    result = compliance(zones, vlist, visits, as_of=stamp("2025-03-06"))
    first = result.per_zone.set_index(ZONE_ID)["first_visit_at"]
    again = cocoon_zones(
        make_incidents(), as_of=stamp("2025-03-06"), areas=make_areas(), first_visits=first
    )
    assert (
        again.set_index(ZONE_ID)[STATUS].to_dict()
        == result.per_zone.set_index(ZONE_ID)[STATUS].to_dict()
    )


def test_visit_to_burgled_home_does_not_count(tmp_path):
    zones = cocoon_zones(make_incidents(), as_of=stamp("2025-03-04"))
    adds = make_addresses()
    vlist = visit_lists(zones, adds)
    path = tmp_path / "v.csv"
    path.write_text("address_id,visited_at\nhome,2025-03-01 12:00\n")  # B1's own home
    visits, _ = read_visits(path, addresses=adds)
    result = compliance(zones, vlist, visits, as_of=stamp("2025-03-04"))
    assert result.per_zone.set_index(ZONE_ID).loc["ZON-250301-01", STATUS] == "overdue"


def test_all_visits_unknown_is_one_line_error(tmp_path):
    path = tmp_path / "v.csv"
    path.write_text("address_id,visited_at\nX1,2025-03-01 12:00\nX2,2025-03-01 12:00\n")
    with pytest.raises(
        InputError,
        match=r"Visit log v.csv: none of its 2 rows can be matched .*"
        r"'unknown_address': 2",
    ):
        read_visits(path, addresses=make_addresses())


def test_visits_without_time_column(tmp_path):
    path = tmp_path / "v.csv"
    path.write_text("address_id,who\na100,PC 123\n")
    with pytest.raises(SchemaError, match=r"Visit log v.csv has no visit time column"):
        read_visits(path, addresses=make_addresses())


def test_visits_without_id_or_location(tmp_path):
    path = tmp_path / "v.csv"
    path.write_text("visited_at,who\n2025-03-01 12:00,PC 123\n")
    with pytest.raises(SchemaError, match=r"names visits neither by address id"):
        read_visits(path, addresses=make_addresses())


def test_visit_times_with_mixed_offsets(tmp_path):
    path = tmp_path / "v.csv"
    path.write_text(
        "address_id,visited_at\n"
        "a100,2025-03-29 09:00:00+00:00\n"  # GMT
        "a100,2025-03-31 09:00:00+01:00\n"  # BST: a different offset in the same column
        "a100,2025-03-31 10:00\n"  # local time, no offset
        "a100,2025-03-30T08:00:00Z\n"
        "a100,2025-10-26 01:30\n"  # happens twice in London: ambiguous without an offset
    )
    visits, rejected = read_visits(path, addresses=make_addresses())
    assert visits["visited_at"].tolist() == [
        stamp("2025-03-29 09:00"),
        stamp("2025-03-31 09:00"),
        stamp("2025-03-31 10:00"),
        pd.Timestamp("2025-03-30 08:00", tz="UTC").tz_convert("Europe/London"),
    ]
    assert rejected[REJECT_REASON].tolist() == ["unparseable_date"]
    assert "needs its UTC offset" in rejected["detail"].iloc[0]
