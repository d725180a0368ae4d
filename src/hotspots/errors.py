"""The hotspots exception family and data-quality warnings.

Every error a user can cause derives from :class:`HotspotsError`; the CLI catches it and
exits with status 1 and its one-line message. Each also subclasses the matching built-in
(``ValueError`` for a wrong value, ``TypeError`` for the wrong kind of thing, ``OSError``
for a file problem) so library callers can catch what they expect.
"""

from __future__ import annotations

__all__ = [
    "CRSError",
    "DataQualityWarning",
    "EmptyWindowError",
    "HotspotsError",
    "InputError",
    "OptionError",
    "OutputError",
    "SchemaError",
    "TimeResolutionError",
]


class HotspotsError(Exception):
    """Root of all hotspots errors (the CLI catches this and exits with code 1)."""


class InputError(HotspotsError, ValueError):
    """A whole input file cannot be used (empty, not a table, undecodable, mixed headers...)."""


class SchemaError(HotspotsError, ValueError):
    """A table lacks a required column or a column has the wrong content."""


class CRSError(HotspotsError, ValueError):
    """A layer has no CRS, the wrong CRS, or coordinates that do not fit its CRS."""


class OptionError(HotspotsError, ValueError):
    """An option has a value outside its allowed choices or range."""


class OutputError(HotspotsError, OSError):
    """The outputs cannot be written: a read-only, full or busy --out, or a file in its place."""


class TimeResolutionError(HotspotsError, ValueError):
    """The analysis needs finer dates than the data has (e.g. day bands on monthly data)."""


class EmptyWindowError(HotspotsError, ValueError):
    """The chosen time window holds nothing to work on (e.g. no burglary in 42 days)."""


class DataQualityWarning(UserWarning):
    """Recoverable data-quality problem: rows rejected, values approximated, caveats."""
