"""Benchmark: in-process engine vs ``--engine dask`` (LocalCluster, 2 workers x 1 thread).

Case ``six-forces``: the six real police.uk force years ``../shared/data/police_uk/*_2025``
together (about 1M rows), two steps, each engine in its own fresh child process:

1. ``ingest``: every monthly file into an ingest store (``update_store``; Dask: one task
   per file, each writing its own partition);
2. ``national``: the weekly run per force from that store (``run_national``; Dask: one
   task per force, each reading only its force's partitions), national.csv by the client.

Per run: wall time (the cluster start counted, and shown apart), CPU seconds and peak RSS
of the client process and of each worker (``resource.getrusage`` run on the workers via
``client.run``, so the worker's whole life is counted; the peak is its ``ru_maxrss``), and
the 1-minute load average at the start. The order alternates (local, dask, dask, local)
over ``--pairs`` pairs so drift in machine load hits both engines alike. After the runs
the dask outputs are checked equal to the local ones (store rows, every force's
harm_spots.csv, national.csv apart from its engine columns).

Run under the machine-wide benchmark lock (see the brief), from the repository root::

    flock /tmp/hotspots-bench.lock timeout 1200 .venv/bin/python benchmarks/bench_dask.py

Writes ``benchmarks/results/dask.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "police_uk"
FORCES = (
    "devon-and-cornwall_2025",
    "essex_2025",
    "hampshire_2025",
    "lancashire_2025",
    "northumbria_2025",
    "sussex_2025",
)
RESULTS = REPO / "benchmarks" / "results" / "dask.md"
ROWS_PER_FORCE = 160_000  # about one real force-year
MONTHS = tuple(f"2025-{m:02d}" for m in range(1, 13))


def write_synthetic_forces(folder: Path, *, rows: int, seed: int = 0) -> tuple[int, int]:
    """police.uk-layout monthly files of ``rows // ROWS_PER_FORCE`` synthetic forces.

    Each file comes from ``bench_ingest.make_synthetic`` (seeded, the ingest benchmark's
    generator), one file at a time so memory stays bounded; its points (spread over
    England) are squeezed into a 0.4 x 0.25 degree box of the force's own, so each force
    has a force-sized study area. Returns (forces, files).
    """
    import numpy as np
    import pandas as pd

    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_ingest import make_synthetic

    n_forces = max(2, round(rows / ROWS_PER_FORCE))
    per_file = rows // (n_forces * len(MONTHS))
    rng = np.random.default_rng(seed)
    centres = np.column_stack([rng.uniform(-2.5, 1.0, n_forces), rng.uniform(50.8, 54.5, n_forces)])
    for f in range(n_forces):
        for m, month in enumerate(MONTHS):
            path = folder / month / f"{month}-synthetic{f:02d}-street.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            make_synthetic(path, rows=per_file, seed=seed + 1000 * f + m)
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            located = frame["Longitude"] != ""
            lon = pd.to_numeric(frame.loc[located, "Longitude"])
            lat = pd.to_numeric(frame.loc[located, "Latitude"])
            frame.loc[located, "Longitude"] = (
                (centres[f, 0] + (lon + 0.5) * 0.1).round(6).astype(str)
            )
            frame.loc[located, "Latitude"] = (
                (centres[f, 1] + (lat - 52.25) * 0.1).round(6).astype(str)
            )
            frame["Month"] = month
            has_id = frame["Crime ID"] != ""  # ids unique across files (as police.uk's are)
            frame.loc[has_id, "Crime ID"] = f"f{f:02d}m{m:02d}-" + frame.loc[has_id, "Crime ID"]
            frame.to_csv(path, index=False)
    return n_forces, n_forces * len(MONTHS)


def _usage() -> dict[str, float]:
    """CPU seconds and peak RSS (MB) of the calling process (run on each worker too)."""
    self = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "cpu_s": self.ru_utime + self.ru_stime,
        "peak_rss_mb": self.ru_maxrss / 1024.0,
        "pid": os.getpid(),
    }


def run_step(step: str, engine: str, work: Path) -> dict[str, Any]:
    """One step with one engine, in this (fresh) process."""
    from hotspots.config import EngineOptions, WeeklySettings
    from hotspots.engine import open_engine
    from hotspots.ingest import update_store
    from hotspots.national import run_national

    store = work / f"store-{engine}"
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    options = EngineOptions(engine=engine)
    with open_engine(options) as runner:
        t_ready = time.perf_counter()
        run_tasks = runner.map if runner.is_dask else None
        if step == "ingest":
            given = os.environ.get("BENCH_DASK_INPUT")  # the synthetic forces' folder
            names = os.environ.get("BENCH_DASK_FORCES", ",".join(FORCES)).split(",")
            folders = [Path(given)] if given else [DATA / f for f in names]
            update = update_store(folders, store, run_tasks=run_tasks)
            n_kept = sum(
                e["n_kept"] for e in json.loads((store / "manifest.json").read_text())["files"]
            )
            figures: dict[str, Any] = {"files_parsed": len(update.parsed), "rows": n_kept}
        else:
            settings = WeeklySettings.from_mapping({"tiles": False})
            result = run_national(
                [store],
                out=work / f"out-{engine}",
                settings=settings,
                run_tasks=run_tasks,
                engine=runner.record,
            )
            figures = {
                "forces": len(result.forces),
                "rows": int(result.table["rows_kept"].sum()),
            }
        t_done = time.perf_counter()
        workers = list(runner.client.run(_usage).values()) if runner.is_dask else []
    client = _usage()
    client["cpu_s"] = time.process_time() - cpu0
    return {
        "step": step,
        "engine": engine,
        "load_1min": load,
        "wall_s": t_done - t0,
        "startup_s": t_ready - t0,
        "client": client,
        "workers": workers,
        **figures,
    }


def child(step: str, engine: str, work: Path) -> None:
    """Entry point of a child process: print one JSON line."""
    try:
        out = run_step(step, engine, work)
        out["ok"] = True
    except Exception as exc:  # noqa: BLE001 - a failed case is reported, not fatal
        out = {"ok": False, "step": step, "engine": engine, "error": repr(exc)[:300],
               "trace": traceback.format_exc()[-2000:]}  # fmt: skip
    print("RESULT " + json.dumps(out, default=str))


def run_in_child(step: str, engine: str, work: Path) -> dict[str, Any]:
    """Run one step in a fresh interpreter (its own peak RSS)."""
    proc = subprocess.run(
        [sys.executable, __file__, "--child", step, engine, "--work", str(work)],
        capture_output=True, text=True, check=False, cwd=REPO, timeout=1200,
    )  # fmt: skip
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    return {"ok": False, "step": step, "engine": engine,
            "error": f"child exited {proc.returncode}: {proc.stderr[-500:]}"}  # fmt: skip


def check_equal(work: Path) -> list[str]:
    """Dask outputs against local ones: store rows, per-force spots, national table."""
    import pandas as pd

    from hotspots.ingest import read_store

    notes = []
    a, b = read_store(work / "store-local"), read_store(work / "store-dask")
    pd.testing.assert_frame_equal(a.incidents, b.incidents)
    notes.append(f"store rows equal ({len(a.incidents):,} incidents)")
    la, lb = work / "out-local", work / "out-dask"
    forces = sorted(p.name for p in la.iterdir() if p.is_dir())
    for force in forces:
        left = pd.read_csv(la / force / "harm_spots.csv", encoding="utf-8-sig")
        right = pd.read_csv(lb / force / "harm_spots.csv", encoding="utf-8-sig")
        pd.testing.assert_frame_equal(left, right)
    notes.append(f"harm_spots.csv equal for {len(forces)} forces")
    na = pd.read_csv(la / "national.csv", encoding="utf-8-sig").drop(
        columns=["engine", "scheduler"]
    )
    nb = pd.read_csv(lb / "national.csv", encoding="utf-8-sig").drop(
        columns=["engine", "scheduler"]
    )
    pd.testing.assert_frame_equal(na, nb)
    notes.append("national.csv equal apart from its engine and scheduler columns")
    return notes


def _summary(runs: list[dict[str, Any]]) -> dict[str, float]:
    wall = statistics.median(r["wall_s"] for r in runs)
    startup = statistics.median(r["startup_s"] for r in runs)
    cpu = statistics.median(r["client"]["cpu_s"] + sum(w["cpu_s"] for w in r["workers"])
                            for r in runs)  # fmt: skip
    client_rss = max(r["client"]["peak_rss_mb"] for r in runs)
    worker_rss = max((w["peak_rss_mb"] for r in runs for w in r["workers"]), default=0.0)
    total_rss = max(r["client"]["peak_rss_mb"] + sum(w["peak_rss_mb"] for w in r["workers"])
                    for r in runs)  # fmt: skip
    loads = [r["load_1min"] for r in runs]
    return {"wall_s": wall, "startup_s": startup, "cpu_s": cpu, "client_rss_mb": client_rss,
            "worker_rss_mb": worker_rss, "total_rss_mb": total_rss,
            "load_min": min(loads), "load_max": max(loads), "n": len(runs)}  # fmt: skip


def main() -> None:
    """Run the pairs, check equality, write results/dask.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("STEP", "ENGINE"))
    parser.add_argument("--work", type=Path)
    parser.add_argument("--pairs", type=int, default=1, help="(local, dask) pairs, alternated")
    parser.add_argument("--forces", help="comma-separated folders (smoke runs; not recorded)")
    parser.add_argument(
        "--synthetic",
        type=int,
        help="ROWS: synthetic forces (about 160k rows each) through ingest --store and the "
        "national run on Dask only; appended to results/dask.md",
    )
    args = parser.parse_args()
    if args.forces:
        os.environ["BENCH_DASK_FORCES"] = args.forces
    if args.synthetic and not args.child:
        synthetic(args.synthetic)
        return
    if args.child:
        child(args.child[0], args.child[1], args.work)
        return
    missing = [f for f in FORCES if not (DATA / f).is_dir()]
    if missing:
        sys.exit(f"missing real data folders {missing} under {DATA}")
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp:
        work = Path(tmp)
        for k in range(args.pairs):
            order = ("local", "dask") if k % 2 == 0 else ("dask", "local")
            for step in ("ingest", "national"):
                for engine in order:
                    if k and step == "ingest":  # a re-ingest parses nothing: start cold
                        subprocess.run(["rm", "-rf", str(work / f"store-{engine}")], check=True)
                    result = run_in_child(step, engine, work)
                    print(json.dumps(result, default=str)[:400], flush=True)
                    runs.append(result)
                    if not result.get("ok"):
                        sys.exit(f"failed: {result.get('error')}\n{result.get('trace', '')}")
        notes = check_equal(work)
    if args.forces:  # a smoke run on a subset: print, do not overwrite the recorded results
        print("\n".join(notes))
        return
    write_report(runs, notes)


