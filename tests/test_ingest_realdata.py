"""Real police.uk and US data in ../shared/data (skipped with a reason when absent)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from tests.conftest import shared_path

from hotspots.config import IngestOptions
from hotspots.harm import apply_harm, load_harm_table
from hotspots.ingest import read_incidents
from hotspots.schema import DWELLING_BURGLARY, INCIDENT_ID, OFFENCE, TIME_RESOLUTION

pytestmark = pytest.mark.realdata

# README counts (all rows, kept or not)
ESSEX_2025_TYPES = {
    "Violence and sexual offences": 64716,
    "Anti-social behaviour": 14541,
    "Shoplifting": 14019,
    "Criminal damage and arson": 12694,
    "Public order": 10903,
    "Vehicle crime": 10519,
    "Other theft": 10273,
    "Drugs": 6479,
    "Burglary": 5292,
    "Other crime": 3521,
    "Possession of weapons": 1678,
    "Robbery": 1379,
    "Bicycle theft": 1169,
    "Theft from the person": 1034,
}


@pytest.fixture(scope="module")
def essex():
    return read_incidents([shared_path("police_uk", "essex_2025")])


def _raw(folder: str) -> pd.DataFrame:
    """Independent read with plain pandas."""
    files = sorted(shared_path("police_uk", folder).glob("*.csv.gz"))
    return pd.concat(
        [pd.read_csv(f, dtype=str, keep_default_na=False) for f in files], ignore_index=True
    )


def test_essex_2025_counts(essex):
    r = essex.report
    assert r.n_read == 158_217
    assert r.n_kept == 158_217 - 2_140
    assert r.rejected_by_reason["no_location"] == 2_140
    assert sum(r.rejected_by_reason.values()) == 2_140
    assert r.crs == "EPSG:27700" and essex.incidents.crs.to_epsg() == 27700
    assert r.time_resolution == "month"
    assert set(essex.incidents[TIME_RESOLUTION]) == {"month"}
    assert len(r.files) == 12
    assert str(r.date_min.date()) == "2025-01-01" and str(r.date_max.date()) == "2025-12-31"


def test_essex_matches_independent_pandas_read(essex):
    raw = _raw("essex_2025")
    no_loc = (raw["Longitude"] == "") | (raw["Latitude"] == "")
    assert int(no_loc.sum()) == 2_140
    assert (essex.rejected["Location"] == "No Location").all()
    # every crime type count (kept + rejected) equals the README figure
    kept = essex.incidents[OFFENCE].value_counts()
    gone = essex.rejected["Crime type"].value_counts()
    total = kept.add(gone, fill_value=0).astype(int).to_dict()
    assert total == ESSEX_2025_TYPES
    # points in Essex (BNG metres) bar a few recorded beyond the border; none at the origin
    x, y = essex.incidents.geometry.x, essex.incidents.geometry.y
    in_essex = x.between(540_000, 630_000) & y.between(160_000, 260_000)
    assert in_essex.mean() > 0.98
    assert x.between(0, 700_000).all() and y.between(0, 1_300_000).all()
    assert int(essex.incidents[DWELLING_BURGLARY].sum()) == int(kept["Burglary"])
    assert essex.incidents[INCIDENT_ID].is_unique


def test_essex_harm_total_matches_hand_sum(essex):
    table = load_harm_table()
    weighted = apply_harm(essex.incidents, table)
    counts = essex.incidents[OFFENCE].value_counts()
    expected = sum(n * dict(table.weights)[name] for name, n in counts.items())
    assert weighted["harm"].sum() == pytest.approx(expected)
    assert (weighted["harm"] > 0).all()


def test_essex_boundary_rejects_some_cross_border_rows():
    res = read_incidents(
        [shared_path("police_uk", "essex_2025", "2025-01-essex-street.csv.gz")],
        IngestOptions(boundary=shared_path("boundaries", "essex_police_force_area.geojson")),
    )
    outside = res.report.rejected_by_reason["outside_boundary"]
    assert 0 < outside < 0.05 * res.report.n_read
    assert res.report.n_kept + sum(res.report.rejected_by_reason.values()) == res.report.n_read


def test_essex_2018_snake_case():
    res = read_incidents([shared_path("police_uk", "essex_2018_jan-jul")])
    r = res.report
    assert r.n_read == 115_065
    assert r.rejected_by_reason["no_location"] == 218
    assert sum(r.rejected_by_reason.values()) == 218
    assert r.files[0]["format"] == "police.uk street (snake_case header)"
    assert r.time_resolution == "month" and r.crs == "EPSG:27700"
    kept = res.incidents[OFFENCE].value_counts()
    gone = res.rejected["crime_type"].value_counts()
    assert int(kept.get("Burglary", 0) + gone.get("Burglary", 0)) == 6_918


def test_colchester_api():
    path = shared_path("police_uk", "colchester_2023_api", "crime23.csv.gz")
    res = read_incidents([path])
    r = res.report
    assert r.n_read == 6_878
    assert r.files[0]["format"] == "police.uk API"
    assert r.time_resolution == "month" and r.crs == "EPSG:27700"
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    # the one rejection is a genuine repeated persistent_id, checked with pandas
    ids = raw.loc[raw["persistent_id"] != "", "persistent_id"]
    assert r.rejected_by_reason["duplicate_id"] == int(ids.duplicated().sum()) == 1
    assert sum(r.rejected_by_reason.values()) == 1
    offences = res.incidents[OFFENCE].value_counts()
    assert offences["Violence and sexual offences"] == 2_633 - int(
        (res.rejected["category"] == "violent-crime").sum()
    )
    assert offences["Burglary"] + int((res.rejected["category"] == "burglary").sum()) == 225
    assert set(offences.index) <= set(load_harm_table().weights)


def test_chicago_mapped_day_resolution():
    opts = IngestOptions(
        x_col="x",
        y_col="y",
        crs="EPSG:26971",
        time_col="date_single",
        time_format="%d/%m/%Y",
        offence="Burglary",
        tz="America/Chicago",
    )
    res = read_incidents(
        [shared_path("exact_dated", "chicago", "chicago_residential_burglary_2016_2017.csv.gz")],
        opts,
    )
    r = res.report
    assert r.n_read == 22_127 and r.n_kept == 22_127
    assert r.crs == "EPSG:32616" and r.time_resolution == "day"
    years = res.incidents["occurred_at"].dt.year.value_counts().to_dict()
    assert years == {2016: 11_701, 2017: 10_426}
    # the file's own lon/lat columns, projected independently, agree to within a metre
    raw = pd.read_csv(
        shared_path("exact_dated", "chicago", "chicago_residential_burglary_2016_2017.csv.gz")
    )

    ex, ey = Transformer.from_crs(4326, 32616, always_xy=True).transform(
        raw["longitude"].to_numpy(), raw["latitude"].to_numpy()
    )
    dist = np.hypot(res.incidents.geometry.x - ex, res.incidents.geometry.y - ey)
    assert float(np.median(dist)) < 1.0  # README lon/lat are rounded to ~0.1 m


def test_dc_mapped_exact_resolution():
    opts = IngestOptions(
        x_col="x", y_col="y", time_col="t", id_col="id", offence="Burglary", tz="America/New_York"
    )
    res = read_incidents([shared_path("exact_dated", "washington_dc", "DC_Burglary.csv.gz")], opts)
    r = res.report
    assert r.n_read == 32_195
    assert r.rejected_by_reason["duplicate_id"] == 1  # README: one id is duplicated
    assert r.n_kept == 32_194
    assert r.crs == "EPSG:32618" and r.time_resolution == "exact"
    assert res.incidents[INCIDENT_ID].str.startswith("0").any()  # leading zeros kept
    assert str(r.date_min.date()) == "2007-12-31" or str(r.date_min.date()) == "2008-01-01"
