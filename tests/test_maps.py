"""The analyst map: layers, legend, popups, escaping, public mode, size and offline assets."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from hotspots.errors import CRSError, InputError, SchemaError
from hotspots.outputs.maps import (
    LAYER_AREAS,
    LAYER_BURGLARIES,
    LAYER_DROPPED,
    LAYER_SPOTS,
    LAYER_SURFACE,
    LAYER_ZONES,
    RANK_BANDS,
    ZONE_COLOURS,
    build_map,
    esc,
    generalise_points,
    write_map,
)
from hotspots.outputs.offline import ASSET_FILES, asset_file_for, inline_assets
from hotspots.schema import (
    ADDRESS_ID,
    ADDRESS_TEXT,
    AREA_M2,
    AREA_NAME,
    AREA_RANK,
    BURGLARY_ID,
    DUE_BY,
    EXPIRES_ON,
    HARM_PER_HA,
    HARM_PREVIOUS,
    HARM_SHARE,
    HARM_TOTAL,
    INCIDENT_ID,
    LOCATION,
    N_HOMES,
    N_INCIDENTS,
    N_OVERLAPPING,
    OCCURRED_AT,
    OFFENCE_MIX,
    PEAK_WINDOWS,
    PLANNED_VISITS,
    RANK,
    SPOT_ID,
    STATUS,
    TREND,
    ZONE_ID,
    ZONE_MONTH_DATES,
)

REPO = Path(__file__).resolve().parents[1]
TZ = "Europe/London"
X0, Y0 = 571_050.0, 206_100.0  # a town centre in British National Grid metres
AS_OF = pd.Timestamp("2025-06-30 09:00", tz=TZ)
XSS = "<script>alert(1)</script>"
PROVENANCE = {
    "software": {"name": "hotspots", "version": "0.1.0"},
    "command": "weekly",
    "run_at": "2025-06-30T09:00:00+00:00",
    "parameters": {"cell_m": 150.0, "seed": 0, "lookback_days": 365},
    "inputs": [{"file": "2025-06-essex-street.csv"}],
    "date_min": "2024-07-01T00:00:00+01:00",
    "date_max": "2025-06-29T23:00:00+01:00",
    "harm_table": "cchi-2026-police-uk",
}


# ---------------------------------------------------------------- fixture builders (shared)


def make_spots(n: int = 6, *, status: str = "new", first_rank: int = 1) -> gpd.GeoDataFrame:
    """``n`` 150 m squares in a row, 300 m apart; rank 1 has the most harm."""
    xs = X0 + 300.0 * np.arange(n)
    ranks = np.arange(first_rank, first_rank + n)
    counts = [10, 2, 1, 7, 4, 3, 12, 9][:n] + [5] * max(0, n - 8)
    return gpd.GeoDataFrame(
        {
            SPOT_ID: [f"G{i:03d}" for i in ranks],
            RANK: ranks,
            AREA_RANK: ranks,
            AREA_NAME: ["Chelmsford"] * n,
            HARM_TOTAL: 3000.0 / ranks,
            HARM_SHARE: 0.3 / ranks,
            N_INCIDENTS: counts,
            OFFENCE_MIX: ["Violence and sexual offences: 8; Robbery: 2"] * n,
            AREA_M2: [22_500.0] * n,
            HARM_PER_HA: 3000.0 / ranks / 2.25,
            HARM_PREVIOUS: [900.0] * n,
            TREND: ["up"] * n,
            STATUS: [status] * n,
            PEAK_WINDOWS: ["Fri-Sat 22:00-03:00"] * n,
            PLANNED_VISITS: [6] * n,
        },
        geometry=shapely.box(xs, Y0, xs + 150.0, Y0 + 150.0),
        crs=27700,
    )


def make_surface(n_side: int = 20, *, seed: int = 0) -> gpd.GeoDataFrame:
    """An ``n_side`` x ``n_side`` block of 150 m cells with harm > 0."""
    rng = np.random.default_rng(seed)
    i, j = np.meshgrid(np.arange(n_side), np.arange(n_side))
    x = X0 - 1_500.0 + 150.0 * i.ravel()
    y = Y0 - 1_500.0 + 150.0 * j.ravel()
    harm = np.round(rng.gamma(0.6, 300.0, size=x.size), 1) + 1.0
    return gpd.GeoDataFrame(
        {
            SPOT_ID: [f"C{k}" for k in range(x.size)],
            HARM_TOTAL: harm,
            N_INCIDENTS: rng.integers(1, 20, size=x.size),
        },
        geometry=shapely.box(x, y, x + 150.0, y + 150.0),
        crs=27700,
    )


ZONE_XY = [
    (X0 - 900.0, Y0 - 800.0),
    (X0 + 1_200.0, Y0 - 900.0),
    (X0 - 700.0, Y0 + 1_100.0),
    (X0 + 1_300.0, Y0 + 1_000.0),
]
ZONE_STATUS_ORDER = ["overdue", "due", "active", "visited"]


def make_zones() -> gpd.GeoDataFrame:
    """Four 400 m zones, one per status; zone 1 burgled 3 days before as_of."""
    occurred = pd.to_datetime(
        ["2025-06-27 10:00", "2025-06-29 20:00", "2025-06-10 03:00", "2025-06-20 14:30"]
    ).tz_localize(TZ)
    pts = shapely.points(np.array(ZONE_XY))
    return gpd.GeoDataFrame(
        {
            ZONE_ID: ["Z-B1", "Z-B2", "Z-B3", "Z-B4"],
            BURGLARY_ID: ["B1", "B2", "B3", "B4"],
            OCCURRED_AT: occurred,
            DUE_BY: occurred + pd.Timedelta(hours=48),
            EXPIRES_ON: occurred + pd.Timedelta(days=42),
            STATUS: ZONE_STATUS_ORDER,
            AREA_NAME: ["Chelmsford", "Chelmsford", "Maldon", "Maldon"],
            N_HOMES: pd.array([120, 2, pd.NA, 40], dtype="Int64"),
            N_OVERLAPPING: [0, 1, 0, 1],
            ZONE_MONTH_DATES: ["", "", "", ""],
        },
        geometry=shapely.buffer(pts, 400.0, quad_segs=16),
        crs=27700,
    )


def make_burglaries() -> gpd.GeoDataFrame:
    """The four zone burglaries; one location holds a script tag (must show as text)."""
    zones = make_zones()
    return gpd.GeoDataFrame(
        {
            INCIDENT_ID: zones[BURGLARY_ID],
            OCCURRED_AT: zones[OCCURRED_AT],
            LOCATION: ["On or near High Street", XSS, "On or near Mill Lane", pd.NA],
        },
        geometry=gpd.points_from_xy([x + 11.0 for x, _ in ZONE_XY], [y + 37.0 for _, y in ZONE_XY]),
        crs=27700,
    )


def make_areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {AREA_NAME: ["Chelmsford", "Maldon <i>"]},
        geometry=[
            shapely.box(X0 - 3_000, Y0 - 3_000, X0 + 2_000, Y0 + 3_000),
            shapely.box(X0 + 2_000, Y0 - 3_000, X0 + 6_000, Y0 + 3_000),
        ],
        crs=27700,
    )


def make_addresses() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(1)
    x = ZONE_XY[0][0] + rng.uniform(-350, 350, 25)
    y = ZONE_XY[0][1] + rng.uniform(-250, 250, 25)
    return gpd.GeoDataFrame(
        {
            ADDRESS_ID: [f"A{i}" for i in range(25)],
            ADDRESS_TEXT: [f"{i} Mill Lane" for i in range(24)] + [XSS],
        },
        geometry=gpd.points_from_xy(x, y),
        crs=27700,
    )


def full_map(**changes: object):
    kwargs = dict(
        spots=make_spots(),
        dropped=make_spots(2, status="dropped", first_rank=7),
        surface=make_surface(),
        zones=make_zones(),
        burglaries=make_burglaries(),
        areas=make_areas(),
        addresses=make_addresses(),
        title="Chelmsford & Maldon",
        as_of=AS_OF,
        provenance=PROVENANCE,
        tiles=False,
    )
    kwargs.update(changes)
    return build_map(**kwargs)


def spot_features(page: str) -> list[dict]:
    """The harm-spot features of a page, best first (the page draws them best last)."""
    layers = [
        g
        for g in geojson_layers(page)
        if g["features"] and "hs-spot" in g["features"][0]["properties"]["s"]["className"]
    ]
    assert len(layers) == 1
    return layers[0]["features"][::-1]


def geojson_layers(page: str) -> list[dict]:
    """Every GeoJSON FeatureCollection embedded in a rendered page."""
    out = []
    for match in re.finditer(r"_add\((\{.*?\})\);\n", page):
        data = json.loads(match.group(1))
        if data.get("type") == "FeatureCollection":
            out.append(data)
    return out


def compact_layers(page: str) -> list[dict]:
    """Every compact layer (zones, burglaries, addresses) embedded in a rendered page."""
    return [json.loads(m.group(1)) for m in re.finditer(r"var d = (\{\"kind\".*?\}), K = 4;", page)]


def compact_layer(page: str, class_name: str) -> dict:
    """The one compact layer whose styles carry ``class_name``."""
    found = [g for g in compact_layers(page) if class_name in g["styles"][0]["className"]]
    assert len(found) == 1
    return found[0]


def compact_text(layer: dict, row: list[int], column: int) -> str | None:
    """Text of ``column`` for ``row``, as the page's script looks it up (None: no text)."""
    i = row[4 + column]
    return None if i < 0 else layer["texts"][column][i]


