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
    OCCURRED_AT,
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
    assert html.index('1. <span class="zid" title="Z-B1">Z-B1') < html.index(
        '2. <span class="zid" title="Z-B2">Z-B2'
    )
    # one zone never splits across two pages; several share a page
    assert "@page { size: A4" in html and "section.zone { break-inside: avoid" in html
    assert "break-before: page" not in html
    assert "OFFICIAL-SENSITIVE" in html
    assert "As of Mon 30 Jun 2025 09:00" in html
    assert "Burglary <b>Fri 27 Jun 2025</b>" in html
    assert "visit by <b>Sun 29 Jun 10:00</b>" in html
    assert "expires 08 Aug" in html
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


def _zone_section(html: str, zone_number: int) -> str:
    return html.split(f'id="zone-{zone_number}"')[1].split("</section>")[0]


def _mandatory(section: str) -> list[str]:
    return re.findall(r'<span class="ord">\d+</span> <b>(.*?)</b>', section)


def test_mandatory_then_grouped_by_street_and_victim_not_listed(tmp_path):
    html = write(tmp_path)["Chelmsford"].read_text(encoding="utf-8")
    section = _zone_section(html, 1)
    # mandatory by visit order (12, 25, 40 m) in a grid
    assert _mandatory(section) == [
        "3 Next Door",
        "5 Near Street",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
    ]
    assert "Mandatory: the nearest 3, visit all &middot; then 2 other homes by street" in section
    # the other two homes of "Some Street", as one row with their numbers
    assert re.search(
        r'<td class="num">2</td><td><b>Some Street</b>: 7 Middle Way, 9 Far Close</td>'
        r'<td class="num">from 150 m',
        section,
    )
    assert VICTIM not in html
    assert "The burgled home is never listed." in html
    assert html.count('<span class="box"></span>') == 3 + 1 + 1 + 1  # Z-B1 3+1 rows, Z-B2 1+1
    assert "12 m" in section and "40 m" in section


def test_postcode_shown_only_when_it_adds_to_the_address(tmp_path):
    html = write(tmp_path)["Chelmsford"].read_text(encoding="utf-8")
    assert "<b>3 Next Door</b> <small>CM1 1AA</small>" in html
    visits = make_visits()
    visits[POSTCODE] = visits[ADDRESS_TEXT]
    html = write(tmp_path, visits=visits)["Chelmsford"].read_text(encoding="utf-8")
    assert "<b>3 Next Door</b> <small>" not in html


def test_postcode_units_are_never_called_homes(tmp_path):
    visits = make_visits()
    units = ["CM1 1AB", "CM1 1AA", "CM1 1AD", "CM1 1AE", "CM1 2AF", "CM1 2AG", "CM2 9ZZ", "CM2 9ZY"]
    visits[ADDRESS_TEXT] = units
    visits[POSTCODE] = units
    visits[STREET] = None
    html = write(tmp_path, visits=visits)["Chelmsford"].read_text(encoding="utf-8")
    assert "postcode units (about 15 addresses each)" in html
    assert "homes" not in html.split("</div>", 1)[1]  # after the protective marking
    section = _zone_section(html, 1)
    assert "then 2 other postcode units by sector" in section
    # the two other units, each alone in its sector, share one "Also" row with their sector
    assert re.search(r"<b>Also</b>: CM1 \d \d\w\w; CM1 \d \d\w\w</td>", section)
    forced = write(tmp_path / "f", visits=visits, unit="homes")["Chelmsford"]
    assert "then 2 other homes by street" in forced.read_text(encoding="utf-8")


def test_long_zone_ids_are_shortened(tmp_path):
    long_id = "Z-" + "ab" * 32
    zones = make_zones().assign(zone_id=[long_id, "Z-B2", "Z-B3", "Z-B4"])
    visits = make_visits().replace({ZONE_ID: {"Z-B1": long_id}})
    html = write(tmp_path, zones=zones, visits=visits)["Chelmsford"].read_text(encoding="utf-8")
    short = long_id[:15] + "\u2026"
    assert f'<span class="zid" title="{long_id}">{short}</span>' in html


def test_escaping(tmp_path):
    html = write(tmp_path)["Chelmsford"].read_text(encoding="utf-8")
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_script_in_street_and_place_names_is_escaped(tmp_path):
    visits = make_visits().assign(**{STREET: XSS})
    zones = make_zones().assign(location=[XSS, "On or near {{ 7 * 191 }}", None, None])
    html = write(tmp_path, zones=zones, visits=visits)["Chelmsford"].read_text(encoding="utf-8")
    body = html.split("</style>", 1)[1]
    assert "<script" not in body and "1337" not in body
    assert "<b>&lt;script&gt;alert(1)&lt;/script&gt;</b>: 7 Middle Way, 9 Far Close" in body
    assert "&middot; &lt;script&gt;alert(1)&lt;/script&gt; <span" in body
    assert "On or near {{ 7 * 191 }}" in body


