"""Forecast-accuracy metrics for hot-spot selections on a grid of equal cells.

Every function works on plain arrays indexed by the study-area cells: a boolean
``selected`` mask (the cells flagged as hot spots) and per-cell ``counts`` or ``harm``
observed in the following period. Cells are equal in area, so a selection's share of
the study area is ``selected.mean()``.

Literature
----------
* Chainey, Tompson & Uhlig (2008), "The utility of hotspot mapping for predicting spatial
  patterns of crime", *Security Journal* 21: hit rate and the Predictive Accuracy Index (PAI).
* Hunt (2016), "Do crime hot spots move? Exploring the effects of the modifiable areal unit
  problem and modifiable temporal unit problem on crime hot spot stability", PhD thesis,
  American University: the Predictive Efficiency Index (PEI = PAI / PAI*).
* Levine (2008), "The 'Hottest' Part of a Hotspot: Comments on 'The Utility of Hotspot
  Mapping...'", *Security Journal* 21: the Recapture Rate Index (RRI).
* Johnson & Bowers (2004), "The burglary as clue to the future", *European Journal of
  Criminology* 1(2): prospective hot-spotting (ProMap), used in :mod:`.methods`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from hotspots._validate import check_positive
from hotspots.errors import OptionError

__all__ = [
    "area_share",
    "harm_capture",
    "harm_pai",
    "hit_rate",
    "n_cells_for_coverage",
    "pai",
    "pei",
    "rri",
    "select_by_coverage",
    "stability",
]


def _mask(selected: np.ndarray, n: int | None = None) -> np.ndarray:
    mask = np.asarray(selected)
    if mask.dtype != bool:
        msg = f"selected must be a boolean mask over the study cells; got dtype {mask.dtype}."
        raise TypeError(msg)
    if n is not None and mask.shape != (n,):
        msg = f"selected has shape {mask.shape} but the per-cell values have {n} cells."
        raise OptionError(msg)
    return mask


def _values(values: np.ndarray, *, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype="float64")
    if arr.ndim != 1:
        msg = f"{name} must be one value per study cell (1-D); got shape {arr.shape}."
        raise OptionError(msg)
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        msg = f"{name} must be finite and >= 0 in every cell."
        raise OptionError(msg)
    return arr


def area_share(selected: np.ndarray) -> float:
    """Share of the study area selected: ``a / A`` = selected cells / all cells (equal cells)."""
    mask = _mask(selected)
    if mask.size == 0:
        msg = "The study area has no cells."
        raise OptionError(msg)
    return float(mask.mean())


def hit_rate(selected: np.ndarray, counts: np.ndarray) -> float:
    """Share of the period's incidents that fall in the selected cells.

    ``hit_rate = n / N`` with ``n`` incidents in the selected cells and ``N`` in the
    study area (Chainey et al. 2008). NaN when the period has no incidents.
    """
    c = _values(counts, name="counts")
    mask = _mask(selected, c.size)
    total = c.sum()
    return float(c[mask].sum() / total) if total > 0 else math.nan


def harm_capture(selected: np.ndarray, harm: np.ndarray) -> float:
    """Share of the period's harm that falls in the selected cells (``h / H``).

    The harm analogue of the hit rate: with harm weights (e.g. Cambridge Crime Harm
    Index days), it measures how much of the harm the spots would have covered.
    """
    return hit_rate(selected, _values(harm, name="harm"))


def pai(selected: np.ndarray, counts: np.ndarray) -> float:
    """Predictive Accuracy Index: ``PAI = (n / N) / (a / A)`` (Chainey et al. 2008).

    Hit rate divided by the share of the area selected. PAI = 1 is what a random
    selection achieves on average; the perfect selection of ``k`` cells holding all
    incidents reaches ``A / a``.
    """
    return hit_rate(selected, counts) / area_share(selected)


def harm_pai(selected: np.ndarray, harm: np.ndarray) -> float:
    """Harm PAI: ``(h / H) / (a / A)``, the PAI with harm in place of counts."""
    return harm_capture(selected, harm) / area_share(selected)


def pei(selected: np.ndarray, counts: np.ndarray) -> float:
    """Predictive Efficiency Index: ``PEI = PAI / PAI*`` (Hunt 2016).

    ``PAI*`` is the best PAI any selection of the same number of cells could have had
    in the period: the ``k`` cells with the most incidents. Because the areas are
    equal, ``PEI = n / n*`` with ``n*`` the incidents in those ``k`` busiest cells;
    ``0 <= PEI <= 1`` and PEI = 1 for the perfect selection. NaN when ``n* = 0``.
    """
    c = _values(counts, name="counts")
    mask = _mask(selected, c.size)
    k = int(mask.sum())
    positive = c[c > 0]  # zeros add nothing: sort only the cells with incidents
    best = float(np.sort(positive)[::-1][:k].sum()) if k else 0.0
    return float(c[mask].sum() / best) if best > 0 else math.nan


def rri(selected: np.ndarray, counts_before: np.ndarray, counts_after: np.ndarray) -> float:
    """Recapture Rate Index: ``RRI = (n2 / n1) / (N2 / N1)`` (Levine 2008).

    ``n1`` and ``n2`` are incidents inside the selected cells in the period the spots
    were built from and in the following period; ``N1`` and ``N2`` the study-area totals.
    RRI > 1 means the spots kept (recaptured) more than their share as the volume of
    crime changed; RRI = 1 means their volume changed like everywhere else. NaN when a
    denominator is zero.
    """
    before = _values(counts_before, name="counts_before")
    after = _values(counts_after, name="counts_after")
    mask = _mask(selected, before.size)
    if after.size != before.size:
        msg = "counts_before and counts_after must cover the same cells."
        raise OptionError(msg)
    n1, n2 = before[mask].sum(), after[mask].sum()
    big_n1, big_n2 = before.sum(), after.sum()
    if n1 <= 0 or big_n1 <= 0 or big_n2 <= 0:
        return math.nan
    return float((n2 / n1) / (big_n2 / big_n1))


def stability(selected: np.ndarray, previous: np.ndarray) -> float:
    """Share of this period's spots that were also spots in the previous period.

    ``|S_t ∩ S_t-1| / |S_t|``: 1 means the same cells were chosen again, 0 a complete
    turnover (the week-to-week persistence of Hunt 2016). NaN when nothing is selected.
    """
    now = _mask(selected)
    before = _mask(previous, now.size)
    k = int(now.sum())
    return float((now & before).sum() / k) if k else math.nan


def n_cells_for_coverage(coverage: float, n_cells: int) -> int:
    """Cells needed to reach ``coverage`` of ``n_cells``: ``ceil(coverage * n_cells)``, at least 1.

    A tolerance of 1e-9 keeps exact products (0.05 x 200 = 10) from rounding up.
    """
    check_positive(coverage, name="coverage")
    if coverage > 1:
        msg = f"coverage is a share of the study area between 0 and 1; got {coverage!r}."
        raise OptionError(msg)
    return max(1, min(n_cells, math.ceil(coverage * n_cells - 1e-9)))


def select_by_coverage(
    scores: np.ndarray,
    *,
    coverage: float,
    secondary: np.ndarray | None = None,
    seed: int | Sequence[int] = 0,
) -> np.ndarray:
    """Boolean mask of the highest-scoring cells until ``coverage`` of the area is reached.

    Cells are ranked by ``scores`` (highest first), then by ``secondary`` (highest first)
    when given; remaining ties are broken by a random order of the cells drawn from
    ``numpy.random.default_rng(seed)``, so the choice is reproducible and does not favour
    any corner of the grid. Exactly :func:`n_cells_for_coverage` cells are selected.

    Examples
    --------
    >>> select_by_coverage(np.array([0.0, 3.0, 1.0, 3.0]), coverage=0.5).tolist()
    [False, True, False, True]
    """
    s = np.asarray(scores, dtype="float64")
    if s.ndim != 1 or s.size == 0:
        msg = f"scores must be a non-empty 1-D array (one per study cell); got shape {s.shape}."
        raise OptionError(msg)
    s = np.where(np.isfinite(s), s, -np.inf)
    k = n_cells_for_coverage(coverage, s.size)
    levels = [s]
    if secondary is not None:
        sec = np.asarray(secondary, dtype="float64")
        levels.append(np.where(np.isfinite(sec), sec, -np.inf))
    # random key per cell (fixed by the seed): the last tie-breaker, lowest first
    levels.append(-np.random.default_rng(seed).random(s.size))
    mask = np.zeros(s.size, dtype=bool)
    pool = np.arange(s.size)
    need = k
    for values in levels:  # top-k by partition, level by level: no full sort of the grid
        v = values[pool]
        if need >= pool.size:
            mask[pool] = True
            break
        low = v.min()  # most cells tie at the bottom (zero scores): partition only the rest
        rest = v[v > low]
        threshold = (
            np.partition(rest, rest.size - need)[rest.size - need] if rest.size >= need else low
        )
        above = pool[v > threshold]
        mask[above] = True
        need -= above.size
        pool = pool[v == threshold]
        if need == 0:
            break
    else:  # equal on every key (random keys almost never tie): lowest cell numbers
        mask[pool[:need]] = True
    return mask
