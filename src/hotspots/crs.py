"""Coordinate reference systems: detection, the working CRS, and the WGS84 edge.

Analysis happens in metres: EPSG:27700 (British National Grid) for Great Britain, the
local UTM zone elsewhere. WGS84 appears only when writing outputs, and folium's
(lat, lon) order is produced by :func:`folium_location` alone.
"""

from __future__ import annotations

from typing import Literal

import geopandas as gpd
import numpy as np
from pyproj import CRS
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info

from hotspots.errors import CRSError

__all__ = [
    "BNG",
    "WGS84",
    "CoordKind",
    "detect_coordinate_kind",
    "folium_bounds",
    "folium_location",
    "in_great_britain",
    "to_wgs84",
    "working_crs_for",
]

BNG = CRS.from_epsg(27700)
WGS84 = CRS.from_epsg(4326)

# Great Britain's extent in lon/lat (with the islands); inside it the working CRS is BNG
_GB_LON = (-8.9, 2.1)
_GB_LAT = (49.8, 60.95)

# share of points that must lie in Great Britain for the working CRS to be BNG
_BULK_SHARE = 0.5

CoordKind = Literal["lonlat", "projected"]


def in_great_britain(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Whether each lon/lat lies in Great Britain's extent (with the islands)."""
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    return (lon >= _GB_LON[0]) & (lon <= _GB_LON[1]) & (lat >= _GB_LAT[0]) & (lat <= _GB_LAT[1])


def detect_coordinate_kind(x: np.ndarray, y: np.ndarray, *, what: str) -> CoordKind:
    """Say whether coordinate values are lon/lat degrees or projected units.

    Values that all lie within [-180, 180] x [-90, 90] are degrees; values that are all
    larger than that are projected. Anything mixed is refused, naming the fix.
    """
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    ok = np.isfinite(x) & np.isfinite(y) & ~((x == 0) & (y == 0))
    if not ok.any():
        msg = f"{what} has no usable coordinates to detect the CRS from; pass --crs."
        raise CRSError(msg)
    x, y = x[ok], y[ok]
    degrees = (np.abs(x) <= 180) & (np.abs(y) <= 90)
    if degrees.all():
        return "lonlat"
    if not degrees.any():
        return "projected"
    share = degrees.mean()
    msg = (
        f"{what} mixes coordinates that look like lon/lat degrees ({share:.0%}) with larger "
        f"projected values; pass --crs (e.g. --crs EPSG:4326 or --crs EPSG:27700) and fix the "
        f"rows that do not fit."
    )
    raise CRSError(msg)


def working_crs_for(lon: np.ndarray, lat: np.ndarray) -> CRS:
    """Metric CRS for points given in lon/lat: BNG in Great Britain, else local UTM zone.

    The bulk of the points decides: BNG when more than half lie in Great Britain, else
    the UTM zone of the median point. A few strays never change the choice (they are
    rejected as ``outside_area`` by ingest instead).
    """
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        msg = "Cannot choose a working CRS: no finite coordinates."
        raise CRSError(msg)
    lon, lat = lon[ok], lat[ok]
    # the bulk decides: strays (a few rows in New York in a force file) never switch it
    if float(in_great_britain(lon, lat).mean()) > _BULK_SHARE:
        return BNG
    infos = query_utm_crs_info(
        datum_name="WGS 84",
        area_of_interest=AreaOfInterest(
            west_lon_degree=float(np.median(lon)),
            south_lat_degree=float(np.median(lat)),
            east_lon_degree=float(np.median(lon)),
            north_lat_degree=float(np.median(lat)),
        ),
    )
    if not infos:  # pragma: no cover - every point on Earth has a UTM zone
        msg = "No UTM zone found for the data; pass --working-crs."
        raise CRSError(msg)
    return CRS.from_epsg(int(infos[0].code))


def to_wgs84(layer: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoDataFrame | gpd.GeoSeries:
    """Reproject a layer to EPSG:4326 for output (never for analysis)."""
    if layer.crs is None:
        msg = "Layer has no CRS; cannot write it as WGS84."
        raise CRSError(msg)
    return layer.to_crs(WGS84)


def folium_location(layer: gpd.GeoDataFrame | gpd.GeoSeries) -> list[float]:
    """Centre of ``layer`` as folium expects it: [lat, lon]."""
    xmin, ymin, xmax, ymax = layer.total_bounds
    centre = (
        gpd.GeoSeries(gpd.points_from_xy([(xmin + xmax) / 2], [(ymin + ymax) / 2]), crs=layer.crs)
        .to_crs(WGS84)
        .iloc[0]
    )
    return [float(centre.y), float(centre.x)]  # folium order is (lat, lon)


def folium_bounds(layer: gpd.GeoDataFrame | gpd.GeoSeries) -> list[list[float]]:
    """Bounds of ``layer`` as folium's fit_bounds expects: [[south, west], [north, east]]."""
    west, south, east, north = to_wgs84(layer).total_bounds
    return [[float(south), float(west)], [float(north), float(east)]]
