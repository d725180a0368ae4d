"""``hotspots target``: ranking units by count/harm/rate and the house-to-house lists."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from tests.conftest import run_cli, shared_path

from hotspots.errors import EmptyWindowError, OptionError
from hotspots.reports import Period
from hotspots.schema import (
    ADDRESS_ID,
    ADDRESS_TEXT,
    AREA_NAME,
    HARM,
    OCCURRED_AT,
    OFFENCE,
    POSTCODE,
    STREET,
    TIME_RESOLUTION,
)
from hotspots.target import postcode_sector, rank_units, unique_unit_names

PERIOD = Period(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-12-31"), "current")


def units() -> gpd.GeoDataFrame:
    """A: 0-1000 m square (1 km2); B: 1000-1500 x 0-1000 (0.5 km2); C: empty, far away."""
    return gpd.GeoDataFrame(
        {AREA_NAME: ["A", "B", "C"]},
        geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 1500, 1000),
                  shapely.box(5000, 0, 6000, 1000)],
        crs=27700,
    )  # fmt: skip


def incidents() -> gpd.GeoDataFrame:
    # A: 4 burglaries (harm 10 each) + 1 robbery; B: 3 burglaries, one of them in 2024
    xs = [100, 200, 300, 400, 500, 1100, 1200, 1300]
    offences = ["Burglary"] * 4 + ["Robbery"] + ["Burglary"] * 3
    days = ["2025-02-01"] * 7 + ["2024-06-01"]
    return gpd.GeoDataFrame(
        {OCCURRED_AT: pd.to_datetime(days).tz_localize("Europe/London"), OFFENCE: offences,
         HARM: 10.0, TIME_RESOLUTION: "exact"},
        geometry=gpd.points_from_xy(xs, [500] * 8), crs=27700,
    )  # fmt: skip


def addresses() -> gpd.GeoDataFrame:
    # A: 4 homes on Mill Lane (2 postcodes) and 2 with no street (postcode CM1 2AB);
    # B: 1 home on High Street
    return gpd.GeoDataFrame(
        {ADDRESS_ID: [f"a{i}" for i in range(7)],
         ADDRESS_TEXT: [f"{i} Mill Lane" for i in range(1, 5)] + ["x", "y", "1 High Street"],
         STREET: ["Mill Lane"] * 4 + [pd.NA, pd.NA, "High Street"],
         POSTCODE: ["CM1 1AA", "CM1 1AA", "CM1 1AB", "CM1 1AB", "CM1 2AB", "CM1 2AB", "CM2 9ZZ"]},
        geometry=gpd.points_from_xy([50, 60, 70, 80, 90, 95, 1100], [50] * 7), crs=27700,
    )  # fmt: skip


def test_rank_by_count_with_addresses_hand_counts():
    r = rank_units(incidents(), units(), period=PERIOD, offences=["Burglary"],
                   addresses=addresses(), top=2)  # fmt: skip
    rk = r.ranking.set_index(AREA_NAME)
    assert r.ranking[AREA_NAME].tolist() == ["A", "B", "C"]
    assert rk["count"].tolist() == [4, 2, 0]
    assert rk["harm"].tolist() == pytest.approx([40.0, 20.0, 0.0])
    assert rk["count_per_km2"].tolist()[:2] == pytest.approx([4.0, 4.0])
    assert rk["n_address_points"].tolist() == [6, 1, 0]
    assert rk["n_postcodes"].tolist() == [3, 1, 0]
    assert rk.loc["A", "count_per_1000_addresses"] == pytest.approx(4 / 6 * 1000, abs=0.01)
    assert rk["chosen"].tolist() == [True, True, False]
    streets = r.streets.set_index([AREA_NAME, "street_or_sector"])
    assert streets.loc[("A", "Mill Lane"), "n_address_points"] == 4
    assert streets.loc[("A", "Mill Lane"), "postcodes"] == "CM1 1AA; CM1 1AB"
    assert streets.loc[("A", "Postcode sector CM1 2"), "n_postcodes"] == 1
    assert r.postcodes[POSTCODE].tolist() == ["CM1 1AA", "CM1 1AB", "CM1 2AB", "CM2 9ZZ"]
    assert len(r.addresses) == 7


def test_rate_per_1000_addresses_reorders_units():
    r = rank_units(incidents(), units(), period=PERIOD, offences=["Burglary"],
                   addresses=addresses(), measure="rate", top=1)  # fmt: skip
    # B: 2 per 1 address point = 2000 per 1000; A: 4 per 6 = 667
    assert r.ranking[AREA_NAME].tolist()[:2] == ["B", "A"]
    assert r.ranking["chosen"].tolist() == [True, False, False]


def test_rate_without_addresses_is_per_km2_and_says_so():
    r = rank_units(incidents(), units(), period=PERIOD, offences=["Burglary"], measure="rate")
    # B: 2 / 0.5 km2 = 4; A: 4 / 1 km2 = 4; tie broken by count
    assert r.ranking[AREA_NAME].tolist()[:2] == ["A", "B"]
    assert any("per km2" in n for n in r.notes)


def test_bad_choices_and_empty_windows():
    with pytest.raises(OptionError, match="--measure must be one of"):
        rank_units(incidents(), units(), period=PERIOD, offences=["Burglary"], measure="mean")  # type: ignore[arg-type]
    with pytest.raises(EmptyWindowError, match="No Drugs incident"):
        rank_units(incidents(), units(), period=PERIOD, offences=["Drugs"])


def test_postcode_sector_and_duplicate_names():
    assert postcode_sector(pd.Series(["CO1 1AA", "SS14 3EX"])).tolist() == ["CO1 1", "SS14 3"]
    layer = gpd.GeoDataFrame(
        {"WD": ["Trinity", "Trinity", "Pier"], "LAD": ["Chelmsford", "Rochford", "Southend"]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 6), shapely.box(9, 9, 10, 10)],
        crs=27700,
    )
    renamed, notes = unique_unit_names(layer, area_field="WD")
    assert renamed["WD"].tolist() == ["Trinity (Chelmsford)", "Trinity (Rochford)", "Pier"]
    assert "told apart by LAD" in notes[0]
    assert layer["WD"].tolist() == ["Trinity", "Trinity", "Pier"]  # input unchanged


def test_target_command_writes_its_outputs(tmp_path, capsys):
    def in_essex(layer):  # the fixtures moved into Essex, so the file reads as British Grid
        return layer.set_geometry(layer.geometry.translate(570_000, 200_000))

    data = tmp_path / "inc.parquet"
    in_essex(incidents()).to_parquet(data)
    area_file = tmp_path / "units.geojson"
    in_essex(units()).rename(columns={AREA_NAME: "NAME"}).to_crs(4326).to_file(area_file)
    addr = tmp_path / "addr.gpkg"
    in_essex(addresses()).to_file(addr, driver="GPKG")
    out = tmp_path / "out"
    args = ["target", str(data), "--areas", str(area_file), "--area-field", "NAME",
            "--addresses", str(addr), "--top-units", "2", "--offences", "Burglary",
            "--start", "2025-01-01",
            "--end", "2025-12-31", "--allow-incomplete", "--out", str(out)]  # fmt: skip
    code, text = run_cli(args, capsys)
    assert code == 0, text
    assert "Incomplete period" in text
    ranked = pd.read_csv(out / "target_units.csv", encoding="utf-8-sig")
    assert ranked["area"].tolist() == ["A", "B", "C"]
    assert ranked["n_postcodes"].tolist() == [3, 1, 0]
    html = (out / "target.html").read_text(encoding="utf-8")
    assert "Mill Lane" in html and "size: A4" in html
    gj = json.loads((out / "target_units.geojson").read_text(encoding="utf-8"))
    assert gj["metadata"]["chosen"] == ["A", "B"]


def test_target_command_rejects_unknown_offences(tmp_path, capsys):
    data = tmp_path / "inc.parquet"
    incidents().set_geometry(incidents().geometry.translate(570_000, 200_000)).to_parquet(data)
    area_file = tmp_path / "units.geojson"
    units().to_crs(4326).to_file(area_file, driver="GeoJSON")
    code, text = run_cli(["target", str(data), "--areas", str(area_file), "--offences", "Arson",
                      "--out", str(tmp_path / "o")], capsys)  # fmt: skip
    assert code == 1
    assert "offences: ['Arson'] not in the data" in text


@pytest.mark.realdata
def test_essex_wards_burglary_postcode_counts_equal_an_independent_join():
    from hotspots.areas import read_areas
    from hotspots.cocoon import read_addresses
    from hotspots.harm import apply_harm, load_harm_table
    from hotspots.ingest import read_incidents
    from hotspots.reports import period_from

    wards_path = shared_path("boundaries", "essex_wards2013.geojson")
    cp_path = shared_path("addresses", "essex_postcode_units_codepoint_open_2014.csv.gz")
    inc = read_incidents([shared_path("police_uk", "essex_2025")]).incidents
    burg = apply_harm(inc[inc[OFFENCE] == "Burglary"], load_harm_table())
    raw = gpd.read_file(wards_path)
    named, _ = unique_unit_names(raw, area_field="WD13NM")
    wards = read_areas(named, area_field="WD13NM", working_crs=burg.crs)
    addr, _ = read_addresses(cp_path, working_crs=burg.crs)
    r = rank_units(burg, wards, period=period_from(inc), offences=["Burglary"],
                   addresses=addr, top=15)  # fmt: skip
    top = r.ranking[r.ranking["chosen"]]
    assert len(top) == 15
    assert top["count"].is_monotonic_decreasing
    # independent: Code-Point CSV with pandas, points in wards with geopandas.sjoin
    cp = pd.read_csv(cp_path, usecols=["Postcode", "Eastings", "Northings"])
    pts = gpd.GeoDataFrame(cp, geometry=gpd.points_from_xy(cp["Eastings"], cp["Northings"]),
                           crs=27700)  # fmt: skip
    wards_ind = named[["WD13NM", "geometry"]].to_crs(27700)
    joined = gpd.sjoin(pts, wards_ind, how="inner", predicate="intersects")
    joined = joined[~joined.index.duplicated(keep="first")]
    per_ward = joined.groupby("WD13NM")["Postcode"].nunique()
    for rec in top.to_dict("records"):
        assert rec["n_postcodes"] == per_ward.get(rec[AREA_NAME], 0), rec[AREA_NAME]
    # burglary counts too, from the raw police.uk CSVs
    frames = [pd.read_csv(p, usecols=["Longitude", "Latitude", "Crime type"])
              for p in sorted(shared_path("police_uk", "essex_2025").glob("*.csv.gz"))]  # fmt: skip
    raw_inc = pd.concat(frames, ignore_index=True).query("`Crime type` == 'Burglary'").dropna()
    bp = gpd.GeoDataFrame(
        raw_inc, geometry=gpd.points_from_xy(raw_inc["Longitude"], raw_inc["Latitude"]), crs=4326
    ).to_crs(27700)
    bj = gpd.sjoin(bp, wards_ind, how="inner", predicate="intersects")
    bj = bj[~bj.index.duplicated(keep="first")]
    counts = bj.groupby("WD13NM").size()
    assert top["count"].tolist() == [counts.get(a, 0) for a in top[AREA_NAME]]
    assert np.all(r.postcodes.groupby(AREA_NAME)[POSTCODE].nunique().reindex(top[AREA_NAME])
                  .to_numpy() == top["n_postcodes"].to_numpy())  # fmt: skip


@pytest.mark.parametrize(
    ("command", "flags"),
    [("target", ["--measure", "--addresses", "--top-units", "--offences"]),
     ("impact", ["--buffer-m", "--control-ring-m", "--before-days", "--after-days"])],
)  # fmt: skip
def test_help_names_options_with_units(command, flags):
    import typer.testing

    from hotspots.cli import app

    result = typer.testing.CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for flag in flags:
        assert flag in result.output
