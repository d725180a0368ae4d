"""Public mode: a public weekly run on the demo town, every output file scanned for leaks."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from hotspots.demo import generate_town, write_town
from hotspots.outputs.public import (
    SUPPRESSED,
    make_public,
    public_figures,
    rejected_counts,
    suppress_count,
)
from hotspots.pipeline import WeeklySettings, run_weekly

CELL_M = 150.0
COUNT_NAME = re.compile(r"^(n_.*|.*_count|visits|interactions|planned_visits|observed|zones|"
                        r"decided|cocooned_within_deadline|cocooned_in_time|overdue_now|due_now|"
                        r"mandatory_visited|homes_in_zones|rows)$")  # fmt: skip
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ](\d\d):(\d\d)(?::(\d\d))?")


# ---------------------------------------------------------------------------- rules, by hand


def test_suppress_count():
    assert [suppress_count(v) for v in (0, 1, 2, 3, 2.0, 2.5, True)] == [
        0,
        SUPPRESSED,
        SUPPRESSED,
        3,
        SUPPRESSED,
        2.5,
        True,
    ]


def test_make_public_tables_by_hand():
    zones = gpd.GeoDataFrame(
        {
            "zone_id": ["Z-B7", "Z-B3"],
            "burglary_id": ["B7", "B3"],
            "occurred_at": pd.to_datetime(
                ["2026-06-01T23:30:00+01:00", "2026-06-02T08:00:00+01:00"]
            ).tz_convert("Europe/London"),
            "n_homes": pd.array([2, 40], dtype="Int64"),
            "easting": [400_010.0, 400_200.0],
            "northing": [300_140.0, 300_010.0],
        },
        # circles of 100 m round the two burglaries
        geometry=gpd.points_from_xy([400_010.0, 400_200.0], [300_140.0, 300_010.0]).buffer(100),
        crs=27700,
    )
    compliance = pd.DataFrame({"zone_id": ["Z-B3", "Z-B7"], "visits": [1, 12]})
    public = make_public({"cocoon_zones": zones, "cocoon_compliance": compliance})
    z = public["cocoon_zones"]
    assert "burglary_id" not in z
    # sorted ids get P0001.. in both files
    assert z["zone_id"].tolist() == ["P0002", "P0001"]
    assert public["cocoon_compliance"]["zone_id"].tolist() == ["P0001", "P0002"]
    assert public["cocoon_compliance"]["visits"].tolist() == [SUPPRESSED, "12"]
    # 400 010 / 150 = 2666.7 -> cell 2666 -> centre 2666.5 * 150 = 399 975;
    # 400 200 -> cell 2668 -> 400 275; 300 140 and 300 010 -> cell 2000 -> 300 075
    assert z["easting"].tolist() == [399_975.0, 400_275.0]
    assert z["northing"].tolist() == [300_075.0, 300_075.0]
    centres = z.geometry.centroid
    assert centres.x.tolist() == pytest.approx([399_975.0, 400_275.0], abs=0.01)
    # counts made at the exact point are removed when no address layer is given
    assert z["n_homes"].isna().all()
    # 23:30 BST on 1 June is still 1 June locally
    assert [str(d.date()) for d in z["occurred_at"]] == ["2026-06-01", "2026-06-02"]
    assert zones["zone_id"].tolist() == ["Z-B7", "Z-B3"]  # input unchanged


def test_n_homes_recounted_at_the_generalised_centre():
    class Index:  # counts what it is asked about, to check where the count is made
        def count_within(self, points, radius_m):
            self.asked = (np.asarray([(p.x, p.y) for p in points]), radius_m)
            return np.array([5])

    zones = gpd.GeoDataFrame(
        {"zone_id": ["Z1"], "n_homes": pd.array([2], dtype="Int64")},
        geometry=gpd.points_from_xy([400_010.0], [300_140.0]).buffer(400),
        crs=27700,
    )
    index = Index()
    from hotspots.outputs.public import generalise_zones

    out = generalise_zones(zones, radius_m=400.0, addresses=index)
    assert out["n_homes"].tolist() == [5]
    assert index.asked[0].tolist() == [[399_975.0, 300_075.0]] and index.asked[1] == 400.0


def test_rejected_rows_become_counts():
    rejected = pd.DataFrame(
        {
            "source_file": ["a.csv"] * 4,
            "source_row": [3, 4, 5, 9],
            "reason": ["no_location", "no_location", "no_location", "duplicate_id"],
            "easting": ["569975.13", "1", "2", "3"],
        }
    )
    table = rejected_counts(rejected)
    assert table.to_dict("records") == [
        {"reason": "duplicate_id", "rows": SUPPRESSED},
        {"reason": "no_location", "rows": "3"},
    ]


def test_public_figures():
    record = {
        "parameters": {"top": 2, "as_of": "2026-11-22T23:34:17+00:00"},
        "summary": {
            "cocoon": {"by_area": {"North": 1, "South": 9}, "zones": 2, "share": 0.5},
            "notes": ["2 rows rejected; 12 spots hold 27% of harm"],
            "as_of": "2026-11-22T23:34:17+00:00",
        },
    }
    out = public_figures(record)
    assert out["parameters"] == {"top": 2, "as_of": "2026-11-22"}
    assert out["summary"]["cocoon"] == {
        "by_area": {"North": SUPPRESSED, "South": 9},
        "zones": SUPPRESSED,
        "share": 0.5,
    }
    assert out["summary"]["notes"] == ["<3 rows rejected; 12 spots hold 27% of harm"]
    assert out["summary"]["as_of"] == "2026-11-22"


# ---------------------------------------------------------------------------- the scan


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_town(generate_town(seed=7, n_homes=1_000, years=1), tmp_path_factory.mktemp("t"))


@pytest.fixture(scope="module")
def public_run(town: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = WeeklySettings.from_mapping(
        {
            "areas": town["districts"],
            "area_field": "area",
            "addresses": town["addresses"],
            "visits": town["visits"],
            "patrols": town["patrols"],
            "knox_permutations": 19,
            "top": 3,
            "tiles": False,
            "public": True,
        }
    )
    out = tmp_path_factory.mktemp("public") / "out"
    run_weekly([town["incidents"]], out=out, settings=settings)
    return out


def _output_files(out: Path) -> list[Path]:
    return sorted(
        p
        for p in out.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(out).parts)
    )


def _texts(out: Path) -> dict[str, str]:
    texts = {}
    for path in _output_files(out):
        if path.suffix in {".csv", ".geojson", ".json", ".html"}:
            texts[path.name] = path.read_text(encoding="utf-8-sig")
    for name, _ in pyogrio.list_layers(out / "hotspots.gpkg"):
        layer = pyogrio.read_dataframe(out / "hotspots.gpkg", layer=str(name))
        texts[f"hotspots.gpkg:{name}"] = pd.DataFrame(layer).to_csv(index=False)
    with sqlite3.connect(out / "hotspots.gpkg") as db:
        texts["hotspots.gpkg:metadata"] = "\n".join(
            m for (m,) in db.execute("SELECT metadata FROM gpkg_metadata")
        )
    return texts


def _cell_centre(values: np.ndarray) -> np.ndarray:
    return np.isclose(np.mod(values, CELL_M), CELL_M / 2, atol=0.05)


def test_public_run_writes_no_home_lists(public_run):
    assert not list(public_run.glob("*.aux.xml"))
    names = {p.name for p in public_run.iterdir()}
    for name in ("cocoon_visits.csv", "cocoon_team_lists.csv", "cocoon_streets.csv"):
        assert name not in names
    assert "cocoon_lists" not in names
    layers = {name for name, _ in pyogrio.list_layers(public_run / "hotspots.gpkg")}
    assert "cocoon_visits" not in layers


def test_scan_every_output_for_ids_and_addresses(public_run, town):
    incidents = pd.read_csv(town["incidents"], encoding="utf-8-sig", dtype=str)
    addresses = pd.read_csv(town["addresses"], encoding="utf-8-sig", dtype=str)
    patrols = pd.read_csv(town["patrols"], encoding="utf-8-sig", dtype=str)
    ids = re.compile(r"SYN-?P?\d{5,6}")  # incident, burglary, address, patrol and zone ids
    assert ids.match(incidents["incident_id"].iloc[0]) and ids.match(addresses["address_id"][0])
    assert ids.match(patrols["patrol_id"].iloc[0])
    postcodes = set(addresses["postcode"])
    homes = set(addresses["address"])
    texts = _texts(public_run)
    assert len(texts) >= 15
    for name, text in texts.items():
        found = ids.search(text)
        assert found is None, f"{name} holds the id {found.group(0)}"
        assert not [p for p in postcodes if p in text], f"{name} holds a postcode"
        # an address is "<number> <street>": look for it as a whole cell or phrase
        leaked = [h for h in homes if re.search(rf"(?<![\w]){re.escape(h)}(?![\w])", text)]
        assert not leaked, f"{name} holds addresses {leaked[:3]}"


def _decimals(token: str) -> int:
    return len(token.split(".")[1]) if "." in token else 0


def test_scan_every_output_for_exact_coordinates(public_run, town):
    """No incident or address point appears as a coordinate pair, in any order or form.

    Pairs, not single numbers: a zone circle's vertex may share one 6-decimal longitude
    with some home by chance, but not both coordinates to 0.1 m.
    """
    from pyproj import Transformer

    incidents = pd.read_csv(town["incidents"], encoding="utf-8-sig")
    addresses = pd.read_csv(town["addresses"], encoding="utf-8-sig")
    xy = np.vstack(
        [
            incidents[["easting", "northing"]].to_numpy(),
            addresses[["easting", "northing"]].to_numpy(),
        ]
    )
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(xy[:, 0], xy[:, 1])
    exact: dict[int, set[tuple[float, float]]] = {0: set(), 1: set(), 6: set(), 7: set()}
    for d in (0, 1):
        exact[d] = {(round(x, d), round(y, d)) for x, y in xy}
    for d in (6, 7):
        pairs = {(round(a, d), round(b, d)) for a, b in zip(lon, lat, strict=True)}
        exact[d] = pairs | {(b, a) for a, b in pairs}
    number = re.compile(r"-?\d+(?:\.\d+)?")
    for name, text in _texts(public_run).items():
        tokens = number.findall(text)
        hits = []
        for a, b in zip(tokens, tokens[1:], strict=False):
            d = _decimals(a)
            if d == _decimals(b) and d in exact:
                if d == 0 and not (len(a) == 6 and len(b) == 6):
                    continue  # only six-digit metres can be British National Grid points
                if (round(float(a), d), round(float(b), d)) in exact[d]:
                    hits.append((a, b))
        assert not hits, f"{name} holds exact coordinates {hits[:5]}"


def test_points_and_zones_sit_on_cell_centres(public_run):
    for path in (public_run / "cocoon_zones.geojson", public_run / "hotspots.gpkg"):
        layers = [None] if path.suffix == ".geojson" else [n for n, _ in pyogrio.list_layers(path)]
        for layer_name in layers:
            layer = gpd.read_file(path, layer=layer_name).to_crs(27700)
            if not len(layer) or layer_name in ("areas", "harm_spots", "dropped_spots"):
                continue
            kinds = set(layer.geom_type)
            if kinds == {"Point"}:
                pts = layer.geometry
            elif "zone_id" in layer:
                pts = layer.geometry.centroid
            else:
                continue
            assert _cell_centre(pts.x.to_numpy()).all(), (path.name, layer_name)
            assert _cell_centre(pts.y.to_numpy()).all(), (path.name, layer_name)


def _count_values(name: str, values: list) -> list:
    return [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)
            and 0 < v < 3 and float(v).is_integer()]  # fmt: skip


def _walk_json(value, key=None, found=None, skip=("parameters", "software", "inputs")):
    found = [] if found is None else found
    if isinstance(value, dict):
        for k, v in value.items():
            if k in skip:
                continue
            if (k.startswith("by_") or k.endswith("_by_reason")) and isinstance(v, dict):
                found += [(k, n) for n in _count_values(k, list(v.values()))]
            else:
                _walk_json(v, k, found)
    elif isinstance(value, list):
        for v in value:
            _walk_json(v, key, found)
    elif key is not None and COUNT_NAME.match(str(key)):
        found += [(key, n) for n in _count_values(key, [value])]
    return found


def test_no_count_below_three_anywhere(public_run):
    for path in _output_files(public_run):
        tables: dict[str, pd.DataFrame] = {}
        if path.suffix == ".csv":
            tables[path.name] = pd.read_csv(path, encoding="utf-8-sig", dtype=object)
        elif path.suffix == ".geojson":
            doc = json.loads(path.read_text())
            tables[path.name] = pd.DataFrame([f["properties"] for f in doc["features"]])
            assert not _walk_json(doc.get("metadata")), path.name
        elif path.suffix == ".json":
            assert not _walk_json(json.loads(path.read_text())), path.name
        elif path.suffix == ".gpkg":
            for name, _ in pyogrio.list_layers(path):
                tables[f"{path.name}:{name}"] = pd.DataFrame(
                    pyogrio.read_dataframe(path, layer=str(name))
                )
        for name, table in tables.items():
            for col in table.columns:
                if COUNT_NAME.match(str(col)):
                    values = pd.to_numeric(table[col], errors="coerce").dropna().tolist()
                    small = _count_values(col, values)
                    assert not small, f"{name}: {col} shows counts {small[:3]}"
            if "offence_mix" in table:
                mixes = table["offence_mix"].dropna().astype(str)
                assert not mixes.str.contains(r":\s*[12](?:;|$)").any(), name


def test_times_are_rounded_to_the_day(public_run):
    for name, text in _texts(public_run).items():
        for match in ISO_TIME.finditer(text):
            hh, mm, ss = match.group(1), match.group(2), match.group(3) or "00"
            assert (hh, mm, ss) == ("00", "00", "00"), f"{name}: {match.group(0)}"


def test_rejected_files_hold_counts_only(public_run):
    for path in public_run.glob("rejected*.csv"):
        table = pd.read_csv(path, encoding="utf-8-sig")
        assert list(table.columns) == ["reason", "rows"], path.name


def test_public_run_has_briefing_and_no_knox_pages(public_run):
    names = {p.name for p in public_run.iterdir()}
    assert "briefing.html" in names  # scanned with every other page above
    assert "knox.csv" in names and "knox.json" in names
    assert "knox.html" not in names and "knox.png" not in names  # cells draw pair counts
    knox = pd.read_csv(public_run / "knox.csv", encoding="utf-8-sig", dtype=object)
    assert not _count_values("observed", pd.to_numeric(knox["observed"], errors="coerce")
                             .dropna().tolist())  # fmt: skip
    run = json.loads((public_run / "run.json").read_text(encoding="utf-8"))
    assert any("knox.html and knox.png are left out" in n for n in run["summary"]["notes"])
    page = (public_run / "briefing.html").read_text(encoding="utf-8")
    assert "knox.html and knox.png are left out" in page
