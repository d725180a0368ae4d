"""Printable comparison table (Jinja2, autoescaped, A4 landscape) and the monthly PNG."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hotspots.outputs.files import write_text
from hotspots.reports._compare import ALL_AREAS, ALL_CRIME, ROW_TYPE
from hotspots.schema import AREA_NAME, HARM, OFFENCE

__all__ = ["render_compare_html", "render_template", "write_html", "write_monthly_png"]


def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("hotspots.outputs", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_template(name: str, **context: Any) -> str:
    """Render a package template (``hotspots/outputs/templates/<name>``), autoescaped."""
    return str(_environment().get_template(name).render(**context))


def _num(value: Any, digits: int = 0) -> str:
    if value is None or pd.isna(value):
        return "-"
    return f"{float(value):,.{digits}f}"


def _signed(value: Any, digits: int = 0) -> str:
    if value is None or pd.isna(value):
        return "-"
    return f"{float(value):+,.{digits}f}"


def _direction(value: Any) -> str:
    if value is None or pd.isna(value) or float(value) == 0:
        return ""
    return "up" if float(value) > 0 else "down"


def _rows(frame: pd.DataFrame, *, name_col: str, cur: str, cmp: str) -> list[dict[str, str]]:
    out = []
    for rec in frame.to_dict("records"):
        out.append(
            {
                "name": str(rec[name_col]),
                "count_cur": _num(rec[f"count_{cur}"]),
                "count_cmp": _num(rec[f"count_{cmp}"]),
                "count_change": _signed(rec["count_change"]),
                "count_pct": _signed(rec["count_change_pct"], 1),
                "count_dir": _direction(rec["count_change"]),
                "harm_cur": _num(rec[f"harm_{cur}"]),
                "harm_cmp": _num(rec[f"harm_{cmp}"]),
                "harm_change": _signed(rec["harm_change"]),
                "harm_pct": _signed(rec["harm_change_pct"], 1),
                "harm_dir": _direction(rec["harm_change"]),
            }
        )
    return out


def render_compare_html(
    table: pd.DataFrame,
    *,
    current: Mapping[str, Any],
    comparison: Mapping[str, Any],
    headlines: Mapping[str, str],
    harm_unit: str,
    footer: str,
    title: str = "Recorded crime and harm: period comparison",
) -> str:
    """The printable comparison: one A4 page for the area set, then one page per area.

    The first page has one row per area (its ``All crime`` total) and the overall total;
    each further page lists one area's offence categories and its total. All text is
    HTML-escaped by Jinja2's autoescape.
    """
    cur, cmp = str(current["label"]), str(comparison["label"])
    kw = {"cur": cur, "cmp": cmp}
    cats = table[table[ROW_TYPE] == "category"]
    areas = list(dict.fromkeys(cats[AREA_NAME]))
    overall = table[(table[ROW_TYPE] == "overall") & (table[OFFENCE] == ALL_CRIME)]
    pages = []
    if len(areas) > 1:
        totals = table[table[ROW_TYPE] == "area_total"]
        pages.append(
            {
                "heading": "All areas",
                "first_column": "Area",
                "note": f"{len(areas)} areas.",
                "rows": _rows(totals, name_col=AREA_NAME, **kw),
                "total": _rows(overall.assign(**{AREA_NAME: ALL_AREAS}), name_col=AREA_NAME, **kw)[
                    0
                ],
                "headline": headlines.get(ALL_AREAS, ""),
            }
        )
        by_offence = table[(table[ROW_TYPE] == "overall") & (table[OFFENCE] != ALL_CRIME)]
        pages.append(
            {
                "heading": "All areas by offence category",
                "first_column": "Offence category",
                "note": "",
                "rows": _rows(by_offence, name_col=OFFENCE, **kw),
                "total": _rows(overall, name_col=OFFENCE, **kw)[0],
                "headline": "",
            }
        )
    for area in areas:
        rows = cats[cats[AREA_NAME] == area]
        if len(areas) > 1:
            total = table[(table[ROW_TYPE] == "area_total") & (table[AREA_NAME] == area)]
        else:
            total = overall
        pages.append(
            {
                "heading": str(area),
                "first_column": "Offence category",
                "note": "",
                "rows": _rows(rows, name_col=OFFENCE, **kw),
                "total": _rows(total, name_col=OFFENCE, **kw)[0],
                "headline": headlines.get(str(area), ""),
            }
        )
    template = _environment().get_template("compare.html.j2")
    return template.render(
        title=title,
        pages=pages,
        cur_label=str(current.get("short", current["description"])),
        cmp_label=str(comparison.get("short", comparison["description"])),
        cur_desc=f"{current['description']} ({current['start']} to {current['end']})",
        cmp_desc=f"{comparison['description']} ({comparison['start']} to {comparison['end']})",
        harm_unit=harm_unit,
        footer=footer,
    )


def write_monthly_png(series: pd.DataFrame, path: str | Path, *, harm_unit: str) -> Path:
    """Monthly harm per area as a line chart (matplotlib, Agg backend, imported here)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    months = list(dict.fromkeys(series["month"]))
    areas = [a for a in dict.fromkeys(series[AREA_NAME]) if a != ALL_AREAS] or [ALL_AREAS]
    fig, ax = plt.subplots(figsize=(11.0, 6.0), dpi=100)
    palette = plt.get_cmap("tab20")
    ax.set_prop_cycle(color=[palette(i) for i in range(20)])
    x = np.arange(len(months))
    # months that do not follow on (Jan-Apr 2024 then Jan-Apr 2025) are not joined by a line
    stamps = pd.PeriodIndex(months, freq="M")
    gap = np.r_[False, np.diff(stamps.asi8) != 1]
    for area in areas:
        values = series.loc[series[AREA_NAME] == area, HARM].to_numpy(dtype="float64")
        xs = np.insert(x.astype("float64"), np.flatnonzero(gap), np.nan)
        ys = np.insert(values, np.flatnonzero(gap), np.nan)
        ax.plot(xs, ys, marker="o", markersize=2.5, linewidth=1.2, label=area)
    step = max(1, len(months) // 12)
    ax.set_xticks(x[::step], months[::step], rotation=45, ha="right")
    ax.set_ylabel(f"Harm per month ({harm_unit})")
    ax.set_title("Monthly crime harm by area")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    target = Path(path)
    from hotspots.outputs.files import atomic_path

    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(fig)
    return target


def write_html(path: str | Path, html: str) -> Path:
    """Write the rendered page atomically."""
    return write_text(path, html)
