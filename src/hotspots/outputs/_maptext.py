"""Text of the map and list pages: escaping, number and date formats, popups, footers.

Every text that comes from data goes through :func:`esc` (HTML and Jinja safe). Popups
are built here from named columns only, never raw rows; :class:`LiteralScript` keeps
folium from compiling rendered layer scripts (data included) as templates again.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from functools import cache
from importlib.resources import files
from types import SimpleNamespace
from typing import Any

import pandas as pd
from branca.element import Element

from hotspots.outputs.public import PUBLIC_CELL_M, SMALL_COUNT
from hotspots.schema import (
    AREA_NAME,
    AREA_RANK,
    DUE_BY,
    EXPIRES_ON,
    HARM_PER_HA,
    HARM_PREVIOUS,
    HARM_SHARE,
    HARM_TOTAL,
    LOCATION,
    N_HOMES,
    N_INCIDENTS,
    N_OVERLAPPING,
    OCCURRED_AT,
    OFFENCE_MIX,
    PEAK_WINDOWS,
    PLACE_NAME,
    PLANNED_VISITS,
    RANK,
    SPOT_ID,
    STATUS,
    TREND,
    ZONE_ID,
    ZONE_MONTH_DATES,
)

__all__ = [
    "MAP_DECIMALS",
    "LiteralScript",
    "PUBLIC_CELL_M",
    "SMALL_COUNT",
    "burglary_when",
    "column_values",
    "esc",
    "fmt_count",
    "fmt_date",
    "fmt_num",
    "fmt_time",
    "harm_unit",
    "isna",
    "marking_for",
    "plain",
    "plain_count",
    "plain_when",
    "popup_table",
    "provenance_lines",
    "public_mix",
    "render_page",
    "spot_popups",
    "template_text",
    "zone_fields",
]

MAP_DECIMALS = 6  # about 0.1 m: plenty for a web map, and keeps the page small


@cache
def template_text(name: str) -> str:
    """Text of a file in ``hotspots/outputs/templates`` (package data: CSS, JavaScript)."""
    return files("hotspots.outputs").joinpath("templates", name).read_text(encoding="utf-8")


@cache
def _jinja() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FunctionLoader(template_text),
        autoescape=True,
        trim_blocks=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render_page(name: str, **context: Any) -> str:
    """Render the autoescaped Jinja2 template ``templates/<name>``.

    Every value is escaped unless wrapped in ``markupsafe.Markup`` (only markup built
    here from numbers and escaped text, such as the zone maps' SVG, is).
    """
    return str(_jinja().get_template(name).render(**context))


def isna(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# folium renders each layer's script and then compiles the result again as a Jinja
# template, so a data text holding "{{ ... }}" would be evaluated and "{% x" would stop
# the page rendering. Braces become character references: the browser shows them as is.
_BRACES = str.maketrans({"{": "&#123;", "}": "&#125;"})


def esc(value: object) -> str:
    """HTML-escaped text of ``value``; a missing value becomes an en dash.

    Besides ``& < > " '``, braces are escaped (``&#123;``, ``&#125;``) so that no data
    text can act as a Jinja template inside folium's page.
    """
    if value is None or (not isinstance(value, str) and isna(value)) or value == "":
        return "\u2013"
    return html.escape(str(value), quote=True).translate(_BRACES)


class _Literal(Element):
    """Page text that goes out exactly as given (not compiled as a Jinja template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class LiteralScript:
    """Mixin for a folium layer whose rendered script is put in the page as is.

    branca wraps every rendered script in a new ``Element``, which compiles it again as
    a Jinja template: for a layer holding megabytes of GeoJSON that second compile is
    most of ``write_map``'s time, and it would evaluate any template syntax in the data.
    Here the layer renders as usual with an empty script, which is then replaced, in
    place (same order in the page), by the script text rendered once.
    """

    _template: Any

    def render(self, **kwargs: Any) -> None:
        real = self._template
        macros = dict(real.module.__dict__)
        script = macros.get("script")
        if script is None:
            super().render(**kwargs)  # type: ignore[misc]
            return
        macros["script"] = lambda this, kw: ""
        self._template = SimpleNamespace(module=SimpleNamespace(**macros))
        try:
            super().render(**kwargs)  # type: ignore[misc]
        finally:
            self._template = real
        text = str(script(self, {}))
        # a compiled template drops one trailing newline: keep the page as it was
        text = text[:-1] if text.endswith("\n") else text
        self.get_root().script._children[self.get_name()] = _Literal(text)  # type: ignore[attr-defined]


_MONTH_POINT = {"start": "start", "mid": "middle", "end": "end"}


def burglary_when(occurred: object, month_dates: object) -> str:
    """Burglary date, saying so when it was dated from month-only data."""
    when = fmt_date(occurred)
    if isinstance(month_dates, str) and month_dates:
        point = _MONTH_POINT.get(month_dates, month_dates)
        when += f" (month-only data: dated at the {esc(point)} of the month)"
    return when


def fmt_count(value: object, *, public: bool) -> str:
    """A count as text; in public mode counts 1-2 become ``<3`` (escaped)."""
    if value is None or isna(value):
        return "not known"
    n = int(value)  # type: ignore[call-overload]
    if public and 0 < n < SMALL_COUNT:
        return f"&lt;{SMALL_COUNT}"
    return f"{n:,}"


def fmt_num(value: object, *, digits: int = 0) -> str:
    """A number with thousands separators, or an en dash when missing."""
    if value is None or isna(value):
        return "\u2013"
    return f"{float(value):,.{digits}f}"  # type: ignore[arg-type]


def fmt_date(value: object) -> str:
    """``Mon 02 Jun 2025`` (British order), or an en dash."""
    if value is None or isna(value):
        return "\u2013"
    return pd.Timestamp(value).strftime("%a %d %b %Y")  # type: ignore[arg-type]


def fmt_time(value: object) -> str:
    """``Mon 02 Jun 2025 14:30``, or an en dash."""
    if value is None or isna(value):
        return "\u2013"
    return pd.Timestamp(value).strftime("%a %d %b %Y %H:%M")  # type: ignore[arg-type]


_MIX_COUNT = re.compile(r"(:\s*)(\d+)")


def public_mix(text: object, *, public: bool) -> str:
    """Escaped offence-mix text; in public mode counts 1-2 in it become ``<3``."""
    out = esc(text)
    if not public:
        return out

    def sub(match: re.Match[str]) -> str:
        n = int(match.group(2))
        return match.group(1) + (f"&lt;{SMALL_COUNT}" if 0 < n < SMALL_COUNT else match.group(2))

    return _MIX_COUNT.sub(sub, out)


def marking_for(provenance: Mapping[str, Any], *, public: bool) -> str:
    """Protective marking for a page header."""
    if bool(provenance.get("synthetic")) or provenance.get("command") == "demo":
        return "SYNTHETIC DATA \u2013 NOT FOR OPERATIONAL USE"
    if public:
        return "OFFICIAL \u2013 public version: locations generalised, no personal data"
    return "OFFICIAL-SENSITIVE \u2013 locations near victims' homes; do not share outside the force"


def _plain(value: Any) -> str:
    if isinstance(value, Mapping):
        name = value.get("name") or value.get("id") or value.get("table")
        version = value.get("version")
        return " ".join(str(v) for v in (name, version) if v) or json.dumps(value, default=str)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def provenance_lines(provenance: Mapping[str, Any]) -> tuple[str, list[str]]:
    """Escaped one-line summary and detail lines (run time, parameters, inputs) for a footer."""
    software = provenance.get("software") or {}
    version = software.get("version", "?") if isinstance(software, Mapping) else software
    dmin, dmax = provenance.get("date_min"), provenance.get("date_max")
    span = (
        f"{esc(_plain(dmin))[:10]} to {esc(_plain(dmax))[:10]}"
        if dmin is not None or dmax is not None
        else "not recorded"
    )
    harm = provenance.get("harm_table")
    harm_text = f" \u00b7 harm table {esc(_plain(harm))}" if harm else ""  # none: harm unused
    summary = f"Data {span}{harm_text} \u00b7 hotspots {esc(version)}"
    details = []
    if provenance.get("run_at"):
        details.append(f"Run at {esc(provenance['run_at'])}")
    params = provenance.get("parameters") or {}
    if params:
        details.append(
            "Parameters: "
            + "; ".join(
                f"{esc(k)}={esc(_plain(v))}" for k, v in sorted(params.items()) if v is not None
            )
        )
    inputs = provenance.get("inputs") or []
    if inputs:
        details.append(
            "Inputs: "
            + ", ".join(esc(i.get("file", i)) if isinstance(i, Mapping) else esc(i) for i in inputs)
        )
    return summary, details


def popup_table(rows: Sequence[tuple[str, str]]) -> str:
    """Two-column popup table; values must already be escaped."""
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<table class='hs-pop'>{body}</table>"


def column_values(frame: pd.DataFrame, name: str) -> list[Any]:
    return frame[name].tolist() if name in frame.columns else [None] * len(frame)


def harm_unit(provenance: Mapping[str, Any]) -> str:
    """Unit of the harm values: CCHI days for a Cambridge Crime Harm Index table."""
    return "CCHI days" if "cchi" in _plain(provenance.get("harm_table", "")).lower() else "harm"


def spot_popups(spots: pd.DataFrame, *, public: bool, dropped: bool, unit: str) -> list[str]:
    out = []
    cols = {
        c: column_values(spots, c)
        for c in (
            SPOT_ID,
            RANK,
            AREA_RANK,
            AREA_NAME,
            HARM_TOTAL,
            HARM_SHARE,
            N_INCIDENTS,
            HARM_PER_HA,
            HARM_PREVIOUS,
            TREND,
            STATUS,
            OFFENCE_MIX,
            PEAK_WINDOWS,
            PLANNED_VISITS,
            PLACE_NAME,
            LOCATION,
        )
    }
    for i in range(len(spots)):
        v = {c: vals[i] for c, vals in cols.items()}
        share = "\u2013" if isna(v[HARM_SHARE]) else f"{100 * float(v[HARM_SHARE]):.1f}%"
        local = v[AREA_RANK] if not isna(v[AREA_RANK]) else v[RANK]
        head = (
            f"<b>Dropped harm spot</b> (was rank {esc(v[RANK])})"
            if dropped
            else f"<b>Harm spot #{esc(local)} in {esc(v[AREA_NAME])}</b>"
        )
        place = v[PLACE_NAME] if isinstance(v[PLACE_NAME], str) and v[PLACE_NAME] else v[LOCATION]
        if isinstance(place, str) and place.strip():
            head += f"<div class='hs-place'>{esc(place)}</div>"
        rows = [
            (
                "Area",
                f"{esc(v[AREA_NAME])} (rank {esc(v[AREA_RANK])} there; {esc(v[RANK])} overall)",
            ),
            ("Harm", f"{fmt_num(v[HARM_TOTAL])} {esc(unit)} ({share} of all harm)"),
            ("Incidents", fmt_count(v[N_INCIDENTS], public=public)),
            ("Harm per ha", fmt_num(v[HARM_PER_HA], digits=1)),
            ("Previous period", f"{fmt_num(v[HARM_PREVIOUS])} (trend {esc(v[TREND])})"),
            ("Status", esc(v[STATUS])),
            ("Offence mix", public_mix(v[OFFENCE_MIX], public=public)),
            ("Peak windows", esc(v[PEAK_WINDOWS])),
        ]
        if not dropped:
            rows.append(
                (
                    "Planned visits",
                    fmt_count(v[PLANNED_VISITS], public=False)
                    if PLANNED_VISITS in spots.columns
                    else "see patrol_plan.csv",
                )
            )
        if "point_layers" in spots.columns and not public:  # --layer counts in the spot
            rows.append(("Other layers", esc(spots["point_layers"].iloc[i])))
        rows.append(("Spot id", esc(v[SPOT_ID])))
        out.append(head + popup_table(rows))
    return out


def plain(value: object) -> str:
    """Plain text of ``value`` for a text node in the browser; a missing value is an en dash.

    Not escaped: the map's compact layers insert it with ``textContent``, never as HTML.
    """
    if value is None or (not isinstance(value, str) and isna(value)) or value == "":
        return "\u2013"
    return str(value)


def plain_count(value: object, *, public: bool) -> str:
    """A count as plain text; in public mode counts 1-2 become ``<3``."""
    if value is None or isna(value):
        return "not known"
    n = int(value)  # type: ignore[call-overload]
    if public and 0 < n < SMALL_COUNT:
        return f"<{SMALL_COUNT}"
    return f"{n:,}"


def plain_when(occurred: object, month_dates: object) -> str:
    """:func:`burglary_when` as plain text (for a text node)."""
    when = fmt_date(occurred)
    if isinstance(month_dates, str) and month_dates:
        point = _MONTH_POINT.get(month_dates, month_dates)
        when += f" (month-only data: dated at the {point} of the month)"
    return when


def zone_fields(zones: pd.DataFrame, *, public: bool) -> list[tuple[str, list[str]]]:
    """The rows of each zone's popup as (label, plain text per zone), in popup order.

    Public mode leaves out the burgled home's location and the zone id, and shows
    counts of 1-2 as ``<3``.
    """
    v = {
        c: column_values(zones, c)
        for c in (
            ZONE_ID,
            OCCURRED_AT,
            DUE_BY,
            EXPIRES_ON,
            STATUS,
            AREA_NAME,
            N_HOMES,
            N_OVERLAPPING,
            ZONE_MONTH_DATES,
            LOCATION,
        )
    }
    seen = {"visited": "yes", "active": "not known (no visit log)"}
    fields = [
        (
            "Burglary",
            [plain_when(w, m) for w, m in zip(v[OCCURRED_AT], v[ZONE_MONTH_DATES], strict=True)],
        ),
        *([] if public else [("Where", [plain(x) for x in v[LOCATION]])]),
        ("Due by", [fmt_time(x) for x in v[DUE_BY]]),
        ("Expires", [fmt_date(x) for x in v[EXPIRES_ON]]),
        ("Status", [plain(x) for x in v[STATUS]]),
        ("Visited", [seen.get(x, "no") for x in v[STATUS]]),
        ("Homes in zone", [plain_count(x, public=public) for x in v[N_HOMES]]),
        ("Overlapping zones", [plain_count(x, public=public) for x in v[N_OVERLAPPING]]),
        ("Area", [plain(x) for x in v[AREA_NAME]]),
    ]
    if not public:
        fields.append(("Zone", [plain(x) for x in v[ZONE_ID]]))
    return fields
