"""Checking find_spots' inputs: options, harm, offences, the as-of day and areas (private)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots._validate import check_positive, require_columns
from hotspots.areas import AREA_UNASSIGNED, label_points
from hotspots.errors import OptionError, SchemaError
from hotspots.schema import (
    AREA_NAME,
    HARM,
    N_OFFENCE_PREFIX,
    OCCURRED_AT,
    OFFENCE,
    SOURCE_FILE,
    SOURCE_ROW,
)

__all__ = [
    "METHODS",
    "MIN_PROFILE_INCIDENTS",
    "NO_AREAS",
    "SERIOUS_VIOLENCE",
    "INSTITUTIONS",
    "TREND_BAND",
    "Method",
    "institution_of",
    "place_name_of",
    "check_harm",
    "check_options",
    "describe_offences",
    "label_incidents",
    "offence_slug",
    "prepare_areas",
    "resolve_offences",
    "span_of",
]

SERIOUS_VIOLENCE: tuple[str, ...] = (
    "Violence and sexual offences",
    "Robbery",
    "Possession of weapons",
    "Drugs",
)
Method = Literal["grid", "hex", "dbscan", "gistar"]
METHODS: tuple[str, ...] = get_args(Method)
NO_AREAS = "all"  # area name of every spot when no areas layer is given
TREND_BAND = 0.10  # +-10% of the previous look-back's harm counts as "steady"
MIN_PROFILE_INCIDENTS = 5  # exact-timed incidents needed before naming peak windows


# Institutional snap points, checked in this order against a spot's location text
# (whole words, case-insensitive). police.uk snaps crimes inside an institution to one
# point named after it ("On or near Prison"), so such a spot is often one building.
# Prisons are left out of the patrol selection by default; the others are flagged only.
INSTITUTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("prison", ("Prison", "HMP", "Young Offender", "Young Offenders")),
    ("hospital", ("Hospital", "Infirmary", "Health Centre", "Medical Centre")),
    ("police_station", ("Police Station", "Custody")),
    ("court", ("Court", "Magistrates", "Crown Court")),
)
_INSTITUTION_RE = [
    (kind, re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE))
    for kind, words in INSTITUTIONS
]
_ON_OR_NEAR = re.compile(r"^\s*on or near\s+", re.IGNORECASE)


def place_name_of(location: object) -> str:
    """Location text without police.uk's ``"On or near "`` (``""`` when missing).

    Examples
    --------
    >>> place_name_of("On or near Great Eastern Avenue")
    'Great Eastern Avenue'
    """
    if location is None or (isinstance(location, float) and np.isnan(location)):
        return ""
    if location is pd.NA:
        return ""
    return _ON_OR_NEAR.sub("", str(location)).strip()


def institution_of(location: object) -> str:
    """Kind of institution a location text names (see :data:`INSTITUTIONS`), else ``""``.

    Examples
    --------
    >>> institution_of("On or near Prison"), institution_of("HMP Chelmsford")
    ('prison', 'prison')
    >>> institution_of("On or near Hospital"), institution_of("On or near High Street")
    ('hospital', '')
    """
    text = place_name_of(location)
    for kind, pattern in _INSTITUTION_RE:
        if pattern.search(text):
            return kind
    return ""


def offence_slug(offence: str) -> str:
    """Column name of an offence's incident count, e.g. ``n_possession_of_weapons``."""
    return N_OFFENCE_PREFIX + re.sub(r"[^0-9a-z]+", "_", str(offence).lower()).strip("_")


def check_options(
    *,
    cell_m: float,
    eps_m: float,
    min_harm: float,
    lookback_days: int,
    top: int | None,
    harm_share: float | None,
    max_area_km2: float | None,
    fdr_alpha: float,
    permutations: int,
    previous_days: int,
) -> None:
    check_positive(cell_m, name="cell_m")
    check_positive(eps_m, name="eps_m")
    check_positive(min_harm, name="min_harm")
    check_positive(lookback_days, name="lookback_days")
    check_positive(previous_days, name="previous_days", allow_zero=True)
    check_positive(permutations, name="permutations", allow_zero=True)
    if not 0 < fdr_alpha < 1:
        msg = f"fdr_alpha must be between 0 and 1 (e.g. 0.05); got {fdr_alpha!r}."
        raise OptionError(msg)
    if top is not None and harm_share is not None:
        msg = (
            "Give --top or --harm-share, not both (top picks N spots; harm-share the fewest "
            "spots holding that share)."
        )
        raise OptionError(msg)
    if top is None and harm_share is None and max_area_km2 is None:
        msg = "Say how many spots to pick: --top N, --harm-share 0.5 or --max-area-km2."
        raise OptionError(msg)
    if top is not None and (
        isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1
    ):
        msg = f"top must be a whole number of spots >= 1; got {top!r}."
        raise OptionError(msg)
    if harm_share is not None and not 0 < harm_share <= 1:
        msg = f"harm_share must be a share of harm in (0, 1], e.g. 0.5; got {harm_share!r}."
        raise OptionError(msg)
    if max_area_km2 is not None:
        check_positive(max_area_km2, name="max_area_km2")


