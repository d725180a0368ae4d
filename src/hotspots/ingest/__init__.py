"""Read incident tables into canonical, metric, validated GeoDataFrames.

police.uk street CSVs (either header style), police.uk API records and hotspots' own
canonical tables are recognised without options; anything else is mapped with
:class:`hotspots.config.IngestOptions`. Every unusable row is kept with a reason.
"""

from hotspots.ingest._coords import (
    outside_working_area,
    points_from_columns,
    read_vector_points,
)
from hotspots.ingest._dates import check_tz, day_end, in_bounds
from hotspots.ingest._files import force_slug, forces_within, read_text_table
from hotspots.ingest._reader import read_incidents
from hotspots.ingest._reject import reject_rows, weigh_at_ingest
from hotspots.ingest._result import IngestReport, IngestResult
from hotspots.ingest._split import split_by_force
from hotspots.ingest._store import (
    StoreUpdate,
    files_by_force,
    force_of_file,
    is_store,
    read_store,
    store_forces,
    store_partitions,
    update_store,
)
from hotspots.ingest._write import write_ingest_outputs, write_rejected

# the side-input readers (addresses, visit and patrol logs) share these row rules
__all__ = [
    "read_vector_points",
    "IngestReport",
    "IngestResult",
    "StoreUpdate",
    "check_tz",
    "day_end",
    "files_by_force",
    "force_slug",
    "forces_within",
    "force_of_file",
    "in_bounds",
    "is_store",
    "outside_working_area",
    "points_from_columns",
    "read_text_table",
    "write_ingest_outputs",
    "read_incidents",
    "read_store",
    "store_forces",
    "store_partitions",
    "update_store",
    "reject_rows",
    "split_by_force",
    "weigh_at_ingest",
    "write_rejected",
]