def compact_popups(layer: dict) -> list[dict[str, str]]:
    """Each row's popup table as {label: text}, as the page's script builds it."""
    return [
        {label: compact_text(layer, row, c) for label, c in layer["table"]} for row in layer["rows"]
    ]


def compact_texts(page: str) -> list[str]:
    """Every data text of the compact layers (inserted by the browser as text, not HTML)."""
    return [t for g in compact_layers(page) for col in g["texts"] for t in col]


# ---------------------------------------------------------------- tests


def test_layers_legend_title_footer():
    page = full_map().get_root().render()
    for name in (
        LAYER_SPOTS,
        LAYER_DROPPED,
        LAYER_SURFACE,
        LAYER_ZONES,
        LAYER_BURGLARIES,
        LAYER_AREAS,
    ):
        assert f'"{name}"' in page  # layer control entry
    assert "L.control.layers" in page
    assert "id='hs-legend'" in page
    # six spots in one area: only the classes drawn are in the legend
    assert "rank 1\u20135" in page and "<i style='background:#a50f15'></i>rank 6<" in page
    assert "rank 11" not in page and "rank 51" not in page
    assert "top spot of each area" in page
    for status, colour in ZONE_COLOURS.items():
        assert f"{status}" in page and colour in page
    assert "<h1>Chelmsford &amp; Maldon</h1>" in page
    assert "as of Mon 30 Jun 2025 09:00" in page
    # footer provenance: data range, harm table, version, parameters, inputs
    assert "Data 2024-07-01 to 2025-06-29" in page
    assert "harm table cchi-2026-police-uk" in page
    assert "hotspots 0.1.0" in page
    assert "cell_m=150.0" in page and "seed=0" in page and "2025-06-essex-street.csv" in page
    assert "OFFICIAL-SENSITIVE" in page
    assert "fitBounds" in page


