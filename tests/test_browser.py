"""Open every page hotspots writes in headless Chromium with the network blocked.

With default options the pages must make zero external requests (every request but
``file:`` is refused and recorded), log zero console errors and draw their spots and
zones. Leaflet comes from the package's own copy (package data), so nothing has to be
fetched first. Needs Debian's chromium (``/usr/bin/chromium``) and python playwright;
skips with the reason otherwise. Screenshots go to ``test-artifacts/``.
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
  // open, one by one, every popup (compact layers build theirs on click) until one
  // shows the script text
  for (const k in window) {
    const v = window[k];
    if (!(v && v instanceof L.FeatureGroup)) continue;
    let found = false;
    v.eachLayer(l => {
      if (found || !l.getPopup || !l.getPopup()) return;
      l.openPopup();
      const el = l.getPopup().getElement();
      if (el && el.textContent.includes('alert(1)')) found = true; else l.closePopup();
    });
    if (found) return true;
  }
  return false;
}"""


def _requirements() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: apt-get install chromium to run browser tests")
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


FIND_MAP = "Object.values(window).find(v => v && v instanceof L.Map)"


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def zoom_to_top_spot(page, zoom: int = 15) -> None:
    """Centre the map on the force's #1 spot at town zoom (the last spot drawn)."""
    page.evaluate(
        f"""() => {{
      const m = {FIND_MAP};
      let best = null;
      m.eachLayer(l => {{ if (l.options && /hs-spot-r1( |$)/.test(l.options.className || ''))
                            best = l; }});
      if (best) m.setView(best.getBounds().getCenter(), {zoom}, {{animate: false}});
    }}"""
    )
    page.wait_for_timeout(300)


def test_map_draws_layers_offline(browser, tmp_path):
    from hotspots.outputs.maps import write_map

    path = write_map(full_map(), tmp_path / "map.html")
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
    assert page.locator(".leaflet-tooltip .hs-badge").count() == len(make_spots())
    assert page.locator(".hs-area-label").count() == 2  # orientation without tiles
    assert page.locator("img.leaflet-tile").count() == 0  # no tiles by default
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
    shoot(page, "map.png")
    # the escaped location shows as text inside the popup, and no script ran
    assert page.evaluate(OPEN_XSS_POPUP)
    popup = page.locator(".leaflet-popup-content", has_text="alert(1)")
    assert XSS in popup.first.inner_text()
    assert popup.locator("script").count() == 0  # inserted as text, not as HTML
    box = popup.first.bounding_box()
    assert box is not None and box["width"] <= 330  # popups wrap
    shoot(page, "map_popup.png")
    page.locator(".leaflet-control-layers-overlays label", has_text="Dropped harm spots").click()
    assert page.locator("path.hs-dropped").count() == 2
    assert opened.errors == []
    assert opened.blocked == []


def test_rank_one_badge_is_on_top(browser, tmp_path):
    """Overlapping spots: no badge drawn over an area's #1 badge (labels stack in DOM order)."""
    from hotspots.outputs.maps import write_map
    from test_maps import _two_area_spots

    path = write_map(full_map(spots=_two_area_spots(), surface=None), tmp_path / "map.html")
    opened = open_page(browser, path)
    page = opened.page
    page.wait_for_function("document.querySelectorAll('.leaflet-tooltip .hs-b1').length == 2")
    covered = page.evaluate(
        """() => {
          const tips = [...document.querySelectorAll('.leaflet-tooltip')];
          const hit = (a, b) => !(a.right <= b.left || b.right <= a.left ||
                                  a.bottom <= b.top || b.bottom <= a.top);
          const out = [];
          tips.forEach((t, i) => {
            if (!t.querySelector('.hs-b1')) return;
            const r = t.getBoundingClientRect();
            tips.slice(i + 1).forEach(u => {  // later in the DOM = painted on top
              if (hit(r, u.getBoundingClientRect()) && !u.querySelector('.hs-b1'))
                out.push(u.innerText);
            });
          });
          return out;
        }"""
    )
    assert covered == []
    last = page.locator(".leaflet-tooltip .hs-b1").last.inner_text()
    assert "Basildon" in last and "Great Eastern Avenue" in last  # the force's #1 on top
    shoot(page, "map_overlap.png")
    assert opened.errors == [] and opened.blocked == []


