"""One file mixing forces ('Falls within'): a force column, split per force, national run.

The fixture is test_national's two tiny forces ("Alpha Police", "Beta Police"), written
once as their own monthly files and once as a single mixed file holding both.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from tests.test_national import FORCES, HEADER, SETTINGS, write_two_forces

from hotspots import national
from hotspots.errors import InputError
from hotspots.ingest import force_of_file, read_incidents, split_by_force
from hotspots.ingest._files import force_slug
from hotspots.schema import FORCE, REJECT_REASON, SOURCE_FILE


def _mixed(folder: Path, out: Path) -> Path:
    """All rows of ``folder``'s police.uk files in one CSV (one header), forces interleaved."""
    rows = []
    for path in sorted(folder.rglob("*-street.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            rows.extend(list(csv.reader(handle))[1:])
    rows.sort(key=lambda r: (r[1], r[0]))  # by month then id: alpha and beta rows mixed
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return out


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    own = tmp_path_factory.mktemp("own")
    write_two_forces(own)
    mixed_dir = tmp_path_factory.mktemp("mixed")
    _mixed(own, mixed_dir / "all-forces.csv")
    return own, mixed_dir / "all-forces.csv"


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Metropolitan Police Service", "metropolitan"),
        ("Devon & Cornwall Police", "devon-and-cornwall"),
        ("Essex Police", "essex"),
        ("Avon and Somerset Constabulary", "avon-and-somerset"),
        ("City of London Police", "city-of-london"),
        ("Dyfed-Powys Police", "dyfed-powys"),
        ("British Transport Police", "btp"),
        ("Police Service of Northern Ireland", "northern-ireland"),
        ("Hampshire and Isle of Wight Constabulary", "hampshire"),
        ("devon-and-cornwall", "devon-and-cornwall"),  # a slug is its own slug
        ("", "unknown"),
    ],
)
def test_force_slug_matches_police_uk_file_names(name, slug):
    assert force_slug(name) == slug


def test_file_name_and_falls_within_use_the_same_slug():
    assert force_of_file("2025-01-Devon-and-Cornwall-street.csv") == "devon-and-cornwall"
    assert force_slug("Devon & Cornwall Police") == force_of_file(
        "2025-01-devon-and-cornwall-street.csv.gz"
    )


def test_a_single_force_file_has_no_force_column(folders):
    own, _ = folders
    res = read_incidents(sorted(own.rglob("*-alpha-street.csv")))
    assert FORCE not in res.incidents.columns
    assert list(split_by_force(res)) == ["unknown"]


def test_a_mixed_file_keeps_each_rows_force(folders):
    _, mixed = folders
    res = read_incidents([mixed])
    assert res.incidents[FORCE].value_counts().to_dict() == {"alpha": 26, "beta": 26}
    assert any(n.startswith("The input mixes 2 forces") for n in res.report.notes)


def test_split_by_force_equals_reading_each_force_alone(folders):
    own, mixed = folders
    parts = split_by_force(read_incidents([mixed]))
    assert list(parts) == ["alpha", "beta"]
    for force in FORCES:
        alone = read_incidents(sorted(own.rglob(f"*-{force}-street.csv")))
        part = parts[force]
        cols = ["incident_id", "occurred_at", "offence", "location", "lsoa_name"]
        real = alone.incidents["incident_id"].str.startswith(force)  # generated ids name files
        a = alone.incidents.loc[real, cols].sort_values("incident_id").reset_index(drop=True)
        b = part.incidents.loc[part.incidents["incident_id"].str.startswith(force), cols]
        pd.testing.assert_frame_equal(a, b.sort_values("incident_id").reset_index(drop=True))
        assert part.report.n_kept == alone.report.n_kept == 26
        assert part.report.n_read == alone.report.n_read
        assert (part.report.date_min, part.report.date_max) == (
            alone.report.date_min,
            alone.report.date_max,
        )
        assert not any(n.startswith("The input mixes") for n in part.report.notes)
        assert part.incidents.index.tolist() == list(range(26))


