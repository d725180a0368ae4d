"""Vectorised writers give exactly what the per-row writers gave (issue 15).

Each test keeps the former row-by-row rule as a small reference and checks the
vectorised writer against it on hand-made and generated values, byte for byte.
"""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.outputs import write_csv, write_geojson
from hotspots.outputs.files import (
    FORMULA_PREFIXES,
    _significant,
    neutralise_formulas,
)


def reference_significant(values: np.ndarray, digits: int) -> np.ndarray:
    """The former rule: round to ``digits`` significant digits, then Python round()."""
    out = values.astype("float64", copy=True)
    ok = np.isfinite(out) & (out != 0)
    magnitude = np.floor(np.log10(np.abs(out[ok])))
    scale = 10.0 ** (digits - 1 - magnitude)
    out[ok] = np.round(out[ok] * scale) / scale
    decimals = np.clip(digits - 1 - magnitude, 0, 15).astype(int)
    out[ok] = [round(v, int(d)) for v, d in zip(out[ok], decimals, strict=True)]
    return out


def reference_neutralise(values: list) -> list:
    """The former rule, cell by cell."""
    out = []
    for v in values:
        if isinstance(v, str):
            if v.startswith(FORMULA_PREFIXES):
                v = "'" + v
            v = v.replace("\r\n", "\n").replace("\r", "\n")
        out.append(v)
    return out


def test_significant_digits_by_hand():
    got = _significant(np.array([57634.05999999995, 0.000123456789, -1.5e9, 0.0, np.nan]), 6)
    np.testing.assert_array_equal(got, [57634.1, 0.000123457, -1.5e9, 0.0, np.nan])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from([math.nan, math.inf, -math.inf, 0.0])
        | st.floats(min_value=-1e12, max_value=1e12).filter(lambda v: v == 0 or abs(v) > 1e-12),
        min_size=1,
        max_size=200,
    )
)
def test_significant_equals_python_round(values):
    arr = np.array(values, dtype="float64")
    got, want = _significant(arr, 6), reference_significant(arr, 6)
    assert got.tobytes() == want.tobytes()  # bit for bit, so the CSV text is the same


def test_significant_equals_python_round_on_many_values():
    rng = np.random.default_rng(3)
    arr = np.concatenate(
        [
            rng.gamma(0.5, 300.0, 20_000),
            rng.normal(0, 1e5, 20_000),
            10.0 ** rng.uniform(-12, 12, 20_000),
            np.round(rng.uniform(0, 1000, 20_000), 3),
        ]
    )
    assert _significant(arr, 6).tobytes() == reference_significant(arr, 6).tobytes()


