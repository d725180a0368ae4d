"""Benchmark ``read_incidents``: the Essex 2025 year and 1 million synthetic rows.

Every run is a fresh Python process (imports done before the clock starts), so each time
is a cold first read and each peak RSS is that run's own. Prints a table and appends one
markdown row per case to ``benchmarks/results/ingest.md``.

    .venv/bin/python benchmarks/bench_ingest.py --repeat 3
    .venv/bin/python benchmarks/bench_ingest.py --parquet-read 7   # issue 15 target

``--parquet-read N``: the Essex parquet that ``hotspots ingest`` writes, read N times by
``read_incidents`` and by ``geopandas.read_parquet`` alternately in one warm process
(imports done first); appends the medians and their ratio (target at most 1.5x).
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
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
ESSEX = REPO.parent / "shared" / "data" / "police_uk" / "essex_2025"
RESULTS = REPO / "benchmarks" / "results" / "ingest.md"
HEADER = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context"  # noqa: E501
TYPES = [
    "Violence and sexual offences",
    "Anti-social behaviour",
    "Shoplifting",
    "Burglary",
    "Criminal damage and arson",
    "Public order",
    "Vehicle crime",
    "Other theft",
    "Drugs",
]


def make_synthetic(path: Path, *, rows: int, seed: int = 0) -> Path:
    """police.uk-layout CSV: snapped points in England, 12 months, 9% ASB without ids."""
    rng = np.random.default_rng(seed)
    snap_lon = rng.uniform(-2.5, 1.5, 20_000).round(6)  # 20,000 shared snap points
    snap_lat = rng.uniform(51.0, 53.5, 20_000).round(6)
    pick = rng.integers(0, 20_000, rows)
    crime = rng.choice(TYPES, rows, p=[0.41, 0.09, 0.09, 0.04, 0.08, 0.07, 0.07, 0.07, 0.08])
    ids = np.char.add("id", np.arange(rows).astype(str))
    ids = np.where(crime == "Anti-social behaviour", "", ids)
    lon = snap_lon[pick].astype(str)
    lat = snap_lat[pick].astype(str)
    missing = rng.random(rows) < 0.013  # police.uk "No Location" share
    lon = np.where(missing, "", lon)
    lat = np.where(missing, "", lat)
    frame = pd.DataFrame(
        {
            "Crime ID": ids,
            "Month": np.char.add("2025-", np.char.zfill(rng.integers(1, 13, rows).astype(str), 2)),
            "Reported by": "Synthetic Police",
            "Falls within": "Synthetic Police",
            "Longitude": lon,
            "Latitude": lat,
            "Location": np.where(
                missing, "No Location", np.char.add("On or near Street ", pick.astype(str))
            ),
            "LSOA code": "E01000001",
            "LSOA name": "Synthetic 001A",
            "Crime type": crime,
            "Last outcome category": "Under investigation",
            "Context": "",
        }
    )
    frame.to_csv(path, index=False)
    return path


def make_synthetic_exact(path: Path, *, rows: int, seed: int = 0) -> Path:
    """hotspots canonical CSV: exact ISO 8601 times over a year, easting/northing in Essex."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-01-01", tz="Europe/London")
    times = start + pd.to_timedelta(rng.integers(0, 365 * 86_400, rows), unit="s")
    frame = pd.DataFrame(
        {
            "incident_id": np.char.add("syn-", np.arange(rows).astype(str)),
            "occurred_at": times.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "offence": rng.choice(TYPES, rows),
            "easting": rng.uniform(540_000, 630_000, rows).round(1),
            "northing": rng.uniform(170_000, 250_000, rows).round(1),
        }
    )
    frame.to_csv(path, index=False)
    return path


