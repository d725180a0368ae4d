"""Finding input files and reading each one as a table of text (private).

Every column is read as text so the raw row can be written back to ``rejected.csv``
unchanged; parsing happens later, vectorised, per column.
"""

from __future__ import annotations

import glob
import gzip
import io
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from pyproj import CRS

from hotspots.errors import InputError

__all__ = ["SUFFIXES", "RawTable", "expand_inputs", "read_table", "read_tables"]

SUFFIXES = (".csv", ".csv.gz", ".parquet", ".gpkg", ".geojson")
_SNIFF_BYTES = 1 << 16
_MAX_CONTROL_SHARE = 0.01  # more control characters than this after latin-1 = not text


@dataclass(frozen=True)
class RawTable:
    """One input file as text columns, plus point coordinates for spatial formats."""

    path: Path
    kind: str  # "csv" | "parquet" | "gpkg" | "geojson"
    frame: pd.DataFrame  # every column as text ("" for missing)
    encoding: str = "utf-8"
    geo_x: np.ndarray | None = None  # point coordinates from a geometry column
    geo_y: np.ndarray | None = None
    geo_crs: CRS | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return ""


def expand_inputs(inputs: Sequence[str | Path]) -> list[Path]:
    """Files named by ``inputs`` (files, folders searched recursively, globs), in order.

    Folders contribute their supported files sorted by path; duplicates are read once.
    """
    if isinstance(inputs, str | Path):
        inputs = [inputs]
    if not inputs:
        msg = "No input given; pass incident files, folders or globs."
        raise InputError(msg)
    found: list[Path] = []
    for item in inputs:
        text = str(item)
        path = Path(text)
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and _suffix(p))
            if not inside:
                msg = (
                    f"Folder {path} holds no incident files ({', '.join(SUFFIXES)}); "
                    f"check the path."
                )
                raise InputError(msg)
            found.extend(inside)
        elif path.is_file():
            if not _suffix(path):
                msg = f"{path} is not a supported file type; use one of {', '.join(SUFFIXES)}."
                raise InputError(msg)
            found.append(path)
        elif glob.has_magic(text):
            matches = sorted(Path(p) for p in glob.glob(text, recursive=True))
            files = [p for p in matches if p.is_file() and _suffix(p)]
            if not files:
                msg = f"Pattern {text!r} matches no incident files ({', '.join(SUFFIXES)})."
                raise InputError(msg)
            found.extend(files)
        else:
            msg = f"Input {text} does not exist; check the path (folders are searched recursively)."
            raise InputError(msg)
    unique: dict[Path, None] = {}
    for p in found:
        unique.setdefault(p.resolve(), None)
    return list(unique)


