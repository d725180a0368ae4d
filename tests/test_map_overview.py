"""The national overview page: one box per force linking to its map, offline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from hotspots.outputs.overview import force_boxes, overview_html

XSS = "<script>alert(1)</script>"


def _spots_file(folder: Path, west: float, south: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    ring = [[west, south], [west + 0.01, south], [west + 0.01, south + 0.02], [west, south]]
    data = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            },
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Point", "coordinates": [west + 0.5, south + 0.25]},
            },
        ],
    }
    (folder / "harm_spots.geojson").write_text(json.dumps(data), encoding="utf-8")


def _table(forces: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "force": forces,
            "rows_kept": [1200, 26, 0][: len(forces)],
            "spots": [20, 3, 0][: len(forces)],
            "harm_share_in_spots": [0.123, float("nan"), None][: len(forces)],
            "study_area_km2": [3670.456, 12.0, None][: len(forces)],
            "live_zones": [5, 2, 0][: len(forces)],
            "as_of": ["2025-12-31", "2025-12-31", None][: len(forces)],
            "map": [f"{f}/map.html" for f in forces],
        }
    )


@pytest.fixture
def national(tmp_path: Path) -> tuple[pd.DataFrame, Path]:
    _spots_file(tmp_path / "essex", 0.2, 51.5)
    _spots_file(tmp_path / "kent", 0.6, 51.1)
    return _table(["essex", "kent", "empty"]), tmp_path


def test_boxes_come_from_each_forces_spots(national):
    table, out = national
    boxes = force_boxes(table, out_dir=out)
    assert set(boxes) == {"essex", "kent"}  # no layers: listed, not mapped
    assert boxes["essex"] == pytest.approx((0.2, 51.5, 0.7, 51.75))


def test_overview_links_every_force_and_is_offline(national):
    table, out = national
    page = overview_html(table, out_dir=out)
    for force in ("essex", "kent", "empty"):
        assert f'href="{force}/map.html"' in page  # the list
    assert "Open the force map" in page and "./essex/map.html" in page  # the popups
    assert not re.search(r"<script src=\"http|<link[^>]+href=\"http", page)
    assert "L.map(" in page or "L.map" in page
    assert "Harm spots by force" in page and "national.csv" in page
    assert "harm share in spots 12.3%" in page  # a share shown as a percentage
    assert "3,670.5" in page


def test_overview_escapes_force_names_and_links(tmp_path):
    bad = XSS + "javascript:alert(2)"
    _spots_file(tmp_path / bad, 0.2, 51.5)
    page = overview_html(_table([bad]), out_dir=tmp_path)
    assert XSS not in page
    # the popup link is relative and percent-encoded: never a javascript: URL
    assert "./%3Cscript%3Ealert%281%29%3C/script%3Ejavascript%3Aalert%282%29/map.html" in page


@pytest.mark.browser
def test_overview_opens_offline_and_links_to_a_force(national):
    from test_browser import open_page, shoot

    pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("/usr/bin/chromium is absent")
    from playwright.sync_api import sync_playwright

    table, out = national
    (out / "essex" / "map.html").write_text("<title>essex map</title>", encoding="utf-8")
    page_path = out / "index.html"
    page_path.write_text(overview_html(table, out_dir=out), encoding="utf-8")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        opened = open_page(b, page_path)
        page = opened.page
        assert page.locator("path.hs-force").count() == 2
        assert page.locator(".hs-area-label").count() == 2
        shoot(page, "overview.png")
        page.locator("path.hs-force").first.click(force=True)
        link = page.locator(".leaflet-popup-content a", has_text="Open the force map")
        assert link.count() == 1
        shoot(page, "overview_popup.png")
        link.click()
        page.wait_for_load_state("load")
        assert page.url.endswith("/map.html")
        assert opened.errors == [] and opened.blocked == []
        b.close()
