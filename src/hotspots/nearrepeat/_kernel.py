"""Knox counting kernels: a fused compiled loop (numba, optional) and the numpy fallback.

Both count, for one or more assignments of times to events, the pairs per distance band x
time band cell, and give identical counts: pairs are sorted by distance band (one slice
per band) and a pair's time band ``k`` is the one with ``edges[k] < gap <= edges[k + 1]``
(``edges`` in whole ticks, the first lowered by one tick so the first band includes its
lower edge). The numba kernel is compiled on first use (and cached on disk); it releases
the GIL, so blocks of permutations can be counted on several cores at once. Counts are
int64 sums of 0/1 comparisons in both, so they are equal exactly, not approximately.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

from hotspots._validate import have_numba

__all__ = ["count_numpy", "have_numba", "numba_counter"]

_MAX_COMPARE_EDGES = 16  # above this many time edges, searchsorted + bincount
_INT32_MAX = 2**31 - 1


def count_numpy(
    ticks: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    band_starts: np.ndarray,
    edges: np.ndarray,
    out: np.ndarray,
) -> None:
    """Count the pairs of every row of ``ticks`` into ``out`` (numpy path).

    Parameters
    ----------
    ticks
        Array (n_rows, n_events) of event times in whole ticks, one assignment per row.
    i, j
        Pair indices, sorted by distance band.
    band_starts
        Start of each band's slice of the pairs, plus the end (length n_dist + 1).
    edges
        Time band edges in ticks, the first lowered by one tick (length n_time + 1).
    out
        Array (n_rows, n_dist, n_time) of int64, overwritten.

    Within a slice the pairs with gap ``<= edges[k]`` are counted for every edge and the
    band counts are the differences: a few vectorised comparisons, faster than a histogram
    of codes (``bincount`` stalls on repeated increments of a few bins). With many edges
    ``searchsorted`` plus ``bincount`` takes over.
    """
    n_time = len(edges) - 1
    compare = len(edges) <= _MAX_COMPARE_EDGES
    bounds = list(zip(band_starts[:-1].tolist(), band_starts[1:].tolist(), strict=True))
    for row in range(ticks.shape[0]):
        t = ticks[row]
        gap = np.take(t, i)
        gap -= np.take(t, j)
        np.abs(gap, out=gap)
        for band, (lo, hi) in enumerate(bounds):
            part = gap[lo:hi]
            if compare:
                at_most = [np.count_nonzero(part <= edge) for edge in edges]
                out[row, band] = np.diff(at_most)
            else:
                codes = np.searchsorted(edges, part, side="left")
                out[row, band] = np.bincount(codes, minlength=n_time + 2)[1:-1]


@cache
def numba_counter() -> Callable[..., None]:
    """The compiled counting loop, same arguments as :func:`count_numpy`.

    The block of permuted times is transposed to one row per event (the block's
    permutations side by side), so each pair reads two short contiguous rows and the
    comparisons with the edges run over the permutations in SIMD lanes; per band and
    edge it counts the pairs with gap ``<= edge`` and the cells are the differences.
    When the times span less than 2**31 ticks (68 years of seconds) they are shifted to
    start at 0 and held as int32, with the edges clipped to the int32 range (a gap never
    exceeds the span, so every comparison is unchanged): twice the lanes per register.
    Compiled once per process (``cache=True`` keeps the machine code on disk, so later
    processes only load it); the loop releases the GIL.
    """
    from hotspots.nearrepeat._compiled import count_columns

    def count_numba(
        ticks: np.ndarray,
        i: np.ndarray,
        j: np.ndarray,
        band_starts: np.ndarray,
        edges: np.ndarray,
        out: np.ndarray,
    ) -> None:
        lo, hi = (int(ticks.min()), int(ticks.max())) if ticks.size else (0, 0)
        if hi - lo < _INT32_MAX and len(i) < _INT32_MAX:
            times = np.ascontiguousarray((ticks - lo).T, dtype=np.int32)
            edges = np.clip(edges, -_INT32_MAX - 1, _INT32_MAX).astype(np.int32)
        else:
            times = np.ascontiguousarray(ticks.T)
        count_columns(times, i, j, band_starts, edges, out)

    return count_numba
