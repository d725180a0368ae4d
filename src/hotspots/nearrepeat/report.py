"""Knox outputs: knox.csv, a heat table as HTML and PNG, and knox.json.

The heat table shows the Knox ratio of every distance x time cell; cells with
p < ``alpha`` and ratio >= ``min_ratio`` are outlined and marked with an asterisk.
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from hotspots.nearrepeat.knox import KnoxResult
from hotspots.outputs.files import atomic_path, write_csv, write_json, write_text

__all__ = ["knox_html", "write_knox_outputs"]

_ALPHA = 0.05
_MIN_RATIO = 1.2


def _colour(ratio: float) -> str:
    """Background for a Knox ratio: white at 1 or below, deepening red up to 2 and over."""
    if not math.isfinite(ratio) or ratio <= 1:
        return "#ffffff"
    share = min((ratio - 1.0) / 1.0, 1.0)
    g = round(255 - 175 * share)
    return f"#ff{g:02x}{g:02x}"


def _summary(result: KnoxResult) -> dict[str, Any]:
    return {
        "n_events": result.n_events,
        "n_close_pairs": result.n_close_pairs,
        "n_pairs_in_range": result.n_pairs_in_range,
        "n_permutations": result.n_permutations,
        "seed": result.seed,
        "metric": result.metric,
        "time_resolution": result.time_resolution,
        "distance_bands_m": list(result.distance_bands_m),
        "time_bands_days": list(result.time_bands_days),
        "same_location_m": result.same_location_m,
    }


def knox_html(
    result: KnoxResult,
    *,
    provenance: dict[str, Any] | None = None,
    alpha: float = _ALPHA,
    min_ratio: float = _MIN_RATIO,
) -> str:
    """Self-contained HTML page: summary, recommendation and the heat table."""
    rec = result.recommendation(alpha=alpha, min_ratio=min_ratio)
    sig = result.significant(alpha=alpha, min_ratio=min_ratio).to_numpy()
    esc = html.escape
    head = "".join(f"<th scope='col'>{esc(str(c))}</th>" for c in result.observed.columns)
    body = []
    for r, label in enumerate(result.observed.index):
        cells = []
        for c in range(result.observed.shape[1]):
            ratio = float(result.knox_ratio.iat[r, c])
            p = float(result.p_value.iat[r, c])
            obs = int(result.observed.iat[r, c])
            exp = float(result.expected.iat[r, c])
            ratio_txt = "n/a" if not math.isfinite(ratio) else f"{ratio:.2f}"
            cls = " class='sig'" if sig[r, c] else ""
            star = " *" if sig[r, c] else ""
            cells.append(
                f"<td{cls} style='background:{_colour(ratio)}' "
                f"title='observed {obs}, expected {exp:.1f}, p = {p:.3g}'>"
                f"<b>{ratio_txt}{star}</b><br><small>{obs} / {exp:.1f}<br>p = {p:.3g}</small></td>"
            )
        body.append(f"<tr><th scope='row'>{esc(str(label))}</th>{''.join(cells)}</tr>")
    rec_line = (
        f"Recommended cocoon: radius {rec['radius_m']:g} m, window {rec['window_days']:g} days."
        if rec["radius_m"] is not None
        else "No recommended radius or window (no near-repeat effect at the nearest, soonest band)."
    )
    facts = (
        f"{result.n_events:,} events, {result.n_pairs_in_range:,} pairs in the table, "
        f"{result.n_permutations} permutations (seed {result.seed}), {result.metric} distance, "
        f"{result.time_resolution} dates."
    )
    run = ""
    if provenance:
        version = provenance.get("software", {}).get("version", "")
        run_at = provenance.get("run_at", "")
        run = f"<p class='prov'>hotspots {esc(str(version))}, run at {esc(str(run_at))}.</p>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Knox test: near-repeat table</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #bbb; padding: .35rem .6rem; text-align: center; }}
th[scope=row] {{ text-align: right; white-space: nowrap; }}
td.sig {{ outline: 3px solid #111; outline-offset: -3px; }}
.prov {{ color: #666; font-size: .85em; }}
</style></head><body>
<h1>Knox test: near-repeat table</h1>
<p>{esc(rec["text"])}</p>
<p><strong>{esc(rec_line)}</strong></p>
<p>{esc(facts)}</p>
<p>Each cell: Knox ratio (observed / expected pairs), observed / expected count, p-value.
Outlined cells marked * have p &lt; {alpha:g} and ratio &ge; {min_ratio:g}.
Bands are closed on the right; the first band includes its lower edge.</p>
<table>
<thead><tr><th scope='col'>distance \\ time</th>{head}</tr></thead>
<tbody>
{chr(10).join(body)}
</tbody></table>
{run}
</body></html>
"""


