"""The Knox test for near-repeat victimisation, fast and with honest band labels.

Knox (1964) counted pairs of events close in both space and time and compared the count
with what chance gives when the times are shuffled among the events. Johnson and Bowers
(2004) and Townsley, Homel and Chaseling (2003) used a table of distance x time bands to
show that burglary risk is raised near a burgled home for a few weeks (near repeats).

How the counting works here:

* Bands are closed on the right and the first band includes its lower edge:
  ``[0, 100], (100, 200], ...`` metres and ``[0, 7], (7, 14], ...`` days. Pairs beyond
  the last edge (or below the first) are not counted.
* ``same_location_m = D`` gives pairs at distance ``<= D`` their own band ``[0, D]``; the
  first ordinary band then starts just above ``D``.
* Distances are compared with the edges in whole micrometres (float noise never moves a
  pair across an edge). Time differences come from the timestamps: for ``exact`` data
  as elapsed seconds (UTC, rounded to the second), for ``day`` data as whole calendar days
  between the local dates (so a clock change never makes 7 days into 7 days and 1 hour).
* Pairs are unordered; close pairs are found once through a k-d tree, and the Monte Carlo
  permutes event times among the events and recounts over those fixed pairs. Permutation
  ``k`` draws from its own stream, ``default_rng(SeedSequence(seed, spawn_key=(k,)))``, so
  blocks of permutations can be counted on every core and the result never depends on
  the number of workers. The counting is a fused compiled loop when the optional numba is
  installed (``pip install 'hotspots[fast]'``), else vectorised numpy: the same counts.
* ``expected`` is the mean of the permutation counts, ``knox_ratio = observed/expected``,
  ``knox_ratio_median = observed/median`` (NaN where the denominator is 0) and
  ``p = (number of permutations with count >= observed + 1) / (n_permutations + 1)``.

References: Knox, E. G. (1964) The detection of space-time interactions, *Applied
Statistics* 13(1); Johnson, S. D. and Bowers, K. J. (2004) The burglary as clue to the
future, *European Journal of Criminology* 1(2); Ratcliffe, J. H. (2009) Near Repeat
Calculator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots._progress import Progress, report
from hotspots._validate import (
    check_choice,
    check_increasing,
    check_positive,
    check_whole,
    have_numba,
    require_columns,
    require_metric_crs,
    worker_count,
)
from hotspots.config import DISTANCE_BANDS_M, KNOX_PERMUTATIONS, TIME_BANDS_DAYS
from hotspots.errors import InputError, OptionError, SchemaError, TimeResolutionError
from hotspots.nearrepeat._kernel import count_numpy, numba_counter
from hotspots.nearrepeat.pairs import METRICS, Metric, close_pairs, distance_ticks
from hotspots.schema import OCCURRED_AT, RESOLUTION_DAYS, TIME_RESOLUTION, TIME_RESOLUTIONS

__all__ = [
    "ENGINES",
    "FRAME_COLUMNS",
    "Engine",
    "KnoxResult",
    "cocoon_settings_from_knox",
    "knox_by_year",
    "knox_test",
    "per_year_text",
    "permutation_stream",
]

FRAME_COLUMNS: tuple[str, ...] = (
    "d_lo_m",
    "d_hi_m",
    "t_lo_days",
    "t_hi_days",
    "observed",
    "expected",
    "knox_ratio",
    "knox_ratio_median",
    "p_value",
)
_SECONDS_PER_DAY = 86_400
_BLOCK = 32  # permutations per work unit (and between progress reports)
_BLOCK_TICKS = 16_000_000  # at most this many permuted times (8 bytes each) per work unit
# numba pays for its import (about 0.5 s) above this many pair x permutation counts
_NUMBA_MIN_WORK = 100_000_000
Engine = Literal["auto", "numba", "numpy"]
ENGINES: tuple[str, ...] = get_args(Engine)


def _fmt(value: float) -> str:
    return f"{value:g}"


def _finite(value: float) -> float | None:
    """``value`` as a float, or None when it is NaN/inf (JSON has no NaN)."""
    number = float(value)
    return number if np.isfinite(number) else None


def _floor_note(p: float, n_permutations: int) -> str:
    """Say when a p-value is the smallest the permutations can give."""
    floor = 1.0 / (n_permutations + 1)
    if abs(p - floor) < 1e-12:
        return f", the smallest possible with {n_permutations} permutations"
    return f" from {n_permutations} permutations"


def _label(lo: float, hi: float, *, closed_left: bool, unit: str) -> str:
    return f"{'[' if closed_left else '('}{_fmt(lo)}, {_fmt(hi)}] {unit}"


@dataclass(frozen=True)
class KnoxResult:
    """Knox table of a point pattern: counts, expectations and p-values per band cell.

    Every table has one row per distance band (index labels such as ``"(100, 200] m"``)
    and one column per time band (``"[0, 7] days"``, ``"(7, 14] days"``...).

    Attributes
    ----------
    distance_bands_m, time_bands_days
        Band edges as given (metres, days).
    same_location_m
        Upper edge of the separate same-location band, or None.
    observed, expected, p_value, knox_ratio, knox_ratio_median
        The tables; expected is the mean over permutations.
    n_events
        Events tested.
    n_pairs_in_range
        Pairs inside both the distance and the time range (the sum of ``observed``).
    n_close_pairs
        Pairs inside the distance range whatever their time gap (the pairs permuted over).
    n_permutations, seed, metric, time_resolution
        How the test ran.
    engine
        Counting kernel used, ``"numba"`` or ``"numpy"`` (same counts either way).
    """

    distance_bands_m: tuple[float, ...]
    time_bands_days: tuple[float, ...]
    same_location_m: float | None
    observed: pd.DataFrame
    expected: pd.DataFrame
    p_value: pd.DataFrame
    knox_ratio: pd.DataFrame
    knox_ratio_median: pd.DataFrame
    n_events: int
    n_pairs_in_range: int
    n_permutations: int
    seed: int
    metric: str
    time_resolution: str
    engine: str = "numpy"
    n_close_pairs: int = 0
    distance_edges: tuple[tuple[float, float], ...] = field(default=(), repr=False)
    time_edges: tuple[tuple[float, float], ...] = field(default=(), repr=False)
    first_event: pd.Timestamp | None = None
    last_event: pd.Timestamp | None = None

    @property
    def span_days(self) -> float:
        """Days between the first and the last event (0 when unknown)."""
        if self.first_event is None or self.last_event is None:
            return 0.0
        return (self.last_event - self.first_event) / pd.Timedelta(days=1)

    @property
    def pooled_over_years(self) -> bool:
        """True when the events span more than a year: the result pools the years."""
        return self.span_days > 366

    def to_frame(self) -> pd.DataFrame:
        """One row per cell, distance-major, with the columns of ``FRAME_COLUMNS``."""
        rows = []
        for r, (d_lo, d_hi) in enumerate(self.distance_edges):
            for c, (t_lo, t_hi) in enumerate(self.time_edges):
                rows.append(
                    (
                        d_lo,
                        d_hi,
                        t_lo,
                        t_hi,
                        int(self.observed.iat[r, c]),
                        float(self.expected.iat[r, c]),
                        float(self.knox_ratio.iat[r, c]),
                        float(self.knox_ratio_median.iat[r, c]),
                        float(self.p_value.iat[r, c]),
                    )
                )
        frame = pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
        return frame.astype({"observed": "int64"})

    def significant(self, *, alpha: float = 0.05, min_ratio: float = 1.2) -> pd.DataFrame:
        """Boolean table: p < ``alpha`` and Knox ratio >= ``min_ratio``."""
        return (self.p_value < alpha) & (self.knox_ratio >= min_ratio)

    def recommendation(self, *, alpha: float = 0.05, min_ratio: float = 1.2) -> dict[str, Any]:
        """Recommended cocoon radius and window, with a plain-language summary.

        The radius is the upper edge of the furthest ordinary distance band such that every
        band from the first one out to it is significant (p < ``alpha`` and ratio >=
        ``min_ratio``) in the first time band; the window is the upper edge of the longest
        such run of time bands in the first ordinary distance band. Both are None when the
        first cell (nearest, soonest) is not significant. A same-location band (repeat
        victimisation) is reported separately and is not part of the run.

        Returns
        -------
        dict
            ``radius_m`` and ``window_days`` (or None), ``text`` (plain-language summary),
            ``knox_ratio_nearest`` and ``p_value_nearest`` (first ordinary cell),
            ``n_significant_cells``, ``alpha`` and ``min_ratio``.
        """
        sig = self.significant(alpha=alpha, min_ratio=min_ratio).to_numpy()
        first = 1 if self.same_location_m is not None else 0
        out: dict[str, Any] = {
            "alpha": alpha,
            "min_ratio": min_ratio,
            "radius_m": None,
            "window_days": None,
            "n_significant_cells": int(sig.sum()),
            "knox_ratio_nearest": _finite(self.knox_ratio.iat[first, 0]),
            "p_value_nearest": _finite(self.p_value.iat[first, 0]),
        }
        runs_d = 0
        while first + runs_d < sig.shape[0] and sig[first + runs_d, 0]:
            runs_d += 1
        runs_t = 0
        while runs_t < sig.shape[1] and sig[first, runs_t]:
            runs_t += 1
        if first < sig.shape[0] and sig[first, 0]:
            radius = self.distance_edges[first + runs_d - 1][1]
            window = self.time_edges[runs_t - 1][1]
            ratio = float(self.knox_ratio.iat[first, 0])
            p = float(self.p_value.iat[first, 0])
            widest_d = first + runs_d == sig.shape[0]
            widest_t = runs_t == sig.shape[1]
            out.update(
                radius_m=radius,
                window_days=window,
                radius_at_widest_band=widest_d,
                window_at_widest_band=widest_t,
            )
            reach_d = (
                f"at least {_fmt(radius)} m (the widest band tested)"
                if widest_d
                else f"{_fmt(radius)} m"
            )
            reach_t = (
                f"at least {_fmt(window)} days (the widest band tested)"
                if widest_t
                else f"{_fmt(window)} days"
            )
            text = (
                f"Near-repeat pattern found in {self.n_events:,} events: pairs within "
                f"{_fmt(self.distance_edges[first][1])} m and "
                f"{_fmt(self.time_edges[0][1])} days of each other happen {ratio:.2f} times as "
                f"often as chance predicts (p = {p:.3g}{_floor_note(p, self.n_permutations)}). "
                f"The raised risk reaches {reach_d} and lasts {reach_t}: "
                f"recommended cocoon radius {_fmt(radius)} m, window {_fmt(window)} days."
            )
            if widest_d or widest_t:
                text += " Test wider bands to see where the raised risk ends."
        else:
            out.update(radius_at_widest_band=False, window_at_widest_band=False)
            text = (
                f"No near-repeat pattern at the nearest, soonest band in {self.n_events:,} "
                f"events: pairs within {_fmt(self.distance_edges[first][1])} m and "
                f"{_fmt(self.time_edges[0][1])} days are not clearly more common than chance "
                f"(needs p < {alpha:g} and Knox ratio >= {min_ratio:g}). The test gives no "
                f"local support for a cocoon radius or window; keep the policy default and "
                f"re-test with more data."
            )
        out["pooled_over_years"] = self.pooled_over_years
        if self.pooled_over_years:
            years = f"{self.first_event:%Y-%m-%d} to {self.last_event:%Y-%m-%d}"
            text += (
                f" The events span {self.span_days / 365.25:.1f} years ({years}): this result "
                f"is pooled over years, and the pattern can differ from year to year; see the "
                f"per-year figures (knox_by_year)."
            )
        if self.same_location_m is not None:
            r0 = float(self.knox_ratio.iat[0, 0])
            p0 = float(self.p_value.iat[0, 0])
            text += (
                f" Same-location repeats (within {_fmt(self.same_location_m)} m, first "
                f"{_fmt(self.time_edges[0][1])} days): Knox ratio {r0:.2f}, p = {p0:.3g}."
            )
        out["text"] = text
        return out


def _resolution(incidents: gpd.GeoDataFrame, times: pd.Series, given: str | None) -> str:
    if given is not None:
        return check_choice(given, TIME_RESOLUTIONS, name="time_resolution")
    if TIME_RESOLUTION in incidents.columns:
        values = incidents[TIME_RESOLUTION]
        bad = sorted({str(v) for v in values.dropna().unique()} - set(TIME_RESOLUTIONS))
        if bad or values.isna().any():
            msg = (
                f"incidents column {TIME_RESOLUTION!r} must hold one of {TIME_RESOLUTIONS} on "
                f"every row; found {bad or ['<missing>']}. Fix the column or pass "
                f"time_resolution=."
            )
            raise SchemaError(msg)
        return max({str(v) for v in values.unique()}, key=RESOLUTION_DAYS.__getitem__)
    # no column: timestamps all at local midnight are taken as day dates (the cautious reading)
    local = times.dt.tz_localize(None)
    return "day" if bool((local == local.dt.normalize()).all()) else "exact"


def _time_ticks(times: pd.Series, resolution: str) -> np.ndarray:
    """Event times as integers: whole local days (day data) or UTC seconds (exact data)."""
    if resolution == "day":
        local = times.dt.tz_localize(None).to_numpy().astype("datetime64[D]")
        return local.astype(np.int64)
    ns = times.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[ns]")
    return (ns.astype(np.int64) + 500_000_000) // 1_000_000_000


def _time_edge_ticks(edges: list[float], resolution: str) -> np.ndarray:
    if resolution == "month":
        msg = (
            "time bands in days are finer than these dates: the data has month resolution "
            "(e.g. police.uk, where every crime is dated to its month only), so gaps of a few "
            "days cannot be measured. A Knox test needs day or exact dates: use a day-dated "
            "export from the force crime system (map its date column with --time-col)."
        )
        raise TimeResolutionError(msg)
    if resolution == "day":
        frac = [e for e in edges if abs(e - round(e)) > 1e-9]
        if frac:
            msg = (
                f"time_bands_days {edges} include {frac}, which are not whole days, but the "
                f"data is dated to the day only, so part-day gaps cannot be measured. "
                f"Use whole-day edges, e.g. 0,7,14,21,28,35,42."
            )
            raise TimeResolutionError(msg)
        return np.array([round(e) for e in edges], dtype=np.int64)
    return np.rint(np.array(edges) * _SECONDS_PER_DAY).astype(np.int64)


def _left_closed_first(edge_ticks: np.ndarray) -> np.ndarray:
    """Edges for ``searchsorted(side='left')`` so the first band includes its lower edge.

    With integer ticks ``lo <= v`` is ``lo - 1 < v``; ``searchsorted`` then returns 0 below
    the range, ``k`` for band ``k - 1`` and ``len(edges)`` above the range.
    """
    out = edge_ticks.copy()
    out[0] -= 1
    return out


Counter = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]


def _pick_counter(engine: str, work: int) -> tuple[str, Counter]:
    """The counting kernel for ``engine`` (``auto``: numba when installed and it pays)."""
    check_choice(engine, ENGINES, name="engine")
    if engine == "numba" and not have_numba():
        msg = (
            "engine='numba' needs the optional numba package; install it with "
            "pip install 'hotspots[fast]', or use engine='numpy' (same counts, slower)."
        )
        raise OptionError(msg)
    if engine == "numba" or (engine == "auto" and work >= _NUMBA_MIN_WORK and have_numba()):
        return "numba", numba_counter()
    return "numpy", count_numpy


def permutation_stream(seed: int, k: int) -> np.random.Generator:
    """The random stream of permutation ``k``: ``SeedSequence(seed, spawn_key=(k,))``.

    Each permutation has its own stream derived from the seed (the ``k``-th child of
    ``SeedSequence(seed).spawn``), so the results never depend on how the permutations are
    split among workers.
    """
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(k,)))


def _permuted_ticks(ticks: np.ndarray, seed: int, start: int, stop: int) -> np.ndarray:
    """Rows ``start..stop-1``: the times shuffled among the events by each one's stream."""
    out = np.empty((stop - start, len(ticks)), dtype=ticks.dtype)
    for row, k in enumerate(range(start, stop)):
        out[row] = ticks
        permutation_stream(seed, k).shuffle(out[row])
    return out