def test_zone_circles_popups_and_labels(browser, tmp_path):
    """Zones are L.circle; a zone's popup is built on click from text nodes; labels (with a
    script-like place name shown as text) appear only at street zoom, for zones in view."""
    from hotspots.outputs.maps import write_map
    from hotspots.schema import LOCATION
    from test_maps import make_zones

    zones = make_zones().assign(**{LOCATION: [XSS, None, "Mill Lane", "Park Road"]})
    path = write_map(full_map(zones=zones, surface=None), tmp_path / "map.html")
    opened = open_page(browser, path)
    page = opened.page
    page.wait_for_function("document.querySelectorAll('path.hs-zone').length == 4")
    got = page.evaluate(
        f"""() => {{
      const m = {FIND_MAP};
      const out = [];
      m.eachLayer(l => {{
        if (l instanceof L.Circle && /hs-zone-overdue/.test(l.options.className || ''))
          out.push(l);
      }});
      const z = out[0];
      const labelsAtForceZoom = document.querySelectorAll('.hs-zone-label').length;
      z.openPopup();
      const pop = z.getPopup().getElement().querySelector('.leaflet-popup-content');
      const text = pop.innerText, scripts = pop.querySelectorAll('script').length;
      z.closePopup();
      return {{n: out.length, radius: z.getRadius(), labelsAtForceZoom, text, scripts}};
    }}"""
    )
    page.wait_for_timeout(400)  # let the popup's pan finish before zooming in
    page.evaluate(
        f"""() => {{
      const m = {FIND_MAP};
      m.eachLayer(l => {{
        if (l instanceof L.Circle && /hs-zone-overdue/.test(l.options.className || ''))
          m.setView(l.getLatLng(), 16, {{animate: false}});
      }});
    }}"""
    )
    assert got["n"] == 1 and got["radius"] == 400
    assert got["labelsAtForceZoom"] == 0
    assert "Cocoon zone" in got["text"] and XSS in got["text"] and got["scripts"] == 0
    assert "Due by\tSun 29 Jun 2025 10:00" in got["text"]
    page.wait_for_function("document.querySelectorAll('.hs-zone-label').length > 0")
    label = page.locator(".hs-zone-label", has_text="Z-B1").first
    assert XSS in label.inner_text() and label.locator("script").count() == 0
    shoot(page, "map_zone_labels.png")
    assert opened.errors == [] and opened.blocked == []


def test_large_surface_draws_as_image(browser, tmp_path, monkeypatch):
    import hotspots.outputs.maps as maps_module
    from hotspots.outputs.maps import write_map

    monkeypatch.setattr(maps_module, "SURFACE_IMAGE_CELLS", 100)
    path = write_map(full_map(), tmp_path / "map.html")
    opened = open_page(browser, path)
    page = opened.page
    page.wait_for_function("document.querySelectorAll('img.hs-surface-img').length == 1")
    assert page.evaluate("document.querySelector('img.hs-surface-img').naturalWidth") > 0
    shoot(page, "map_surface_image.png")
    assert opened.errors == [] and opened.blocked == []


def test_public_map_offline(browser, tmp_path):
    from hotspots.outputs.maps import write_map

    path = write_map(full_map(public=True), tmp_path / "map.html")
    opened = open_page(browser, path)
    opened.page.wait_for_function("document.querySelectorAll('path.hs-spot').length > 0")
    assert opened.page.locator("path.hs-address").count() == 0
    labels = opened.page.locator(".leaflet-control-layers-overlays").inner_text()
    assert "Addresses" not in labels
    shoot(opened.page, "map_public.png")
    assert opened.errors == [] and opened.blocked == []


def test_as_of_and_provenance_visible(browser, tmp_path):
    from hotspots.outputs.maps import write_map

    path = write_map(full_map(), tmp_path / "map.html")
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
        make_zones(), make_visits(), tmp_path, as_of=AS_OF, provenance=PROVENANCE
    )
    opened = open_page(browser, pages["Chelmsford"], width=900, height=1200)
    page = opened.page
    assert page.locator("section.zone").count() == 2
    assert page.locator("section.zone svg path.zone-ring").count() == 2
    assert page.locator("svg circle.home.mandatory").count() == 4  # 3 in Z-B1, 1 in Z-B2
    assert page.locator("section.zone .box").count() == 6
    assert XSS in page.locator("table.mand").first.inner_text()  # shown as text
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "cocoon_list.png"), full_page=True)
    page.pdf(path=str(ARTIFACTS / "cocoon_list.pdf"), format="A4")
    assert opened.errors == [] and opened.blocked == []


def test_briefing_renders_offline(browser, tmp_path):
    from test_briefing import write

    write(tmp_path)
    opened = open_page(browser, tmp_path / "briefing.html", width=900, height=1200)
    assert opened.page.locator("table.spots tbody tr").count() == 5
    assert opened.page.locator("table.zones tbody tr").count() == 2
    ARTIFACTS.mkdir(exist_ok=True)
    opened.page.screenshot(path=str(ARTIFACTS / "briefing.png"), full_page=True)
    assert opened.errors == [] and opened.blocked == []


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    """The demo town's weekly run (about 10 s), written once for the demo tests."""
    from hotspots.demo import DISTRICT_FIELD, generate_town, write_town
    from hotspots.pipeline import WeeklySettings, run_weekly

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: apt-get install chromium to run browser tests")
    out = tmp_path_factory.mktemp("demo")
    town = generate_town(seed=20261124)
    files = write_town(town, out / "data")
    settings = WeeklySettings.from_mapping(
        {
            "as_of": f"{town.as_of:%Y-%m-%d}",
            "areas": files["districts"],
            "area_field": DISTRICT_FIELD,
            "addresses": files["addresses"],
            "visits": files["visits"],
            "patrols": files["patrols"],
            "seed": 20261124,  # default output options: no tiles, Leaflet inlined
        }
    )
    return run_weekly([files["incidents"]], out=out / "weekly", settings=settings).out_dir


