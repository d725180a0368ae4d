"""Harm-weighted density clusters (DBSCAN with crime harm as the sample weight).

A point is a core point when the harm within ``eps_m`` metres of it (itself included) is
at least ``min_harm`` (Ester et al. 1996, with scikit-learn's ``sample_weight``). Each
cluster becomes a compact, patrollable polygon: the convex hull of its members buffered
by ``buffer_m``. A cluster wider than ``max_width_m`` is cut along the fixed ``cell_m``
grid into pieces so that no spot is too big to patrol on foot in a 15-minute visit.
"""

from __future__ import annotations

import inspect
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from hotspots._validate import check_positive, require_columns, require_metric_crs
from hotspots.config import CELL_M, EPS_M, MIN_HARM
from hotspots.errors import OptionError
from hotspots.schema import HARM
from hotspots.spots._grid import bng_reference, grid_cells

__all__ = ["HarmSpotClusterer"]


class _Estimator:
    """The scikit-learn estimator contract without importing scikit-learn.

    Parameters are the keyword arguments of ``__init__``, stored unchanged; ``get_params``
    and ``set_params`` work as scikit-learn's, so ``sklearn.base.clone`` and grid searches
    accept the estimator. Importing scikit-learn only for ``BaseEstimator`` cost about
    0.8 s of every run that never clusters (``python -X importtime``).
    """

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return sorted(
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameter names mapped to their values (``deep`` accepted for compatibility)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> _Estimator:
        """Set parameters by name; unknown names raise ``OptionError`` listing the valid ones."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                msg = f"{type(self).__name__} has no parameter {name!r}; valid: {valid}."
                raise OptionError(msg)
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        """``Name(param=value, ...)`` listing the parameters that differ from the defaults."""
        sig = inspect.signature(type(self).__init__)
        changed = [
            f"{k}={v!r}"
            for k, v in self.get_params().items()
            if sig.parameters[k].default is inspect.Parameter.empty
            or v != sig.parameters[k].default
        ]
        return f"{type(self).__name__}({', '.join(changed)})"


class HarmSpotClusterer(_Estimator):
    """Density clusters of harm: a spot needs at least ``min_harm`` harm within ``eps_m``.

    Parameters
    ----------
    eps_m
        Neighbourhood radius in metres (default 150).
    min_harm
        Harm (e.g. CCHI days) needed within ``eps_m`` of a core point (default 2000).
    buffer_m
        Buffer around each cluster's convex hull, metres (default 25).
    max_width_m
        Clusters whose members' bounding box is longer than this on either side
        (metres) are split along the ``cell_m`` grid (default 300).
    cell_m
        Grid used to split wide clusters (default 150).
    snap_m
        Incidents in the same ``snap_m`` square are merged into one weighted point before
        clustering (default ``eps_m / 5``, e.g. 30 m); 0 merges only identical points
        (exact DBSCAN: the labels of scikit-learn's ``DBSCAN(eps=eps_m,
        min_samples=min_harm).fit(xy, sample_weight=harm)`` up to the cluster numbers,
        border points shared by two clusters included; slower on large dense data).

    Attributes
    ----------
    labels_ : numpy.ndarray
        Cluster piece of each incident (-1 noise), numbered by descending harm.
    spots_ : geopandas.GeoDataFrame
        One row per piece: ``label``, ``spot_id``, ``harm``, ``n_incidents``, ``split``
        (True when cut from a wider cluster), ``cluster`` (DBSCAN cluster), geometry.

    Examples
    --------
    >>> pts = gpd.GeoDataFrame({"harm": [6.0, 6.0, 6.0]}, crs=27700,
    ...                        geometry=gpd.points_from_xy([0, 50, 900], [0, 0, 0]))
    >>> HarmSpotClusterer(eps_m=100, min_harm=10).fit(pts).labels_.tolist()
    [0, 0, -1]
    """

    def __init__(
        self,
        *,
        eps_m: float = EPS_M,
        min_harm: float = MIN_HARM,
        buffer_m: float = 25.0,
        max_width_m: float = 300.0,
        cell_m: float = CELL_M,
        snap_m: float | None = None,
    ) -> None:
        self.eps_m = eps_m
        self.min_harm = min_harm
        self.buffer_m = buffer_m
        self.max_width_m = max_width_m
        self.cell_m = cell_m
        self.snap_m = snap_m

    def fit(self, incidents: gpd.GeoDataFrame, y: None = None) -> HarmSpotClusterer:
        """Cluster ``incidents`` (points with a ``harm`` column, metric CRS)."""
        require_metric_crs(incidents, what="incidents")
        require_columns(
            incidents,
            [HARM],
            what="incidents",
            fix="Weight them first with hotspots.harm.apply_harm.",
        )
        eps_m = check_positive(self.eps_m, name="eps_m")
        min_harm = check_positive(self.min_harm, name="min_harm")
        buffer_m = check_positive(self.buffer_m, name="buffer_m", allow_zero=True)
        max_width_m = check_positive(self.max_width_m, name="max_width_m")
        cell_m = check_positive(self.cell_m, name="cell_m")
        snap_m = eps_m / 5 if self.snap_m is None else float(self.snap_m)
        check_positive(snap_m, name="snap_m", allow_zero=True)
        xy = incidents.get_coordinates().to_numpy()
        harm = incidents[HARM].to_numpy(dtype="float64")
        labels = np.full(len(xy), -1, dtype="int64")
        if len(xy):
            labels = _weighted_dbscan(xy, harm, eps_m=eps_m, min_harm=min_harm, snap_m=snap_m)
        pieces = _split_wide(xy, labels, max_width_m=max_width_m, cell_m=cell_m)
        self.labels_, self.spots_ = _piece_polygons(
            xy, harm, pieces, labels, buffer_m=buffer_m, crs=incidents.crs
        )
        return self


def _weighted_dbscan(
    xy: np.ndarray, harm: np.ndarray, *, eps_m: float, min_harm: float, snap_m: float
) -> np.ndarray:
    """DBSCAN labels with harm weights.

    Incidents are first merged by location: identical points always (police.uk snap
    points share coordinates: exact), and with ``snap_m > 0`` every incident in the same
    ``snap_m`` grid square is merged into one point at their harm-weighted centre (moves
    a point by less than ``snap_m * sqrt(2)``). Dense clusters then cost hundreds of
    neighbours per point instead of thousands: 1 million incidents fit in seconds and
    about 1 GB instead of minutes and several GB. Each merged point keeps the position of
    its first incident in the input, so clusters are numbered, and border points shared
    by two clusters are assigned, as scikit-learn does on the unmerged incidents (exactly
    so with ``snap_m=0``, where merging identical points changes nothing).
    """
    if snap_m > 0:
        cells = np.floor(xy / snap_m).astype("int64")
        cells -= cells.min(axis=0)
        key = cells[:, 0] * (int(cells[:, 1].max()) + 1) + cells[:, 1]
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
        weights = np.bincount(inverse, weights=harm)
        count = np.bincount(inverse)
        positive = weights > 0
        centre = []
        for axis in (0, 1):
            weighted = np.bincount(inverse, weights=harm * xy[:, axis])
            plain = np.bincount(inverse, weights=xy[:, axis]) / count
            centre.append(np.where(positive, weighted / np.where(positive, weights, 1.0), plain))
        uniq = np.column_stack(centre)
    else:
        uniq, first, inverse = _unique_points(xy)
        weights = np.bincount(inverse, weights=harm, minlength=len(uniq))
    labels = _dbscan_labels(uniq, weights, eps_m=eps_m, min_harm=min_harm, rank=first)
    return labels[inverse]


def _pairs_within(
    tree: cKDTree, points: np.ndarray, start: int, stop: int, eps_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """(i, j) of points[start:stop] (i, numbered from ``start``) and tree points j <= eps."""
    near = cKDTree(points[start:stop]).sparse_distance_matrix(tree, eps_m, output_type="ndarray")
    return near["i"].astype("int64") + start, near["j"].astype("int64")


def _unique_points(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(xy, axis=0, return_index=True, return_inverse=True)``, by a lexsort.

    Sorted by x then y; ``first`` is each distinct point's first position in ``xy``.
    (``np.unique`` with ``axis=0`` sorts the rows as opaque bytes, several times slower.)
    """
    order = np.lexsort((xy[:, 1], xy[:, 0]))  # stable: equal rows keep their input order
    ordered = xy[order]
    new = np.ones(len(xy), dtype=bool)
    new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    starts = np.flatnonzero(new)
    inverse = np.empty(len(xy), dtype="int64")
    inverse[order] = np.cumsum(new) - 1
    return ordered[starts], order[starts], inverse


