"""Visit lists: the homes inside each cocoon zone, nearest first, and team and street views.

Risk after a burglary falls with distance (Bowers & Johnson 2005), so each zone's list is
ordered by distance from the burgled home and its ``nearest`` addresses are mandatory.
The burgled home itself is flagged and never listed as a target.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots._validate import check_positive, require_columns, require_metric_crs
from hotspots.cocoon.addresses import AddressIndex
from hotspots.errors import CRSError
from hotspots.schema import (
    ADDRESS_ID,
    ADDRESS_TEXT,
    AREA_NAME,
    DISTANCE_BAND,
    DISTANCE_M,
    DUE_BY,
    EASTING,
    EXPIRES_ON,
    IS_BURGLED,
    LATITUDE,
    LONGITUDE,
    MANDATORY,
    NORTHING,
    POSTCODE,
    STREET,
    VISIT_ORDER,
    ZONE_ID,
    ZONE_IDS,
)

__all__ = [
    "BAND_EDGES_M",
    "ORDER",
    "VISIT_COLUMNS",
    "distance_bands",
    "street_summary",
    "team_lists",
    "visit_lists",
]

ORDER = VISIT_ORDER
BAND_EDGES_M = (0.0, 100.0, 200.0, 400.0)
STREET_UNKNOWN = "(street unknown)"
VISIT_COLUMNS = (
    ZONE_ID,
    AREA_NAME,
    DUE_BY,
    EXPIRES_ON,
    ADDRESS_ID,
    ADDRESS_TEXT,
    STREET,
    POSTCODE,
    DISTANCE_M,
    DISTANCE_BAND,
    ORDER,
    MANDATORY,
    IS_BURGLED,
    EASTING,
    NORTHING,
    LATITUDE,
    LONGITUDE,
)


def _band_edges(radius_m: float) -> np.ndarray:
    edges = [e for e in BAND_EDGES_M if e < radius_m]
    return np.array([*edges, radius_m], dtype="float64")


def distance_bands(distance_m: np.ndarray, *, radius_m: float = 400.0) -> np.ndarray:
    """Band label of each distance: ``0-100``, ``100-200``, ``200-400`` (closed on the right).

    Bands end at ``radius_m``: with 300 m the last band is ``200-300``; with 600 m a
    ``400-600`` band is added. 100 m exactly is in ``0-100``.
    """
    edges = _band_edges(radius_m)
    if radius_m > BAND_EDGES_M[-1]:
        edges = np.array([*BAND_EDGES_M, radius_m])
    labels = np.array(
        [f"{lo:g}-{hi:g}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)], dtype=object
    )
    idx = np.searchsorted(edges, np.asarray(distance_m, dtype="float64"), side="left") - 1
    return labels[np.clip(idx, 0, len(labels) - 1)]


def visit_lists(
    zones: gpd.GeoDataFrame,
    addresses: gpd.GeoDataFrame | AddressIndex,
    *,
    radius_m: float = 400.0,
    nearest: int = 8,
    burgled_within_m: float = 15.0,
) -> pd.DataFrame:
    """Addresses to visit in each zone, nearest first (``cocoon_visits.csv``).

    Parameters
    ----------
    zones
        Output of :func:`cocoon_zones` (uses ``zone_id``, ``area``, ``due_by``,
        ``expires_on`` and the burglary ``easting``/``northing``).
    addresses
        Address points (:func:`read_addresses`) or an :class:`AddressIndex` over them,
        in the zones' CRS.
    radius_m
        Distance from the burglary in metres (default 400); an address exactly at the
        radius is included.
    nearest
        The ``nearest`` closest target addresses of each zone are mandatory (default 8).
    burgled_within_m
        The address nearest the burglary, if within this many metres (default 15), is
        taken to be the burgled home: flagged ``is_burgled_address``, given no
        ``order``, never mandatory and not counted among the targets.

    Returns
    -------
    pandas.DataFrame
        One row per zone and address within the radius, with columns ``zone_id``,
        ``area``, ``due_by``, ``expires_on``, ``address_id``, ``address``, ``street``,
        ``postcode``, ``distance_m`` (0.1 m), ``distance_band``, ``order`` (1 = nearest
        target; <NA> for the burgled home), ``mandatory``, ``is_burgled_address``,
        ``easting``, ``northing`` (address, metres), ``latitude``, ``longitude``
        (WGS84). Sorted by deadline, zone, then distance.

    Raises
    ------
    CRSError
        Zones and addresses are in different CRSs, or not in metres.

    Examples
    --------
    >>> visits = visit_lists(example_zones, example_addresses, nearest=1)
    >>> visits[["address_id", "distance_m", "order", "mandatory"]].values.tolist()
    [['home', 0.0, <NA>, False], ['next door', 20.0, 1, True], ['far', 400.0, 2, False]]
    """
    require_metric_crs(zones, what="zones")
    require_columns(
        zones,
        [ZONE_ID, AREA_NAME, DUE_BY, EXPIRES_ON, EASTING, NORTHING],
        what="zones",
        fix="Make them with hotspots.cocoon.cocoon_zones.",
    )
    radius_m = check_positive(radius_m, name="radius_m")
    burgled_within_m = check_positive(burgled_within_m, name="burgled_within_m", allow_zero=True)
    if isinstance(nearest, bool) or not isinstance(nearest, int | np.integer) or nearest < 0:
        msg = f"nearest must be a whole number >= 0; got {nearest!r}."
        raise ValueError(msg)
    index = addresses if isinstance(addresses, AddressIndex) else AddressIndex(addresses)
    if not index.crs.equals(zones.crs):
        msg = (
            f"zones ({zones.crs.to_string()}) and addresses ({index.crs.to_string()}) are in "
            f"different CRSs; read the addresses with working_crs=<the incidents' CRS>."
        )
        raise CRSError(msg)
    ordered = zones.sort_values([DUE_BY, ZONE_ID], kind="stable").reset_index(drop=True)
    points = shapely.points(
        ordered[EASTING].to_numpy(dtype="float64"), ordered[NORTHING].to_numpy(dtype="float64")
    )
    zi, ai, dist = index.within(points, radius_m)
    first_in_zone = np.r_[True, zi[1:] != zi[:-1]] if len(zi) else np.zeros(0, dtype=bool)
    burgled = first_in_zone & (dist <= burgled_within_m)
    target = ~burgled
    # rank targets within their zone: running count of targets minus the zone's start
    cum = np.cumsum(target)
    zone_start = np.maximum.accumulate(np.where(first_in_zone, np.arange(len(zi)), 0))
    before = np.where(zone_start > 0, cum[zone_start - 1], 0) if len(zi) else cum
    rank = cum - before
    order = pd.array(np.where(target, rank, 0), dtype="Int64")
    order[~target] = pd.NA
    table = index.addresses
    lonlat = index.lonlat()
    out = pd.DataFrame(
        {
            ZONE_ID: ordered[ZONE_ID].to_numpy()[zi],
            AREA_NAME: ordered[AREA_NAME].to_numpy()[zi],
            DUE_BY: ordered[DUE_BY].iloc[zi].reset_index(drop=True),
            EXPIRES_ON: ordered[EXPIRES_ON].iloc[zi].reset_index(drop=True),
            ADDRESS_ID: table[ADDRESS_ID].take(ai).reset_index(drop=True),
            ADDRESS_TEXT: _column(table, ADDRESS_TEXT, ai),
            STREET: _column(table, STREET, ai),
            POSTCODE: _column(table, POSTCODE, ai),
            DISTANCE_M: np.round(dist, 1),
            DISTANCE_BAND: distance_bands(dist, radius_m=radius_m),
            ORDER: order,
            MANDATORY: target & (rank <= nearest),
            IS_BURGLED: burgled,
            EASTING: np.round(index.xy_[ai, 0], 1),
            NORTHING: np.round(index.xy_[ai, 1], 1),
            LATITUDE: np.round(lonlat[ai, 1], 6),
            LONGITUDE: np.round(lonlat[ai, 0], 6),
        }
    )
    return out


def _column(table: pd.DataFrame, name: str, idx: np.ndarray) -> pd.Series:
    if name not in table.columns:
        return pd.Series(pd.array([pd.NA] * len(idx), dtype="string"))
    return table[name].take(idx).reset_index(drop=True)


def _targets(visits: pd.DataFrame) -> pd.DataFrame:
    require_columns(
        visits,
        [ZONE_ID, AREA_NAME, DUE_BY, ADDRESS_ID, DISTANCE_M, IS_BURGLED],
        what="visit list",
        fix="Make it with hotspots.cocoon.visit_lists.",
    )
    return visits[~visits[IS_BURGLED].to_numpy(dtype=bool)]


def team_lists(visits: pd.DataFrame) -> pd.DataFrame:
    """One row per address per area: the earliest deadline and every zone it falls in.

    Parameters
    ----------
    visits
        Output of :func:`visit_lists`. Burgled homes are left out.

    Returns
    -------
    pandas.DataFrame
        Columns ``area``, ``address_id``, ``address``, ``street``, ``postcode``,
        ``due_by`` (earliest), ``zone_ids`` (by deadline, ``"Z-1;Z-7"``), ``n_zones``,
        ``distance_m`` (nearest to any of its burglaries), ``mandatory`` (in any zone),
        ``easting``, ``northing``, ``latitude``, ``longitude``. Sorted by area,
        deadline, then distance.
    """
    targets = _targets(visits).sort_values([AREA_NAME, ADDRESS_ID, DUE_BY, ZONE_ID], kind="stable")
    keys = [AREA_NAME, ADDRESS_ID]
    firsts = targets.drop_duplicates(keys, keep="first").reset_index(drop=True)
    grouped = targets.groupby(keys, sort=True)
    multi = grouped[ZONE_ID].transform("size").to_numpy() > 1
    ids = pd.Series(firsts[ZONE_ID].astype(object).to_numpy())
    counts = pd.Series(np.ones(len(firsts), dtype="int64"))
    if multi.any():
        # joining text per group is slow; only addresses in several zones need it
        several = targets[multi].groupby(keys, sort=True)[ZONE_ID].agg(";".join)
        pos = pd.MultiIndex.from_frame(firsts[keys]).get_indexer(several.index)
        ids.iloc[pos] = several.to_numpy()
        counts.iloc[pos] = targets[multi].groupby(keys, sort=True).size().to_numpy()
    out = pd.DataFrame(
        {
            AREA_NAME: firsts[AREA_NAME],
            ADDRESS_ID: firsts[ADDRESS_ID],
            ADDRESS_TEXT: firsts.get(ADDRESS_TEXT),
            STREET: firsts.get(STREET),
            POSTCODE: firsts.get(POSTCODE),
            DUE_BY: firsts[DUE_BY],
            ZONE_IDS: ids,
            "n_zones": counts,
            DISTANCE_M: grouped[DISTANCE_M].min().to_numpy(),
            MANDATORY: grouped[MANDATORY].any().to_numpy() if MANDATORY in targets else False,
        }
    )
    for col in (EASTING, NORTHING, LATITUDE, LONGITUDE):
        if col in firsts.columns:
            out[col] = firsts[col]
    return out.sort_values([AREA_NAME, DUE_BY, DISTANCE_M, ADDRESS_ID], kind="stable").reset_index(
        drop=True
    )


def street_summary(visits: pd.DataFrame) -> pd.DataFrame:
    """Homes to visit per zone and street, with the nearest distance (``cocoon_streets.csv``).

    Parameters
    ----------
    visits
        Output of :func:`visit_lists`; burgled homes are left out. Addresses with no
        street are grouped as ``(street unknown)`` (all of them, for postcode centroids).

    Returns
    -------
    pandas.DataFrame
        Columns ``zone_id``, ``area``, ``due_by``, ``street``, ``homes``,
        ``mandatory`` (mandatory homes on the street), ``nearest_m``; sorted by
        deadline, zone, then nearest distance.
    """
    targets = _targets(visits)
    street = (
        targets[STREET].astype("string").fillna(STREET_UNKNOWN)
        if STREET in targets
        else pd.Series(STREET_UNKNOWN, index=targets.index, dtype="string")
    )
    frame = pd.DataFrame(
        {
            ZONE_ID: targets[ZONE_ID],
            AREA_NAME: targets[AREA_NAME],
            DUE_BY: targets[DUE_BY],
            STREET: street,
            DISTANCE_M: targets[DISTANCE_M],
            MANDATORY: targets.get(MANDATORY, False),
        }
    )
    out = (
        frame.groupby([ZONE_ID, STREET], sort=True)
        .agg(
            area=(AREA_NAME, "first"),
            due_by=(DUE_BY, "first"),
            homes=(DISTANCE_M, "size"),
            mandatory=(MANDATORY, "sum"),
            nearest_m=(DISTANCE_M, "min"),
        )
        .reset_index()
    )
    out = out[[ZONE_ID, AREA_NAME, DUE_BY, STREET, "homes", MANDATORY, "nearest_m"]]
    out[MANDATORY] = out[MANDATORY].astype("int64")
    return out.sort_values([DUE_BY, ZONE_ID, "nearest_m", STREET], kind="stable").reset_index(
        drop=True
    )
