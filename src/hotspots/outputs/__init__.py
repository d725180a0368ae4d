"""Output writers: GeoJSON, CSV, GeoPackage, JSON, provenance (maps and lists to follow)."""

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
