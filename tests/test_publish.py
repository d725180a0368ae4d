"""Publishing a run: the lock, the journal swap, kills at every file operation, one-line errors."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hotspots.errors import HotspotsError, OutputError
from hotspots.outputs.publish import JOURNAL_NAME, LOCK_NAME, recover, staged_outputs

OWNED = ("a.csv", "b.geojson", "run.json", "lists", "only_old.csv")


def write_set(staging: Path, version: str) -> None:
    """A small output set like weekly's: files, a folder of lists, one file only v1 has."""
    for name in ("a.csv", "b.geojson", "run.json"):
        (staging / name).write_text(f"{name} {version}\n")
    (staging / "lists").mkdir()
    for area in ("north", "south"):
        (staging / "lists" / f"{area}.html").write_text(f"{area} {version}\n")
    if version == "v1":
        (staging / "only_old.csv").write_text("only in v1\n")


def visible(out: Path) -> dict[str, str]:
    """Every user-visible file (hidden bookkeeping excluded) -> its text."""
    return {
        str(p.relative_to(out)): p.read_text()
        for p in sorted(out.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(out).parts)
    }


def expected(version: str, tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / f"expected-{version}"
    folder.mkdir()
    write_set(folder, version)
    return visible(folder)


def publish(out: Path, version: str) -> None:
    with staged_outputs(out, owned=OWNED) as staging:
        write_set(staging, version)


def test_swap_replaces_the_set_and_removes_stale_owned(tmp_path):
    out = tmp_path / "out"
    publish(out, "v1")
    (out / "analyst_notes.txt").write_text("mine\n")  # not owned: never touched
    publish(out, "v2")
    want = expected("v2", tmp_path) | {"analyst_notes.txt": "mine\n"}
    assert visible(out) == want
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [LOCK_NAME]


def test_failure_in_the_run_leaves_previous_set(tmp_path):
    out = tmp_path / "out"
    publish(out, "v1")
    with pytest.raises(RuntimeError, match="boom"), staged_outputs(out, owned=OWNED) as staging:
        write_set(staging, "v2")
        raise RuntimeError("boom")
    assert visible(out) == expected("v1", tmp_path)
    assert not [p for p in out.iterdir() if "staging" in p.name]


def test_second_run_stops_with_one_line(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(out / LOCK_NAME)], stdout=subprocess.PIPE
    ) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
            with pytest.raises(
                OutputError, match=rf"another hotspots run is writing .*pid {holder.pid}"
            ):
                publish(out, "v1")
        finally:
            holder.kill()
    publish(out, "v1")  # the lock dies with its holder
    assert visible(out) == expected("v1", tmp_path)


_HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.pwrite(fd, f"{os.getpid()}\\n".encode(), 0)
print("locked", flush=True)
time.sleep(60)
"""


# ---------------------------------------------------------------------------- fault injection

_PATCHED = ("replace", "rename", "unlink", "rmdir", "mkdir", "fsync")


@contextlib.contextmanager
def counting_ops(on_call: Callable[[int], None]) -> Iterator[list[int]]:
    """Patch every file operation the swap may use; call ``on_call(k)`` before the k-th."""
    count = [0]
    originals = {name: getattr(os, name) for name in _PATCHED}
    original_rmtree = shutil.rmtree

    def wrap(fn: Callable[..., object]) -> Callable[..., object]:
        def inner(*args: object, **kwargs: object) -> object:
            count[0] += 1
            on_call(count[0])
            return fn(*args, **kwargs)

        return inner

    for name, fn in originals.items():
        setattr(os, name, wrap(fn))
    shutil.rmtree = wrap(original_rmtree)  # type: ignore[assignment]
    try:
        yield count
    finally:
        for name, fn in originals.items():
            setattr(os, name, fn)
        shutil.rmtree = original_rmtree  # type: ignore[assignment]


def publish_killed_at(out: Path, version: str, k: int) -> int:
    """Publish ``version`` in a forked child that dies (``os._exit``) at file operation k."""
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        code = 0
        try:

            def die(i: int) -> None:
                if i == k:
                    os._exit(9)

            with counting_ops(die):
                publish(out, version)
        except BaseException:  # noqa: BLE001 - the child reports by exit code only
            code = 3
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def count_ops(out: Path, version: str) -> int:
    with counting_ops(lambda i: None) as count:
        publish(out, version)
    return count[0]


def test_kill_at_every_file_operation(tmp_path):
    old, new, third = (expected(v, tmp_path) for v in ("v1", "v2", "v3"))
    probe = tmp_path / "probe"
    publish(probe, "v1")
    n_ops = count_ops(probe, "v2")
    assert n_ops > 20  # staging, journal, moves, cleanup: every one is a kill point
    outcomes = {"old": 0, "new": 0}
    for k in range(1, n_ops + 1):
        out = tmp_path / f"k{k}"
        publish(out, "v1")
        code = publish_killed_at(out, "v2", k)
        assert code == 9, f"kill point {k} was not reached"
        recover_under_lock(out)  # what the next run does first, under the lock ...
        seen = visible(out)  # ... and the folder holds exactly one run's set
        assert seen in (old, new), f"mixed set after a kill at operation {k}: {sorted(seen)}"
        outcomes["old" if seen == old else "new"] += 1
        assert not [p for p in out.iterdir() if p.name.startswith((".hotspots-s", ".hotspots-o"))]
        assert not (out / JOURNAL_NAME).exists()
        publish(out, "v3")  # and the next run succeeds
        assert visible(out) == third
    assert outcomes["old"] > 0 and outcomes["new"] > 0, outcomes


def test_kill_at_random_times(tmp_path):
    """SIGKILL a publishing process at random moments (seeded)."""
    rng = random.Random(20261201)
    old, new = expected("v1", tmp_path), expected("v2", tmp_path)
    script = (
        "import sys\nfrom pathlib import Path\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "from test_publish import publish\n"
        "print('ready', flush=True)\n"
        "publish(Path(sys.argv[1]), 'v2')\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for trial in range(6):
        out = tmp_path / f"r{trial}"
        publish(out, "v1")
        with subprocess.Popen(
            [sys.executable, "-c", script, str(out), str(Path(__file__).parent)],
            stdout=subprocess.PIPE,
            env=env,
        ) as child:
            assert child.stdout is not None and child.stdout.readline().strip() == b"ready"
            time.sleep(rng.uniform(0.0, 0.01))
            child.send_signal(signal.SIGKILL)
        recover_under_lock(out)
        assert visible(out) in (old, new), f"trial {trial}"
        publish(out, "v1")
        assert visible(out) == old


def recover_under_lock(out: Path) -> None:
    fd = os.open(out / LOCK_NAME, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        recover(out)
    finally:
        os.close(fd)


def test_legacy_staging_beside_out_is_removed(tmp_path):
    out = tmp_path / "out"
    stale = tmp_path / ".out.staging-abc123"
    stale.mkdir()
    (stale / "cocoon_visits.csv").write_text("12 High Street\n")
    publish(out, "v1")
    assert not stale.exists()


# ---------------------------------------------------------------------------- other filesystems


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs mount (root only); skipped with the reason where the machine refuses."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_out_is_a_mount_point(tmpfs, tmp_path):
    """--out on another filesystem than its parent: no rename ever crosses devices."""
    assert os.stat(tmpfs).st_dev != os.stat(tmp_path).st_dev
    publish(tmpfs, "v1")
    publish(tmpfs, "v2")
    assert visible(tmpfs) == expected("v2", tmp_path)


def test_out_under_dev_shm(tmp_path):
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK):
        pytest.skip("/dev/shm is not writable here")
    out = Path(os.environ.get("HOTSPOTS_SHM_TEST", shm / f"hotspots-test-{os.getpid()}"))
    try:
        publish(out, "v1")
        publish(out, "v2")
        assert visible(out) == expected("v2", tmp_path)
    finally:
        shutil.rmtree(out, ignore_errors=True)


# ---------------------------------------------------------------------------- one-line errors


def one_line(exc: pytest.ExceptionInfo[HotspotsError]) -> str:
    text = str(exc.value)
    assert "\n" not in text and isinstance(exc.value, HotspotsError)
    return text


def test_out_is_a_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("not a folder\n")
    with pytest.raises(OutputError, match=r"is a file, not a folder; give a folder path") as exc:
        publish(target, "v1")
    assert str(target) in one_line(exc)


def test_out_under_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match=r"is a file, not a folder") as exc:
        publish(tmp_path / "file" / "out", "v1")
    one_line(exc)


def test_read_only_out(tmpfs):
    publish(tmpfs, "v1")
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    with pytest.raises(OutputError, match=r"read-only filesystem; choose a writable --out") as exc:
        publish(tmpfs, "v2")
    one_line(exc)


def test_full_disk(tmpfs, tmp_path):
    publish(tmpfs, "v1")
    full = r"no space left .*; free space or choose another --out"
    with pytest.raises(OutputError, match=full), staged_outputs(tmpfs, owned=OWNED) as staging:
        (staging / "a.csv").write_bytes(b"x" * 1_000_000)
    assert visible(tmpfs) == expected("v1", tmp_path)


def test_name_too_long(tmp_path):
    too_long = r"file name too long .* shorten it"
    with (
        pytest.raises(OutputError, match=too_long) as exc,
        staged_outputs(tmp_path / "out", owned=()) as staging,
    ):
        (staging / ("Area " * 60 + ".html")).write_text("x")
    one_line(exc)
    assert not [p for p in (tmp_path / "out").iterdir() if "staging" in p.name]


def test_missing_input_is_not_an_output_error(tmp_path):
    with pytest.raises(FileNotFoundError), staged_outputs(tmp_path / "out", owned=()):
        (tmp_path / "no-such-input.csv").read_text()


def test_no_permission(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root ignores file permissions")
    out = tmp_path / "locked"
    out.mkdir(mode=0o500)
    with pytest.raises(OutputError, match="no permission"):
        publish(out, "v1")


def test_errno_mapping_names_the_fix(tmp_path):
    from hotspots.outputs.publish import output_error

    err = output_error(OSError(errno.EDQUOT, "Disk quota exceeded", str(tmp_path / "x")), tmp_path)
    assert "free space" in str(err)


# ---------------------------------------------------------------------------- ingest's unit


def ingest_unit(out: Path, tag: str) -> None:
    import geopandas as gpd
    import pandas as pd

    from hotspots.ingest._write import write_ingest_outputs

    incidents = gpd.GeoDataFrame(
        {"incident_id": [f"{tag}-1"]}, geometry=gpd.points_from_xy([1.0], [2.0]), crs=27700
    )
    rejected = pd.DataFrame({"reason": ["no_location"], "detail": [tag]})
    write_ingest_outputs(incidents, rejected, {"command": "ingest", "tag": tag}, out)


def ingest_files(folder: Path, stem: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob(f"{stem}.*"))}


def test_two_ingests_into_one_folder_keep_both(tmp_path):
    ingest_unit(tmp_path / "essex.parquet", "essex")
    ingest_unit(tmp_path / "kent.parquet", "kent")
    names = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert names == [
        "essex.parquet",
        "essex.rejected.csv",
        "essex.run.json",
        "kent.parquet",
        "kent.rejected.csv",
        "kent.run.json",
    ]
    assert "essex" in (tmp_path / "essex.rejected.csv").read_text("utf-8-sig")
    import json

    run = json.loads((tmp_path / "kent.run.json").read_text())
    assert run["outputs"] == ["kent.parquet", "kent.rejected.csv", "kent.run.json"]


def test_ingest_killed_at_every_file_operation(tmp_path):
    probe = tmp_path / "probe"
    probe.mkdir()
    ingest_unit(probe / "essex.parquet", "old")
    with counting_ops(lambda i: None) as count:
        ingest_unit(probe / "essex.parquet", "new")
    reference = {}
    for tag in ("old", "new"):
        folder = tmp_path / f"ref-{tag}"
        folder.mkdir()
        ingest_unit(folder / "essex.parquet", tag)
        reference[tag] = ingest_files(folder, "essex")
    for k in range(1, count[0] + 1):
        folder = tmp_path / f"k{k}"
        folder.mkdir()
        ingest_unit(folder / "essex.parquet", "old")
        pid = os.fork()
        if pid == 0:

            def die(i: int, k: int = k) -> None:
                if i == k:
                    os._exit(9)

            with counting_ops(die):
                ingest_unit(folder / "essex.parquet", "new")
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 9
        recover_under_lock(folder)
        seen = ingest_files(folder, "essex")
        assert set(seen) == set(reference["old"]), k
        # parquet and run.json carry no run time here, so bytes identify the version
        assert seen["essex.rejected.csv"] in (
            reference["old"]["essex.rejected.csv"],
            reference["new"]["essex.rejected.csv"],
        )
        version = (
            "old" if seen["essex.rejected.csv"] == reference["old"]["essex.rejected.csv"] else "new"
        )
        assert seen == reference[version], f"mixed ingest unit after a kill at operation {k}"


# ---------------------------------------------------------------------------- a real weekly set


def _weekly_argv(town: dict[str, Path], out: Path, seed: int) -> list[str]:
    return [
        "weekly",
        str(town["incidents"]),
        "--areas",
        str(town["districts"]),
        "--area-field",
        "area",
        "--addresses",
        str(town["addresses"]),
        "--knox-permutations",
        "19",
        "--top",
        "3",
        "--seed",
        str(seed),
        "--out",
        str(out),
    ]


@pytest.fixture(scope="module")
def weekly_sets(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], Path, Path]:
    """Two real ``hotspots weekly`` output sets of the demo town (seeds 1 and 2)."""
    from hotspots.cli import main
    from hotspots.demo import generate_town, write_town

    root = tmp_path_factory.mktemp("weekly")
    town = write_town(generate_town(seed=3, n_homes=800, years=1), root / "town")
    sets = []
    for seed in (1, 2):
        out = root / f"set{seed}"
        with pytest.raises(SystemExit) as done:
            main(_weekly_argv(town, out, seed))
        assert done.value.code == 0
        sets.append(out)
    return town, sets[0], sets[1]


def _set_bytes(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(out).parts)
    }


def test_real_weekly_set_killed_at_every_swap_operation(weekly_sets, tmp_path):
    """The weekly run's own files (map, GeoPackage, cocoon_lists/ ...), swapped under kills."""
    from hotspots.outputs.publish import swap_into_place
    from hotspots.pipeline import WEEKLY_OUTPUTS

    _, first, second = weekly_sets
    old, new = _set_bytes(first), _set_bytes(second)
    assert "cocoon_lists" in {Path(n).parts[0] for n in new} and old != new

    def prepared(k: int) -> tuple[Path, Path]:
        out = tmp_path / f"k{k}"
        shutil.copytree(first, out)
        staging = out / ".hotspots-staging-test"
        staging.mkdir()
        for item in second.iterdir():
            if not item.name.startswith("."):
                copy = shutil.copytree if item.is_dir() else shutil.copy2
                copy(item, staging / item.name)
        return out, staging

    probe, staging = prepared(0)
    with counting_ops(lambda i: None) as count:
        swap_into_place(staging, probe, owned=WEEKLY_OUTPUTS)
    assert _set_bytes(probe) == new
    seen_new = seen_old = 0
    for k in range(1, count[0] + 1):
        out, staging = prepared(k)
        pid = os.fork()
        if pid == 0:

            def die(i: int, k: int = k) -> None:
                if i == k:
                    os._exit(9)

            with counting_ops(die):
                swap_into_place(staging, out, owned=WEEKLY_OUTPUTS)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 9
        recover_under_lock(out)
        seen = _set_bytes(out)
        assert seen in (old, new), f"mixed weekly set after a kill at swap operation {k}"
        seen_new += seen == new
        seen_old += seen == old
    assert seen_new and seen_old


