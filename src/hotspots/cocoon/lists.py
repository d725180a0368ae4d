"""Visit lists: the homes inside each cocoon zone, nearest first, and team and street views.

Risk after a burglary falls with distance (Bowers & Johnson 2005), so each zone's list is
ordered by distance from the burgled home and its ``nearest`` addresses are mandatory.
The burgled home itself is flagged and never listed as a target.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from hotspots._validate import check_positive, require_columns, require_metric_crs
from hotspots.cocoon.addresses import AddressIndex
from hotspots.config import BURGLED_WITHIN_M, NEAREST, RADIUS_M
from hotspots.errors import CRSError, OptionError
from hotspots.outputs.doors import (  # the door view of a visit list, re-exported here
    ADDRESS_UNITS,
    DOOR_COLUMNS,
    STREET_UNKNOWN,
    AddressUnit,
    address_unit,
    door_groups,
    house_ranges,
)
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
    "ADDRESS_UNITS",
    "BAND_EDGES_M",
    "DOOR_COLUMNS",
    "ORDER",
    "VISIT_COLUMNS",
    "AddressUnit",
    "address_unit",
    "distance_bands",
    "door_groups",
    "house_ranges",
    "street_summary",
    "team_lists",
    "visit_lists",
]

ORDER = VISIT_ORDER
BAND_EDGES_M = (0.0, 100.0, 200.0, 400.0)
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


def distance_bands(distance_m: np.ndarray, *, radius_m: float = RADIUS_M) -> np.ndarray:
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
    radius_m: float = RADIUS_M,
    nearest: int = NEAREST,
    burgled_within_m: float = BURGLED_WITHIN_M,
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
        ``order``, never mandatory and not counted among the targets. 0 turns the flag
        off (use it when points are snapped, as police.uk's are, and the home is
        unknown).

    Returns
    -------
    pandas.DataFrame
        One row per zone and address within the radius, with columns ``zone_id``,
        ``area``, ``due_by``, ``expires_on``, ``address_id``, ``address``, ``street``,
        ``postcode``, ``distance_m`` (0.1 m), ``distance_band``, ``order`` (1 = nearest
        target; <NA> for the burgled home), ``mandatory``, ``is_burgled_address``,
        ``easting``, ``northing`` (address, metres), ``latitude``, ``longitude``
        (WGS84). Sorted by deadline, zone, then distance. The text columns are
        pandas Categoricals (each distinct text stored once, so a list of millions of
        rows stays small); call ``.astype("string")`` before filling gaps with new
        text.

    Raises
    ------
    CRSError
        Zones and addresses are in different CRSs, or not in metres.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from hotspots.cocoon import cocoon_zones
    >>> burglary = gpd.GeoDataFrame(
    ...     {"incident_id": ["B1"], "dwelling_burglary": [True],
    ...      "occurred_at": pd.DatetimeIndex(["2024-03-01"], tz="Europe/London")},
    ...     geometry=gpd.points_from_xy([400_000.0], [300_000.0]), crs=27700)
    >>> homes = gpd.GeoDataFrame(
    ...     {"address_id": ["home", "next door", "far", "outside"]},
    ...     geometry=gpd.points_from_xy([400_000.0, 400_020.0, 400_000.0, 400_500.0],
    ...                                 [300_000.0, 300_000.0, 300_400.0, 300_000.0]),
    ...     crs=27700)
    >>> zones = cocoon_zones(burglary, as_of=pd.Timestamp("2024-03-02"))
    >>> visits = visit_lists(zones, homes, nearest=1)
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
        raise OptionError(msg)
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
    burgled = first_in_zone & (dist <= burgled_within_m) & (burgled_within_m > 0)
    target = ~burgled
    # rank targets within their zone: running count of targets minus the zone's start
    cum = np.cumsum(target)
    zone_start = np.maximum.accumulate(np.where(first_in_zone, np.arange(len(zi)), 0))
    before = np.where(zone_start > 0, cum[zone_start - 1], 0) if len(zi) else cum
    rank = cum - before
    order = pd.array(np.where(target, rank, 0), dtype="Int64")
    order[~target] = pd.NA
    lonlat = index.lonlat()
    out = pd.DataFrame(
        {
            ZONE_ID: _categorical(ordered[ZONE_ID], zi),
            AREA_NAME: _categorical(ordered[AREA_NAME], zi),
            DUE_BY: ordered[DUE_BY].iloc[zi].reset_index(drop=True),
            EXPIRES_ON: ordered[EXPIRES_ON].iloc[zi].reset_index(drop=True),
            ADDRESS_ID: index.take_text(ADDRESS_ID, ai),
            ADDRESS_TEXT: index.take_text(ADDRESS_TEXT, ai),
            STREET: index.take_text(STREET, ai),
            POSTCODE: index.take_text(POSTCODE, ai),
            DISTANCE_M: np.round(dist, 1),
            DISTANCE_BAND: pd.Categorical(distance_bands(dist, radius_m=radius_m)),
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


def _categorical(values: pd.Series, idx: np.ndarray) -> pd.Categorical:
    """``values`` at positions ``idx`` as a Categorical (one copy of each distinct text)."""
    codes, uniques = pd.factorize(values.astype("string"))
    return pd.Categorical.from_codes(codes[idx], categories=pd.Index(uniques, dtype="string"))


def _targets(visits: pd.DataFrame) -> pd.DataFrame:
    require_columns(
        visits,
        [ZONE_ID, AREA_NAME, DUE_BY, ADDRESS_ID, DISTANCE_M, IS_BURGLED],
        what="visit list",
        fix="Make it with hotspots.cocoon.visit_lists.",
    )
    return visits[~visits[IS_BURGLED].to_numpy(dtype=bool)]


def _sorted_codes(values: pd.Series) -> np.ndarray:
    """Integer codes of ``values`` that sort like the texts (factorise once, rank uniques)."""
    codes, uniques = pd.factorize(values)
    rank = np.argsort(np.argsort(np.asarray(uniques, dtype=str), kind="stable"), kind="stable")
    return np.where(codes < 0, -1, rank[codes])


def _zone_rank(targets: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Per row, the rank of its zone by (deadline, zone id); and the zones in that order."""
    zone_codes, zone_values = pd.factorize(targets[ZONE_ID])
    first = np.full(len(zone_values), 0, dtype="int64")
    first[zone_codes[::-1]] = np.arange(len(zone_codes))[::-1]  # a row of each zone
    zones = pd.DataFrame(
        {
            ZONE_ID: np.asarray(zone_values, dtype=object),
            DUE_BY: targets[DUE_BY].iloc[first].reset_index(drop=True),
            AREA_NAME: targets[AREA_NAME].iloc[first].to_numpy(),
        }
    )
    zones = zones.sort_values([DUE_BY, ZONE_ID], kind="stable")
    rank = np.empty(len(zones), dtype="int64")
    rank[zones.index.to_numpy()] = np.arange(len(zones))
    return rank[zone_codes], zones.reset_index(drop=True)


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
        deadline, then distance (ties: the order addresses first appear in the list).
    """
    targets = _targets(visits).reset_index(drop=True)
    zrank, zones = _zone_rank(targets)
    area_codes = _sorted_codes(targets[AREA_NAME])
    addr_codes, _ = pd.factorize(targets[ADDRESS_ID])  # ties: first-listed address first
    # one sort by (area, address, zone rank): the first row of each group is its earliest zone
    order = np.lexsort((zrank, addr_codes, area_codes))
    a_sorted, d_sorted = area_codes[order], addr_codes[order]
    change = np.r_[True, (a_sorted[1:] != a_sorted[:-1]) | (d_sorted[1:] != d_sorted[:-1])]
    starts = np.flatnonzero(change)
    offsets = np.r_[starts, len(order)].astype("int64")
    zone_text = pa.array(zones[ZONE_ID].astype(str).to_numpy(), type=pa.string())
    flat = pc.take(zone_text, pa.array(zrank[order]))
    joined = pc.binary_join(pa.LargeListArray.from_arrays(pa.array(offsets), flat), ";")
    firsts = targets.iloc[order[starts]].reset_index(drop=True)
    dist = targets[DISTANCE_M].to_numpy(dtype="float64")[order]
    mand = (
        targets[MANDATORY].to_numpy(dtype=bool)
        if MANDATORY in targets
        else np.zeros(len(targets), dtype=bool)
    )[order]
    out = pd.DataFrame(
        {
            AREA_NAME: firsts[AREA_NAME],
            ADDRESS_ID: firsts[ADDRESS_ID],
            ADDRESS_TEXT: firsts.get(ADDRESS_TEXT),
            STREET: firsts.get(STREET),
            POSTCODE: firsts.get(POSTCODE),
            DUE_BY: firsts[DUE_BY],
            ZONE_IDS: pd.Series(joined.to_numpy(zero_copy_only=False), dtype="string"),
            "n_zones": np.diff(offsets),
            DISTANCE_M: np.minimum.reduceat(dist, starts) if len(starts) else dist[:0],
            MANDATORY: (np.maximum.reduceat(mand, starts) if len(starts) else mand[:0]).astype(
                bool
            ),
        }
    )
    for col in (EASTING, NORTHING, LATITUDE, LONGITUDE):
        if col in firsts.columns:
            out[col] = firsts[col]
    first_rank = zrank[order[starts]]
    final = np.lexsort((d_sorted[starts], out[DISTANCE_M].to_numpy(), first_rank, a_sorted[starts]))
    return out.iloc[final].reset_index(drop=True)


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
        deadline, zone, nearest distance, then street.
    """
    targets = _targets(visits).reset_index(drop=True)
    zrank, zones = _zone_rank(targets)
    street = (
        targets[STREET]
        if STREET in targets
        else pd.Series(pd.NA, index=targets.index, dtype="string")
    )
    codes, uniques = pd.factorize(street)
    texts = np.array([*np.asarray(uniques, dtype=object), STREET_UNKNOWN], dtype=object)
    codes = np.where(codes < 0, len(texts) - 1, codes)
    alphabetical = np.argsort(texts.astype(str), kind="stable")
    rank = np.empty(len(texts), dtype="int64")
    rank[alphabetical] = np.arange(len(texts))
    street_codes, street_values = rank[codes], texts[alphabetical]
    key = zrank * max(len(street_values), 1) + street_codes
    frame = pd.DataFrame(
        {
            "key": key,
            "d": targets[DISTANCE_M].to_numpy(dtype="float64"),
            "m": (
                targets[MANDATORY].to_numpy(dtype=bool)
                if MANDATORY in targets
                else np.zeros(len(targets), dtype=bool)
            ).astype("int64"),
        }
    )
    grouped = frame.groupby("key", sort=True).agg(
        homes=("d", "size"), mandatory=("m", "sum"), nearest_m=("d", "min")
    )
    keys = grouped.index.to_numpy()
    z_of, s_of = keys // max(len(street_values), 1), keys % max(len(street_values), 1)
    out = pd.DataFrame(
        {
            ZONE_ID: zones[ZONE_ID].to_numpy()[z_of],
            AREA_NAME: zones[AREA_NAME].to_numpy()[z_of],
            DUE_BY: zones[DUE_BY].iloc[z_of].reset_index(drop=True),
            STREET: pd.Series(np.asarray(street_values, dtype=object)[s_of], dtype="string"),
            "homes": grouped["homes"].to_numpy().astype("int64"),
            MANDATORY: grouped["mandatory"].to_numpy().astype("int64"),
            "nearest_m": grouped["nearest_m"].to_numpy(),
        }
    )
    final = np.lexsort((s_of, out["nearest_m"].to_numpy(), z_of))
    return out.iloc[final].reset_index(drop=True)