def _permutation_counts(
    count: Counter,
    ticks: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    *,
    shape: tuple[int, int],
    n_permutations: int,
    seed: int,
    workers: int,
    progress: Progress | None,
) -> np.ndarray:
    """Counts per cell of every permutation, shape (n_permutations, n_dist, n_time).

    Blocks of permutations are counted in a thread pool; the numba kernel releases the
    GIL, and every permutation draws from its own stream, so the result is the same for
    any number of workers and any block size.
    """
    perm = np.empty((n_permutations, *shape), dtype=np.int64)
    block = max(1, min(_BLOCK, _BLOCK_TICKS // max(len(ticks), 1)))
    blocks = [(k, min(k + block, n_permutations)) for k in range(0, n_permutations, block)]

    def run(bounds: tuple[int, int]) -> int:
        start, stop = bounds
        count(_permuted_ticks(ticks, seed, start, stop), *pairs, perm[start:stop])
        return stop - start

    report(progress, "Knox permutations", 0, n_permutations)
    done = 0
    if workers == 1 or len(blocks) == 1:
        for bounds in blocks:
            done += run(bounds)
            report(progress, "Knox permutations", done, n_permutations)
        return perm
    with ThreadPoolExecutor(max_workers=min(workers, len(blocks))) as pool:
        for n_done in pool.map(run, blocks):
            done += n_done
            report(progress, "Knox permutations", done, n_permutations)
    return perm


def _distance_bands(
    d_edges: list[float], same_location_m: float | None
) -> tuple[list[tuple[float, float]], list[str]]:
    bands: list[tuple[float, float]] = []
    labels: list[str] = []
    if same_location_m is not None:
        bands.append((0.0, same_location_m))
        labels.append(_label(0.0, same_location_m, closed_left=True, unit="m (same location)"))
    for k, (lo, hi) in enumerate(zip(d_edges[:-1], d_edges[1:], strict=True)):
        closed = k == 0
        if k == 0 and same_location_m is not None and lo <= same_location_m:
            lo, closed = same_location_m, False
        bands.append((lo, hi))
        labels.append(_label(lo, hi, closed_left=closed, unit="m"))
    return bands, labels


def _check_events(incidents: gpd.GeoDataFrame) -> tuple[np.ndarray, pd.Series]:
    require_columns(
        incidents,
        [OCCURRED_AT],
        what="incidents",
        fix="Knox needs each event's date/time in that column.",
    )
    if len(incidents) < 2:
        msg = (
            f"the Knox test needs at least 2 events; got {len(incidents)}. Check the offence "
            f"filter and the date range."
        )
        raise InputError(msg)
    times = incidents[OCCURRED_AT]
    if not isinstance(times.dtype, pd.DatetimeTZDtype):
        msg = (
            f"incidents column {OCCURRED_AT!r} must hold timezone-aware timestamps; got dtype "
            f"{times.dtype}. Use .dt.tz_localize('Europe/London') (or the data's zone)."
        )
        raise SchemaError(msg)
    if times.isna().any():
        rows = np.flatnonzero(times.isna().to_numpy())
        msg = (
            f"incidents column {OCCURRED_AT!r} is empty on {len(rows)} row(s) (first at "
            f"position {rows[0]}); drop or date them before the Knox test."
        )
        raise SchemaError(msg)
    geom = incidents.geometry
    bad = geom.isna().to_numpy() | geom.is_empty.to_numpy() | (geom.geom_type != "Point").to_numpy()
    if bad.any():
        rows = np.flatnonzero(bad)
        msg = (
            f"incidents need one point per event; {len(rows)} row(s) have a missing, empty or "
            f"non-point geometry (first at position {rows[0]}). Drop them or use centroids."
        )
        raise SchemaError(msg)
    xy = np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()])
    return xy, times


