"""Extra point layers (``--layer NAME=FILE``): reading, counts per spot and area, map, public.

Counts are checked against geopandas' own spatial join (``geopandas.sjoin``), written
here independently of :mod:`hotspots.extra_layers`.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from tests.conftest import run_cli

from hotspots.config import OutputOptions, WeeklySettings, check_input_paths
from hotspots.errors import InputError, OptionError
from hotspots.extra_layers import layer_counts, read_point_layer, spot_layer_text
from hotspots.outputs.public import make_public
from hotspots.schema import AREA_NAME, RANK, SPOT_ID

BNG = 27700


def spots() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {SPOT_ID: ["A", "B"], RANK: [1, 2], AREA_NAME: ["West", "East"]},
        geometry=[shapely.box(400_000, 300_000, 400_150, 300_150),
                  shapely.box(401_000, 300_000, 401_150, 300_150)],
        crs=BNG,
    )  # fmt: skip


def areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {AREA_NAME: ["West", "East"]},
        geometry=[shapely.box(399_000, 299_000, 400_500, 301_000),
                  shapely.box(400_500, 299_000, 402_000, 301_000)],
        crs=BNG,
    )  # fmt: skip


# by hand: 3 points in A, 1 in B, 1 elsewhere in West, 1 with no coordinates, 1 outside
# both areas (5 km east); West holds 4 usable points, East 1
EASTINGS = [400_010, 400_050, 400_140, 401_075, 399_500, None, 406_000]
NORTHINGS = [300_010, 300_100, 300_140, 300_075, 300_500, None, 300_000]


def lonlat_csv(folder: Path) -> Path:
    pts = gpd.GeoSeries(
        [
            shapely.Point(e, n) if e is not None else shapely.Point()
            for e, n in zip(EASTINGS, NORTHINGS, strict=True)
        ],
        crs=BNG,
    ).to_crs(4326)
    lon = [None if p.is_empty else round(p.x, 7) for p in pts]
    lat = [None if p.is_empty else round(p.y, 7) for p in pts]
    frame = pd.DataFrame(
        {"description": [f"report {i}" for i in range(7)], "longitude": lon, "latitude": lat}
    )
    path = folder / "streetsafe.csv"
    frame.to_csv(path, index=False)
    return path


def test_read_lonlat_csv_rejects_with_reasons(tmp_path):
    layer = read_point_layer("Street-Safe", lonlat_csv(tmp_path), working_crs=BNG, areas=areas())
    assert len(layer.points) == 5 and layer.points.crs.to_epsg() == BNG
    assert layer.rejected[["source_row", "reason"]].values.tolist() == [
        [6, "no_location"],
        [7, "outside_study_area"],
    ]
    assert layer.points["label"].tolist()[0] == "report 0"


def test_counts_equal_an_independent_sjoin(tmp_path):
    layer = read_point_layer("Street-Safe", lonlat_csv(tmp_path), working_crs=BNG, areas=areas())
    table = layer_counts([layer], spots=spots(), areas=areas())
    pts = gpd.GeoDataFrame(geometry=layer.points.geometry, crs=BNG)
    by_spot = gpd.sjoin(pts, spots(), predicate="intersects").groupby(SPOT_ID).size()
    by_area = gpd.sjoin(pts, areas(), predicate="intersects").groupby(AREA_NAME).size()
    got = table[table["kind"] == "spot"].set_index(SPOT_ID)["n_points"]
    assert got.to_dict() == by_spot.reindex(got.index, fill_value=0).to_dict() == {"A": 3, "B": 1}
    got_area = table[table["kind"] == "area"].set_index(AREA_NAME)["n_points"]
    assert got_area.to_dict() == by_area.to_dict() == {"West": 4, "East": 1}
    assert table.loc[table["kind"] == "all", "n_points"].tolist() == [5]
    assert spot_layer_text(table, ["B", "A", "Z"]) == ["Street-Safe 1", "Street-Safe 3", ""]


def test_geopackage_polygons_become_points(tmp_path):
    premises = gpd.GeoDataFrame(
        {"name": ["The Crown", "Empty"]},
        geometry=[shapely.box(400_020, 300_020, 400_040, 300_040), shapely.Polygon()],
        crs=BNG,
    )
    path = tmp_path / "premises.gpkg"
    premises.to_file(path)
    layer = read_point_layer("Licensed premises", path, working_crs=BNG)
    assert layer.points["label"].tolist() == ["The Crown"]
    assert layer.points.geom_type.tolist() == ["Point"]
    assert layer.rejected["reason"].tolist() == ["no_location"]
    table = layer_counts([layer], spots=spots())
    assert table.set_index(SPOT_ID).loc["A", "n_points"] == 1


@pytest.mark.parametrize("bad", ["bad", "=x.csv", "Name=", " =x"])
def test_layer_option_must_be_name_equals_file(bad):
    with pytest.raises(OptionError, match=r"--layer .* must look like NAME=FILE"):
        OutputOptions(layers=(bad,))


def test_layer_names_unique_and_files_exist(tmp_path):
    with pytest.raises(OptionError, match="given twice"):
        OutputOptions(layers=("A=x.csv", "a=y.csv"))
    settings = WeeklySettings.from_mapping({"layers": [f"Street-Safe={tmp_path / 'nope.csv'}"]})
    assert settings.output.layers == (("Street-Safe", str(tmp_path / "nope.csv")),)
    with pytest.raises(InputError, match=r"--layer Street-Safe file .*nope.csv does not exist"):
        check_input_paths(settings)


def test_public_keeps_area_counts_only(tmp_path):
    layer = read_point_layer("Street-Safe", lonlat_csv(tmp_path), working_crs=BNG, areas=areas())
    table = layer_counts([layer], spots=spots(), areas=areas())
    public = make_public({"layer_counts": table})["layer_counts"]
    assert "spot" not in set(public["kind"])
    assert public.set_index(AREA_NAME).loc["East", "n_points"] == "<3"


def test_cli_bad_layer_is_one_line(tmp_path, capsys):
    data = tmp_path / "x.csv"
    data.write_text("a\n1\n")
    code, text = run_cli(["spots", str(data), "--layer", "bad", "--out", str(tmp_path)], capsys)
    assert code == 1
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines == ["Error: --layer 'bad' must look like NAME=FILE, e.g. --layer "
                     "'Street-Safe=streetsafe.csv'."]  # fmt: skip


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.inside = tag == "script"

    def handle_endtag(self, tag):
        self.inside = False

    def handle_data(self, data):
        if self.inside:
            self.scripts.append(data)


def overlay_names(html: str) -> list[str]:
    """The names in the page's layer control, read from its script."""
    parser = _Scripts()
    parser.feed(html)
    script = "\n".join(parser.scripts)
    block = re.search(r"overlays\s*:\s*\{(.*?)\}", script, flags=re.S)
    assert block is not None
    return re.findall(r'"([^"]+)"\s*:', block.group(1))