def check_harm(incidents: gpd.GeoDataFrame) -> None:
    harm = pd.to_numeric(incidents[HARM], errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )
    bad = ~np.isfinite(harm) | (harm < 0)
    if bad.any():
        i = int(np.nonzero(bad)[0][0])
        where = f"row {i}"
        if SOURCE_FILE in incidents.columns and SOURCE_ROW in incidents.columns:
            where = f"{incidents[SOURCE_FILE].iloc[i]} row {incidents[SOURCE_ROW].iloc[i]}"
        msg = (
            f"incidents column {HARM!r} must be a harm weight >= 0; {int(bad.sum())} rows are "
            f"missing or negative (first: {where}, value {incidents[HARM].iloc[i]!r}). "
            f"Re-run apply_harm with a table that covers every offence."
        )
        raise SchemaError(msg)


def resolve_offences(
    incidents: gpd.GeoDataFrame, offences: Sequence[str] | None
) -> tuple[str, ...]:
    """The offence categories to rank, checked against the data.

    None means every category present. The default serious-violence set may be partly
    absent (a force file without drugs offences); any other name must be in the data.
    """
    present = sorted(str(o) for o in incidents[OFFENCE].dropna().unique())
    if offences is None:
        return tuple(present)
    if isinstance(offences, str):
        offences = [offences]
    wanted = tuple(dict.fromkeys(str(o).strip() for o in offences if str(o).strip()))
    unknown = [o for o in wanted if o not in present]
    default = tuple(wanted) == SERIOUS_VIOLENCE
    if not wanted or (unknown and not default) or len(unknown) == len(wanted):
        msg = (
            f"offences: {unknown or list(wanted)} not in the data; its offence categories "
            f"are {present}. Pass --offences with those names, comma-separated."
        )
        raise OptionError(msg)
    return wanted


def prepare_areas(
    areas: gpd.GeoDataFrame | None, incidents: gpd.GeoDataFrame
) -> gpd.GeoDataFrame | None:
    if areas is None:
        return None
    if not isinstance(areas, gpd.GeoDataFrame):
        msg = f"areas must be a GeoDataFrame from hotspots.areas.read_areas; got {type(areas)}."
        raise TypeError(msg)
    require_columns(
        areas,
        [AREA_NAME],
        what="areas",
        fix="Read them with hotspots.areas.read_areas(path, area_field=...).",
    )
    if areas.crs is None or not areas.crs.equals(incidents.crs):
        areas = areas.to_crs(incidents.crs) if areas.crs is not None else areas
    if areas.crs is None:
        msg = "areas has no CRS; read it with hotspots.areas.read_areas."
        raise OptionError(msg)
    return areas


def label_incidents(data: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None) -> np.ndarray:
    """Area of each incident; refuses an areas layer that holds none of them.

    police.uk points are snapped to shared map points, so each distinct location is
    looked up once.
    """
    if areas is None:
        # one shared text (np.full of a str makes a new str object per row)
        return np.repeat(np.array([NO_AREAS], dtype=object), len(data))
    xy = data.get_coordinates().to_numpy()
    uniq, inverse = np.unique(xy, axis=0, return_inverse=True)
    pts = gpd.GeoSeries(gpd.points_from_xy(uniq[:, 0], uniq[:, 1]), crs=data.crs)
    labels = label_points(pts, areas)[inverse.ravel()]
    if len(data) and (labels == AREA_UNASSIGNED).all():
        ib = np.round(data.total_bounds).astype(int).tolist()
        ab = np.round(areas.total_bounds).astype(int).tolist()
        msg = (
            f"The areas layer does not overlap the incidents (areas bounds {ab}, incidents "
            f"bounds {ib}, both {data.crs.to_string()}); check you passed the right "
            f"--areas file for this force."
        )
        raise OptionError(msg)
    return labels


def describe_offences(offences: Sequence[str]) -> str:
    return ", ".join(offences) if len(offences) <= 4 else f"{len(offences)} offence types'"


def span_of(incidents: gpd.GeoDataFrame) -> str:
    t = incidents[OCCURRED_AT]
    return f"{t.min():%Y-%m-%d} to {t.max():%Y-%m-%d}"
