"""The weekly run end to end on a small synthetic town: files, atomicity, idempotence."""

from __future__ import annotations

import json
import re
from functools import partial
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from hotspots import cocoon, pipeline
from hotspots._forked import can_fork, side_by_side
from hotspots.demo import generate_town, write_town
from hotspots.outputs.publish import stable_html_ids
from hotspots.pipeline import WeeklySettings, run_weekly

EXPECTED = {
    "map.html",
    "harm_spots.geojson",
    "harm_spots.csv",
    "patrol_plan.csv",
    "cocoon_zones.geojson",
    "cocoon_visits.csv",
    "knox.csv",
    "cocoon_lists",
    "hotspots.gpkg",
    "rejected.csv",
    "run.json",
}
RUN_AT = re.compile(r'"run_at": ?"[^"]+"|run at [0-9T:+\- ]+|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00')


@pytest.fixture(scope="module")
def town_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    town = generate_town(seed=7, n_homes=3_000, years=1)
    return write_town(town, tmp_path_factory.mktemp("town"))


def settings_for(files: dict[str, Path], **changes: object) -> WeeklySettings:
    values = {
        "areas": files["districts"],
        "area_field": "area",
        "addresses": files["addresses"],
        "visits": files["visits"],
        "patrols": files["patrols"],
        "knox_permutations": 49,
        "top": 3,
        "tiles": False,
    }
    values.update(changes)
    return WeeklySettings.from_mapping(values)


@pytest.fixture(scope="module")
def weekly_run(town_files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("weekly") / "out"
    result = run_weekly([town_files["incidents"]], out=out, settings=settings_for(town_files))
    return out, result


def test_weekly_writes_every_file(weekly_run):
    out, result = weekly_run
    names = {p.name for p in out.iterdir()}
    assert names >= EXPECTED, EXPECTED - names
    assert list((out / "cocoon_lists").glob("*.html"))
    assert not [p for p in out.parent.iterdir() if ".staging-" in p.name]


def test_run_json_provenance(weekly_run):
    out, _ = weekly_run
    run = json.loads((out / "run.json").read_text())
    assert run["software"]["name"] == "hotspots"
    assert run["parameters"]["seed"] == 0
    assert run["parameters"]["knox_permutations"] == 49
    assert all(len(f["sha256"]) == 64 for f in run["inputs"])
    assert run["summary"]["time_resolution"] == "exact"
    assert run["summary"]["harm_table"]["name"] == "cchi-2026-police-uk"
    assert run["date_min"] < run["date_max"]
    assert run["summary"]["cocoon"]["zones"] > 0


def test_geojson_outputs_are_rfc7946(weekly_run):
    out, _ = weekly_run
    for name in ("harm_spots.geojson", "cocoon_zones.geojson"):
        doc = json.loads((out / name).read_text())
        assert "crs" not in doc and "metadata" in doc
        for feature in doc["features"]:
            ring = feature["geometry"]["coordinates"][0]
            assert shapely.Polygon(ring).exterior.is_ccw
            assert all(len(repr(c).split(".")[-1]) <= 7 for pt in ring for c in pt)


def test_geopackage_layers_in_bng(weekly_run):
    out, _ = weekly_run
    import pyogrio

    layers = {name for name, _ in pyogrio.list_layers(out / "hotspots.gpkg")}
    assert {"harm_spots", "cocoon_zones", "areas"} <= layers
    spots = gpd.read_file(out / "hotspots.gpkg", layer="harm_spots")
    assert spots.crs.to_epsg() == 27700


def _comparable(folder: Path) -> dict[str, str]:
    texts = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in {".html", ".csv", ".geojson", ".json"}:
            text = RUN_AT.sub("RUN_AT", path.read_text("utf-8-sig"))
            # the output folder is named in the provenance; the run into another is the same
            texts[str(path.relative_to(folder))] = text.replace(str(folder), "OUT")
    return texts


def _assert_same_outputs(out: Path, again: Path) -> None:
    """Every text output equal apart from the run time and folder; the package's spots too."""
    first, second = _comparable(out), _comparable(again)
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], name
    a = gpd.read_file(out / "hotspots.gpkg", layer="harm_spots")
    b = gpd.read_file(again / "hotspots.gpkg", layer="harm_spots")
    pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b))