def knox_test(
    incidents: gpd.GeoDataFrame,
    *,
    distance_bands_m: Sequence[float] = DISTANCE_BANDS_M,
    time_bands_days: Sequence[float] = TIME_BANDS_DAYS,
    same_location_m: float | None = None,
    metric: Metric = "euclidean",
    n_permutations: int = KNOX_PERMUTATIONS,
    seed: int = 0,
    time_resolution: str | None = None,
    progress: Progress | None = None,
    engine: Engine = "auto",
    workers: int | None = None,
) -> KnoxResult:
    """Knox test of space-time clustering over distance x time bands.

    Parameters
    ----------
    incidents
        Point events in a projected CRS in metres with tz-aware ``occurred_at``.
    distance_bands_m
        Distance band edges in metres (default 0,100,200,300,400); closed on the right,
        the first band includes its lower edge.
    time_bands_days
        Time band edges in days (default 0,7,...,42), same rule.
    same_location_m
        If given (e.g. 0.1), pairs at distance <= this many metres get their own first
        band and the first ordinary band starts just above it. Must be below the second
        distance edge.
    metric
        ``"euclidean"`` (default) or ``"manhattan"`` distance.
    n_permutations
        Monte Carlo replicates (default 999).
    seed
        Seed of the permutations (default 0, a non-negative integer): permutation ``k``
        shuffles the times with ``default_rng(SeedSequence(seed, spawn_key=(k,)))``, see
        :func:`permutation_stream`.
    time_resolution
        ``"exact"``, ``"day"`` or ``"month"``; default: the coarsest value of the
        ``time_resolution`` column, or (no column) ``"day"`` when every timestamp is at
        local midnight, else ``"exact"``.
    progress
        Callback ``progress(task, done, total)`` for the permutations.
    engine
        Counting kernel: ``"numba"`` (a fused compiled loop; needs the optional numba,
        ``pip install 'hotspots[fast]'``), ``"numpy"`` (vectorised, always available) or
        ``"auto"`` (default: numba when installed and the job is large enough to pay for
        its import). Both give identical counts and p-values.
    workers
        Threads counting blocks of permutations (default: every core this process may
        use). The result does not depend on it.

    Returns
    -------
    KnoxResult

    Raises
    ------
    CRSError
        If the incidents are not in a projected CRS in metres.
    OptionError
        Bands not increasing, an unknown metric, a bad ``same_location_m`` or count.
    TimeResolutionError
        Time bands finer than the data's dates (any day bands on month data; part days on
        day data).
    InputError, SchemaError
        Fewer than 2 events, missing/naive/empty times, missing or non-point geometries.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> when = pd.to_datetime(["2024-01-01", "2024-01-03", "2024-03-01"]).tz_localize("UTC")
    >>> ev = gpd.GeoDataFrame(
    ...     {"occurred_at": when},
    ...     geometry=gpd.points_from_xy([0, 50, 1000], [0, 0, 0]), crs=27700)
    >>> result = knox_test(ev, n_permutations=9)
    >>> int(result.observed.iat[0, 0])  # the pair 50 m and 2 days apart
    1
    """
    if not isinstance(incidents, gpd.GeoDataFrame):
        msg = f"incidents must be a GeoDataFrame; got {type(incidents).__name__}."
        raise TypeError(msg)
    require_metric_crs(incidents, what="incidents")
    check_choice(metric, METRICS, name="metric")
    check_choice(engine, ENGINES, name="engine")
    d_edges = check_increasing(distance_bands_m, name="distance_bands_m")
    t_edges = check_increasing(time_bands_days, name="time_bands_days")
    if same_location_m is not None:
        same_location_m = check_positive(same_location_m, name="same_location_m", allow_zero=True)
        if same_location_m >= d_edges[1]:
            msg = (
                f"same_location_m ({same_location_m:g} m) must be below the second distance "
                f"edge ({d_edges[1]:g} m); a typical value is 0.1."
            )
            raise OptionError(msg)
    check_whole(n_permutations, name="n_permutations", minimum=1, low="at least 1 (999 is usual)")
    check_whole(seed, name="seed", minimum=0, low="a non-negative integer (0 is usual)")
    n_workers = worker_count(workers)

    xy, times = _check_events(incidents)
    resolution = _resolution(incidents, times, time_resolution)
    t_edge_ticks = _time_edge_ticks(t_edges, resolution)
    ticks = _time_ticks(times, resolution)

    # ---------------------------------------------------------------- distance bands (fixed)
    i, j, dist = close_pairs(xy, max_distance_m=d_edges[-1], metric=metric)
    dticks = distance_ticks(dist)
    d_idx = np.searchsorted(
        _left_closed_first(distance_ticks(np.array(d_edges))), dticks, side="left"
    )
    n_ord = len(d_edges) - 1
    band = np.where((d_idx >= 1) & (d_idx <= n_ord), d_idx - 1, -1)
    if same_location_m is not None:
        band = np.where(
            dticks <= distance_ticks(same_location_m), 0, np.where(band >= 0, band + 1, -1)
        )
    keep = band >= 0
    i, j, band = i[keep], j[keep], band[keep]
    n_dist = n_ord + (same_location_m is not None)
    n_time = len(t_edges) - 1
    order = np.argsort(band, kind="stable")  # one slice per distance band, each sorted by i
    i, j, band = i[order], j[order], band[order]
    band_starts = np.searchsorted(band, np.arange(n_dist + 1), side="left")

    engine_used, count = _pick_counter(engine, len(i) * n_permutations)
    pairs = (
        i.astype(np.int32 if len(ticks) < 2**31 else np.int64),
        j.astype(np.int32 if len(ticks) < 2**31 else np.int64),
        band_starts.astype(np.int64),
        _left_closed_first(t_edge_ticks),
    )
    ticks = np.ascontiguousarray(ticks, dtype=np.int64)
    observed = np.empty((1, n_dist, n_time), dtype=np.int64)
    count(ticks[np.newaxis, :], *pairs, observed)
    observed = observed[0]

    # ---------------------------------------------------------------- permutations
    # every permutation shuffles the times with its own stream (permutation_stream), counted
    # over the same fixed pairs; blocks of permutations go to a pool of threads
    perm = _permutation_counts(
        count,
        ticks,
        pairs,
        shape=(n_dist, n_time),
        n_permutations=n_permutations,
        seed=int(seed),
        workers=n_workers,
        progress=progress,
    )

    expected = perm.mean(axis=0)
    median = np.median(perm, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, observed / np.where(expected > 0, expected, 1), np.nan)
        ratio_med = np.where(median > 0, observed / np.where(median > 0, median, 1), np.nan)
    p_value = ((perm >= observed).sum(axis=0) + 1) / (n_permutations + 1)

    d_bands, d_labels = _distance_bands(d_edges, same_location_m)
    t_bands = list(zip(t_edges[:-1], t_edges[1:], strict=True))
    t_labels = [
        _label(lo, hi, closed_left=k == 0, unit="days") for k, (lo, hi) in enumerate(t_bands)
    ]

    def table(values: np.ndarray) -> pd.DataFrame:
        frame = pd.DataFrame(
            values,
            index=pd.Index(d_labels, name="distance"),
            columns=pd.Index(t_labels, name="time"),
        )
        return frame

    return KnoxResult(
        distance_bands_m=tuple(d_edges),
        time_bands_days=tuple(t_edges),
        same_location_m=same_location_m,
        observed=table(observed.astype(np.int64)),
        expected=table(expected),
        p_value=table(p_value),
        knox_ratio=table(ratio),
        knox_ratio_median=table(ratio_med),
        n_events=len(incidents),
        n_pairs_in_range=int(observed.sum()),
        n_permutations=int(n_permutations),
        seed=int(seed),
        metric=metric,
        time_resolution=resolution,
        engine=engine_used,
        n_close_pairs=len(i),
        distance_edges=tuple((float(a), float(b)) for a, b in d_bands),
        time_edges=tuple((float(a), float(b)) for a, b in t_bands),
        first_event=pd.Timestamp(times.min()),
        last_event=pd.Timestamp(times.max()),
    )