def test_spot_features_carry_rank_colour_label_and_popup():
    page = full_map().get_root().render()
    feats = spot_features(page)
    labels = [re.sub(r"<[^>]+>", "", f["properties"]["label"]) for f in feats]
    assert labels == ["\u2605 1 Chelmsford", "2", "3", "4", "5", "6"]
    assert "hs-b1" in feats[0]["properties"]["label"]
    assert "hs-b3" in feats[5]["properties"]["label"]
    assert f"background:{RANK_BANDS[0][2]}" in feats[0]["properties"]["label"]
    assert feats[0]["properties"]["s"]["fillColor"] == RANK_BANDS[0][2]
    assert feats[5]["properties"]["s"]["fillColor"] == RANK_BANDS[1][2]
    pop = feats[0]["properties"]["popup"]
    for text in (
        "Harm spot #1 in Chelmsford",
        "rank 1 there; 1 overall",
        "3,000 CCHI days",
        "30.0%",
        "Robbery: 2",
        "Fri-Sat 22:00-03:00",
        "Planned visits",
        "<td>6</td>",
        "new",
    ):
        assert text in pop
    # only built properties reach the page, never raw columns
    assert set(feats[0]["properties"]) == {"s", "popup", "label"}
    # coordinates are WGS84 rounded to 6 decimals
    ring = feats[0]["geometry"]["coordinates"][0]
    assert all(abs(c - round(c, 6)) < 1e-12 for xy in ring for c in xy)
    assert 0.3 < ring[0][0] < 0.6 and 51.6 < ring[0][1] < 51.8


def test_harm_unit_follows_the_harm_table():
    page = full_map(provenance={**PROVENANCE, "harm_table": "count"}).get_root().render()
    pop = spot_features(page)[0]["properties"]["popup"]
    assert "3,000 harm (30.0% of all harm)" in pop and "CCHI" not in pop


def test_spot_ring_matches_independent_projection():
    """The square's corner in the page equals pyproj's transform of (X0, Y0)."""
    page = full_map().get_root().render()
    ring = np.array(spot_features(page)[0]["geometry"]["coordinates"][0])
    corner = gpd.GeoSeries(gpd.points_from_xy([X0], [Y0]), crs=27700).to_crs(4326).iloc[0]
    dist = np.hypot(ring[:, 0] - corner.x, ring[:, 1] - corner.y).min()
    assert dist < 2e-6


def test_zone_popups_and_classes():
    page = full_map().get_root().render()
    zones = compact_layer(page, "hs-zone")
    assert zones["kind"] == "circle" and zones["title"] == "Cocoon zone"
    classes = [zones["styles"][row[3]]["className"] for row in zones["rows"]]
    assert classes == [f"hs-zone hs-zone-{s}" for s in ZONE_STATUS_ORDER]
    pops = compact_popups(zones)
    assert pops[0]["Burglary"].startswith("Fri 27 Jun 2025")
    assert pops[0]["Due by"] == "Sun 29 Jun 2025 10:00"
    assert pops[0]["Expires"] == "Fri 08 Aug 2025"
    assert pops[0]["Status"] == "overdue" and pops[0]["Visited"] == "no"
    assert pops[0]["Homes in zone"] == "120"
    assert pops[2]["Homes in zone"] == "not known"
    assert pops[3]["Visited"] == "yes"
    assert pops[2]["Visited"] == "not known (no visit log)"


def test_zones_are_circles_of_their_radius():
    """Each zone goes out as centre (1e-5 degree, about 1 m) and radius in whole metres."""
    page = full_map().get_root().render()
    rows = np.array(compact_layer(page, "hs-zone")["rows"])
    centres = gpd.GeoSeries(
        gpd.points_from_xy(rows[:, 1] / 1e5, rows[:, 0] / 1e5), crs=4326
    ).to_crs(27700)
    np.testing.assert_allclose(centres.x, [x for x, _ in ZONE_XY], atol=1.0)
    np.testing.assert_allclose(centres.y, [y for _, y in ZONE_XY], atol=1.0)
    assert rows[:, 2].tolist() == [400] * len(ZONE_XY)
    assert '"type": "Polygon"' not in json.dumps(compact_layers(page))


def _texts(page: str) -> list[str]:
    """Every popup/tooltip/label string the page hands to Leaflet as HTML."""
    return [
        f["properties"][k]
        for g in geojson_layers(page)
        for f in g["features"]
        for k in ("popup", "tip", "label")
        if k in f["properties"]
    ]


