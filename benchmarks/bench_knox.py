"""Benchmark the Knox test; writes benchmarks/results/knox.md.

Cases (each run in its own Python process so peak RSS belongs to that case alone):

* ``chicago``: 22,127 Chicago residential burglaries 2016-2017 (../shared/data), default
  bands (0-400 m by 100, 0-42 days by 7), 999 permutations. Target: < 10 s on 2 cores.
* ``synthetic``: 100,000 synthetic day-dated events (40 km x 40 km, two years, 20 %
  near-repeat follow-ups), default bands, 99 permutations.
* ``pointpats`` / ``ours_single``: one 400 m / 42 day threshold, 99 permutations, on the
  first N Chicago burglaries, with ``pointpats.spacetime.Knox`` and with hotspots; the
  space-time pair counts must agree.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_knox.py            # all cases, 3 repeats
    .venv/bin/python benchmarks/bench_knox.py --repeats 1 --pointpats-n 4000
    # counting engines on Chicago (function level), appended to results/knox.md; with the
    # previous code (a checkout's src/) as the baseline:
    .venv/bin/python benchmarks/bench_knox.py --engines --baseline-src ../old/src
    # whole command: `hotspots knox` on Chicago against benchmarks/knox_sketch.py (a plain
    # pandas + cKDTree + numpy script making the same table), alternated, appended to knox.md
    flock /tmp/hotspots-bench.lock .venv/bin/python benchmarks/bench_knox.py --whole --repeats 5
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
CHICAGO = Path("../shared/data/exact_dated/chicago/chicago_residential_burglary_2016_2017.csv.gz")
RESULTS = REPO / "benchmarks" / "results" / "knox.md"


def _chicago(n: int | None = None):
    import geopandas as gpd
    import pandas as pd

    from hotspots.schema import OCCURRED_AT

    frame = pd.read_csv(REPO / CHICAGO)
    if n is not None:
        frame = frame.iloc[:n]
    when = pd.to_datetime(frame["date_single"], format="%d/%m/%Y")
    events = gpd.GeoDataFrame(
        {OCCURRED_AT: when.dt.tz_localize("America/Chicago")},
        geometry=gpd.points_from_xy(frame["x"], frame["y"]),
        crs=26971,
    )
    days = (when - pd.Timestamp("2016-01-01")).dt.days.to_numpy().astype(float)
    return events, frame[["x", "y"]].to_numpy(), days


def _synthetic(n: int = 100_000, seed: int = 0):
    import geopandas as gpd
    import pandas as pd

    from hotspots.schema import OCCURRED_AT

    rng = np.random.default_rng(seed)
    n_follow = n // 5
    n_base = n - n_follow
    x = rng.uniform(0, 40_000, n_base)
    y = rng.uniform(0, 40_000, n_base)
    day = rng.integers(0, 730, n_base)
    src = rng.integers(0, n_base, n_follow)
    x = np.concatenate([x, x[src] + rng.normal(0, 150, n_follow)])
    y = np.concatenate([y, y[src] + rng.normal(0, 150, n_follow)])
    day = np.concatenate([day, day[src] + rng.integers(0, 21, n_follow)])
    naive = pd.Timestamp("2024-01-01") + pd.to_timedelta(day, unit="D")
    return gpd.GeoDataFrame(
        {OCCURRED_AT: pd.DatetimeIndex(naive).tz_localize("Europe/London")},
        geometry=gpd.points_from_xy(x + 500_000, y + 200_000),
        crs=27700,
    )


def run_case(
    case: str, repeats: int, pointpats_n: int, engine: str | None = None, workers: int = 0
) -> dict:
    """Run one case ``repeats`` times in this process; return timings and facts."""
    import pandas as pd

    from hotspots.nearrepeat import knox_test

    times: list[float] = []
    facts: dict = {}
    # engine=None calls knox_test as code without engines (the baseline) accepts
    options = {} if engine is None else {"engine": engine, "workers": workers or None}
    if case == "chicago":
        events, _, _ = _chicago()
        if engine == "numba":
            knox_test(events.iloc[:50], n_permutations=9, **options)  # compile or load cache
        for _ in range(repeats):
            start = time.perf_counter()
            res = knox_test(events, n_permutations=999, seed=0, **options)
            times.append(time.perf_counter() - start)
        facts = {
            "events": res.n_events,
            "close_pairs": res.n_close_pairs,
            "pairs_in_table": res.n_pairs_in_range,
            "permutations": 999,
            "ratio_0_100m_0_7d": round(float(res.knox_ratio.iat[0, 0]), 3),
            "recommendation": res.recommendation()["text"],
            "observed_sum": int(res.observed.to_numpy().sum()),
            "p_values": res.p_value.to_numpy().round(4).tolist(),
        }
    elif case == "synthetic":
        events = _synthetic()
        for _ in range(repeats):
            start = time.perf_counter()
            res = knox_test(events, n_permutations=99, seed=0)
            times.append(time.perf_counter() - start)
        facts = {
            "events": res.n_events,
            "close_pairs": res.n_close_pairs,
            "pairs_in_table": res.n_pairs_in_range,
            "permutations": 99,
        }
    elif case == "chicago_exact":
        events, _, _ = _chicago()
        # the same burglaries with a random time of day: exact times, gaps in seconds
        secs = np.random.default_rng(0).integers(0, 86_400, len(events))
        events = events.assign(
            **{"occurred_at": events["occurred_at"] + pd.to_timedelta(secs, unit="s")}
        )
        for _ in range(repeats):
            start = time.perf_counter()
            res = knox_test(events, n_permutations=999, seed=0)
            times.append(time.perf_counter() - start)
        facts = {
            "events": res.n_events,
            "close_pairs": res.n_close_pairs,
            "time_resolution": res.time_resolution,
            "permutations": 999,
        }
    elif case == "ours_single":
        events, _, _ = _chicago(pointpats_n)
        for _ in range(repeats):
            start = time.perf_counter()
            res = knox_test(
                events,
                distance_bands_m=(0, 400),
                time_bands_days=(0, 42),
                n_permutations=99,
                seed=0,
            )
            times.append(time.perf_counter() - start)
        facts = {
            "events": res.n_events,
            "space_time_pairs": int(res.observed.iat[0, 0]),
            "p_value": float(res.p_value.iat[0, 0]),
        }
    elif case == "pointpats":
        from pointpats.spacetime import Knox

        _, xy, days = _chicago(pointpats_n)
        for _ in range(repeats):
            np.random.seed(0)  # pointpats draws from numpy's global random state
            start = time.perf_counter()
            knox = Knox(xy, days.reshape(-1, 1), delta=400, tau=42, permutations=99)
            times.append(time.perf_counter() - start)
        facts = {"events": len(xy), "space_time_pairs": int(knox.nst), "p_value": float(knox.p_sim)}
    else:  # pragma: no cover - argparse limits the choices
        raise SystemExit(f"unknown case {case}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    return {
        "case": case,
        "times_s": times,
        "median_s": statistics.median(times),
        "peak_rss_mb": round(peak_mb, 1),
        **facts,
    }


def _child(
    case: str,
    repeats: int,
    pointpats_n: int,
    timeout_s: float,
    *,
    extra: tuple[str, ...] = (),
    src: Path | None = None,
) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--case",
        case,
        "--repeats",
        str(repeats),
        "--pointpats-n",
        str(pointpats_n),
        *extra,
    ]
    env = dict(os.environ)
    if src is not None:  # run the same case on other code (e.g. the previous commit's src/)
        env["PYTHONPATH"] = str(src.resolve())
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, cwd=REPO, timeout=timeout_s, check=False, env=env
        )
    except subprocess.TimeoutExpired:
        return {"case": case, "error": f"did not finish within {timeout_s:.0f} s"}
    if done.returncode != 0:
        return {"case": case, "error": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _row(r: dict, label: str) -> str:
    if "error" in r:
        return f"| {label} | - | - | - | {r['error']} |"
    times = ", ".join(f"{t:.2f}" for t in r["times_s"])
    pairs = r.get("close_pairs", r.get("space_time_pairs", ""))
    return f"| {label} | {r['median_s']:.2f} | {times} | {r['peak_rss_mb']:.0f} | {pairs:,} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--case", choices=["chicago", "chicago_exact", "synthetic", "pointpats", "ours_single"]
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--pointpats-n",
        type=int,
        default=10_000,
        help="Chicago events used for the pointpats comparison.",
    )
    parser.add_argument("--timeout-s", type=float, default=1800)
    parser.add_argument("--engine", choices=["numba", "numpy"], help="counting engine (a case)")
    parser.add_argument("--workers", type=int, default=0, help="threads (0: every core)")
    parser.add_argument(
        "--engines",
        action="store_true",
        help="compare the counting engines on Chicago and append to results/knox.md",
    )
    parser.add_argument(
        "--baseline-src", type=Path, help="src/ of the code to compare with (--engines)"
    )
    parser.add_argument(
        "--function-level",
        action="store_true",
        help="knox_test vs its compiled Monte-Carlo loop on Chicago; appended to knox.md",
    )
    parser.add_argument(
        "--whole",
        action="store_true",
        help="hotspots knox whole command vs benchmarks/knox_sketch.py; appended to knox.md",
    )
    args = parser.parse_args()
    if args.case:
        print(
            json.dumps(
                run_case(args.case, args.repeats, args.pointpats_n, args.engine, args.workers)
            )
        )
        return
    if args.engines:
        engines(args)
        return
    if args.whole:
        whole(args)
        return
    if args.function_level:
        function_level(args)
        return
    if not (REPO / CHICAGO).exists():
        raise SystemExit(f"{CHICAGO} not found (needs ../shared/data beside the repository)")
    load_before = os.getloadavg()[0]
    results = {}
    for case in ("chicago", "chicago_exact", "synthetic", "ours_single", "pointpats"):
        reps = 1 if case == "pointpats" else args.repeats
        results[case] = _child(case, reps, args.pointpats_n, args.timeout_s)
        print(json.dumps(results[case]), file=sys.stderr)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    ).stdout.strip()
    chi, syn, ours, pp = (results[k] for k in ("chicago", "synthetic", "ours_single", "pointpats"))
    lines = [
        "# Knox test benchmark",
        "",
        f"Run {datetime.now(UTC).replace(microsecond=0).isoformat()} on {platform.platform()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, numpy {np.__version__}, "
        f"commit {commit}. Command: `.venv/bin/python benchmarks/bench_knox.py --repeats "
        f"{args.repeats} --pointpats-n {args.pointpats_n}`.",
        f"Load average (1 min) before/after: {load_before:.1f} / {os.getloadavg()[0]:.1f} "
        "(other work on the machine slows the timings).",
        "Each case runs in its own process; time is wall-clock for `knox_test` (pair search, "
        "observed table, all permutations) after the data is loaded; peak RSS is the whole "
        "process (Python, libraries and data included).",
        "",
        "| case | median s | runs s | peak RSS MB | pairs |",
        "|---|---|---|---|---|",
        _row(chi, "Chicago 22,127 burglaries, default bands, 999 permutations (target < 10 s)"),
        _row(results["chicago_exact"], "Same, with a random time of day (exact times, seconds)"),
        _row(syn, "Synthetic 100,000 events, default bands, 99 permutations"),
        _row(ours, f"hotspots, first {args.pointpats_n:,} Chicago events, 400 m / 42 d, 99 perm."),
        _row(pp, f"pointpats Knox, same {args.pointpats_n:,} events, 400 m / 42 d, 99 perm."),
        "",
        "Pairs: pairs within the largest distance band (Chicago, synthetic) or space-time "
        "pairs within 400 m and 42 days (single-threshold cases).",
    ]
    if "error" not in chi:
        verdict = "met" if chi["median_s"] < 10 else "NOT met"
        lines += [
            "",
            f"Chicago target (< 10 s): {verdict}; Knox ratio at [0,100] m x [0,7] days "
            f"= {chi['ratio_0_100m_0_7d']}.",
            f"Recommendation: {chi['recommendation']}",
        ]
    if "error" not in ours and "error" not in pp:
        same = ours["space_time_pairs"] == pp["space_time_pairs"]
        lines += [
            "",
            f"pointpats / hotspots time ratio: {pp['median_s'] / ours['median_s']:.0f}x "
            f"(space-time pair counts {'agree' if same else 'DIFFER'}: "
            f"{ours['space_time_pairs']:,} vs {pp['space_time_pairs']:,}; p-values "
            f"{ours['p_value']:.3f} vs {pp['p_value']:.3f}, different random streams).",
        ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


KNOX_COMMAND = (
    "-m", "hotspots", "knox", str(CHICAGO), "--x-col", "x", "--y-col", "y",
    "--crs", "EPSG:26971", "--working-crs", "EPSG:26971", "--time-col", "date_single",
    "--time-format", "%d/%m/%Y", "--offence", "Burglary",
)  # fmt: skip


def _timed_child(argv: list[str], env: dict[str, str] | None = None) -> dict:
    """Wall and CPU seconds (user + system) of one fresh process, with the 1-minute load."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, cwd=REPO, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rss = after.ru_maxrss / 1024
    return {"wall_s": wall, "cpu_s": cpu, "load_1min": os.getloadavg()[0], "rss_mb": rss}


