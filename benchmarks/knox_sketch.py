"""A plain numpy Knox table, the yardstick for ``hotspots knox`` (issue 15).

What an analyst would write in an afternoon with pandas, scipy and numpy: read the CSV,
find close pairs with ``scipy.spatial.cKDTree.query_pairs``, put each pair in a distance x
time band, then shuffle the dates among the events 999 times and recount with
``np.bincount``. The same table as ``hotspots knox`` with its defaults: distance bands
0-400 m by 100 (first band closed at 0), time bands 0-42 days by 7, p = (k + 1) / (n + 1).
Writes knox_sketch.csv (one row per cell: observed, expected, ratio, p) into ``--out``.

    .venv/bin/python benchmarks/knox_sketch.py \
        ../shared/data/exact_dated/chicago/chicago_residential_burglary_2016_2017.csv.gz \
        --out /tmp/knox-sketch
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

D_EDGES_M = np.array([0.0, 100.0, 200.0, 300.0, 400.0])
T_EDGES_DAYS = np.array([0, 7, 14, 21, 28, 35, 42])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    frame = pd.read_csv(args.csv, usecols=["x", "y", "date_single"])
    frame = frame.dropna()
    days = (
        pd.to_datetime(frame["date_single"], format="%d/%m/%Y").to_numpy().astype("datetime64[D]")
    ).astype(np.int64)
    xy = frame[["x", "y"]].to_numpy(dtype=float)

    pairs = cKDTree(xy).query_pairs(D_EDGES_M[-1], output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    # whole micrometres, as hotspots compares them (float noise never moves a pair a band)
    dist = np.rint(np.hypot(*(xy[i] - xy[j]).T) * 1e6).astype(np.int64)
    d_band = np.searchsorted(np.rint(D_EDGES_M * 1e6), dist, side="left") - 1  # (lo, hi]
    d_band[dist == 0] = 0  # the first band includes 0
    n_d, n_t = len(D_EDGES_M) - 1, len(T_EDGES_DAYS) - 1

    def table(t: np.ndarray) -> np.ndarray:
        gap = np.abs(t[i] - t[j])
        t_band = np.searchsorted(T_EDGES_DAYS, gap, side="left") - 1
        t_band[gap == 0] = 0
        keep = (t_band >= 0) & (t_band < n_t)
        return np.bincount(d_band[keep] * n_t + t_band[keep], minlength=n_d * n_t)

    observed = table(days)
    rng = np.random.default_rng(args.seed)
    sims = np.empty((args.permutations, n_d * n_t), dtype=np.int64)
    for k in range(args.permutations):
        sims[k] = table(rng.permutation(days))
    expected = sims.mean(axis=0)
    p = ((sims >= observed).sum(axis=0) + 1) / (args.permutations + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = observed / expected
    cells = pd.DataFrame(
        {
            "d_lo_m": np.repeat(D_EDGES_M[:-1], n_t),
            "d_hi_m": np.repeat(D_EDGES_M[1:], n_t),
            "t_lo_days": np.tile(T_EDGES_DAYS[:-1], n_d),
            "t_hi_days": np.tile(T_EDGES_DAYS[1:], n_d),
            "observed": observed,
            "expected": expected,
            "knox_ratio": ratio,
            "p_value": p,
        }
    )
    args.out.mkdir(parents=True, exist_ok=True)
    cells.to_csv(args.out / "knox_sketch.csv", index=False)
    print(f"{len(xy):,} events, {len(i):,} pairs within {D_EDGES_M[-1]:g} m")


if __name__ == "__main__":
    main()
