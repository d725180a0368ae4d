"""Writing the rejected-rows report (private)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from hotspots.outputs.files import write_csv

__all__ = ["write_rejected"]


def write_rejected(rejected: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``IngestResult.rejected`` as UTF-8 CSV (with BOM), atomically.

    Columns: source_file, source_row, reason, detail, then the raw columns as text, so
    each row can be found and fixed in the source file. Written even when empty (header
    only), so "no rejections" is visible.
    """
    return write_csv(pd.DataFrame(rejected), path)
