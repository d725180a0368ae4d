"""``spots`` and ``compare`` on several forces: one run per force, each in its own area.

The sample is test_national's two tiny police.uk forces (alpha near Chelmsford, beta near
Brighton; January and February 2025). Per force and month: 8 violent crimes at one snap
point (CCHI 194.21 days each), 3 robberies at 3 other points (365 each), 1 ASB row (1);
February adds 2 burglaries (244.68 each). So each force has 4 grid spots holding
16 x 194.21 + 3 x 2 x 365 = 5297.36 harm days, and February against January is 14
against 12 crimes, 3139.04 against 2649.68 harm days.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import run_ok

from hotspots.cli import main
from test_national import FORCES

_RUN_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00")
_FEBRUARY = ["--start", "2025-02-01", "--end", "2025-02-28"]  # against January


def _files(folder: Path) -> list[Path]:
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())


def assert_same_as_alone(ours: Path, alone: Path) -> None:
    """A force's folder equals that force's single-force run, but for run.json's engine."""
    names = [n for n in _files(alone) if n.name != ".hotspots.lock"]
    assert [n for n in _files(ours) if n.name != ".hotspots.lock"] == names
    for name in names:
        if name.suffix == ".png":
            assert (ours / name).read_bytes() == (alone / name).read_bytes(), name
            continue
        left, right = (
            _RUN_AT.sub("<run_at>", (f / name).read_text("utf-8")) for f in (ours, alone)
        )
        if name.name == "run.json":
            here, there = json.loads(left), json.loads(right)
            assert here.pop("engine") == {"name": "local", "scheduler": None}
            assert "engine" not in there  # a plain single-force run records no engine
            assert here == there
        else:
            assert left == right, name


def _alone(two_forces: Path, force: str) -> list[str]:
    return [str(p) for p in sorted(two_forces.rglob(f"*-{force}-street.csv"))]


@pytest.fixture(scope="module")
def spots_run(two_forces: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("spots") / "out"
    run_ok(["spots", str(two_forces), "--out", str(out)])
    return out


def test_spots_each_force_writes_what_its_single_force_run_writes(spots_run, two_forces, tmp_path):
    assert sorted(p.name for p in spots_run.iterdir() if p.is_dir()) == sorted(FORCES)
    for force in FORCES:
        run_ok(["spots", *_alone(two_forces, force), "--out", str(tmp_path / force)])
        assert_same_as_alone(spots_run / force, tmp_path / force)


def test_spots_national_csv_one_row_per_force_in_its_own_area(spots_run):
    table = pd.read_csv(spots_run / "national.csv", encoding="utf-8-sig")
    assert table["force"].tolist() == ["alpha", "beta"]
    assert table["spots"].tolist() == [4, 4]
    assert table["harm_in_spots"].tolist() == pytest.approx([5297.36, 5297.36])
    assert table["harm_share_in_spots_pct"].tolist() == pytest.approx([100.0, 100.0])
    assert table["engine"].tolist() == ["local", "local"]
    for row in table.to_dict("records"):  # each force's own districts, never the other's
        run = json.loads((spots_run / row["force"] / "run.json").read_text("utf-8"))
        assert run["study_area"]["districts"] == [FORCES[row["force"]][3]]
        assert row["study_area_km2"] == pytest.approx(
            run["concentration"]["study_area_km2"], abs=1e-3
        )


def test_compare_each_force_and_its_totals(two_forces, tmp_path):
    out = tmp_path / "out"
    run_ok(["compare", str(two_forces), "--out", str(out), *_FEBRUARY])
    for force in FORCES:
        run_ok(["compare", *_alone(two_forces, force), "--out", str(tmp_path / force), *_FEBRUARY])
        assert_same_as_alone(out / force, tmp_path / force)
    table = pd.read_csv(out / "national.csv", encoding="utf-8-sig")
    assert table["force"].tolist() == ["alpha", "beta"]
    assert table["count_against"].tolist() == [12, 12]
    assert table["count_period"].tolist() == [14, 14]
    assert table["count_change"].tolist() == [2, 2]
    # the CSV writes harm to 0.1 day
    assert table["harm_against"].tolist() == pytest.approx([2649.68, 2649.68], abs=0.05)
    assert table["harm_period"].tolist() == pytest.approx([3139.04, 3139.04], abs=0.05)


def test_one_force_writes_as_before_with_no_national_table(two_forces, tmp_path):
    run_ok(["spots", *_alone(two_forces, "alpha"), "--out", str(tmp_path / "s")])
    run_ok(["compare", *_alone(two_forces, "beta"), "--out", str(tmp_path / "c"), *_FEBRUARY])
    for folder in (tmp_path / "s", tmp_path / "c"):
        assert not (folder / "national.csv").exists()
        assert not [p for p in folder.iterdir() if p.is_dir()]
        assert "engine" not in json.loads((folder / "run.json").read_text("utf-8"))
    assert len(pd.read_csv(tmp_path / "s" / "harm_spots.csv", encoding="utf-8-sig")) == 4


def test_spots_on_a_store_of_two_forces_reads_each_force_alone(spots_run, two_forces, tmp_path):
    store = tmp_path / "store"
    run_ok(["ingest", str(two_forces), "--store", str(store)])
    run_ok(["spots", str(store), "--out", str(tmp_path / "out")])
    for force in FORCES:
        ours, files = (
            pd.read_csv(f / force / "harm_spots.csv", encoding="utf-8-sig")
            for f in (tmp_path / "out", spots_run)
        )
        pd.testing.assert_frame_equal(ours, files)
        run = json.loads((tmp_path / "out" / force / "run.json").read_text("utf-8"))
        assert run["ingest"]["n_kept"] == 26  # only this force's rows were read


def test_scheduler_without_dask_engine_is_one_line(two_forces, tmp_path, capsys):
    for command in ("spots", "compare"):
        with pytest.raises(SystemExit) as done:
            main([command, str(two_forces), "--out", str(tmp_path), "--scheduler", "tcp://x:1"])
        assert done.value.code != 0
        err = capsys.readouterr().err
        assert "--scheduler needs --engine dask" in err and "Traceback" not in err


def test_a_force_error_names_the_force_in_one_line(two_forces, tmp_path, capsys):
    with pytest.raises(SystemExit) as done:  # 12 months against 12 before: not in the data
        main(["compare", str(two_forces), "--out", str(tmp_path / "out")])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert "Force alpha: Incomplete period: current period lacks 2024-03" in err
    assert "Traceback" not in err and not (tmp_path / "out" / "national.csv").exists()


@pytest.mark.realdata
@pytest.mark.slow
def test_real_forces_rank_as_their_single_force_runs(shared, tmp_path):
    """Two real forces' first quarter: each force's spots equal its run alone, byte for byte."""
    forces = ("essex", "sussex")
    files = {
        f: sorted(shared("police_uk", f"{f}_2025").glob("2025-0[123]-*-street.csv.gz"))
        for f in forces
    }
    run_ok(["spots", *(str(p) for f in forces for p in files[f]), "--out", str(tmp_path / "n")])
    table = pd.read_csv(tmp_path / "n" / "national.csv", encoding="utf-8-sig")
    assert table["force"].tolist() == list(forces)
    for force in forces:
        run_ok(["spots", *(str(p) for p in files[force]), "--out", str(tmp_path / force)])
        for name in ("harm_spots.csv", "patrol_plan.csv"):
            ours, alone = (tmp_path / "n" / force / name, tmp_path / force / name)
            assert ours.read_bytes() == alone.read_bytes(), (force, name)
