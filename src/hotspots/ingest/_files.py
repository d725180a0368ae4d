"""Finding input files and reading each one as a table of text (private).

Every column is read as text so the raw row can be written back to ``rejected.csv``
unchanged; parsing happens later, vectorised, per column.
"""

from __future__ import annotations

import glob
import gzip
import io
import re
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import shapely
from pyproj import CRS

from hotspots.errors import InputError

__all__ = [
    "MAX_FIELD_CHARS",
    "SUFFIXES",
    "BadLine",
    "RawTable",
    "expand_inputs",
    "force_slug",
    "forces_within",
    "read_table",
    "read_tables",
    "read_text_table",
]

SUFFIXES = (".csv", ".csv.gz", ".parquet", ".gpkg", ".geojson")
_SNIFF_BYTES = 1 << 16
_MAX_CONTROL_SHARE = 0.01  # more control characters than this after cp1252 = not text
_GEOM_NAMES = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint"}
_GEOM_NAMES.update({5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"})
MAX_FIELD_CHARS = 1_000  # longer text fields are cut to this (with a note), never kept whole


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
    bad_lines: tuple[BadLine, ...] = ()  # malformed CSV lines (rejected rows)
    source_rows: np.ndarray | None = None  # data row numbers when lines were set aside
    skipped: str | None = None  # kind of file set aside whole (police.uk outcomes, ...)
    skipped_rows: int = 0
    geometry: np.ndarray | None = None  # the spatial file's shapely geometries, as read
    present: np.ndarray | None = None  # bool per geometry: neither missing nor empty


# police.uk force names whose download slug is not their plain slug
_FORCE_ALIASES = {
    "british-transport": "btp",
    "service-of-northern-ireland": "northern-ireland",
    "hampshire-and-isle-of-wight": "hampshire",
    "of-northern-ireland": "northern-ireland",  # Police Service of Northern Ireland
}
_FORCE_WORDS = re.compile(r"\b(police service|police|constabulary)\b")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def force_slug(name: str) -> str:
    """The police.uk download slug of a force name ('Falls within') or of a slug.

    Lower case, "&" as "and", the words Police/Constabulary/Police Service dropped, every
    run of other characters one hyphen; the few forces police.uk names otherwise are
    looked up. A slug is its own slug, so file-name slugs and 'Falls within' agree.

    Examples
    --------
    >>> force_slug("Metropolitan Police Service"), force_slug("Devon & Cornwall Police")
    ('metropolitan', 'devon-and-cornwall')
    >>> force_slug("devon-and-cornwall"), force_slug("British Transport Police")
    ('devon-and-cornwall', 'btp')
    """
    text = str(name).strip().lower().replace("&", " and ")
    text = _FORCE_WORDS.sub(" ", text)
    slug = _NOT_SLUG.sub("-", text).strip("-")
    return _FORCE_ALIASES.get(slug, slug) or "unknown"


def forces_within(paths: Sequence[Path]) -> list[str]:
    """Force slugs in the police.uk 'Falls within' column of CSV files, in first-seen order.

    Reads only that column (and only the files that have it), so a national runner can
    tell a single file mixing forces from a one-force file before ingest. Files without
    the column, and spatial files, add nothing.

    Examples
    --------
    >>> forces_within([Path("all-forces-2025-01.csv")])  # doctest: +SKIP
    ['avon-and-somerset', 'bedfordshire', ...]
    """
    found: dict[str, None] = {}
    for path in paths:
        if _suffix(path) not in {".csv", ".csv.gz"}:
            continue
        data = _check_text(path, _decompress(path))
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            data = _legacy(path, data)[0]
        names = _header(path, data)
        col = next(
            (n for n in names if n.strip().lower().replace(" ", "_") == "falls_within"), None
        )
        if col is None:
            continue
        table = pacsv.read_csv(
            io.BytesIO(data),
            parse_options=pacsv.ParseOptions(invalid_row_handler=lambda row: "skip"),
            convert_options=pacsv.ConvertOptions(
                include_columns=[col], column_types={col: pa.string()}
            ),
        )
        for value in pc.unique(pc.utf8_trim_whitespace(table.column(0))).to_pylist():
            found.setdefault(force_slug(value or ""), None)
    return list(found)


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
            f"{path.name} is not a text table (it contains binary NUL bytes, e.g. a "
            f"spreadsheet, zip or UTF-16 file); export it as CSV (UTF-8) and try again."
        )
        raise InputError(msg)
    return raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw


# bytes that are not text in Windows-1252 (its five undefined codes) or anywhere (C0 controls)
_CP1252_UNDEFINED = (0x81, 0x8D, 0x8F, 0x90, 0x9D)


def _legacy(path: Path, raw: bytes) -> tuple[bytes, str, str]:
    """Re-encode Windows-1252 (else Latin-1) bytes as UTF-8, refusing bytes that are not text.

    Spreadsheet exports on Windows write cp1252: its 0x80-0x9F bytes are curly quotes,
    dashes and the euro sign (\u2019 \u20ac), which Latin-1 would turn into control
    characters; cp1252 is tried first and Latin-1 only when a byte is undefined in it.
    """
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
    else:  # pragma: no cover - only called after a UTF-8 failure
        start = 0
    codes = np.frombuffer(raw, dtype=np.uint8)
    control = ((codes < 0x20) & ~np.isin(codes, (9, 10, 13))) | (codes == 0x7F)
    try:
        text, encoding, label = raw.decode("cp1252"), "cp1252", "Windows-1252 (cp1252)"
    except UnicodeDecodeError:
        control |= np.isin(codes, _CP1252_UNDEFINED) | ((codes >= 0x80) & (codes < 0xA0))
        text, encoding, label = raw.decode("latin-1"), "latin-1", "Latin-1"
    if control.mean() > _MAX_CONTROL_SHARE:
        msg = (
            f"{path.name} has undecodable bytes (not UTF-8, and not Windows-1252 or Latin-1 "
            f"text either: first bad byte at offset {start}); save it as CSV UTF-8."
        )
        raise InputError(msg)
    note = (
        f"{path.name} is not UTF-8; read it as {label} (first non-UTF-8 byte at offset "
        f"{start}). Check accented names."
    )
    return text.encode("utf-8"), encoding, note


def _header(path: Path, data: bytes) -> list[str]:
    first = data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    header = pacsv.read_csv(
        io.BytesIO(first.encode("utf-8") + b"\n"),
        read_options=pacsv.ReadOptions(autogenerate_column_names=True),
    )
    names = [str(v[0]) for v in header.columns]
    named = [n for n in names if n.strip()]
    repeated = sorted({n for n in named if named.count(n) > 1})
    if len(named) >= 2 and repeated:
        shown = ", ".join(repr(n) for n in repeated)
        msg = (
            f"{path.name} is not a CSV table with distinct column names: {shown} appears more "
            f"than once in its header; rename the repeated column(s) and try again."
        )
        raise InputError(msg)
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


@dataclass(frozen=True)
class BadLine:
    """A CSV line that does not have the header's number of fields."""

    line: int  # 1-based line number in the file (the header is line 1)
    expected: int
    actual: int
    text: str


def _parse(path: Path, data: bytes, names: list[str]) -> tuple[pa.Table, tuple[BadLine, ...]]:
    """Text table of ``data``; lines with the wrong number of fields are set aside.

    The fast threaded parse runs first; only when it meets a bad line is the file parsed
    again on one thread, which is how pyarrow can say the line numbers.
    """
    convert = pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    seen: list[int] = []

    def count(row: Any) -> str:
        seen.append(1)
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO(data),
        parse_options=pacsv.ParseOptions(invalid_row_handler=count),
        convert_options=convert,
    )
    if not seen:
        return table, ()
    bad: list[BadLine] = []

    def keep(row: Any) -> str:  # pyarrow.csv.InvalidRow
        number = getattr(row, "number", None)
        bad.append(
            BadLine(
                line=int(number) if number is not None else -1,
                expected=int(row.expected_columns),
                actual=int(row.actual_columns),
                text=str(row.text)[:200],
            )
        )
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(use_threads=False),
        parse_options=pacsv.ParseOptions(invalid_row_handler=keep),
        convert_options=convert,
    )
    return table, tuple(bad)


