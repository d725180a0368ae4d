"""read_incidents on tiny hand-made files: formats, rejection reasons, resolution, CRS."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from hotspots.config import IngestOptions
from hotspots.ingest import read_incidents, write_rejected
from hotspots.schema import (
    DWELLING_BURGLARY,
    INCIDENT_COLUMNS,
    INCIDENT_ID,
    LOCATION,
    LSOA_CODE,
    LSOA_NAME,
    OCCURRED_AT,
    OCCURRED_TO,
    OFFENCE,
    OFFENCE_CODE,
    OUTCOME_COLUMNS,
    REJECT_REASONS,
    SOURCE_FILE,
    SOURCE_ROW,
    TIME_RESOLUTION,
)

DATA = Path(__file__).parent / "data" / "ingest"
TZ = "Europe/London"


def bng(lon: float, lat: float) -> tuple[float, float]:
    return Transformer.from_crs(4326, 27700, always_xy=True).transform(lon, lat)


@pytest.fixture(scope="module")
def police() -> object:
    return read_incidents([DATA / "police_uk"])


# ---------------------------------------------------------------- police.uk street folder
def test_police_folder_counts_each_reason_once(police):
    report = police.report
    assert report.n_read == 11
    assert report.n_kept == 5
    assert {k: v for k, v in report.rejected_by_reason.items() if v} == {
        "no_location": 1,
        "unparseable_date": 1,
        "coordinates_out_of_range": 1,
        "coordinates_zero": 1,
        "unknown_offence": 1,
        "duplicate_id": 1,
    }
    assert tuple(report.rejected_by_reason) == REJECT_REASONS
    assert report.n_kept + sum(report.rejected_by_reason.values()) == report.n_read


def test_police_rejected_rows_keep_raw_text_and_reason(police):
    rej = police.rejected.set_index(["source_file", "source_row"])
    jan, feb = "2025-01-fixture.csv", "2025-02-fixture.csv"
    assert rej.loc[(jan, 5), "reason"] == "no_location"
    assert "No Location" in rej.loc[(jan, 5), "detail"]
    assert rej.loc[(jan, 6), "reason"] == "coordinates_zero"
    assert rej.loc[(jan, 7), "reason"] == "coordinates_out_of_range"
    assert "999.0,51.9" in rej.loc[(jan, 7), "detail"]
    assert rej.loc[(jan, 8), "reason"] == "duplicate_id"
    assert "aaa1" in rej.loc[(jan, 8), "detail"] and f"{jan} row 1" in rej.loc[(jan, 8), "detail"]
    assert rej.loc[(feb, 2), "reason"] == "unparseable_date"
    assert "'2025-13'" in rej.loc[(feb, 2), "detail"]
    assert rej.loc[(feb, 3), "reason"] == "unknown_offence"
    # raw columns as text, exactly as in the file
    assert rej.loc[(jan, 7), "Longitude"] == "999.0"
    assert rej.loc[(jan, 5), "Location"] == "No Location"
    assert list(police.rejected.columns[:4]) == ["source_file", "source_row", "reason", "detail"]


def test_police_incidents_canonical(police):
    inc = police.incidents
    assert list(inc.columns) == [*INCIDENT_COLUMNS, *OUTCOME_COLUMNS, LSOA_NAME, "geometry"]
    assert inc.index.equals(pd.RangeIndex(5))
    assert inc.crs.to_epsg() == 27700
    assert inc[INCIDENT_ID].tolist() == [
        "aaa1",
        "aaa2",
        "2025-01-fixture.csv#3",
        "2025-01-fixture.csv#4",
        "bbb1",
    ]
    assert inc[SOURCE_ROW].tolist() == [1, 2, 3, 4, 1]
    assert inc[SOURCE_FILE].tolist()[-1] == "2025-02-fixture.csv"
    assert inc[OFFENCE].tolist()[:2] == ["Burglary", "Violence and sexual offences"]
    assert inc[DWELLING_BURGLARY].tolist() == [True, False, False, False, False]
    assert inc[LOCATION].iloc[0] == "On or near High Street"
    assert inc[LSOA_CODE].iloc[0] == "E01021500"
    assert inc[LSOA_NAME].iloc[0] == "Colchester 010A"  # names the district without --areas
    assert inc[OFFENCE_CODE].isna().all()
    assert set(inc[TIME_RESOLUTION]) == {"month"}
    x, y = bng(0.899, 51.889)
    assert inc.geometry.iloc[0].x == pytest.approx(x, abs=1e-6)
    assert inc.geometry.iloc[0].y == pytest.approx(y, abs=1e-6)


def test_police_month_window(police):
    inc = police.incidents
    assert inc[OCCURRED_AT].iloc[0] == pd.Timestamp("2025-01-01 00:00", tz=TZ)
    assert inc[OCCURRED_TO].iloc[0] == pd.Timestamp("2025-01-31 23:59:59", tz=TZ)
    assert inc[OCCURRED_AT].iloc[-1] == pd.Timestamp("2025-02-01 00:00", tz=TZ)
    assert str(inc[OCCURRED_AT].dt.tz) == TZ
    r = police.report
    assert r.time_resolution == "month"
    assert r.date_min == pd.Timestamp("2025-01-01", tz=TZ)
    assert r.date_max == pd.Timestamp("2025-02-28 23:59:59", tz=TZ)
    assert r.crs == "EPSG:27700"


def test_police_notes(police):
    notes = " ".join(police.report.notes)
    assert "snapped" in notes and "months" in notes
    assert "non-dwelling" in notes
    assert "2 rows have no Crime ID" in notes


def test_report_to_dict_is_json(police):
    d = police.report.to_dict()
    text = json.dumps(d)
    assert '"time_resolution": "month"' in text
    assert d["n_rejected"] == 6
    assert d["files"][0]["format"] == "police.uk street"
    assert d["files"][0]["rows"] == 8
    assert d["date_min"] == "2025-01-01T00:00:00+00:00"


def test_blank_ids_are_not_duplicates():
    res = read_incidents([DATA / "police_uk" / "2025-01"])
    asb = res.incidents[res.incidents[OFFENCE] == "Anti-social behaviour"]
    assert len(asb) == 2  # two identical ASB rows with blank Crime ID both kept
    assert asb[INCIDENT_ID].is_unique


def test_glob_input_and_order():
    res = read_incidents([str(DATA / "police_uk" / "*" / "*.csv")])
    assert res.report.n_read == 11
    assert [f["file"] for f in res.report.files] == [
        "2025-01-fixture.csv",
        "2025-02-fixture.csv",
    ]


def test_same_file_twice_read_once():
    path = DATA / "snake_2018.csv"
    assert read_incidents([path, str(path)]).report.n_read == 2


# ---------------------------------------------------------------- other formats
def test_snake_case_header():
    res = read_incidents([DATA / "snake_2018.csv"])
    assert res.report.files[0]["format"] == "police.uk street (snake_case header)"
    assert res.report.n_kept == 2
    assert res.incidents[DWELLING_BURGLARY].tolist() == [True, False]
    assert res.report.time_resolution == "month"
    assert res.incidents[LSOA_NAME].tolist() == ["Babergh 007B", "Basildon 001A"]
    x, y = bng(0.738080, 52.042187)
    assert res.incidents.geometry.iloc[0].x == pytest.approx(x, abs=1e-6)


def test_api_records():
    res = read_incidents([DATA / "api_records.csv"])
    inc = res.incidents
    assert res.report.files[0]["format"] == "police.uk API"
    assert inc[OFFENCE].tolist() == [
        "Anti-social behaviour",
        "Violence and sexual offences",
        "Burglary",
        "Criminal damage and arson",
    ]
    assert inc[INCIDENT_ID].tolist() == ["api_records.csv#1", "p1", "p2", "p3"]
    assert inc[DWELLING_BURGLARY].tolist() == [False, False, True, False]
    assert inc[LOCATION].iloc[0] == "On or near Military Road"
    assert inc[OCCURRED_TO].iloc[-1] == pd.Timestamp("2023-12-31 23:59:59", tz=TZ)
    assert res.report.time_resolution == "month" and res.report.crs == "EPSG:27700"
    x, y = bng(0.909136, 51.883063)  # API has lat before long: must not be swapped
    assert inc.geometry.iloc[0].x == pytest.approx(x, abs=1e-6)
    assert inc.geometry.iloc[0].y == pytest.approx(y, abs=1e-6)


def test_hotspots_canonical_csv():
    res = read_incidents([DATA / "canonical.csv"])
    inc = res.incidents
    assert res.report.files[0]["format"] == "hotspots"
    assert inc[OFFENCE_CODE].tolist() == [
        "Residential burglary",
        "Violence with injury",
        "Non-residential burglary",
    ]
    assert inc[DWELLING_BURGLARY].tolist() == [True, False, False]  # given column wins
    # offset kept then converted; naive local time localised (BST in July); Z is UTC
    assert inc[OCCURRED_AT].iloc[0] == pd.Timestamp("2024-03-05 22:15", tz="UTC")
    assert inc[OCCURRED_AT].iloc[1] == pd.Timestamp("2024-07-01 07:30", tz="UTC")
    assert inc[OCCURRED_AT].iloc[2] == pd.Timestamp("2024-07-02 10:00", tz=TZ)
    assert inc[OCCURRED_TO].iloc[2] == pd.Timestamp("2024-07-02 13:00", tz=TZ)
    assert pd.isna(inc[OCCURRED_TO].iloc[0])
    assert res.report.time_resolution == "exact"
    np.testing.assert_allclose(inc.geometry.x, [600000.0, 600100.5, 600200.0])
    np.testing.assert_allclose(inc.geometry.y, [225000.0, 225050.25, 225100.0])


def test_hotspots_parquet_roundtrip(tmp_path):
    first = read_incidents([DATA / "police_uk"])
    path = tmp_path / "inc.parquet"
    first.incidents.to_parquet(path)
    again = read_incidents([path])
    assert again.report.files[0]["format"] == "hotspots"
    a, b = first.incidents, again.incidents
    assert a[INCIDENT_ID].tolist() == b[INCIDENT_ID].tolist()
    assert (a[OCCURRED_AT] == b[OCCURRED_AT]).all()
    assert (a[OCCURRED_TO] == b[OCCURRED_TO]).all()
    assert a[TIME_RESOLUTION].tolist() == b[TIME_RESOLUTION].tolist()
    assert a[DWELLING_BURGLARY].tolist() == b[DWELLING_BURGLARY].tolist()
    assert a.geometry.geom_equals_exact(b.geometry, tolerance=1e-6).all()
    assert again.report.time_resolution == "month"


@pytest.mark.parametrize("suffix", ["gpkg", "geojson"])
def test_hotspots_spatial_files(tmp_path, suffix):
    first = read_incidents([DATA / "canonical.csv"])
    path = tmp_path / f"inc.{suffix}"
    layer = first.incidents.copy()
    for col in (OCCURRED_AT, OCCURRED_TO):
        layer[col] = layer[col].map(lambda t: None if pd.isna(t) else t.isoformat())
    layer.to_file(path, engine="pyogrio")
    again = read_incidents([path])
    assert again.report.n_kept == 3
    assert again.incidents.crs.to_epsg() == 27700
    np.testing.assert_allclose(again.incidents.geometry.x, first.incidents.geometry.x, atol=1e-3)
    assert (again.incidents[OCCURRED_AT] == first.incidents[OCCURRED_AT]).all()


def test_mapped_projected_day_resolution_to_utm():
    opts = IngestOptions(
        x_col="x",
        y_col="y",
        crs="EPSG:26971",
        time_col="date_single",
        time_format="%d/%m/%Y",
        offence="Burglary",
    )
    res = read_incidents([DATA / "dmy_dates_xy.csv"], opts)
    assert res.report.crs == "EPSG:32616"
    assert res.report.time_resolution == "day"
    assert res.incidents[OCCURRED_AT].dt.strftime("%Y-%m-%d").tolist() == [
        "2016-01-01",
        "2016-01-13",
        "2017-12-31",
    ]
    assert res.incidents[DWELLING_BURGLARY].all()
    # the non-dwelling caveat is police.uk's; a force export's Burglary is its own
    assert "non-dwelling" not in " ".join(res.report.notes)
    assert LSOA_NAME not in res.incidents.columns
    # README: the first point is -87.7267, 41.879748 in WGS84
    ex, ey = Transformer.from_crs(4326, 32616, always_xy=True).transform(-87.7267, 41.879748)
    assert res.incidents.geometry.iloc[0].x == pytest.approx(ex, abs=1.0)
    assert res.incidents.geometry.iloc[0].y == pytest.approx(ey, abs=1.0)


def test_day_first_proven_by_values_without_format():
    opts = IngestOptions(crs="EPSG:26971", offence="Burglary")
    res = read_incidents([DATA / "dmy_dates_xy.csv"], opts)
    assert res.incidents[OCCURRED_AT].dt.day.tolist() == [1, 13, 31]
    assert any("%d/%m/%Y" in n for n in res.report.notes)


def test_mapped_exact_z_times_to_utm_18n_with_duplicate_id():
    opts = IngestOptions(
        x_col="x", y_col="y", time_col="t", id_col="id", offence="Burglary", tz="America/New_York"
    )
    res = read_incidents([DATA / "dc_like.csv"], opts)
    assert res.report.crs == "EPSG:32618"
    assert res.report.time_resolution == "exact"
    assert res.incidents[INCIDENT_ID].tolist() == ["08066179", "08147107"]  # zeros kept
    assert res.incidents[OCCURRED_AT].iloc[0] == pd.Timestamp("2008-05-16 22:15", tz="UTC")
    assert str(res.incidents[OCCURRED_AT].dt.tz) == "America/New_York"
    assert res.report.rejected_by_reason["duplicate_id"] == 1
    assert res.rejected["source_row"].tolist() == [3]


def test_boundary_rejects_outside(tmp_path):
    # a box around Colchester town centre (lon/lat); Chelmsford's bbb1 lies outside
    box = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[0.85, 51.85], [0.95, 51.85], [0.95, 51.95], [0.85, 51.95], [0.85, 51.85]]
                    ],
                },
            }
        ],
    }
    path = tmp_path / "colchester.geojson"
    path.write_text(json.dumps(box), encoding="utf-8")
    res = read_incidents([DATA / "police_uk"], IngestOptions(boundary=path))
    assert res.report.rejected_by_reason["outside_boundary"] == 1
    row = res.rejected[res.rejected["reason"] == "outside_boundary"].iloc[0]
    assert row["Crime ID"] == "bbb1" and "colchester.geojson" in row["detail"]
    assert res.report.n_kept == 4


def test_working_crs_option():
    res = read_incidents([DATA / "snake_2018.csv"], IngestOptions(working_crs="EPSG:32631"))
    assert res.incidents.crs.to_epsg() == 32631 and res.report.crs == "EPSG:32631"


# ---------------------------------------------------------------- encodings
@pytest.mark.parametrize(
    ("name", "expected_id", "encoding"),
    [
        ("latin1_street.csv", "e1", "cp1252"),  # é is the same byte in both
        ("bom_street.csv", "f1", "utf-8"),
        ("gz_street.csv.gz", "g1", "utf-8"),
    ],
)
def test_encodings(name, expected_id, encoding):
    res = read_incidents([DATA / name])
    assert res.incidents[INCIDENT_ID].tolist() == [expected_id]  # BOM not glued to "Crime ID"
    assert res.incidents[LOCATION].iloc[0] == "On or near Caf\u00e9 Street"
    assert res.report.files[0]["encoding"] == encoding
    if encoding == "cp1252":
        assert any("Windows-1252" in n for n in res.report.notes)


# ---------------------------------------------------------------- outputs and invariants
def test_write_rejected_roundtrip(tmp_path, police):
    path = write_rejected(police.rejected, tmp_path / "rejected.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert back["reason"].tolist() == police.rejected["reason"].tolist()
    assert back["Crime ID"].tolist() == police.rejected["Crime ID"].tolist()


def test_inputs_not_changed_and_result_frozen(police):
    with pytest.raises(AttributeError):
        police.report.n_kept = 0  # type: ignore[misc]


def test_progress_reported():
    calls = []
    read_incidents([DATA / "police_uk"], progress=lambda t, d, n: calls.append((t, d, n)))
    assert ("reading files", 2, 2) in calls
    assert calls[-1][0] == "validating rows" and calls[-1][1] == calls[-1][2]


def test_same_file_name_in_two_folders_gets_distinct_generated_ids(tmp_path):
    for month in ("a", "b"):
        (tmp_path / month).mkdir()
        (tmp_path / month / "street.csv").write_bytes((DATA / "snake_2018.csv").read_bytes())
    res = read_incidents([tmp_path])
    assert res.report.n_read == 4
    # the two ASB rows (blank ids) get ids naming their folder; c1 repeats: a duplicate
    assert res.report.rejected_by_reason["duplicate_id"] == 1
    assert res.incidents[INCIDENT_ID].is_unique
    asb = res.incidents.loc[res.incidents[OFFENCE] == "Anti-social behaviour", INCIDENT_ID]
    assert len(asb) == 2 and all(i.endswith("street.csv#2") for i in asb)
