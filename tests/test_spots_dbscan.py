"""Harm DBSCAN exact mode (snap_m=0) against scikit-learn, border points shared by clusters."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from hotspots.schema import HARM
from hotspots.spots import HarmSpotClusterer
from hotspots.spots._dbscan import _dbscan_labels, _unique_points, _weighted_dbscan

sklearn_cluster = pytest.importorskip("sklearn.cluster")

# Two clusters of four points 200 m apart on a line and one point midway (eps 100 m, each
# point harm 1, min_harm 4). Every cluster point has its three partners within 30 m: core.
# The midpoint has itself and the two facing cluster ends within exactly 100 m: harm 3, a
# border point reachable from both clusters.
LEFT = [(0.0, 0.0), (-10.0, 0.0), (-20.0, 0.0), (-30.0, 0.0)]
RIGHT = [(200.0, 0.0), (210.0, 0.0), (220.0, 0.0), (230.0, 0.0)]
MIDDLE = [(100.0, 0.0)]


def sklearn_labels(xy, weights, *, eps_m, min_harm):
    return (
        sklearn_cluster.DBSCAN(eps=eps_m, min_samples=min_harm)
        .fit(xy, sample_weight=weights)
        .labels_
    )


@pytest.mark.parametrize(
    ("order", "want"),
    [
        # scikit-learn starts cluster 0 at the first core point in input order and expands it
        # completely, so the shared border point goes to the cluster listed first, whatever
        # the coordinates (our merged points are sorted by x: the old code gave LEFT here)
        ((RIGHT, LEFT, MIDDLE), [0, 0, 0, 0, 1, 1, 1, 1, 0]),
        ((LEFT, RIGHT, MIDDLE), [0, 0, 0, 0, 1, 1, 1, 1, 0]),
        ((MIDDLE, RIGHT, LEFT), [0, 0, 0, 0, 0, 1, 1, 1, 1]),
    ],
    ids=["right-first", "left-first", "border-first-then-right"],
)
def test_border_point_shared_by_two_clusters_hand_worked(order, want):
    xy = np.array([p for part in order for p in part])
    harm = np.ones(len(xy))
    ours = _weighted_dbscan(xy, harm, eps_m=100, min_harm=4, snap_m=0)
    assert ours.tolist() == want
    assert sklearn_labels(xy, harm, eps_m=100, min_harm=4).tolist() == want


def test_duplicates_keep_the_position_of_their_first_incident():
    # RIGHT's first point is given twice, once at the very start: RIGHT is cluster 0
    xy = np.array(LEFT + MIDDLE + RIGHT + [RIGHT[0]])
    xy = np.vstack([xy[-1:], xy[:-1]])
    harm = np.ones(len(xy))
    ours = _weighted_dbscan(xy, harm, eps_m=100, min_harm=4, snap_m=0)
    ref = sklearn_labels(xy, harm, eps_m=100, min_harm=4)
    np.testing.assert_array_equal(ours, ref)
    assert ours[5] == ours[0] == 0  # the midpoint joins RIGHT


def touching_clusters(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Dense blobs whose edges overlap within eps, on a 1 m lattice (ties and duplicates)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 1500, (24, 2))
    blobs = [c + rng.normal(0, 35, (int(rng.integers(40, 120)), 2)) for c in centres]
    xy = np.vstack([*blobs, rng.uniform(-100, 1600, (400, 2))]).round(0)
    xy = xy[rng.permutation(len(xy))]
    weights = rng.choice([1.0, 2.0, 5.0, 0.5], len(xy))
    return xy, weights


def shared_border_points(xy, weights, labels, *, eps_m, min_harm):
    """Indices of non-core points within eps of core points of two or more clusters."""
    d2 = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=-1)
    near = d2 <= eps_m * eps_m
    core = (near * weights[None, :]).sum(axis=1) >= min_harm
    out = []
    for k in np.flatnonzero(~core):
        reach = set(labels[near[k] & core].tolist())
        if len(reach) > 1:
            out.append(k)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("chunk", [25_000, 97, 5], ids=["one-block", "blocks", "tiny-blocks"])
def test_exact_labels_equal_scikit_learn_with_shared_border_points(seed, chunk):
    xy, weights = touching_clusters(seed)
    eps_m, min_harm = 35.0, 15
    ref = sklearn_labels(xy, weights, eps_m=eps_m, min_harm=min_harm)
    shared = shared_border_points(xy, weights, ref, eps_m=eps_m, min_harm=min_harm)
    assert shared, "the fixture must have border points reachable from two clusters"
    uniq, first, inverse = _unique_points(xy)
    merged = np.bincount(inverse, weights=weights)
    ours = _dbscan_labels(uniq, merged, eps_m=eps_m, min_harm=min_harm, rank=first, chunk=chunk)
    np.testing.assert_array_equal(ours[inverse], ref)  # numbering too


@pytest.mark.parametrize("seed", [4, 5])
def test_clusterer_exact_mode_equals_scikit_learn_up_to_relabelling(seed):
    xy, weights = touching_clusters(seed)
    data = gpd.GeoDataFrame(
        {HARM: weights}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=27700
    )
    fitted = HarmSpotClusterer(eps_m=35, min_harm=15, snap_m=0, max_width_m=1e9).fit(data)
    ref = sklearn_labels(xy, weights, eps_m=35, min_harm=15)
    np.testing.assert_array_equal(fitted.labels_ == -1, ref == -1)
    member = ref >= 0
    pairs = set(zip(fitted.labels_[member].tolist(), ref[member].tolist(), strict=True))
    # a bijection: our clusters are ranked by harm, scikit-learn's by first core point
    assert len(pairs) == len(set(ref[member].tolist())) == len(set(fitted.labels_[member]))


def test_no_core_point_gives_all_noise_and_empty_input_is_fine():
    xy = np.array([[0.0, 0.0], [500.0, 0.0]])
    assert _dbscan_labels(xy, np.ones(2), eps_m=10, min_harm=5).tolist() == [-1, -1]
    empty = _dbscan_labels(np.zeros((0, 2)), np.zeros(0), eps_m=10, min_harm=5)
    assert empty.shape == (0,)


def test_dense_blob_in_many_blocks_is_one_cluster():
    # every point within eps of every other: the links of all blocks join into one cluster
    rng = np.random.default_rng(8)
    xy = rng.uniform(0, 20, (600, 2))
    labels = _dbscan_labels(xy, np.ones(600), eps_m=40, min_harm=10, chunk=50)
    assert set(labels.tolist()) == {0}


def test_unique_points_equals_numpy_unique_rows():
    rng = np.random.default_rng(3)
    xy = rng.integers(0, 6, (300, 2)).astype(float)  # many duplicates
    xy[::7, 1] += 0.5
    want = np.unique(xy, axis=0, return_index=True, return_inverse=True)
    got = _unique_points(xy)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, np.asarray(b).ravel() if a.ndim == 1 else b)


def test_union_find_joins_chains_and_stars():
    from hotspots.spots._dbscan import _flatten, _union

    parent = np.arange(10)
    _union(parent, np.array([9, 8, 7, 3, 3, 3]), np.array([8, 7, 6, 0, 1, 2]))  # chain, star
    _flatten(parent)
    assert parent.tolist() == [0, 0, 0, 0, 4, 5, 6, 6, 6, 6]
