"""Harm tables: versioned offence -> weight data files, each with source and licence.

The shipped tables weight offences by Cambridge Crime Harm Index (CCHI) days: the
starting-point sentence, in days of imprisonment, for a first offence of that type
(Sherman, Neyroud & Neyroud 2016, *The Cambridge Crime Harm Index: Measuring Total Harm
from Crime Based on Sentencing Guidelines*, Policing 10(3): 171-183). Each table is a CSV
``offence,weight`` in ``harm/tables/`` with a TOML sidecar giving name, version, source,
licence and notes.
"""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType

import pandas as pd

from hotspots.errors import InputError, OptionError, SchemaError

__all__ = ["DEFAULT_HARM_TABLE", "HARM_TABLES", "HarmTable", "load_harm_table", "normalise_key"]

DEFAULT_HARM_TABLE = "cchi-2026-police-uk"
COUNT_TABLE = "count"
HARM_TABLES: tuple[str, ...] = (DEFAULT_HARM_TABLE, "cchi-2026-subgroups", COUNT_TABLE)
_SIDECAR_FIELDS = ("name", "version", "source", "licence", "notes")
_NOT_KEY = re.compile(r"[^0-9a-z]+")


def normalise_key(text: str) -> str:
    """Offence name as matched: lower case, '&' read as 'and', no spaces or punctuation."""
    return _NOT_KEY.sub("", str(text).lower().replace("&", "and"))


