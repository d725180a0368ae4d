"""Hand freed memory back to the system between the large stages of a big run (private).

Two allocators keep the pages of freed buffers for reuse instead of returning them:
Arrow's pool (Arrow-backed text columns, parquet reading) and glibc's heap (numpy arrays,
Python objects, shapely geometries). At national scale that is hundreds of megabytes
resident through every later stage (6M rows: about 0.3 GB after reading, 0.4 GB after
spots). :func:`release_freed_memory` returns them; it changes no data.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import pyarrow as pa

__all__ = ["BIG_ROWS", "release_freed_memory"]

BIG_ROWS = 500_000  # below this a run's freed pages are too few to be worth the call


@functools.cache
def _malloc_trim() -> object | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None  # glibc only
    except (OSError, AttributeError):
        return None


def release_freed_memory(rows: int | None = None) -> None:
    """Return freed pages of Arrow's pool and of the C heap to the system.

    Parameters
    ----------
    rows
        Size of the data just processed: nothing is done under :data:`BIG_ROWS` rows
        (None: always release).
    """
    if rows is not None and rows < BIG_ROWS:
        return
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)  # type: ignore[operator]
