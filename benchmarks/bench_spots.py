"""Benchmark harm spots: grid and DBSCAN on the Essex 2025 year and on 1 million synthetic
incidents. Each case runs in its own process so its peak memory (RSS) is its own.

    .venv/bin/python benchmarks/bench_spots.py            # all cases, writes results/spots.md
    .venv/bin/python benchmarks/bench_spots.py --case synthetic-grid --repeats 3
    # DBSCAN exact mode (snap_m=0) against scikit-learn, appended to results/spots.md
    .venv/bin/python benchmarks/bench_spots.py --dbscan-exact 200000 --baseline-src ../old/src
    # Gi* at 999 permutations, whole process (imports included), ours vs esda, alternated
    .venv/bin/python benchmarks/bench_spots.py --gistar-whole 999 --repeats 3

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


def exact_points(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The synthetic county's ``n`` points and CCHI weights as plain arrays."""
    frame = synthetic_data(n, seed)[0]
    return frame.get_coordinates().to_numpy(), frame["harm"].to_numpy(dtype="float64")


def run_exact(which: str, n: int, repeats: int, tag: str) -> dict:
    """One DBSCAN exact-mode run: ``ours`` (``_weighted_dbscan``, snap_m=0) or ``sklearn``."""
    from hotspots.config import EPS_M, MIN_HARM

    xy, harm = exact_points(n)
    times, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        if which == "sklearn":
            from sklearn.cluster import DBSCAN

            labels = DBSCAN(eps=EPS_M, min_samples=int(MIN_HARM)).fit(xy, sample_weight=harm)
            labels = labels.labels_
        else:
            from hotspots.spots._dbscan import _weighted_dbscan

            labels = _weighted_dbscan(xy, harm, eps_m=EPS_M, min_harm=MIN_HARM, snap_m=0)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    np.save(REPO / "benchmarks" / "_work" / f"dbscan_exact_{tag}_{n}.npy", labels)
    return {
        "which": which,
        "n": n,
        "times_s": times,
        "median_s": statistics.median(times),
        "median_cpu_s": statistics.median(cpu),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "clusters": int(labels.max()) + 1,
        "noise": int((labels < 0).sum()),
    }


