"""Printable cocoon lists: one page per area, urgency order, no victim address, escaping."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from hotspots.errors import CRSError, SchemaError
from hotspots.outputs.lists import area_slug, urgency_order, write_cocoon_lists
from hotspots.schema import (
    ADDRESS_ID,
    ADDRESS_TEXT,
    AREA_NAME,
    DISTANCE_BAND,
    DISTANCE_M,
    DUE_BY,
    EASTING,
    EXPIRES_ON,
    IS_BURGLED,
    MANDATORY,
    NORTHING,
    POSTCODE,
    STATUS,
    STREET,
    VISIT_ORDER,
    ZONE_ID,
    ZONE_IDS,
)
from test_maps import AS_OF, PROVENANCE, XSS, ZONE_XY, make_zones

VICTIM = "1 Victim Road"


def make_visits() -> pd.DataFrame:
    """Zone Z-B1: the burgled home, 3 mandatory and 2 other homes; Z-B2: 2 homes.

    Distances are hand-set; rows are deliberately out of order to test the sorting.
    """
    zones = make_zones().set_index(ZONE_ID)
    rows = [
        # zone, address, distance, order, mandatory, burgled
        ("Z-B1", "9 Far Close", 390.0, 5, False, False),
        ("Z-B1", VICTIM, 3.0, None, False, True),
        ("Z-B1", "3 Next Door", 12.0, 1, True, False),
        ("Z-B1", XSS, 40.0, 3, True, False),
        ("Z-B1", "5 Near Street", 25.0, 2, True, False),
        ("Z-B1", "7 Middle Way", 150.0, 4, False, False),
        ("Z-B2", "2 Other Road", 30.0, 1, True, False),
        ("Z-B2", "4 Other Road", 60.0, 2, False, False),
    ]
    z, addr, dist, order, mand, burg = zip(*rows, strict=True)
    x0 = {k: ZONE_XY[i][0] for i, k in enumerate(zones.index)}
    y0 = {k: ZONE_XY[i][1] for i, k in enumerate(zones.index)}
    return pd.DataFrame(
        {
            ZONE_ID: list(z),
            AREA_NAME: [zones.loc[k, AREA_NAME] for k in z],
            DUE_BY: [zones.loc[k, DUE_BY] for k in z],
            EXPIRES_ON: [zones.loc[k, EXPIRES_ON] for k in z],
            ADDRESS_ID: [f"A{i}" for i in range(len(z))],
            ADDRESS_TEXT: list(addr),
            STREET: ["Some Street"] * len(z),
            POSTCODE: ["CM1 1AA"] * len(z),
            DISTANCE_M: list(dist),
            DISTANCE_BAND: [
                "0-100" if d <= 100 else "100-200" if d <= 200 else "200-400" for d in dist
            ],
            VISIT_ORDER: pd.array(list(order), dtype="Int64"),
            MANDATORY: list(mand),
            IS_BURGLED: list(burg),
            ZONE_IDS: [
                "Z-B1;Z-B2" if a == "5 Near Street" else k for a, k in zip(addr, z, strict=True)
            ],
            EASTING: [x0[k] + d for k, d in zip(z, dist, strict=True)],
            NORTHING: [y0[k] for k in z],
        }
    )


def write(tmp_path, **changes):
    kwargs = dict(as_of=AS_OF, provenance=PROVENANCE)
    kwargs.update(changes)
    zones = kwargs.pop("zones", make_zones())
    visits = kwargs.pop("visits", make_visits())
    return write_cocoon_lists(zones, visits, tmp_path, **kwargs)


def test_one_page_per_area(tmp_path):
    pages = write(tmp_path)
    assert list(pages) == ["Chelmsford", "Maldon"]
    assert pages["Chelmsford"] == tmp_path / "cocoon_lists" / "chelmsford.html"
    assert sorted(p.name for p in (tmp_path / "cocoon_lists").iterdir()) == [
        "chelmsford.html",
        "maldon.html",
    ]


def test_most_urgent_zone_first_and_print_css(tmp_path):
    html = write(tmp_path)["Chelmsford"].read_text(encoding="utf-8")
    # Z-B1 is overdue, Z-B2 due: overdue first
    assert html.index("Zone 1 of 2<div class='zid'>zone id Z-B1") < html.index(
        "Zone 2 of 2<div class='zid'>zone id Z-B2"
    )
    assert "@page { size: A4" in html and "break-before: page" in html
    assert "OFFICIAL-SENSITIVE" in html
    assert "As of Mon 30 Jun 2025 09:00" in html
    assert "Burglary date</th><td>Fri 27 Jun 2025" in html
    assert "Visit by</th><td><b>Sun 29 Jun 2025 10:00" in html
    assert "Zone expires</th><td>Fri 08 Aug 2025" in html
    assert "hotspots 0.1.0" in html and "harm table cchi-2026-police-uk" in html


def test_urgency_order_hand_checked():
    zones = make_zones()  # statuses overdue, due, active, visited
    shuffled = zones.iloc[[3, 2, 1, 0]]
    assert urgency_order(shuffled)[ZONE_ID].tolist() == ["Z-B1", "Z-B2", "Z-B3", "Z-B4"]
    two_due = zones.assign(**{STATUS: ["due", "due", "visited", "overdue"]})
    # among the due zones the earlier deadline (Z-B1, 29 Jun) comes before Z-B2 (1 Jul)
    assert urgency_order(two_due)[ZONE_ID].tolist() == ["Z-B4", "Z-B1", "Z-B2", "Z-B3"]


def _zone_rows(html: str, zone_number: int) -> list[str]:
    section = html.split(f"id='zone-{zone_number}'")[1].split("</section>")[0]
    return re.findall(
        r"<tr(?: class='mandatory')?><td><span class='box'></span></td>"
        r"<td class='num'>\d+</td><td>(.*?)<br>",
        section,
    )


def test_mandatory_then_nearest_and_victim_not_listed(tmp_path):
    html = write(tmp_path)["Chelmsford"].read_text(encoding="utf-8")
    rows = _zone_rows(html, 1)
    # mandatory by distance (12, 25, 40 m), then the rest by distance (150, 390 m)
    assert rows == [
        "3 Next Door",
        "5 Near Street",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "7 Middle Way",
        "9 Far Close",
    ]
    assert VICTIM not in html
    assert "The burgled home itself is not on this list." in html
    assert html.count("<span class='box'></span>") == 7  # 5 + 2 target homes, tick boxes
    assert "Mandatory: the nearest homes, visit all of these (3)" in html
    assert "also in zones Z-B1;Z-B2" in html
    assert "12 m" in html and "390 m" in html


def test_postcode_and_id_columns_hidden_when_they_repeat_the_address(tmp_path):
    visits = make_visits()
    visits[POSTCODE] = visits[ADDRESS_TEXT]
    visits[ADDRESS_ID] = visits[ADDRESS_TEXT]
    html = write(tmp_path, visits=visits)["Chelmsford"].read_text(encoding="utf-8")
    assert "<th>Postcode</th>" not in html and "<th>Id</th>" not in html
    assert "colspan='6'" in html
    html = write(tmp_path)["Chelmsford"].read_text(encoding="utf-8")
    assert "<th>Postcode</th>" in html and "<th>Id</th>" in html and "colspan='8'" in html


def test_long_zone_ids_are_shortened_in_the_summary(tmp_path):
    long_id = "Z-" + "ab" * 32
    zones = make_zones().assign(zone_id=[long_id, "Z-B2", "Z-B3", "Z-B4"])
    visits = make_visits().replace({ZONE_ID: {"Z-B1": long_id}})
    html = write(tmp_path, zones=zones, visits=visits)["Chelmsford"].read_text(encoding="utf-8")
    assert f"<span title='{long_id}'>Z-ababababab\u2026</span>" in html
    assert f"zone id {long_id}" in html


def test_escaping(tmp_path):
    html = write(tmp_path)["Chelmsford"].read_text(encoding="utf-8")
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_small_svg_map_from_projected_coordinates(tmp_path):
    html = write(tmp_path)["Chelmsford"].read_text(encoding="utf-8")
    svg = html.split("id='zone-1'")[1].split("</svg>")[0]
    assert "class='zone-ring'" in svg
    # 3 mandatory red dots numbered 1-3 and 2 grey dots; positions follow the eastings
    mand = re.findall(r"class='home mandatory' cx='([\d.]+)' cy='([\d.]+)'", svg)
    others = re.findall(r"class='home' cx='([\d.]+)' cy='([\d.]+)'", svg)
    assert len(mand) == 3 and len(others) == 2
    scale = 230 / (2 * 400 * 1.08)
    xs = sorted(float(x) for x, _ in mand)
    expected = sorted(115 + d * scale for d in (12.0, 25.0, 40.0))
    np.testing.assert_allclose(xs, expected, atol=0.11)
    assert all(abs(float(y) - 115) < 0.11 for _, y in mand)  # same northing as the burglary


def test_public_lists_have_no_addresses(tmp_path):
    pages = write(tmp_path, public=True)
    html = pages["Chelmsford"].read_text(encoding="utf-8")
    for text in ("Next Door", "Far Close", "Victim", "alert(1)", "Z-B1", "CM1 1AA"):
        assert text not in html
    assert "Public version: no address list" in html
    assert "Homes in zone</th><td>&lt;3" in html  # Z-B2 has 2 homes
    assert "OFFICIAL \u2013 public version" in html
    assert "<span class='box'>" not in html


def test_month_dated_burglary_says_so(tmp_path):
    zones = make_zones().assign(month_dates=["mid", "", "", ""])
    html = write(tmp_path, zones=zones)["Chelmsford"].read_text(encoding="utf-8")
    assert "Fri 27 Jun 2025 (month-only data: dated at the middle of the month)" in html


def test_zone_without_addresses_says_so(tmp_path):
    html = write(tmp_path)["Maldon"].read_text(encoding="utf-8")
    assert html.count("No address points lie inside this zone") == 2


def test_area_slugs():
    assert area_slug("Castle Point") == "castle-point"
    assert area_slug("Southend-on-Sea <b>") == "southend-on-sea-b"
    assert area_slug("../../etc") == "etc"
    assert area_slug("") == "unknown-area"


def test_missing_area_goes_to_unassigned(tmp_path):
    zones = make_zones().assign(**{AREA_NAME: [None, "Chelmsford", None, None]})
    visits = make_visits().iloc[6:]
    pages = write(tmp_path, zones=zones, visits=visits)
    assert set(pages) == {"Chelmsford", "Unassigned area"}
    assert pages["Unassigned area"].name == "unassigned-area.html"


def test_bad_input_messages(tmp_path):
    with pytest.raises(SchemaError, match=r"visit list is missing column\(s\) \['mandatory'\]"):
        write(tmp_path, visits=make_visits().drop(columns=[MANDATORY]))
    stray = make_visits().assign(**{ZONE_ID: "Z-GONE"})
    with pytest.raises(
        SchemaError, match=r"1 zone\(s\) not among the live zones, e.g. \['Z-GONE'\]"
    ):
        write(tmp_path, visits=stray)
    with pytest.raises(CRSError, match="zones must use a projected CRS"):
        write(tmp_path, zones=make_zones().to_crs(4326))
    with pytest.raises(SchemaError, match=r"status value\(s\) \['expired'\]"):
        write(tmp_path, zones=make_zones().assign(**{STATUS: "expired"}))


def test_inputs_unchanged(tmp_path):
    zones, visits = make_zones(), make_visits()
    z0, v0 = zones.copy(), visits.copy()
    write(tmp_path, zones=zones, visits=visits)
    pd.testing.assert_frame_equal(zones, z0)
    pd.testing.assert_frame_equal(visits, v0)


def test_rewrite_is_identical(tmp_path):
    a = write(tmp_path / "a")["Chelmsford"].read_bytes()
    b = write(tmp_path / "b")["Chelmsford"].read_bytes()
    assert a == b


def test_no_live_zones_writes_nothing(tmp_path):
    pages = write(tmp_path, zones=make_zones().iloc[:0], visits=make_visits().iloc[:0])
    assert pages == {}
    assert list((tmp_path / "cocoon_lists").iterdir()) == []


@pytest.mark.parametrize("dtype", ["category", "string", "object"])
def test_text_dtype_does_not_change_the_page(tmp_path, dtype):
    """Rows are escaped per distinct value for some dtypes and value by value for others."""
    visits = make_visits()
    visits.loc[1:2, STREET] = None  # a missing street prints no street line
    texts = [ADDRESS_TEXT, STREET, POSTCODE, ADDRESS_ID, DISTANCE_BAND, ZONE_IDS]
    plain = write(tmp_path / "plain", visits=visits)["Chelmsford"].read_bytes()
    other = write(tmp_path / dtype, visits=visits.astype(dict.fromkeys(texts, dtype)))
    assert other["Chelmsford"].read_bytes() == plain
    page = plain.decode()
    assert "<br><small>Some Street</small>" in page
    assert "also in zones Z-B1;Z-B2" in page
    assert "&lt;script&gt;" in page and "<script>" not in page.split("</style>", 1)[1]


def test_every_zone_lists_its_own_homes_in_order(tmp_path):
    """Rows are rendered for all zones at once and sliced: check each zone against pandas."""
    rng = np.random.default_rng(7)
    zones = make_zones()
    n = 200
    zone_of = rng.choice(zones[ZONE_ID].to_numpy(), n)
    visits = pd.DataFrame(
        {
            ZONE_ID: zone_of,
            ADDRESS_TEXT: [f"{i} Lane" for i in range(n)],
            STREET: "Lane",
            DISTANCE_M: rng.permutation(n) * 2.0 + 0.5,  # distinct: no ties to break
            MANDATORY: rng.random(n) < 0.3,
            IS_BURGLED: rng.random(n) < 0.05,
            EASTING: zones.set_index(ZONE_ID).geometry.centroid.x[zone_of].to_numpy(),
            NORTHING: zones.set_index(ZONE_ID).geometry.centroid.y[zone_of].to_numpy(),
        }
    )
    visits[VISIT_ORDER] = pd.array(np.arange(1, n + 1), dtype="Int64")
    pages = write(tmp_path, zones=zones, visits=visits)
    html = "".join(p.read_text(encoding="utf-8") for p in pages.values())
    homes = visits[~visits[IS_BURGLED]]
    for zid, group in homes.groupby(ZONE_ID):
        expected = group.sort_values([MANDATORY, DISTANCE_M], ascending=[False, True])
        section = html.split(f"zone id {zid}</div>")[1].split("</section>")[0]
        listed = re.findall(r"<td class='num'>\d+</td><td>([^<]*)<br>", section)
        assert listed == expected[ADDRESS_TEXT].tolist(), zid
        k = int(group[MANDATORY].sum())
        assert f"visit all of these ({k})" in section or k == 0
        assert section.count("class='home mandatory'") == k
        assert section.count("class='home'") == len(group) - k
        burgled = int((visits[IS_BURGLED] & (visits[ZONE_ID] == zid)).sum())
        assert ("The burgled home itself is not on this list." in section) == (burgled > 0)
