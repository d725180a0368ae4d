"""Output writers: GeoJSON, CSV, GeoPackage, JSON, provenance.

The folium map lives in :mod:`hotspots.outputs.maps` and the printable cocoon lists in
:mod:`hotspots.outputs.lists` (imported on demand: folium is slow to load).
"""

from hotspots.outputs.files import (
    atomic_path,
    file_sha256,
    with_coordinates,
    write_csv,
    write_geojson,
    write_geopackage,
    write_json,
    write_text,
)
from hotspots.outputs.provenance import build_provenance, describe_inputs

__all__ = [
    "atomic_path",
    "build_provenance",
    "describe_inputs",
    "file_sha256",
    "with_coordinates",
    "write_csv",
    "write_geojson",
    "write_geopackage",
    "write_json",
    "write_text",
]