def test_data_text_is_escaped_everywhere():
    page = full_map().get_root().render()
    texts = _texts(page)  # HTML handed to Leaflet: spots and areas
    assert not any("<script" in t or "<i>" in t for t in texts)
    assert any("Maldon &lt;i&gt;" in t for t in texts)
    # the compact layers hold plain text, which the browser inserts as text: the raw
    # text is in their data (burglary location, address) ...
    assert compact_texts(page).count(XSS) == 2
    # ... but never raw in the page: the JSON escapes < and > inside the script
    assert XSS not in page and "Maldon <i>" not in page and "</script>alert" not in page
    title = (
        build_map(
            spots=make_spots(), title=XSS, as_of=AS_OF, provenance={"harm_table": XSS}, tiles=False
        )
        .get_root()
        .render()
    )
    assert XSS not in title and title.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2


JINJA = "{{ 7 * 191 }} {% if x %} {# c #}"  # folium compiles rendered scripts as Jinja


def _without_element_ids(page: str) -> str:
    """The page less folium's random 32-hex element ids (one may hold "1337" by chance)."""
    return re.sub(r"[0-9a-f]{32}", "", page)


def test_jinja_syntax_in_data_shows_literally():
    """A data text with template syntax neither runs (1337) nor breaks the page (``{%``)."""
    zones = make_zones()
    zones[ZONE_ID] = zones[ZONE_ID] + " " + JINJA
    page = (
        full_map(
            spots=make_spots().assign(**{AREA_NAME: "Area " + JINJA}),
            zones=zones,
            burglaries=make_burglaries().assign(**{LOCATION: "Street " + JINJA}),
            addresses=make_addresses().assign(**{ADDRESS_TEXT: "Home " + JINJA}),
            title="Title " + JINJA,
            provenance={**PROVENANCE, "harm_table": "Table " + JINJA},
        )
        .get_root()
        .render()
    )
    assert "1337" not in _without_element_ids(page)
    shown = [html.unescape(t) for t in _texts(page)] + compact_texts(page)
    for label in ("Area ", "Street ", "Home ", "Z-B1 "):
        assert any(label + JINJA in t for t in shown), label
    for label in ("Title ", "Table "):
        assert (
            html.escape(label + JINJA, quote=True).replace("{", "&#123;").replace("}", "&#125;")
            in page
        ), label
    assert esc("{{x}}") == "&#123;&#123;x&#125;&#125;"


def test_public_mode_generalises_and_hides():
    page = full_map(public=True).get_root().render()
    assert not any("&lt;script&gt;" in t for t in _texts(page))  # no locations, no addresses
    assert "Mill Lane" not in page and "incident B1" not in page
    assert "Addresses in live zones" not in page
    assert "public version" in page
    pops = [f["properties"]["popup"] for f in spot_features(page)]
    assert "Incidents</th><td>10" in pops[0]
    assert "Incidents</th><td>&lt;3" in pops[1] and "Incidents</th><td>&lt;3" in pops[2]
    assert "Robbery: &lt;3" in pops[0]
    zones = compact_layer(page, "hs-zone")
    # a count made at the exact burglary point would pin it: without an address layer to
    # recount at the re-centred zone, the map says it is not known
    assert compact_popups(zones)[1]["Homes in zone"] == "not known"
    assert "Zone" not in compact_popups(zones)[0] and "Where" not in compact_popups(zones)[0]
    # burglaries sit on the centre of their 150 m cell: compare with an independent floor()
    rows = np.array(compact_layer(page, "hs-burglary")["rows"])
    got = gpd.GeoSeries(gpd.points_from_xy(rows[:, 1] / 1e5, rows[:, 0] / 1e5), crs=4326)
    got = got.to_crs(27700)
    x, y = make_burglaries().geometry.x.to_numpy(), make_burglaries().geometry.y.to_numpy()
    np.testing.assert_allclose(got.x, (np.floor(x / 150) + 0.5) * 150, atol=1.0)
    np.testing.assert_allclose(got.y, (np.floor(y / 150) + 0.5) * 150, atol=1.0)


def test_public_compact_layers_hold_no_home_location():
    """Public mode: zones re-centred on their 150 m cell, no place, id, label or address."""
    zones = make_zones().assign(**{LOCATION: ["On or near Mill Lane", None, XSS, "Park Road"]})
    zones = zones.set_geometry(zones.translate(10.0, 10.0))  # centres off the cell edges
    page = full_map(zones=zones, public=True).get_root().render()
    layer = compact_layer(page, "hs-zone")
    assert layer["label"] == []
    texts = compact_texts(page)
    assert not any("Mill Lane" in t or "Z-B" in t or "High Street" in t for t in texts)
    assert not any("incident" in t for t in texts) and XSS not in texts
    assert [g["styles"][0]["className"] for g in compact_layers(page)] == [
        "hs-zone hs-zone-overdue",
        "hs-burglary",
    ]  # no address layer
    rows = np.array(layer["rows"])
    centres = gpd.GeoSeries(
        gpd.points_from_xy(rows[:, 1] / 1e5, rows[:, 0] / 1e5), crs=4326
    ).to_crs(27700)
    x, y = np.array(ZONE_XY).T + 10.0
    np.testing.assert_allclose(centres.x, (np.floor(x / 150) + 0.5) * 150, atol=1.0)
    np.testing.assert_allclose(centres.y, (np.floor(y / 150) + 0.5) * 150, atol=1.0)


def test_internal_mode_shows_location_and_addresses():
    page = full_map().get_root().render()
    assert "On or near High Street" in page and "incident B1" in page
    assert '"Addresses in live zones"' in page
    assert "0 Mill Lane" in page


