"""Backtest outputs: tables, PNG plots and one self-contained HTML page.

The HTML page escapes every value taken from data or options and embeds its images as
base64 ``data:`` URIs, so it can be e-mailed or opened offline as a single file.
"""

from __future__ import annotations

import base64
import html
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


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False, name=None)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _band_table(bands: pd.DataFrame) -> pd.DataFrame:
    """Burglaries by distance band (rows) and time band (columns), bands in their order."""
    time_order = list(dict.fromkeys(bands["time_band"]))
    dist_order = list(dict.fromkeys(bands["distance_band"]))
    wide = bands.pivot(index="distance_band", columns="time_band", values="n_burglaries")
    wide = wide.reindex(index=dist_order, columns=time_order)
    wide.columns.name = None
    return wide.reset_index()


def render_html(
    result: BacktestResult,
    *,
    images: Mapping[str, bytes],
    provenance: Mapping[str, Any],
    cocoon: CocoonBacktestResult | None = None,
    title: str = "Backtest of harm-spot methods",
) -> str:
    """The evaluation page as one HTML string (escaped; images inlined as base64)."""
    esc = html.escape
    p = result.parameters
    summary = result.summary.copy()
    summary["coverage"] = [f"{c * 100:g}%" for c in summary["coverage"]]
    summary = summary.rename(columns=METRIC_LABELS)
    imgs = "".join(
        f'<figure><img alt="{esc(name)}" src="data:image/png;base64,'
        f'{base64.b64encode(data).decode("ascii")}"><figcaption>{esc(name)}</figcaption></figure>'
        for name, data in images.items()
    )
    notes = "".join(f"<li>{esc(n)}</li>" for n in result.notes) or "<li>None.</li>"
    study = result.study
    periods = result.periods
    intro = (
        f"{len(periods)} {esc(str(p['period']))} periods from "
        f"{esc(_fmt(periods['period_start'].min()))} to "
        f"{esc(_fmt(periods['period_start'].max()))}; look-back {esc(str(p['lookback_days']))} "
        f"days; offences {esc(', '.join(p['offences']) if p['offences'] else 'all')}; "
        f"{esc(str(study['n_cells']))} cells of {esc(_fmt(study['cell_m']))} m "
        f"({esc(_fmt(study['area_km2']))} km², {esc(str(study['source']))}); seed "
        f"{esc(str(p['seed']))}."
    )
    cocoon_html = ""
    if cocoon is not None:
        s = cocoon.summary
        cocoon_html = (
            "<h2>Cocoons</h2><p>"
            f"{s['n_in_live_zone']:,} of {s['n_burglaries']:,} burglaries "
            f"({esc(_fmt(s['share_in_live_zone'] * 100))}%) fell inside a zone opened by an "
            f"earlier burglary within {esc(_fmt(cocoon.parameters['radius_m']))} m and "
            f"{esc(str(cocoon.parameters['window_days']))} days; mean live zone area "
            f"{esc(_fmt(s['mean_live_area_km2']))} km², "
            f"{esc(_fmt(s['hits_per_km2_week']))} burglaries per km² of live zone per week, "
            f"PAI {esc(_fmt(s['pai']))}.</p>"
            "<h3>By distance and time band of the nearest live zone</h3>"
            + _table(_band_table(cocoon.bands))
        )
    version = esc(str(provenance.get("software", {}).get("version", "")))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}}
table{{border-collapse:collapse;font-size:0.85em;margin:1em 0}}
th,td{{border:1px solid #ccc;padding:0.25em 0.5em;text-align:right}}
th{{background:#f0f0f0}} figure{{display:inline-block;margin:0.5em}} img{{max-width:100%}}
</style></head><body>
<h1>{esc(title)}</h1>
<p>{intro}</p>
<p>Hit rate: share of next-period incidents inside the chosen cells; PAI: hit rate / area
share (Chainey et al. 2008); PEI: PAI / best possible PAI at that coverage (Hunt 2016);
RRI: (spot share after / before) / (total after / before) (Levine 2008); stability: share
of this period's cells also chosen in the previous period; random filler: share of the chosen
cells a method could not rank (lowest score; picked by its tie-breaker, else at random with
the seed).</p>
<h2>Summary (means over periods)</h2>
{_table(summary)}
{imgs}
{cocoon_html}
<h2>Notes</h2><ul>{notes}</ul>
<p><small>hotspots {version}; full parameters and input hashes in run.json.</small></p>
</body></html>
"""


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