@dataclass(frozen=True)
class HarmTable:
    """Offence weights with their provenance.

    Attributes
    ----------
    name, version, source, licence, notes
        What the table is, where the values come from, under what terms, and caveats.
    weights
        Offence (or offence code) -> harm weight (CCHI days for the shipped tables).
        Keys keep the table's spelling; lookups ignore case, spaces and punctuation.
    default
        Weight for any offence not in ``weights`` (only the ``count`` table has one);
        None means unknown offences are an error.
    """

    name: str
    version: str
    source: str
    licence: str
    notes: str
    weights: Mapping[str, float]
    default: float | None = None
    _lookup: Mapping[str, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lookup: dict[str, float] = {}
        for key, weight in self.weights.items():
            norm = normalise_key(key)
            value = float(weight)
            if not math.isfinite(value) or value < 0:
                msg = f"Harm table {self.name!r}: weight for {key!r} must be >= 0; got {weight!r}."
                raise SchemaError(msg)
            if norm in lookup and lookup[norm] != value:
                msg = (
                    f"Harm table {self.name!r} gives {key!r} two different weights "
                    f"({lookup[norm]:g} and {value:g}) once case and punctuation are ignored; "
                    f"keep one row."
                )
                raise SchemaError(msg)
            lookup[norm] = value
        object.__setattr__(self, "weights", MappingProxyType(dict(self.weights)))
        object.__setattr__(self, "_lookup", MappingProxyType(lookup))

    def weight_of(self, offence: str) -> float | None:
        """Weight for ``offence`` (case/space/punctuation-insensitive), or None if unknown."""
        return self._lookup.get(normalise_key(offence), self.default)

    def knows(self, offence: str) -> bool:
        """Whether ``offence`` is one of the table's own keys (ignoring ``default``)."""
        return normalise_key(offence) in self._lookup

    def to_dict(self) -> dict[str, object]:
        """JSON-ready description (for run.json)."""
        return {
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "licence": self.licence,
            "notes": self.notes,
            "weights": dict(self.weights),
            "default": self.default,
        }


def _read_weights(path: Path | str, text: str, *, what: str) -> dict[str, float]:
    import io

    try:
        frame = pd.read_csv(io.StringIO(text), dtype="string", skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = f"{what} is not a CSV of offence,weight ({exc}). Write one row per offence."
        raise InputError(msg) from exc
    cols = {str(c).strip().lower(): c for c in frame.columns}
    key_col = cols.get("offence", cols.get("offence_code", cols.get("category")))
    weight_col = cols.get("weight", cols.get("harm"))
    if key_col is None or weight_col is None:
        msg = (
            f"{what} needs columns offence,weight; it has {list(frame.columns)}. "
            f"Write a header line 'offence,weight'."
        )
        raise SchemaError(msg)
    if len(frame) == 0:
        msg = f"{what} has no rows; add one offence,weight row per offence."
        raise InputError(msg)
    keys = frame[key_col].str.strip()
    weights = pd.to_numeric(frame[weight_col].str.strip(), errors="coerce")
    bad = keys.isna() | (keys == "") | weights.isna() | (weights < 0)
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        msg = (
            f"{what} row {row + 1}: offence {frame[key_col].iloc[row]!r} with weight "
            f"{frame[weight_col].iloc[row]!r}; every row needs a name and a number >= 0."
        )
        raise SchemaError(msg)
    return dict(zip(keys.tolist(), weights.astype("float64").tolist(), strict=True))


def _shipped(name: str) -> HarmTable:
    folder = resources.files("hotspots.harm") / "tables"
    text = (folder / f"{name}.csv").read_text(encoding="utf-8")
    meta = tomllib.loads((folder / f"{name}.toml").read_text(encoding="utf-8"))
    weights = _read_weights(name, text, what=f"harm table {name}")
    name_, version, source, licence, notes = (str(meta[k]) for k in _SIDECAR_FIELDS)
    return HarmTable(
        name=name_, version=version, source=source, licence=licence, notes=notes, weights=weights
    )


def _user_file(path: Path) -> HarmTable:
    what = f"harm table file {path}"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        msg = f"{what} cannot be read ({exc.strerror}); check the --harm-table path."
        raise InputError(msg) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    weights = _read_weights(path, text, what=what)
    meta = {
        "name": path.stem,
        "version": "sha256:" + hashlib.sha256(raw).hexdigest()[:12],
        "source": f"user file {path.name}",
        "licence": "unknown (user-supplied table)",
        "notes": "User-supplied weights; no sidecar file describes them.",
    }
    sidecar = path.with_suffix(".toml")
    if sidecar.exists():
        try:
            given = tomllib.loads(sidecar.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            msg = f"{sidecar} is not valid TOML ({exc}); fix it or remove it."
            raise InputError(msg) from exc
        meta.update({k: str(v) for k, v in given.items() if k in _SIDECAR_FIELDS})
    return HarmTable(
        name=meta["name"],
        version=meta["version"],
        source=meta["source"],
        licence=meta["licence"],
        notes=meta["notes"],
        weights=weights,
    )


def load_harm_table(name_or_path: str | Path = DEFAULT_HARM_TABLE) -> HarmTable:
    """Load a shipped harm table by name, ``"count"``, or a user CSV of offence,weight.

    Parameters
    ----------
    name_or_path
        ``"cchi-2026-police-uk"`` (default: CCHI days per police.uk crime type),
        ``"cchi-2026-subgroups"`` (CCHI subgroup medians for analyst exports),
        ``"count"`` (every offence weighs 1), or the path of a CSV with columns
        ``offence,weight`` (a ``.toml`` sidecar with name/version/source/licence/notes
        is read when present).

    Returns
    -------
    HarmTable

    Raises
    ------
    OptionError
        Neither a shipped name nor an existing file.
    InputError, SchemaError
        The CSV cannot be read, lacks its columns or has a bad weight.

    Examples
    --------
    >>> load_harm_table().weight_of("burglary")
    244.68
    """
    key = str(name_or_path)
    if key == COUNT_TABLE:
        return HarmTable(
            name=COUNT_TABLE,
            version="1",
            source="hotspots: unweighted counts",
            licence="MIT (hotspots)",
            notes="Every offence weighs 1: plain counts.",
            weights={},
            default=1.0,
        )
    if key in HARM_TABLES:
        return _shipped(key)
    path = Path(key)
    if path.is_file():
        return _user_file(path)
    msg = (
        f"Harm table {key!r} is neither a shipped table {HARM_TABLES} nor an existing CSV "
        f"file; pass one of those names or the path of an offence,weight CSV."
    )
    raise OptionError(msg)
