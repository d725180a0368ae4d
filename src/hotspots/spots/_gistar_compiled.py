"""Gi* conditional-permutation counting: a compiled loop (numba, optional) and numpy.

Both count, for one block of permutations, how many of each cell's simulated local sums
reach its observed sum, and give identical counts. A block is ``draws`` (D x B: draw ``d``
of permutation ``b``, an index into the ``n - 1`` other cells), with ``lo[d, b] =
x[draws[d, b]]`` and ``hi[d, b] = x[draws[d, b] + 1]``: cell ``c``'s neighbour number ``d``
in permutation ``b`` is ``hi`` when ``draws[d, b] >= c`` (the draw skips the cell itself,
as in esda's ``crand``) and ``lo`` otherwise, so the loop reads three small contiguous
blocks instead of gathering from ``x``. A cell with ``kk`` neighbours uses the first
``kk`` draws. Each simulated sum is accumulated in draw order, ``x[c]`` first, with no
reassociation (numba without fastmath), so both paths make the same floating-point sums
and the same ``>=`` comparisons: the counts are equal exactly.

Kept at module level so numba's on-disk cache (``cache=True``) is found by later
processes. Without numba the module still imports (``count_block_numba`` is then None).
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:
    import numba
except ImportError:  # pragma: no cover - the optional 'fast' extra is not installed
    numba = None  # type: ignore[assignment]

__all__ = ["count_block_numba", "count_block_numpy"]

_CHUNK_CELLS = 2048  # numpy path: cells per vectorised step (C x B floats per temporary)


def count_block_loop(cells, x, kk, threshold, draws, lo, hi, out):  # pragma: no cover - compiled
    """Add to ``out[m]`` the permutations of the block whose sum for ``cells[m]`` reaches it."""
    n_draws, n_perm = draws.shape
    sims = np.empty(n_perm, np.float64)
    for m in range(cells.shape[0]):
        c = cells[m]
        for b in range(n_perm):
            sims[b] = x[c]
        for d in range(min(kk[m], n_draws)):
            row_draw = draws[d]
            row_lo = lo[d]
            row_hi = hi[d]
            for b in range(n_perm):
                sims[b] += row_hi[b] if row_draw[b] >= c else row_lo[b]
        t = threshold[m]
        larger = 0
        for b in range(n_perm):
            larger += sims[b] >= t
        out[m] += larger


count_block_numba: Any = (
    None
    if numba is None
    else numba.njit(nogil=True, cache=True, boundscheck=False)(count_block_loop)
)


def count_block_numpy(
    cells: np.ndarray,
    x: np.ndarray,
    kk: np.ndarray,
    threshold: np.ndarray,
    draws: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    out: np.ndarray,
) -> None:
    """The same counts as the compiled loop, vectorised over chunks of cells (numpy path).

    Parameters
    ----------
    cells
        Cells to count (int64 positions in ``x``).
    x
        Values of every study cell.
    kk
        Neighbours (self excluded) of each of ``cells``: the first ``kk`` draws are used.
    threshold
        A simulated sum counts when it is ``>=`` this (the observed sum less a tolerance).
    draws, lo, hi
        The block: draw indices into the other cells, and ``x`` at them and one above
        (arrays D x B).
    out
        int64 counts per cell of ``cells``, added to.
    """
    n_draws = draws.shape[0]
    for start in range(0, len(cells), _CHUNK_CELLS):
        c = cells[start : start + _CHUNK_CELLS, None]
        k = kk[start : start + _CHUNK_CELLS, None]
        sims = np.repeat(x[c], draws.shape[1], axis=1)
        for d in range(n_draws):
            used = d < k
            if not used.any():
                break
            step = np.where(draws[d][None, :] >= c, hi[d][None, :], lo[d][None, :])
            # cells past their last neighbour keep their sum unchanged (not "+ 0.0")
            np.add(sims, step, out=sims, where=used)
        out[start : start + _CHUNK_CELLS] += np.count_nonzero(
            sims >= threshold[start : start + _CHUNK_CELLS, None], axis=1
        )
