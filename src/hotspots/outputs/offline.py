"""Maps with no network: the page links to Leaflet only, and Leaflet is inlined from package data.

folium pages load Leaflet, jQuery, Bootstrap, Font Awesome and awesome-markers from public
CDNs, which a police network often cannot reach: the map is then blank. No hotspots layer
uses anything but Leaflet, so :func:`leaflet_only` drops the other files from a map, and
:func:`inline_assets` replaces the Leaflet ``<script src>`` and ``<link href>`` by the
package's own copy (``hotspots/outputs/assets``, Leaflet 1.9.3, BSD 2-Clause, licence
alongside), with the images the style sheet names as ``data:`` URIs. The page then makes
no external request at all (map tiles apart: the default is no tiles).

``cdn=True`` keeps the CDN links (smaller page, needs the internet). A folder of one's
own (``folder=``) may stand in for the package copy, e.g. a newer Leaflet from
``scripts/fetch-offline-assets DIR``.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

from hotspots.errors import InputError

__all__ = [
    "ASSET_FILES",
    "FETCH_HINT",
    "LEAFLET_CSS_URL",
    "LEAFLET_JS_URL",
    "LEAFLET_VERSION",
    "asset_dir",
    "asset_file_for",
    "external_urls",
    "inline_assets",
    "leaflet_only",
]

LEAFLET_VERSION = "1.9.3"
LEAFLET_JS_URL = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.js"
LEAFLET_CSS_URL = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.css"
FETCH_HINT = "run scripts/fetch-offline-assets {folder} (it copies them from the npm packages)"

# (pattern on the URL's last path segment, local file name); first match wins
_URL_TO_FILE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^leaflet\.js$"), "leaflet.js"),
    (re.compile(r"^leaflet\.css$"), "leaflet.css"),
)
ASSET_FILES: tuple[str, ...] = tuple(dict.fromkeys(name for _, name in _URL_TO_FILE))

_SCRIPT = re.compile(r"<script\s+src=\"(https?://[^\"]+)\"\s*>\s*</script>", re.IGNORECASE)
_LINK = re.compile(r"<link\s+rel=\"stylesheet\"\s+href=\"(https?://[^\"]+)\"\s*/?>", re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")
_EXTERNAL = re.compile(
    r"""<(?:script|img|iframe|source)\b[^>]*\ssrc\s*=\s*["']?(?:https?:)?//[^"'\s>]+"""
    r"""|<link\b[^>]*\shref\s*=\s*["']?(?:https?:)?//[^"'\s>]+"""
    r"""|url\(\s*["']?(?:https?:)?//[^"')]+""",
    re.IGNORECASE,
)


def asset_dir() -> Path:
    """Folder of the vendored Leaflet files (package data)."""
    return Path(str(files("hotspots.outputs").joinpath("assets")))


def leaflet_only(m: Any) -> Any:
    """Make ``m`` (a folium Map) link to Leaflet only, not to folium's other default files.

    Sets the instance's ``default_js``/``default_css`` (the class lists are untouched);
    returns ``m``. Use it on maps built here, whose layers need nothing else.
    """
    m.default_js = [("leaflet", LEAFLET_JS_URL)]
    m.default_css = [("leaflet_css", LEAFLET_CSS_URL)]
    return m


def external_urls(html: str) -> list[str]:
    """Every reference in ``html`` the browser would fetch from elsewhere when it loads.

    Scripts, images, frames and style sheets with an http(s) or ``//`` address, and CSS
    ``url(...)`` to one. Hyperlinks (``<a href>``, Leaflet's credit link) are not fetched
    and are not counted.
    """
    return [m.group(0) for m in _EXTERNAL.finditer(html)]


def asset_file_for(url: str) -> str | None:
    """Local file name that stands in for ``url``, or None when there is none."""
    base = url.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    for pattern, name in _URL_TO_FILE:
        if pattern.match(base):
            return name
    return None


def _read(folder: Path, name: str, *, needed_by: str) -> bytes:
    path = folder / name
    if not path.is_file():
        msg = (
            f"Offline asset {path} is missing (needed for {needed_by}); "
            f"{FETCH_HINT.format(folder=folder)}."
        )
        raise InputError(msg)
    return path.read_bytes()


def _inline_css_urls(css: str, folder: Path, *, css_name: str) -> str:
    """Replace relative ``url(...)`` references in a style sheet by ``data:`` URIs."""

    def sub(match: re.Match[str]) -> str:
        ref = match.group(2).strip()
        if ref.startswith(("data:", "#", "http:", "https:", "//")):
            return match.group(0)
        rel = ref.split("?", 1)[0].split("#", 1)[0]
        data = _read(folder, rel, needed_by=css_name)
        mime = mimetypes.guess_type(rel)[0] or "application/octet-stream"
        return f'url("data:{mime};base64,{base64.b64encode(data).decode("ascii")}")'

    return _CSS_URL.sub(sub, css)


def inline_assets(html: str, folder: str | Path | None = None) -> str:
    """Return ``html`` with its Leaflet script and style sheet inlined.

    Parameters
    ----------
    html
        A rendered folium page whose map went through :func:`leaflet_only`.
    folder
        Folder holding ``leaflet.js``, ``leaflet.css`` and ``images/``; default the
        package's own copy (:func:`asset_dir`).

    Returns
    -------
    str
        The page with no ``<script src="http...">`` or ``<link href="http...">`` left.

    Raises
    ------
    InputError
        The folder lacks a file, or the page links to a URL with no local copy (a
        plugin other than Leaflet); the message names it and how to fix it.
    """
    folder = asset_dir() if folder is None else Path(folder)
    if not folder.is_dir():
        msg = f"Offline asset folder {folder} does not exist; {FETCH_HINT.format(folder=folder)}."
        raise InputError(msg)

    def local(url: str) -> str:
        name = asset_file_for(url)
        if name is None:
            msg = (
                f"The map links to {url}, which has no offline copy (only {list(ASSET_FILES)} "
                f"are shipped); remove that plugin or write the map with cdn=True."
            )
            raise InputError(msg)
        return name

    def script(match: re.Match[str]) -> str:
        name = local(match.group(1))
        js = _read(folder, name, needed_by=match.group(1)).decode("utf-8")
        js = js.replace("</script", "<\\/script")
        return f'<script data-offline="{name}">\n{js}\n</script>'

    def link(match: re.Match[str]) -> str:
        name = local(match.group(1))
        css = _read(folder, name, needed_by=match.group(1)).decode("utf-8")
        css = _inline_css_urls(css, folder, css_name=name).replace("</style", "<\\/style")
        return f'<style data-offline="{name}">\n{css}\n</style>'

    # a callable replacement: the asset text is inserted as is (no backslash handling)
    return _LINK.sub(link, _SCRIPT.sub(script, html))
