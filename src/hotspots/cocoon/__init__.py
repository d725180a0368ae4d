"""Cocooning: zones around recent dwelling burglaries, visit lists and compliance.

After a home is burgled its neighbours face a raised, short-lived risk (near repeats:
Johnson & Bowers 2004). Each dwelling burglary opens a zone (400 m, due in 48 hours,
live for 42 days by default); the homes inside form a visit list ordered by distance;
a visit log gives compliance. The Knox test that checks 400 m / 42 days locally lives
in :mod:`hotspots.nearrepeat`.
"""

from hotspots.cocoon._run import CocoonRun, cocoon_rows, run, write_run
from hotspots.cocoon.addresses import AddressIndex, read_addresses
from hotspots.cocoon.compliance import Compliance, compliance, read_visits
from hotspots.cocoon.lists import distance_bands, street_summary, team_lists, visit_lists
from hotspots.cocoon.write import COCOON_FILES, write_cocoon_outputs
from hotspots.cocoon.zones import (
    MonthDates,
    cocoon_zones,
    merged_zones,
    zone_notes,
    zone_status,
)

__all__ = [
    "write_run",
    "run",
    "CocoonRun",
    "cocoon_rows",
    "COCOON_FILES",
    "AddressIndex",
    "Compliance",
    "MonthDates",
    "cocoon_zones",
    "compliance",
    "distance_bands",
    "merged_zones",
    "read_addresses",
    "read_visits",
    "street_summary",
    "team_lists",
    "visit_lists",
    "write_cocoon_outputs",
    "zone_notes",
    "zone_status",
]
