"""``--engine dask``: the same per-file and per-force work on a 2-worker LocalCluster.

The sample is test_national's two tiny police.uk forces (alpha, beta; 2 months each, 26
rows a force). Each engine's outputs are compared file by file: text files byte for byte
once the run's own timestamp (``run_at``, "Run at ...") and run.json's engine record are
taken out, GeoPackages layer by layer, store partitions byte for byte.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import run_ok

pytest.importorskip(
    "distributed", reason="Dask is not installed (pip install 'hotspots[dask]'): no Dask engine"
)
pytest.importorskip("dask.dataframe", reason="dask[dataframe] is not installed")

from hotspots.cli import main  # noqa: E402
from hotspots.config import EngineOptions, engine_from  # noqa: E402
from hotspots.errors import OptionError  # noqa: E402
from test_national import FORCES  # noqa: E402

# the run's clock as provenance writes it (run_at), in any output that shows it
_RUN_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00")
_NOT_OUTPUTS = {".hotspots.lock"}  # the run lock holds the writer's pid


def _today_stamps(text: str) -> str:
    """Text with today's run timestamps blanked (data dates are 2025; the run is now)."""
    today = pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d")
    return _RUN_AT.sub(lambda m: "<run_at>" if m[0].startswith(today) else m[0], text)


def _run_json(path: Path) -> dict:
    record = json.loads(path.read_text(encoding="utf-8"))
    record.pop("run_at")
    return record


def assert_same_outputs(a: Path, b: Path) -> None:
    """Every output under ``a`` equals its twin under ``b`` (see the module docstring)."""
    import geopandas as gpd
    import pyogrio

    names = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for name in names:
        if name.name in _NOT_OUTPUTS:
            continue
        left, right = a / name, b / name
        if name.suffix == ".gpkg":
            layers = [row[0] for row in pyogrio.list_layers(left)]
            assert layers == [row[0] for row in pyogrio.list_layers(right)], name
            for layer in layers:
                pd.testing.assert_frame_equal(
                    gpd.read_file(left, layer=layer), gpd.read_file(right, layer=layer)
                )
        elif name.name == "run.json":
            ours, theirs = _run_json(left), _run_json(right)
            assert ours.pop("engine")["name"] == "local"
            assert theirs.pop("engine") == {
                "name": "dask",
                "scheduler": "LocalCluster(2 workers)",
            }
            assert ours == theirs, name
        elif name.name == "national.csv":
            here, there = (pd.read_csv(p, encoding="utf-8-sig", dtype=str) for p in (left, right))
            assert here.pop("engine").tolist() == ["local"] * len(FORCES)
            assert there.pop("engine").tolist() == ["dask"] * len(FORCES)
            assert there.pop("scheduler").tolist() == ["LocalCluster(2 workers)"] * len(FORCES)
            assert here.pop("scheduler").isna().all()
            pd.testing.assert_frame_equal(here, there)
        elif name.suffix in (".png", ".parquet"):
            assert left.read_bytes() == right.read_bytes(), name
        else:
            text = left.read_text(encoding="utf-8")
            assert _today_stamps(text) == _today_stamps(right.read_text(encoding="utf-8")), name


@pytest.fixture(scope="module")
def weekly_both(two_forces: Path, tmp_path_factory: pytest.TempPathFactory):
    """``weekly`` in process and with --engine dask, each run in its own folder as ``out``.

    The same relative --out keeps the parameters recorded in every output equal.
    """
    root = tmp_path_factory.mktemp("weekly")
    runs = {}
    with pytest.MonkeyPatch.context() as mp:
        for engine in ("local", "dask"):
            (root / engine).mkdir()
            mp.chdir(root / engine)
            extra = ["--engine", "dask"] if engine == "dask" else []
            run_ok(["weekly", str(two_forces), "--out", "out", "--no-knox", "--no-tiles", *extra])
            runs[engine] = root / engine / "out"
    return runs