def synthetic(rows: int) -> None:
    """Generate ``rows`` synthetic rows, ingest them into a store and run them on Dask."""
    with tempfile.TemporaryDirectory(prefix="bench-dask-synth-") as tmp:
        work = Path(tmp)
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        n_forces, n_files = write_synthetic_forces(work / "csv", rows=rows)
        made = time.perf_counter() - t0
        os.environ["BENCH_DASK_INPUT"] = str(work / "csv")
        runs = []
        for step in ("ingest", "national"):
            result = run_in_child(step, "dask", work)
            print(json.dumps(result, default=str)[:400], flush=True)
            if not result.get("ok"):
                sys.exit(f"failed: {result.get('error')}\n{result.get('trace', '')}")
            runs.append(result)
    lines = [
        "",
        f"## Synthetic {rows:,} rows on Dask (LocalCluster, 2 workers x 1 thread)",
        "",
        f"{n_forces} synthetic forces x 12 monthly police.uk-layout files ({n_files} files, "
        f"written in {made:.0f} s at load {load:.2f}; `bench_ingest.make_synthetic` per file, "
        f"each force in its own 0.4 x 0.25 degree box), run "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {_commit()}.",
        "",
        "| step | rows | wall s | CPU s (client + workers) | client peak MB | worker peak MB "
        "| load (1 min) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        cpu = r["client"]["cpu_s"] + sum(w["cpu_s"] for w in r["workers"])
        worker = max(w["peak_rss_mb"] for w in r["workers"])
        n = r.get("rows", rows)
        lines.append(
            f"| {r['step']} | {n:,} | {r['wall_s']:.1f} | {cpu:.1f} | "
            f"{r['client']['peak_rss_mb']:,.0f} | {worker:,.0f} | {r['load_1min']:.2f} |"
        )
    text = "\n".join(lines) + "\n"
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(text)
    print(text)


def write_report(runs: list[dict[str, Any]], notes: list[str]) -> None:
    """The markdown table of medians, ratios and the per-run rows."""
    lines = [
        "# In-process engine vs --engine dask (LocalCluster, 2 workers x 1 thread)",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        f", commit {_commit()}. Data: the six police.uk 2025 force years "
        f"({', '.join(f.removesuffix('_2025') for f in FORCES)}), 72 monthly files.",
        "",
        "Medians over the runs; CPU = client + workers; peak RSS: client, the largest "
        "worker, and client + all workers (summed peaks, an upper bound of the joint peak).",
        "",
        "| step | engine | runs | wall s | of which cluster start s | CPU s | client peak MB "
        "| worker peak MB | client+workers MB | load (1 min) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    table: dict[tuple[str, str], dict[str, float]] = {}
    for step in ("ingest", "national"):
        for engine in ("local", "dask"):
            chosen = [r for r in runs if r["step"] == step and r["engine"] == engine]
            s = table[(step, engine)] = _summary(chosen)
            lines.append(
                f"| {step} | {engine} | {s['n']} | {s['wall_s']:.1f} | {s['startup_s']:.1f} | "
                f"{s['cpu_s']:.1f} | {s['client_rss_mb']:,.0f} | "
                f"{s['worker_rss_mb']:,.0f} | {s['total_rss_mb']:,.0f} | "
                f"{s['load_min']:.2f}-{s['load_max']:.2f} |"
            )
    lines += ["", "Ratios dask / local:", ""]
    for step in ("ingest", "national"):
        a, b = table[(step, "local")], table[(step, "dask")]
        lines.append(
            f"- {step}: wall {b['wall_s'] / a['wall_s']:.2f}x, CPU {b['cpu_s'] / a['cpu_s']:.2f}x,"
            f" memory (client+workers vs local) {b['total_rss_mb'] / a['total_rss_mb']:.2f}x, "
            f"largest single process {max(b['client_rss_mb'], b['worker_rss_mb']) / a['client_rss_mb']:.2f}x"  # noqa: E501
        )
    lines += ["", "Checked after the runs: " + "; ".join(notes) + ".", "", "Per run:", ""]
    for r in runs:
        workers = ", ".join(
            f"{w['cpu_s']:.1f} s / {w['peak_rss_mb']:,.0f} MB" for w in r["workers"]
        )
        lines.append(
            f"- {r['step']} {r['engine']}: wall {r['wall_s']:.1f} s "
            f"(start {r['startup_s']:.1f} s), "
            f"client {r['client']['cpu_s']:.1f} s CPU / {r['client']['peak_rss_mb']:,.0f} MB"
            + (f", workers {workers}" if workers else "") + f", load {r['load_1min']:.2f}"
        )  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, cwd=REPO, check=True)  # fmt: skip
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


if __name__ == "__main__":
    main()
