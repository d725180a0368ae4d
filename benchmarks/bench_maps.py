"""Map size and render time: the analyst map at 100k, 1M (and 6M) synthetic incidents.

Builds the map exactly as ``bench_matrix.py``'s map cell does (grid spots, dropped spots,
the harm surface, cocoon zones and the live burglaries; no tiles, Leaflet inlined), writes
it, and opens it in headless Chromium (Playwright, ``/usr/bin/chromium``). The render time
is ``performance.now()`` at the second animation frame after the ``load`` event: every
layer script has run and the first frame with the layers has been painted. Each page is
opened in a fresh browser context ``--repeat`` times; the median is reported with the
JS heap in use and the 1-minute load average.

    flock /tmp/hotspots-bench.lock timeout 1200 .venv/bin/python benchmarks/bench_maps.py \
        --sizes 100k,1m --out benchmarks/results/maps.md --label after

The data (the seeded synthetic generator of ``bench_pipeline.py``) is prepared once in
``--work`` and reused; the pages stay there for screenshots.

``--writers SRC_BEFORE`` instead times the file writers in the README's Essex weekly run
(police.uk 2025, LAD areas, Code-Point Open addresses): each run is a fresh process whose
``write_csv``/``write_geojson``/``write_geopackage`` and ``write_cocoon_lists`` are wrapped
to sum their CPU and wall seconds (outermost calls only); runs alternate between
``SRC_BEFORE`` and this tree's ``src`` (``--repeat`` pairs), so both share the machine.

    flock /tmp/hotspots-bench.lock timeout 1200 .venv/bin/python benchmarks/bench_maps.py \
        --writers /tmp/main-src/src --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_matrix import address_layer, live_burglaries, prepare, spot_offences  # noqa: E402

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000, "6m": 6_000_000}
CHROMIUM = "/usr/bin/chromium"


def prepare_large(size: int, parquet: Path, seed: int) -> None:
    """Ingested, harm-weighted synthetic incidents (``bench_pipeline``'s generator) at ``size``."""
    from bench_pipeline import SYNTHETIC_TZ, synthetic_incidents

    from hotspots.config import IngestOptions
    from hotspots.harm import apply_harm, load_harm_table
    from hotspots.ingest import read_incidents

    raw = parquet.with_suffix(".raw.parquet")
    synthetic_incidents(size, seed=seed).to_parquet(raw)
    incidents = read_incidents([str(raw)], IngestOptions(tz=SYNTHETIC_TZ)).incidents
    apply_harm(incidents, load_harm_table()).to_parquet(parquet)
    raw.unlink()


def build_page(dataset: str, work: Path, seed: int) -> dict[str, Any]:
    """Write ``work/map-<dataset>.html`` as the bench_matrix map cell does; return facts."""
    import geopandas as gpd

    from hotspots.cocoon import AddressIndex, cocoon_zones
    from hotspots.outputs import build_provenance
    from hotspots.outputs.maps import build_map, write_map
    from hotspots.pipeline import default_as_of
    from hotspots.spots import find_spots

    parquet = work / f"{dataset}.parquet"
    if not parquet.exists() and dataset == "6m":  # bench_matrix has no 6M set: same generator
        prepare_large(SIZES[dataset], parquet, seed)
    elif not parquet.exists():
        prepare(dataset, work, seed)
    weighted = gpd.read_parquet(parquet)
    as_of = default_as_of(weighted)
    _, live = live_burglaries(weighted, as_of, dataset)
    index = AddressIndex(address_layer(live, seed))
    zones = cocoon_zones(live, as_of=as_of, addresses=index)
    spots = find_spots(weighted, method="grid", as_of=as_of, offences=spot_offences(dataset))
    provenance = build_provenance(command="bench_maps", parameters={"as_of": as_of}, inputs=[])
    path = work / f"map-{dataset}.html"
    t0, c0 = time.perf_counter(), time.process_time()
    m = build_map(
        spots=spots.spots,
        dropped=spots.dropped,
        surface=spots.candidates,
        zones=zones,
        burglaries=live,
        title="bench_maps",
        as_of=as_of,
        provenance=provenance,
        tiles=False,
    )
    write_map(m, path)
    return {
        "path": str(path),
        "incidents": len(weighted),
        "zones": len(zones),
        "burglaries": len(live),
        "surface_cells": len(spots.candidates),
        "write_s": time.perf_counter() - t0,
        "write_cpu_s": time.process_time() - c0,
        "MB": path.stat().st_size / 1e6,
    }


_FRAME = (
    "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => "
    "r({ms: performance.now(), heap: performance.memory ? "
    "performance.memory.usedJSHeapSize : null}))))"
)


def render(path: Path, repeats: int) -> dict[str, Any]:
    """Median ms from navigation start to the second frame after ``load``, and JS heap MB."""
    from playwright.sync_api import sync_playwright

    times, heaps = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--enable-precise-memory-info"])
        for _ in range(repeats):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto(path.as_uri(), wait_until="load", timeout=120_000)
            got = page.evaluate(_FRAME)
            times.append(got["ms"] / 1000.0)
            heaps.append((got["heap"] or 0) / 1e6)
            context.close()
        browser.close()
    return {"render_s": statistics.median(times), "renders": times, "heap_MB": max(heaps)}


REPO = HERE.parent
ESSEX_WEEKLY = {
    "inputs": [str(REPO.parent / "shared/data/police_uk/essex_2025")],
    "areas": str(REPO.parent / "shared/data/boundaries/essex_lad2013.geojson"),
    "area_field": "LAD13NM",
    "addresses": str(
        REPO.parent / "shared/data/addresses/essex_postcode_units_codepoint_open_2014.csv.gz"
    ),
}
WRITERS = {  # module: the writers in it that are timed
    "hotspots.outputs.files": ("write_csv", "write_geojson", "write_geopackage"),
    "hotspots.outputs.lists": ("write_cocoon_lists",),
}


def writer_child(out: Path) -> dict[str, Any]:
    """One Essex weekly run with the writers wrapped; their summed seconds."""
    import importlib

    from hotspots.pipeline import WeeklySettings, run_weekly

    spent = {name: [0.0, 0.0, 0] for names in WRITERS.values() for name in names}
    depth = [0]

    def wrap(name: str, fn: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            depth[0] += 1
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    spent[name][0] += time.perf_counter() - t0
                    spent[name][1] += time.process_time() - c0
                    spent[name][2] += 1

        return timed

    for module_name, names in WRITERS.items():
        home = importlib.import_module(module_name)
        for name in names:
            original = getattr(home, name)
            wrapped = wrap(name, original)
            for module in list(sys.modules.values()):  # every module that imported it
                if getattr(module, name, None) is original:
                    setattr(module, name, wrapped)
    settings = WeeklySettings.from_mapping(
        {k: v for k, v in ESSEX_WEEKLY.items() if k != "inputs"} | {"tiles": False}
    )
    t0, c0 = time.perf_counter(), time.process_time()
    run_weekly(ESSEX_WEEKLY["inputs"], out=out, settings=settings)
    return {
        "run_s": time.perf_counter() - t0,
        "run_cpu_s": time.process_time() - c0,
        "write_s": sum(v[0] for v in spent.values()),
        "write_cpu_s": sum(v[1] for v in spent.values()),
        "by_writer": spent,
        "load": os.getloadavg()[0],
    }


def writers_paired(before_src: str, repeats: int, work: Path, label_json: Path | None) -> None:
    import subprocess

    after_src = str(REPO / "src")
    for i in range(repeats):
        for side, src in (("before", before_src), ("after", after_src)):
            env = dict(os.environ, PYTHONPATH=src)
            cmd = [sys.executable, __file__, "--writer-child", str(work / f"w-{side}-{i}")]
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
            got = json.loads(proc.stdout.strip().splitlines()[-1])
            got.update(side=side, pair=i)
            line = json.dumps(got)
            print(line, flush=True)
            if label_json:
                with label_json.open("a", encoding="utf-8") as handle:
                    handle.write(line + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100k,1m", help=f"comma-separated of {list(SIZES)}")
    parser.add_argument("--work", type=Path, default=Path("/tmp/hotspots-bench-maps"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--label", default="", help="a name for this run (e.g. before/after)")
    parser.add_argument("--json", type=Path, help="append one JSON line per size here")
    parser.add_argument("--writers", metavar="SRC_BEFORE", help="time the writers, paired")
    parser.add_argument("--writer-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.writer_child:
        print(json.dumps(writer_child(args.writer_child)))
        return
    if args.writers:
        writers_paired(args.writers, args.repeat, args.work, args.json)
        return
    for name in args.sizes.split(","):
        facts = build_page(name, args.work, args.seed)
        facts.update(render(Path(facts["path"]), args.repeat))
        facts.update(size=name, label=args.label, load=os.getloadavg()[0])
        line = json.dumps(facts, default=str)
        print(line, flush=True)
        if args.json:
            with args.json.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")


if __name__ == "__main__":
    main()
