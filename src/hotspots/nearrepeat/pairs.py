"""Space-time pair enumeration: unordered pairs of events within a distance.

Pairs come from a k-d tree (``scipy.spatial.cKDTree.query_pairs``), so memory grows with
the number of close pairs, never with the square of the number of events. Above
``TILE_MIN_EVENTS`` events the search runs per square tile (``TILE_M``, 20 km): each
tile's events against the events of the tile and a halo of the search distance around
it, a pair kept only by the tile of its first event, so the tree and its candidate pairs
follow the largest tile, and the pairs are exactly those of one search.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal, get_args

import numpy as np
from scipy.spatial import cKDTree

from hotspots._validate import check_choice, check_positive
from hotspots.errors import InputError

__all__ = [
    "DISTANCE_TICK_M",
    "METRICS",
    "TILE_M",
    "TILE_MIN_EVENTS",
    "Metric",
    "close_pairs",
    "distance_ticks",
    "tiles_with_halo",
]

Metric = Literal["euclidean", "manhattan"]
METRICS: tuple[str, ...] = get_args(Metric)

# Distances are compared with band edges after rounding to this step (a micrometre), so
# float noise such as 100.00000000000001 m counts as exactly 100 m.
DISTANCE_TICK_M = 1e-6
TILE_M = 20_000.0  # side of the square tiles a big search is split into
TILE_MIN_EVENTS = 100_000  # fewer events: one search over all (small runs unchanged)


def distance_ticks(distance_m: np.ndarray | float) -> np.ndarray:
    """Distances (metres) as whole micrometres, the unit band edges are compared in."""
    return np.rint(np.asarray(distance_m, dtype="float64") / DISTANCE_TICK_M).astype(np.int64)


def _pair_distance(xy: np.ndarray, i: np.ndarray, j: np.ndarray, metric: str) -> np.ndarray:
    dx = xy[i, 0] - xy[j, 0]
    dy = xy[i, 1] - xy[j, 1]
    if metric == "manhattan":
        return np.abs(dx) + np.abs(dy)
    return np.hypot(dx, dy)


def tiles_with_halo(
    xy: np.ndarray, *, tile_m: float, halo_m: float
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per non-empty square tile: which points it owns, and the points of tile + halo.

    Tiles are ``tile_m`` squares on the CRS origin (``floor(x / tile_m)``); the halo is
    every point within ``halo_m`` of the tile in x and in y (``halo_m <= tile_m``, so only
    the 3 x 3 neighbouring tiles are looked at). Yields ``(owned, near)``: a boolean mask
    over all points (True for the tile's own points) and the ascending indices of the
    tile's and halo's points. Any pair of points no more than ``halo_m`` apart (Euclidean
    or Manhattan) lies inside the ``near`` set of its first point's tile.
    """
    if halo_m > tile_m:
        msg = f"halo_m ({halo_m} m) must not exceed tile_m ({tile_m} m); use larger tiles."
        raise InputError(msg)
    tx = np.floor(xy[:, 0] / tile_m).astype(np.int64)
    ty = np.floor(xy[:, 1] / tile_m).astype(np.int64)
    keys = np.stack([tx, ty], axis=1)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(len(uniq) + 1))
    members = {(int(u[0]), int(u[1])): order[starts[k] : starts[k + 1]] for k, u in enumerate(uniq)}
    owned = np.zeros(len(xy), dtype=bool)
    for (cx, cy), mine in members.items():
        around = [
            members[(cx + dx, cy + dy)]
            for dx in (-1, 0, 1)
            for dy in (-1, 0, 1)
            if (cx + dx, cy + dy) in members
        ]
        cand = np.sort(np.concatenate(around))
        x0, y0 = cx * tile_m - halo_m, cy * tile_m - halo_m
        x1, y1 = (cx + 1) * tile_m + halo_m, (cy + 1) * tile_m + halo_m
        cx_, cy_ = xy[cand, 0], xy[cand, 1]
        near = cand[(cx_ >= x0) & (cx_ <= x1) & (cy_ >= y0) & (cy_ <= y1)]
        owned[mine] = True
        yield owned, near
        owned[mine] = False


def close_pairs(
    xy: np.ndarray,
    *,
    max_distance_m: float,
    metric: Metric = "euclidean",
    tile_m: float | None = None,
    tile_min_events: int | None = None,
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
    tile_m, tile_min_events
        With at least ``tile_min_events`` points (default 100,000) the search runs per
        ``tile_m`` tile (default 20 km) with a halo of ``max_distance_m`` (see
        :func:`tiles_with_halo`); the pairs are the same, memory follows the largest tile.
        A distance wider than a tile is searched in one go.

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
    radius_m = max_distance_m + slack_m
    tile_m = TILE_M if tile_m is None else float(tile_m)
    tile_min_events = TILE_MIN_EVENTS if tile_min_events is None else int(tile_min_events)
    p = 1.0 if metric == "manhattan" else 2.0
    if len(pts) < tile_min_events or radius_m > tile_m:
        pairs = cKDTree(pts).query_pairs(radius_m, p=p, output_type="ndarray")
        i = pairs[:, 0].astype(np.int64)
        j = pairs[:, 1].astype(np.int64)
    else:
        parts_i, parts_j = [], []
        for own, near in tiles_with_halo(pts, tile_m=tile_m, halo_m=radius_m):
            local = cKDTree(pts[near]).query_pairs(radius_m, p=p, output_type="ndarray")
            a, b = near[local[:, 0]], near[local[:, 1]]  # near is ascending: a < b
            mine = own[a]  # the pair belongs to the tile of its first event
            parts_i.append(a[mine])
            parts_j.append(b[mine])
        i = np.concatenate(parts_i).astype(np.int64) if parts_i else empty.copy()
        j = np.concatenate(parts_j).astype(np.int64) if parts_j else empty.copy()
    dist = _pair_distance(pts, i, j, metric)
    keep = distance_ticks(dist) <= distance_ticks(max_distance_m)
    i, j, dist = i[keep], j[keep], dist[keep]
    order = np.lexsort((j, i))
    return i[order], j[order], dist[order]