def test_small_svg_map_from_projected_coordinates(tmp_path):
    from hotspots.outputs._listrows import SVG_PX

    html = write(tmp_path)["Chelmsford"].read_text(encoding="utf-8")
    svg = _zone_section(html, 1).split("</svg>")[0]
    assert "class='zone-ring'" in svg
    # 3 mandatory red dots numbered 1-3 and 2 grey dots; positions follow the eastings
    mand = re.findall(r"class='home mandatory' cx='([\d.]+)' cy='([\d.]+)'", svg)
    others = re.findall(r"class='home' cx='([\d.]+)' cy='([\d.]+)'", svg)
    assert len(mand) == 3 and len(others) == 2
    assert svg.index("class='home'") < svg.index("class='home mandatory'")  # red on top
    scale = SVG_PX / (2 * 400 * 1.08)
    xs = sorted(float(x) for x, _ in mand)
    expected = sorted(SVG_PX / 2 + d * scale for d in (12.0, 25.0, 40.0))
    np.testing.assert_allclose(xs, expected, atol=0.11)
    assert all(abs(float(y) - SVG_PX / 2) < 0.11 for _, y in mand)  # burglary's northing


def test_public_lists_have_no_addresses(tmp_path):
    pages = write(tmp_path, public=True)
    html = pages["Chelmsford"].read_text(encoding="utf-8")
    for text in ("Next Door", "Far Close", "Victim", "alert(1)", "Z-B1", "CM1 1AA"):
        assert text not in html
    assert "Public version: no address list" in html
    assert "&lt;3 homes" in html  # Z-B2 has 2 homes
    assert "OFFICIAL \u2013 public version" in html
    assert '<span class="box">' not in html


def test_month_dated_burglary_says_so_and_has_no_deadline(tmp_path):
    zones = make_zones().assign(month_dates=["mid", "", "", ""])
    html = write(tmp_path, zones=zones)["Chelmsford"].read_text(encoding="utf-8")
    first = _zone_section(html, 1)
    assert "Burglary <b>Jun 2025 (month data)</b>" in first
    assert "retrospective, no deadline" in first and "visit by" not in first
    assert "each burglary is dated at the middle of its month" in html
    assert "visit by <b>" in _zone_section(html, 2)


def test_zone_without_addresses_says_so_and_visited_is_one_line(tmp_path):
    html = write(tmp_path)["Maldon"].read_text(encoding="utf-8")
    assert html.count("No address points lie inside this zone") == 1  # Z-B3 (active)
    assert "Visited zones (1)" in html
    assert re.search(r"<li>Z-B4 \u00b7 burglary Fri 20 Jun 2025 \u00b7 visited", html)


@pytest.mark.parametrize(
    ("scope", "full", "one_line"), [("due", 1, 1), ("live", 2, 0), ("all", 2, 0)]
)
def test_list_scope(tmp_path, scope, full, one_line):
    html = write(tmp_path, list_scope=scope)["Maldon"].read_text(encoding="utf-8")
    assert html.count('<section class="zone"') == full
    assert ("Visited zones (1)" in html) == bool(one_line)


def test_scope_all_lists_every_home_on_its_own_row(tmp_path):
    html = write(tmp_path, list_scope="all")["Chelmsford"].read_text(encoding="utf-8")
    assert _mandatory(_zone_section(html, 1)) == [
        "3 Next Door",
        "5 Near Street",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "7 Middle Way",
        "9 Far Close",
    ]
    assert "Every home, nearest first (5)" in html


def test_bad_scope_lists_the_choices(tmp_path):
    from hotspots.errors import OptionError

    with pytest.raises(OptionError, match=r"list_scope must be one of \('due', 'live', 'all'\)"):
        write(tmp_path, list_scope="overdue")


def test_list_areas_other_than_the_zone_areas(tmp_path):
    import geopandas as gpd
    import shapely

    from test_maps import X0, Y0

    teams = gpd.GeoDataFrame(
        {"team": ["West NPT", "East NPT <b>"]},
        geometry=[
            shapely.box(X0 - 5_000, Y0 - 5_000, X0, Y0 + 5_000),
            shapely.box(X0, Y0 - 5_000, X0 + 5_000, Y0 + 5_000),
        ],
        crs=27700,
    )
    zones = (
        make_zones()
        .drop(columns=[])
        .assign(easting=[x for x, _ in ZONE_XY], northing=[y for _, y in ZONE_XY])
    )
    pages = write(tmp_path, zones=zones, list_areas=teams.iloc[[0, 1]], list_area_field="team")
    assert sorted(pages) == ["East NPT <b>", "West NPT"]
    west = pages["West NPT"].read_text(encoding="utf-8")
    assert "Z-B1" in west and "Z-B3" in west and "Z-B2" not in west  # by the burglary point
    assert pages["East NPT <b>"].name == "east-npt-b.html"
    assert "East NPT &lt;b&gt;" in pages["East NPT <b>"].read_text(encoding="utf-8")


