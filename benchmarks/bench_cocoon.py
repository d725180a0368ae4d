"""Benchmark: cocoon zones and visit lists for 10,000 burglaries against 1 million addresses.

Synthetic county (60 km x 60 km, British National Grid): 80% of the addresses in 25 towns
(Gaussian, 0.8-3 km spread), 20% scattered; each burglary happens at a random address
(seeded), all within the 42 days before ``as_of``. Times the median of ``--repeats`` runs
of each stage and records the peak resident memory; writes ``benchmarks/results/cocoon.md``.

    .venv/bin/python benchmarks/bench_cocoon.py [--burglaries 10000] [--addresses 1000000]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots.cocoon import AddressIndex, cocoon_zones, street_summary, team_lists, visit_lists
from hotspots.schema import (
    ADDRESS_ID,
    ADDRESS_TEXT,
    DWELLING_BURGLARY,
    INCIDENT_ID,
    OCCURRED_AT,
    OFFENCE,
    OFFENCE_CODE,
    POSTCODE,
    STREET,
    TIME_RESOLUTION,
)

AS_OF = pd.Timestamp("2025-12-31 23:59:59", tz="Europe/London")
ORIGIN = np.array([540_000.0, 180_000.0])
SIDE_M = 60_000.0


def synthetic_addresses(n: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    n_town = int(n * 0.8)
    centres = ORIGIN + rng.uniform(5_000, SIDE_M - 5_000, (25, 2))
    spread = rng.uniform(800, 3_000, 25)
    which = rng.integers(0, 25, n_town)
    town = centres[which] + rng.normal(size=(n_town, 2)) * spread[which, None]
    rural = ORIGIN + rng.uniform(0, SIDE_M, (n - n_town, 2))
    xy = np.vstack([town, rural]).round(1)
    # a street is a 150 m x 60 m strip: neighbours share streets, as on a real map
    cell = np.floor(xy[:, 0] / 150.0).astype("int64") * 100_000 + np.floor(xy[:, 1] / 60.0).astype(
        "int64"
    )
    street_codes, _ = pd.factorize(cell)
    streets = np.array([f"Street {i}" for i in range(street_codes.max() + 1)], dtype=object)
    return gpd.GeoDataFrame(
        {
            ADDRESS_ID: pd.array([f"U{i:07d}" for i in range(n)], dtype="string"),
            ADDRESS_TEXT: pd.array(
                [f"{i % 200 + 1} Street {i % 5_000}" for i in range(n)], dtype="string"
            ),
            STREET: pd.array(streets[street_codes], dtype="string"),
            POSTCODE: pd.array([f"SS{i % 99} {i % 9}AA" for i in range(n)], dtype="string"),
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=27700,
    )


def synthetic_burglaries(
    addresses: gpd.GeoDataFrame, n: int, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    at = rng.choice(len(addresses), n, replace=False)
    xy = addresses.get_coordinates().to_numpy()[at] + rng.normal(scale=3.0, size=(n, 2))
    seconds = rng.uniform(0, 41.9 * 86_400, n)
    when = AS_OF - pd.to_timedelta(seconds, unit="s")
    return gpd.GeoDataFrame(
        {
            INCIDENT_ID: [f"B{i}" for i in range(n)],
            OCCURRED_AT: when,
            OFFENCE: "Burglary",
            OFFENCE_CODE: "28A",
            DWELLING_BURGLARY: True,
            TIME_RESOLUTION: "exact",
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=27700,
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burglaries", type=int, default=10_000)
    parser.add_argument("--addresses", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "cocoon.md")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    addresses = synthetic_addresses(args.addresses, rng)
    burglaries = synthetic_burglaries(addresses, args.burglaries, rng)

    stages: dict[str, list[float]] = {
        "index": [],
        "zones": [],
        "visit lists": [],
        "team + street lists": [],
        "total": [],
    }
    rows = homes = 0
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        index = AddressIndex(addresses)
        t1 = time.perf_counter()
        zones = cocoon_zones(burglaries, as_of=AS_OF, addresses=index)
        t2 = time.perf_counter()
        visits = visit_lists(zones, index)
        t3 = time.perf_counter()
        teams = team_lists(visits)
        streets = street_summary(visits)
        t4 = time.perf_counter()
        for key, value in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0), strict=True):
            stages[key].append(value)
        rows, homes = len(visits), int(zones["n_homes"].sum())
        assert rows == homes, (rows, homes)  # every address within the radius is listed
        del teams, streets

    medians = {k: statistics.median(v) for k, v in stages.items()}
    lines = [
        "# Cocoon zones and visit lists benchmark",
        "",
        f"- command: `.venv/bin/python benchmarks/bench_cocoon.py --burglaries {args.burglaries}"
        f" --addresses {args.addresses} --repeats {args.repeats} --seed {args.seed}`",
        f"- machine: {platform.platform(terse=True)}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores",
        f"- data: {args.burglaries:,} live dwelling burglaries, {args.addresses:,} synthetic "
        f"address points (80% in 25 towns), 400 m zones",
        f"- visit-list rows: {rows:,} (= sum of n_homes; {rows / args.burglaries:,.0f} per zone)",
        f"- peak RSS: {peak_rss_mb():,.0f} MB; 1-minute load average at the end: "
        f"{os.getloadavg()[0]:.1f} (other processes share the 2 cores)",
        f"- median of {args.repeats} runs; target: zones + lists < 30 s on 2 cores",
        "",
        "| stage | median s |",
        "|---|---:|",
        *[f"| {k} | {v:.2f} |" for k, v in medians.items()],
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
