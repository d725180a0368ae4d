"""Invariants of read_incidents on random police.uk files, against a row-by-row oracle."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotspots.config import IngestOptions
from hotspots.errors import CRSError, SchemaError
from hotspots.ingest import read_incidents
from hotspots.schema import INCIDENT_ID, REJECT_REASONS, SOURCE_ROW

DATA = Path(__file__).parent / "data" / "ingest"
TODAY = "2026-06-30"
HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
    "LSOA name,Crime type,Last outcome category,Context"
)

ROWS = st.lists(
    st.tuples(
        st.sampled_from(["", "", "a", "b", "c", "d"]),  # ids: blanks (ASB) and repeats
        st.sampled_from(
            ["2025-01", "2025-06", "2025-13", "", "Jan", "9999-12", "2031-01", "1980-05"]
        ),
        st.sampled_from(["0.9|51.9", "0.91|51.88", "|", "0|0", "999|51.9", "0.9|95", "x|51"]),
        st.sampled_from(["Burglary", "Robbery", "Anti-social behaviour", ""]),
    ),
    min_size=1,
    max_size=25,
)


def expected_reason(month: str, coords: str, crime: str) -> str:
    """The rules written out one row at a time (the oracle)."""
    lon_text, lat_text = coords.split("|")
    year, _, mon = month.partition("-")
    if not (year.isdigit() and mon.isdigit() and 1 <= int(mon) <= 12):
        return "unparseable_date"
    if not 1678 <= int(year) <= 2261:
        return "date_out_of_range"
    if date_reason(month):
        return date_reason(month)
    try:
        lon, lat = float(lon_text), float(lat_text)
    except ValueError:
        return "no_location"
    if lon == 0 and lat == 0:
        return "coordinates_zero"
    if abs(lon) > 180 or abs(lat) > 90:
        return "coordinates_out_of_range"
    if crime == "":
        return "unknown_offence"
    return ""


def date_reason(month: str) -> str:
    """Implausible dates: after the run date, or before the 1990 floor."""
    if month > TODAY[:7]:
        return "future_date"
    if month < "1990-01":
        return "date_before_floor"
    return ""


def looks_swapped(coords: list[str]) -> bool:
    """Ingest's whole-file rule: 5+ out-of-range rows, most usable rows, 90% fit swapped."""
    usable = []
    for c in coords:
        try:
            lon, lat = (float(v) for v in c.split("|"))
        except ValueError:
            continue
        if not (lon == 0 and lat == 0):
            usable.append((lon, lat))
    misfit = [(x, y) for x, y in usable if abs(x) > 180 or abs(y) > 90]
    swapped = [(x, y) for x, y in misfit if abs(y) <= 180 and abs(x) <= 90]
    return len(misfit) >= 5 and len(misfit) > len(usable) / 2 and len(swapped) >= 0.9 * len(misfit)


@settings(deadline=None, max_examples=20, suppress_health_check=[HealthCheck.too_slow])
@given(rows=ROWS)
def test_every_row_kept_or_rejected_with_the_oracles_reason(rows):
    lines = [HEADER]
    for cid, month, coords, crime in rows:
        lon, lat = coords.split("|")
        lines.append(f"{cid},{month},P,P,{lon},{lat},On or near X,,,{crime},,")
    months = [m for _, m, _, _ in rows]
    no_layout = any(months) and not any(re.fullmatch(r"\d{4}-\d{2}", m) for m in months)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random-street.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        if no_layout:  # no date in any known layout: a whole-file error, not a guess
            with pytest.raises(SchemaError, match="layout hotspots does not recognise"):
                read_incidents([path])
            return
        if looks_swapped([c for _, _, c, _ in rows]):  # most rows fit only the other way round
            with pytest.raises(CRSError, match="look swapped"):
                read_incidents([path])
            return
        res = read_incidents([path], today=TODAY)

    expected: dict[int, str] = {}
    seen: set[str] = set()
    for i, (cid, month, coords, crime) in enumerate(rows, start=1):
        reason = expected_reason(month, coords, crime)
        if reason == "" and cid:
            reason = "duplicate_id" if cid in seen else ""
            seen.add(cid)
        expected[i] = reason

    got = dict.fromkeys(res.incidents[SOURCE_ROW].tolist(), "")
    got.update(dict(zip(res.rejected["source_row"], res.rejected["reason"], strict=True)))
    assert got == expected
    r = res.report
    assert r.n_read == len(rows) == r.n_kept + sum(r.rejected_by_reason.values())
    assert set(res.rejected["reason"]) <= set(REJECT_REASONS)
    assert res.incidents[INCIDENT_ID].is_unique
    assert res.incidents.geometry.notna().all()
    assert (res.rejected["detail"].str.len() > 0).all()


def test_time_zone_note_for_data_outside_britain():
    opts = IngestOptions(x_col="x", y_col="y", time_col="t", offence="Burglary")
    notes = " ".join(read_incidents([DATA / "dc_like.csv"], opts).report.notes)
    assert "default --tz" in notes
    opts = IngestOptions(
        x_col="x", y_col="y", time_col="t", offence="Burglary", tz="America/New_York"
    )
    assert "default --tz" not in " ".join(read_incidents([DATA / "dc_like.csv"], opts).report.notes)


def test_input_frame_not_mutated_by_points_helper():
    frame = pd.DataFrame({"x": ["0.9"], "y": ["51.9"]})
    from hotspots.ingest import points_from_columns

    points_from_columns(frame, what="t")
    assert frame["x"].tolist() == ["0.9"] and list(frame.columns) == ["x", "y"]