def test_neutralise_by_hand():
    frame = pd.DataFrame(
        {
            "t": ["=1+1", "ok", None, "-x", "a\rb", "@", "\tq", "+", "c\r\nd", "\r="],
            "n": [-1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        }
    )
    got = neutralise_formulas(frame)
    assert got["t"].tolist()[:2] == ["'=1+1", "ok"] and pd.isna(got["t"][2])
    assert got["t"].tolist()[3:] == ["'-x", "a\nb", "'@", "'\tq", "'+", "c\nd", "'\n="]
    assert got["n"].tolist()[0] == -1.0  # numbers are never touched
    assert frame["t"][0] == "=1+1"  # the input is unchanged


def test_neutralise_leaves_clean_and_categorical_columns_alone():
    frame = pd.DataFrame({"a": pd.Categorical(["x", "y", "x"]), "b": ["p", "q", None]})
    got = neutralise_formulas(frame)
    assert isinstance(got["a"].dtype, pd.CategoricalDtype)
    assert got["b"].tolist()[:2] == ["p", "q"]
    risky = neutralise_formulas(pd.DataFrame({"a": pd.Categorical(["=x", "y", "=x"])}))
    assert risky["a"].tolist() == ["'=x", "y", "'=x"]


TEXT = st.text(alphabet=st.sampled_from(list("=+-@\t\r\nab 1'\"")), max_size=6)


@settings(max_examples=80, deadline=None)
@given(st.lists(TEXT | st.none() | st.integers(-5, 5), min_size=1, max_size=40))
def test_neutralise_equals_the_cell_rule(values):
    got = neutralise_formulas(pd.DataFrame({"t": pd.Series(values, dtype=object)}))["t"]
    want = reference_neutralise(list(pd.Series(values, dtype=object)))
    assert [repr(v) for v in got.tolist()] == [repr(v) for v in want]


def reference_geojson_text(layer: gpd.GeoDataFrame) -> list[dict]:
    """Features as the former writer built them (iterrows + mapping), for comparison."""
    from hotspots.outputs.files import (
        _clean_json,
        _json_ready_properties,
        _rfc7946_geometry,
        clean_numbers,
    )

    wgs = layer.to_crs(4326)
    geoms = _rfc7946_geometry(wgs.geometry.to_numpy())
    props = _json_ready_properties(clean_numbers(pd.DataFrame(wgs.drop(columns="geometry"))))
    return [
        {
            "type": "Feature",
            "properties": {k: _clean_json(v) for k, v in row.items()},
            "geometry": None if g is None else shapely.geometry.mapping(g),
        }
        for g, (_, row) in zip(geoms, props.iterrows(), strict=True)
    ]


def _layer(kind: str) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(5)
    n = 40
    x = 570_000 + rng.uniform(0, 5_000, n)
    y = 205_000 + rng.uniform(0, 5_000, n)
    geom = (
        gpd.points_from_xy(x, y)
        if kind == "points"
        else shapely.buffer(shapely.points(x, y), 400.0, quad_segs=16)
    )
    when = pd.Timestamp("2025-06-01 10:00", tz="Europe/London") + pd.to_timedelta(
        rng.integers(0, 90, n), unit="D"
    )
    return gpd.GeoDataFrame(
        {
            "zone_id": [f"Z{i}" for i in range(n)],
            "harm": rng.gamma(0.5, 300.0, n),
            "harm_share": rng.uniform(0, 0.1, n),
            "n_homes": pd.array([None if i % 7 == 0 else int(i) for i in range(n)], dtype="Int64"),
            "count": rng.integers(0, 9, n),
            "flag": rng.uniform(size=n) > 0.5,
            "ratio": np.where(rng.uniform(size=n) > 0.8, np.nan, rng.uniform(size=n)),
            "occurred_at": when,
            "note": [None if i % 5 == 0 else f"=x{i}" for i in range(n)],
            "parts": [[1, float("nan")] if i % 9 == 0 else None for i in range(n)],
        },
        geometry=geom,
        crs=27700,
    )


@pytest.mark.parametrize("kind", ["points", "polygons"])
def test_geojson_features_equal_the_row_writer(tmp_path, kind):
    layer = _layer(kind)
    path = write_geojson(layer, tmp_path / "x.geojson", metadata={"run": 1})
    text = path.read_text(encoding="utf-8")
    expected = {
        "type": "FeatureCollection",
        "features": reference_geojson_text(layer),
        "metadata": {"run": 1},
    }
    want = json.dumps(expected, ensure_ascii=False, allow_nan=False, default=_default)
    assert text == want


def _default(value):
    from hotspots.outputs.files import json_default

    return json_default(value)


def test_geojson_point_coordinates_round_trip(tmp_path):
    layer = _layer("points").iloc[:3]
    got = json.loads(write_geojson(layer, tmp_path / "p.geojson").read_text(encoding="utf-8"))
    lonlat = layer.to_crs(4326).get_coordinates().to_numpy()
    coords = np.array([f["geometry"]["coordinates"] for f in got["features"]])
    np.testing.assert_allclose(coords, lonlat, atol=1e-7)
    assert got["features"][0]["properties"]["parts"] == [1, None]
    assert not math.isnan(got["features"][1]["properties"]["harm"])


def test_csv_neutralises_and_rounds(tmp_path):
    frame = pd.DataFrame({"street": ["=HYPERLINK(1)", "High St"], "harm": [1.005, 57634.06]})
    text = write_csv(frame, tmp_path / "t.csv").read_bytes().decode("utf-8-sig")
    assert text == "street,harm\n'=HYPERLINK(1),1.0\nHigh St,57634.06\n"