def knox_by_year(
    incidents: gpd.GeoDataFrame, *, min_events: int = 30, **options: Any
) -> dict[int, KnoxResult]:
    """The Knox test run separately on each calendar year of the events (local time).

    Years with fewer than ``min_events`` events are left out. ``options`` go to
    :func:`knox_test` unchanged (bands, permutations, seed...).

    Returns
    -------
    dict
        Year -> :class:`KnoxResult`, in year order.
    """
    require_columns(incidents, [OCCURRED_AT], what="incidents")
    years = incidents[OCCURRED_AT].dt.year
    out: dict[int, KnoxResult] = {}
    for year in sorted(int(y) for y in years.dropna().unique()):
        part = incidents[(years == year).to_numpy()]
        if len(part) >= min_events:
            out[year] = knox_test(part, **options)
    return out


def per_year_text(by_year: dict[int, KnoxResult], *, alpha: float = 0.05) -> str:
    """One line of per-year recommendations, e.g. ``"2016: 100 m, 14 days; 2017: none"``.

    Examples
    --------
    >>> per_year_text({})
    ''
    """
    parts = []
    for year, res in by_year.items():
        rec = res.recommendation(alpha=alpha)
        if rec["radius_m"] is None:
            parts.append(f"{year}: no significant pattern ({res.n_events:,} events)")
        else:
            parts.append(
                f"{year}: {_fmt(rec['radius_m'])} m, {_fmt(rec['window_days'])} days "
                f"({res.n_events:,} events)"
            )
    return "; ".join(parts)


