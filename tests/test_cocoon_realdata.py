"""Essex 2025 burglaries (police.uk) against Code-Point Open postcode units.

The zones and their address counts are checked against an independent computation that
reads the raw CSVs with pandas, projects with pyproj and counts with scipy's cKDTree.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from scipy.spatial import cKDTree

from conftest import REPO, shared_path
from hotspots.cocoon import AddressIndex, cocoon_zones, read_addresses, team_lists, visit_lists
from hotspots.ingest import read_incidents
from hotspots.schema import N_HOMES, OCCURRED_AT, ZONE_ID

pytestmark = pytest.mark.realdata

AS_OF = pd.Timestamp("2025-12-31 23:59:59", tz="Europe/London")


def _independent_december_burglaries() -> pd.DataFrame:
    """Burglaries dated mid-December (16 Dec 12:00) are the only ones in the 42-day window.

    Mid-November is 15 Nov 12:00, before the window opens (19 Nov 23:59:59).
    """
    folder = shared_path("police_uk", "essex_2025")
    raw = pd.concat([pd.read_csv(p) for p in sorted(folder.glob("*.csv.gz"))])
    burg = raw[(raw["Crime type"] == "Burglary") & (raw["Month"] == "2025-12")]
    burg = burg.dropna(subset=["Longitude", "Latitude"])
    x, y = Transformer.from_crs(4326, 27700, always_xy=True).transform(
        burg["Longitude"].to_numpy(), burg["Latitude"].to_numpy()
    )
    return pd.DataFrame({"id": burg["Crime ID"].to_numpy(), "x": x, "y": y})


@pytest.fixture(scope="module")
def essex():
    incidents = read_incidents([shared_path("police_uk", "essex_2025")]).incidents
    path = shared_path("addresses", "essex_postcode_units_codepoint_open_2014.csv.gz")
    addresses, rejected = read_addresses(path, working_crs=incidents.crs)
    return incidents, addresses, rejected


def test_codepoint_layer(essex):
    _, addresses, rejected = essex
    assert len(addresses) == 44_683
    assert len(rejected) == 0
    raw = pd.read_csv(shared_path("addresses", "essex_postcode_units_codepoint_open_2014.csv.gz"))
    assert addresses["address_id"].tolist() == raw["Postcode"].tolist()
    np.testing.assert_array_equal(addresses.geometry.x.to_numpy(), raw["Eastings"].to_numpy())


def test_zones_and_counts_equal_independent_computation(essex):
    incidents, addresses, _ = essex
    index = AddressIndex(addresses)
    zones = cocoon_zones(incidents, as_of=AS_OF, month_dates="mid", addresses=index)
    expected = _independent_december_burglaries()
    assert len(zones) == len(expected) == 537
    assert set(zones["burglary_id"]) == set(expected["id"])
    assert (zones[OCCURRED_AT] == pd.Timestamp("2025-12-16 12:00", tz="Europe/London")).all()
    raw = pd.read_csv(shared_path("addresses", "essex_postcode_units_codepoint_open_2014.csv.gz"))
    tree = cKDTree(raw[["Eastings", "Northings"]].to_numpy(dtype="float64"))
    counts = tree.query_ball_point(expected[["x", "y"]].to_numpy(), r=400.0, return_length=True)
    by_id = dict(zip(expected["id"], counts, strict=True))
    got = dict(zip(zones["burglary_id"], zones[N_HOMES].astype(int), strict=True))
    assert got == by_id
    assert sum(by_id.values()) > 5_000  # a real workload, not an empty comparison
    # overlaps: other zones whose burglaries are within 800 m
    pts = cKDTree(expected[["x", "y"]].to_numpy())
    overlap = pts.query_ball_point(expected[["x", "y"]].to_numpy(), r=800.0, return_length=True)
    assert dict(zip(zones["burglary_id"], zones["n_overlapping"], strict=True)) == dict(
        zip(expected["id"], overlap - 1, strict=True)
    )

    visits = visit_lists(zones, index)
    assert len(visits) == sum(by_id.values())
    per_zone = visits.groupby(ZONE_ID, observed=True).size()
    assert per_zone.sum() == zones[N_HOMES].sum()
    teams = team_lists(visits)
    targets = visits[~visits["is_burgled_address"]]
    assert len(teams) == targets[["area", "address_id"]].drop_duplicates().shape[0]


@pytest.mark.slow
def test_cli_on_essex(tmp_path):
    shared_path("police_uk", "essex_2025")
    out = tmp_path / "out"
    args = [
        sys.executable,
        "-m",
        "hotspots",
        "cocoon",
        "../shared/data/police_uk/essex_2025",
        "--as-of",
        "2025-12-31",
        "--month-dates",
        "mid",
        "--out",
        str(out),
        "--addresses",
        "../shared/data/addresses/essex_postcode_units_codepoint_open_2014.csv.gz",
        "--areas",
        "../shared/data/boundaries/essex_lad2013.geojson",
        "--area-field",
        "LAD13NM",
    ]
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    run = json.loads((out / "run.json").read_text())
    assert run["cocoon"]["zones"] == 537
    assert run["cocoon"]["month_dates"] == "mid"
    assert sum(run["cocoon"]["by_area"].values()) == 537
    assert "Colchester" in run["cocoon"]["by_area"]
    assert any("month" in note for note in run["cocoon"]["notes"])
    visits = pd.read_csv(out / "cocoon_visits.csv", encoding="utf-8-sig")
    assert len(visits) == run["cocoon"]["homes_in_zones"]
    assert "Cocoon zones: 537 retrospective risk areas" in done.stdout + done.stderr
