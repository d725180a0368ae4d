"""Benchmark: the whole weekly run (ingest -> spots -> Knox -> cocoons -> map) and the backtest.

Cases (each repeat runs in a fresh child process, so peak memory is per run):

* ``synthetic-10k``, ``synthetic-100k``, ``synthetic-1m`` - seeded synthetic county
  (British National Grid, 40 towns, all 14 police.uk categories, exact UTC timestamps over
  two years, ~3% dwelling burglaries with near-repeat follow-ons), written once as a GeoParquet
  file in the canonical schema and read back by ingest like any input;
* ``essex-2025`` - the police.uk Essex year (month dates, ``--month-dates mid``);
* ``chicago-burglary`` - Chicago residential burglaries 2016-2017 (day dates);
* ``evaluate-essex`` / ``evaluate-chicago`` - ``hotspots.evaluate.backtest`` monthly on
  Essex (6 periods) and weekly on Chicago (26 periods), all methods;
* ``reference-gistar`` - our Gi* (``hotspots.spots.gi_star_grid``) against esda
  ``G_Local(star=True)`` on a 300 x 300 lattice, analytic and 99 permutations;
* ``reference-dbscan`` - our harm-weighted DBSCAN against scikit-learn DBSCAN called
  directly (same weights; adjusted Rand of the labels) and HDBSCAN, on Essex serious
  violence (the Knox/pointpats comparison lives in ``bench_knox.py``).

Stage times come from the progress events the pipeline reports: the time between two
events goes to the task named by the later one, and "cocoons, map, lists, package" is the time
after the last stage event. Writes ``benchmarks/results/pipeline.md``.

    .venv/bin/python benchmarks/bench_pipeline.py [--repeat 3] [--cases synthetic-10k,...]
    .venv/bin/python benchmarks/bench_pipeline.py --quick      # 10k synthetic + small backtest
    # the README's Essex weekly command, whole process, this code against a baseline src/
    # (alternated, medians), every output file compared byte for byte; appended to pipeline.md
    flock /tmp/hotspots-bench.lock .venv/bin/python benchmarks/bench_pipeline.py \
        --paired-essex /tmp/baseline/src --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
ESSEX = DATA / "police_uk" / "essex_2025"
CHICAGO = DATA / "exact_dated" / "chicago" / "chicago_residential_burglary_2016_2017.csv.gz"
CHICAGO_OPTIONS = {
    "x_col": "x",
    "y_col": "y",
    "crs": "EPSG:26971",
    "time_col": "date_single",
    "time_format": "%d/%m/%Y",
    "offence": "Burglary",
}
ALL_CASES = (
    "synthetic-10k",
    "synthetic-100k",
    "synthetic-1m",
    "essex-2025",
    "chicago-burglary",
    "evaluate-essex",
    "evaluate-chicago",
    "reference-gistar",
    "reference-dbscan",
)
QUICK_CASES = ("synthetic-10k", "evaluate-quick")
SIZES = {"synthetic-10k": 10_000, "synthetic-100k": 100_000, "synthetic-1m": 1_000_000}

CATEGORIES = {  # share of incidents, police.uk wording
    "Violence and sexual offences": 0.36,
    "Anti-social behaviour": 0.12,
    "Shoplifting": 0.09,
    "Criminal damage and arson": 0.08,
    "Public order": 0.07,
    "Vehicle crime": 0.07,
    "Other theft": 0.06,
    "Drugs": 0.03,
    "Burglary": 0.03,
    "Other crime": 0.03,
    "Possession of weapons": 0.02,
    "Robbery": 0.015,
    "Bicycle theft": 0.01,
    "Theft from the person": 0.015,
}
# UTC keeps the synthetic sets' figures free of clock changes. (The weekly run itself
# handles them: an expiry that lands in the skipped hour moves to its end, one in the
# repeated hour takes the first; tests/test_cocoon_zones.py::test_expiry_in_*_clock_hour,
# and a weekly run on such exact times in Europe/London was checked on 2026-12-01.)
SYNTHETIC_TZ = "UTC"
END = pd.Timestamp("2025-12-31 23:00", tz=SYNTHETIC_TZ)


def synthetic_incidents(n: int, *, seed: int = 0) -> Any:
    """Seeded synthetic county in EPSG:27700 with the canonical incident columns."""
    import geopandas as gpd

    from hotspots.schema import (
        DWELLING_BURGLARY,
        INCIDENT_ID,
        OCCURRED_AT,
        OFFENCE,
        TIME_RESOLUTION,
    )

    rng = np.random.default_rng(seed)
    names = np.array(list(CATEGORIES))
    share = np.array(list(CATEGORIES.values()))
    offence = names[rng.choice(len(names), n, p=share / share.sum())]
    centres = np.array([520_000.0, 200_000.0]) + rng.uniform(0, 60_000, (40, 2))
    spread = rng.uniform(300, 2_500, 40)
    town = rng.integers(0, 40, n)
    xy = centres[town] + rng.normal(size=(n, 2)) * spread[town, None]
    rural = rng.random(n) < 0.15
    xy[rural] = np.array([520_000.0, 200_000.0]) + rng.uniform(0, 60_000, (rural.sum(), 2))
    seconds = rng.uniform(0, 730 * 86_400, n)
    # near-repeat burglaries: 30% of burglaries follow another within 400 m and 42 days
    burg = np.flatnonzero(offence == "Burglary")
    follow = burg[rng.random(burg.size) < 0.3]
    if burg.size > 1 and follow.size:
        src = rng.choice(burg, follow.size)
        xy[follow] = xy[src] + rng.normal(scale=150, size=(follow.size, 2))
        seconds[follow] = np.minimum(
            seconds[src] + rng.uniform(0, 42 * 86_400, follow.size), 730 * 86_400 - 1
        )
    when = END - pd.to_timedelta(seconds.round(), unit="s")
    return gpd.GeoDataFrame(
        {
            INCIDENT_ID: [f"S{i:07d}" for i in range(n)],
            OCCURRED_AT: when,
            OFFENCE: offence,
            DWELLING_BURGLARY: offence == "Burglary",
            TIME_RESOLUTION: "exact",
        },
        geometry=gpd.points_from_xy(xy[:, 0].round(1), xy[:, 1].round(1)),
        crs=27700,
    )


def _stage_times(events: list[tuple[float, str]], t0: float, t_end: float) -> dict[str, float]:
    """Seconds per progress task: each gap between events goes to the task reported next."""
    out: dict[str, float] = {}
    previous = t0
    for t, task in events:
        if task == "done":
            break
        out[task] = out.get(task, 0.0) + (t - previous)
        previous = t
    out["cocoons, map, lists, package"] = t_end - previous
    return out


def run_case(case: str, work: Path, seed: int) -> dict[str, Any]:
    """Run one case in this process; returns seconds, stage times and facts."""

    events: list[tuple[float, str]] = []

    def progress(task: str, done: int, total: int | None) -> None:
        events.append((time.perf_counter(), task))

    facts: dict[str, Any] = {}
    if case.startswith("evaluate"):
        return run_evaluate_case(case, work, seed)
    if case.startswith("reference"):
        return run_reference_case(case, seed)
    from hotspots.pipeline import WeeklySettings, run_weekly

    if case in SIZES:
        path = work / f"{case}.parquet"
        if not path.exists():
            synthetic_incidents(SIZES[case], seed=seed).to_parquet(path)
        inputs = [str(path)]
        settings = WeeklySettings.from_mapping(
            {"seed": seed, "knox_permutations": 99, "tiles": False, "tz": SYNTHETIC_TZ}
        )
        facts["rows"] = SIZES[case]
    elif case == "essex-2025":
        inputs = [str(ESSEX)]
        settings = WeeklySettings.from_mapping({"seed": seed, "month_dates": "mid", "tiles": False})
        facts["rows"] = "158,217 (police.uk)"
    elif case == "chicago-burglary":
        inputs = [str(CHICAGO)]
        settings = WeeklySettings.from_mapping(
            {"seed": seed, "tiles": False, "offences": ("Burglary",), **CHICAGO_OPTIONS}
        )
        facts["rows"] = "22,127"
    else:
        msg = f"unknown case {case!r}; choose from {ALL_CASES}"
        raise SystemExit(msg)
    t0 = time.perf_counter()
    result = run_weekly(inputs, out=work / f"out-{case}", settings=settings, progress=progress)
    t1 = time.perf_counter()
    facts["files"] = len(result.files)
    return {"seconds": t1 - t0, "stages": _stage_times(events, t0, t1), "facts": facts}


def run_evaluate_case(case: str, work: Path, seed: int) -> dict[str, Any]:
    """Backtest timing: ingest and weighting excluded, all methods."""
    from hotspots.config import IngestOptions
    from hotspots.evaluate import METHODS, backtest
    from hotspots.harm import apply_harm, load_harm_table

    if case == "evaluate-quick":
        incidents = synthetic_incidents(10_000, seed=seed)
        kwargs: dict[str, Any] = {"period": "week", "start": "2025-06-02", "end": "2025-08-01"}
    else:
        from hotspots.ingest import read_incidents

        if case == "evaluate-essex":
            incidents = read_incidents([str(ESSEX)]).incidents
            kwargs = {
                "period": "month",
                "lookback_days": 182,
                "start": "2025-07-01",
                "offences": [
                    "Violence and sexual offences",
                    "Robbery",
                    "Possession of weapons",
                    "Drugs",
                ],
            }
        else:
            incidents = read_incidents([str(CHICAGO)], IngestOptions(**CHICAGO_OPTIONS)).incidents
            kwargs = {"period": "week", "start": "2017-01-02", "end": "2017-07-01"}
    weighted = apply_harm(incidents, load_harm_table())
    kwargs.setdefault("offences", None)  # every offence (evaluate's default is serious violence)
    t0 = time.perf_counter()
    result = backtest(weighted, methods=METHODS, seed=seed, **kwargs)
    t1 = time.perf_counter()
    return {
        "seconds": t1 - t0,
        "stages": {},
        "facts": {
            "rows": len(weighted),
            "periods": len(result.periods),
            "cells": result.study["n_cells"],
            "methods": len(METHODS),
        },
    }


def _timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def run_reference_case(case: str, seed: int) -> dict[str, Any]:
    """Ours against the reference library on the same data, with the ratio of times."""
    import warnings

    warnings.simplefilter("ignore")
    if case == "reference-gistar":
        import esda
        import libpysal

        from hotspots.spots import gi_star_grid

        side = 300  # 90,000 cells of a seeded Poisson lattice
        rng = np.random.default_rng(seed)
        values = rng.poisson(rng.gamma(0.3, 3.0, side * side)).astype(float)
        iy, ix = np.divmod(np.arange(side * side), side)
        ours_s, ours = _timed(lambda: gi_star_grid(ix, iy, values, permutations=99, seed=seed))
        ours0_s, ours0 = _timed(lambda: gi_star_grid(ix, iy, values, permutations=0))
        w_s, w = _timed(lambda: libpysal.weights.lat2W(side, side, rook=False))
        ref0_s, ref0 = _timed(
            lambda: esda.G_Local(values, w, transform="B", star=True, permutations=0)
        )
        ref_s, _ = _timed(
            lambda: esda.G_Local(values, w, transform="B", star=True, permutations=99, seed=seed)
        )
        order = np.lexsort((ours0.ix, ours0.iy))
        diff = float(np.max(np.abs(ours0.z[order] - ref0.Zs)))
        del ours
        return {
            "seconds": ours_s,
            "stages": {},
            "facts": {
                "cells": side * side,
                "ours 99 perm s": round(ours_s, 2),
                "esda G_Local 99 perm s": round(ref_s, 2),
                "ratio esda/ours (99 perm)": round(ref_s / ours_s, 1),
                "ours analytic s": round(ours0_s, 3),
                "esda analytic s (+ lat2W)": f"{ref0_s:.2f} (+{w_s:.2f})",
                "ratio esda/ours (analytic; weights excluded)": round(ref0_s / ours0_s, 1),
                "max abs z difference": f"{diff:.1e}",
            },
        }
    if case == "reference-dbscan":
        from sklearn.cluster import DBSCAN, HDBSCAN
        from sklearn.metrics import adjusted_rand_score

        from hotspots.harm import apply_harm, load_harm_table
        from hotspots.ingest import read_incidents
        from hotspots.spots import SERIOUS_VIOLENCE, HarmSpotClusterer

        incidents = apply_harm(read_incidents([str(ESSEX)]).incidents, load_harm_table())
        sv = incidents[incidents["offence"].isin(SERIOUS_VIOLENCE)]
        xy = sv.get_coordinates().to_numpy()
        harm = sv["harm"].to_numpy(dtype=float)
        # defaults: snap merge, wide clusters split, polygons (what find_spots runs)
        ours_s, _ = _timed(lambda: HarmSpotClusterer(eps_m=150, min_harm=2000).fit(sv))
        # exact merge only, no split: must give scikit-learn's clusters exactly
        exact = HarmSpotClusterer(eps_m=150, min_harm=2000, snap_m=0, max_width_m=1e12)
        exact_s, labels = _timed(lambda: exact.fit(sv).labels_)
        ref_s, ref = _timed(
            lambda: DBSCAN(eps=150, min_samples=2000).fit(xy, sample_weight=harm).labels_
        )
        h_s, h = _timed(lambda: HDBSCAN(min_cluster_size=50).fit(xy).labels_)
        return {
            "seconds": ours_s,
            "stages": {},
            "facts": {
                "points": len(xy),
                "ours default (snap, split, polygons) s": round(ours_s, 2),
                "ours exact (no snap, no split) s": round(exact_s, 2),
                "sklearn DBSCAN direct s": round(ref_s, 2),
                "ratio sklearn/ours default": round(ref_s / ours_s, 1),
                "ratio sklearn/ours exact": round(ref_s / exact_s, 1),
                "ours exact = sklearn (adjusted Rand)": round(adjusted_rand_score(ref, labels), 4),
                "sklearn HDBSCAN(min_cluster_size=50) s": round(h_s, 2),
                "HDBSCAN clusters": int(h.max() + 1),
            },
        }
    msg = f"unknown reference case {case!r}"
    raise SystemExit(msg)


def child(case: str, work: Path, seed: int) -> None:
    """Entry point of a child process: print one JSON line."""
    try:
        out = run_case(case, work, seed)
        out["ok"] = True
    except Exception as exc:  # noqa: BLE001 - a failed case is reported, not fatal
        out = {
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}".splitlines()[0][:300],
            "trace": traceback.format_exc()[-2000:],
        }
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("RESULT " + json.dumps(out, default=str))


def run_in_child(case: str, work: Path, seed: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", case, "--work", str(work), "--seed", str(seed)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    return {
        "ok": False,
        "error": f"child exited {proc.returncode}: {proc.stderr[-300:]}",
        "peak_rss_mb": float("nan"),
    }


ESSEX_WEEKLY = (
    "-m", "hotspots", "weekly", "../shared/data/police_uk/essex_2025",
    "--areas", "../shared/data/boundaries/essex_lad2013.geojson", "--area-field", "LAD13NM",
    "--addresses", "../shared/data/addresses/essex_postcode_units_codepoint_open_2014.csv.gz",
    "--quiet",
)  # fmt: skip


_STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)")


def _outputs_differ(a: Path, b: Path) -> list[str]:
    """Files under ``a`` and ``b`` that differ byte for byte (or exist in one only).

    The run's own folder name and its run-at time stamps (UTC ISO) are blanked first: they
    differ between any two runs. The run lock file is skipped.
    """
    names = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    names |= {p.relative_to(b) for p in b.rglob("*") if p.is_file()}

    def norm(path: Path, root: Path) -> bytes:
        return _STAMP.sub(b"TIME", path.read_bytes().replace(str(root).encode(), b"OUT"))

    return sorted(
        str(n)
        for n in names
        if n.name != ".hotspots.lock"
        and (not ((a / n).is_file() and (b / n).is_file()) or norm(a / n, a) != norm(b / n, b))
    )


def paired_essex(baseline_src: Path, repeat: int, out_md: Path) -> None:
    """This code vs ``baseline_src`` on the Essex weekly command, alternated, medians."""
    codes = {"baseline": str(baseline_src.resolve()), "this branch": str(REPO / "src")}
    runs: dict[str, list[dict[str, float]]] = {k: [] for k in codes}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="hotspots-essex-") as tmp:
        for k in range(repeat):
            order = list(codes) if k % 2 == 0 else list(codes)[::-1]
            for name in order:
                env = {**os.environ, "PYTHONPATH": codes[name]}
                out = Path(tmp) / f"{name[:4]}_{k}"  # same length: blanked when compared
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.perf_counter()
                subprocess.run(
                    [sys.executable, *ESSEX_WEEKLY, "--out", str(out)],
                    cwd=REPO, env=env, check=True, capture_output=True,
                )  # fmt: skip
                wall = time.perf_counter() - t0
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
                runs[name].append({"wall": wall, "cpu": cpu, "load": os.getloadavg()[0]})
                print(name, runs[name][-1], flush=True)
        first = {n: Path(tmp) / f"{n[:4]}_0" for n in codes}
        differ = _outputs_differ(first["baseline"], first["this branch"])
    load_after = os.getloadavg()
    med = {n: statistics.median(r["wall"] for r in rs) for n, rs in runs.items()}
    cpu = {n: statistics.median(r["cpu"] for r in rs) for n, rs in runs.items()}
    lines = [
        "",
        f"## Essex weekly, whole process, paired ({time.strftime('%Y-%m-%d %H:%M', time.gmtime())}"
        " UTC)",
        "",
        "The README's Essex weekly command (police.uk Essex 2025, 14 districts, Code-Point "
        "postcodes as addresses, `--quiet`), each run a fresh process, this branch and the "
        f"baseline (`{baseline_src}`) alternated (order swapped every run), medians of "
        f"{repeat}. Load average (1, 5, 15 min) before "
        f"{', '.join(f'{v:.1f}' for v in load_before)}, after "
        f"{', '.join(f'{v:.1f}' for v in load_after)} on {os.cpu_count()} CPUs. Command: "
        "`flock /tmp/hotspots-bench.lock .venv/bin/python benchmarks/bench_pipeline.py "
        f"--paired-essex {baseline_src} --repeat {repeat}`.",
        "",
        "| code | median s (wall) | median CPU s | runs s (wall) | load per run | "
        "this / baseline (wall) |",
        "|---|---:|---:|---|---|---:|",
    ]
    for name, rs in runs.items():
        walls = ", ".join(f"{r['wall']:.2f}" for r in rs)
        loads = ", ".join(f"{r['load']:.1f}" for r in rs)
        lines.append(
            f"| {name} | {med[name]:.2f} | {cpu[name]:.2f} | {walls} | {loads} | "
            f"{med[name] / med['baseline']:.2f} |"
        )
    lines += [
        "",
        "Outputs compared byte for byte (first run of each): "
        + ("all identical." if not differ else "differ: " + ", ".join(differ) + "."),
        f"Target (at most 5 s wall): {'met' if med['this branch'] <= 5 else 'NOT met'}.",
        "",
    ]
    with out_md.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (median reported)")
    parser.add_argument("--cases", default=",".join(ALL_CASES), help="comma-separated cases")
    parser.add_argument(
        "--quick", action="store_true", help="10k synthetic + a small backtest, 1 run"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "pipeline.md"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--paired-essex",
        type=Path,
        metavar="SRC",
        help="Essex weekly command, this code vs SRC (a checkout's src/), alternated",
    )
    args = parser.parse_args()
    if args.paired_essex:
        paired_essex(args.paired_essex, args.repeat, args.out)
        return
    if args.child:
        child(args.child, args.work, args.seed)
        return
    cases = QUICK_CASES if args.quick else tuple(c for c in args.cases.split(",") if c)
    repeat = 1 if args.quick else args.repeat
    lines = [
        "# Weekly pipeline and backtest benchmark",
        "",
        f"- command: `.venv/bin/python benchmarks/bench_pipeline.py --repeat {repeat} --cases "
        f"{','.join(cases)} --seed {args.seed}`",
        f"- machine: {platform.platform(terse=True)}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores",
        f"- median of {repeat} run(s), each in a fresh process; peak RSS is the largest run's",
        "- weekly run settings: defaults (150 m grid, 365-day look-back, serious violence, "
        "400 m / 42-day cocoons, no tiles); Knox 99 permutations on synthetic data, 999 otherwise",
        "",
        "| case | facts | median s | min s | peak RSS MB | stages (median s) |",
        "|---|---|---:|---:|---:|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="hotspots-bench-") as tmp:
        work = Path(tmp)
        for case in cases:
            runs = [run_in_child(case, work, args.seed) for _ in range(repeat)]
            ok = [r for r in runs if r.get("ok")]
            if not ok:
                lines.append(f"| {case} | failed: {runs[0].get('error', '?')} | - | - | - | - |")
                print(lines[-1], flush=True)
                continue
            secs = [r["seconds"] for r in ok]
            stage_names = list(ok[0]["stages"])
            stages = "; ".join(
                f"{k} {statistics.median(r['stages'].get(k, 0.0) for r in ok):.2f}"
                for k in stage_names
            )
            facts = ", ".join(
                f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}"
                for k, v in ok[0]["facts"].items()
            )
            peak = max(r["peak_rss_mb"] for r in ok)
            lines.append(
                f"| {case} | {facts} | {statistics.median(secs):.2f} | {min(secs):.2f} "
                f"| {peak:,.0f} | {stages or '-'} |"
            )
            print(lines[-1], flush=True)
    lines.append("")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