def _flatten(parent: np.ndarray) -> None:
    """Point every entry of the union-find forest ``parent`` straight at its root."""
    while True:
        grand = parent[parent]
        if np.array_equal(grand, parent):
            return
        parent[:] = grand


def _union(parent: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """Join the components of ``a[k]`` and ``b[k]`` for every k in the forest ``parent``.

    ``parent[v] <= v`` always (a root points at itself), so the forest never has a cycle.
    Each round hooks the larger of the two roots of every unjoined edge onto the smaller
    one (when one root gets several, one write wins and the other edges go round again)
    and flattens the forest; edges already inside one component drop out.
    """
    while len(a):
        _flatten(parent)
        ra, rb = parent[a], parent[b]
        apart = ra != rb
        if not apart.any():
            return
        a, b, ra, rb = a[apart], b[apart], ra[apart], rb[apart]
        parent[np.maximum(ra, rb)] = np.minimum(ra, rb)


def _dbscan_labels(
    points: np.ndarray,
    weights: np.ndarray,
    *,
    eps_m: float,
    min_harm: float,
    rank: np.ndarray | None = None,
    chunk: int = 25_000,
) -> np.ndarray:
    """DBSCAN on weighted points in one pass over their neighbour pairs, memory bounded.

    A point is core when the weight within ``eps_m`` (itself included, distance <= eps)
    reaches ``min_harm``; clusters are the connected components of core points linked
    within ``eps_m``. Clusters are numbered in the order of their first core point by
    ``rank`` (default: position), and a border point (not core, within ``eps_m`` of a core
    point) joins the lowest-numbered cluster among its core neighbours. That is exactly
    scikit-learn's ``DBSCAN(sample_weight=)``: its ``dbscan_inner`` starts a cluster at
    each unlabelled core point in index order and expands it completely before the next,
    so a border point reachable from two clusters goes to the one started first.

    The points are visited in blocks of ``chunk``. A block's pairs give its points' weight
    within ``eps_m`` completely, so their core status is known at once; the pairs whose
    other end comes earlier (``j < i``) then have both statuses known: core-core pairs join
    their components in a union-find forest (:func:`_union`) and are dropped, border-core
    pairs are kept. Every unordered pair is seen once this way, the pair search runs once
    and memory holds one block's pairs, not all of them.
    """
    n = len(points)
    labels = np.full(n, -1, dtype="int64")
    if n == 0:
        return labels
    rank = np.arange(n) if rank is None else np.asarray(rank, dtype="int64")
    tree = cKDTree(points)
    core = np.zeros(n, dtype=bool)
    threshold = min_harm * (1 - 1e-12)
    parent = np.arange(n)
    reach: list[tuple[np.ndarray, np.ndarray]] = []  # (border point, core neighbour)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        i, j = _pairs_within(tree, points, start, stop, eps_m)
        near = np.bincount(i - start, weights=weights[j], minlength=stop - start)
        core[start:stop] = near >= threshold
        back = j < i  # the other end's core status is known (earlier block, or this one)
        i, j = i[back], j[back]
        core_i, core_j = core[i], core[j]
        both = core_i & core_j
        _union(parent, i[both], j[both])
        one = core_i != core_j
        reach.append((np.where(core_i, j, i)[one], np.where(core_i, i, j)[one]))
    core_idx = np.flatnonzero(core)
    if len(core_idx) == 0:
        return labels
    _flatten(parent)
    comp = parent[core_idx]
    # number clusters by their first core point in ``rank`` order, as scikit-learn does
    first = np.full(n, np.iinfo("int64").max, dtype="int64")
    np.minimum.at(first, comp, rank[core_idx])
    used = np.flatnonzero(first < np.iinfo("int64").max)
    number = np.full(len(first), -1, dtype="int64")
    number[used[np.argsort(first[used], kind="stable")]] = np.arange(len(used))
    labels[core_idx] = number[comp]
    border = np.concatenate([a for a, _ in reach])
    if len(border):
        near_core = np.concatenate([b for _, b in reach])
        best = np.full(n, np.iinfo("int64").max, dtype="int64")
        np.minimum.at(best, border, labels[near_core])  # the lowest cluster number wins
        reached = np.unique(border)
        labels[reached] = best[reached]
    return labels


def _split_wide(
    xy: np.ndarray, labels: np.ndarray, *, max_width_m: float, cell_m: float
) -> np.ndarray:
    """Piece key per point: the cluster, or cluster x grid cell for too-wide clusters.

    A cluster is too wide when its members' bounding box is longer than ``max_width_m``
    on either side.
    """
    pieces = labels.copy()
    member = labels >= 0
    if not member.any():
        return pieces
    n_clusters = int(labels.max()) + 1
    lab = labels[member]
    width = np.zeros(n_clusters)
    for axis in (0, 1):
        lo = np.full(n_clusters, np.inf)
        hi = np.full(n_clusters, -np.inf)
        np.minimum.at(lo, lab, xy[member, axis])
        np.maximum.at(hi, lab, xy[member, axis])
        width = np.maximum(width, hi - lo)
    wide = width > max_width_m
    if not wide.any():
        return pieces
    is_wide = member & wide[np.where(member, labels, 0)]
    ix, iy = grid_cells(xy[is_wide, 0], xy[is_wide, 1], cell_m=cell_m)
    ix, iy = ix - ix.min(), iy - iy.min()
    span_x, span_y = int(ix.max()) + 1, int(iy.max()) + 1
    key = (labels[is_wide] * span_x + ix) * span_y + iy
    _, codes = np.unique(key, return_inverse=True)
    pieces[is_wide] = n_clusters + codes.ravel()
    return pieces


def _hulls(xy: np.ndarray, keys: np.ndarray) -> pd.Series:
    """Convex hull of the points of each key (index: key)."""
    order = np.argsort(keys, kind="stable")
    uniq, starts = np.unique(keys[order], return_index=True)
    multi = shapely.multipoints(
        xy[order], indices=np.repeat(np.arange(len(uniq)), np.diff(np.append(starts, len(keys))))
    )
    return pd.Series(shapely.convex_hull(multi), index=uniq)


def _piece_polygons(
    xy: np.ndarray,
    harm: np.ndarray,
    pieces: np.ndarray,
    labels: np.ndarray,
    *,
    buffer_m: float,
    crs: object,
) -> tuple[np.ndarray, gpd.GeoDataFrame]:
    member = pieces >= 0
    columns = ["label", "spot_id", HARM, "n_incidents", "split", "cluster"]
    if not member.any():
        empty = gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=crs)
        return np.full(len(xy), -1, dtype="int64"), empty
    frame = pd.DataFrame(
        {
            "piece": pieces[member],
            "cluster": labels[member],
            HARM: harm[member],
            "x": xy[member, 0],
            "y": xy[member, 1],
        }
    )
    frame["wx"] = frame["x"] * frame[HARM]
    frame["wy"] = frame["y"] * frame[HARM]
    agg = frame.groupby("piece").agg(
        harm=(HARM, "sum"),
        n_incidents=(HARM, "size"),
        cluster=("cluster", "first"),
        wx=("wx", "sum"),
        wy=("wy", "sum"),
        mx=("x", "mean"),
        my=("y", "mean"),
    )
    hulls = _hulls(xy[member], pieces[member]).reindex(agg.index)
    geoms = shapely.buffer(hulls.to_numpy(), max(buffer_m, 1e-6), quad_segs=4)
    positive = agg[HARM] > 0
    cx = np.where(positive, agg["wx"] / agg[HARM].where(positive, 1.0), agg["mx"])
    cy = np.where(positive, agg["wy"] / agg[HARM].where(positive, 1.0), agg["my"])
    spot_ids = _dbscan_ids(cx, cy, crs=crs)
    n_per_cluster = agg.groupby("cluster")[HARM].transform("size")
    table = gpd.GeoDataFrame(
        {
            "piece": agg.index.to_numpy(),
            "spot_id": spot_ids,
            HARM: agg[HARM].to_numpy(),
            "n_incidents": agg["n_incidents"].to_numpy(),
            "split": (n_per_cluster > 1).to_numpy(),
            "cluster": agg["cluster"].to_numpy(),
        },
        geometry=geoms,
        crs=crs,
    )
    table = table.sort_values(
        [HARM, "n_incidents", "spot_id"], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)
    table.insert(0, "label", np.arange(len(table), dtype="int64"))
    relabel = np.full(int(pieces.max()) + 1, -1, dtype="int64")
    relabel[table["piece"].to_numpy()] = table["label"].to_numpy()
    out_labels = np.where(member, relabel[np.where(member, pieces, 0)], -1)
    return out_labels, table.drop(columns=["piece"])


def _dbscan_ids(cx: np.ndarray, cy: np.ndarray, *, crs: object) -> np.ndarray:
    """``D`` + the 1 m grid reference of the harm-weighted centre (BNG), else ``Dx_y``."""
    from hotspots.spots._grid import _is_bng

    base = (
        "Dx"
        + pd.Series(np.round(cx).astype("int64")).astype(str)
        + "_y"
        + pd.Series(np.round(cy).astype("int64")).astype(str)
    ).to_numpy(dtype=object)
    if _is_bng(crs):
        refs = bng_reference(np.round(cx), np.round(cy), digits=5)
        base = np.where(refs == "", base, "D" + refs.astype(str))
    # two pieces with the same centre (to the metre) get a suffix so ids stay unique
    ids = pd.Series(base)
    dup = ids.groupby(ids).cumcount()
    return np.where(dup > 0, ids + "-" + dup.astype(str), ids).astype(object)
