"""Canonical column names, shared by every stage.

Columns are named here once and imported everywhere else (never typed as string
literals in other modules). Units are in the names: ``_m`` metres, ``_m2`` square
metres, ``_days`` days, ``_hours`` hours.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal, get_args

# ---------------------------------------------------------------- incidents (ingest output)
INCIDENT_ID: Final = "incident_id"  # str, unique within a dataset
OCCURRED_AT: Final = "occurred_at"  # tz-aware timestamp (start of window for month data)
OCCURRED_TO: Final = "occurred_to"  # tz-aware timestamp or NaT (end of a from/to window)
OFFENCE: Final = "offence"  # canonical category, police.uk wording ("Burglary", ...)
OFFENCE_CODE: Final = "offence_code"  # finer code/subgroup when the source has one, else <NA>
DWELLING_BURGLARY: Final = "dwelling_burglary"  # bool: a home burglary (or police.uk candidate)
LOCATION: Final = "location"  # free text street/location from the source, or <NA>
LSOA_CODE: Final = "lsoa_code"  # police.uk LSOA code when present
LSOA_NAME: Final = "lsoa_name"  # police.uk LSOA name ("Basildon 001A") when kept by ingest
FORCE: Final = "force"  # police.uk force slug of 'Falls within' ("essex"), when rows mix forces
TIME_RESOLUTION: Final = "time_resolution"  # "exact" | "day" | "month" (per row)
SOURCE_FILE: Final = "source_file"  # file name the row came from
SOURCE_ROW: Final = "source_row"  # 1-based data row number in that file (header excluded)
LAST_OUTCOME: Final = "last_outcome"  # police.uk 'Last outcome category' (text or <NA>)
CONTEXT: Final = "context"  # police.uk 'Context' (free text or <NA>)
HARM: Final = "harm"  # float, harm weight (CCHI days) added by hotspots.harm
GEOMETRY: Final = "geometry"

INCIDENT_COLUMNS: Final = (
    INCIDENT_ID,
    OCCURRED_AT,
    OCCURRED_TO,
    OFFENCE,
    OFFENCE_CODE,
    DWELLING_BURGLARY,
    LOCATION,
    LSOA_CODE,
    TIME_RESOLUTION,
    SOURCE_FILE,
    SOURCE_ROW,
)

# kept after INCIDENT_COLUMNS when the source has them (police.uk street files, or a
# hotspots table that carries them); other sources have no such columns
OUTCOME_COLUMNS: Final = (LAST_OUTCOME, CONTEXT)

TimeResolution = Literal["exact", "day", "month"]
TIME_RESOLUTIONS: Final[tuple[str, ...]] = get_args(TimeResolution)
# coarser resolutions come later; the dataset's resolution is its coarsest row
RESOLUTION_DAYS: Final = {"exact": 0.0, "day": 1.0, "month": 28.0}

# ---------------------------------------------------------------- rejected rows
REJECT_REASON: Final = "reason"  # one of REJECT_REASONS
REJECT_DETAIL: Final = "detail"  # human text: what was wrong and how to fix it
REJECT_REASONS: Final = (
    "no_location",
    "unparseable_date",
    "date_out_of_range",  # outside the years a timestamp holds (1678-2261), e.g. 9999-12-31
    "future_date",  # after the run date (``today``)
    "date_before_floor",  # before the plausible floor (``date_floor``, default 1990-01-01)
    "coordinates_out_of_range",
    "coordinates_zero",
    "outside_area",  # outside the working CRS's area of use (Great Britain for EPSG:27700)
    "outside_boundary",
    "unknown_offence",
    "duplicate_id",
    "malformed_row",  # a CSV line with the wrong number of fields
)

# ---------------------------------------------------------------- harm spots
SPOT_ID: Final = "spot_id"
RANK: Final = "rank"  # 1 = most harm, overall
AREA_RANK: Final = "area_rank"  # 1 = most harm within its area
AREA_NAME: Final = "area"
HARM_TOTAL: Final = "harm"
HARM_SHARE: Final = "harm_share"  # share of all harm in the window (0-1)
N_INCIDENTS: Final = "n_incidents"
AREA_M2: Final = "area_m2"
HARM_PER_HA: Final = "harm_per_ha"
HARM_PREVIOUS: Final = "harm_previous"  # harm in the look-back before this one
TREND: Final = "trend"  # one of TRENDS: this window against the previous equal window
STATUS: Final = "status"  # spots: SPOT_STATUSES (against the previous run); zones: ZONE_STATUSES
# the one vocabulary of spot labels, used in CSV, GeoJSON, map popups, lists and console
SpotStatus = Literal["new", "persisting", "dropped"]
SPOT_STATUSES: Final[tuple[str, ...]] = get_args(SpotStatus)
Trend = Literal["up", "down", "steady", "no_earlier_data"]
TRENDS: Final[tuple[str, ...]] = get_args(Trend)
WINDOW_MONTHS: Final = "window_months"  # summary key: "2025-01..2025-12" on month data
PLACE_NAME: Final = "place_name"  # spot's location text without "On or near"
N_POINTS: Final = "n_points"  # distinct coordinates of a spot's incidents (snap points)
TOP_POINT_SHARE: Final = "top_point_share"  # share of a spot's incidents at its busiest point
INSTITUTION: Final = "institution"  # "prison" | "hospital" | "police_station" | "" (see spots)
PEAK_WINDOWS: Final = "peak_windows"  # e.g. "Fri-Sat 22:00-03:00; Sat 14:00-16:00"
PEAK_BY_DAY: Final = "peak_by_day"  # busiest window starting on each weekday with harm
OFFENCE_MIX: Final = "offence_mix"  # e.g. "Violence and sexual offences: 12; Robbery: 2"
PLANNED_VISITS: Final = "planned_visits"  # int: visits planned in the spot this week (optional)
N_OFFENCE_PREFIX: Final = "n_"  # + offence slug: incidents of that offence in a spot
SPLIT: Final = "split"  # DBSCAN: piece cut from a cluster wider than max_width_m
GI_Z: Final = "gi_z"  # Getis-Ord Gi* z-score of a grid cell
GI_P: Final = "gi_p"  # Gi* one-sided p-value (permutation or analytic)

# ---------------------------------------------------------------- cocoon zones and visits
ZONE_ID: Final = "zone_id"
BURGLARY_ID: Final = "burglary_id"
DUE_BY: Final = "due_by"
EXPIRES_ON: Final = "expires_on"
N_HOMES: Final = "n_homes"
N_OVERLAPPING: Final = "n_overlapping"
ZoneStatus = Literal["due", "overdue", "visited", "active"]
ZONE_STATUSES: Final[tuple[str, ...]] = get_args(ZoneStatus)
ADDRESS_ID: Final = "address_id"
ADDRESS_TEXT: Final = "address"
STREET: Final = "street"
POSTCODE: Final = "postcode"
DISTANCE_M: Final = "distance_m"
DISTANCE_BAND: Final = "distance_band"
MANDATORY: Final = "mandatory"
IS_BURGLED: Final = "is_burgled_address"
VISIT_ORDER: Final = "order"  # 1 = nearest target address of the zone; <NA> for the burgled home
ZONE_IDS: Final = "zone_ids"  # "Z-1;Z-7": every zone an address falls in (optional)
ZONE_MONTH_DATES: Final = "month_dates"  # "start"/"mid"/"end" when dated from month data, else ""
ZONE_KIND: Final = "zone_kind"  # one of ZONE_KINDS
ZoneKind = Literal["operational", "retrospective"]
ZONE_KINDS: Final[tuple[str, ...]] = get_args(ZoneKind)


def zones_phrase(n: int, kinds: Iterable[object]) -> str:
    """How every output counts zones of these kinds: never "live" for month-dated ones.

    >>> zones_phrase(1053, ["retrospective"] * 1053)
    '1,053 retrospective risk areas'
    >>> zones_phrase(1, ["operational"]), zones_phrase(3, ["operational", "retrospective"])
    ('1 live zone', '3 cocoon zones')
    """
    seen = {str(k) for k in kinds}
    if seen == {"retrospective"}:
        word = "retrospective risk area"  # month dates: no deadline, nothing is "live"
    elif seen <= {"operational"}:
        word = "live zone"
    else:
        word = "cocoon zone"
    return f"{n:,} {word}{'' if n == 1 else 's'}"


# ---------------------------------------------------------------- coordinates in CSV outputs
EASTING: Final = "easting"  # working-CRS x, metres
NORTHING: Final = "northing"  # working-CRS y, metres
LONGITUDE: Final = "longitude"  # WGS84
LATITUDE: Final = "latitude"  # WGS84
