"""Gi* on the grid against esda's G_Local, Benjamini-Hochberg against scipy, FDR control."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hotspots.schema import GI_P, GI_Z, HARM, OCCURRED_AT, OFFENCE, SPOT_ID
from hotspots.spots import benjamini_hochberg, find_spots, gi_star_grid


def small_grid(seed: int = 1, ny: int = 6, nx: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vals = rng.poisson(2, (ny, nx)).astype(float)
    vals[2, 3] += 30
    vals[2, 4] += 12
    return vals


def test_z_scores_equal_esda_g_local_star():
    esda = pytest.importorskip("esda")
    from libpysal.weights import lat2W

    vals = small_grid()
    ny, nx = vals.shape
    iy, ix = np.nonzero(np.ones_like(vals))
    ours = gi_star_grid(ix, iy, vals[iy, ix], permutations=0)
    w = lat2W(ny, nx, rook=False)  # queen; id = row * nx + col
    ref = esda.G_Local(vals.ravel(), w, transform="B", star=True, permutations=0)
    ids = ours.iy * nx + ours.ix
    np.testing.assert_allclose(ours.z, ref.Zs[ids], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.p_value[ours.z > 0], ref.p_norm[ids][ours.z > 0], rtol=1e-9)
    assert ours.n_neighbours.tolist().count(4) == 4  # corners: 3 neighbours + self


def test_permutation_p_values_are_seeded():
    # agreement with esda is pinned below against esda's own kept simulations
    vals = small_grid()
    iy, ix = np.nonzero(np.ones_like(vals))
    ours = gi_star_grid(ix, iy, vals[iy, ix], permutations=999, seed=0)
    again = gi_star_grid(ix, iy, vals[iy, ix], permutations=999, seed=0)
    other = gi_star_grid(ix, iy, vals[iy, ix], permutations=999, seed=1)
    np.testing.assert_array_equal(again.p_value, ours.p_value)
    assert not np.array_equal(other.p_value, ours.p_value)


def test_permutation_p_values_are_esdas_conditional_randomisation_upper_tail():
    """Ours = esda's conditional randomisation scored with alternative="greater".

    esda's ``G_Local(star=True).p_sim`` folds the tails ("directed"); from its kept
    simulations (``rGs``) the upper-tail p-value is ``(#{rGs >= G} + 1) / (P + 1)``, the
    definition ours documents. A sparse grid (many all-zero neighbourhoods) shows where
    the folded value differs: esda gives those cells ``1 / (P + 1)``, ours 1.
    """
    esda = pytest.importorskip("esda")
    from libpysal.weights import lat2W

    rng = np.random.default_rng(5)
    vals = np.where(rng.random((6, 7)) < 0.3, rng.poisson(3, (6, 7)), 0).astype(float)
    vals[0:2, 0:2] = 0.0  # an all-zero neighbourhood in the corner
    vals[3, 4] += 25
    ny, nx = vals.shape
    iy, ix = np.nonzero(np.ones_like(vals))
    n_perm = 19_999
    ours = gi_star_grid(ix, iy, vals[iy, ix], permutations=n_perm, seed=0)
    ref = esda.G_Local(
        vals.ravel(),
        lat2W(ny, nx, rook=False),
        transform="B",
        star=True,
        permutations=n_perm,
        seed=3,
        keep_simulations=True,
    )
    ids = ours.iy * nx + ours.ix
    gs = ref.Gs[ids]
    sims = ref.rGs[ids]
    upper = ((sims >= gs[:, None] - 1e-12 * np.abs(gs[:, None])).sum(axis=1) + 1) / (n_perm + 1)
    # Monte-Carlo error of two independent estimates of the same p: 4 standard errors
    se = np.sqrt(2 * upper * (1 - upper) / n_perm)
    assert np.all(np.abs(ours.p_value - upper) <= 4 * se + 2 / (n_perm + 1))
    corner = (ours.ix == 0) & (ours.iy == 0)
    assert ours.p_value[corner] == pytest.approx(1.0)
    assert ref.p_sim[ids][corner] == pytest.approx(1 / (n_perm + 1))  # esda's folded tail


def test_study_mask_keeps_zero_cells_and_drops_outside():
    vals = np.zeros((3, 3))
    vals[1, 1] = 9.0
    iy, ix = np.nonzero(vals)
    mask = np.ones((3, 3), dtype=bool)
    mask[0, 0] = False
    full = gi_star_grid(
        np.array([0, 2, 1]), np.array([0, 2, 1]), np.array([0.0, 0.0, 9.0]), permutations=0
    )
    masked = gi_star_grid(
        np.array([0, 2, 1]),
        np.array([0, 2, 1]),
        np.array([0.0, 0.0, 9.0]),
        in_study=mask,
        permutations=0,
    )
    assert len(full.ix) == 9 and len(masked.ix) == 8
    # hand-worked: n = 9, mean 1, population sd sqrt(9 - 1) = sqrt(8); centre cell k = 9
    # z = (9 - 9 * 1) / ... = 0; corner cell (0,2): k = 4, L = 9 -> z = 5 / (sqrt(8) sqrt(4*5/8))
    corner = (full.ix == 2) & (full.iy == 0)
    assert full.z[corner][0] == pytest.approx(5 / (np.sqrt(8) * np.sqrt(20 / 8)))


@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.2])
def test_benjamini_hochberg_matches_scipy(alpha):
    rng = np.random.default_rng(4)
    p = np.concatenate([rng.uniform(0, 1, 300), rng.uniform(0, 0.002, 30)])
    reject, threshold = benjamini_hochberg(p, alpha=alpha)
    adjusted = stats.false_discovery_control(p, method="bh")
    np.testing.assert_array_equal(reject, adjusted <= alpha)
    assert threshold == pytest.approx(p[reject].max())


def test_benjamini_hochberg_hand_example():
    # m = 4: thresholds 0.0125, 0.025, 0.0375, 0.05; p(3) = 0.03 <= 0.0375 so three rejected
    reject, threshold = benjamini_hochberg(np.array([0.03, 0.5, 0.001, 0.02]), alpha=0.05)
    assert reject.tolist() == [True, False, True, True]
    assert threshold == pytest.approx(0.03)


def test_fdr_controls_false_hot_spots_under_the_null():
    """With no hot spot anywhere, runs with any discovery stay near alpha (BH bound)."""
    rng = np.random.default_rng(12)
    iy, ix = np.nonzero(np.ones((20, 20)))
    runs = 1000
    any_found = sum(
        bool(gi_star_grid(ix, iy, rng.normal(10, 2, len(ix)), permutations=0).significant.any())
        for _ in range(runs)
    )
    assert any_found / runs <= 0.075  # alpha 0.05 plus three binomial standard errors
    # without FDR control, a per-cell test at 0.05 flags something in nearly every run
    res = gi_star_grid(ix, iy, rng.normal(10, 2, len(ix)), permutations=0)
    assert (res.p_value <= 0.05).any()


def test_false_discovery_proportion_with_a_planted_spot():
    rng = np.random.default_rng(13)
    iy, ix = np.nonzero(np.ones((20, 20)))
    fdp, found = [], []
    for _ in range(300):
        vals = rng.normal(10, 2, (20, 20))
        vals[5:8, 5:8] += 6
        res = gi_star_grid(ix, iy, vals[iy, ix], permutations=0)
        near = (res.ix >= 4) & (res.ix <= 8) & (res.iy >= 4) & (res.iy <= 8)
        fdp.append((res.significant & ~near).sum() / max(res.significant.sum(), 1))
        found.append(res.significant[(res.ix == 6) & (res.iy == 6)][0])
    assert np.mean(fdp) <= 0.05
    assert np.mean(found) > 0.9


def test_planted_hot_spot_is_found_with_permutations():
    rng = np.random.default_rng(2)
    vals = rng.poisson(1.0, (25, 25)).astype(float)
    vals[10:13, 10:13] += 15
    iy, ix = np.nonzero(np.ones_like(vals))
    res = gi_star_grid(ix, iy, vals[iy, ix], permutations=999, seed=0)
    hot = set(zip(res.ix[res.significant].tolist(), res.iy[res.significant].tolist(), strict=True))
    assert {(11, 11), (10, 10), (12, 12)} <= hot
    assert all(9 <= x <= 13 and 9 <= y <= 13 for x, y in hot)


def test_find_spots_gistar_ranks_significant_cells_by_harm():
    rng = np.random.default_rng(8)
    n = 1500
    x = np.concatenate([rng.uniform(0, 3000, n), rng.normal(1500, 40, 200)])
    y = np.concatenate([rng.uniform(0, 3000, n), rng.normal(1500, 40, 200)])
    data = gpd.GeoDataFrame(
        {
            OCCURRED_AT: [pd.Timestamp("2025-03-01", tz="Europe/London")] * len(x),
            OFFENCE: "Robbery",
            HARM: 10.0,
        },
        geometry=gpd.points_from_xy(600_000 + x, 200_000 + y),
        crs=27700,
    )
    result = find_spots(data, method="gistar", top=50, offences=["Robbery"], permutations=9999)
    spots = result.spots
    assert len(spots) > 0
    assert spots["harm"].is_monotonic_decreasing
    threshold = result.summary["gistar"]["p_threshold"]
    assert (spots[GI_P] <= threshold).all() and (spots[GI_Z] > 0).all()
    # cells with more harm that are not significant are not chosen
    cands = result.candidates.set_index(SPOT_ID)
    unchosen = cands.drop(index=spots[SPOT_ID])
    assert (
        (unchosen[GI_P] > threshold)
        | (unchosen[GI_Z] <= 0)
        | (unchosen["harm"] <= spots["harm"].min())
    ).all()
    assert result.summary["gistar"]["n_cells_tested"] >= 20 * 20


def test_gistar_says_when_permutations_are_too_coarse():
    rng = np.random.default_rng(3)
    data = gpd.GeoDataFrame(
        {
            OCCURRED_AT: [pd.Timestamp("2025-03-01", tz="Europe/London")] * 300,
            OFFENCE: "Robbery",
            HARM: 1.0,
        },
        geometry=gpd.points_from_xy(
            600_000 + rng.uniform(0, 30_000, 300), 200_000 + rng.uniform(0, 30_000, 300)
        ),
        crs=27700,
    )
    result = find_spots(data, method="gistar", top=5, offences=["Robbery"], permutations=9)
    assert len(result.spots) == 0
    assert any("too coarse for FDR" in n for n in result.summary["notes"])