def _files(out: Path) -> dict[Path, bytes]:
    return {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_rerun_is_identical_apart_from_run_time(weekly_run, town_files, tmp_path):
    out, _ = weekly_run
    again = tmp_path / "again"
    run_weekly([town_files["incidents"]], out=again, settings=settings_for(town_files))
    _assert_same_outputs(out, again)


def test_failure_mid_run_leaves_previous_outputs(town_files, tmp_path, monkeypatch):
    out = tmp_path / "out"
    run_weekly([town_files["incidents"]], out=out, settings=settings_for(town_files))
    before = _files(out)

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("disk full while drawing the map")

    monkeypatch.setattr(pipeline, "_map_html", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        run_weekly([town_files["incidents"]], out=out, settings=settings_for(town_files, seed=5))
    assert _files(out) == before
    assert not [p for p in tmp_path.iterdir() if ".staging-" in p.name]


def test_one_process_writes_the_same_files_as_writers_side_by_side(
    weekly_run, town_files, tmp_path, monkeypatch
):
    out, _ = weekly_run  # written side by side where the machine can (Linux, 2+ cores)
    monkeypatch.setattr(pipeline, "side_by_side", partial(side_by_side, jobs=1))
    alone = tmp_path / "alone"
    run_weekly([town_files["incidents"]], out=alone, settings=settings_for(town_files))
    _assert_same_outputs(out, alone)


@pytest.mark.skipif(not can_fork(), reason="writers run in children only on Linux")
def test_a_failed_writer_process_leaves_previous_outputs(town_files, tmp_path, monkeypatch):
    out = tmp_path / "out"
    run_weekly([town_files["incidents"]], out=out, settings=settings_for(town_files))
    before = _files(out)

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pipeline, "side_by_side", partial(side_by_side, jobs=2))
    monkeypatch.setattr(cocoon, "write_run", broken)  # runs in the cocoon tables' child
    with pytest.raises(OSError, match="(?i)no space left"):
        run_weekly([town_files["incidents"]], out=out, settings=settings_for(town_files, seed=5))
    assert _files(out) == before
    assert not [p for p in tmp_path.iterdir() if ".staging-" in p.name]


def test_public_mode_has_no_address_lists(town_files, tmp_path):
    out = tmp_path / "public"
    run_weekly([town_files["incidents"]], out=out, settings=settings_for(town_files, public=True))
    names = {p.name for p in out.iterdir()}
    assert "cocoon_visits.csv" not in names and "cocoon_lists" not in names
    zones = gpd.read_file(out / "cocoon_zones.geojson").to_crs(27700)
    centres = zones.geometry.centroid
    # every zone centre sits at a 150 m grid cell centre, not on a home
    assert ((centres.x % 150 - 75).abs() < 0.5).all() and ((centres.y % 150 - 75).abs() < 0.5).all()
    assert ((zones["easting"] % 150) == 75).all() and ((zones["northing"] % 150) == 75).all()
    recent = gpd.read_file(out / "hotspots.gpkg", layer="recent_burglaries")
    assert "location" not in recent and "incident_id" not in recent
    assert ((recent.geometry.x % 150) == 75).all() and ((recent.geometry.y % 150) == 75).all()
    assert "address_id" not in (out / "map.html").read_text()


def test_stable_html_ids():
    html = (
        "var map_0123456789abcdef0123456789abcdef = L.map(); "
        "geo_json_ffffffffffffffffffffffffffffffff_onEachFeature"
    )
    once = stable_html_ids(html)
    assert "0123456789abcdef" not in once
    assert once == stable_html_ids(html.replace("0123456789abcdef0123456789abcdef", "a" * 32))


def test_settings_refuse_unknown_keys():
    from hotspots.errors import OptionError

    with pytest.raises(OptionError, match=r"unknown setting\(s\) \['radius'\]"):
        WeeklySettings.from_mapping({"radius": 400})


def test_quiet_week_skips_cocoons_with_a_note(town_files, tmp_path):
    # as of a date before any burglary: spots still run, cocoons are skipped and say why
    town = pd.read_csv(town_files["incidents"])
    first = pd.Timestamp(town["occurred_at"].min()[:10])
    out = tmp_path / "quiet"
    result = run_weekly(
        [town_files["incidents"]],
        out=out,
        settings=settings_for(
            town_files, as_of=f"{first:%Y-%m-%d}", knox=False, lookback_days=30, top=1
        ),
    )
    assert "No dwelling burglary" in result.summary["cocoon"]["skipped"]
    assert (out / "harm_spots.csv").exists() and not (out / "cocoon_zones.geojson").exists()


def test_map_addresses_layer_is_opt_in(town_files, tmp_path):
    out = tmp_path / "with_addresses"
    run_weekly(
        [town_files["incidents"]], out=out, settings=settings_for(town_files, map_addresses=True)
    )
    visits = pd.read_csv(out / "cocoon_visits.csv", encoding="utf-8-sig")
    some_target = visits.loc[~visits["is_burgled_address"], "address"].iloc[0]
    assert some_target in (out / "map.html").read_text()