def _cut_long(path: Path, table: pa.Table) -> tuple[pa.Table, tuple[str, ...]]:
    """Fields longer than MAX_FIELD_CHARS cut to that length, with a note per column."""
    notes = []
    for i, name in enumerate(table.column_names):
        column = table.column(i)
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            continue
        lengths = pc.utf8_length(column)
        too_long = pc.greater(lengths, MAX_FIELD_CHARS)
        n_long = pc.sum(too_long).as_py() or 0
        if not n_long:
            continue
        longest = pc.max(lengths).as_py()
        cut = pc.if_else(too_long, pc.utf8_slice_codeunits(column, 0, MAX_FIELD_CHARS), column)
        table = table.set_column(i, name, cut)
        notes.append(
            f"{path.name}: {n_long:,} value(s) in column {name!r} were longer than "
            f"{MAX_FIELD_CHARS:,} characters (longest {longest:,}) and were cut to "
            f"{MAX_FIELD_CHARS:,}; check the export."
        )
    return table, tuple(notes)


def _skip_kind(names: list[str]) -> str | None:
    """The kind of police.uk side file a header belongs to, or None for anything else."""
    keys = {n.strip().lower() for n in names}
    if {"outcome type", "crime id", "month"} <= keys and "crime type" not in keys:
        return "police.uk outcomes"
    if {"outcome_type", "crime_id", "month"} <= keys and "crime_type" not in keys:
        return "police.uk outcomes"
    stop = {"type", "date", "object of search", "outcome"}
    if stop <= keys or {"type", "date", "object_of_search", "outcome"} <= keys:
        return "police.uk stop-and-search"
    return None