def dbscan_exact(n: int, repeats: int, baseline_src: Path | None) -> None:
    """Ours vs scikit-learn (and optionally the baseline code), appended to results/spots.md."""
    from hotspots.config import EPS_M, MIN_HARM

    (REPO / "benchmarks" / "_work").mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    rows = []
    plan = [("sklearn", None), ("ours", None)]
    if baseline_src is not None:
        plan.append(("baseline", baseline_src))
    for which, src in plan:
        env = dict(os.environ)
        if src is not None:
            env["PYTHONPATH"] = str(src.resolve())
        cmd = [sys.executable, __file__, "--exact-case", "ours" if src else which]
        cmd += ["--exact-tag", which]
        cmd += ["--dbscan-exact", str(n), "--repeats", str(repeats)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        row["which"] = which
        rows.append(row)
        print(row, file=sys.stderr)
    labels = {
        r["which"]: np.load(REPO / "benchmarks" / "_work" / f"dbscan_exact_{r['which']}_{n}.npy")
        for r in rows
    }
    load_after = os.getloadavg()
    ref = rows[0]["median_s"]
    lines = [
        "",
        f"## DBSCAN exact mode (snap_m=0) vs scikit-learn, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"{n:,} points of the synthetic county (60% in 400 clusters), CCHI weights, eps "
        f"{EPS_M:g} m, min_harm {MIN_HARM:g}; `_weighted_dbscan(snap_m=0)` against "
        f"`sklearn.cluster.DBSCAN(...).fit(xy, sample_weight=harm)`; median of {repeats}, "
        f"each row in its own process. Load average (1, 5, 15 min) before "
        f"{', '.join(f'{v:.1f}' for v in load_before)}, after "
        f"{', '.join(f'{v:.1f}' for v in load_after)} on {os.cpu_count()} CPUs. Command: "
        f"`.venv/bin/python benchmarks/bench_spots.py --dbscan-exact {n}"
        f"{' --baseline-src ' + str(baseline_src) if baseline_src else ''}`.",
        "",
        "| code | median s (wall) | median CPU s | runs s | peak RSS MB | sklearn / this | "
        "clusters | labels equal sklearn's |",
        "|---|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in rows:
        same = (
            "yes, numbering too" if np.array_equal(labels[r["which"]], labels["sklearn"]) else "no"
        )
        lines.append(
            f"| {r['which']} | {r['median_s']:.2f} | {r['median_cpu_s']:.2f} | "
            f"{', '.join(f'{t:.2f}' for t in r['times_s'])} | {r['peak_rss_mb']:,.0f} | "
            f"{ref / r['median_s']:.2f}x | {r['clusters']} | {same} |"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    print("\n".join(lines))


# Gi* whole process: one fresh interpreter per run, imports, data and weights included. The
# lattice is bench_pipeline.py's reference-gistar case (a seeded Poisson-gamma lattice).
_GISTAR_DATA = """
import sys, json, time, resource, warnings
warnings.simplefilter("ignore")
import numpy as np
side, perms, seed = {side}, {perms}, 0
rng = np.random.default_rng(seed)
values = rng.poisson(rng.gamma(0.3, 3.0, side * side)).astype(float)
"""
_GISTAR_CHILD = {
    "ours": _GISTAR_DATA
    + """
from hotspots.spots import gi_star_grid
iy, ix = np.divmod(np.arange(side * side), side)
res = gi_star_grid(ix, iy, values, permutations=perms, seed=seed, engine="{engine}")
hot = int(((res.p_value <= 0.01) & (res.z > 0)).sum())
""",
    "esda": _GISTAR_DATA
    + """
import esda, libpysal
w = libpysal.weights.lat2W(side, side, rook=False)
g = esda.G_Local(values, w, transform="B", star=True, permutations=perms, seed=seed)
hot = int(((g.p_sim <= 0.01) & (g.Zs > 0)).sum())
""",
}


def _gistar_run(which: str, side: int, perms: int, engine: str) -> dict:
    code = _GISTAR_CHILD[which].format(side=side, perms=perms, engine=engine)
    code += "print(json.dumps({'hot': hot, 'rss_mb': "
    code += "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"wall_s": wall, "cpu_s": cpu, "load_1min": os.getloadavg()[0], **out}


def gistar_whole(perms: int, repeats: int, side: int) -> None:
    """Ours (numba, and numpy once) vs esda G_Local, whole process, runs alternated."""
    runs: dict[str, list[dict]] = {"ours": [], "esda": []}
    load_before = os.getloadavg()
    for _ in range(repeats):
        for which in ("ours", "esda"):
            runs[which].append(_gistar_run(which, side, perms, "auto"))
            print(which, runs[which][-1], file=sys.stderr)
    plain = _gistar_run("ours", side, perms, "numpy")
    load_after = os.getloadavg()
    med = {w: statistics.median(r["wall_s"] for r in rs) for w, rs in runs.items()}
    med_cpu = {w: statistics.median(r["cpu_s"] for r in rs) for w, rs in runs.items()}
    lines = [
        "",
        f"## Gi* at {perms} permutations, whole process: ours vs esda, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"{side} x {side} = {side * side:,} cells (bench_pipeline.py's reference-gistar lattice, "
        f"seed 0), queen contiguity with the cell itself, {perms} conditional permutations. "
        "Each run is a fresh `python -c` (interpreter start, imports, data, weights and the "
        "statistic all timed): ours `hotspots.spots.gi_star_grid` (numba kernel on every core; "
        "its on-disk cache warm), esda `G_Local(star=True)` with `libpysal.weights.lat2W` "
        "(esda's own numba `crand` at its default n_jobs=1: one core; its CPU s are the "
        "fairer comparison). Runs alternated ours/esda; medians of "
        f"{repeats}. Load average (1, 5, 15 min) before "
        f"{', '.join(f'{v:.1f}' for v in load_before)}, after "
        f"{', '.join(f'{v:.1f}' for v in load_after)} on {os.cpu_count()} CPUs. Command: "
        f"`flock /tmp/hotspots-bench.lock .venv/bin/python benchmarks/bench_spots.py "
        f"--gistar-whole {perms} --repeats {repeats}`.",
        "",
        "| code | median s (wall) | median CPU s | runs s (wall) | load avg per run | peak RSS MB "
        "| esda / ours (wall) | esda / ours (CPU) | hot cells p <= 0.01 |",
        "|---|---:|---:|---|---|---:|---:|---:|---:|",
    ]
    for which, rs in (*runs.items(), ("ours, numpy engine (1 run)", [plain])):
        w = statistics.median(r["wall_s"] for r in rs)
        c = statistics.median(r["cpu_s"] for r in rs)
        walls = ", ".join(f"{r['wall_s']:.2f}" for r in rs)
        loads = ", ".join(f"{r['load_1min']:.1f}" for r in rs)
        lines.append(
            f"| {which} | {w:.2f} | {c:.2f} | {walls} | {loads} | "
            f"{max(r['rss_mb'] for r in rs):,.0f} | {med['esda'] / w:.1f}x | "
            f"{med_cpu['esda'] / c:.1f}x | {rs[0]['hot']:,} |"
        )
    lines += [
        "",
        "Hot cells: z > 0 and p <= 0.01. Ours is the one-sided upper-tail permutation p; esda's "
        "p_sim is folded (the smaller tail), equal to ours for hot cells up to Monte-Carlo "
        "error (tests/test_gistar_permutations.py compares them at 9,999 permutations); the "
        "draws differ (different generators), so the counts differ by chance.",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), help="run one case in this process")
    parser.add_argument("--repeats", type=int, default=0, help="timed repeats (default per case)")
    parser.add_argument(
        "--dbscan-exact", type=int, metavar="N", help="DBSCAN exact mode vs sklearn on N points"
    )
    parser.add_argument("--exact-case", choices=["ours", "sklearn"], help=argparse.SUPPRESS)
    parser.add_argument("--exact-tag", default="ours", help=argparse.SUPPRESS)
    parser.add_argument("--baseline-src", type=Path, help="src/ of code to compare with")
    parser.add_argument(
        "--gistar-whole", type=int, metavar="P", help="Gi* at P permutations vs esda, whole process"
    )
    parser.add_argument(
        "--gistar-side", type=int, default=300, help="lattice side for --gistar-whole"
    )
    args = parser.parse_args()
    os.chdir(REPO)
    if args.gistar_whole:
        gistar_whole(args.gistar_whole, args.repeats or 3, args.gistar_side)
        return
    if args.exact_case:
        print(
            json.dumps(
                run_exact(args.exact_case, args.dbscan_exact, args.repeats or 3, args.exact_tag)
            )
        )
        return
    if args.dbscan_exact:
        dbscan_exact(args.dbscan_exact, args.repeats or 3, args.baseline_src)
        return
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
