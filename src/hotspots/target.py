"""Targeting: rank the units of an areas layer and list who to reach in the top ones.

Force crime-prevention campaigns ("Street Weeks", Crime Stoppers leaflet zones) pick the
wards or LSOAs where an offence concentrates, then deliver leaflets house to house, by Royal
Mail and on social media by postcode. This module ranks the units by an offence's count,
harm or rate (per 1,000 address points when address points are given, else per km2) over a
window, and for the top units gives the address points grouped by street (or, for OS
Code-Point Open postcode centroids, which have no street, by postcode sector), the number of
address points and postcodes (to cost a Royal Mail door-to-door drop) and the postcode list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots._validate import check_choice, check_positive, require_metric_crs
from hotspots.areas import AREA_UNASSIGNED, label_points
from hotspots.errors import EmptyWindowError, OptionError
from hotspots.reports import Period, in_period
from hotspots.schema import (
    ADDRESS_ID,
    ADDRESS_TEXT,
    AREA_NAME,
    HARM,
    OFFENCE,
    POSTCODE,
    RANK,
    STREET,
)

__all__ = [
    "MEASURES",
    "Measure",
    "TargetResult",
    "format_postcode",
    "postcode_sector",
    "rank_units",
    "unique_unit_names",
]

Measure = Literal["count", "harm", "rate"]
MEASURES: tuple[str, ...] = get_args(Measure)
SECTOR_PREFIX = "Postcode sector "


def format_postcode(postcodes: pd.Series) -> pd.Series:
    """UK postcodes written the Royal Mail way: upper case, one space before the inward code.

    Values that do not look like a postcode (5-7 letters and digits) are kept as given.

    Examples
    --------
    >>> format_postcode(pd.Series(["ss142bq", "CM0  7AA", "n/a", None])).tolist()
    ['SS14 2BQ', 'CM0 7AA', 'n/a', <NA>]
    """
    raw = postcodes.astype("string")
    text = raw.str.upper().str.replace(r"\s+", "", regex=True)
    ok = text.str.fullmatch(r"[A-Z0-9]{5,7}").fillna(False).astype(bool)
    return (text.str[:-3] + " " + text.str[-3:]).where(ok, raw)


def postcode_sector(postcodes: pd.Series) -> pd.Series:
    """UK postcode sector: the unit without its last two letters (``"CM0 7AA"`` -> ``"CM0 7"``).

    Examples
    --------
    >>> postcode_sector(pd.Series(["CM0 7AA", "ss1  2ab", None])).tolist()
    ['CM0 7', 'SS1 2', <NA>]
    """
    text = postcodes.astype("string").str.upper().str.replace(r"\s+", "", regex=True)
    ok = text.str.len() >= 5
    sector = text.str[:-3] + " " + text.str[-3]
    return sector.where(ok, pd.NA)


def unique_unit_names(
    layer: gpd.GeoDataFrame, *, area_field: str
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Copy of ``layer`` whose ``area_field`` names are unique.

    A name shared by several features (two "St James" wards in different districts) gets the
    value of the first other text field that tells them apart, e.g. ``"St James (Tendring)"``.

    Returns
    -------
    (geopandas.GeoDataFrame, list of str)
        The copy, and notes naming the renamed units.
    """
    out = layer.copy()
    names = out[area_field].astype("string").fillna("(unnamed)")
    dup = names.duplicated(keep=False).to_numpy()
    notes: list[str] = []
    if not dup.any():
        return out, notes
    text_cols = [
        c
        for c in out.columns
        if c not in (area_field, out.geometry.name)
        and (pd.api.types.is_string_dtype(out[c]) or out[c].dtype == object)
    ]

    def readable(col: str) -> tuple[bool, bool]:  # names ("Tendring") before codes ("E05...")
        values = out[col].astype("string")
        return (not values.str.contains(r"[a-z]", regex=True).any(), values.is_unique)

    for col in sorted(text_cols, key=readable):
        labelled = names + " (" + out[col].astype("string").fillna("?") + ")"
        if not labelled[dup].duplicated().any():
            out[area_field] = np.where(dup, labelled, names)
            shown = ", ".join(sorted(set(labelled[dup]))[:6])
            notes.append(
                f"{int(dup.sum())} units share a name in {area_field}; they are told apart by "
                f"{col}: {shown}."
            )
            return out, notes
    numbered = names + " #" + pd.Series(np.arange(1, len(out) + 1), index=out.index).astype(str)
    out[area_field] = np.where(dup, numbered, names)
    notes.append(f"{int(dup.sum())} units share a name in {area_field}; numbered by feature order.")
    return out, notes