def _read_csv(path: Path) -> RawTable:
    raw = _decompress(path)
    if not raw.strip():
        msg = f"{path.name} is empty (no header, no rows); remove it or re-export the data."
        raise InputError(msg)
    data = _check_text(path, raw)
    encoding, notes = "utf-8", cast("tuple[str, ...]", ())
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        data, encoding, note = _legacy(path, data)
        notes = (note,)
    names = _header(path, data)
    skip = _skip_kind(names)
    if skip is not None:
        n_lines = max(0, len(data.rstrip(b"\r\n").split(b"\n")) - 1)
        return RawTable(
            path=path,
            kind="csv",
            frame=pd.DataFrame(),
            encoding=encoding,
            skipped=skip,
            skipped_rows=n_lines,
        )
    try:
        table, bad = _parse(path, data, names)
    except pa.ArrowInvalid as exc:
        msg = (
            f"{path.name} is not a well-formed CSV ({str(exc).splitlines()[0]}); fix "
            f"that row or re-export the file as CSV."
        )
        raise InputError(msg) from exc
    table, cut_notes = _cut_long(path, table)
    notes = (*notes, *cut_notes)
    frame = table.to_pandas()
    blank = [n for n in names if not n.strip()]
    if blank:  # unnamed trailing column (a trailing comma on every line)
        frame = frame.drop(columns=blank)
    rows = None
    if bad:
        lines = [b.line for b in bad]
        first = bad[0]
        notes = (
            *notes,
            f"{path.name}: {len(bad):,} malformed line(s) set aside as rejected rows "
            f"(first: line {first.line}, {first.actual} fields where the header has "
            f"{first.expected}); quote fields that contain commas.",
        )
        bad_rows = {line - 1 for line in lines if line > 0}
        total = len(frame) + len(bad)
        rows = np.array([r for r in range(1, total + 1) if r not in bad_rows][: len(frame)])
    if len(frame) == 0 and not bad:
        notes = (*notes, f"{path.name} has a header but no rows.")
    return RawTable(
        path=path,
        kind="csv",
        frame=frame,
        encoding=encoding,
        notes=notes,
        bad_lines=bad,
        source_rows=rows,
    )


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Attribute columns as read (typed: no text round trip), names as text, index 0..n-1."""
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    return frame


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
        return RawTable(path=path, kind=kind, frame=_typed(pd.DataFrame(layer)))
    geoms = np.asarray(layer.geometry.values, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    type_ids = np.unique(shapely.get_type_id(geoms))  # -1: missing
    kinds = {_GEOM_NAMES.get(int(t), str(t)) for t in type_ids if t >= 0}
    if not present.all():  # empty geometries of other kinds say nothing about the layer
        kinds = {
            _GEOM_NAMES.get(int(t), str(t)) for t in np.unique(shapely.get_type_id(geoms[present]))
        }
    if kinds and kinds <= {"Polygon", "MultiPolygon"}:  # a boundary file among the inputs
        return RawTable(
            path=path,
            kind=kind,
            frame=pd.DataFrame(),
            skipped="area polygons",
            skipped_rows=len(layer),
        )
    if kinds and kinds != {"Point"}:
        msg = (
            f"{path.name} holds {sorted(kinds)} geometries; incidents must be points. "
            f"Convert them to points (e.g. centroids) first."
        )
        raise InputError(msg)
    usable = geoms if present.all() else np.where(present, geoms, np.array(None, dtype=object))
    x = shapely.get_x(usable)  # NaN where missing (empty points are set to None first)
    y = shapely.get_y(usable)
    geo_name = layer.geometry.name
    attrs = pd.DataFrame({c: layer[c] for c in layer.columns if c != geo_name}, copy=False)
    return RawTable(
        path=path,
        kind=kind,
        frame=_typed(attrs),
        geo_x=x,
        geo_y=y,
        geo_crs=layer.crs,
        geometry=geoms,
        present=present,
    )


def read_text_table(path: Path) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, tuple[str, ...]]:
    """A side-input CSV (addresses, visits, patrols) under ingest's rules, as text.

    The same decoding (UTF-8, else Windows-1252 with a note), binary-file refusal,
    field-length cap and malformed-line handling as incident files.

    Returns
    -------
    (frame, rows, malformed, notes)
        Every column as text ("" for missing); the 1-based data row number of each frame
        row; the malformed lines as rejected rows (``source_file``, ``source_row``,
        ``reason`` = ``malformed_row``, ``detail``); and notes.
    """
    table = _read_csv(Path(path))
    frame = table.frame
    rows = table.source_rows if table.source_rows is not None else np.arange(1, len(frame) + 1)
    malformed = pd.DataFrame(
        {
            "source_file": [table.path.name] * len(table.bad_lines),
            "source_row": [max(b.line - 1, 0) for b in table.bad_lines],
            "reason": ["malformed_row"] * len(table.bad_lines),
            "detail": [
                f"{table.path.name} line {b.line} has {b.actual} fields where the header has "
                f"{b.expected}: {b.text[:80]!r}; quote fields that contain commas"
                for b in table.bad_lines
            ],
        }
    )
    return frame, np.asarray(rows, dtype="int64"), malformed, table.notes


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
