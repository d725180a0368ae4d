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
``--work`` and reused. Pass ``--keep`` to leave the pages there for screenshots.
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


def build_page(dataset: str, work: Path, seed: int) -> dict[str, Any]:
    """Write ``work/map-<dataset>.html`` as the bench_matrix map cell does; return facts."""
    import geopandas as gpd

    from hotspots.cocoon import AddressIndex, cocoon_zones
    from hotspots.outputs import build_provenance
    from hotspots.outputs.maps import build_map, write_map
    from hotspots.pipeline import default_as_of
    from hotspots.spots import find_spots

    parquet = work / f"{dataset}.parquet"
    if not parquet.exists():
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100k,1m", help=f"comma-separated of {list(SIZES)}")
    parser.add_argument("--work", type=Path, default=Path("/tmp/hotspots-bench-maps"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--label", default="", help="a name for this run (e.g. before/after)")
    parser.add_argument("--json", type=Path, help="append one JSON line per size here")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
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