def run_case(case: str, inputs: list[str]) -> dict:
    """Time one read_incidents call in this (fresh, child) process."""
    from hotspots.ingest import read_incidents

    start, cpu_start = time.perf_counter(), time.process_time()
    result = read_incidents(inputs)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "case": case,
        "rows": result.report.n_read,
        "kept": result.report.n_kept,
        "seconds": seconds,
        "cpu_s": cpu,
        "peak_rss_mb": peak_kb / 1024,
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def parquet_read(pairs: int) -> None:
    """read_incidents vs geopandas.read_parquet on the parquet ``hotspots ingest`` writes."""
    import geopandas as gpd

    import hotspots
    from hotspots.ingest import read_incidents

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "essex.parquet"
        subprocess.run(
            [sys.executable, "-m", "hotspots", "ingest", str(ESSEX), "--out", str(path)],
            check=True,
            cwd=REPO,
        )
        ours, theirs = [], []
        read_incidents([str(path)]), gpd.read_parquet(path)  # warm both
        for _ in range(pairs):
            t = time.perf_counter()
            rows = len(read_incidents([str(path)]).incidents)
            ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            gpd.read_parquet(path)
            theirs.append(time.perf_counter() - t)
    a, b = statistics.median(ours), statistics.median(theirs)
    code = _code_label(Path(hotspots.__file__).resolve().parents[2])
    line = (
        f"| {datetime.now(UTC):%Y-%m-%d %H:%M} UTC | {code} | Essex parquet written by "
        "`hotspots ingest` "
        f"({rows:,} rows), {pairs} alternated pairs, warm | read_incidents {a:.3f} s | "
        f"geopandas.read_parquet {b:.3f} s | ratio {a / b:.2f} (target at most 1.5) | load "
        f"{os.getloadavg()[0]:.1f} |"
    )
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    print(line)


def _code_label(repo: Path) -> str:
    """``<worktree folder> (<short commit>)`` of the hotspots tree that was read."""
    done = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return f"{repo.name} ({done.stdout.strip() or '?'})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="fresh-process runs per case (median time, max peak RSS)",
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="synthetic rows")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic rows")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--make", help=argparse.SUPPRESS)
    parser.add_argument("--exact", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--parquet-read", type=int, metavar="N", help="paired typed-read benchmark, N pairs"
    )
    args = parser.parse_args()
    if args.parquet_read:
        parquet_read(args.parquet_read)
        return
    if args.make:
        maker = make_synthetic_exact if args.exact else make_synthetic
        maker(Path(args.make), rows=args.rows, seed=args.seed)
        return
    if args.child:
        case, *inputs = args.child
        print(json.dumps(run_case(case, inputs)))
        return

    cases: list[tuple[str, list[str]]] = []
    if ESSEX.exists():
        cases.append(("Essex 2025 police.uk (12 csv.gz)", [str(ESSEX)]))
    else:
        print(f"skipping Essex: {ESSEX} is absent")
    with tempfile.TemporaryDirectory() as tmp:
        # written by a child process: Linux keeps a parent's peak RSS in forked children,
        # so building the big frame here would inflate every measurement
        for name, flag, label in (
            ("synthetic-street.csv", [], "synthetic police.uk rows"),
            ("synthetic-exact.csv", ["--exact"], "synthetic exact-time hotspots rows"),
        ):
            synthetic = Path(tmp) / name
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--make",
                    str(synthetic),
                    "--rows",
                    str(args.rows),
                    "--seed",
                    str(args.seed),
                    *flag,
                ],
                check=True,
                cwd=REPO,
            )
            cases.append((f"{args.rows:,} {label} (seed {args.seed})", [str(synthetic)]))
        results = []
        for case, inputs in cases:
            runs = []
            for _ in range(args.repeat):
                proc = subprocess.run(
                    [sys.executable, __file__, "--child", case, *inputs],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=REPO,
                )
                runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            results.append(
                {
                    **runs[0],
                    "repeat": args.repeat,
                    "median_s": statistics.median(r["seconds"] for r in runs),
                    "median_cpu_s": statistics.median(r["cpu_s"] for r in runs),
                    "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                    "load": os.getloadavg()[0],
                }
            )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    host = machine()
    if not RESULTS.exists():
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(
            "# Ingest benchmark (benchmarks/bench_ingest.py)\n\n"
            "CPU s is user+system time of the process (all threads); load is the 1-minute load\n"
            "average when the case finished (other work on the machine slows wall time).\n\n"
            "| when | machine | case | rows | repeat | median s | median CPU s | peak RSS MB "
            "| load |\n|---|---|---|---|---|---|---|---|---|\n",
            encoding="utf-8",
        )
    with RESULTS.open("a", encoding="utf-8") as handle:
        for r in results:
            line = (
                f"| {stamp} | {host} | {r['case']} | {r['rows']:,} | {r['repeat']} | "
                f"{r['median_s']:.2f} | {r['median_cpu_s']:.2f} | {r['peak_rss_mb']:.0f} | "
                f"{r['load']:.1f} |"
            )
            print(line)
            handle.write(line + "\n")


if __name__ == "__main__":
    main()
