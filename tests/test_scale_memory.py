"""release_freed_memory: a no-op on small data, safe to call on large data, changes nothing."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from hotspots import _memory
from hotspots._memory import BIG_ROWS, release_freed_memory


def test_small_data_skips_the_release(monkeypatch):
    calls = []
    monkeypatch.setattr(_memory, "_malloc_trim", lambda: calls.append("trim"))
    release_freed_memory(BIG_ROWS - 1)
    assert calls == []
    release_freed_memory(BIG_ROWS)
    assert calls == ["trim"]


def test_release_keeps_live_data():
    kept = pa.array(["a", "bb", None])
    values = np.arange(10)
    release_freed_memory()  # None: always
    assert kept.to_pylist() == ["a", "bb", None]
    assert values.sum() == 45
