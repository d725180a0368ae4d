"""The one-page briefing: top spots per area, zones due in 48 h, Knox, caveats; escaped."""

from __future__ import annotations

import pandas as pd
import pytest

from hotspots.errors import SchemaError
from hotspots.outputs.briefing import BRIEFING_FILE, write_briefing
from hotspots.outputs.offline import external_urls
from hotspots.schema import (
    AREA_NAME,
    AREA_RANK,
    DUE_BY,
    LOCATION,
    SPOT_ID,
    STATUS,
    ZONE_ID,
    ZONE_MONTH_DATES,
)
from test_maps import AS_OF, PROVENANCE, XSS, make_spots, make_zones


def spots_two_areas() -> pd.DataFrame:
    spots = pd.DataFrame(make_spots(5).drop(columns="geometry"))
    return spots.assign(
        **{
            AREA_NAME: ["Basildon", "Southend", "Basildon", "Southend", "Basildon"],
            AREA_RANK: [1, 1, 2, 2, 3],
            "place_name": ["Great Eastern Avenue", XSS, None, "Pier Hill", "Town Square"],
            STATUS: ["new", "persisting", "persisting", "new", "new"],
        }
    )


def plan() -> pd.DataFrame:
    return pd.DataFrame({SPOT_ID: ["G001"] * 7 + ["G002"] * 3, "minutes": [15] * 10})


def write(tmp_path, **changes):
    kwargs = dict(
        spots=spots_two_areas(),
        zones=pd.DataFrame(make_zones().drop(columns="geometry")),
        knox_summary="Near repeats: pairs within 100 m and 7 days are 8.2 times chance.",
        notes=["police.uk points are snapped to anonymous map points.", XSS],
        provenance=PROVENANCE,
        as_of=AS_OF,
        patrol_plan=plan(),
    )
    kwargs.update(changes)
    return write_briefing(tmp_path, **kwargs).read_text(encoding="utf-8")


def test_top_spots_per_area_by_name_with_change_and_dosage(tmp_path):
    page = write(tmp_path, top=2)
    assert (tmp_path / BRIEFING_FILE).is_file()
    basildon = page.index(">Basildon<")
    southend = page.index(">Southend<")
    assert basildon < southend  # areas in name order
    assert "Great Eastern Avenue" in page and "Pier Hill" in page
    assert "Town Square" not in page  # Basildon's #3: top=2
    assert "spot G003" in page  # no place name: the spot id stands in
    assert "7 visits, 105 min" in page and "3 visits, 45 min" in page
    assert ">new, harm up (was 900)<" in page and ">as last run, harm up (was 900)<" in page
    flat = write(tmp_path, spots=spots_two_areas().assign(trend="new"))
    assert "new, no earlier period" in flat
    assert "3,000" in page  # harm, no decimals
    assert "Tasking briefing: Basildon, Southend" in page


def test_zones_due_in_48_hours_overdue_first(tmp_path):
    page = write(tmp_path)
    # as of 30 Jun 09:00: Z-B1 overdue (due 29 Jun), Z-B2 due 1 Jul 20:00 (within 48 h)
    assert page.index("Z-B1") < page.index("Z-B2")
    assert "Z-B3" not in page and "Z-B4" not in page  # active, visited
    zones = pd.DataFrame(make_zones().drop(columns="geometry"))
    zones[DUE_BY] = pd.Timestamp("2025-07-02 09:01", tz="Europe/London")  # 48 h + 1 min
    later = write(tmp_path, zones=zones.assign(**{STATUS: "due"}))
    assert "No zone falls due in the next 48 hours." in later


def test_month_data_zones_have_no_deadline(tmp_path):
    zones = pd.DataFrame(make_zones().drop(columns="geometry")).assign(**{ZONE_MONTH_DATES: "mid"})
    page = write(tmp_path, zones=zones)
    assert "the 4 retrospective risk areas come from month-only data" in page
    assert "live" not in page.split("</header>")[0]  # month zones are never "live"
    assert "Z-B1" not in page


def test_knox_sentence_caveats_and_footer(tmp_path):
    page = write(tmp_path)
    assert "8.2 times chance" in page
    assert "snapped to anonymous map points" in page
    assert "hotspots 0.1.0" in page and "OFFICIAL-SENSITIVE" in page
    assert "The Knox test was not run this week." in write(tmp_path, knox_summary=None)
    assert "Cocoons were not run this week." in write(tmp_path, zones=None)


def test_every_text_is_escaped_and_nothing_is_fetched(tmp_path):
    zones = pd.DataFrame(make_zones().drop(columns="geometry")).assign(
        **{LOCATION: [XSS, "{{ 7 * 191 }}", None, None]}
    )
    page = write(tmp_path, zones=zones)
    body = page.split("</style>", 1)[1]
    assert "<script" not in body and "1337" not in body
    assert body.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 3  # place, zone, note
    assert external_urls(page) == []


def test_public_briefing_hides_zone_ids_and_places(tmp_path):
    zones = pd.DataFrame(make_zones().drop(columns="geometry")).assign(
        **{LOCATION: ["On or near Mill Lane", None, None, None]}
    )
    page = write(tmp_path, zones=zones, public=True)
    assert "Z-B1" not in page and "Mill Lane" not in page and "zone 1" in page
    assert "&lt;3" in page  # Z-B2 has 2 homes


def test_spots_need_their_columns(tmp_path):
    with pytest.raises(SchemaError, match=r"spots is missing column\(s\) \['harm'\]"):
        write(tmp_path, spots=spots_two_areas().drop(columns="harm"))
    with pytest.raises(SchemaError, match=r"zones is missing column\(s\) \['zone_id'\]"):
        write(tmp_path, zones=pd.DataFrame(make_zones().drop(columns=["geometry", ZONE_ID])))
