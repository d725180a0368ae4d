"""Hostile inputs (issue 11): every row accounted for, one-line errors, no crash.

Each case is written by hand into ``tmp_path``; expected counts were worked out from
the rows written, and every test checks kept + rejected = read.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hotspots.errors import CRSError, InputError
from hotspots.ingest import read_incidents

STREET_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
    "LSOA name,Crime type,Last outcome category,Context"
)
TODAY = "2026-06-30"


def street_row(
    cid: str,
    month: str = "2025-01",
    lon: str = "0.47",
    lat: str = "51.73",
    crime: str = "Burglary",
    force: str = "Essex Police",
    outcome: str = "Under investigation",
) -> str:
    return (
        f"{cid},{month},{force},{force},{lon},{lat},On or near High Street,E01021500,"
        f"Chelmsford 001A,{crime},{outcome},"
    )


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def accounted(result: object, *, per_file: bool = True) -> None:
    """kept + rejected = read, overall and for every input file (by source_file)."""
    report = result.report
    assert report.n_kept + report.n_rejected == report.n_read
    assert len(result.incidents) == report.n_kept
    assert len(result.rejected) == report.n_rejected
    if per_file:
        kept = result.incidents["source_file"].value_counts()
        gone = result.rejected["source_file"].value_counts()
        for f in report.files:
            assert int(kept.get(f["file"], 0) + gone.get(f["file"], 0)) == f["rows"], f["file"]


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


# ---------------------------------------------------------------- dates
@pytest.mark.parametrize("sentinel", ["9999-12", "0001-01", "2262-05", "1677-01"])
def test_police_month_sentinel_is_a_row(tmp_path, sentinel):
    path = write(tmp_path / "s.csv", STREET_HEADER, [street_row("a"), street_row("b", sentinel)])
    res = read_incidents([path], today=TODAY)
    accounted(res)
    assert res.report.n_kept == 1
    assert res.report.rejected_by_reason["date_out_of_range"] == 1
    row = res.rejected.iloc[0]
    assert row["reason"] == "date_out_of_range"
    assert row["source_row"] == 2
    assert f"'{sentinel}' is outside the years a date can hold (1678-2261)" in row["detail"]


@pytest.mark.parametrize(
    ("value", "fmt"),
    [
        ("9999-12-31", None),
        ("9999-12-31T00:00:00Z", None),
        ("0001-01-01 10:00", None),
        ("2262-05-01T00:00:00+01:00", None),
        ("31/12/9999", None),
        ("31/12/9999", "%d/%m/%Y"),
    ],
)
def test_every_date_path_rejects_out_of_range(tmp_path, value, fmt):
    good = "13/01/2025" if "/" in value else "2025-01-13 10:00"
    path = write(
        tmp_path / "t.csv",
        "id,date,offence,x,y",
        [f"1,{good},Burglary,560000,200000", f"2,{value},Burglary,560100,200100"],
    )
    from hotspots.config import IngestOptions

    res = read_incidents([path], IngestOptions(time_format=fmt), today=TODAY)
    accounted(res)
    assert res.report.rejected_by_reason == {
        **{k: 0 for k in res.report.rejected_by_reason},
        "date_out_of_range": 1,
    }


def test_out_of_range_to_date_is_a_row(tmp_path):
    path = write(
        tmp_path / "c.csv",
        "incident_id,occurred_at,occurred_to,offence,easting,northing",
        [
            "a,2025-01-01 10:00,2025-01-01 12:00,Burglary,560000,200000",
            "b,2025-01-02 10:00,9999-12-31,Burglary,560000,200000",
        ],
    )
    res = read_incidents([path], today=TODAY)
    accounted(res)
    assert res.rejected["reason"].tolist() == ["date_out_of_range"]
    assert res.rejected["detail"].iloc[0].startswith("occurred_to '9999-12-31' is outside")


def test_future_and_too_early_rows_are_rejected(tmp_path):
    rows = [street_row(f"r{i}", "2025-03") for i in range(3)]
    rows += [street_row("f1", "2030-06"), street_row("f2", "2026-07"), street_row("e", "1985-02")]
    path = write(tmp_path / "f.csv", STREET_HEADER, rows)
    res = read_incidents([path], today=TODAY)
    accounted(res)
    by = res.report.rejected_by_reason
    assert (by["future_date"], by["date_before_floor"], res.report.n_kept) == (2, 1, 3)
    # the default as-of (end of the kept data) is no longer moved by the bogus rows
    assert res.report.date_max.strftime("%Y-%m-%d") == "2025-03-31"
    detail = res.rejected.set_index("Crime ID").loc["f1", "detail"]
    assert "after the run date 2026-06-30" in detail


def test_implausible_dates_can_be_kept_with_a_note(tmp_path):
    rows = [street_row("a", "2025-03"), street_row("f", "2030-06"), street_row("e", "1985-02")]
    path = write(tmp_path / "k.csv", STREET_HEADER, rows)
    res = read_incidents([path], today=TODAY, implausible_dates="keep", date_floor="1990-01-01")
    accounted(res)
    assert res.report.n_kept == 3
    assert any("Kept 1 rows dated after the run date" in n for n in res.report.notes)
    lower = read_incidents([path], today=TODAY, date_floor=None)
    assert lower.report.rejected_by_reason["date_before_floor"] == 0


def test_bad_today_is_one_line(tmp_path):
    path = write(tmp_path / "k.csv", STREET_HEADER, [street_row("a")])
    from hotspots.errors import OptionError

    with pytest.raises(OptionError, match=r"today 'soon' is not a date; use YYYY-MM-DD") as exc:
        read_incidents([path], today="soon")
    one_line(exc)


def test_month_of_today_is_not_future(tmp_path):
    path = write(tmp_path / "m.csv", STREET_HEADER, [street_row("a", "2026-06")])
    assert read_incidents([path], today=TODAY).report.n_kept == 1


_ = (CRSError, InputError, pd)


# ---------------------------------------------------------------- files as downloaded
OUTCOMES_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
    "LSOA name,Outcome type"
)
STOP_HEADER = (
    "Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,"
    "Age range,Self-defined ethnicity,Officer-defined ethnicity,Legislation,Object of search,"
    "Outcome,Outcome linked to object of search,Removal of more than just outer clothing"
)


def test_police_folder_with_outcomes_and_stop_search_files(tmp_path):
    folder = tmp_path / "2025-01"
    folder.mkdir()
    write(folder / "2025-01-essex-street.csv", STREET_HEADER, [street_row("a"), street_row("b")])
    write(
        folder / "2025-01-essex-outcomes.csv",
        OUTCOMES_HEADER,
        ["a,2025-01,E,E,0.47,51.73,On or near X,E01,C 001A,Unable to prosecute suspect"] * 3,
    )
    write(
        folder / "2025-01-essex-stop-and-search.csv",
        STOP_HEADER,
        ["Person search,2025-01-03T10:00:00+00:00,False,,51.7,0.4,Male,18-24,,,,Drugs,A,,"],
    )
    res = read_incidents([folder], today=TODAY)
    accounted(res)
    assert res.report.n_read == 2
    notes = " | ".join(res.report.notes)
    assert "Skipped 1 police.uk outcomes file(s) (3 rows: 2025-01-essex-outcomes.csv)" in notes
    assert "Skipped 1 police.uk stop-and-search file(s) (1 rows" in notes


def test_only_outcomes_is_one_line(tmp_path):
    path = write(tmp_path / "o-outcomes.csv", OUTCOMES_HEADER, ["a,2025-01,E,E,0.4,51.7,X,E,C,U"])
    with pytest.raises(InputError, match=r"o-outcomes\.csv is a police\.uk outcomes file") as exc:
        read_incidents([path])
    one_line(exc)


def test_boundary_file_among_inputs_gets_areas_advice(tmp_path):
    import geopandas as gpd
    import shapely

    write(tmp_path / "street.csv", STREET_HEADER, [street_row("a")])
    areas = gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.box(0, 51, 1, 52)], crs=4326)
    areas.to_file(tmp_path / "force.geojson")
    res = read_incidents([tmp_path], today=TODAY)
    accounted(res)
    assert res.report.n_read == 1
    assert any("area polygons file(s)" in n and "pass it as --areas" in n for n in res.report.notes)
    with pytest.raises(InputError, match=r"force\.geojson holds area polygons.*--areas") as exc:
        read_incidents([tmp_path / "force.geojson"])
    one_line(exc)


# ---------------------------------------------------------------- encodings and malformed files
def test_cp1252_bytes_decode_to_quotes_and_euro(tmp_path):
    path = tmp_path / "win.csv"
    row = street_row("a").replace("High Street", "St Mary\u2019s Road \u20ac5")
    path.write_bytes((STREET_HEADER + "\n" + row + "\n").encode("cp1252"))
    res = read_incidents([path], today=TODAY)
    assert res.incidents["location"].iloc[0] == "On or near St Mary\u2019s Road \u20ac5"
    assert res.report.files[0]["encoding"] == "cp1252"
    assert any("read it as Windows-1252 (cp1252)" in n for n in res.report.notes)


def test_malformed_rows_name_file_and_line_and_keep_row_numbers(tmp_path):
    rows = [
        street_row("a"),
        street_row("b") + ",extra",
        street_row("c"),
        "d,2025-01",
        street_row("e"),
    ]
    path = write(tmp_path / "bad.csv", STREET_HEADER, rows)
    res = read_incidents([path], today=TODAY)
    accounted(res)
    assert res.report.n_read == 5 and res.report.n_kept == 3
    assert res.incidents["source_row"].tolist() == [1, 3, 5]  # lines 2, 4, 6
    bad = res.rejected.sort_values("source_row")
    assert bad["source_row"].tolist() == [2, 4]
    assert bad["detail"].iloc[0].startswith("bad.csv line 3 has 13 fields where the header has 12")
    assert bad["detail"].iloc[1].startswith("bad.csv line 5 has 2 fields")


def test_duplicate_column_is_named(tmp_path):
    path = write(tmp_path / "dup.csv", "id,date,Month,offence,date", ["1,2025-01-01,x,B,2"])
    with pytest.raises(InputError, match=r"dup\.csv .*'date' appears more than once") as exc:
        read_incidents([path])
    one_line(exc)


def test_binary_file_is_not_a_text_table(tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_bytes(b"PK\x03\x04\x00\x00binary\x00data")
    with pytest.raises(InputError, match=r"sheet\.csv is not a text table") as exc:
        read_incidents([path])
    one_line(exc)


def test_over_long_field_is_cut_with_a_note(tmp_path):
    long_text = "x" * 5_000
    path = write(
        tmp_path / "long.csv", STREET_HEADER, [street_row("a").replace("High Street", long_text)]
    )
    res = read_incidents([path], today=TODAY)
    accounted(res)
    assert len(res.incidents["location"].iloc[0]) == 1_000
    assert any("'Location' were longer than 1,000 characters" in n for n in res.report.notes)


# ---------------------------------------------------------------- place sanity
def test_strays_in_new_york_are_rejected_and_never_switch_the_crs(tmp_path):
    rows = [street_row(f"e{i}", lon=f"{0.40 + i * 1e-4:.4f}") for i in range(300)]
    rows += [street_row(f"n{i}", lon="-73.98", lat="40.75") for i in range(40)]
    path = write(tmp_path / "mixed.csv", STREET_HEADER, rows)
    res = read_incidents([path], today=TODAY)
    accounted(res)
    assert res.report.crs == "EPSG:27700"
    assert res.report.rejected_by_reason["outside_area"] == 40
    detail = res.rejected["detail"].iloc[0]
    assert "'-73.98,40.75' lies outside Great Britain" in detail
    assert "working CRS EPSG:27700" in detail


def test_data_in_new_york_gets_its_utm_zone_and_no_rejections(tmp_path):
    rows = [street_row(f"n{i}", lon=f"{-73.98 + i * 1e-3:.3f}", lat="40.75") for i in range(20)]
    res = read_incidents([write(tmp_path / "ny.csv", STREET_HEADER, rows)], today=TODAY)
    assert res.report.crs == "EPSG:32618" and res.report.n_rejected == 0


def test_projected_strays_outside_the_grid_are_rejected(tmp_path):
    rows = [f"{i},2025-01-0{1 + i % 9},Burglary,{560000 + i},{200000 + i}" for i in range(30)]
    rows.append("x,2025-01-02,Burglary,699000,5000")  # in the grid, but off Cornwall at sea
    path = write(tmp_path / "bng.csv", "id,date,offence,easting,northing", rows)
    res = read_incidents([path], today=TODAY)
    accounted(res)
    assert res.report.crs == "EPSG:27700"
    assert res.report.rejected_by_reason["outside_area"] == 1


def test_swapped_british_lat_lon_is_one_line_with_the_fix(tmp_path):
    rows = [street_row(f"s{i}", lon="51.73", lat=f"{0.47 + i * 1e-3:.3f}") for i in range(5)]
    path = write(tmp_path / "swapped.csv", STREET_HEADER, rows)
    with pytest.raises(
        CRSError,
        match=r"swapped\.csv: longitude/latitude look swapped .*fit Great Britain the other way "
        r"round\); swap them with --x-col Latitude --y-col Longitude\.",
    ) as exc:
        read_incidents([path], today=TODAY)
    one_line(exc)


def test_swapped_out_of_range_lat_lon_is_one_line(tmp_path):
    rows = [f"{i},2025-01-02,Burglary,-33.87,151.{200 + i}" for i in range(6)]  # Sydney
    path = write(tmp_path / "sydney.csv", "id,date,offence,lon,lat", rows)
    with pytest.raises(CRSError, match=r"sydney\.csv.*look swapped.*--x-col lat --y-col lon"):
        read_incidents([path], today=TODAY)


def test_mixed_force_folder_gets_a_note_with_counts(tmp_path):
    rows = [street_row(f"e{i}") for i in range(3)]
    rows += [street_row(f"k{i}", force="Kent Police", lon="0.52", lat="51.27") for i in range(2)]
    res = read_incidents([write(tmp_path / "f.csv", STREET_HEADER, rows)], today=TODAY)
    note = next(n for n in res.report.notes if "mixes 2 forces" in n)
    assert "Essex Police 3; Kent Police 2" in note


# ---------------------------------------------------------------- outcome columns (issue 13)
def test_police_outcome_and_context_are_kept_and_survive_parquet(tmp_path):
    rows = [street_row("a", outcome="Unable to prosecute suspect"), street_row("b", outcome="")]
    res = read_incidents([write(tmp_path / "o.csv", STREET_HEADER, rows)], today=TODAY)
    inc = res.incidents
    assert inc["last_outcome"].iloc[0] == "Unable to prosecute suspect"
    assert inc["last_outcome"].isna().iloc[1] and inc["context"].isna().all()
    inc.to_parquet(tmp_path / "o.parquet", index=False)
    back = read_incidents([tmp_path / "o.parquet"], today=TODAY)
    assert back.incidents["last_outcome"].iloc[0] == "Unable to prosecute suspect"
    assert back.incidents["last_outcome"].isna().iloc[1]


# ---------------------------------------------------------------- typed reads (issue 15)
def test_own_parquet_is_read_typed_with_lineage_and_row_rules(tmp_path):
    import numpy as np

    rows = [street_row(f"r{i}", lon=f"{0.47 + i * 1e-3:.3f}") for i in range(4)]
    first = read_incidents([write(tmp_path / "2025-01-x-street.csv", STREET_HEADER, rows)])
    layer = first.incidents.copy()
    layer.loc[1, "occurred_at"] = pd.Timestamp("2030-01-01", tz="Europe/London")  # future
    layer.loc[2, "geometry"] = None  # lost location
    layer.loc[3, "incident_id"] = "r0"  # repeated id
    layer.to_parquet(tmp_path / "own.parquet", index=False)
    res = read_incidents([tmp_path / "own.parquet"], today=TODAY)
    accounted(res, per_file=False)  # rows keep the CSV's lineage, not the parquet's name
    assert res.report.files[0]["format"] == "hotspots"
    assert res.incidents["source_file"].tolist() == ["2025-01-x-street.csv"]  # lineage kept
    got = dict(zip(res.rejected["source_row"], res.rejected["reason"], strict=True))
    assert got == {2: "future_date", 3: "no_location", 4: "duplicate_id"}
    assert isinstance(res.incidents["occurred_at"].dtype, pd.DatetimeTZDtype)
    assert np.allclose(res.incidents.geometry.x, first.incidents.geometry.x[:1])


def test_typed_geopackage_dates_are_not_parsed_as_text(tmp_path):
    import geopandas as gpd
    import shapely

    layer = gpd.GeoDataFrame(
        {
            "id": ["a", "b"],
            "date": pd.to_datetime(["2025-01-05 10:30", "2025-01-06 11:00"]),
            "offence": ["Burglary", "Robbery"],
        },
        geometry=[shapely.Point(560000, 200000), shapely.Point(560100, 200100)],
        crs=27700,
    )
    layer.to_file(tmp_path / "typed.gpkg", engine="pyogrio")
    res = read_incidents([tmp_path / "typed.gpkg"], today=TODAY)
    accounted(res)
    assert res.report.n_kept == 2 and res.report.time_resolution == "exact"
    assert res.incidents["occurred_at"].iloc[0] == pd.Timestamp(
        "2025-01-05 10:30", tz="Europe/London"
    )


def test_a_few_projected_strays_outside_the_grid_do_not_refuse_the_file(tmp_path):
    rows = [f"{i},2025-01-0{1 + i % 9},Burglary,{560000 + i},{200000 + i}" for i in range(20)]
    rows += ["s1,2025-01-02,Burglary,9999999,200000", "s2,2025-01-02,Burglary,560000,-5"]
    path = write(tmp_path / "strays.csv", "id,date,offence,easting,northing", rows)
    res = read_incidents([path], today=TODAY)
    accounted(res)
    assert res.report.crs == "EPSG:27700"
    assert res.report.rejected_by_reason["coordinates_out_of_range"] == 2


def test_every_file_of_a_folder_is_accounted_for(tmp_path):
    write(tmp_path / "2025-01-x-street.csv", STREET_HEADER, [street_row("a"), "b,2025-01"])
    write(
        tmp_path / "2025-02-x-street.csv",
        STREET_HEADER,
        [street_row("c", "2025-02"), street_row("d", "9999-12"), street_row("e", "2025-02")],
    )
    res = read_incidents([tmp_path], today=TODAY)
    accounted(res)
    assert [f["rows"] for f in res.report.files] == [2, 3]
    assert res.incidents["source_row"].tolist() == [1, 1, 3]


def test_run_date_and_floor_come_from_the_ingest_options(tmp_path):
    from hotspots.config import IngestOptions

    rows = [street_row("a", "2025-03"), street_row("f", "2025-09"), street_row("e", "1999-02")]
    path = write(tmp_path / "k.csv", STREET_HEADER, rows)
    opts = IngestOptions(today="2025-06-30", date_floor="2000-01-01")
    res = read_incidents([path], opts)
    accounted(res)
    assert res.report.rejected_by_reason["future_date"] == 1
    assert res.report.rejected_by_reason["date_before_floor"] == 1
    kept = read_incidents([path], IngestOptions(today="2025-06-30", keep_implausible_dates=True))
    assert kept.report.n_kept == 3