def test_weekly_on_dask_writes_the_same_files(weekly_both):
    assert sorted(p.name for p in weekly_both["dask"].iterdir() if p.is_dir()) == sorted(FORCES)
    assert_same_outputs(weekly_both["local"], weekly_both["dask"])


def test_weekly_on_dask_same_spots_harms_and_zones(weekly_both):
    for force in FORCES:
        spots = [
            pd.read_csv(weekly_both[e] / force / "harm_spots.csv", encoding="utf-8-sig")
            for e in ("local", "dask")
        ]
        pd.testing.assert_frame_equal(*spots)
        assert len(spots[0]) == 4
        zones = [
            json.loads((weekly_both[e] / force / "cocoon_zones.geojson").read_text())["features"]
            for e in ("local", "dask")
        ]
        assert zones[0] == zones[1] and len(zones[0]) == 2


@pytest.fixture(scope="module")
def stages_both(two_forces: Path, tmp_path_factory: pytest.TempPathFactory):
    """``spots`` and ``compare`` on both forces, in process and with --engine dask."""
    root = tmp_path_factory.mktemp("stages")
    runs = {}
    with pytest.MonkeyPatch.context() as mp:
        for command, extra in (("spots", []), ("compare", ["--start", "2025-02-01"])):
            for engine in ("local", "dask"):
                folder = root / command / engine
                folder.mkdir(parents=True)
                mp.chdir(folder)
                dask = ["--engine", "dask"] if engine == "dask" else []
                run_ok([command, str(two_forces), "--out", "out", *extra, *dask])
                runs[command, engine] = folder / "out"
    return runs


@pytest.mark.parametrize("command", ["spots", "compare"])
def test_spots_and_compare_on_dask_write_the_same_files(stages_both, command):
    dask = stages_both[command, "dask"]
    assert sorted(p.name for p in dask.iterdir() if p.is_dir()) == sorted(FORCES)
    assert (dask / "national.csv").is_file()
    assert_same_outputs(stages_both[command, "local"], dask)


def test_spots_on_dask_one_force_is_one_task_with_the_same_spots(two_forces, tmp_path):
    files = [str(p) for p in sorted(two_forces.rglob("*-alpha-street.csv"))]
    run_ok(["spots", *files, "--out", str(tmp_path / "local")])
    run_ok(["spots", *files, "--out", str(tmp_path / "dask"), "--engine", "dask"])
    spots = [
        pd.read_csv(tmp_path / e / "harm_spots.csv", encoding="utf-8-sig")
        for e in ("local", "dask")
    ]
    pd.testing.assert_frame_equal(*spots)
    assert not (tmp_path / "dask" / "national.csv").exists()
    record = json.loads((tmp_path / "dask" / "run.json").read_text(encoding="utf-8"))
    assert record["engine"] == {"name": "dask", "scheduler": "LocalCluster(2 workers)"}


def test_spots_engine_dask_without_dask_is_one_line(two_forces, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)
    for command in ("spots", "compare"):
        with pytest.raises(SystemExit) as done:
            main([command, str(two_forces), "--out", str(tmp_path / "o"), "--engine", "dask"])
        assert done.value.code == 1
        err = capsys.readouterr().err
        assert "pip install 'hotspots[dask]'" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()  # stopped before any input was read


def test_ingest_store_on_dask_holds_the_same_rows(two_forces, tmp_path):
    from hotspots.ingest import read_store

    local, dask = tmp_path / "local", tmp_path / "dask"
    run_ok(["ingest", str(two_forces), "--store", str(local)])
    run_ok(["ingest", str(two_forces), "--store", str(dask), "--engine", "dask"])
    parts = sorted(p.relative_to(local) for p in local.rglob("*.parquet"))
    assert len(parts) == 8  # 4 files: kept and rejected rows each
    assert parts == sorted(p.relative_to(dask) for p in dask.rglob("*.parquet"))
    for part in parts:  # each task wrote exactly the partition the loop writes
        assert (local / part).read_bytes() == (dask / part).read_bytes(), part
    ours, theirs = read_store(local), read_store(dask)
    pd.testing.assert_frame_equal(ours.incidents, theirs.incidents)
    assert len(theirs.incidents) == 52
    manifest = [json.loads((s / "manifest.json").read_text()) for s in (local, dask)]
    assert manifest[0]["files"] == manifest[1]["files"]
    record = json.loads((dask / "run.json").read_text())
    assert record["engine"] == {"name": "dask", "scheduler": "LocalCluster(2 workers)"}
    assert record["files_parsed"] == 4