def test_rejected_rows_go_to_their_force(tmp_path):
    path = tmp_path / "mixed.csv"
    rows = [
        ["a1", "2025-01", "Alpha Police", "Alpha Police", "0.47", "51.73", "On or near X",
         "E01", "Chelmsford 001A", "Robbery", "", ""],
        ["a2", "2025-01", "Alpha Police", "Alpha Police", "", "", "No Location",
         "", "", "Robbery", "", ""],
        ["b1", "2025-01", "Beta Police", "Beta Police", "-0.14", "50.83", "On or near Y",
         "E02", "Brighton 001A", "Robbery", "", ""],
        ["b2", "2025-01", "Beta Police", "Beta Police", "-0.14", "50.83", "On or near Y",
         "E02", "Brighton 001A", "Robbery", "", ""],
    ]  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
        handle.write('b3,2025-01,Beta Police,"Beta Police",-0.14,50.83,too,many,fields,x,y,z,w\n')
    parts = split_by_force(read_incidents([path]))
    assert parts["alpha"].rejected[REJECT_REASON].tolist() == ["no_location"]
    assert parts["alpha"].report.rejected_by_reason["no_location"] == 1
    # the malformed line has no readable force: it goes to its file's main force (beta: 2 kept)
    assert parts["beta"].rejected[REJECT_REASON].tolist() == ["malformed_row"]
    assert parts["beta"].rejected[SOURCE_FILE].tolist() == ["mixed.csv"]
    total = sum(len(p.rejected) for p in parts.values())
    assert total == 2
    assert sum(p.report.n_read for p in parts.values()) == 5


def test_national_run_on_one_mixed_file_equals_the_single_force_files(folders, tmp_path):
    own, mixed = folders
    from_files = national.run_national([own], out=tmp_path / "files", settings=SETTINGS)
    from_mixed = national.run_national([mixed], out=tmp_path / "mixed", settings=SETTINGS)
    assert list(from_mixed.forces) == ["alpha", "beta"]
    for force in FORCES:
        a = pd.read_csv(from_files.out_dir / force / "harm_spots.csv", encoding="utf-8-sig")
        b = pd.read_csv(from_mixed.out_dir / force / "harm_spots.csv", encoding="utf-8-sig")
        cols = ["spot_id", "harm", "n_incidents"]
        pd.testing.assert_frame_equal(
            a[cols].sort_values("spot_id").reset_index(drop=True),
            b[cols].sort_values("spot_id").reset_index(drop=True),
        )
        ours = from_mixed.forces[force].summary["spots"]
        theirs = from_files.forces[force].summary["spots"]
        assert ours["harm"] == pytest.approx(theirs["harm"])
        assert ours["study_area_km2"] == pytest.approx(theirs["study_area_km2"])
    assert from_mixed.table["rows_kept"].tolist() == [26, 26]


def test_national_run_on_a_one_force_unnamed_file_is_refused(folders, tmp_path):
    own, _ = folders
    one = _mixed_one(own, tmp_path / "export.csv")
    with pytest.raises(InputError, match="one force .unknown.; a national run needs two"):
        national.run_national([one], out=tmp_path / "out", settings=SETTINGS)


def _mixed_one(folder: Path, out: Path) -> Path:
    rows = []
    for path in sorted(folder.rglob("*-alpha-street.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            rows.extend(list(csv.reader(handle))[1:])
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return out


def test_forces_within_reads_the_falls_within_column(folders, tmp_path):
    from hotspots.ingest import forces_within

    own, mixed = folders
    assert forces_within([mixed]) == ["alpha", "beta"]
    assert forces_within(sorted(own.rglob("*-beta-street.csv"))) == ["beta"]
    plain = tmp_path / "plain.csv"
    plain.write_text("x,y\n1,2\n", encoding="utf-8")
    assert forces_within([plain]) == []


@pytest.mark.parametrize("command", ["weekly", "spots"])
def test_commands_run_one_mixed_file_per_force(folders, tmp_path, command):
    """The CLI sends a single file mixing forces to the per-force run, as it does a folder."""
    from hotspots.cli import main

    _, mixed = folders
    out = tmp_path / "out"
    args = [command, str(mixed), "--out", str(out)] + (["--no-knox"] if command == "weekly" else [])
    with pytest.raises(SystemExit) as done:
        main(args)
    assert done.value.code == 0
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["alpha", "beta"]
    table = pd.read_csv(out / "national.csv", encoding="utf-8-sig")
    assert table["force"].tolist() == ["alpha", "beta"]
    assert table["rows_kept"].tolist() == [26, 26]
