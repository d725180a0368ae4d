"""Space-time pair enumeration: unordered pairs of events within a distance.

Pairs come from a k-d tree (``scipy.spatial.cKDTree.query_pairs``), so memory grows with
the number of close pairs, never with the square of the number of events.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
from scipy.spatial import cKDTree

from hotspots._validate import check_choice, check_positive
from hotspots.errors import InputError

__all__ = ["DISTANCE_TICK_M", "Metric", "METRICS", "close_pairs", "distance_ticks"]

Metric = Literal["euclidean", "manhattan"]
METRICS: tuple[str, ...] = get_args(Metric)

# Distances are compared with band edges after rounding to this step (a micrometre), so
# float noise such as 100.00000000000001 m counts as exactly 100 m.
DISTANCE_TICK_M = 1e-6


def distance_ticks(distance_m: np.ndarray | float) -> np.ndarray:
    """Distances (metres) as whole micrometres, the unit band edges are compared in."""
    return np.rint(np.asarray(distance_m, dtype="float64") / DISTANCE_TICK_M).astype(np.int64)


def _pair_distance(xy: np.ndarray, i: np.ndarray, j: np.ndarray, metric: str) -> np.ndarray:
    dx = xy[i, 0] - xy[j, 0]
    dy = xy[i, 1] - xy[j, 1]
    if metric == "manhattan":
        return np.abs(dx) + np.abs(dy)
    return np.hypot(dx, dy)


def close_pairs(
    xy: np.ndarray, *, max_distance_m: float, metric: Metric = "euclidean"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unordered pairs ``i < j`` of points no more than ``max_distance_m`` apart.

    Parameters
    ----------
    xy
        Array of shape (n, 2) of projected coordinates in metres.
    max_distance_m
        Largest distance kept, in metres (inclusive: a pair exactly this far apart is kept;
        distances are compared in whole micrometres, see ``DISTANCE_TICK_M``).
    metric
        ``"euclidean"`` (straight line, default) or ``"manhattan"`` (``|dx| + |dy|``).

    Returns
    -------
    tuple of numpy.ndarray
        ``i`` and ``j`` (int64, ``i < j``, sorted by ``i`` then ``j``) and ``distance_m``
        (float64, metres).

    Raises
    ------
    OptionError
        If ``max_distance_m`` is negative or not finite, or ``metric`` is unknown.

    Examples
    --------
    >>> i, j, d = close_pairs(np.array([[0.0, 0.0], [3.0, 4.0], [50.0, 0.0]]), max_distance_m=5)
    >>> i.tolist(), j.tolist(), d.tolist()
    ([0], [1], [5.0])
    """
    check_positive(max_distance_m, name="max_distance_m", allow_zero=True)
    check_choice(metric, METRICS, name="metric")
    pts = np.asarray(xy, dtype="float64")
    if pts.ndim != 2 or pts.shape[1] != 2:
        msg = f"xy must have shape (n, 2) (one x, y row per event); got {pts.shape}."
        raise InputError(msg)
    if not np.isfinite(pts).all():
        msg = "xy has NaN or infinite coordinates; drop or fix those points first."
        raise InputError(msg)
    empty = np.empty(0, dtype=np.int64)
    if len(pts) < 2:
        return empty, empty.copy(), np.empty(0, dtype="float64")
    # query slightly wider than asked, then decide on the rounded distance ourselves, so
    # the tree's own float comparisons never decide a pair sitting exactly on the edge
    slack_m = max_distance_m * 1e-9 + 10 * DISTANCE_TICK_M
    tree = cKDTree(pts)
    pairs = tree.query_pairs(
        max_distance_m + slack_m, p=1.0 if metric == "manhattan" else 2.0, output_type="ndarray"
    )
    i = pairs[:, 0].astype(np.int64)
    j = pairs[:, 1].astype(np.int64)
    dist = _pair_distance(pts, i, j, metric)
    keep = distance_ticks(dist) <= distance_ticks(max_distance_m)
    i, j, dist = i[keep], j[keep], dist[keep]
    order = np.lexsort((j, i))
    return i[order], j[order], dist[order]
