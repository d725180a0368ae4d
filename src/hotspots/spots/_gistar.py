"""Getis-Ord Gi* hot cells on the fixed grid, with Benjamini-Hochberg FDR control.

Gi* (Getis & Ord 1992; Ord & Getis 1995) compares the harm in a cell and its neighbours
(queen contiguity, the cell itself included, binary weights) with what the whole study
area would give by chance. Every cell of the study extent takes part, cells with no harm
as zeros. Multiple testing over thousands of cells is controlled with the
Benjamini-Hochberg procedure (Benjamini & Hochberg 1995).

Permutation p-values use conditional randomisation (Anselin 1995), the scheme of
``esda.G_Local(star=True)`` (esda 2.9, ``esda.crand``): the cell keeps its own value and
its ``k - 1`` neighbours are drawn without replacement from the other ``n - 1`` cells, one
set of draws shared by all cells (seeded). The p-value is one-sided towards hot spots,
``(#{sims >= observed} + 1) / (permutations + 1)`` (esda's ``alternative="greater"``).
esda's ``G_Local.p_sim`` is its default ``"directed"`` (folded) value instead: when fewer
than half the draws reach the observed sum it reports the *lower* tail,
``(min(larger, permutations - larger) + 1) / (permutations + 1)``, so cold cells and
all-zero neighbourhoods (every draw ties at 0) get small p-values too. For hot cells the
two agree; we keep the one-sided value because only hot cells can become harm spots.

The permutations come in blocks of ``PERMUTATION_BLOCK`` (64): block ``b`` draws its
permutations from ``default_rng(SeedSequence(seed, spawn_key=(b,)))`` (the ``b``-th child
of ``SeedSequence(seed).spawn``) and is counted on its own thread, so the p-values never
depend on the number of workers. Counting is a compiled loop when the optional numba is
installed (``pip install 'hotspots[fast]'``), else vectorised numpy: the same p-values.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
from scipy import special

from hotspots._progress import Progress, report
from hotspots._validate import check_choice, have_numba, worker_count
from hotspots.config import FDR_ALPHA, GISTAR_PERMUTATIONS
from hotspots.errors import OptionError

__all__ = [
    "ENGINES",
    "PERMUTATION_BLOCK",
    "Engine",
    "GiStarResult",
    "benjamini_hochberg",
    "gi_star_dense",
    "gi_star_grid",
    "permutation_block_stream",
]

PERMUTATION_BLOCK = 64  # permutations per seed stream and per work unit (fixed: part of the seed)
# numba pays for its import and cache load (about 0.5 s) above this many cell x draw sums
_NUMBA_MIN_WORK = 20_000_000
Engine = Literal["auto", "numba", "numpy"]
ENGINES: tuple[str, ...] = get_args(Engine)


@dataclass(frozen=True)
class GiStarResult:
    """Gi* for every cell of the study extent (1-D arrays aligned with ``ix``/``iy``)."""

    ix: np.ndarray
    iy: np.ndarray
    harm: np.ndarray
    n_neighbours: np.ndarray  # cardinality, self included
    local_sum: np.ndarray
    z: np.ndarray
    p_value: np.ndarray  # one-sided (hot): permutation (k+1)/(n+1), or analytic normal tail
    significant: np.ndarray  # hot (z > 0) and rejected by BH at fdr_alpha
    p_threshold: float  # largest p-value still significant (0 when none)
    permutations: int
    seed: int


def benjamini_hochberg(p_values: np.ndarray, *, alpha: float) -> tuple[np.ndarray, float]:
    """Which hypotheses the Benjamini-Hochberg step-up procedure rejects at FDR ``alpha``.

    Returns the boolean rejection mask and the p-value threshold (0 when nothing is
    rejected). Rejects the ``k`` smallest p-values, ``k`` the largest rank with
    ``p_(k) <= k * alpha / m``.

    Examples
    --------
    >>> benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.5]), alpha=0.05)[0].tolist()
    [True, False, False, False]
    """
    p = np.asarray(p_values, dtype="float64")
    m = len(p)
    if m == 0:
        return np.zeros(0, dtype=bool), 0.0
    order = np.sort(p)
    below = order <= alpha * np.arange(1, m + 1) / m
    if not below.any():
        return np.zeros(m, dtype=bool), 0.0
    threshold = float(order[np.nonzero(below)[0].max()])
    return p <= threshold, threshold


def gi_star_grid(
    ix: np.ndarray,
    iy: np.ndarray,
    harm: np.ndarray,
    *,
    in_study: np.ndarray | None = None,
    rings: int = 1,
    permutations: int = GISTAR_PERMUTATIONS,
    fdr_alpha: float = FDR_ALPHA,
    seed: int = 0,
    progress: Progress | None = None,
    engine: Engine = "auto",
    workers: int | None = None,
) -> GiStarResult:
    """Gi* z-scores and FDR-controlled hot cells on a square grid.

    Parameters
    ----------
    ix, iy, harm
        Cells with harm (one row per cell).
    in_study
        Boolean grid over the bounding box of ``ix``/``iy`` (shape ``(ny, nx)``, row 0 =
        smallest ``iy``) marking cells inside the study area; default: the whole box.
    rings
        Neighbourhood radius in cells: 1 = queen contiguity (3 x 3 with the cell itself).
    permutations
        Conditional permutations per cell (0: analytic normal p-values).
    fdr_alpha
        False discovery rate for Benjamini-Hochberg.
    seed
        Seed of the permutation draws.
    engine
        Permutation counting: ``"numba"`` (compiled; needs the optional numba),
        ``"numpy"``, or ``"auto"`` (default: numba when installed and the job is large
        enough to pay for loading it). Both give the same p-values.
    workers
        Threads counting blocks of permutations (default: every core this process may
        use); the p-values do not depend on it.

    Raises
    ------
    OptionError
        If ``engine`` is not one of :data:`ENGINES`, or is ``"numba"`` without numba, or
        ``workers`` is below 1.
    """
    ix = np.asarray(ix, dtype="int64")
    iy = np.asarray(iy, dtype="int64")
    x0, y0 = int(ix.min()), int(iy.min())
    shape = (int(iy.max()) - y0 + 1, int(ix.max()) - x0 + 1)
    dense = np.zeros(shape, dtype="float64")
    np.add.at(dense, (iy - y0, ix - x0), np.asarray(harm, dtype="float64"))
    mask = np.ones(shape, dtype=bool) if in_study is None else np.asarray(in_study, dtype=bool)
    return gi_star_dense(
        dense,
        mask,
        x0=x0,
        y0=y0,
        rings=rings,
        permutations=permutations,
        fdr_alpha=fdr_alpha,
        seed=seed,
        progress=progress,
        engine=engine,
        workers=workers,
    )


def gi_star_dense(
    dense: np.ndarray,
    mask: np.ndarray,
    *,
    x0: int = 0,
    y0: int = 0,
    rings: int = 1,
    permutations: int = 0,
    fdr_alpha: float = 0.05,
    seed: int = 0,
    progress: Progress | None = None,
    engine: Engine = "auto",
    workers: int | None = None,
) -> GiStarResult:
    """Gi* on a dense raster of harm: the one Gi* rule behind ``spots`` and ``evaluate``.

    ``dense[r, c]`` is the harm of cell ``(x0 + c, y0 + r)``; ``mask`` marks the study
    cells (a cell with harm always takes part). The result lists the study cells row by
    row; options as in :func:`gi_star_grid`.
    """
    check_choice(engine, ENGINES, name="engine")
    if permutations > 0:
        worker_count(workers)
    dense = np.asarray(dense, dtype="float64")
    mask = np.asarray(mask, dtype=bool) | (dense != 0)
    dense = np.where(mask, dense, 0.0)
    from scipy import ndimage  # only Gi* needs it: not loaded on the grid-only weekly path

    kernel = np.ones((2 * rings + 1, 2 * rings + 1))
    local = ndimage.correlate(dense, kernel, mode="constant", cval=0.0)
    card = np.rint(
        ndimage.correlate(mask.astype("float64"), kernel, mode="constant", cval=0.0)
    ).astype("int64")
    rows, cols = np.nonzero(mask)
    x = dense[rows, cols]
    k = card[rows, cols]
    lsum = local[rows, cols]
    n = len(x)
    mean = x.mean() if n else 0.0
    var = (x**2).mean() - mean**2 if n else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = np.sqrt(max(var, 0.0)) * np.sqrt(k * (n - k) / max(n - 1, 1))
        z = np.where(denom > 0, (lsum - k * mean) / denom, 0.0)
    if permutations > 0:
        p = _permutation_p(
            x,
            k,
            lsum,
            permutations=permutations,
            seed=seed,
            progress=progress,
            engine=engine,
            workers=workers,
        )
    else:
        p = special.ndtr(-z)  # upper normal tail, = scipy.stats.norm.sf(z)
    reject, threshold = benjamini_hochberg(p, alpha=fdr_alpha)
    return GiStarResult(
        ix=cols.astype("int64") + x0,
        iy=rows.astype("int64") + y0,
        harm=x,
        n_neighbours=k,
        local_sum=lsum,
        z=z,
        p_value=p,
        significant=reject & (z > 0),
        p_threshold=threshold,
        permutations=int(permutations),
        seed=int(seed),
    )


def permutation_block_stream(seed: int, block: int) -> np.random.Generator:
    """The random stream of permutation block ``block``: ``SeedSequence(seed).spawn``'s child.

    ``SeedSequence(seed, spawn_key=(block,))`` is the ``block``-th child of
    ``SeedSequence(seed).spawn``. Blocks hold a fixed number of permutations
    (``PERMUTATION_BLOCK``), so the draws never depend on how many threads count them.
    """
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))


def _block_draws(n: int, n_draws: int, seed: int, block: int, size: int) -> np.ndarray:
    """Draws (D x B) of one block: per permutation ``n_draws`` of the other ``n - 1`` cells."""
    rng = permutation_block_stream(seed, block)
    draws = np.empty((n_draws, size), dtype=np.int64)
    for b in range(size):
        draws[:, b] = rng.choice(n - 1, size=n_draws, replace=False)
    return draws


def _pick_counter(engine: str, work: int) -> tuple[str, Any]:
    check_choice(engine, ENGINES, name="engine")
    if engine == "numba" and not have_numba():
        msg = (
            "engine='numba' needs the optional numba package; install it with "
            "pip install 'hotspots[fast]', or use engine='numpy' (same p-values, slower)."
        )
        raise OptionError(msg)
    if engine == "numba" or (engine == "auto" and work >= _NUMBA_MIN_WORK and have_numba()):
        from hotspots.spots._gistar_compiled import count_block_numba

        return "numba", count_block_numba
    from hotspots.spots._gistar_compiled import count_block_numpy

    return "numpy", count_block_numpy


def _permutation_p(
    x: np.ndarray,
    k: np.ndarray,
    lsum: np.ndarray,
    *,
    permutations: int,
    seed: int,
    progress: Progress | None,
    engine: str = "auto",
    workers: int | None = None,
) -> np.ndarray:
    """One-sided conditional-permutation p-values, (larger + 1) / (permutations + 1).

    Permutations come in blocks of ``PERMUTATION_BLOCK``, block ``b`` drawn from its own
    stream (:func:`permutation_block_stream`) and counted on its own thread (the compiled
    loop releases the GIL); the counts are integers summed over blocks, so the p-values are
    the same for any number of workers and on either engine.
    """
    n = len(x)
    p = np.ones(n, dtype="float64")
    draws_needed = int(min(k.max() - 1, n - 1)) if n else 0
    todo = np.nonzero(lsum > 0)[0]  # zero local sums can never be hot (p = 1)
    if draws_needed <= 0 or len(todo) == 0:
        return p
    n_workers = worker_count(workers)
    _, count = _pick_counter(engine, len(todo) * permutations * draws_needed)
    kk = np.minimum(k[todo] - 1, draws_needed).astype(np.int64)
    tol = 1e-9 * max(float(np.abs(x).sum()), 1.0)
    threshold = lsum[todo] - tol
    x_pad = np.append(x, 0.0)  # x[draw + 1] for the largest draw, n - 2, is x[n - 1]
    blocks = [
        (b, min(PERMUTATION_BLOCK, permutations - b * PERMUTATION_BLOCK))
        for b in range(-(-permutations // PERMUTATION_BLOCK))
    ]

    def run(block: tuple[int, int]) -> np.ndarray:
        b, size = block
        draws = _block_draws(n, draws_needed, seed, b, size)
        larger = np.zeros(len(todo), dtype=np.int64)
        count(todo, x, kk, threshold, draws, x_pad[draws], x_pad[draws + 1], larger)
        return larger

    total = np.zeros(len(todo), dtype=np.int64)
    done = 0
    report(progress, "Gi* permutations", 0, permutations)
    if n_workers == 1 or len(blocks) == 1:
        results = map(run, blocks)
        for (_, size), larger in zip(blocks, results, strict=True):
            total += larger
            done += size
            report(progress, "Gi* permutations", done, permutations)
    else:
        with ThreadPoolExecutor(max_workers=min(n_workers, len(blocks))) as pool:
            for (_, size), larger in zip(blocks, pool.map(run, blocks), strict=True):
                total += larger
                done += size
                report(progress, "Gi* permutations", done, permutations)
    p[todo] = (total + 1.0) / (permutations + 1.0)
    return p
