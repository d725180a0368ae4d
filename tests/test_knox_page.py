"""The Knox page comes from the autoescaped template: data text cannot inject markup."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from hotspots.nearrepeat import knox_html, knox_test
from hotspots.schema import OCCURRED_AT


def small_result():
    import geopandas as gpd

    rng = np.random.default_rng(3)
    n = 80
    naive = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 200, n), unit="D")
    events = gpd.GeoDataFrame(
        {OCCURRED_AT: pd.DatetimeIndex(naive).tz_localize("Europe/London")},
        geometry=gpd.points_from_xy(rng.uniform(0, 2000, n), rng.uniform(0, 2000, n)),
        crs=27700,
    )
    return knox_test(events, n_permutations=19, seed=0)


def test_band_labels_with_script_are_escaped_in_the_knox_page():
    res = small_result()
    bad = [f"<script>alert({i})</script>" for i in range(len(res.observed.index))]
    frames = {
        name: getattr(res, name).set_axis(bad, axis=0)
        for name in ("observed", "expected", "p_value", "knox_ratio")
    }
    page = knox_html(dataclasses.replace(res, **frames))
    assert "<script>" not in page
    assert "<th scope='row'>&lt;script&gt;alert(0)&lt;/script&gt;</th>" in page
    assert page.count("<td") == res.observed.size
    assert page.startswith("<!DOCTYPE html>")