def whole(args: argparse.Namespace) -> None:
    """`hotspots knox` whole command vs benchmarks/knox_sketch.py, alternated, medians."""
    import tempfile

    import pandas as pd

    load_before = os.getloadavg()
    runs: dict[str, list[dict]] = {"sketch": [], "hotspots knox": []}
    with tempfile.TemporaryDirectory(prefix="knox-whole-") as tmp:
        sketch = [sys.executable, "benchmarks/knox_sketch.py", str(CHICAGO), "--out", tmp + "/s"]
        ours = [sys.executable, *KNOX_COMMAND, "--out", tmp + "/k"]
        for k in range(args.repeats):
            pair = [("sketch", sketch), ("hotspots knox", ours)]
            for name, argv in pair if k % 2 == 0 else pair[::-1]:
                runs[name].append(_timed_child(argv))
                print(name, runs[name][-1], file=sys.stderr)
        a = pd.read_csv(tmp + "/s/knox_sketch.csv")
        b = pd.read_csv(tmp + "/k/knox.csv", encoding="utf-8-sig")
        same = bool((a["observed"].to_numpy() == b["observed"].to_numpy()).all())
        outputs = sorted(p.name for p in Path(tmp, "k").iterdir())
    load_after = os.getloadavg()
    med = {n: statistics.median(r["wall_s"] for r in rs) for n, rs in runs.items()}
    cpu = {n: statistics.median(r["cpu_s"] for r in rs) for n, rs in runs.items()}
    lines = [
        "",
        f"## Whole command vs a plain numpy sketch, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "Chicago 22,127 residential burglaries 2016-17, 4x6 bands (0-400 m by 100, 0-42 days "
        "by 7), 999 permutations. `hotspots knox` whole command (interpreter start, imports, "
        "ingest with validation and rejected rows, the pooled test and one per year, "
        f"{', '.join(outputs)}) against `benchmarks/knox_sketch.py` (pandas read_csv, scipy "
        "cKDTree.query_pairs, a numpy permutation loop with bincount; the same table, no "
        "per-year tests, one CSV), each a fresh process, alternated (order swapped every "
        f"run), medians of {args.repeats}. Both in the file's CRS (EPSG:26971, "
        "`--working-crs EPSG:26971`). Load average (1, 5, 15 min) before "
        f"{', '.join(f'{v:.1f}' for v in load_before)}, after "
        f"{', '.join(f'{v:.1f}' for v in load_after)} on {os.cpu_count()} CPUs. Command: "
        "`flock /tmp/hotspots-bench.lock .venv/bin/python benchmarks/bench_knox.py --whole "
        f"--repeats {args.repeats}`.",
        "",
        "| code | median s (wall) | median CPU s | runs s (wall) | load per run | "
        "wall / sketch | CPU / sketch |",
        "|---|---:|---:|---|---|---:|---:|",
    ]
    for name, rs in runs.items():
        walls = ", ".join(f"{r['wall_s']:.2f}" for r in rs)
        loads = ", ".join(f"{r['load_1min']:.1f}" for r in rs)
        lines.append(
            f"| {name} | {med[name]:.2f} | {cpu[name]:.2f} | {walls} | {loads} | "
            f"{med[name] / med['sketch']:.2f} | {cpu[name] / cpu['sketch']:.2f} |"
        )
    verdict = "met" if med["hotspots knox"] <= 0.6 * med["sketch"] else "NOT met"
    lines += [
        "",
        f"Observed pair counts {'identical' if same else 'DIFFER'} between the two. "
        f"Target (whole command at most 0.6 of the sketch, wall): {verdict} "
        f"({med['hotspots knox'] / med['sketch']:.2f}).",
    ]
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def function_level(args: argparse.Namespace) -> None:
    """knox_test on Chicago against its compiled Monte-Carlo loop alone, same process."""
    from hotspots.nearrepeat import knox as knox_module
    from hotspots.nearrepeat import knox_test

    events, _, _ = _chicago()
    knox_test(events.iloc[:50], n_permutations=9, engine="numba")  # numba cache load
    captured: dict = {}
    original = knox_module._permutation_counts

    def spy(count, ticks, pairs, **kw):  # noqa: ANN001, ANN003, ANN202 - a test double
        captured.update(count=count, ticks=ticks, pairs=pairs, kw=kw)
        return original(count, ticks, pairs, **kw)

    knox_module._permutation_counts = spy
    knox_test(events, n_permutations=999, seed=0, engine="numba")
    knox_module._permutation_counts = original
    load_before = os.getloadavg()
    full, loop = [], []
    for _ in range(args.repeats):  # alternated
        start = time.perf_counter()
        knox_test(events, n_permutations=999, seed=0, engine="numba")
        full.append(time.perf_counter() - start)
        start = time.perf_counter()
        original(captured["count"], captured["ticks"], captured["pairs"], **captured["kw"])
        loop.append(time.perf_counter() - start)
    load_after = os.getloadavg()
    ratio = statistics.median(full) / statistics.median(loop)
    lines = [
        "",
        "## Function level: knox_test vs its compiled loop, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "Chicago 22,127 burglaries, 4x6 bands, 999 permutations, numba engine on every core, in "
        "one warm process, alternated. `knox_test` is the whole function (checks, times to "
        "ticks, k-d tree pair search, bands, observed table, permutations, summaries); the "
        "compiled loop is its Monte Carlo alone (each permutation's seeded shuffle and the "
        "fused numba count, in the same thread pool). Load average (1, 5, 15 min) before "
        f"{', '.join(f'{v:.1f}' for v in load_before)}, after "
        f"{', '.join(f'{v:.1f}' for v in load_after)}. Command: `flock /tmp/hotspots-bench.lock "
        f".venv/bin/python benchmarks/bench_knox.py --function-level --repeats {args.repeats}`.",
        "",
        "| code | median s | runs s |",
        "|---|---:|---|",
        f"| knox_test | {statistics.median(full):.3f} | {', '.join(f'{t:.3f}' for t in full)} |",
        f"| compiled loop alone | {statistics.median(loop):.3f} | "
        f"{', '.join(f'{t:.3f}' for t in loop)} |",
        "",
        f"knox_test / compiled loop: {ratio:.2f} (target at most 1.3: "
        f"{'met' if ratio <= 1.3 else 'NOT met'}).",
    ]
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def engines(args: argparse.Namespace) -> None:
    """Chicago, 999 permutations, 4x6 bands: baseline vs the numpy and numba engines."""
    load_before = os.getloadavg()
    runs: list[tuple[str, dict]] = []
    if args.baseline_src is not None:
        runs.append(
            (
                f"baseline code ({args.baseline_src}), numpy, one stream",
                _child("chicago", args.repeats, 0, args.timeout_s, src=args.baseline_src),
            )
        )
    for label, extra in [
        ("numpy engine, 1 worker", ("--engine", "numpy", "--workers", "1")),
        ("numpy engine, every core", ("--engine", "numpy")),
        ("numba engine, 1 worker", ("--engine", "numba", "--workers", "1")),
        ("numba engine, every core", ("--engine", "numba")),
    ]:
        runs.append((label, _child("chicago", args.repeats, 0, args.timeout_s, extra=extra)))
    for label, r in runs:
        print(label, json.dumps({k: v for k, v in r.items() if k != "p_values"}), file=sys.stderr)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
    ).stdout.strip()
    load_after = os.getloadavg()
    lines = [
        "",
        f"## Counting engines, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC (commit {commit})",
        "",
        f"Chicago 22,127 burglaries 2016-17, 4x6 bands (0-400 m by 100, 0-42 days by 7), 999 "
        f"permutations, `knox_test` wall time (pair search, observed table and permutations; "
        f"numba's compile or cache load done before timing), median of {args.repeats}, each "
        f"row in its own process. {os.cpu_count()} CPUs; load average (1, 5, 15 min) "
        f"before {', '.join(f'{v:.1f}' for v in load_before)}, after "
        f"{', '.join(f'{v:.1f}' for v in load_after)} (other engineers' jobs share the "
        f"cores). Command: `.venv/bin/python benchmarks/bench_knox.py --engines"
        f"{' --baseline-src ' + str(args.baseline_src) if args.baseline_src else ''}`.",
        "",
        "| code | median s | runs s | peak RSS MB | vs first row |",
        "|---|---:|---|---:|---:|",
    ]
    base = next((r["median_s"] for _, r in runs if "error" not in r), None)
    for label, r in runs:
        if "error" in r:
            lines.append(f"| {label} | - | - | - | {r['error']} |")
            continue
        times = ", ".join(f"{t:.2f}" for t in r["times_s"])
        ratio = f"{base / r['median_s']:.2f}x" if base else "-"
        lines.append(
            f"| {label} | {r['median_s']:.2f} | {times} | {r['peak_rss_mb']:.0f} | {ratio} |"
        )
    new = [r for label, r in runs if "engine" in label and "error" not in r]
    if new:
        same = all(r["p_values"] == new[0]["p_values"] for r in new)
        counts = all(
            r["observed_sum"] == new[0]["observed_sum"] for _, r in runs if "error" not in r
        )
        lines += [
            "",
            f"Observed tables {'identical' if counts else 'DIFFER'} across all rows; p-values "
            f"{'identical' if same else 'DIFFER'} across the engine rows (the baseline draws "
            f"one stream for all permutations, the engines one stream per permutation, so its "
            f"p-values differ by Monte Carlo noise only).",
        ]
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
