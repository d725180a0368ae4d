"""Small argument checks shared by every module (private)."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from functools import cache

import numpy as np
import pandas as pd

from hotspots.errors import CRSError, OptionError, SchemaError

__all__ = [
    "check_choice",
    "check_increasing",
    "check_positive",
    "require_columns",
    "require_metric_crs",
]


def check_choice(value: object, choices: Sequence[str], *, name: str) -> str:
    """Return ``value`` if it is one of ``choices``, else raise OptionError listing them."""
    if value not in choices:
        msg = f"{name} must be one of {tuple(choices)}; got {value!r}."
        raise OptionError(msg)
    return str(value)


def check_positive(value: float, *, name: str, allow_zero: bool = False) -> float:
    """Return ``value`` if it is a finite number > 0 (or >= 0), else raise OptionError."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{name} must be a number; got {type(value).__name__} {value!r}."
        raise TypeError(msg)
    ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        msg = f"{name} must be a finite number {bound}; got {value!r}."
        raise OptionError(msg)
    return float(value)


def check_increasing(values: Iterable[float], *, name: str) -> list[float]:
    """Return ``values`` as floats if they are finite, >= 0 and strictly increasing."""
    out = [float(v) for v in values]
    if len(out) < 2:
        msg = f"{name} needs at least two edges (e.g. 0,100,200); got {out}."
        raise OptionError(msg)
    if any(not math.isfinite(v) or v < 0 for v in out):
        msg = f"{name} must be finite and >= 0; got {out}."
        raise OptionError(msg)
    bad = [(a, b) for a, b in zip(out, out[1:], strict=False) if b <= a]
    if bad:
        msg = (
            f"{name} must be strictly increasing; got {out} "
            f"({bad[0][1]:g} does not exceed {bad[0][0]:g}). Sort them, e.g. 0,100,200,300,400."
        )
        raise OptionError(msg)
    return out


def require_columns(
    frame: pd.DataFrame, columns: Iterable[str], *, what: str, fix: str = ""
) -> None:
    """Raise SchemaError naming the missing columns of ``frame``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = f"{what} is missing column(s) {missing}; it has {list(frame.columns)}."
        if fix:
            msg += f" {fix}"
        raise SchemaError(msg)


def require_metric_crs(gdf: object, *, what: str) -> None:
    """Raise CRSError unless ``gdf`` is in a projected CRS measured in metres."""
    crs = getattr(gdf, "crs", None)
    if crs is None:
        msg = f"{what} has no CRS; call .set_crs(<source CRS>) before analysis."
        raise CRSError(msg)
    unit = crs.axis_info[0].unit_name if crs.axis_info else None
    if not crs.is_projected or unit not in {"metre", "meter"}:
        msg = (
            f"{what} must use a projected CRS in metres (e.g. EPSG:27700); "
            f"got {crs.to_string()} with unit {unit!r}. Use .to_crs(27700)."
        )
        raise CRSError(msg)


@cache
def have_numba() -> bool:
    """True when numba can be imported (``pip install 'hotspots[fast]'``)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def worker_count(workers: int | None) -> int:
    """Threads for a parallel loop: ``workers``, or every core this process may use."""
    if workers is None:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - not on Linux
            return max(1, os.cpu_count() or 1)
    return check_whole(
        workers, name="workers", minimum=1, low="at least 1 (or None for every core)"
    )


def check_whole(value: object, *, name: str, minimum: int, low: str) -> int:
    """``value`` as an int, checked.

    A TypeError if it is not a whole number (bools are not), an :class:`OptionError`
    saying ``{name} must be {low}`` if it is below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        msg = f"{name} must be an integer; got {value!r}."
        raise TypeError(msg)
    if value < minimum:
        msg = f"{name} must be {low}; got {value}."
        raise OptionError(msg)
    return int(value)