_RUN_AT = re.compile(
    r'"run_at": ?"[^"]+"|[Rr]un at [0-9T:+\- ]+|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00'
)


def _set_texts(out: Path) -> dict[str, str]:
    """Text outputs with their run-time stamps blanked (they differ between equal runs)."""
    return {
        name: _RUN_AT.sub("RUN_AT", data.decode("utf-8-sig"))
        for name, data in _set_bytes(out).items()
        if Path(name).suffix in {".csv", ".geojson", ".json", ".html"}
    }


@pytest.mark.slow
def test_real_weekly_sigkilled_at_random_times(weekly_sets, tmp_path):
    """``hotspots weekly`` as a process, SIGKILLed at seeded random moments, then rerun."""
    town, first, _ = weekly_sets
    rng = random.Random(11)
    out = tmp_path / "out"
    shutil.copytree(first, out)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    argv = [sys.executable, "-m", "hotspots", *_weekly_argv(town, out, 2)]
    started = time.monotonic()
    with subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as p:
        assert p.wait() == 0
    full_s = time.monotonic() - started  # how long a whole run takes here
    old, new = _set_texts(first), _set_texts(out)
    differing = [n for n in new if old.get(n) != new[n]]
    assert len(differing) > 5
    for trial in range(3):
        shutil.rmtree(out)
        shutil.copytree(first, out)
        with subprocess.Popen(
            argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        ) as child:
            time.sleep(rng.uniform(0.6, 1.0) * full_s)
            child.send_signal(signal.SIGKILL)
        recover_under_lock(out)
        seen = _set_texts(out)
        assert set(seen) == set(old), f"trial {trial}: files missing or extra"
        sides = {("old" if seen[n] == old[n] else "new" if seen[n] == new[n] else "?")
                 for n in differing}  # fmt: skip
        assert sides in ({"old"}, {"new"}), f"trial {trial}: mixed set {sides}"
        with subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL) as again:
            assert again.wait() == 0  # the next run starts cleanly
        assert _set_texts(out) == new
