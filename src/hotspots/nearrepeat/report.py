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


_CELL_W, _CELL_H = 96, 38  # px per heat-table cell
_PAD = 14


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[k : k + 2], 16) for k in (1, 3, 5))  # type: ignore[return-value]


def _write_png(result: KnoxResult, path: Path, *, alpha: float, min_ratio: float) -> Path:
    """The heat table as a PNG drawn with Pillow (a fraction of matplotlib's import time).

    Same content as the HTML table: the Knox ratio in every cell on the page's colour scale
    (white at 1 or below, red at 2 and over), cells with p < ``alpha`` and ratio >=
    ``min_ratio`` outlined and starred, band labels on both axes, a title with the event and
    permutation counts, and a colour key.
    """
    from PIL import Image, ImageDraw, ImageFont

    ratio = result.knox_ratio.to_numpy(dtype="float64")
    sig = result.significant(alpha=alpha, min_ratio=min_ratio).to_numpy()
    n_rows, n_cols = ratio.shape
    font = ImageFont.load_default(size=14)
    small = ImageFont.load_default(size=12)
    row_labels = [str(x) for x in result.knox_ratio.index]
    col_labels = [str(x) for x in result.knox_ratio.columns]
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))

    def width(text: str, f: object) -> int:
        return int(probe.textlength(text, font=f))  # type: ignore[arg-type]

    label_w = max(width(t, font) for t in [*row_labels, "distance"]) + 2 * _PAD
    col_w = max(_CELL_W, max(width(t, small) for t in col_labels) + 10)
    title = [
        f"Knox ratio ({result.n_events:,} events, {result.n_permutations} permutations)",
        f"* and outlined: p < {alpha:g} and ratio >= {min_ratio:g}",
    ]
    top = _PAD + 2 * 20 + 26  # title lines, then the time-band labels
    key_w = 90
    width_px = label_w + n_cols * col_w + key_w + _PAD
    height_px = top + n_rows * _CELL_H + 44
    image = Image.new("RGB", (width_px, height_px), "white")
    draw = ImageDraw.Draw(image)
    for k, line in enumerate(title):
        draw.text((_PAD, _PAD + 20 * k), line, fill="black", font=font)
    for c, label in enumerate(col_labels):
        x = label_w + c * col_w + col_w // 2
        draw.text((x, top - 6), label, fill="black", font=small, anchor="md")
    for r, label in enumerate(row_labels):
        y = top + r * _CELL_H + _CELL_H // 2
        draw.text((label_w - 8, y), label, fill="black", font=font, anchor="rm")
        for c in range(n_cols):
            x0, y0 = label_w + c * col_w, top + r * _CELL_H
            colour = _colour(float(ratio[r, c]))
            draw.rectangle(
                [x0, y0, x0 + col_w - 1, y0 + _CELL_H - 1], fill=colour, outline="#999999"
            )
            value = ratio[r, c]
            text = ("n/a" if not np.isfinite(value) else f"{value:.2f}") + (
                " *" if sig[r, c] else ""
            )
            dark = sum(_rgb(colour)) < 3 * 150
            draw.text(
                (x0 + col_w // 2, y0 + _CELL_H // 2),
                text,
                fill="white" if dark else "black",
                font=font,
                anchor="mm",
            )
            if sig[r, c]:
                draw.rectangle(
                    [x0 + 1, y0 + 1, x0 + col_w - 2, y0 + _CELL_H - 2], outline="black", width=3
                )
    bottom = top + n_rows * _CELL_H
    draw.text(
        (label_w + n_cols * col_w // 2, bottom + 8),
        "time between events",
        fill="black",
        font=font,
        anchor="ma",
    )
    draw.text((_PAD, bottom + 8), "distance between events", fill="black", font=small)
    # colour key: the HTML scale from 1 (white) to 2 and over (deepest red)
    kx = label_w + n_cols * col_w + 24
    steps = n_rows * _CELL_H
    for k in range(steps):
        share = 1.0 - k / max(steps - 1, 1)
        draw.line([kx, top + k, kx + 16, top + k], fill=_colour(1.0 + share if share > 0 else 1.0))
    draw.rectangle([kx, top, kx + 16, top + steps], outline="#999999")
    draw.text((kx + 20, top), ">= 2", fill="black", font=small, anchor="lm")
    draw.text((kx + 20, top + steps), "<= 1", fill="black", font=small, anchor="lm")
    draw.text((kx - 4, top - 6), "ratio", fill="black", font=small, anchor="ld")
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG", optimize=False)
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
