"""Batched ingest gives exactly the one-pass result (rows, reasons, details, order, notes).

Batching is forced with a tiny ``BATCH_BYTES`` so every file is its own batch; the
fixtures put the awkward cases on batch edges: an id kept in one file and used again in
later files (twice in one of them), rows without ids, no-location rows, a malformed
line, a future date (kept and rejected), and files of two forces.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import POLICE_UK_HEADER

from hotspots.ingest import _batches, read_incidents
from hotspots.schema import FORCE

HEADER = POLICE_UK_HEADER


def _row(cid: str, month: str, force: str, lon: str, lat: str, kind: str = "Robbery") -> list:
    loc = "No Location" if not lon else "On or near High Street"
    return [cid, month, force, force, lon, lat, loc, "E01000001", "Chelmsford 001A", kind, "", ""]


def _write(path: Path, rows: list[list[str]], *, extra: str = "", header: list | None = None):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header or HEADER)
        writer.writerows(rows)
        handle.write(extra)
    return path


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    folder = tmp_path / "dl"
    a, b = "Alpha Police", "Beta Police"
    _write(folder / "2025-01" / "2025-01-alpha-street.csv", [
        _row("x1", "2025-01", a, "0.470", "51.735"),
        _row("", "2025-01", a, "0.471", "51.735", "Anti-social behaviour"),
        _row("n1", "2025-01", a, "", ""),
        _row("x2", "2025-01", a, "0.472", "51.736", "Burglary"),
    ], extra="bad,line,with,too,few\n")  # fmt: skip
    _write(folder / "2025-02" / "2025-02-alpha-street.csv", [
        _row("x1", "2025-02", a, "0.470", "51.735"),  # used in January: a duplicate
        _row("x3", "2025-02", a, "0.473", "51.737"),
        _row("x1", "2025-02", a, "0.470", "51.735"),  # and again
        _row("", "2025-02", a, "0.471", "51.735", "Anti-social behaviour"),
        _row("f1", "2031-02", a, "0.474", "51.738"),  # after the run date
    ])  # fmt: skip
    _write(
        folder / "2025-02" / "2025-02-beta-street.csv",
        [
            _row("x2", "2025-02", b, "-0.140", "50.828"),  # alpha's January id, again
            _row("y1", "2025-02", b, "-0.141", "50.829"),
            _row("", "2025-02", b, "", "", "Anti-social behaviour"),
        ],
        header=[h.lower() for h in HEADER],
    )  # fmt: skip (other spelling: same columns)
    return folder


def _same(a, b) -> None:
    pd.testing.assert_frame_equal(pd.DataFrame(a.incidents), pd.DataFrame(b.incidents))
    assert a.incidents.crs == b.incidents.crs
    pd.testing.assert_frame_equal(a.rejected, b.rejected)
    assert a.report.to_dict() == b.report.to_dict()


@pytest.mark.parametrize("implausible", ["reject", "keep"])
def test_batched_read_equals_one_pass(downloads, monkeypatch, implausible):
    one = read_incidents([downloads], today="2026-01-01", implausible_dates=implausible)
    monkeypatch.setattr(_batches, "BATCH_BYTES", 1)  # every file its own batch
    files = sorted(downloads.rglob("*.csv"))
    assert len(_batches.batches_of(files)) == 3
    many = read_incidents([downloads], today="2026-01-01", implausible_dates=implausible)
    _same(one, many)
    # the cases the fixture is about, so the comparison is not vacuous
    dups = one.rejected[one.rejected["reason"] == "duplicate_id"]
    assert dups["detail"].tolist() == [
        "Crime ID 'x1' already used by 2025-01-alpha-street.csv row 1",
        "Crime ID 'x1' already used by 2025-01-alpha-street.csv row 1",
        "Crime ID 'x2' already used by 2025-01-alpha-street.csv row 4",
    ]
    assert one.rejected["reason"].iloc[-1] == "malformed_row"
    assert FORCE in one.incidents.columns
    assert any(n.startswith("3 rows have no Crime ID") for n in one.report.notes)
    assert any(n.startswith("The input mixes 2 forces") for n in one.report.notes)


def test_batched_read_of_one_force_has_no_force_column(downloads, monkeypatch):
    (downloads / "2025-02" / "2025-02-beta-street.csv").unlink()
    one = read_incidents([downloads], today="2026-01-01")
    monkeypatch.setattr(_batches, "BATCH_BYTES", 1)
    many = read_incidents([downloads], today="2026-01-01")
    _same(one, many)
    assert FORCE not in many.incidents.columns


def test_small_inputs_are_one_batch(downloads):
    files = sorted(downloads.rglob("*.csv"))
    assert _batches.batches_of(files) == [files]
    gz_and_parquet = [Path("a.csv"), Path("b.parquet")]
    assert _batches.batches_of(gz_and_parquet, limit=1) == [gz_and_parquet]


@pytest.mark.realdata
def test_batched_essex_equals_one_pass(shared, monkeypatch):
    folder = shared("police_uk", "essex_2024_jan-apr")
    one = read_incidents([folder])
    monkeypatch.setattr(_batches, "BATCH_BYTES", 1)
    _same(one, read_incidents([folder]))


def test_tables_that_are_not_police_uk_are_read_in_one_pass(tmp_path, monkeypatch):
    head = "incident_id,occurred_at,offence,easting,northing\n"
    (tmp_path / "a.csv").write_text(head + "a1,2025-01-05T10:00:00,Robbery,560000,200000\n")
    (tmp_path / "b.csv").write_text(head + "a1,2025-01-06T10:00:00,Robbery,560100,200000\n")
    one = read_incidents([tmp_path], today="2026-01-01")
    monkeypatch.setattr(_batches, "BATCH_BYTES", 1)
    many = read_incidents([tmp_path], today="2026-01-01")
    _same(one, many)
    assert one.rejected["reason"].tolist() == ["duplicate_id"]
