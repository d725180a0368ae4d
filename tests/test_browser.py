"""Open the map and a cocoon list in headless Chromium with no network at all.

Needs Debian's chromium (``/usr/bin/chromium``) and the offline assets from
``scripts/fetch-offline-assets .offline-assets``; skips with the reason otherwise.
Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from test_maps import (
    AS_OF,
    PROVENANCE,
    XSS,
    full_map,
    make_spots,
    make_zones,
)

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ASSETS = REPO / ".offline-assets"
ARTIFACTS = REPO / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


OPEN_XSS_POPUP = """() => {
  for (const k in window) {
    const v = window[k];
    if (v && v instanceof L.GeoJSON) {
      v.eachLayer(l => {
        const p = l.getPopup();
        if (p && String(p.getContent()).includes('alert(1)')) l.openPopup();
      });
    }
  }
}"""


def _requirements() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: apt-get install chromium to run browser tests")
    if not (ASSETS / "leaflet.js").exists():
        pytest.skip(f"{ASSETS} is absent: run scripts/fetch-offline-assets .offline-assets")
    pytest.importorskip("playwright.sync_api", reason="python playwright is not installed")


class Page:
    """A loaded page plus every console error, page error and blocked request."""

    def __init__(self, page, errors: list[str], blocked: list[str]) -> None:
        self.page, self.errors, self.blocked = page, errors, blocked


@pytest.fixture(scope="module")
def browser():
    _requirements()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def open_page(browser, path: Path, *, width: int = 1280, height: int = 860) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    blocked: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def route(r):
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return Page(page, errors, blocked)


def test_map_draws_layers_offline(browser, tmp_path):
    from hotspots.outputs.maps import write_map

    path = write_map(full_map(tiles=False), tmp_path / "map.html", offline_assets=ASSETS)
    opened = open_page(browser, path)
    page = opened.page
    page.wait_for_function("document.querySelectorAll('path.hs-spot').length > 0")
    assert page.locator("path.hs-spot.leaflet-interactive").count() == len(make_spots())
    assert page.locator("path.hs-zone").count() == len(make_zones())
    for status in ("due", "overdue", "active", "visited"):
        assert page.locator(f"path.hs-zone-{status}").count() == 1
    assert page.locator("path.hs-burglary").count() == 4
    assert page.locator("path.hs-dropped").count() == 0  # hidden until ticked
    assert page.locator("path.hs-area").count() == 2
    assert page.locator(".hs-label").count() == len(make_spots())
    assert page.locator("canvas").count() >= 1  # the harm surface
    labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    for name in (
        "Harm spots",
        "Dropped harm spots",
        "Harm surface",
        "Cocoon zones",
        "Recent burglaries",
        "Area boundaries",
        "Addresses in live zones",
    ):
        assert any(name in text for text in labels), labels
    assert page.locator("#hs-legend").is_visible()
    assert "as of Mon 30 Jun 2025" in page.locator("#hs-title").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map.png"))
    # the escaped location shows as text inside the popup, and no script ran
    page.evaluate(OPEN_XSS_POPUP)
    popup = page.locator(".leaflet-popup-content")
    assert XSS in popup.first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "map_popup.png"))
    # tick the dropped layer: its two squares appear
    page.locator(".leaflet-control-layers-overlays label", has_text="Dropped harm spots").click()
    assert page.locator("path.hs-dropped").count() == 2
    assert opened.errors == []
    assert opened.blocked == []


def test_public_map_offline(browser, tmp_path):
    from hotspots.outputs.maps import write_map

    path = write_map(
        full_map(tiles=False, public=True), tmp_path / "map.html", offline_assets=ASSETS
    )
    opened = open_page(browser, path)
    opened.page.wait_for_function("document.querySelectorAll('path.hs-spot').length > 0")
    assert opened.page.locator("path.hs-address").count() == 0
    labels = opened.page.locator(".leaflet-control-layers-overlays").inner_text()
    assert "Addresses" not in labels
    ARTIFACTS.mkdir(exist_ok=True)
    opened.page.screenshot(path=str(ARTIFACTS / "map_public.png"))
    assert opened.errors == [] and opened.blocked == []


def test_as_of_and_provenance_visible(browser, tmp_path):
    from hotspots.outputs.maps import write_map

    path = write_map(full_map(tiles=False), tmp_path / "map.html", offline_assets=ASSETS)
    opened = open_page(browser, path)
    footer = opened.page.locator("#hs-footer").inner_text()
    assert "Data 2024-07-01 to 2025-06-29" in footer
    assert PROVENANCE["harm_table"] in footer
    assert AS_OF.year == 2025
    assert opened.errors == []


def test_cocoon_list_renders_offline(browser, tmp_path):
    from hotspots.outputs.lists import write_cocoon_lists
    from test_lists import make_visits

    pages = write_cocoon_lists(
        make_zones(),
        make_visits(),
        tmp_path,
        as_of=AS_OF,
        provenance=PROVENANCE,
        offline_assets=ASSETS,
    )
    opened = open_page(browser, pages["Chelmsford"], width=900, height=1200)
    page = opened.page
    assert page.locator("section.zone").count() == 2
    assert page.locator("section.zone svg path.zone-ring").count() == 2
    assert page.locator("svg circle.home.mandatory").count() == 4  # 3 in Z-B1, 1 in Z-B2
    assert page.locator("table.visits tbody tr td .box").count() == 7
    assert XSS in page.locator("table.visits").first.inner_text()  # shown as text
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "cocoon_list.png"), full_page=True)
    page.pdf(path=str(ARTIFACTS / "cocoon_list.pdf"), format="A4")
    assert opened.errors == [] and opened.blocked == []


@pytest.mark.realdata
@pytest.mark.slow
def test_essex_weekly_map_and_list_in_chromium(browser, tmp_path):
    """The Essex 2025 weekly run: every spot and live zone drawn, < 5 MB, no errors."""
    import json

    from conftest import shared_path
    from hotspots.pipeline import WeeklySettings, run_weekly

    data = shared_path("police_uk", "essex_2025")
    settings = WeeklySettings.from_mapping(
        {
            "areas": shared_path("boundaries", "essex_lad2013.geojson"),
            "area_field": "LAD13NM",
            "addresses": shared_path(
                "addresses", "essex_postcode_units_codepoint_open_2014.csv.gz"
            ),
            "month_dates": "mid",
            "tiles": False,
            "offline_assets": ASSETS,
        }
    )
    result = run_weekly([data], out=tmp_path / "essex", settings=settings)
    out = result.out_dir
    n_spots = len(json.loads((out / "harm_spots.geojson").read_text())["features"])
    n_zones = len(json.loads((out / "cocoon_zones.geojson").read_text())["features"])
    assert n_spots > 0 and n_zones > 0
    assert (out / "map.html").stat().st_size < 5_000_000
    opened = open_page(browser, out / "map.html", width=1400, height=900)
    page = opened.page
    page.wait_for_function("document.querySelectorAll('path.hs-spot').length > 0")
    assert page.locator("path.hs-spot").count() == n_spots
    assert page.locator("path.hs-zone").count() == n_zones
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "essex_map.png"))
    assert opened.errors == [] and opened.blocked == []
    lists = sorted((out / "cocoon_lists").glob("*.html"))
    assert lists
    listed = open_page(browser, lists[0], width=900, height=1200)
    assert listed.page.locator("section.zone").count() >= 1
    listed.page.screenshot(path=str(ARTIFACTS / f"essex_{lists[0].stem}.png"))
    assert listed.errors == [] and listed.blocked == []
