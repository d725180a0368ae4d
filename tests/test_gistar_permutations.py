"""Gi* conditional permutations: engines, threads, seed streams, and esda at many draws."""

from __future__ import annotations

import numpy as np
import pytest

from hotspots.errors import OptionError
from hotspots.spots import _gistar, gi_star_grid
from hotspots.spots._gistar import PERMUTATION_BLOCK, permutation_block_stream

numba_only = pytest.mark.skipif(not _gistar.have_numba(), reason="numba (the fast extra) absent")


def fractional_grid(seed: int = 7, ny: int = 9, nx: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """Harm with fractional values (sums not exact in binary) and a ragged study mask."""
    rng = np.random.default_rng(seed)
    vals = np.where(rng.random((ny, nx)) < 0.6, rng.gamma(1.5, 2.3, (ny, nx)), 0.0)
    vals[4, 5] += 17.3
    mask = np.ones((ny, nx), dtype=bool)
    mask[0, :3] = False  # cut corner: neighbourhoods of 2 to 9 cells
    mask[6:, 9:] = False
    vals[~mask] = 0.0
    return vals, mask


def run(vals: np.ndarray, mask: np.ndarray, **kwargs: object) -> _gistar.GiStarResult:
    iy, ix = np.nonzero(np.ones_like(vals))
    return gi_star_grid(ix, iy, vals[iy, ix], in_study=mask, **kwargs)


@numba_only
def test_numba_and_numpy_give_identical_p_values():
    vals, mask = fractional_grid()
    kw = {"permutations": 3 * PERMUTATION_BLOCK + 5, "seed": 11}  # a short last block
    compiled = run(vals, mask, engine="numba", **kw)
    plain = run(vals, mask, engine="numpy", **kw)
    np.testing.assert_array_equal(compiled.p_value, plain.p_value)
    assert len(np.unique(plain.p_value)) > 10  # not a degenerate all-ones answer


@pytest.mark.parametrize("engine", ["numpy", pytest.param("numba", marks=numba_only)])
def test_p_values_do_not_depend_on_the_number_of_threads(engine):
    vals, mask = fractional_grid(seed=3)
    kw = {"permutations": 4 * PERMUTATION_BLOCK - 1, "seed": 2, "engine": engine}
    one = run(vals, mask, workers=1, **kw)
    for workers in (2, 3):
        np.testing.assert_array_equal(run(vals, mask, workers=workers, **kw).p_value, one.p_value)


def test_p_values_follow_the_documented_block_streams():
    """Recount by hand from the documented draws: block b's stream, cell c skipped."""
    vals, mask = fractional_grid(seed=5, ny=5, nx=6)
    n_perm = PERMUTATION_BLOCK + 9  # two blocks
    res = run(vals, mask, permutations=n_perm, seed=4, engine="numpy")
    x, k, lsum = res.harm, res.n_neighbours, res.local_sum
    n = len(x)
    n_draws = int(k.max() - 1)
    draws = []
    for block in range(2):
        rng = permutation_block_stream(4, block)
        size = min(PERMUTATION_BLOCK, n_perm - block * PERMUTATION_BLOCK)
        draws += [rng.choice(n - 1, size=n_draws, replace=False) for _ in range(size)]
    tol = 1e-9 * np.abs(x).sum()
    for c in range(n):
        if lsum[c] <= 0:
            assert res.p_value[c] == 1.0
            continue
        others = np.delete(x, c)  # the n - 1 other cells, in order
        sims = [x[c] + others[d[: k[c] - 1]].sum() for d in draws]
        larger = sum(s >= lsum[c] - tol for s in sims)
        assert res.p_value[c] == pytest.approx((larger + 1) / (n_perm + 1))


def test_block_streams_are_seed_sequence_children():
    child = np.random.SeedSequence(9).spawn(3)[2]
    expect = np.random.default_rng(child).random(4)
    np.testing.assert_array_equal(permutation_block_stream(9, 2).random(4), expect)


def test_p_values_agree_with_esda_at_9999_permutations():
    """Ours against esda's own p_sim on the cells where esda's folded value is the upper tail.

    Two independent Monte-Carlo estimates of one p, each with variance p(1 - p) / P, differ
    by at most 4 standard errors of their difference, sqrt(2 p (1 - p) / P), plus 2 / (P + 1)
    for the +1 in both; per cell a false failure has chance about 6e-5, so over these 99
    cells under 1% (and the seeds are fixed, so the test is deterministic). Values are
    continuous (no ties: esda divides by the total before comparing, so a tied sum can fall
    either side by rounding), and only cells with p <= 0.4 are compared: there esda's folded
    p_sim is the upper tail (its fold flips at 0.5, 20 standard errors away).
    """
    esda = pytest.importorskip("esda")
    from libpysal.weights import lat2W

    rng = np.random.default_rng(21)
    vals = rng.gamma(0.6, 3.0, (9, 11))
    vals[3:6, 5:8] += 6.0  # a hot 3 x 3 block
    ny, nx = vals.shape
    n_perm = 9_999
    iy, ix = np.nonzero(np.ones_like(vals))
    ours = gi_star_grid(ix, iy, vals[iy, ix], permutations=n_perm, seed=0)
    ref = esda.G_Local(
        vals.ravel(),
        lat2W(ny, nx, rook=False),
        transform="B",
        star=True,
        permutations=n_perm,
        seed=1,
    )
    ids = ours.iy * nx + ours.ix
    esda_p = ref.p_sim[ids]
    upper = ours.p_value <= 0.4  # folded = upper tail here (fewer than half the draws reach)
    assert upper.sum() >= 20 and ours.p_value.min() <= 0.001
    se = np.sqrt(2 * ours.p_value * (1 - ours.p_value) / n_perm)
    gap = np.abs(ours.p_value - esda_p)
    assert np.all(gap[upper] <= 4 * se[upper] + 2 / (n_perm + 1))
    # the smallest p-values, the ones that decide harm spots, agree to the same tolerance
    hot = np.argsort(ours.p_value)[:5]
    assert np.all(gap[hot] <= 4 * se[hot] + 2 / (n_perm + 1))


def test_bad_engine_and_workers_are_one_line_option_errors(monkeypatch):
    vals, mask = fractional_grid()
    with pytest.raises(OptionError, match=r"engine must be one of \('auto', 'numba', 'numpy'\)"):
        run(vals, mask, permutations=9, engine="fortran")
    with pytest.raises(OptionError, match="workers must be at least 1"):
        run(vals, mask, permutations=9, workers=0)
    monkeypatch.setattr(_gistar, "have_numba", lambda: False)
    with pytest.raises(OptionError, match=r"pip install 'hotspots\[fast\]'"):
        run(vals, mask, permutations=9, engine="numba")
    # auto falls back to numpy without numba
    assert run(vals, mask, permutations=9, engine="auto").permutations == 9
