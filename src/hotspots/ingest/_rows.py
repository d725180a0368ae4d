"""Row-level helpers of read_incidents: combining files, text columns, flags (private)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pyproj import CRS, Transformer

from hotspots.crs import WGS84
from hotspots.errors import InputError
from hotspots.ingest._files import RawTable
from hotspots.ingest._formats import Plan, column_key
from hotspots.schema import SOURCE_FILE, SOURCE_ROW

__all__ = [
    "X_COL",
    "Y_COL",
    "check_same_columns",
    "combine",
    "details",
    "dwelling_flags",
    "text_column",
]

X_COL, Y_COL = "__x", "__y"  # internal coordinate columns for spatial files
_NON_DWELLING = (
    "nonresidential",
    "nondomestic",
    "nondwelling",
    "business",
    "commercial",
    "otherthandwelling",
    "community",
)
_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


def combine(tables: list[RawTable], plans: list[Plan]) -> tuple[pd.DataFrame, CRS | None]:
    """One text frame of all files (first file's column spelling) plus source columns."""
    first = tables[0].frame.columns
    spelling = {column_key(c): c for c in first}
    geo_crs = None
    spatial = tables[0].geo_x is not None
    if spatial:
        crss = {t.geo_crs.to_wkt() if t.geo_crs is not None else None for t in tables}
        geo_crs = tables[0].geo_crs if len(crss) == 1 else WGS84
    parts = []
    for table in tables:
        frame = table.frame.rename(columns={c: spelling[column_key(c)] for c in table.frame})
        rows = table.source_rows if table.source_rows is not None else np.arange(1, len(frame) + 1)
        extra: dict[str, Any] = {SOURCE_FILE: table.path.name, SOURCE_ROW: rows}
        if _has_lineage(frame):  # hotspots' own table: keep where each row first came from
            extra = {
                SOURCE_FILE: frame[SOURCE_FILE].astype("str").to_numpy(),
                SOURCE_ROW: frame[SOURCE_ROW].to_numpy(dtype="int64"),
            }
        if spatial:
            x, y = table.geo_x, table.geo_y
            if (
                geo_crs is not None
                and table.geo_crs is not None
                and not geo_crs.equals(table.geo_crs)
            ):
                x, y = Transformer.from_crs(table.geo_crs, geo_crs, always_xy=True).transform(x, y)
            extra.update({X_COL: x, Y_COL: y})
        parts.append(frame.assign(**extra))
    combined = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return combined, geo_crs


def _has_lineage(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` carries complete source_file/source_row lineage columns."""
    if SOURCE_FILE not in frame.columns or SOURCE_ROW not in frame.columns:
        return False
    rows = frame[SOURCE_ROW]
    if not pd.api.types.is_integer_dtype(rows.dtype):
        rows = pd.to_numeric(rows, errors="coerce")
        if rows.isna().any() or (rows % 1 != 0).any():
            return False
    return bool(frame[SOURCE_FILE].notna().all() and (frame[SOURCE_FILE].astype("str") != "").all())


def check_same_columns(tables: list[RawTable], plans: list[Plan]) -> None:
    base = tables[0]
    base_keys = sorted(column_key(c) for c in base.frame.columns)
    for table, plan in zip(tables[1:], plans[1:], strict=True):
        keys = sorted(column_key(c) for c in table.frame.columns)
        if (
            keys != base_keys
            or plan.format.split(" (")[0] != plans[0].format.split(" (")[0]
            or ((table.geo_x is None) != (base.geo_x is None))
        ):
            only_a = sorted(set(base_keys) - set(keys))
            only_b = sorted(set(keys) - set(base_keys))
            msg = (
                f"Mixed headers in one input set: {base.path.name} ({plans[0].format}) and "
                f"{table.path.name} ({plan.format}) differ (only in the first: {only_a}; "
                f"only in the second: {only_b}). Read them in separate runs or make the "
                f"headers match."
            )
            raise InputError(msg)


def text_column(frame: pd.DataFrame, col: str | None) -> pd.Series:
    """A column as stripped text, "" where missing (typed columns are converted here)."""
    if col is None:
        return pd.Series("", index=frame.index, dtype="str")
    values = frame[col]
    if values.hasnans if hasattr(values, "hasnans") else values.isna().any():
        values = values.astype("str").where(values.notna(), "")
    return values.astype("str").str.strip()


def dwelling_flags(offence: pd.Series, given: pd.Series | None) -> np.ndarray:
    uniques = pd.Series(offence.unique())
    norm = uniques.str.lower().str.replace(r"[^a-z]", "", regex=True)
    flag = norm.str.contains("burglary") & ~norm.str.contains("|".join(_NON_DWELLING))
    lookup = dict(zip(uniques, flag.to_numpy(dtype=bool), strict=True))
    derived = offence.map(lookup).to_numpy(dtype=bool)
    if given is None:
        return derived
    low = given.str.lower()
    out = np.where(low.isin(_TRUE), True, np.where(low.isin(_FALSE), False, derived))
    return out.astype(bool)


def details(
    mask: np.ndarray, prefix: str, values: pd.Series | None = None, suffix: str = ""
) -> pd.Series:
    """Detail text for the rows in ``mask``: prefix + 'value' + suffix."""
    if values is None:
        return pd.Series(prefix + suffix, index=np.flatnonzero(mask), dtype="str")
    shown = values[mask].astype("str")
    return prefix + "'" + shown.set_axis(np.flatnonzero(mask)) + "'" + suffix
