"""Knox output files: knox.csv columns, escaped HTML heat table, PNG, JSON."""

from __future__ import annotations

import dataclasses
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from hotspots.nearrepeat import FRAME_COLUMNS, knox_html, knox_test, write_knox_outputs
from hotspots.outputs import build_provenance
from hotspots.schema import OCCURRED_AT


def clustered_events(seed: int = 0) -> gpd.GeoDataFrame:
    """Background burglaries plus near-repeat follow-ups (within 60 m and 5 days)."""
    rng = np.random.default_rng(seed)
    n = 150
    x, y = rng.uniform(0, 3000, n), rng.uniform(0, 3000, n)
    day = rng.integers(0, 365, n)
    k = 60
    src = rng.integers(0, n, k)
    x2 = x[src] + rng.uniform(-40, 40, k)
    y2 = y[src] + rng.uniform(-40, 40, k)
    day2 = day[src] + rng.integers(0, 5, k)
    days = np.concatenate([day, day2])
    naive = pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D")
    return gpd.GeoDataFrame(
        {OCCURRED_AT: pd.DatetimeIndex(naive).tz_localize("Europe/London")},
        geometry=gpd.points_from_xy(np.concatenate([x, x2]), np.concatenate([y, y2])),
        crs=27700,
    )


RESULT = knox_test(clustered_events(), n_permutations=199, seed=0)


def test_planted_near_repeats_are_found():
    sig = RESULT.significant()
    assert bool(sig.iat[0, 0])
    rec = RESULT.recommendation()
    # follow-ups sit within 57 m and 4 days of their source (and so within 114 m of each
    # other): the effect starts in the first cell and fades within 200 m and 14 days; the
    # background's (200, 300] m x [0, 7] days cell sits at p = 0.05 (1,999 permutations), so
    # whether the run reaches 300 m depends on the permutation stream, not on the method
    assert rec["radius_m"] in (100.0, 200.0, 300.0) and rec["window_days"] in (7.0, 14.0)


def test_write_knox_outputs(tmp_path):
    prov = build_provenance(command="knox", parameters={"seed": 0})
    paths = write_knox_outputs(RESULT, tmp_path / "out", provenance=prov)
    assert set(paths) == {"csv", "html", "png", "json"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "knox.csv",
        "knox.html",
        "knox.json",
        "knox.png",
    ]
    csv = pd.read_csv(paths["csv"], encoding="utf-8-sig")
    assert tuple(csv.columns) == FRAME_COLUMNS
    assert csv["observed"].sum() == RESULT.n_pairs_in_range
    np.testing.assert_allclose(csv["p_value"], RESULT.to_frame()["p_value"])
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    payload = json.loads(paths["json"].read_text())
    assert payload["summary"]["seed"] == 0 and payload["summary"]["n_permutations"] == 199
    assert payload["recommendation"] == RESULT.recommendation()
    assert len(payload["cells"]) == 24
    assert payload["provenance"]["command"] == "knox"
    html = paths["html"].read_text()
    n_sig = int(RESULT.significant().to_numpy().sum())
    assert html.count("<td class='sig'") == n_sig
    rec = RESULT.recommendation()
    assert (
        f"Recommended cocoon: radius {rec['radius_m']:g} m, window {rec['window_days']:g} days."
        in html
    )
    assert "(100, 200] m" in html and "[0, 7] days" in html


def test_html_escapes_text():
    prov = {"software": {"version": "<script>alert(1)</script>"}, "run_at": "a & b"}
    html = knox_html(RESULT, provenance=prov)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "a &amp; b" in html


def test_nan_ratio_is_written_as_empty_and_null(tmp_path):
    # a cell whose permutations never produce a pair has no defined ratio
    like = RESULT.observed
    zeros = pd.DataFrame(np.zeros(like.shape), index=like.index, columns=like.columns)
    nan = pd.DataFrame(np.full(like.shape, np.nan), index=like.index, columns=like.columns)
    res = dataclasses.replace(RESULT, expected=zeros, knox_ratio=nan, knox_ratio_median=nan)
    paths = write_knox_outputs(res, tmp_path, provenance={})
    payload = json.loads(paths["json"].read_text())
    assert payload["cells"][0]["knox_ratio"] is None
    assert "n/a" in paths["html"].read_text()
    assert res.recommendation()["radius_m"] is None


@pytest.mark.parametrize("bad", ["knox.csv"])
def test_rewrite_replaces_files_atomically(tmp_path, bad):
    (tmp_path / bad).write_text("stale")
    write_knox_outputs(RESULT, tmp_path, provenance={})
    assert (tmp_path / bad).read_text(encoding="utf-8-sig").startswith("d_lo_m,")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_knox_png_is_the_heat_table_drawn_without_matplotlib(tmp_path):
    """The PNG is drawn with Pillow: a table of cells wide, and matplotlib never loads."""
    import subprocess
    import sys
    from pathlib import Path

    from PIL import Image

    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "import test_knox_outputs as t\n"
        "from hotspots.nearrepeat.report import _write_png\n"
        "from pathlib import Path\n"
        f"_write_png(t.RESULT, Path({str(tmp_path / 'k.png')!r}), alpha=0.05, min_ratio=1.2)\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    with Image.open(tmp_path / "k.png") as png:
        width, height = png.size
        corner = png.convert("RGB").getpixel((2, 2))
    assert width > 6 * 90 and height > 4 * 30  # 6 time bands across, 4 distance bands down
    assert corner == (255, 255, 255)