def cocoon_settings_from_knox(
    result: KnoxResult,
    *,
    radius_m: float,
    window_days: float,
    alpha: float = 0.05,
    min_ratio: float = 1.2,
) -> tuple[float, float, str]:
    """Cocoon radius and window from a Knox result, or the defaults with a note.

    Uses the recommendation when the nearest, soonest cell is significant (p < ``alpha``
    and Knox ratio >= ``min_ratio``); otherwise keeps ``radius_m`` and ``window_days``.
    The note says which was used and why (and when the recommendation reached the
    widest band tested, or pools several years).

    Returns
    -------
    tuple
        ``(radius_m, window_days, note)`` actually to use.

    Examples
    --------
    >>> cocoon_settings_from_knox(example_knox, radius_m=400, window_days=42)  # doctest: +SKIP
    (200.0, 28.0, 'Cocoon zones use the Knox recommendation: 200 m, 28 days ...')
    """
    rec = result.recommendation(alpha=alpha, min_ratio=min_ratio)
    if rec["radius_m"] is None or rec["window_days"] is None:
        note = (
            f"Cocoon zones keep the defaults {_fmt(radius_m)} m, {_fmt(window_days)} days: the "
            f"Knox test found no significant near-repeat pattern at the nearest band "
            f"(p < {alpha:g}, ratio >= {min_ratio:g})."
        )
        return float(radius_m), float(window_days), note
    radius, window = float(rec["radius_m"]), float(rec["window_days"])
    note = (
        f"Cocoon zones use the Knox recommendation: {_fmt(radius)} m, {_fmt(window)} days "
        f"(instead of {_fmt(radius_m)} m, {_fmt(window_days)} days)."
    )
    if rec.get("radius_at_widest_band") or rec.get("window_at_widest_band"):
        note += " The recommendation reached the widest band tested, so it is a lower bound."
    if rec.get("pooled_over_years"):
        note += " The Knox result is pooled over more than one year."
    return radius, window, note
