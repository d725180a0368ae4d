"""Benchmark matrix: every stage of hotspots against every dataset, in one table.

Rows are stages (ingest, harm weighting, grid spots, DBSCAN spots, Gi* analytic, Gi* with
99 permutations, Knox, cocoon zones + visit lists, map writing, the whole weekly run);
columns are datasets: 10 thousand, 100 thousand and 1 million synthetic incidents (seeded,
the same generator as ``bench_pipeline.py``: 40 towns plus rural background, all 14
police.uk categories, exact UTC times over two years, ~3% dwelling burglaries with
near-repeat follow-ons), the police.uk Essex year and the Chicago residential burglaries.

Every (stage, dataset) cell runs in its own fresh process, so its peak resident set size
(``ru_maxrss``) is that cell's own and does not leak between rows. Each cell reads the
dataset's ingested, harm-weighted incidents from a GeoParquet file prepared once per
dataset (untimed), does any untimed set-up the stage needs, then times the stage through
the public API. Writes ``benchmarks/results/matrix.md``.

    .venv/bin/python benchmarks/bench_matrix.py            # full matrix (~10-15 min, 2 cores)
    .venv/bin/python benchmarks/bench_matrix.py --quick    # 10k synthetic + Essex only
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_pipeline import (  # noqa: E402 - the shared seeded generator and real-data paths
    CHICAGO,
    CHICAGO_OPTIONS,
    ESSEX,
    SYNTHETIC_TZ,
    synthetic_incidents,
)

REPO = HERE.parent
DATASETS = {  # name: (label, synthetic size or None)
    "10k": ("10k synthetic", 10_000),
    "100k": ("100k synthetic", 100_000),
    "1m": ("1M synthetic", 1_000_000),
    "essex": ("Essex 2025", None),
    "chicago": ("Chicago burglary", None),
}
STAGES = {
    "ingest": "ingest (`read_incidents`)",
    "harm": "harm weighting (`apply_harm`)",
    "grid": "grid spots",
    "dbscan": "DBSCAN spots",
    "gistar": "Gi* (analytic)",
    "gistar99": "Gi* (99 permutations)",
    "knox": "Knox test",
    "cocoon": "cocoon zones + visit lists",
    "map": "map writing",
    "weekly": "whole weekly run",
}
GISTAR99_DATASETS = ("10k", "100k", "1m", "essex", "chicago")
ADDRESSES_PER_BURGLARY = 20
RADIUS_M = 400.0
WINDOW_DAYS = 42


def knox_permutations(dataset: str) -> int:
    return 99 if dataset == "1m" else 999


def repeats_for(dataset: str, requested: int) -> int:
    return min(2, requested) if dataset == "1m" else requested


# ------------------------------------------------------------------ data preparation
def ingest_inputs(dataset: str, work: Path) -> tuple[list[str], Any]:
    """The input paths and IngestOptions that ingest reads for a dataset."""
    from hotspots.config import IngestOptions

    if dataset == "essex":
        return [str(ESSEX)], None
    if dataset == "chicago":
        return [str(CHICAGO)], IngestOptions(**CHICAGO_OPTIONS)
    return [str(work / f"{dataset}.csv")], IngestOptions(tz=SYNTHETIC_TZ)


def prepare(dataset: str, work: Path, seed: int) -> dict[str, Any]:
    """Write the synthetic CSV (once) and the ingested + weighted GeoParquet for a dataset."""
    from hotspots.harm import apply_harm, load_harm_table
    from hotspots.ingest import read_incidents
    from hotspots.schema import OCCURRED_AT

    size = DATASETS[dataset][1]
    if size is not None:
        frame = synthetic_incidents(size, seed=seed)
        xy = frame.get_coordinates()
        table = frame.drop(columns="geometry").assign(easting=xy["x"], northing=xy["y"])
        table[OCCURRED_AT] = table[OCCURRED_AT].dt.strftime("%Y-%m-%dT%H:%M:%S%z")
        table.to_csv(work / f"{dataset}.csv", index=False)
    inputs, options = ingest_inputs(dataset, work)
    incidents = read_incidents(inputs, options).incidents
    weighted = apply_harm(incidents, load_harm_table())
    weighted.to_parquet(work / f"{dataset}.parquet")
    return {"rows": len(weighted)}


def load(dataset: str, work: Path) -> Any:
    import geopandas as gpd

    return gpd.read_parquet(work / f"{dataset}.parquet")


def spot_offences(dataset: str) -> tuple[str, ...] | None:
    """Chicago holds only burglaries: rank those; elsewhere the serious-violence default."""
    from hotspots.spots import SERIOUS_VIOLENCE

    return ("Burglary",) if dataset == "chicago" else tuple(SERIOUS_VIOLENCE)


def month_dates(dataset: str) -> str | None:
    return "mid" if dataset == "essex" else None


def live_burglaries(weighted: Any, as_of: Any, dataset: str) -> tuple[Any, Any]:
    """All dwelling burglaries, and those in the cocoon window before ``as_of`` (Essex:
    the mid-month date stands for the month, as ``month_dates="mid"`` does)."""
    import pandas as pd

    from hotspots.schema import DWELLING_BURGLARY, OCCURRED_AT

    burglaries = weighted[weighted[DWELLING_BURGLARY].fillna(False).astype(bool)]
    when = burglaries[OCCURRED_AT]
    if dataset == "essex":  # month dates: the month's middle stands for the date
        when = when + pd.Timedelta(days=14)
    keep = (when > as_of - pd.Timedelta(days=WINDOW_DAYS)) & (when <= as_of)
    return burglaries, burglaries[keep.to_numpy()]


def address_layer(burglaries: Any, seed: int) -> Any:
    """Synthetic addresses: ``ADDRESSES_PER_BURGLARY`` points uniform within 400 m of each
    live burglary (so every zone has homes to visit), with street and postcode text."""
    import geopandas as gpd
    import pandas as pd

    from hotspots.schema import ADDRESS_ID, ADDRESS_TEXT, POSTCODE, STREET

    rng = np.random.default_rng(seed)
    centres = burglaries.get_coordinates().to_numpy()
    n = len(centres) * ADDRESSES_PER_BURGLARY
    angle = rng.uniform(0, 2 * np.pi, n)
    r = RADIUS_M * np.sqrt(rng.random(n))
    xy = np.repeat(centres, ADDRESSES_PER_BURGLARY, axis=0)
    xy = (xy + np.column_stack([r * np.cos(angle), r * np.sin(angle)])).round(1)
    street = (xy[:, 0] // 150).astype("int64") * 100_000 + (xy[:, 1] // 60).astype("int64")
    ids = np.arange(n)
    return gpd.GeoDataFrame(
        {
            ADDRESS_ID: pd.array([f"A{i:07d}" for i in ids], dtype="string"),
            ADDRESS_TEXT: pd.array(
                [f"{i % 200 + 1} Street {s}" for i, s in zip(ids, street, strict=True)]
            ),
            STREET: pd.array([f"Street {s}" for s in street], dtype="string"),
            POSTCODE: pd.array([f"SS{i % 99} {i % 9}AA" for i in ids], dtype="string"),
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=burglaries.crs,
    )


# ------------------------------------------------------------------ one cell
def run_cell(stage: str, dataset: str, work: Path, seed: int, repeats: int) -> dict[str, Any]:
    """Time one stage on one dataset in this (fresh) process."""
    from hotspots.pipeline import default_as_of

    facts: dict[str, Any] = {}
    if stage == "ingest":
        from hotspots.ingest import read_incidents

        inputs, options = ingest_inputs(dataset, work)
        read_incidents(inputs, options)  # warm-up: imports, pyproj tables, page cache

        def call() -> Any:
            return read_incidents(inputs, options)

        return _time(call, repeats, facts)
    weighted = load(dataset, work)
    as_of = default_as_of(weighted)
    if stage == "harm":
        from hotspots.harm import apply_harm, load_harm_table

        table = load_harm_table()
        raw = weighted.drop(columns=[c for c in ("harm",) if c in weighted.columns])
        return _time(lambda: apply_harm(raw, table), repeats, facts)
    if stage in ("grid", "dbscan", "gistar", "gistar99"):
        from hotspots.spots import find_spots

        method = "gistar" if stage.startswith("gistar") else stage
        perms = 99 if stage == "gistar99" else 0
        kwargs = {"method": method, "as_of": as_of, "seed": seed, "permutations": perms}
        kwargs["offences"] = spot_offences(dataset)

        def describe(result: Any) -> None:
            facts.update(
                spots=len(result.spots), window_incidents=int(result.summary["n_incidents_total"])
            )

        return _time(lambda: find_spots(weighted, **kwargs), repeats, facts, describe)
    if stage == "knox":
        from hotspots.nearrepeat import knox_test

        if dataset == "essex":
            return {"skipped": "month dates (Knox needs day or exact times)"}
        burglaries, _ = live_burglaries(weighted, as_of, dataset)
        perms = knox_permutations(dataset)
        facts.update(burglaries=len(burglaries), permutations=perms)
        return _time(lambda: knox_test(burglaries, n_permutations=perms, seed=seed), repeats, facts)
    if stage in ("cocoon", "map"):
        from hotspots.cocoon import AddressIndex, cocoon_zones, visit_lists

        _, live = live_burglaries(weighted, as_of, dataset)
        addresses = address_layer(live, seed)
        facts.update(live_burglaries=len(live), addresses=len(addresses))

        def zones_and_lists() -> Any:
            index = AddressIndex(addresses)
            zones = cocoon_zones(
                live, as_of=as_of, addresses=index, month_dates=month_dates(dataset)
            )
            return zones, visit_lists(zones, index)

        if stage == "cocoon":
            out = _time(zones_and_lists, repeats, facts)
            return out
        zones = zones_and_lists()[0]
        return run_map_cell(weighted, dataset, live, as_of, zones, repeats, facts)
    if stage == "weekly":
        from hotspots.config import IngestOptions
        from hotspots.pipeline import WeeklySettings, run_weekly

        inputs, options = ingest_inputs(dataset, work)
        settings = WeeklySettings.from_mapping(
            {
                "seed": seed,
                "tiles": False,
                "knox_permutations": knox_permutations(dataset),
                "month_dates": month_dates(dataset),
                "offences": ("Burglary",) if dataset == "chicago" else None,
                "ingest": vars(options or IngestOptions()),
            }
        )
        facts.update(knox_permutations=knox_permutations(dataset))
        out_dir = work / f"weekly-{dataset}"
        return _time(lambda: run_weekly(inputs, out=out_dir, settings=settings), repeats, facts)
    msg = f"unknown stage {stage!r}"
    raise SystemExit(msg)


def run_map_cell(
    weighted: Any, dataset: str, live: Any, as_of: Any, zones: Any, repeats: int, facts: dict
) -> dict[str, Any]:
    """build_map + write_map with the grid spots, harm surface, zones and live burglaries."""
    from hotspots.outputs import build_provenance
    from hotspots.outputs.maps import build_map, write_map
    from hotspots.spots import find_spots

    spots = find_spots(weighted, method="grid", as_of=as_of, offences=spot_offences(dataset))
    provenance = build_provenance(command="bench_matrix", parameters={"as_of": as_of}, inputs=[])
    with tempfile.TemporaryDirectory(prefix="hotspots-map-") as tmp:

        def call() -> Any:
            m = build_map(
                spots=spots.spots,
                dropped=spots.dropped,
                surface=spots.candidates,
                zones=zones,
                burglaries=live,
                title="bench_matrix",
                as_of=as_of,
                provenance=provenance,
                tiles=False,
            )
            return write_map(m, Path(tmp) / "map.html")

        out = _time(call, repeats, facts)
        facts["map_MB"] = round((Path(tmp) / "map.html").stat().st_size / 1e6, 1)
        facts["surface_cells"] = len(spots.candidates)
    return out


def _time(fn: Any, repeats: int, facts: dict[str, Any], describe: Any = None) -> dict[str, Any]:
    walls, cpus = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    if describe is not None:
        describe(result)
    return {"walls": walls, "cpus": cpus, "facts": facts}


def child(stage: str, dataset: str, work: Path, seed: int, repeats: int) -> None:
    """Entry point of a child process: print one JSON line."""
    try:
        if stage == "prepare":
            out = {"facts": prepare(dataset, work, seed)}
        else:
            out = run_cell(stage, dataset, work, seed, repeats)
        out["ok"] = True
    except Exception as exc:  # noqa: BLE001 - a failed cell is reported, not fatal
        out = {
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}".splitlines()[0][:200],
            "trace": traceback.format_exc()[-2000:],
        }
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    out["load"] = os.getloadavg()[0]
    print("RESULT " + json.dumps(out, default=str), flush=True)


def run_in_child(
    stage: str, dataset: str, work: Path, seed: int, repeats: int, timeout_s: float
) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", stage, "--dataset", dataset]
    cmd += ["--work", str(work), "--seed", str(seed), "--repeat", str(repeats)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, check=False, cwd=REPO, timeout=timeout_s
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "timeout": True, "error": f"timed out after {timeout_s:.0f} s"}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            out = json.loads(line[len("RESULT ") :])
            out["process_s"] = time.perf_counter() - t0
            return out
    return {"ok": False, "error": f"child exited {proc.returncode}: {proc.stderr[-200:]}"}


# ------------------------------------------------------------------ report
def cell_text(r: dict[str, Any] | None) -> str:
    if r is None:
        return "not run"
    if r.get("skipped"):
        return f"n/a ({r['skipped']})"
    if r.get("timeout"):
        return f"**TIMEOUT** ({r['error']})"
    if not r.get("ok"):
        return f"**FAILED**: {r.get('error', '?')}"
    wall = statistics.median(r["walls"])
    cpu = statistics.median(r["cpus"])
    n = len(r["walls"])
    digits = 3 if wall < 0.1 else 2
    rss, load = r["peak_rss_mb"], r["load"]
    return f"{wall:.{digits}f} s (cpu {cpu:.{digits}f}; {rss:,.0f} MB; n={n}; load {load:.1f})"


def machine_lines() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
    ).stdout.strip()
    return [
        f"- run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {cpu}, {os.cpu_count()} cores, "
        f"{platform.platform(terse=True)}, Python {platform.python_version()}, commit {commit}",
    ]


def report(
    results: dict[tuple[str, str], dict], datasets: list[str], args: Any, total_s: float
) -> str:
    stages = list(STAGES)
    lines = [
        "# Benchmark matrix: every stage on every dataset",
        "",
        f"- command: `.venv/bin/python benchmarks/bench_matrix.py{' --quick' if args.quick else ''}"
        f" --repeat {args.repeat} --seed {args.seed}` (total {total_s:.0f} s)",
        *machine_lines(),
        f"- each cell: median wall seconds of n timed runs (n={args.repeat} on the small sets, "
        "2 on 1M), median CPU seconds (user+system of the process, all threads), peak RSS MB "
        "of the fresh process that ran the cell (the data it loaded included) and the 1-minute "
        "load average when the cell finished (2 cores; above ~2 other work was competing, so "
        "wall times are pessimistic and CPU times the better guide)",
        "- ingest reads the input files with `hotspots.ingest.read_incidents` (synthetic sets: a "
        "CSV with ISO 8601 times and easting/northing, written once; Essex: the 12 police.uk "
        "files; Chicago: the csv.gz with EPSG:26971 x/y and day dates), after one untimed "
        "warm-up read; every other stage starts from the ingested, harm-weighted incidents",
        "- spots: `find_spots` defaults (150 m grid / 150 m DBSCAN eps, 365-day look-back, "
        "serious violence, top 20; Chicago holds only burglaries, so it ranks burglary); "
        "Gi* analytic (`permutations=0`) "
        "everywhere and with 99 permutations as a separate row. With 99 permutations no "
        "cell's pseudo p-value can go below 0.01, which the false-discovery-rate cut "
        "(alpha 0.05 over thousands of cells) never passes, so that row finds no spots on "
        "any dataset (see facts): it measures the cost, and shows why the weekly run "
        "defaults to the analytic Gi*",
        "- Knox: `knox_test` on all dwelling burglaries, default bands (0-400 m x 0-42 d), "
        "999 permutations, **99 at 1M**; Essex is month-dated, so Knox does not apply",
        f"- cocoon: `AddressIndex` + `cocoon_zones` + `visit_lists` (400 m, 42 days) on the "
        f"live burglaries against a synthetic address layer of {ADDRESSES_PER_BURGLARY} "
        "addresses per live burglary, uniform within 400 m of it (counts below)",
        "- map writing: `build_map` + `write_map` (no tiles) with the grid spots, the harm "
        "surface, the cocoon zones and the live burglaries",
        "- whole weekly run: `hotspots.pipeline.run_weekly` from the input files (ingest "
        "included; no address layer, no tiles; Knox 999 permutations, 99 at 1M; Chicago "
        "ranks burglary spots); its runs share one process, so only the first pays the "
        "lazy imports (the median of 3 is a warm run; the 1M median of 2 averages a cold "
        "and a warm run)",
        "",
        "| stage | " + " | ".join(DATASETS[d][0] for d in datasets) + " |",
        "|---|" + "---|" * len(datasets),
    ]
    for stage in stages:
        cells = [cell_text(results.get((stage, d))) for d in datasets]
        lines.append(f"| {STAGES[stage]} | " + " | ".join(cells) + " |")
    lines += ["", "Facts per cell:", ""]
    for d in datasets:
        prep = results.get(("prepare", d), {})
        rows = prep.get("facts", {}).get("rows")
        lines.append(f"- {DATASETS[d][0]}: {rows:,} incidents after ingest" if rows else "")
        for stage in stages:
            r = results.get((stage, d))
            if r and r.get("ok") and r.get("facts"):
                facts = ", ".join(
                    f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}"
                    for k, v in r["facts"].items()
                )
                lines.append(f"  - {stage}: {facts}")
    lines.append("")
    return "\n".join(line for line in lines if line is not None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k synthetic + Essex only")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per cell (1M: 1)")
    parser.add_argument("--datasets", help=f"comma-separated subset of {list(DATASETS)}")
    parser.add_argument("--stages", help=f"comma-separated subset of {list(STAGES)}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout-s", type=float, default=240.0, help="limit per cell")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "matrix.md")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dataset", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.dataset, args.work, args.seed, args.repeat)
        return
    datasets = ["10k", "essex"] if args.quick else list(DATASETS)
    if args.datasets:
        datasets = [d for d in args.datasets.split(",") if d]
    stages = [s for s in args.stages.split(",") if s] if args.stages else list(STAGES)
    results: dict[tuple[str, str], dict] = {}
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hotspots-matrix-") as tmp:
        work = Path(tmp)
        for d in datasets:
            results[("prepare", d)] = prep = run_in_child(
                "prepare", d, work, args.seed, 1, args.timeout_s * 2
            )
            print(f"{d} prepare: {prep.get('facts') or prep.get('error')}", flush=True)
            if not prep.get("ok"):
                continue
            for s in stages:
                if s == "gistar99" and d not in GISTAR99_DATASETS:
                    continue
                r = run_in_child(s, d, work, args.seed, repeats_for(d, args.repeat), args.timeout_s)
                results[(s, d)] = r
                print(f"{d} {s}: {cell_text(r)}", flush=True)
                if not r.get("ok") and r.get("trace"):
                    print(r["trace"], file=sys.stderr)
    text = report(results, datasets, args, time.perf_counter() - t_start)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
