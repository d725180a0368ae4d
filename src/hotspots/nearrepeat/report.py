"""Knox outputs: knox.csv, a heat table as HTML and PNG, and knox.json.

The heat table shows the Knox ratio of every distance x time cell; cells with
p < ``alpha`` and ratio >= ``min_ratio`` are outlined and marked with an asterisk.
"""

from __future__ import annotations

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
    """Self-contained HTML page: summary, recommendation and the heat table.

    Rendered from the autoescaped Jinja2 template ``outputs/templates/knox.html.j2``.
    """
    import jinja2

    rec = result.recommendation(alpha=alpha, min_ratio=min_ratio)
    sig = result.significant(alpha=alpha, min_ratio=min_ratio).to_numpy()
    rows = []
    for r, label in enumerate(result.observed.index):
        cells = []
        for c in range(result.observed.shape[1]):
            ratio = float(result.knox_ratio.iat[r, c])
            cells.append(
                {
                    "sig": bool(sig[r, c]),
                    "colour": _colour(ratio),
                    "ratio": "n/a" if not math.isfinite(ratio) else f"{ratio:.2f}",
                    "observed": int(result.observed.iat[r, c]),
                    "expected": f"{float(result.expected.iat[r, c]):.1f}",
                    "p": f"{float(result.p_value.iat[r, c]):.3g}",
                }
            )
        rows.append({"label": str(label), "cells": cells})
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
    env = jinja2.Environment(
        autoescape=True,
        loader=jinja2.PackageLoader("hotspots", "outputs/templates"),
        undefined=jinja2.StrictUndefined,
    )
    return str(
        env.get_template("knox.html.j2").render(
            recommendation_text=str(rec["text"]),
            recommendation_line=rec_line,
            facts=facts,
            alpha=alpha,
            min_ratio=min_ratio,
            columns=[str(c) for c in result.observed.columns],
            rows=rows,
            version=None if not provenance else provenance.get("software", {}).get("version", ""),
            run_at="" if not provenance else provenance.get("run_at", ""),
        )
    )


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
