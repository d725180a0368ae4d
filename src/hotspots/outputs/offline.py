"""Offline maps: inline the Leaflet, jQuery, Bootstrap and Font Awesome files folium links to.

folium pages load their JavaScript and CSS from public CDNs, which a police network often
cannot reach. :func:`inline_assets` replaces every external ``<script src>`` and
``<link rel="stylesheet" href>`` by the content of a local copy, and turns the images and
fonts those style sheets point at into ``data:`` URIs, so the page needs no network at
all (map tiles apart: use ``tiles=False`` on a closed network).

The local folder is filled by ``scripts/fetch-offline-assets DIR`` from the npm packages.
The file names it must hold (``ASSET_FILES``), by the URL folium 0.20 emits:

==============================================  ======================================
folium URL (basename)                           local file
==============================================  ======================================
leaflet@1.9.3 ``leaflet.js``                    ``leaflet.js``
leaflet@1.9.3 ``leaflet.css``                   ``leaflet.css`` (+ ``images/*.png``)
``jquery-3.7.1.min.js``                         ``jquery.min.js``
bootstrap@5.2.2 ``bootstrap.bundle.min.js``     ``bootstrap.bundle.min.js``
bootstrap@5.2.2 ``bootstrap.min.css``           ``bootstrap.min.css``
bootstrap 3 ``bootstrap-glyphicons.css``        ``bootstrap-glyphicons.css`` (+ ``fonts/``)
fontawesome-free@6.2.0 ``all.min.css``          ``fontawesome-all.min.css`` (+ ``webfonts/``)
Leaflet.awesome-markers 2.0.2 ``.js``/``.css``  ``leaflet.awesome-markers.js``/``.css``
folium ``leaflet.awesome.rotate.min.css``       ``leaflet.awesome.rotate.min.css``
==============================================  ======================================
"""

from __future__ import annotations

import base64
import mimetypes
import re
from pathlib import Path

from hotspots.errors import InputError

__all__ = ["ASSET_FILES", "FETCH_HINT", "asset_file_for", "inline_assets"]

FETCH_HINT = "run scripts/fetch-offline-assets {folder} (it copies them from the npm packages)"

# (pattern on the URL's last path segment, local file name); first match wins
_URL_TO_FILE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^leaflet\.js$"), "leaflet.js"),
    (re.compile(r"^leaflet\.css$"), "leaflet.css"),
    (re.compile(r"^jquery-[\d.]+(\.min)?\.js$"), "jquery.min.js"),
    (re.compile(r"^bootstrap\.bundle(\.min)?\.js$"), "bootstrap.bundle.min.js"),
    (re.compile(r"^bootstrap(\.min)?\.css$"), "bootstrap.min.css"),
    (re.compile(r"^bootstrap-glyphicons(\.min)?\.css$"), "bootstrap-glyphicons.css"),
    (re.compile(r"^all(\.min)?\.css$"), "fontawesome-all.min.css"),
    (re.compile(r"^leaflet\.awesome-markers(\.min)?\.js$"), "leaflet.awesome-markers.js"),
    (re.compile(r"^leaflet\.awesome-markers\.css$"), "leaflet.awesome-markers.css"),
    (re.compile(r"^leaflet\.awesome\.rotate(\.min)?\.css$"), "leaflet.awesome.rotate.min.css"),
)
ASSET_FILES: tuple[str, ...] = tuple(dict.fromkeys(name for _, name in _URL_TO_FILE))

_SCRIPT = re.compile(r"<script\s+src=\"(https?://[^\"]+)\"\s*>\s*</script>", re.IGNORECASE)
_LINK = re.compile(r"<link\s+rel=\"stylesheet\"\s+href=\"(https?://[^\"]+)\"\s*/?>", re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")


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
        mime = mimetypes.guess_type(rel)[0] or (
            "font/woff2" if rel.endswith(".woff2") else "application/octet-stream"
        )
        if rel.endswith(".woff2"):
            mime = "font/woff2"
        return f'url("data:{mime};base64,{base64.b64encode(data).decode("ascii")}")'

    return _CSS_URL.sub(sub, css)


def inline_assets(html: str, folder: str | Path) -> str:
    """Return ``html`` with every external script and style sheet inlined from ``folder``.

    Parameters
    ----------
    html
        A rendered folium page.
    folder
        Folder filled by ``scripts/fetch-offline-assets`` (file names in ``ASSET_FILES``).

    Returns
    -------
    str
        The page with no ``<script src="http...">`` or ``<link href="http...">`` left.

    Raises
    ------
    InputError
        The folder lacks a file, or the page links to a URL with no known local copy;
        the message names the file and how to fetch it.
    """
    folder = Path(folder)
    if not folder.is_dir():
        msg = f"Offline asset folder {folder} does not exist; {FETCH_HINT.format(folder=folder)}."
        raise InputError(msg)

    def local(url: str) -> str:
        name = asset_file_for(url)
        if name is None:
            msg = (
                f"The map links to {url}, which has no offline copy in hotspots' asset list "
                f"{list(ASSET_FILES)}; remove that plugin or build the map without "
                f"--offline-assets."
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

    return _LINK.sub(link, _SCRIPT.sub(script, html))