def _write_png(result: KnoxResult, path: Path, *, alpha: float, min_ratio: float) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    ratio = result.knox_ratio.to_numpy(dtype="float64")
    sig = result.significant(alpha=alpha, min_ratio=min_ratio).to_numpy()
    n_rows, n_cols = ratio.shape
    fig = Figure(figsize=(1.3 * n_cols + 3, 0.7 * n_rows + 2), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    shown = np.where(np.isfinite(ratio), ratio, 1.0)
    top = max(2.0, float(shown.max()))
    image = ax.imshow(shown, cmap="Reds", vmin=1.0, vmax=top, aspect="auto")
    for r in range(n_rows):
        for c in range(n_cols):
            txt = "n/a" if not np.isfinite(ratio[r, c]) else f"{ratio[r, c]:.2f}"
            ax.text(
                c,
                r,
                txt + (" *" if sig[r, c] else ""),
                ha="center",
                va="center",
                fontsize=9,
                fontweight="bold" if sig[r, c] else "normal",
                color="white" if shown[r, c] > 1.0 + 0.6 * (top - 1.0) else "black",
            )
            if sig[r, c]:
                ax.add_patch(
                    Rectangle(
                        (c - 0.5, r - 0.5), 1, 1, fill=False, linewidth=2.5, edgecolor="black"
                    )
                )
    ax.set_xticks(
        range(n_cols), [str(x) for x in result.knox_ratio.columns], rotation=30, ha="right"
    )
    ax.set_yticks(range(n_rows), [str(x) for x in result.knox_ratio.index])
    ax.set_xlabel("time between events")
    ax.set_ylabel("distance between events")
    ax.set_title(
        f"Knox ratio ({result.n_events:,} events, {result.n_permutations} permutations);"
        f"\n* p < {alpha:g} and ratio >= {min_ratio:g}",
        fontsize=10,
    )
    fig.colorbar(image, ax=ax, label="Knox ratio")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


def write_knox_outputs(
    result: KnoxResult, out_dir: str | os.PathLike[str], *, provenance: dict[str, Any]
) -> dict[str, Path]:
    """Write knox.csv, knox.html, knox.png and knox.json into ``out_dir``.

    Parameters
    ----------
    result
        Output of :func:`hotspots.nearrepeat.knox_test`.
    out_dir
        Folder (created if needed); each file is written atomically.
    provenance
        From :func:`hotspots.outputs.build_provenance`; stored in knox.json and cited in
        the HTML page.

    Returns
    -------
    dict
        ``{"csv": ..., "html": ..., "png": ..., "json": ...}`` paths.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "csv": write_csv(result.to_frame(), out / "knox.csv"),
        "html": write_text(out / "knox.html", knox_html(result, provenance=provenance)),
        "png": _write_png(result, out / "knox.png", alpha=_ALPHA, min_ratio=_MIN_RATIO),
    }
    payload = {
        "summary": _summary(result),
        "recommendation": result.recommendation(alpha=_ALPHA, min_ratio=_MIN_RATIO),
        "cells": result.to_frame().to_dict(orient="records"),
        "provenance": provenance,
    }
    paths["json"] = write_json(out / "knox.json", payload)
    return paths