def _decompress(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        msg = f"{path} cannot be read ({exc.strerror}); check its permissions."
        raise InputError(msg) from exc
    if path.name.lower().endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            msg = f"{path.name} is not a valid gzip file ({exc}); re-download it or unzip it first."
            raise InputError(msg) from exc
    return raw


def _check_text(path: Path, raw: bytes) -> bytes:
    """Refuse binary files; drop a UTF-8 byte-order mark."""
    if b"\x00" in raw[:_SNIFF_BYTES]:
        msg = (
            f"{path.name} is not a CSV text file (it contains binary NUL bytes, e.g. a "
            f"spreadsheet, zip or UTF-16 file); export it as CSV (UTF-8) and try again."
        )
        raise InputError(msg)
    return raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw


def _latin1(path: Path, raw: bytes) -> tuple[bytes, str]:
    """Re-encode Latin-1 bytes as UTF-8, refusing bytes that are not text in either."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
    else:  # pragma: no cover - only called after a UTF-8 failure
        start = 0
    codes = np.frombuffer(raw, dtype=np.uint8)
    control = ((codes < 0x20) & ~np.isin(codes, (9, 10, 13))) | ((codes >= 0x7F) & (codes < 0xA0))
    if control.mean() > _MAX_CONTROL_SHARE:
        msg = (
            f"{path.name} has undecodable bytes (not UTF-8, and not Latin-1 text either: "
            f"first bad byte at offset {start}); save it as CSV UTF-8."
        )
        raise InputError(msg)
    note = (
        f"{path.name} is not UTF-8; read it as Latin-1 (first non-UTF-8 byte at offset "
        f"{start}). Check accented names."
    )
    return raw.decode("latin-1").encode("utf-8"), note


def _header(path: Path, data: bytes) -> list[str]:
    first = data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    header = pacsv.read_csv(
        io.BytesIO(first.encode("utf-8") + b"\n"),
        read_options=pacsv.ReadOptions(autogenerate_column_names=True),
    )
    names = [str(v[0]) for v in header.columns]
    named = [n for n in names if n.strip()]
    if len(named) < 2 or len(set(names)) != len(names):
        msg = (
            f"{path.name} is not a CSV table: its first line {first[:80]!r} is not a header of "
            f"distinct comma-separated column names; export it as CSV with a header row."
        )
        for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "'|'")):
            if len(named) < 2 and sep in first:
                msg += f" It looks separated by {name}: save it with commas."
                break
        raise InputError(msg)
    return names


def _parse(path: Path, data: bytes, names: list[str]) -> pa.Table:
    return pacsv.read_csv(
        io.BytesIO(data),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _read_csv(path: Path) -> RawTable:
    raw = _decompress(path)
    if not raw.strip():
        msg = f"{path.name} is empty (no header, no rows); remove it or re-export the data."
        raise InputError(msg)
    data = _check_text(path, raw)
    encoding, notes = "utf-8", ()
    try:
        names = _header(path, data)
        table = _parse(path, data, names)
    except (UnicodeDecodeError, pa.ArrowInvalid) as exc:
        if isinstance(exc, pa.ArrowInvalid) and "UTF8" not in str(exc):
            msg = (
                f"{path.name} is not a well-formed CSV ({str(exc).splitlines()[0]}); fix "
                f"that row or re-export the file as CSV."
            )
            raise InputError(msg) from exc
        data, note = _latin1(path, data)
        encoding, notes = "latin-1", (note,)
        names = _header(path, data)
        try:
            table = _parse(path, data, names)
        except pa.ArrowInvalid as exc2:
            msg = (
                f"{path.name} is not a well-formed CSV ({str(exc2).splitlines()[0]}); fix "
                f"that row or re-export the file as CSV."
            )
            raise InputError(msg) from exc2
    frame = table.to_pandas()
    blank = [n for n in names if not n.strip()]
    if blank:  # unnamed trailing column (a trailing comma on every line)
        frame = frame.drop(columns=blank)
    if len(frame) == 0:
        notes = (*notes, f"{path.name} has a header but no rows.")
    return RawTable(path=path, kind="csv", frame=frame, encoding=encoding, notes=notes)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as text: timestamps in ISO 8601, missing values as ""."""
    out = {}
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(col):
            # arrow writes ISO 8601 with the offset ("2025-01-01 00:00:00.000000000+0000")
            text = pd.Series(pa.array(col).cast(pa.string()), index=col.index, dtype="string")
        else:
            text = col.astype("string")
        out[str(name)] = text.fillna("").astype("str")
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _read_spatial(path: Path, kind: str) -> RawTable:
    try:
        if kind == "parquet":
            try:
                layer: pd.DataFrame = gpd.read_parquet(path)
            except ValueError:  # plain (non-geo) parquet
                layer = pd.read_parquet(path)
        else:
            layer = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # noqa: BLE001 - any reader failure means a bad file for the user
        msg = f"{path.name} cannot be read as {kind} ({str(exc).splitlines()[0]}); re-export it."
        raise InputError(msg) from exc
    if len(layer) == 0:
        msg = f"{path.name} is empty (no rows); remove it or re-export the data."
        raise InputError(msg)
    if not isinstance(layer, gpd.GeoDataFrame) or layer.geometry.name not in layer.columns:
        return RawTable(path=path, kind=kind, frame=_as_text(pd.DataFrame(layer)))
    geom = layer.geometry
    kinds = set(geom.dropna()[~geom.dropna().is_empty].geom_type)
    if kinds and kinds != {"Point"}:
        msg = (
            f"{path.name} holds {sorted(kinds)} geometries; incidents must be points. "
            f"Convert them to points (e.g. centroids) first."
        )
        raise InputError(msg)
    usable = geom.notna() & ~geom.is_empty
    x = np.full(len(layer), np.nan)
    y = np.full(len(layer), np.nan)
    x[usable.to_numpy()] = geom[usable].x.to_numpy()
    y[usable.to_numpy()] = geom[usable].y.to_numpy()
    attrs = pd.DataFrame(layer.drop(columns=geom.name))
    return RawTable(
        path=path, kind=kind, frame=_as_text(attrs), geo_x=x, geo_y=y, geo_crs=layer.crs
    )


def read_tables(
    paths: Sequence[Path], *, on_done: Callable[[int], None] | None = None
) -> list[RawTable]:
    """Read several files, two at a time (decompression and parsing release the GIL)."""
    out: list[RawTable] = []
    with ThreadPoolExecutor(max_workers=min(2, max(1, len(paths)))) as pool:
        for i, table in enumerate(pool.map(read_table, paths)):
            out.append(table)
            if on_done is not None:
                on_done(i + 1)
    return out


def read_table(path: Path) -> RawTable:
    """Read one input file as text columns (CSV/CSV.GZ) or attributes + points (spatial)."""
    suffix = _suffix(path)
    if suffix in {".csv", ".csv.gz"}:
        return _read_csv(path)
    return _read_spatial(path, suffix.lstrip("."))