def _features(path: Path) -> int:
    import json

    return len(json.loads(path.read_text(encoding="utf-8"))["features"])


def test_demo_map_offline_at_force_and_town_zoom(browser, demo_out):
    opened = open_page(browser, demo_out / "map.html", width=1400, height=900)
    page = opened.page
    page.wait_for_function("document.querySelectorAll('path.hs-spot').length > 0")
    assert page.locator("path.hs-spot").count() == _features(demo_out / "harm_spots.geojson")
    assert page.locator("path.hs-zone").count() == _features(demo_out / "cocoon_zones.geojson")
    assert page.locator(".leaflet-tooltip .hs-b1").count() >= 1  # each area's top spot
    shoot(page, "demo_map_force.png")
    zoom_to_top_spot(page)
    # at town zoom the place names and zone labels are shown, small badges too
    assert not page.evaluate(f"{FIND_MAP}.getContainer().classList.contains('hs-zoom-lt14')")
    shoot(page, "demo_map_town.png")
    page.evaluate(f"() => {{ {FIND_MAP}.setZoom(11, {{animate: false}}); }}")
    page.wait_for_timeout(200)
    assert page.evaluate(f"{FIND_MAP}.getContainer().classList.contains('hs-zoom-lt12')")
    shoot(page, "demo_map_county.png")
    assert opened.errors == [] and opened.blocked == []


def test_demo_lists_and_reports_offline(browser, demo_out):
    pages = sorted((demo_out / "cocoon_lists").glob("*.html"))
    reports = sorted(p for p in demo_out.glob("*.html") if p.name != "map.html")
    assert pages
    assert {"briefing.html", "knox.html"} <= {p.name for p in reports}
    for path in [*pages, *reports]:
        opened = open_page(browser, path, width=900, height=1200)
        if path.parent.name == "cocoon_lists":
            assert opened.page.locator("section.zone, section.visited").count() >= 1, path.name
        shoot(opened.page, f"demo_{path.stem}.png")
        assert opened.errors == [], (path.name, opened.errors)
        assert opened.blocked == [], (path.name, opened.blocked)


def test_hotspots_demo_command_is_offline_by_default(browser, tmp_path, capsys):
    """``hotspots demo`` as the README runs it (no flags): no page asks the network."""
    from hotspots.cli import main

    out = tmp_path / "demo"
    with pytest.raises(SystemExit) as done:
        main(["demo", "--out", str(out), "--homes", "2000"])
    assert done.value.code == 0, capsys.readouterr().err
    pages = [out / "map.html", out / "briefing.html"]
    pages += sorted((out / "cocoon_lists").glob("*.html"))[:1]
    for path in pages:
        opened = open_page(browser, path, width=1280, height=900)
        assert opened.errors == [], (path.name, opened.errors)
        assert opened.blocked == [], (path.name, opened.blocked)
    opened = open_page(browser, out / "map.html")
    opened.page.wait_for_function("document.querySelectorAll('path.hs-spot').length > 0")
    assert opened.page.locator("img.leaflet-tile").count() == 0


@pytest.mark.realdata
@pytest.mark.slow
def test_essex_weekly_map_and_list_in_chromium(browser, tmp_path):
    """The Essex 2025 weekly run: every spot and live zone drawn, < 5 MB, no errors."""
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
        }
    )
    result = run_weekly([data], out=tmp_path / "essex", settings=settings)
    out = result.out_dir
    n_spots = _features(out / "harm_spots.geojson")
    n_zones = _features(out / "cocoon_zones.geojson")
    assert n_spots > 0 and n_zones > 0
    assert (out / "map.html").stat().st_size < 5_000_000
    opened = open_page(browser, out / "map.html", width=1400, height=900)
    page = opened.page
    page.wait_for_function("document.querySelectorAll('path.hs-spot').length > 0")
    assert page.locator("path.hs-spot").count() == n_spots
    assert page.locator("path.hs-zone").count() == n_zones
    assert page.locator(".leaflet-tooltip .hs-b1").count() == 14  # one top spot per district
    shoot(page, "essex_map_force.png")
    zoom_to_top_spot(page)
    shoot(page, "essex_map_town.png")
    assert opened.errors == [] and opened.blocked == []
    for path in sorted((out / "cocoon_lists").glob("*.html")):
        listed = open_page(browser, path, width=900, height=1200)
        assert listed.page.locator("section.zone, section.visited").count() >= 1
        if path.stem == "basildon":
            shoot(listed.page, "essex_basildon_list.png")
        assert listed.errors == [] and listed.blocked == []
