"""Benchmark: national-scale ingest, spots and weekly run at 1M, 6M and 30M synthetic rows.

The data are several synthetic forces (each a 60 km x 60 km county of 40 towns on its own
patch of England, the model of ``bench_pipeline.synthetic_incidents``: police.uk
categories, a rural background, exact UTC times over two years, near-repeat burglary
follow-ons), generated one force at a time straight to disk, so generation stays within
memory at any size:

* ``WORK/n<rows>/exact/<force>.parquet`` - the canonical hotspots table (what
  ``hotspots ingest`` writes), read by the ``spots`` and ``weekly`` cases;
* ``WORK/n<rows>/csv/<YYYY-MM>/<YYYY-MM>-<force>-street.csv`` - the same rows as
  police.uk monthly downloads (lon/lat, month dates, 1.3% "No Location", ASB without
  ids), read by the ingest cases;
* ``WORK/n<rows>/newmonth/2026-01/...`` - one more month for every force.

Forces: ``rows / 300,000`` (at least 2, at most 40), so a force-year is about 150,000 rows
up to 12M rows; 30M rows is 40 forces at 375,000 a year (five national years' rows in
two years).

Cases, each in a fresh child process (wall and CPU seconds of the timed call measured in
the child; peak RSS of the whole child from ``os.wait4``):

* ``ingest-cold`` - ``read_incidents`` on every CSV (in process, no store);
* ``store-cold`` - ``update_store`` of every CSV into a new store;
* ``store-new-month`` - ``update_store`` of the CSVs plus the new month into a copy of
  that store (must parse only the new month's files);
* ``spots`` - grid harm spots (``find_spots``) on the weighted exact rows (reading and
  weighting not timed);
* ``weekly`` - ``run_weekly`` on the exact parquet folder (Knox 99 permutations, no
  tiles, tz UTC, as ``bench_pipeline``), with stage times.

Every timing run goes through the machine-wide lock::

    python benchmarks/bench_scale.py gen --rows 1000000
    flock /tmp/hotspots-bench.lock timeout 1200 python benchmarks/bench_scale.py run \\
        --rows 1000000 --cases weekly [--src ../main/src --label main]

``run`` appends one table row per case to ``benchmarks/results/scale.md``; ``fit`` prints
the least-squares exponent of log seconds on log rows for each case and code label.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "scale.md"
DEFAULT_WORK = Path("/tmp/hotspots-scale")
CASES = ("ingest-cold", "store-cold", "store-new-month", "spots", "weekly")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import CATEGORIES, _stage_times  # noqa: E402 - offence mix, stage split

TZ = "UTC"
END = pd.Timestamp("2025-12-31 23:00", tz=TZ)
SPAN_DAYS = 730
FORCE_ROWS = 300_000  # rows per force over the two years (150,000 a year)
SIDE_M = 60_000.0


def n_forces(rows: int) -> int:
    """Forces of a ``rows``-row national set (see the module docstring)."""
    return int(min(40, max(2, round(rows / FORCE_ROWS))))


def force_origin(f: int) -> tuple[float, float]:
    """South-west corner (BNG metres) of force ``f``'s county: an 8 x 5 grid over England."""
    return 150_000.0 + (f % 8) * 62_000.0, 60_000.0 + (f // 8) * 100_000.0


def force_rows(rows: int, f: int, forces: int) -> int:
    base, extra = divmod(rows, forces)
    return base + (1 if f < extra else 0)


def one_force(n: int, f: int, *, seed: int, span_days: float = SPAN_DAYS) -> pd.DataFrame:
    """``n`` incidents of force ``f``: columns x, y (BNG), seconds before END, offence."""
    rng = np.random.default_rng([seed, f])
    names = np.array(list(CATEGORIES))
    share = np.array(list(CATEGORIES.values()))
    offence = names[rng.choice(len(names), n, p=share / share.sum())]
    x0, y0 = force_origin(f)
    centres = np.array([x0, y0]) + rng.uniform(0, SIDE_M, (40, 2))
    spread = rng.uniform(300, 2_500, 40)
    town = rng.integers(0, 40, n)
    xy = centres[town] + rng.normal(size=(n, 2)) * spread[town, None]
    rural = rng.random(n) < 0.15
    xy[rural] = np.array([x0, y0]) + rng.uniform(0, SIDE_M, (int(rural.sum()), 2))
    seconds = rng.uniform(0, span_days * 86_400, n)
    burg = np.flatnonzero(offence == "Burglary")
    follow = burg[rng.random(burg.size) < 0.3]
    if burg.size > 1 and follow.size:
        src = rng.choice(burg, follow.size)
        xy[follow] = xy[src] + rng.normal(scale=150, size=(follow.size, 2))
        seconds[follow] = np.minimum(
            seconds[src] + rng.uniform(0, 42 * 86_400, follow.size), span_days * 86_400 - 1
        )
    return pd.DataFrame(
        {
            "x": xy[:, 0].round(1),
            "y": xy[:, 1].round(1),
            "seconds": seconds.round(),
            "offence": offence,
        }
    )


def _exact_table(frame: pd.DataFrame, force: str) -> Any:
    """The canonical hotspots table of one force's rows (as ``hotspots ingest`` writes)."""
    import geopandas as gpd

    from hotspots.schema import (
        DWELLING_BURGLARY,
        INCIDENT_ID,
        LOCATION,
        LSOA_CODE,
        OCCURRED_AT,
        OCCURRED_TO,
        OFFENCE,
        OFFENCE_CODE,
        SOURCE_FILE,
        SOURCE_ROW,
        TIME_RESOLUTION,
    )

    n = len(frame)
    when = END - pd.to_timedelta(frame["seconds"].to_numpy(), unit="s")
    street = (frame["x"] // 400).astype("int64") * 1000 + (frame["y"] // 400).astype("int64")
    return gpd.GeoDataFrame(
        {
            INCIDENT_ID: pd.array(np.char.add(f"{force}-", np.arange(n).astype(str)), dtype="str"),
            OCCURRED_AT: when,
            OCCURRED_TO: pd.Series(pd.NaT, index=range(n), dtype=when.dtype),
            OFFENCE: pd.array(frame["offence"].to_numpy(), dtype="str"),
            OFFENCE_CODE: pd.array([None] * n, dtype="str"),
            DWELLING_BURGLARY: (frame["offence"] == "Burglary").to_numpy(),
            LOCATION: pd.array(("On or near Street " + street.astype(str)).to_numpy(), dtype="str"),
            LSOA_CODE: pd.array([None] * n, dtype="str"),
            TIME_RESOLUTION: pd.array(["exact"] * n, dtype="str"),
            SOURCE_FILE: pd.array([f"{force}.csv"] * n, dtype="str"),
            SOURCE_ROW: np.arange(1, n + 1, dtype="int64"),
        },
        geometry=gpd.points_from_xy(frame["x"], frame["y"]),
        crs=27700,
    )


def _police_uk_months(
    frame: pd.DataFrame, f: int, force: str, out: Path, *, seed: int, id_prefix: str = ""
) -> int:
    """Write one force's rows as police.uk monthly street CSVs; returns files written."""
    from pyproj import Transformer

    rng = np.random.default_rng([seed, f, 1])
    n = len(frame)
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(
        frame["x"].to_numpy(), frame["y"].to_numpy()
    )
    # police.uk snaps points to anonymous map points: round to about 100 m
    lon_t = np.char.mod("%.6f", np.round(lon, 3))
    lat_t = np.char.mod("%.6f", np.round(lat, 3))
    missing = rng.random(n) < 0.013
    when = END - pd.to_timedelta(frame["seconds"].to_numpy(), unit="s")
    month = when.strftime("%Y-%m").to_numpy()
    offence = frame["offence"].to_numpy()
    ids = np.char.add(f"{force}-{id_prefix}", np.arange(n).astype(str))
    ids = np.where(offence == "Anti-social behaviour", "", ids)
    name = f"{force.title()} Police"
    street = (
        (frame["x"] // 400).astype("int64").astype(str)
        + "/"
        + (frame["y"] // 400).astype("int64").astype(str)
    )
    table = pd.DataFrame(
        {
            "Crime ID": ids,
            "Month": month,
            "Reported by": name,
            "Falls within": name,
            "Longitude": np.where(missing, "", lon_t),
            "Latitude": np.where(missing, "", lat_t),
            "Location": np.where(missing, "No Location", "On or near Street " + street),
            "LSOA code": "E01000001",
            "LSOA name": f"{force.title()} 001A",
            "Crime type": offence,
            "Last outcome category": "Under investigation",
            "Context": "",
        }
    )
    k = 0
    for m, part in table.groupby("Month", sort=True):
        path = out / m / f"{m}-{force}-street.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        part.to_csv(path, index=False)
        k += 1
    return k


def generate(rows: int, work: Path, *, seed: int = 0) -> Path:
    """Write the three layouts of a ``rows``-row national set under ``work/n<rows>``."""
    folder = work / f"n{rows}"
    done = folder / "done.json"
    if done.exists():
        return folder
    forces = n_forces(rows)
    for sub in ("exact", "csv", "newmonth"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for f in range(forces):
        force = f"force{f:02d}"
        n = force_rows(rows, f, forces)
        frame = one_force(n, f, seed=seed)
        _exact_table(frame, force).to_parquet(folder / "exact" / f"{force}.parquet")
        _police_uk_months(frame, f, force, folder / "csv", seed=seed)
        extra = one_force(max(1, n // 24), f, seed=seed + 1, span_days=30)
        extra["seconds"] = extra["seconds"] - 31 * 86_400  # January 2026
        _police_uk_months(extra, f, force, folder / "newmonth", seed=seed + 1, id_prefix="n")
        print(f"  force {f + 1}/{forces}: {n:,} rows", flush=True)
    done.write_text(json.dumps({"rows": rows, "forces": forces, "seed": seed}) + "\n")
    return folder


# ---------------------------------------------------------------- cases (in the child)
def _cpu_s() -> float:
    """CPU seconds of this process and of its children it has waited for: the weekly run
    forks its cocoon stage and writers (hotspots._forked), whose time process_time misses."""
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (that are still running)."""
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(x) for x in fh.read().split()]
        except OSError:  # ended between the listing and the read
            continue
    return sorted(seen)


def _ended(pid: int) -> bool:
    """True for a process that has exited but is not yet reaped (a zombie) or is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in {"Z", "X"}
    except OSError:
        return True


def _tree_pss_mb(pid: int) -> tuple[float, int] | None:
    """Summed proportional set size (MB) of ``pid`` and its descendants, and their number.

    PSS splits pages shared by a forked child and its parent between them, so the sum is
    the memory the whole run holds (the peak RSS of one process misses the children's).
    None when a process started or ended while the sizes were read: a parent read before
    a fork plus its child read after it would count the shared pages one and a half times.
    """
    before = _tree(pid)
    kb = 0
    for p in before:
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                kb += next((int(line.split()[1]) for line in fh if line.startswith("Pss:")), 0)
        except OSError:
            if not _ended(p):  # a child that has ended (not yet reaped) holds no memory
                return None
    if _tree(pid) != before:
        return None
    return kb / 1024.0, len(before)


def _case(case: str, folder: Path, scratch: Path, seed: int) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    if case == "ingest-cold":
        from hotspots.ingest import read_incidents

        t0, c0 = time.perf_counter(), _cpu_s()
        result = read_incidents([folder / "csv"])
        wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
        facts = {"kept": result.report.n_kept, "files": len(result.report.files)}
    elif case == "store-cold":
        from hotspots.ingest import update_store

        store = scratch / "store"
        shutil.rmtree(store, ignore_errors=True)
        t0, c0 = time.perf_counter(), _cpu_s()
        update = update_store([folder / "csv"], store)
        wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
        facts = {"parsed": len(update.parsed)}
    elif case == "store-new-month":
        from hotspots.ingest import update_store

        base, store = scratch / "store", scratch / "store-plus"
        if not base.exists():
            update_store([folder / "csv"], base)
        shutil.rmtree(store, ignore_errors=True)
        shutil.copytree(base, store)
        t0, c0 = time.perf_counter(), _cpu_s()
        update = update_store([folder / "csv", folder / "newmonth"], store)
        wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
        facts = {"parsed": len(update.parsed), "unchanged": len(update.unchanged)}
    elif case == "spots":
        from hotspots.harm import apply_harm, load_harm_table
        from hotspots.ingest import read_incidents
        from hotspots.spots import find_spots

        inc = read_incidents([folder / "exact"]).incidents
        weighted = apply_harm(inc, load_harm_table("cchi-2026-police-uk"), unknown="zero")
        del inc
        t0, c0 = time.perf_counter(), _cpu_s()
        res = find_spots(weighted, method="grid", top=20)
        wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
        facts = {"spots": len(res.spots)}
    elif case == "weekly":
        from hotspots.pipeline import WeeklySettings, run_weekly

        events: list[tuple[float, str]] = []

        def progress(task: str, done: int, total: int | None) -> None:
            events.append((time.perf_counter(), task))

        settings = WeeklySettings.from_mapping(
            {"seed": seed, "knox_permutations": 99, "tiles": False, "tz": TZ}
        )
        out = scratch / "weekly"
        shutil.rmtree(out, ignore_errors=True)
        t0, c0 = time.perf_counter(), _cpu_s()
        result = run_weekly([folder / "exact"], out=out, settings=settings, progress=progress)
        wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
        stages = _stage_times(events, t0, t0 + wall)
        facts = {"files": len(result.files), "stages": {k: round(v, 2) for k, v in stages.items()}}
    else:
        msg = f"unknown case {case!r}; choose from {CASES}"
        raise SystemExit(msg)
    return {"wall_s": wall, "cpu_s": cpu, "facts": facts}


def child(case: str, folder: Path, scratch: Path, seed: int) -> None:
    try:
        out = _case(case, folder, scratch, seed)
        out["ok"] = True
    except Exception as exc:  # noqa: BLE001 - a failed case is reported, not fatal
        out = {"ok": False, "error": f"{type(exc).__name__}: {exc}".splitlines()[0][:300]}
        out["trace"] = traceback.format_exc()[-1500:]
    print("RESULT " + json.dumps(out, default=str), flush=True)


def run_child(
    case: str, folder: Path, scratch: Path, *, seed: int, src: Path, timeout_s: float
) -> dict[str, Any]:
    """Run one case in a fresh process; wall/CPU of the call, peak RSS of the process."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, __file__, "child", "--case", case, "--folder", str(folder)]
    cmd += ["--scratch", str(scratch), "--seed", str(seed)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO)
    tree = {"pss_mb": 0.0, "processes": 0}
    sampling = threading.Event()

    def sample() -> None:  # the whole process tree, every 0.1 s (forked children included)
        while not sampling.wait(0.1):
            sample = _tree_pss_mb(proc.pid)
            if sample is not None:
                tree["pss_mb"] = max(tree["pss_mb"], sample[0])
                tree["processes"] = max(tree["processes"], sample[1])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    timed_out = False
    try:
        stdout, stderr = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        timed_out = True
    sampling.set()
    sampler.join()
    # communicate() reaped the child: its rusage is in RUSAGE_CHILDREN's running maximum,
    # so each case runs from a parent process of its own (see main)
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    whole = time.perf_counter() - t0
    out: dict[str, Any] = {"ok": False}
    for line in stdout.decode(errors="replace").splitlines():
        if line.startswith("RESULT "):
            out = json.loads(line[len("RESULT ") :])
    if timed_out:
        out = {"ok": False, "error": f"TIMEOUT after {timeout_s:.0f} s"}
    elif not out.get("ok") and "error" not in out:
        rc = proc.returncode
        kind = "OOM (killed, signal 9)" if rc == -9 else f"exit {rc}"
        out = {"ok": False, "error": f"{kind}: {stderr.decode(errors='replace')[-300:]}"}
    out["peak_rss_mb"] = usage.ru_maxrss / 1024.0
    out.setdefault("facts", {})["peak_tree_pss_mb"] = round(tree["pss_mb"])
    out["facts"]["processes"] = tree["processes"]
    out["process_s"] = whole
    out["process_cpu_s"] = usage.ru_utime + usage.ru_stime
    return out


def _git_commit(src: Path) -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(src), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def _append(row: str) -> None:
    if not RESULTS.exists():
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(
            "# National-scale benchmark (bench_scale.py)\n\n"
            "Each row: one fresh child process; wall and CPU seconds of the timed call, peak "
            "RSS and whole-process seconds of the child; load = 1-minute load average before "
            "the run. Written by `bench_scale.py run`, never edited by hand.\n\n"
            "| when (UTC) | code | rows | forces | case | wall s | CPU s | peak RSS MB | "
            "process s | load | facts |\n|---|---|---:|---:|---|---:|---:|---:|---:|---:|---|\n"
        )
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(row + "\n")


def fit(path: Path = RESULTS) -> list[str]:
    """Least-squares exponent of log seconds (wall and CPU) and log peak RSS on log rows.

    One line per (code, case); the code label's suffix (``main-<sha>``, ``scale-vmem20g``)
    is dropped, and repeated sizes enter as their median.
    """
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) < 11 or not cells[2].replace(",", "").isdigit():
            continue
        try:
            size = int(cells[2].replace(",", ""))
            wall, cpu, rss = float(cells[5]), float(cells[6]), float(cells[7].replace(",", ""))
            rows.append((cells[1].split("-")[0], cells[4], size, wall, cpu, rss))
        except ValueError:
            continue
    out = []
    frame = pd.DataFrame(rows, columns=["code", "case", "rows", "wall", "cpu", "rss"])
    for (code, case), g in frame.groupby(["code", "case"]):
        g = g.groupby("rows", as_index=False)[["wall", "cpu", "rss"]].median()
        if len(g) < 2:
            continue
        x = np.log(g["rows"].to_numpy(dtype=float))
        wall, cpu, rss = (
            np.polyfit(x, np.log(g[c].to_numpy()), 1)[0] for c in ("wall", "cpu", "rss")
        )
        sizes = ", ".join(f"{r:,}" for r in g["rows"])
        out.append(
            f"- {code} {case}: wall ~ rows^{wall:.2f}, CPU ~ rows^{cpu:.2f}, "
            f"peak RSS ~ rows^{rss:.2f} (sizes {sizes})"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("gen", "run", "child", "fit"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cases", default="weekly")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--src", type=Path, default=REPO / "src", help="code under test")
    parser.add_argument("--label", default="", help="code label in the table (default: commit)")
    parser.add_argument("--timeout-s", type=float, default=900.0)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.command == "child":
        child(args.case, args.folder, args.scratch, args.seed)
        return
    if args.command == "fit":
        print("\n".join(fit()))
        return
    sys.path.insert(0, str(REPO / "src"))
    folder = generate(args.rows, args.work, seed=args.seed)
    if args.command == "gen":
        print(folder)
        return
    label = args.label or _git_commit(args.src)
    for case in [c for c in args.cases.split(",") if c]:
        # a fresh parent per case, so RUSAGE_CHILDREN's maximum is this case's alone
        if os.environ.get("BENCH_SCALE_ONE") != case:
            env = {**os.environ, "BENCH_SCALE_ONE": case}
            cmd = [sys.executable, __file__, "run", "--rows", str(args.rows), "--cases", case]
            cmd += ["--work", str(args.work), "--seed", str(args.seed), "--src", str(args.src)]
            cmd += ["--label", label, "--timeout-s", str(args.timeout_s)]
            subprocess.run(cmd, env=env, check=False)
            continue
        load = os.getloadavg()[0]
        scratch = args.work / f"scratch-{args.rows}-{label}"
        scratch.mkdir(parents=True, exist_ok=True)
        res = run_child(
            case, folder, scratch, seed=args.seed, src=args.src, timeout_s=args.timeout_s
        )
        forces = n_forces(args.rows)
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
        if res.get("ok"):
            facts = json.dumps(res.get("facts", {}), default=str).replace("|", "/")
            row = (
                f"| {when} | {label} | {args.rows:,} | {forces} | {case} | {res['wall_s']:.2f} "
                f"| {res['cpu_s']:.2f} | {res['peak_rss_mb']:,.0f} | {res['process_s']:.1f} "
                f"| {load:.2f} | {facts} |"
            )
        else:
            err = str(res.get("error", "?")).replace("|", "/").replace("\n", " ")[:200]
            row = (
                f"| {when} | {label} | {args.rows:,} | {forces} | {case} | - | - "
                f"| {res['peak_rss_mb']:,.0f} | {res['process_s']:.1f} | {load:.2f} | "
                f"failed: {err} |"
            )
        _append(row)
        print(row, flush=True)
        if not res.get("ok") and res.get("trace"):
            print(res["trace"], file=sys.stderr)


if __name__ == "__main__":
    main()
