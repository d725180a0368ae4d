"""The Knox counting loop compiled with numba (imported only when numba is installed).

Kept at module level so numba's on-disk cache (``cache=True``) is found by later
processes: they load the machine code instead of compiling it again. Without numba the
module still imports (``count_columns`` is then None), so doctest collection works.
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:
    import numba
except ImportError:  # pragma: no cover - the optional 'fast' extra is not installed
    numba = None  # type: ignore[assignment]

__all__ = ["count_columns"]


def count_loop(times, i, j, band_starts, edges, out):  # pragma: no cover - compiled
    """Count pairs per cell; ``times`` is (n_events, n_permutations), see numba_counter."""
    n_cols = times.shape[1]
    n_dist = band_starts.shape[0] - 1
    n_edges = edges.shape[0]
    gap = np.empty(n_cols, times.dtype)
    for band in range(n_dist):
        at_most = np.zeros((n_edges, n_cols), times.dtype)
        for p in range(band_starts[band], band_starts[band + 1]):
            a = times[i[p]]
            b = times[j[p]]
            for c in range(n_cols):
                d = a[c] - b[c]
                gap[c] = d if d >= 0 else -d
            for m in range(n_edges):
                edge = edges[m]
                row = at_most[m]
                for c in range(n_cols):
                    row[c] += gap[c] <= edge
        for c in range(n_cols):
            for m in range(n_edges - 1):
                out[c, band, m] = at_most[m + 1, c] - at_most[m, c]


count_columns: Any = (
    None if numba is None else numba.njit(nogil=True, cache=True, boundscheck=False)(count_loop)
)
