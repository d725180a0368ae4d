"""Whole-file and option errors: one line naming the file and the fix (pinned messages)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from hotspots.config import IngestOptions
from hotspots.errors import CRSError, InputError, OptionError, SchemaError
from hotspots.ingest import read_incidents

DATA = Path(__file__).parent / "data" / "ingest"
STREET_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
    "LSOA name,Crime type,Last outcome category,Context\n"
)


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_empty_file():
    with pytest.raises(
        InputError, match=r"empty\.csv is empty \(no header, no rows\); remove it"
    ) as exc:
        read_incidents([DATA / "empty.csv"])
    one_line(exc)


def test_binary_file():
    with pytest.raises(InputError, match=r"binary\.csv is not a text table .*export it as CSV"):
        read_incidents([DATA / "binary.csv"])


def test_not_a_table():
    with pytest.raises(InputError, match=r"notes_not_csv\.csv is not a CSV table: its first line"):
        read_incidents([DATA / "notes_not_csv.csv"])


def test_undecodable_bytes():
    with pytest.raises(InputError, match=r"garbage_bytes\.csv has undecodable bytes .*UTF-8"):
        read_incidents([DATA / "garbage_bytes.csv"])


def test_bad_gzip(tmp_path):
    path = tmp_path / "broken.csv.gz"
    path.write_bytes(b"this is not gzip")
    with pytest.raises(InputError, match=r"broken\.csv\.gz is not a valid gzip file"):
        read_incidents([path])


def test_ragged_rows(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text(
        STREET_HEADER + "a,2025-01,E,E,0.9,51.9,On or near X,,,Burglary,,,extra,cols\n",
        encoding="utf-8",
    )
    res = read_incidents([path])  # the line is a rejected row with its line number
    assert res.report.n_read == 1 and res.report.rejected_by_reason["malformed_row"] == 1
    assert res.rejected["detail"].iloc[0].startswith("ragged.csv line 2 has 14 fields")


def test_missing_police_columns(tmp_path):
    path = tmp_path / "cut.csv"
    header = STREET_HEADER.replace("Crime type,", "")
    path.write_text(header + "a,2025-01,E,E,0.9,51.9,On or near X,,,,\n", encoding="utf-8")
    with pytest.raises(
        SchemaError,
        match=r"cut\.csv looks like a police\.uk street file but is "
        r"missing column\(s\) \['crime_type'\].*Re-download",
    ):
        read_incidents([path])


def test_missing_date_column(tmp_path):
    path = tmp_path / "nodate.csv"
    path.write_text("x,y,offence\n0.9,51.9,Burglary\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"nodate\.csv is missing a date column; .*--time-col"):
        read_incidents([path])


def test_missing_offence_column(tmp_path):
    path = tmp_path / "nooff.csv"
    path.write_text("x,y,date\n0.9,51.9,2024-01-01\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"nooff\.csv is missing an offence column; .*--offence"):
        read_incidents([path])


def test_missing_coordinates(tmp_path):
    path = tmp_path / "noxy.csv"
    path.write_text("date,offence\n2024-01-01,Burglary\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"noxy\.csv is missing coordinate columns .*--x-col"):
        read_incidents([path])


def test_named_column_absent():
    with pytest.raises(SchemaError, match=r"dmy_dates_xy\.csv has no column 'date' \(--time-col\)"):
        read_incidents(
            [DATA / "dmy_dates_xy.csv"], IngestOptions(time_col="date", offence="Burglary")
        )


def test_ambiguous_dates_never_guessed():
    with pytest.raises(
        SchemaError,
        match=r"ambiguous_dates\.csv column 'date_single' has "
        r"ambiguous dates such as '01/02/2016' .*--time-format %d/%m/%Y",
    ):
        read_incidents(
            [DATA / "ambiguous_dates.csv"], IngestOptions(crs="EPSG:26971", offence="Burglary")
        )


def test_ambiguous_dates_resolved_by_format():
    opts = IngestOptions(crs="EPSG:26971", offence="Burglary", time_format="%m/%d/%Y")
    res = read_incidents([DATA / "ambiguous_dates.csv"], opts)
    assert res.incidents["occurred_at"].dt.month.tolist() == [1, 3]


def test_unrecognised_date_layout(tmp_path):
    path = tmp_path / "words.csv"
    path.write_text("x,y,date,offence\n0.9,51.9,5th of May,Burglary\n", encoding="utf-8")
    with pytest.raises(
        SchemaError,
        match=r"words\.csv column 'date' has dates in a layout .*"
        r"--time-format",
    ):
        read_incidents([path])


def test_mixed_headers(tmp_path):
    shutil.copy(DATA / "police_uk" / "2025-01" / "2025-01-fixture.csv", tmp_path / "a.csv")
    shutil.copy(DATA / "api_records.csv", tmp_path / "b.csv")
    with pytest.raises(
        InputError,
        match=r"Mixed headers in one input set: a\.csv \(police\.uk "
        r"street\) and b\.csv \(police\.uk API\) differ .*separate runs",
    ):
        read_incidents([tmp_path])


def test_same_layout_different_header_style_is_accepted(tmp_path):
    shutil.copy(DATA / "snake_2018.csv", tmp_path / "a.csv")
    shutil.copy(DATA / "bom_street.csv", tmp_path / "b.csv")
    assert read_incidents([tmp_path]).report.n_kept == 3


def test_missing_input():
    with pytest.raises(InputError, match=r"Input nowhere\.csv does not exist; check the path"):
        read_incidents(["nowhere.csv"])


def test_folder_without_files(tmp_path):
    (tmp_path / "readme.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match=r"holds no incident files"):
        read_incidents([tmp_path])


def test_glob_without_matches(tmp_path):
    with pytest.raises(InputError, match=r"matches no incident files"):
        read_incidents([str(tmp_path / "*.csv")])


def test_unsupported_suffix(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(InputError, match=r"data\.xlsx is not a supported file type"):
        read_incidents([path])


def test_no_inputs():
    with pytest.raises(InputError, match="No input given"):
        read_incidents([])


def test_bad_time_zone():
    with pytest.raises(OptionError, match=r"--tz 'Mars/Olympus' is not a time zone name"):
        read_incidents([DATA / "snake_2018.csv"], IngestOptions(tz="Mars/Olympus"))


def test_projected_values_need_crs(tmp_path):
    # Illinois State Plane (US feet): far outside the BNG grid, so the CRS must be given
    path = tmp_path / "far.csv"
    path.write_text("x,y,date_single\n1161120,1858829,13/01/2016\n", encoding="utf-8")
    with pytest.raises(
        CRSError,
        match=r"far\.csv columns x/y hold projected coordinates outside "
        r"the British National Grid.*--crs",
    ):
        read_incidents([path], IngestOptions(offence="Burglary"))


def test_gz_empty(tmp_path):
    path = tmp_path / "empty.csv.gz"
    path.write_bytes(gzip.compress(b""))
    with pytest.raises(InputError, match=r"empty\.csv\.gz is empty"):
        read_incidents([path])


def test_semicolon_separated_hint(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_text("Crime ID;Month;Longitude;Latitude\na;2025-01;0.9;51.9\n", encoding="utf-8")
    with pytest.raises(
        InputError,
        match=r"excel\.csv is not a CSV table.*separated by "
        r"semicolons: save it with commas",
    ):
        read_incidents([path])


def test_duplicate_header_names(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("x,y,x,date\n1,2,3,2024-01-01\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"dup\.csv is not a CSV table.*distinct"):
        read_incidents([path])


def test_crlf_and_quoted_commas(tmp_path):
    path = tmp_path / "windows.csv"
    text = (
        STREET_HEADER.rstrip("\n")
        + "\r\n"
        + 'a,2025-01,E,E,0.9,51.9,"On or near High Street, Colchester",,,Burglary,,\r\n'
    )
    path.write_bytes(text.encode("utf-8"))
    res = read_incidents([path])
    assert res.incidents["location"].tolist() == ["On or near High Street, Colchester"]
    assert res.incidents["incident_id"].tolist() == ["a"]
