"""Backtest outputs: tables, PNG plots and one self-contained HTML page.

The HTML page comes from the autoescaped Jinja2 template ``outputs/templates/
evaluation.html.j2`` (every value from data or options is escaped) and embeds its images
as base64 ``data:`` URIs, so it can be e-mailed or opened offline as a single file.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from hotspots.evaluate.backtest import BacktestResult
from hotspots.evaluate.cocoons import CocoonBacktestResult
from hotspots.outputs.files import atomic_path, write_csv, write_text

__all__ = [
    "METRIC_LABELS",
    "harm_capture_figure",
    "pai_figure",
    "render_html",
    "write_evaluation_outputs",
]

METRIC_LABELS = {
    "area_share": "Area share",
    "hit_rate": "Hit rate",
    "harm_capture": "Harm capture",
    "pai": "PAI",
    "harm_pai": "Harm PAI",
    "pei": "PEI",
    "harm_pei": "Harm PEI",
    "rri": "RRI",
    "stability": "Stability",
    "filler_share": "Random filler",
}


_STUDY_AREA_TEXT = {
    "areas": "the areas layer (cells whose centre lies inside it)",
    "data extent": "data extent: the convex hull of every incident plus their cells "
    "(no --areas given; strays far from the force widen it)",
}


def _figure_module() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def pai_figure(result: BacktestResult, *, metric: str = "pai") -> Any:
    """Line plot of the mean ``metric`` by coverage, one line per method."""
    plt = _figure_module()
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for method, rows in result.summary.groupby("method", sort=False):
        ax.plot(rows["coverage"] * 100, rows[metric], marker="o", label=method)
    ax.set_xscale("log")
    ticks = sorted(result.summary["coverage"].unique() * 100)
    ax.set_xticks(ticks, [f"{t:g}%" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("Coverage (share of the study area)")
    ax.set_ylabel(f"Mean {METRIC_LABELS.get(metric, metric)} over periods")
    ax.set_title(f"{METRIC_LABELS.get(metric, metric)} by coverage")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def harm_capture_figure(result: BacktestResult, *, coverage: float | None = None) -> Any:
    """Harm capture per period for each method at one coverage (default the second level)."""
    plt = _figure_module()
    levels = sorted(result.summary["coverage"].unique())
    level = coverage if coverage is not None else levels[min(1, len(levels) - 1)]
    ev = result.evaluation
    rows = ev[(ev["metric"] == "harm_capture") & (ev["coverage"] == level)]
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=110)
    for method, part in rows.groupby("method", sort=False):
        ax.plot(
            pd.to_datetime(part["period_start"]).dt.tz_localize(None),
            part["value"] * 100,
            marker=".",
            label=method,
        )
    ax.set_ylabel("Harm captured (%)")
    ax.set_xlabel("Period start")
    ax.set_title(f"Harm capture over time at {level * 100:g}% coverage")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def _save_png(fig: Any, path: Path) -> bytes:
    plt = _figure_module()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    data = buffer.getvalue()
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return data


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    return str(value)


def _table(frame: pd.DataFrame) -> dict[str, Any]:
    """Column names and formatted rows for the template's ``table`` macro."""
    return {
        "columns": [str(c) for c in frame.columns],
        "rows": [[_fmt(v) for v in row] for row in frame.itertuples(index=False, name=None)],
    }


def _percent(value: float) -> str:
    return "-" if not math.isfinite(value) else f"{value:.1%}"


def _band_table(bands: pd.DataFrame) -> pd.DataFrame:
    """Burglaries by distance band (rows) and time band (columns), bands in their order."""
    time_order = list(dict.fromkeys(bands["time_band"]))
    dist_order = list(dict.fromkeys(bands["distance_band"]))
    wide = bands.pivot(index="distance_band", columns="time_band", values="n_burglaries")
    wide = wide.reindex(index=dist_order, columns=time_order)
    wide.columns.name = None
    return wide.reset_index()


def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        autoescape=True,
        loader=jinja2.PackageLoader("hotspots", "outputs/templates"),
        undefined=jinja2.StrictUndefined,
    )


