"""Doors to knock on: a zone's visit list as an officer walks it.

The visit list (``hotspots.cocoon.visit_lists``) has one row per home within the zone,
nearest first: hundreds of rows per zone, with streets interleaved. Printed, that is
hundreds of pages. Here each zone keeps its mandatory homes (the nearest, one row each)
and the other homes are grouped by street with their house numbers as runs along each
side (``odd 1-17, 21-27; even 2-16``), or, for a postcode-unit address layer (Code-Point
Open: about 15 addresses per point), by postcode sector. ``hotspots.cocoon`` re-exports
these functions; they live with the writers so the printable lists can use them.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

import numpy as np
import pandas as pd

from hotspots._validate import check_choice, require_columns
from hotspots.schema import (
    ADDRESS_TEXT,
    DISTANCE_M,
    IS_BURGLED,
    MANDATORY,
    POSTCODE,
    STREET,
    VISIT_ORDER,
    ZONE_ID,
)

__all__ = [
    "ADDRESS_UNITS",
    "DOOR_COLUMNS",
    "STREET_UNKNOWN",
    "AddressUnit",
    "address_unit",
    "door_groups",
    "house_ranges",
]

ORDER = VISIT_ORDER
STREET_UNKNOWN = "(street unknown)"


AddressUnit = Literal["auto", "homes", "postcode units"]
ADDRESS_UNITS: tuple[str, ...] = get_args(AddressUnit)
DOOR_KIND = "kind"  # "mandatory" (one home, its own row) | "group" (a street or postcode sector)
DOOR_NUMBERS = "numbers"  # house numbers (ranges) or postcode units of a group, as text
DOOR_COUNT = "count"  # homes (or postcode units) in the row
NEAREST_M = "nearest_m"
DOOR_COLUMNS = (
    ZONE_ID,
    DOOR_KIND,
    ORDER,
    ADDRESS_TEXT,
    POSTCODE,
    DOOR_NUMBERS,
    DOOR_COUNT,
    NEAREST_M,
)
_POSTCODE = re.compile(r"^\s*([A-Z]{1,2}\d[A-Z\d]?)\s*(\d)([A-Z]{2})\s*$", re.IGNORECASE)
_HOUSE = re.compile(r"^\s*(\d+)([A-Za-z]?)\s*,?\s+(.+?)\s*$")
_MAX_PIECES = 6


def address_unit(visits: pd.DataFrame) -> str:
    """``"postcode units"`` when every address is a postcode (Code-Point Open), else ``"homes"``.

    A postcode unit holds about 15 addresses, so a list of them must not call them homes.
    """
    text = visits[ADDRESS_TEXT].astype("string").dropna() if ADDRESS_TEXT in visits else None
    if text is None or not len(text):
        return "homes"
    uniques = pd.unique(text.to_numpy(dtype=object))
    return "postcode units" if all(_POSTCODE.match(str(t)) for t in uniques) else "homes"


def house_ranges(numbers: list[int], *, bridge: tuple[int, ...] | list[int] = ()) -> str:
    """House numbers as runs along each side of the street: ``"odd 1-9, 15; even 2-6"``.

    Numbers on one side of a British street step by two, so a run is consecutive odd or
    even numbers. ``bridge`` numbers (the street's mandatory homes, listed on their own
    rows) may join two runs but are not listed. After six pieces a side the rest are
    counted (``"+3 more"``).
    """
    wanted = set(numbers)
    joins = set(bridge) - wanted
    sides = []
    for parity, name in ((1, "odd"), (0, "even")):
        side = sorted(n for n in wanted | joins if n % 2 == parity)
        pieces: list[str] = []
        run: list[int] = []
        for n in [*side, None]:
            if run and (n is None or n != run[-1] + 2):
                while run and run[-1] in joins:  # a run never ends or starts on a bridge
                    run.pop()
                while run and run[0] in joins:
                    run.pop(0)
                if run:
                    pieces.append(str(run[0]) if len(run) == 1 else f"{run[0]}\u2013{run[-1]}")
                run = []
            if n is not None:
                run.append(n)
        if pieces:
            more = f", +{len(pieces) - _MAX_PIECES} more" if len(pieces) > _MAX_PIECES else ""
            sides.append(f"{name} {', '.join(pieces[:_MAX_PIECES])}{more}")
    return "; ".join(sides)


MAX_UNITS_LISTED = 12  # a sector with more postcode units is given as a count


def _postcode_units(codes: list[str]) -> str:
    """Units of one sector, inward codes only: ``"5NA, 5NB, 5NP"``.

    More than ``MAX_UNITS_LISTED`` units give a count (``"54 units"``; the codes are in
    ``cocoon_visits.csv``):
    a postcode unit is not a door (it holds about 15 addresses), so beyond a handful the
    codes only lengthen the printed list; the sector and its count say where to walk.
    """
    if len(set(codes)) > MAX_UNITS_LISTED:
        return f"{len(set(codes))} units"
    matches = [m for m in (_POSTCODE.match(c) for c in codes) if m is not None]
    parts = sorted({m.group(2) + m.group(3).upper() for m in matches})
    return ", ".join(parts)


def door_groups(
    visits: pd.DataFrame, *, unit: AddressUnit = "auto", detail: bool = False
) -> pd.DataFrame:
    """Each zone's doors as an officer walks them: mandatory homes, then one row per street.

    Parameters
    ----------
    visits
        Output of :func:`visit_lists`; burgled homes are left out.
    unit
        What an address point is: ``"homes"``, ``"postcode units"`` (Code-Point Open
        centroids, about 15 addresses each) or ``"auto"`` (default: :func:`address_unit`).
        Postcode units are grouped by postcode sector (``SS16 5``), homes by street.
    detail
        True: every home its own row (the full list), no grouping.

    Returns
    -------
    pandas.DataFrame
        Columns ``zone_id``, ``kind`` (``mandatory`` or ``group``), ``order`` (the
        mandatory home's visit order; <NA> for groups), ``address`` (the home, or the
        street / sector of a group), ``postcode``, ``numbers`` (house ranges such as
        ``"1-9 odd, 2-6 even"``, or the sector's units; empty for a mandatory home),
        ``count`` (homes in the row), ``nearest_m``. Zones keep the visit list's order;
        in each zone the mandatory homes come first (by order), then the groups nearest
        first, then by name.

    Examples
    --------
    >>> visits = pd.DataFrame({
    ...     "zone_id": ["Z"] * 5, "area": ["A"] * 5,
    ...     "due_by": pd.to_datetime(["2024-03-03"] * 5), "address_id": list("abcde"),
    ...     "address": ["2 Mill Lane", "4 Mill Lane", "6 Mill Lane", "1 Mill Lane", "Rose Cottage"],
    ...     "street": ["Mill Lane"] * 4 + [None], "distance_m": [5.0, 9.0, 14.0, 20.0, 30.0],
    ...     "order": pd.array([1, 2, 3, 4, 5], dtype="Int64"),
    ...     "mandatory": [True, False, False, False, False], "is_burgled_address": [False] * 5})
    >>> for row in door_groups(visits)[["kind", "address", "numbers", "count"]].values:
    ...     print(list(row))
    ['mandatory', '2 Mill Lane', '', 1]
    ['group', 'Mill Lane', 'odd 1; even 4\u20136', 3]
    ['group', '(street unknown)', 'Rose Cottage', 1]
    """
    check_choice(unit, ADDRESS_UNITS, name="unit")
    require_columns(
        visits,
        [ZONE_ID, ADDRESS_TEXT, DISTANCE_M, IS_BURGLED],
        what="visit list",
        fix="Make it with hotspots.cocoon.visit_lists.",
    )
    targets = visits[~visits[IS_BURGLED].fillna(False).to_numpy(dtype=bool)].reset_index(drop=True)
    if unit == "auto":
        unit = address_unit(targets)  # type: ignore[assignment]
    zone = targets[ZONE_ID].astype(str).to_numpy(dtype=object)
    zone_codes, zone_names = pd.factorize(zone)  # first appearance = the list's zone order
    address = targets[ADDRESS_TEXT].astype("string").fillna("").to_numpy(dtype=object)
    postcode = (
        targets[POSTCODE].astype("string").fillna("").to_numpy(dtype=object)
        if POSTCODE in targets
        else np.full(len(targets), "", dtype=object)
    )
    dist = targets[DISTANCE_M].to_numpy(dtype="float64")
    order = (
        targets[ORDER].astype("Int64")
        if ORDER in targets
        else pd.array([pd.NA] * len(targets), dtype="Int64")
    )
    mand = (
        targets[MANDATORY].fillna(False).to_numpy(dtype=bool)
        if MANDATORY in targets and not detail
        else np.zeros(len(targets), dtype=bool)
    )
    if detail:
        mand = np.ones(len(targets), dtype=bool)  # every home its own row
    # group name and number of each non-mandatory row
    street = (
        targets[STREET].astype("string").fillna("").to_numpy(dtype=object)
        if STREET in targets
        else np.full(len(targets), "", dtype=object)
    )
    group = np.empty(len(targets), dtype=object)
    number: list[int | None] = [None] * len(targets)
    label: list[str] = [""] * len(targets)
    mand_numbers: dict[tuple[int, str], list[int]] = {}
    for i in np.flatnonzero(mand).tolist():
        h = _HOUSE.match(str(address[i]))
        if h and h.group(2) == "" and not detail:
            key = (int(zone_codes[i]), str(street[i]) or h.group(3))
            mand_numbers.setdefault(key, []).append(int(h.group(1)))
    for i in np.flatnonzero(~mand).tolist():
        text = str(address[i])
        if unit == "postcode units":
            m = _POSTCODE.match(text)
            group[i] = f"{m.group(1).upper()} {m.group(2)}" if m else STREET_UNKNOWN
            label[i] = text
            continue
        h = _HOUSE.match(text)
        name = str(street[i]) or (h.group(3) if h else "")
        group[i] = name or STREET_UNKNOWN
        if h and h.group(2) == "" and (not street[i] or h.group(3).startswith(str(street[i]))):
            number[i] = int(h.group(1))
        else:
            label[i] = text
    rows: list[dict[str, object]] = []
    keep = np.flatnonzero(mand)
    order_values = pd.array(order, dtype="Int64").tolist()
    for i in keep.tolist():
        rows.append(
            {
                "_z": int(zone_codes[i]),
                "_g": 0,
                "_d": float(dist[i]),
                ZONE_ID: zone[i],
                DOOR_KIND: "mandatory",
                ORDER: order_values[i],
                ADDRESS_TEXT: address[i],
                POSTCODE: postcode[i],
                DOOR_NUMBERS: "",
                DOOR_COUNT: 1,
                NEAREST_M: float(dist[i]),
            }
        )
    rest = np.flatnonzero(~mand)
    if len(rest):
        # the (zone, group) groups in first-seen order, each in row order: one stable sort
        # instead of a DataFrame per group
        keys = list(zip(zone_codes[rest].tolist(), group[rest], strict=True))
        pair, _ = pd.factorize(pd.Series(keys, dtype=object))
        by = np.argsort(pair, kind="stable")
        cuts = np.flatnonzero(np.diff(pair[by])) + 1
        for idx in np.split(rest[by], cuts):
            z, g = zone_codes[idx[0]], group[idx[0]]
            if unit == "postcode units":
                numbers = _postcode_units([label[i] for i in idx if _POSTCODE.match(label[i])])
            else:
                nums = [number[i] for i in idx if number[i] is not None]
                named = sorted({label[i] for i in idx if number[i] is None})
                numbers = house_ranges(
                    nums,  # type: ignore[arg-type]
                    bridge=mand_numbers.get((int(z), str(g)), []),
                )
                if named:
                    extra = ", ".join(named[:4]) + (
                        f" +{len(named) - 4} more" if len(named) > 4 else ""
                    )
                    numbers = f"{numbers}; {extra}" if numbers else extra
            rows.append(
                {
                    "_z": int(z),
                    "_g": 1,
                    "_d": float(dist[idx].min()),
                    ZONE_ID: zone_names[int(z)],
                    DOOR_KIND: "group",
                    ORDER: pd.NA,
                    ADDRESS_TEXT: g,
                    POSTCODE: "",
                    DOOR_NUMBERS: numbers,
                    DOOR_COUNT: len(idx),
                    NEAREST_M: float(dist[idx].min()),
                }
            )
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in DOOR_COLUMNS})
    out = pd.DataFrame(rows)
    out["_o"] = out[ORDER].astype("Int64").fillna(0).to_numpy(dtype="int64")
    out = out.sort_values(["_z", "_g", "_o", "_d", ADDRESS_TEXT], kind="stable")
    out[ORDER] = out[ORDER].astype("Int64")
    out[DOOR_COUNT] = out[DOOR_COUNT].astype("int64")
    return out[list(DOOR_COLUMNS)].reset_index(drop=True)