def _surface_cells(page: str) -> tuple[dict, np.ndarray, gpd.GeoSeries]:
    """The page's surface data, its cells' classes and their decoded centres (EPSG:27700)."""
    data = json.loads(re.search(r"var d = (\{\"cells\".*?\});\n", page).group(1))
    cells = np.array(data["cells"], dtype=np.int64)
    micro = np.cumsum(cells[:, :2], axis=0)  # the page's running sum of micro-degree steps
    centres = gpd.GeoSeries(
        gpd.points_from_xy(micro[:, 1] / 1e6, micro[:, 0] / 1e6), crs=4326
    ).to_crs(27700)
    return data, cells, centres


def test_surface_classes_follow_quantiles():
    surface = make_surface()
    data, cells, centres = _surface_cells(full_map(surface=surface).get_root().render())
    assert len(cells) == len(surface)
    assert len(data["shapes"]) == 1  # one template for identical squares
    # match each decoded centre to its true cell (within 0.5 m), then compare classes
    true = surface.geometry.centroid
    left, right = true.sindex.query(centres, predicate="dwithin", distance=0.5)
    assert len(left) == len(surface) and len(set(right)) == len(surface)
    harm = surface[HARM_TOTAL].to_numpy()
    edges = np.quantile(harm, [0.2, 0.4, 0.6, 0.8])
    expected = np.searchsorted(edges, harm, side="right")
    np.testing.assert_array_equal(cells[left, 3], expected[right])
    np.testing.assert_array_equal(cells[left, 4], np.round(harm[right]))
    # the template, pushed through the page's affine, lands within 1 m of the true corners
    t = np.array(data["shapes"][0]).reshape(-1, 2)
    for i in (left[0], left[-1]):
        lat0 = np.cumsum(cells[:, 0])[i] / 1e6
        lon0 = np.cumsum(cells[:, 1])[i] / 1e6
        lat = lat0 + t[:, 0] * data["e"][0] + t[:, 1] * data["n"][0]
        lon = lon0 + t[:, 0] * data["e"][1] + t[:, 1] * data["n"][1]
        got = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(27700)
        corners = np.array(surface.geometry.iloc[right[list(left).index(i)]].exterior.coords)[:-1]
        d = np.hypot(
            corners[:, None, 0] - got.x.to_numpy()[None, :],
            corners[:, None, 1] - got.y.to_numpy()[None, :],
        ).min(axis=1)
        assert d.max() < 1.0


def test_surface_public_counts():
    surface = make_surface().assign(**{N_INCIDENTS: [1, 2, 3, 0] * 100})
    _, cells, _ = _surface_cells(full_map(surface=surface, public=True).get_root().render())
    assert sorted(set(cells[:, 5].tolist())) == [-1, 0, 3]
    _, cells, _ = _surface_cells(full_map(surface=surface).get_root().render())
    assert sorted(set(cells[:, 5].tolist())) == [0, 1, 2, 3]


