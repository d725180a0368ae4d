"""Many forces in one weekly run: per-force outputs equal single-force runs; national table.

The fixture is two tiny police.uk forces ("alpha" near Chelmsford, "beta" near Brighton),
each with a violent cluster at one snap point, three scattered robberies, one ASB row a
month and two home burglaries in the last month (26 rows a force, two cocoon zones).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import POLICE_UK_HEADER, write_police_uk

from hotspots import national
from hotspots.config import WeeklySettings
from hotspots.errors import InputError
from hotspots.pipeline import run_weekly

HEADER = POLICE_UK_HEADER

# force slug -> (force name, cluster lon, lat, district LSOA name prefix)
FORCES = {
    "alpha": ("Alpha Police", 0.4700, 51.7350, "Chelmsford"),
    "beta": ("Beta Police", -0.1400, 50.8280, "Brighton and Hove"),
}


def write_two_forces(folder: Path, *, months: tuple[str, ...] = ("2025-01", "2025-02")) -> None:
    """Write ``<month>-<force>-street.csv`` for both forces: 12 rows a month each."""
    for slug, (name, lon, lat, district) in FORCES.items():
        for m, month in enumerate(months):
            path = folder / month / f"{month}-{slug}-street.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            rows = []
            for k in range(8):  # the cluster: one snap point, violence
                rows.append(
                    [
                        f"{slug}{m}c{k}",
                        month,
                        name,
                        name,
                        f"{lon:.6f}",
                        f"{lat:.6f}",
                        "On or near High Street",
                        "E01000001",
                        f"{district} 001A",
                        "Violence and sexual offences",
                        "Under investigation",
                        "",
                    ]
                )
            for k, (dx, dy) in enumerate(((0.015, 0.0), (0.0, 0.012), (-0.02, -0.01))):
                rows.append(
                    [
                        f"{slug}{m}s{k}",
                        month,
                        name,
                        name,
                        f"{lon + dx:.6f}",
                        f"{lat + dy:.6f}",
                        "On or near Mill Lane",
                        "E01000002",
                        f"{district} 002B",
                        "Robbery",
                        "Under investigation",
                        "",
                    ]
                )
            if m == len(months) - 1:  # two home burglaries in the last month: two zones
                for k, dx in enumerate((0.004, 0.006)):
                    rows.append(
                        [
                            f"{slug}{m}b{k}",
                            month,
                            name,
                            name,
                            f"{lon + dx:.6f}",
                            f"{lat + 0.003:.6f}",
                            "On or near Oak Road",
                            "E01000001",
                            f"{district} 001A",
                            "Burglary",
                            "Under investigation",
                            "",
                        ]
                    )
            rows.append(["", month, name, name, f"{lon + 0.002:.6f}", f"{lat:.6f}",
                         "On or near Station Road", "E01000001", f"{district} 001A",
                         "Anti-social behaviour", "", ""])  # fmt: skip
            write_police_uk(path, rows)


SETTINGS = WeeklySettings.from_mapping({"run_knox": False, "tiles": False})


@pytest.fixture(scope="module")
def two_forces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("forces")
    write_two_forces(folder)
    return folder


@pytest.fixture(scope="module")
def national_run(two_forces: Path, tmp_path_factory: pytest.TempPathFactory):
    return national.run_national(
        [two_forces], out=tmp_path_factory.mktemp("nat"), settings=SETTINGS
    )


def _spots(folder: Path) -> pd.DataFrame:
    table = pd.read_csv(folder / "harm_spots.csv", encoding="utf-8-sig")
    return table[["spot_id", "harm"]].sort_values("spot_id").reset_index(drop=True)


def test_forces_in_groups_files_by_police_uk_name(two_forces):
    groups = national.forces_in([two_forces])
    assert sorted(groups) == ["alpha", "beta"]
    assert [p.name for p in groups["alpha"]] == [
        "2025-01-alpha-street.csv",
        "2025-02-alpha-street.csv",
    ]


def test_each_force_equals_its_single_force_run(national_run, two_forces, tmp_path):
    for force in FORCES:
        files = sorted(two_forces.rglob(f"*-{force}-street.csv"))
        alone = run_weekly(files, out=tmp_path / force, settings=SETTINGS)
        pd.testing.assert_frame_equal(_spots(national_run.out_dir / force), _spots(alone.out_dir))
        ours = national_run.forces[force].summary["spots"]
        assert ours["harm"] == pytest.approx(alone.summary["spots"]["harm"])
        assert ours["study_area_km2"] == pytest.approx(alone.summary["spots"]["study_area_km2"])
        here = json.loads((national_run.out_dir / force / "run.json").read_text())
        assert here["summary"]["ingest"]["n_kept"] == 26  # (8 + 3 + 1 ASB) a month + 2 burglaries
        assert {f["file"] for f in here["summary"]["ingest"]["files"]} == {
            f"2025-01-{force}-street.csv",
            f"2025-02-{force}-street.csv",
        }


def test_national_table_one_row_per_force(national_run):
    table = pd.read_csv(national_run.files["national.csv"], encoding="utf-8-sig")
    assert table["force"].tolist() == ["alpha", "beta"]
    assert table["rows_kept"].tolist() == [26, 26]
    assert table["live_zones"].tolist() == [2, 2]
    # each force's own study area: the two hulls are a few km² each, never the pair's span
    assert (table["study_area_km2"] < 10).all()
    assert table["harm_in_spots"].tolist() == pytest.approx(
        [national_run.forces[f].summary["spots"]["harm"] for f in ("alpha", "beta")]
    )
    page = national_run.files["index.html"].read_text(encoding="utf-8")
    assert 'href="alpha/map.html"' in page and 'href="beta/map.html"' in page
    assert (national_run.out_dir / "beta" / "map.html").is_file()


def test_one_force_is_not_a_national_run(two_forces, tmp_path):
    files = sorted(two_forces.rglob("*-alpha-street.csv"))
    with pytest.raises(InputError, match="one force .alpha.; a national run needs two"):
        national.run_national(files, out=tmp_path, settings=SETTINGS)


def test_weekly_cli_dispatches_several_forces(two_forces, tmp_path):
    from hotspots.cli import main

    out = tmp_path / "out"
    with pytest.raises(SystemExit) as done:
        main(["weekly", str(two_forces), "--out", str(out), "--no-knox"])
    assert done.value.code == 0
    assert (out / "national.csv").is_file()
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["alpha", "beta"]
    assert (out / "alpha" / "harm_spots.csv").is_file()


def test_national_from_a_store_equals_from_the_files(national_run, two_forces, tmp_path):
    from hotspots.ingest import update_store

    store = tmp_path / "store"
    update_store([two_forces], store)
    from_store = national.run_national([store], out=tmp_path / "out", settings=SETTINGS)
    for force in FORCES:
        pd.testing.assert_frame_equal(
            _spots(from_store.out_dir / force), _spots(national_run.out_dir / force)
        )


@pytest.mark.realdata
@pytest.mark.slow
def test_two_real_forces_equal_their_single_force_runs(shared, tmp_path):
    folders = [shared("police_uk", "essex_2025"), shared("police_uk", "sussex_2025")]
    both = national.run_national(folders, out=tmp_path / "both", settings=SETTINGS)
    assert list(both.forces) == ["essex", "sussex"]
    for folder, force in zip(folders, ("essex", "sussex"), strict=True):
        alone = run_weekly([folder], out=tmp_path / force, settings=SETTINGS)
        pd.testing.assert_frame_equal(_spots(both.out_dir / force), _spots(alone.out_dir))