def render_html(
    result: BacktestResult,
    *,
    images: Mapping[str, bytes],
    provenance: Mapping[str, Any],
    cocoon: CocoonBacktestResult | None = None,
    title: str = "Backtest of harm-spot methods",
) -> str:
    """The evaluation page as one HTML string (``evaluation.html.j2``, autoescaped).

    Images are inlined as base64; the study area is named beside every share of it.
    """
    p = result.parameters
    summary = result.summary.copy()
    summary["coverage"] = [f"{c * 100:g}%" for c in summary["coverage"]]
    summary = summary.rename(columns=METRIC_LABELS)
    study = result.study
    periods = result.periods
    months = p.get("lookback_months")
    lookback = f"{months} months" if months else f"{p['lookback_days']} days"
    intro = (
        f"{len(periods)} {p['period']} periods from {_fmt(periods['period_start'].min())} to "
        f"{_fmt(periods['period_start'].max())}; look-back {lookback}"
        f"{' (shortened to fit the data)' if p.get('lookback_adapted') else ''}; offences "
        f"{', '.join(p['offences']) if p['offences'] else 'all'}; seed {p['seed']}."
    )
    context: dict[str, Any] = {
        "title": title,
        "intro": intro,
        "study_area": _STUDY_AREA_TEXT.get(str(study["source"]), str(study["source"])),
        "study_km2": _fmt(float(study["area_km2"])),
        "n_cells": f"{study['n_cells']:,}",
        "cell_m": _fmt(float(study["cell_m"])),
        "summary": _table(summary),
        "images": [
            {"name": name, "data": base64.b64encode(data).decode("ascii")}
            for name, data in images.items()
        ],
        "notes": list(result.notes),
        "version": str(provenance.get("software", {}).get("version", "")),
        "cocoon": None,
    }
    if cocoon is not None:
        s = cocoon.summary
        per = cocoon.periods[
            ["period_start", "n_burglaries", "n_in_live_zone", "share_in_live_zone"]
            + ["live_area_km2", "area_share", "pai"]
        ].copy()
        for col in ("share_in_live_zone", "area_share"):
            per[col] = [_percent(v) for v in per[col]]
        per.columns = [
            "period start",
            "burglaries",
            "in a live zone",
            "share in a live zone",
            "live area km²",
            "share of study area",
            "PAI",
        ]
        context["cocoon"] = {
            "n_in": f"{s['n_in_live_zone']:,}",
            "n": f"{s['n_burglaries']:,}",
            "share": _fmt(s["share_in_live_zone"] * 100),
            "radius_m": _fmt(float(cocoon.parameters["radius_m"])),
            "window_days": str(cocoon.parameters["window_days"]),
            "area_km2": _fmt(s["mean_live_area_km2"]),
            "area_share": _percent(s["area_share"]),
            "pai": _fmt(s["pai"]),
            "hits_per_km2_week": _fmt(s["hits_per_km2_week"]),
            "periods": _table(per),
            "bands": _table(_band_table(cocoon.bands)),
        }
    return str(_environment().get_template("evaluation.html.j2").render(**context)).lstrip()


def write_evaluation_outputs(
    result: BacktestResult,
    out_dir: str | Path,
    *,
    provenance: Mapping[str, Any],
    cocoon: CocoonBacktestResult | None = None,
) -> dict[str, Path]:
    """Write evaluation.csv, summary.csv, the PNG plots and evaluation.html into ``out_dir``.

    With a cocoon result also cocoon_periods.csv and cocoon_bands.csv. run.json is the
    caller's (it holds the provenance of the whole command).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "evaluation.csv": write_csv(result.evaluation, out / "evaluation.csv"),
        "summary.csv": write_csv(result.summary, out / "summary.csv"),
    }
    images = {
        "PAI by coverage": _save_png(pai_figure(result), out / "pai_by_coverage.png"),
        "Harm capture over time": _save_png(
            harm_capture_figure(result), out / "harm_capture_over_time.png"
        ),
    }
    files["pai_by_coverage.png"] = out / "pai_by_coverage.png"
    files["harm_capture_over_time.png"] = out / "harm_capture_over_time.png"
    if cocoon is not None:
        files["cocoon_periods.csv"] = write_csv(cocoon.periods, out / "cocoon_periods.csv")
        files["cocoon_bands.csv"] = write_csv(cocoon.bands, out / "cocoon_bands.csv")
    page = render_html(result, images=images, provenance=provenance, cocoon=cocoon)
    files["evaluation.html"] = write_text(out / "evaluation.html", page)
    return files
