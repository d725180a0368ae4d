"""Cocoons on the SYNTHETIC demo town, checked against independent pandas/scipy sums.

The town's files are written and read back the way an analyst would use them: the
address CSV through ``read_addresses`` and the visit log through ``read_visits``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial import cKDTree

from hotspots.areas import read_areas
from hotspots.cocoon import (
    cocoon_zones,
    compliance,
    read_addresses,
    read_visits,
    team_lists,
    visit_lists,
)
from hotspots.demo import generate_town, write_town
from hotspots.schema import ADDRESS_ID, DWELLING_BURGLARY, INCIDENT_ID, N_HOMES, OCCURRED_AT

RADIUS_M = 400.0


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    town = generate_town(n_homes=4_000, years=1)
    folder = tmp_path_factory.mktemp("demo")
    files = write_town(town, folder)
    addresses, rejected = read_addresses(files["addresses"], working_crs=27700)
    visits, rejected_visits = read_visits(files["visits"], addresses=addresses)
    areas = read_areas(files["districts"], area_field="area", working_crs=27700)
    return town, addresses, rejected, visits, rejected_visits, areas


def test_demo_zones_lists_and_compliance(town):
    town, addresses, rejected, visits, rejected_visits, areas = town
    assert len(addresses) == 4_000 and len(rejected) == 0
    as_of = town.as_of
    zones = cocoon_zones(town.incidents, as_of=as_of, areas=areas, addresses=addresses)
    # independent: dwelling burglaries in (as_of - 42 days, as_of]
    inc = town.incidents
    burg = inc[inc[DWELLING_BURGLARY]]
    live = burg[(burg[OCCURRED_AT] > as_of - pd.DateOffset(days=42)) & (burg[OCCURRED_AT] <= as_of)]
    assert len(zones) == len(live) > 5
    assert set(zones["burglary_id"]) == set(live[INCIDENT_ID])
    # independent: homes within 400 m of each burglary
    tree = cKDTree(town.addresses.get_coordinates().to_numpy())
    bxy = live.get_coordinates().to_numpy()
    counts = dict(
        zip(
            live[INCIDENT_ID],
            tree.query_ball_point(bxy, r=RADIUS_M, return_length=True),
            strict=True,
        )
    )
    assert dict(zip(zones["burglary_id"], zones[N_HOMES].astype(int), strict=True)) == counts
    assert set(zones["area"]) <= set(areas["area"]) | {"(outside areas)"}

    vlist = visit_lists(zones, addresses)
    assert len(vlist) == sum(counts.values())
    # demo burglaries happen at homes: each zone flags its burgled home, never a target
    flagged = vlist.groupby("zone_id", observed=True)["is_burgled_address"].sum()
    assert (flagged <= 1).all()
    assert flagged.sum() >= 0.9 * len(zones)
    mand = vlist.groupby("zone_id", observed=True)["mandatory"].sum()
    assert (mand <= 8).all()

    # the demo visit log names two unknown addresses: rejected with a reason, not dropped
    assert (rejected_visits["reason"] == "unknown_address").sum() == 2
    assert len(visits) + len(rejected_visits) == len(town.visits)

    result = compliance(zones, vlist, visits, as_of=as_of)
    # independent first visit per zone: target addresses, after the burglary, by as_of
    targets = vlist.loc[~vlist["is_burgled_address"], ["zone_id", ADDRESS_ID]].astype(str)
    log = visits.assign(address_id=visits[ADDRESS_ID].astype(str))
    joined = targets.merge(log, on=ADDRESS_ID).merge(
        zones[["zone_id", OCCURRED_AT]].astype({"zone_id": str}), on="zone_id"
    )
    joined = joined[(joined["visited_at"] >= joined[OCCURRED_AT]) & (joined["visited_at"] <= as_of)]
    first = joined.groupby("zone_id")["visited_at"].min()
    got = result.per_zone.set_index("zone_id")["first_visit_at"].dropna()
    assert got.sort_index().to_dict() == first.sort_index().to_dict()
    assert len(first) > 0
    in_time = (result.per_zone["first_visit_at"] <= result.per_zone["due_by"]).sum()
    assert result.overall["cocooned_in_time"] == in_time
    assert result.overall["zones"] == len(zones)
    assert result.per_area["zones"].sum() == len(zones)
    share = result.overall["share"]
    assert share is None or 0.0 <= share <= 1.0
    teams = team_lists(vlist)
    assert teams.groupby("area")[ADDRESS_ID].apply(lambda s: s.is_unique).all()
    assert np.isin(teams["n_zones"], np.arange(1, len(zones) + 1)).all()


def test_cocoon_rows_give_the_same_run_as_the_whole_frame(tmp_path):
    """The weekly run hands its cocoon stage only the dwelling burglaries (compact copy)."""
    from hotspots.cocoon import cocoon_rows, run
    from hotspots.config import CocoonOptions

    town = generate_town(n_homes=2_000, years=1)
    files = write_town(town, tmp_path)
    areas = read_areas(files["districts"], area_field="area", working_crs=27700)
    whole = town.incidents
    rows = cocoon_rows(whole)
    assert len(rows) == int(whole[DWELLING_BURGLARY].sum()) < len(whole)
    assert rows.geometry.geom_equals_exact(whole.geometry[rows.index], 0.0).all()
    first = rows.index[0]  # new point objects: a forked stage touches only these
    assert rows.geometry[first] is not whole.geometry[first]
    common = {"as_of": town.as_of, "areas": areas, "addresses": files["addresses"],
              "visits": files["visits"]}  # fmt: skip
    a = run(whole, CocoonOptions(), **common)
    b = run(rows, CocoonOptions(), **common)
    pd.testing.assert_frame_equal(pd.DataFrame(a.zones), pd.DataFrame(b.zones))
    pd.testing.assert_frame_equal(a.visit_list, b.visit_list)
    pd.testing.assert_frame_equal(a.compliance.per_zone, b.compliance.per_zone)
    assert a.figures == b.figures
