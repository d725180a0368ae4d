"""Benchmark harm spots: grid and DBSCAN on the Essex 2025 year and on 1 million synthetic
incidents. Each case runs in its own process so its peak memory (RSS) is its own.

    .venv/bin/python benchmarks/bench_spots.py            # all cases, writes results/spots.md
    .venv/bin/python benchmarks/bench_spots.py --case synthetic-grid --repeats 3

Timings are the median of ``--repeats`` calls of ``find_spots`` (the first, warm-up call
is not counted); loading, projecting and weighting the data are not timed.
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
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "spots.md"
ESSEX = Path("../shared/data/police_uk/essex_2025")
LADS = Path("../shared/data/boundaries/essex_lad2013.geojson")
SV = ("Violence and sexual offences", "Robbery", "Possession of weapons", "Drugs")
CASES = {
    "essex-grid": ("essex", "grid", 5),
    "essex-dbscan": ("essex", "dbscan", 3),
    "synthetic-grid": ("synthetic", "grid", 3),
    "synthetic-dbscan": ("synthetic", "dbscan", 3),
}
TARGETS_S = {"essex-grid": 2.0, "synthetic-grid": 10.0, "synthetic-dbscan": 30.0}
TARGET_RSS_MB = 2048


def essex_data():
    from hotspots.areas import read_areas
    from hotspots.harm import apply_harm, load_harm_table
    from hotspots.ingest import read_incidents

    incidents = read_incidents([REPO / ESSEX], None).incidents
    weighted = apply_harm(
        incidents[incidents["offence"].isin(SV).to_numpy()], load_harm_table("cchi-2026-police-uk")
    )
    areas = read_areas(REPO / LADS, area_field="LAD13NM", working_crs=weighted.crs)
    return weighted, areas, {"n_incidents": len(incidents), "n_ranked": len(weighted)}


def synthetic_data(n: int = 1_000_000, seed: int = 0):
    """``n`` serious-violence incidents over a 60 km x 60 km county in EPSG:27700: 60% in
    400 town-centre clusters (sd 50-400 m), 40% spread evenly; exact times over a year."""
    import geopandas as gpd
    import pandas as pd

    from hotspots.harm import load_harm_table

    rng = np.random.default_rng(seed)
    n_hot = int(n * 0.6)
    centres = rng.uniform([550_000, 170_000], [610_000, 230_000], size=(400, 2))
    sizes = rng.uniform(50, 400, 400)
    which = rng.integers(0, 400, n_hot)
    hot = centres[which] + rng.normal(size=(n_hot, 2)) * sizes[which, None]
    flat = rng.uniform([550_000, 170_000], [610_000, 230_000], size=(n - n_hot, 2))
    xy = np.vstack([hot, flat])
    offence = rng.choice(np.array(SV), n, p=[0.8, 0.05, 0.05, 0.1])
    weights = load_harm_table("cchi-2026-police-uk").weights
    times = pd.Timestamp("2025-01-01", tz="Europe/London") + pd.to_timedelta(
        rng.integers(0, 365 * 24 * 60, n), unit="min"
    )
    frame = gpd.GeoDataFrame(
        {
            "occurred_at": times,
            "offence": offence,
            "harm": pd.Series(offence).map(weights).to_numpy(dtype="float64"),
            "time_resolution": "exact",
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=27700,
    )
    return frame, None, {"n_incidents": n, "n_ranked": n}


def run_case(name: str, repeats: int) -> dict:
    from hotspots.spots import find_spots

    source, method, default_repeats = CASES[name]
    repeats = repeats or default_repeats
    data, areas, counts = essex_data() if source == "essex" else synthetic_data()
    top = 5 if areas is not None else 20
    kwargs = {"method": method, "areas": areas, "top": top}
    find_spots(data, **kwargs)  # warm-up (imports, caches)
    times, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = find_spots(data, **kwargs)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    load = os.getloadavg()[0]  # other work on the machine inflates wall time
    return {
        "case": name,
        "method": method,
        **counts,
        "repeats": repeats,
        "median_s": statistics.median(times),
        "median_cpu_s": statistics.median(cpu),
        "min_s": min(times),
        "max_s": max(times),
        "peak_rss_mb": rss_mb,
        "load_1min": load,
        "n_spots": len(result.spots),
        "headline": result.summary["headline"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), help="run one case in this process")
    parser.add_argument("--repeats", type=int, default=0, help="timed repeats (default per case)")
    args = parser.parse_args()
    os.chdir(REPO)
    if args.case:
        print(json.dumps(run_case(args.case, args.repeats)))
        return
    rows = []
    for name in CASES:
        proc = subprocess.run(
            [sys.executable, __file__, "--case", name, "--repeats", str(args.repeats)],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(rows[-1], file=sys.stderr)
    write_report(rows)


def write_report(rows: list[dict]) -> None:
    lines = [
        "# Harm spots benchmark",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.platform(terse=True)}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs. "
        "Command: `.venv/bin/python benchmarks/bench_spots.py`.",
        "",
        "Time is the median of the timed `find_spots` calls after one warm-up call (loading, "
        "projecting and harm-weighting are not timed). Each call ranks the current window and "
        "also recomputes last week's selection (status) and the previous look-back (trend). "
        "Peak RSS is the whole process (data generation or ingest included). Wall time "
        "depends on what else the machine runs (load avg: 1-minute load when the case "
        "finished, on 2 cores); CPU time is this process's own.",
        "",
        "| case | method | incidents ranked | repeats | median s (wall) | min-max s | median "
        "CPU s | target s | peak RSS MB | load avg | spots | concentration |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        target = TARGETS_S.get(r["case"])
        ok = "" if target is None else (" (ok)" if r["median_s"] < target else " (MISSED)")
        lines.append(
            f"| {r['case']} | {r['method']} | {r['n_ranked']:,} | {r['repeats']} | "
            f"{r['median_s']:.2f} | {r['min_s']:.2f}-{r['max_s']:.2f} | {r['median_cpu_s']:.2f} | "
            f"{'-' if target is None else f'{target:g}'}{ok} | {r['peak_rss_mb']:,.0f}"
            f"{' (ok)' if r['peak_rss_mb'] < TARGET_RSS_MB else ' (over 2 GB)'} | "
            f"{r.get('load_1min', float('nan')):.1f} | "
            f"{r['n_spots']} | {r['headline']} |"
        )
    lines += [
        "",
        "Essex: police.uk street crime 2025 (158,217 rows) with the 14 districts of "
        "`essex_lad2013.geojson`, top 5 per district. Synthetic: 1,000,000 exact-timed "
        "serious-violence incidents over 60 km x 60 km (60% in 400 clusters, sd 50-400 m), "
        "top 20 overall.",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
