"""The ingest store: incremental re-runs by content hash, and reads equal to the files.

The fixture is three tiny police.uk month files for one force ("alpha") and one for a
second ("beta"); each month has 4 located rows and 1 without a location, so a read of
n files keeps 4n rows and rejects n as ``no_location``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import POLICE_UK_HEADER, write_police_uk

from hotspots.cli import main
from hotspots.errors import InputError
from hotspots.ingest import is_store, read_incidents, read_store, update_store

HEADER = POLICE_UK_HEADER


def write_month(folder: Path, force: str, month: str, *, ids: list[str] | None = None) -> Path:
    """``<month>-<force>-street.csv``: 4 located rows (ids ``<force><month>-k``), 1 without."""
    path = folder / f"{month}-{force}-street.csv"
    names = ids or [f"{force}{month}-{k}" for k in range(4)]
    rows = [
        [i, month, "P", "P", f"{0.47 + 0.001 * k:.6f}", "51.735", "On or near High Street",
         "E01000001", "Chelmsford 001A", "Robbery", "", ""]
        for k, i in enumerate(names)
    ]  # fmt: skip
    rows.append(["", month, "P", "P", "", "", "No Location", "", "", "Robbery", "", ""])
    write_police_uk(path, rows)
    return path


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    for month in ("2025-01", "2025-02"):
        write_month(folder, "alpha", month)
    write_month(folder, "beta", "2025-01")
    return folder


def _same(a, b) -> None:
    pd.testing.assert_frame_equal(pd.DataFrame(a.incidents), pd.DataFrame(b.incidents))
    assert a.incidents.crs == b.incidents.crs
    assert a.report.n_read == b.report.n_read and a.report.n_kept == b.report.n_kept
    assert a.report.rejected_by_reason == b.report.rejected_by_reason
    assert a.report.notes == b.report.notes
    assert (a.report.date_min, a.report.date_max) == (b.report.date_min, b.report.date_max)
    cols = ["source_file", "source_row", "reason"]
    pd.testing.assert_frame_equal(
        a.rejected[cols].reset_index(drop=True), b.rejected[cols].reset_index(drop=True),
        check_dtype=False,
    )  # fmt: skip


def test_store_reads_the_same_as_the_files(downloads, tmp_path):
    store = tmp_path / "store"
    update = update_store([downloads], store)
    assert len(update.parsed) == 3 and is_store(store)
    direct = read_incidents([downloads])
    stored = read_incidents([store])  # read_incidents detects the manifest
    _same(direct, stored)
    assert stored.report.n_kept == 12 and stored.report.rejected_by_reason["no_location"] == 3
    assert sorted(p.parent.name for p in (store / "incidents").rglob("*.parquet")) == [
        "force=alpha", "force=alpha", "force=beta",
    ]  # fmt: skip


def test_second_ingest_parses_only_the_new_month(downloads, tmp_path, capsys):
    store = tmp_path / "store"
    assert main_code(["ingest", str(downloads), "--store", str(store)]) == 0
    first = json.loads((store / "run.json").read_text())
    assert (first["files_parsed"], first["files_unchanged"]) == (3, 0)
    write_month(downloads, "alpha", "2025-03")
    capsys.readouterr()
    assert main_code(["ingest", str(downloads), "--store", str(store)]) == 0
    said = " ".join(capsys.readouterr().err.split())
    assert "parsed 1 new or changed file(s), 3 unchanged (not parsed)" in said
    run = json.loads((store / "run.json").read_text())
    assert (run["files_parsed"], run["files_unchanged"], run["files_dropped"]) == (1, 3, 0)
    assert [Path(p).name for p in run["parsed"]] == ["2025-03-alpha-street.csv"]
    _same(read_incidents([downloads]), read_store(store))


def test_changed_file_is_parsed_again_and_vanished_file_dropped(downloads, tmp_path):
    store = tmp_path / "store"
    update_store([downloads], store)
    write_month(downloads, "alpha", "2025-02", ids=["x1", "x2", "x3", "x4"])  # corrected
    (downloads / "2025-01-beta-street.csv").unlink()
    update = update_store([downloads], store)
    assert [Path(p).name for p in update.parsed] == ["2025-02-alpha-street.csv"]
    assert [Path(p).name for p in update.unchanged] == ["2025-01-alpha-street.csv"]
    assert [Path(p).name for p in update.dropped] == ["2025-01-beta-street.csv"]
    assert not (store / "incidents" / "force=beta").exists()  # its partition is gone
    assert len(list((store / "rejected").glob("*.parquet"))) == 2
    stored = read_store(store)
    assert set(stored.incidents["incident_id"]) >= {"x1", "x4"}
    _same(read_incidents([downloads]), stored)


def test_force_pruning_reads_only_that_force(downloads, tmp_path):
    store = tmp_path / "store"
    update_store([downloads], store)
    alpha = read_store(store, forces=["alpha"])
    _same(read_incidents(sorted(downloads.glob("*-alpha-street.csv"))), alpha)
    with pytest.raises(InputError, match=r"no rows of force\(s\) \['gamma'\]; it holds"):
        read_store(store, forces=["gamma"])
    slim = read_store(store, columns=["offence"])
    assert list(slim.incidents.columns) == [
        "incident_id", "occurred_at", "occurred_to", "offence", "time_resolution",
        "source_file", "source_row", "geometry",
    ]  # fmt: skip


def test_id_repeated_across_files_is_a_duplicate_as_in_one_read(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_month(folder, "alpha", "2025-01", ids=["a", "b", "c", "d"])
    write_month(folder, "alpha", "2025-02", ids=["d", "e", "f", "g"])  # "d" again
    update_store([folder], tmp_path / "store")
    stored = read_store(tmp_path / "store")
    direct = read_incidents([folder])
    assert direct.report.rejected_by_reason["duplicate_id"] == 1
    _same(direct, stored)


def test_changed_options_parse_every_file_again(downloads, tmp_path):
    from hotspots.config import IngestOptions

    store = tmp_path / "store"
    update_store([downloads], store)
    again = update_store([downloads], store, IngestOptions(tz="Europe/Dublin"))
    assert len(again.parsed) == 3 and again.reparse_all is not None


def main_code(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as done:
        main(argv)
    return int(done.value.code or 0)


def test_store_user_mistakes_are_one_line(downloads, tmp_path, capsys):
    other = tmp_path / "notastore"
    other.mkdir()
    (other / "notes.txt").write_text("x")
    assert main_code(["ingest", str(downloads), "--store", str(other)]) == 1
    assert "is a folder that is not an ingest store" in capsys.readouterr().err
    both = ["ingest", str(downloads), "--store", str(tmp_path / "s"), "--out", "x.parquet"]
    assert main_code(both) == 1
    assert "Give exactly one of --out" in capsys.readouterr().err
    update_store([downloads], tmp_path / "s")
    with pytest.raises(InputError, match="must be the only input"):
        read_incidents([tmp_path / "s", downloads])


def test_store_weighs_harm_at_ingest_and_a_new_table_parses_again(downloads, tmp_path, capsys):
    store = tmp_path / "store"
    assert (
        main_code(["ingest", str(downloads), "--store", str(store), "--harm-table", "count"]) == 0
    )
    assert read_store(store).incidents["harm"].tolist() == pytest.approx([1.0] * 12)
    assert main_code(["ingest", str(downloads), "--store", str(store)]) == 0
    said = " ".join(capsys.readouterr().err.split())
    assert "every file parsed again: ingest options or hotspots version changed" in said
    assert "harm" not in read_store(store).incidents.columns


def test_commands_read_a_store_whose_downloads_are_gone(downloads, tmp_path):
    store = tmp_path / "store"
    update_store([downloads], store)
    for path in downloads.glob("*.csv"):
        path.unlink()
    out = tmp_path / "spots"
    assert main_code(["spots", str(store), "--out", str(out)]) == 0
    files = []
    for force in ("alpha", "beta"):  # two forces: one run each, in its own folder
        run = json.loads((out / force / "run.json").read_text())
        read = {Path(i["path"]).parent.name for i in run["inputs"]}
        assert read == {f"force={force}"}  # provenance hashes the partitions read
        files += run["ingest"]["files"]
    assert len(files) == 3 and all(len(f["source_sha256"]) == 64 for f in files)


@pytest.mark.realdata
def test_real_months_read_the_same_from_the_store(shared, tmp_path):
    folder = shared("police_uk", "essex_2025")
    files = sorted(folder.glob("2025-0[12]-essex-street.csv.gz"))
    update = update_store(files, tmp_path / "store")
    assert len(update.parsed) == 2
    stored = read_store(tmp_path / "store")
    _same(read_incidents(files), stored)
    assert stored.report.rejected_by_reason["no_location"] == 309  # 2025-01 and -02 together