def test_zones_at_one_point_print_once(tmp_path):
    zones = make_zones()
    twin = zones.iloc[[0]].assign(**{ZONE_ID: "Z-B1b"})
    both = pd.concat([zones, twin], ignore_index=True)
    visits = make_visits()
    twin_visits = visits[visits[ZONE_ID] == "Z-B1"].assign(**{ZONE_ID: "Z-B1b"})
    html = write(tmp_path, zones=both, visits=pd.concat([visits, twin_visits]))["Chelmsford"]
    page = html.read_text(encoding="utf-8")
    assert page.count('<section class="zone"') == 2
    assert "Same point and dates as Z-B1b: one visit covers 2 burglaries." in page


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
    visits = make_visits()
    visits.loc[1:2, STREET] = None
    texts = [ADDRESS_TEXT, STREET, POSTCODE, ADDRESS_ID, DISTANCE_BAND, ZONE_IDS]
    plain = write(tmp_path / "plain", visits=visits)["Chelmsford"].read_bytes()
    other = write(tmp_path / dtype, visits=visits.astype(dict.fromkeys(texts, dtype)))
    assert other["Chelmsford"].read_bytes() == plain
    page = plain.decode()
    assert "&lt;script&gt;" in page and "<script>" not in page.split("</style>", 1)[1]


def test_every_zone_lists_its_own_homes(tmp_path):
    """Each zone's mandatory homes in order and the rest counted on their street."""
    rng = np.random.default_rng(7)
    zones = make_zones()
    n = 200
    zone_of = rng.choice(zones[ZONE_ID].to_numpy(), n)
    visits = pd.DataFrame(
        {
            ZONE_ID: zone_of,
            ADDRESS_TEXT: [f"{i} Lane" for i in range(n)],
            STREET: "Lane",
            DISTANCE_M: rng.permutation(n) * 2.0 + 0.5,
            MANDATORY: rng.random(n) < 0.3,
            IS_BURGLED: rng.random(n) < 0.05,
            EASTING: zones.set_index(ZONE_ID).geometry.centroid.x[zone_of].to_numpy(),
            NORTHING: zones.set_index(ZONE_ID).geometry.centroid.y[zone_of].to_numpy(),
        }
    )
    visits[VISIT_ORDER] = pd.array(np.arange(1, n + 1), dtype="Int64")
    pages = write(tmp_path, zones=zones, visits=visits, list_scope="live")
    homes = visits[~visits[IS_BURGLED]]
    for zid, group in homes.groupby(ZONE_ID):
        area = zones.set_index(ZONE_ID).loc[zid, AREA_NAME]
        html = pages[area].read_text(encoding="utf-8")
        section = next(
            part for part in html.split('<section class="zone"') if f'title="{zid}">' in part
        )
        mand = group[group[MANDATORY]].sort_values(VISIT_ORDER)
        assert _mandatory(section) == mand[ADDRESS_TEXT].tolist(), zid
        others = len(group) - len(mand)
        assert re.search(rf'<td class="num">{others}</td><td><b>Lane</b>', section) or not others
        assert section.count("class='home mandatory'") == len(mand)
        assert section.count("class='home'") == others


def test_month_data_lists_the_latest_release_and_earlier_months_one_line_each(tmp_path):
    # all four zones retrospective: Chelmsford's two are June 2025, Maldon's one May, one June
    zones = make_zones().assign(
        month_dates=["start"] * 4,
        zone_kind=["retrospective"] * 4,
        status=["active"] * 4,
        location=["On or near A Street", "On or near B Road", "On or near C Lane", ""],
    )
    zones[OCCURRED_AT] = pd.to_datetime(
        ["2025-06-01", "2025-06-01", "2025-05-01", "2025-06-01"]
    ).tz_localize("Europe/London")
    pages = write(tmp_path, zones=zones)
    maldon = pages["Maldon"].read_text(encoding="utf-8")
    assert maldon.count('<section class="zone"') == 1  # the June zone in full
    assert "listed with their release (1)" in maldon
    assert re.search(r"<li>Z-B3 C Lane \u00b7 until \d\d \w\w\w</li>", maldon)
    chelmsford = pages["Chelmsford"].read_text(encoding="utf-8")
    assert chelmsford.count('<section class="zone"') == 2 and "earlier months" not in chelmsford
    live = write(tmp_path / "live", zones=zones, list_scope="live")["Maldon"]
    assert live.read_text(encoding="utf-8").count('<section class="zone"') == 2