def _png_classes(url: str) -> np.ndarray:
    """Palette indices of the page's surface PNG (8-bit, filter 0 rows, one IDAT)."""
    import base64
    import struct
    import zlib

    png = base64.b64decode(url.split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    start = png.index(b"IDAT")
    (size,) = struct.unpack(">I", png[start - 4 : start])
    raw = np.frombuffer(zlib.decompress(png[start + 4 : start + 4 + size]), dtype=np.uint8)
    rows = raw.reshape(height, width + 1)
    assert (rows[:, 0] == 0).all()
    return rows[:, 1:]


@pytest.mark.parametrize("shape", ["squares", "diamonds"])
def test_large_surface_is_one_image_of_its_classes(monkeypatch, shape):
    """Above SURFACE_IMAGE_CELLS the surface is a PNG whose pixel at each cell's centre
    holds that cell's quantile class (lattice look-up for squares, sindex for others)."""
    import hotspots.outputs.maps as maps_module
    from hotspots.outputs._surface import class_breaks

    monkeypatch.setattr(maps_module, "SURFACE_IMAGE_CELLS", 100)
    surface, cell_m = make_surface(), 150.0
    if shape == "diamonds":  # pixels of 25 m: each diamond's centre pixel lies inside it
        surface = surface.set_geometry(
            shapely.buffer(surface.centroid.to_numpy(), 75.0, quad_segs=1)
        )
        cell_m = 50.0
    page = full_map(surface=surface, surface_cell_m=cell_m).get_root().render()
    assert '"cells"' not in page and "hs-surface-img" in page
    data = json.loads(
        re.search(r"L\.imageOverlay\((\"data:image/png;base64,[^\"]+\")", page).group(1)
    )
    (lat0, lon0), (lat1, lon1) = json.loads(
        re.search(r"base64,[^\"]+\", (\[\[.*?\]\])", page).group(1)
    )
    img = _png_classes(data)
    height, width = img.shape
    centres = surface.centroid.to_crs(3857)
    corner = gpd.GeoSeries(gpd.points_from_xy([lon0, lon1], [lat0, lat1]), crs=4326).to_crs(3857)
    col = ((centres.x - corner.x[0]) / (corner.x[1] - corner.x[0]) * width).astype(int)
    row = ((corner.y[1] - centres.y) / (corner.y[1] - corner.y[0]) * height).astype(int)
    harm = surface[HARM_TOTAL].to_numpy()
    expected = np.searchsorted(class_breaks(harm), harm, side="right") + 1
    assert (img[row, col] == expected).all()
    if shape == "diamonds":
        assert img[0, 0] == 0  # between the diamonds: transparent
    assert f"{LAYER_SURFACE} (harm per cell)" in page  # the legend keeps its classes


@pytest.mark.slow
def test_force_year_map_stays_under_5_mb(tmp_path):
    """50k surface cells, 700 zones and burglaries, 100 spots: < 5 MB with offline assets."""
    rng = np.random.default_rng(7)
    n = 50_000
    cells = rng.choice(400 * 400, size=n, replace=False)
    x = 540_000.0 + 150.0 * (cells % 400)
    y = 180_000.0 + 150.0 * (cells // 400)
    surface = gpd.GeoDataFrame(
        {HARM_TOTAL: rng.gamma(0.5, 200.0, n) + 1, N_INCIDENTS: rng.integers(1, 30, n)},
        geometry=shapely.box(x, y, x + 150, y + 150),
        crs=27700,
    )
    zones = pd.concat([make_zones()] * 175, ignore_index=True)
    shift = rng.uniform(-20_000, 20_000, size=(len(zones), 2))
    zones = zones.set_geometry(
        shapely.transform(zones.geometry.to_numpy(), lambda c: c + shift.repeat(65, axis=0))
    )
    burglaries = pd.concat([make_burglaries()] * 175, ignore_index=True)
    spots = make_spots(100)
    m = build_map(
        spots=spots,
        surface=surface,
        zones=zones,
        burglaries=burglaries,
        areas=make_areas(),
        title="Force",
        as_of=AS_OF,
        provenance=PROVENANCE,
    )
    path = write_map(m, tmp_path / "map.html")
    assert path.stat().st_size < 5_000_000


def test_bad_inputs_have_clear_messages():
    with pytest.raises(SchemaError, match=r"spots is missing column\(s\) \['rank'\]"):
        build_map(spots=make_spots().drop(columns=[RANK]), title="t", as_of=AS_OF, provenance={})
    with pytest.raises(CRSError, match="zones must use a projected CRS in metres"):
        build_map(
            spots=make_spots(),
            zones=make_zones().to_crs(4326),
            title="t",
            as_of=AS_OF,
            provenance={},
        )
    bad = make_zones().assign(**{STATUS: ["due", "expired", "due", "due"]})
    with pytest.raises(SchemaError, match=r"zones has status value\(s\) \['expired'\]"):
        build_map(spots=make_spots(), zones=bad, title="t", as_of=AS_OF, provenance={})
    with pytest.raises(TypeError, match="spots must be a GeoDataFrame; got DataFrame"):
        build_map(spots=pd.DataFrame(make_spots()), title="t", as_of=AS_OF, provenance={})
    with pytest.raises(InputError, match="Nothing to map"):
        build_map(spots=make_spots().iloc[:0], title="t", as_of=AS_OF, provenance={})


def test_empty_spots_with_zones_still_maps():
    page = (
        build_map(
            spots=make_spots().iloc[:0],
            zones=make_zones(),
            title="t",
            as_of=AS_OF,
            provenance={},
            tiles=False,
        )
        .get_root()
        .render()
    )
    assert f"{LAYER_SPOTS} (0)" in page and "hs-zone-due" in page


def test_inputs_are_not_changed():
    zones, burg = make_zones(), make_burglaries()
    before_z, before_b = zones.copy(), burg.copy()
    full_map(zones=zones, burglaries=burg, public=True)
    pd.testing.assert_frame_equal(zones, before_z)
    pd.testing.assert_frame_equal(burg, before_b)


def test_tiles_default_is_none_and_can_be_chosen():
    assert "tile.openstreetmap.org" not in full_map(tiles=None).get_root().render()
    assert (
        "tile.openstreetmap.org"
        not in build_map(spots=make_spots(), title="t", as_of=AS_OF, provenance={})
        .get_root()
        .render()
    )
    osm = full_map(tiles="OpenStreetMap").get_root().render()
    assert "tile.openstreetmap.org" in osm and "openstreetmap.org/copyright" in osm
    assert "tile.openstreetmap.org" in full_map(tiles=True).get_root().render()
    own = (
        full_map(
            tiles="https://tiles.essex.police.uk/base/{z}/{x}/{y}.png",
            tiles_attribution="Essex Police &copy; Crown copyright",
        )
        .get_root()
        .render()
    )
    assert "tiles.essex.police.uk/base/{z}/{x}/{y}.png" in own
    assert "Essex Police \\u0026copy; Crown copyright" in own
    wms = full_map(tiles="https://gis.force.local/wms?layers=streets&format=image/jpeg")
    page = wms.get_root().render()
    assert "L.tileLayer.wms" in page and '"layers": "streets"' in page
    assert "Map tiles: gis.force.local" in page  # no attribution given: the host is credited


@pytest.mark.parametrize(
    ("tiles", "match"),
    [
        ("Stamen", "tiles must be 'OpenStreetMap', an http"),
        ("https://gis.force.local/wms", r"add \?layers=NAME"),
    ],
)
def test_bad_tiles_say_what_is_accepted(tiles, match):
    from hotspots.errors import OptionError

    with pytest.raises(OptionError, match=match):
        full_map(tiles=tiles)


# ---------------------------------------------------------------- offline assets


def test_map_links_to_leaflet_only():
    page = full_map().get_root().render()
    urls = re.findall(r"<(?:script src|link rel=\"stylesheet\" href)=\"(https?://[^\"]+)\"", page)
    assert sorted(asset_file_for(u) for u in urls) == sorted(ASSET_FILES)
    assert "jquery" not in page and "bootstrap" not in page and "fontawesome" not in page


def test_written_map_makes_no_external_request_by_default(tmp_path):
    from hotspots.outputs.offline import external_urls

    page = write_map(full_map(), tmp_path / "map.html").read_text(encoding="utf-8")
    assert external_urls(page) == []
    assert 'data-offline="leaflet.js"' in page and "Leaflet 1.9.3" in page
    assert 'url("data:image/png;base64,' in page
    cdn = write_map(full_map(), tmp_path / "cdn.html", cdn=True).read_text(encoding="utf-8")
    assert len(external_urls(cdn)) == 2 and "data-offline" not in cdn


def test_vendored_assets_are_package_data_with_their_licence():
    from hotspots.outputs.offline import asset_dir

    folder = asset_dir()
    for name in (*ASSET_FILES, "LICENSE-leaflet.txt", "images/layers.png"):
        assert (folder / name).is_file(), name
    assert "BSD 2-Clause" in (folder / "LICENSE-leaflet.txt").read_text(encoding="utf-8")
    total = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    assert total < 200_000


def _fake_assets(folder: Path) -> None:
    for name in ASSET_FILES:
        text = (
            f"/* {name} */ .x{{background:url('images/dot.png')}}"
            if name.endswith(".css")
            else f"window['{name}'] = '</script>';"
        )
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "images").mkdir()
    (folder / "images" / "dot.png").write_bytes(b"\x89PNG fake")


def test_write_map_inlines_assets_from_a_folder(tmp_path):
    _fake_assets(tmp_path)
    out = write_map(full_map(), tmp_path / "map.html", offline_assets=tmp_path)
    page = out.read_text(encoding="utf-8")
    assert not re.search(r"<script src=\"http", page)
    assert not re.search(r"<link rel=\"stylesheet\" href=\"http", page)
    assert "window['leaflet.js'] = '<\\/script>';" in page
    assert 'url("data:image/png;base64,iVBORyBmYWtl")' in page


def test_missing_asset_names_file_and_fix(tmp_path):
    _fake_assets(tmp_path)
    (tmp_path / "leaflet.js").unlink()
    with pytest.raises(InputError, match=r"leaflet\.js is missing .*fetch-offline-assets"):
        write_map(full_map(), tmp_path / "map.html", offline_assets=tmp_path)
    assert not (tmp_path / "map.html").exists()
    with pytest.raises(InputError, match="does not exist; run scripts/fetch-offline-assets"):
        inline_assets("<html></html>", tmp_path / "nowhere")


def test_unknown_external_asset_is_refused(tmp_path):
    _fake_assets(tmp_path)
    page = '<script src="https://example.org/plugin.js"></script>'
    with pytest.raises(InputError, match=r"links to https://example\.org/plugin\.js"):
        inline_assets(page, tmp_path)


# ---------------------------------------------------------------- readable map


def _two_area_spots() -> gpd.GeoDataFrame:
    """Three spots in Basildon (force ranks 1, 4, 5) and two in Southend (2, 3), overlapping."""
    spots = make_spots(5)
    xs = X0 + np.array([0.0, 40.0, 20.0, 60.0, 10.0])  # nearly on top of each other
    return spots.assign(
        **{
            RANK: [1, 2, 3, 4, 5],
            AREA_RANK: [1, 1, 2, 2, 3],
            AREA_NAME: ["Basildon", "Southend", "Southend", "Basildon", "Basildon"],
            "place_name": ["Great Eastern Avenue", None, "Pier Hill", "", "Town Square"],
        }
    ).set_geometry(shapely.box(xs, Y0, xs + 150.0, Y0 + 150.0))


def test_badges_rank_within_area_and_the_best_is_drawn_last():
    feats = spot_features(full_map(spots=_two_area_spots()).get_root().render())[::-1]
    ranks = [
        int(re.search(r"#(\d+) in", f["properties"]["popup"]).group(1)) for f in feats
    ]  # drawing order
    assert ranks == [3, 2, 2, 1, 1]  # every badge is added after all lower-ranked ones
    tops = [f["properties"]["label"] for f in feats if "hs-b1" in f["properties"]["label"]]
    assert len(tops) == 2  # one per area
    assert "Great Eastern Avenue" in tops[-1] and "Basildon" in tops[-1]  # force #1 is last
    assert "Southend" in tops[0]
    assert (
        "Pier Hill" in feats[1]["properties"]["label"]
        or "Pier Hill" in feats[2]["properties"]["label"]
    )
    assert all(
        f["properties"]["s"]["fillColor"] == RANK_BANDS[0][2] for f in feats
    )  # ranks 1-3 in their areas: all in the top band


def test_area_and_zone_labels_give_orientation_without_tiles():
    zones = make_zones().assign(**{LOCATION: ["On or near Mill Lane", None, XSS, "Park Road"]})
    page = full_map(zones=zones).get_root().render()
    layers = geojson_layers(page)
    area = next(g for g in layers if "hs-area" in g["features"][0]["properties"]["s"]["className"])
    assert [f["properties"]["lc"] for f in area["features"]] == ["hs-label hs-area-label"] * 2
    assert "Maldon &lt;i&gt;" in area["features"][1]["properties"]["label"]
    zl = compact_layer(page, "hs-zone")
    labels = [[compact_text(zl, row, c) for c in zl["label"]] for row in zl["rows"]]
    assert labels[0] == ["Z-B1", "On or near Mill Lane"] and labels[1] == ["Z-B2", None]
    assert labels[2][1] == XSS  # plain text: the browser inserts it as text
    assert zl["labelClass"] == "hs-label hs-zone-label"
    assert compact_popups(zl)[0]["Where"] == "On or near Mill Lane"
    assert "hs-zoom-lt14" in page and "hs-zoom-lt16" in page  # names from town zoom on


def test_popups_wrap():
    css = re.search(r"\.leaflet-popup-content\{[^}]*\}", full_map().get_root().render()).group(0)
    assert "max-width:300px" in css and "overflow-wrap:anywhere" in css


def test_legend_lists_only_zone_statuses_drawn():
    zones = make_zones().iloc[[0, 1]]
    page = full_map(zones=zones).get_root().render()
    legend = page[page.index("id='hs-legend'") :]
    legend = legend[: legend.index("</div></div>") + 12]
    assert "overdue" in legend and "due: visit deadline" in legend
    assert "active:" not in legend and "visited (" not in legend


# ---------------------------------------------------------------- invariants


@given(st.text(max_size=60))
def test_escaped_text_reads_back_and_holds_no_markup(text):
    import html

    out = esc(text)
    assert "<" not in out and ">" not in out and '"' not in out
    assert html.unescape(out) == (text if text else "\u2013")


@given(st.lists(st.tuples(st.floats(0, 700_000), st.floats(0, 1_200_000)), min_size=1, max_size=30))
def test_generalised_points_sit_on_cell_centres_near_the_original(xy):
    pts = gpd.GeoSeries(gpd.points_from_xy(*zip(*xy, strict=True)), crs=27700)
    out = generalise_points(pts)
    # centre of a 150 m cell: (k + 0.5) * 150, never more than half a diagonal away
    for v in (out.x.to_numpy() / 150 - 0.5, out.y.to_numpy() / 150 - 0.5):
        np.testing.assert_allclose(v, np.round(v), atol=1e-6)
    assert (out.distance(pts) <= 75 * np.sqrt(2) + 1e-6).all()
    pd.testing.assert_series_equal(generalise_points(out).x, out.x)  # idempotent


def test_layer_scripts_go_out_as_rendered():
    """A layer's script is not compiled again as a template, and keeps its place."""
    import folium

    from hotspots.outputs._maplayers import _GeoJsonLayer

    data = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"popup": "{{ 7 * 191 }} {% if %}"},
                "geometry": {"type": "Point", "coordinates": [0.5, 51.7]},
            }
        ],
    }
    m = folium.Map(tiles=None)
    layer = _GeoJsonLayer(data, name="t")
    layer.add_to(m)
    page = m.get_root().render()
    assert "{{ 7 * 191 }} {% if %}" in page and "1337" not in _without_element_ids(page)
    name = layer.get_name()
    assert (
        page.index(f"function {name}_add")
        < page.index(f"{name}_add({{")
        < page.rindex(f"{name}.addTo(")
    )
    assert geojson_layers(page) == [data]