def test_ingest_on_a_given_scheduler_parses_only_the_new_month(two_forces, tmp_path):
    from distributed import LocalCluster

    store = tmp_path / "store"
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        address = ["--engine", "dask", "--scheduler", cluster.scheduler_address]
        run_ok(["ingest", str(two_forces / "2025-01"), "--store", str(store), *address])
        run_ok(["ingest", str(two_forces), "--store", str(store), *address])  # + February
        record = json.loads((store / "run.json").read_text())
        assert record["engine"] == {"name": "dask", "scheduler": cluster.scheduler_address}
    assert (record["files_parsed"], record["files_unchanged"]) == (2, 2)
    assert sorted(Path(p).name for p in record["parsed"]) == [
        "2025-02-alpha-street.csv",
        "2025-02-beta-street.csv",
    ]


def test_engine_map_raises_a_task_error_in_the_client(two_forces, tmp_path):
    from hotspots.engine import open_engine

    with open_engine(EngineOptions(engine="dask")) as runner:
        assert runner.map(len, [[1], [1, 2]], task="sizes") == [1, 2]
        assert len(runner.worker_pids()) == 2
        with pytest.raises(OptionError, match="no such option"):
            runner.map(_fail, [1], task="fails")


def _fail(_: int) -> None:
    raise OptionError("no such option; it fails on the worker")


def test_scheduler_needs_the_dask_engine():
    with pytest.raises(OptionError, match="--scheduler needs --engine dask"):
        engine_from({"scheduler": "tcp://127.0.0.1:8786"})
    with pytest.raises(OptionError, match="--engine must be one of"):
        engine_from({"engine": "spark"})


def test_dask_engine_without_dask_says_how_to_install(monkeypatch):
    from hotspots.engine import require_dask

    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    with pytest.raises(OptionError, match=r"pip install 'hotspots\[dask\]'"):
        require_dask()


def test_weekly_engine_dask_without_dask_is_one_line(two_forces, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(SystemExit) as done:
        main(["weekly", str(two_forces), "--out", str(tmp_path / "o"), "--engine", "dask"])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert "pip install 'hotspots[dask]'" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()  # stopped before any input was read


def test_ingest_engine_dask_needs_a_store(two_forces, tmp_path, capsys):
    with pytest.raises(SystemExit) as done:
        main(["ingest", str(two_forces), "--out", str(tmp_path / "a.parquet"), "--engine", "dask"])
    assert done.value.code == 1
    assert "--engine dask writes an ingest store" in capsys.readouterr().err


def test_store_frame_reads_one_force_and_the_named_columns(two_forces, tmp_path):
    from hotspots.engine import store_frame
    from hotspots.ingest import read_store, update_store
    from hotspots.schema import OCCURRED_AT, OFFENCE

    store = tmp_path / "store"
    update_store([two_forces], store)
    frame = store_frame(store, forces=["beta"], columns=[OFFENCE, OCCURRED_AT])
    assert frame.npartitions == 2  # beta's two monthly files, alpha's never opened
    got = frame.compute().reset_index(drop=True)
    assert list(got.columns) == [OFFENCE, OCCURRED_AT]
    want = read_store(store, forces=["beta"]).incidents[[OFFENCE, OCCURRED_AT]]
    pd.testing.assert_frame_equal(got, pd.DataFrame(want).reset_index(drop=True))
    counts = frame.groupby(OFFENCE)[OCCURRED_AT].count().compute().sort_index()
    assert counts.to_dict() == {
        "Anti-social behaviour": 2,
        "Burglary": 2,
        "Robbery": 6,
        "Violence and sexual offences": 16,
    }
