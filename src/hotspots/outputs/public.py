"""Public (shareable) mode: every generalisation rule in one place, applied at the output edge.

Cocoon lists hold the addresses of burglary victims' neighbours, so a public output must
not point back to a home: points move to the centre of their ``PUBLIC_CELL_M`` grid cell,
zones are re-centred on that cell, and record ids and location text are dropped.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from hotspots._validate import require_metric_crs
from hotspots.schema import EASTING, NORTHING, OCCURRED_AT, OCCURRED_TO, OFFENCE, TIME_RESOLUTION

__all__ = [
    "PUBLIC_CELL_M",
    "SMALL_COUNT",
    "generalise_points",
    "generalise_zones",
    "public_burglaries",
]

PUBLIC_CELL_M = 150.0
SMALL_COUNT = 3  # public mode shows counts 1-2 as "<3"


def generalise_points(points: gpd.GeoSeries, *, cell_m: float = PUBLIC_CELL_M) -> gpd.GeoSeries:
    """Each point moved to the centre of its ``cell_m`` grid cell (``floor(x / cell_m)``)."""
    require_metric_crs(points, what="points to generalise")
    xy = shapely.get_coordinates(points.to_numpy())
    x = (np.floor(xy[:, 0] / cell_m) + 0.5) * cell_m
    y = (np.floor(xy[:, 1] / cell_m) + 0.5) * cell_m
    return gpd.GeoSeries(gpd.points_from_xy(x, y), index=points.index, crs=points.crs)


def generalise_zones(
    zones: gpd.GeoDataFrame, *, radius_m: float | None = None, quad_segs: int = 16
) -> gpd.GeoDataFrame:
    """Zones re-centred on the grid cell of their centre, so no home can be pinpointed.

    ``radius_m`` defaults to each zone's own radius (its minimum bounding radius). The
    burgled home's own ``easting``/``northing`` columns, when present, move with it.
    """
    out = zones.copy()
    centres = generalise_points(zones.geometry.centroid)
    radius = (
        shapely.minimum_bounding_radius(zones.geometry.to_numpy()) if radius_m is None else radius_m
    )
    out[out.geometry.name] = shapely.buffer(centres.to_numpy(), radius, quad_segs=quad_segs)
    if EASTING in out and NORTHING in out:
        out[EASTING] = centres.x.to_numpy()
        out[NORTHING] = centres.y.to_numpy()
    return out


def public_burglaries(burglaries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Burglaries fit to share: grid-cell centres, no location text or record ids."""
    keep = [c for c in (OCCURRED_AT, OCCURRED_TO, OFFENCE, TIME_RESOLUTION) if c in burglaries]
    return gpd.GeoDataFrame(
        burglaries[keep].reset_index(drop=True),
        geometry=generalise_points(burglaries.geometry).to_numpy(),
        crs=burglaries.crs,
    )