@pytest.mark.parametrize(
    "geom",
    [
        shapely.Polygon([(0, 0, 1), (1, 0, 2), (1, 1, 3)]),
        shapely.box(0, 0, 2, 2).difference(shapely.box(0.5, 0.5, 1, 1)),  # with a hole
        shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)]),
        shapely.Point(1, 2),
        shapely.LineString([(0, 0), (1, 1)]),
    ],
)
def test_geojson_geometry_equals_shapely_mapping(geom):
    from shapely.geometry import mapping

    from hotspots.outputs._maplayers import _geometry

    assert json.dumps(_geometry(geom)) == json.dumps(mapping(geom))
    assert json.loads(json.dumps(_geometry(geom))) == json.loads(shapely.to_geojson(geom))


def test_outline_of_a_single_point_layer():
    from hotspots.outputs.maps import _outline

    one = gpd.GeoDataFrame(geometry=gpd.points_from_xy([560_000.0], [190_000.0]), crs=27700)
    hull = _outline(one)
    assert len(hull) == 1 and hull.iloc[0].equals(one.geometry.iloc[0])


def test_legend_names_month_data_zones_as_risk_areas_not_past_deadline():
    zones = make_zones().assign(status="active", zone_kind="retrospective")
    page = full_map(zones=zones).get_root().render()
    assert "retrospective risk area (month data: no visit deadline) (4)" in page
    assert "past deadline, no visit log" not in page


def test_extra_point_layer_is_compact_plain_text():
    """An extra ``--layer`` is one compact array of dots; its labels are plain text."""
    pts = make_burglaries().assign(label=["Safe Haven", XSS, None, "  "])[["label", "geometry"]]
    page = full_map(point_layers=[("Street-Safe", pts)]).get_root().render()
    layer = compact_layer(page, "hs-extra")
    tips = [compact_text(layer, row, layer["tip"]) for row in layer["rows"]]
    assert tips == ["Street-Safe: Safe Haven", f"Street-Safe: {XSS}", "Street-Safe", "Street-Safe"]
    assert XSS not in page
    public = full_map(point_layers=[("Street-Safe", pts)], public=True).get_root().render()
    assert not [g for g in compact_layers(public) if "hs-extra" in g["styles"][0]["className"]]