@pytest.mark.slow
def test_demo_layer_counts_and_map(tmp_path, capsys):
    demo = tmp_path / "demo"
    code, text = run_cli(["demo", "--out", str(demo), "--homes", "2000", "--data-only"], capsys)
    assert code == 0, text
    files = demo / "data"
    inc = pd.read_csv(files / "incidents.csv", encoding="utf-8-sig").iloc[::40]
    wgs = gpd.GeoSeries(gpd.points_from_xy(inc["easting"], inc["northing"]), crs=BNG).to_crs(4326)
    lon, lat = np.round(wgs.x.to_numpy(), 7), np.round(wgs.y.to_numpy(), 7)
    csv = tmp_path / "streetsafe.csv"
    pd.DataFrame({"lon": lon, "lat": lat}).to_csv(csv, index=False)
    out = tmp_path / "weekly"
    code, text = run_cli(
        ["weekly", str(files / "incidents.csv"), "--areas", str(files / "districts.geojson"),
         "--area-field", "area", "--no-knox", "--as-of", "2026-11-22",
         "--layer", f"Street-Safe={csv}", "--out", str(out)],
        capsys,
    )  # fmt: skip
    assert code == 0, text
    table = pd.read_csv(out / "layer_counts.csv", encoding="utf-8-sig", dtype={SPOT_ID: str})
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326).to_crs(BNG)
    found = gpd.read_file(out / "harm_spots.geojson").to_crs(BNG)
    found = found.set_geometry(shapely.set_precision(found.geometry.to_numpy(), 0.01))
    districts = gpd.read_file(files / "districts.geojson").to_crs(BNG)
    pts = pts.loc[gpd.sjoin(pts, districts, predicate="intersects").index.unique()]
    by_spot = gpd.sjoin(pts, found, predicate="intersects").groupby(SPOT_ID).size()
    got = table[table["kind"] == "spot"].set_index(SPOT_ID)["n_points"]
    assert got.to_dict() == by_spot.reindex(got.index, fill_value=0).astype(int).to_dict()
    assert got.sum() > 0
    by_area = gpd.sjoin(pts, districts, predicate="intersects").groupby("area").size()
    got_area = table[table["kind"] == "area"].set_index("area")["n_points"]
    assert got_area.to_dict() == by_area.reindex(got_area.index, fill_value=0).to_dict()
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "Street-Safe" in overlay_names(html)
    assert f"Street-Safe ({len(pts):,} points)" in html
    packaged = gpd.read_file(out / "hotspots.gpkg", layer="layer_street_safe")  # for QGIS
    assert packaged.crs.to_epsg() == 27700 and len(packaged) == len(pts)
    np.testing.assert_allclose(
        np.sort(packaged.geometry.x.to_numpy()), np.sort(pts.geometry.x.to_numpy()), atol=0.01
    )