@dataclass(frozen=True)
class TargetResult:
    """The ranked units and, for the chosen ones, who to reach."""

    ranking: gpd.GeoDataFrame
    streets: pd.DataFrame
    postcodes: pd.DataFrame
    addresses: pd.DataFrame
    measure: str
    offences: list[str]
    period: Period
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Plain record for run.json."""
        chosen = self.ranking[self.ranking["chosen"]]
        return {
            "measure": self.measure,
            "offences": self.offences,
            "period": self.period.to_dict(),
            "n_units": len(self.ranking),
            "chosen": chosen[AREA_NAME].tolist(),
            "n_address_points": int(chosen["n_address_points"].sum())
            if "n_address_points" in chosen
            else None,
            "n_postcodes": int(self.postcodes[POSTCODE].nunique()) if len(self.postcodes) else 0,
            "notes": self.notes,
        }


def rank_units(
    incidents: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    period: Period,
    offences: list[str],
    measure: Measure = "count",
    addresses: gpd.GeoDataFrame | None = None,
    top: int = 10,
) -> TargetResult:
    """Rank ``units`` by an offence's count, harm or rate and list the top units' addresses.

    Parameters
    ----------
    incidents
        Incidents in a metric CRS (with ``harm`` for ``measure="harm"``); not changed.
    units
        From :func:`hotspots.areas.read_areas` (``area``, polygons), same CRS.
    period
        The window (:func:`hotspots.reports.period_from`).
    offences
        Offence categories counted (the data's spelling).
    measure
        ``count``, ``harm`` or ``rate`` (count per 1,000 address points with
        ``addresses``, else per km2).
    addresses
        From :func:`hotspots.cocoon.read_addresses` (``address_id``, ``address``,
        ``street``, ``postcode``, points), same CRS.
    top
        Number of units chosen (default 10).

    Returns
    -------
    TargetResult
        ``ranking``: every unit with ``rank``, ``area``, ``count``, ``harm``, ``area_km2``,
        ``count_per_km2``, with addresses ``n_address_points``, ``n_postcodes``,
        ``count_per_1000_addresses``, and ``chosen``; ``streets``: per chosen unit and
        street (or postcode sector), ``n_address_points``, ``n_postcodes``, ``postcodes``;
        ``postcodes``: one row per chosen unit and postcode; ``addresses``: the
        house-to-house list, by unit, street and address.

    Raises
    ------
    OptionError
        Bad ``measure`` or ``top``, or ``rate``/``harm`` without what they need.
    EmptyWindowError
        No incident of ``offences`` in the window.
    """
    check_choice(measure, MEASURES, name="--measure")
    check_positive(top, name="--top")
    require_metric_crs(incidents, what="incidents")
    if measure == "harm" and HARM not in incidents.columns:
        msg = "measure 'harm' needs harm weights; weigh the incidents with hotspots.apply_harm."
        raise OptionError(msg)
    mask = in_period(incidents, period) & incidents[OFFENCE].isin(offences).to_numpy()
    chosen_inc = incidents[mask]
    if len(chosen_inc) == 0:
        msg = (
            f"No {', '.join(offences)} incident in {period.describe()}; check --offence and "
            f"the dates."
        )
        raise EmptyWindowError(msg)
    notes: list[str] = []
    labels = label_points(chosen_inc.geometry, units)
    outside = int((labels == AREA_UNASSIGNED).sum())
    if outside:
        notes.append(f"{outside:,} incidents lie outside every unit and are not ranked.")
    harm = (
        chosen_inc[HARM].to_numpy(dtype="float64") if HARM in chosen_inc else np.ones(len(labels))
    )
    per = (
        pd.DataFrame({AREA_NAME: labels, HARM: harm}).groupby(AREA_NAME)[HARM].agg(["size", "sum"])
    )
    ranking = gpd.GeoDataFrame(units[[AREA_NAME, units.geometry.name]].copy(), crs=units.crs)
    ranking["count"] = per["size"].reindex(ranking[AREA_NAME]).fillna(0).astype("int64").to_numpy()
    ranking[HARM] = per["sum"].reindex(ranking[AREA_NAME]).fillna(0.0).round(1).to_numpy()
    ranking["area_km2"] = (ranking.geometry.area / 1e6).round(3).to_numpy()
    ranking["count_per_km2"] = (
        ranking["count"] / ranking["area_km2"].where(ranking["area_km2"] > 0)
    ).round(2)
    addr_labels = None
    if addresses is not None:
        addr_labels = label_points(addresses.geometry, units)
        a = pd.DataFrame({AREA_NAME: addr_labels, POSTCODE: addresses[POSTCODE].to_numpy()})
        g = a.groupby(AREA_NAME)
        ranking["n_address_points"] = (
            g.size().reindex(ranking[AREA_NAME]).fillna(0).astype("int64").to_numpy()
        )
        ranking["n_postcodes"] = (
            g[POSTCODE].nunique().reindex(ranking[AREA_NAME]).fillna(0).astype("int64").to_numpy()
        )
        pts = ranking["n_address_points"].where(ranking["n_address_points"] > 0)
        ranking["count_per_1000_addresses"] = (ranking["count"] / pts * 1000).round(2)
    elif measure == "rate":
        notes.append("No --addresses: the rate is per km2 of unit.")
    key = {
        "count": "count",
        "harm": HARM,
        "rate": "count_per_1000_addresses" if addresses is not None else "count_per_km2",
    }[measure]
    ranking = ranking.sort_values([key, "count", AREA_NAME], ascending=[False, False, True],
                                  na_position="last", kind="stable")  # fmt: skip
    ranking.insert(0, RANK, np.arange(1, len(ranking) + 1))
    ranking["chosen"] = (ranking[RANK] <= top) & (ranking["count"] > 0)
    ranking = ranking.reset_index(drop=True)
    streets, postcodes, listing = _reach(ranking, addresses, addr_labels)
    return TargetResult(
        ranking=ranking,
        streets=streets,
        postcodes=postcodes,
        addresses=listing,
        measure=measure,
        offences=list(offences),
        period=period,
        notes=notes,
    )


def _reach(
    ranking: gpd.GeoDataFrame, addresses: gpd.GeoDataFrame | None, labels: np.ndarray | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    if addresses is None or labels is None:
        empty = pd.DataFrame(columns=[RANK, AREA_NAME])
        return empty, empty.copy(), empty.copy()
    chosen = ranking.loc[ranking["chosen"], [RANK, AREA_NAME]]
    rank_of = dict(zip(chosen[AREA_NAME], chosen[RANK], strict=True))
    keep = np.isin(labels, list(rank_of))
    frame = pd.DataFrame(
        {
            RANK: [rank_of[x] for x in labels[keep]],
            AREA_NAME: labels[keep],
            ADDRESS_ID: addresses[ADDRESS_ID].to_numpy()[keep],
            ADDRESS_TEXT: addresses[ADDRESS_TEXT].to_numpy()[keep],
            STREET: addresses[STREET].to_numpy()[keep],
            POSTCODE: format_postcode(addresses[POSTCODE].reset_index(drop=True)).to_numpy()[keep],
        }
    )
    sector = postcode_sector(frame[POSTCODE])
    street = frame[STREET].astype("string")
    group = street.where(street.notna() & (street.str.strip() != ""), SECTOR_PREFIX + sector)
    frame["group"] = group.fillna("(street and postcode unknown)").to_numpy()
    frame = frame.sort_values([RANK, "group", ADDRESS_TEXT, ADDRESS_ID], kind="stable")
    streets = (
        frame.groupby([RANK, AREA_NAME, "group"], sort=True)
        .agg(
            n_address_points=(ADDRESS_ID, "size"),
            n_postcodes=(POSTCODE, "nunique"),
            postcodes=(POSTCODE, lambda s: "; ".join(sorted(set(s.dropna().astype(str))))),
        )
        .reset_index()
        .rename(columns={"group": "street_or_sector"})
    )
    postcodes = (
        frame.dropna(subset=[POSTCODE])
        .groupby([RANK, AREA_NAME, POSTCODE], sort=True)
        .size()
        .rename("n_address_points")
        .reset_index()
    )
    postcodes.insert(3, "postcode_sector", postcode_sector(postcodes[POSTCODE]).to_numpy())
    listing = frame.rename(columns={"group": "street_or_sector"}).reset_index(drop=True)
    return streets, postcodes, listing
