"""The SYNTHETIC demo town: determinism, volumes, structure, near-repeats, files, CLI.

Expected values are computed here independently of the generator (cKDTree pair counts,
pandas date arithmetic, the shipped harm tables) rather than read back from it.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from scipy.spatial import cKDTree

from hotspots.cli import main  # importing cmd_demo registers `hotspots demo`
from hotspots.demo import (
    DEFAULT_SEED,
    POLICE_UK_CATEGORIES,
    SYNTHETIC_NOTE,
    TOWN_CENTRE_EN,
    DemoTown,
    generate_town,
    write_town,
)
from hotspots.errors import OptionError
from hotspots.schema import (
    ADDRESS_ID,
    ADDRESS_TEXT,
    AREA_NAME,
    DWELLING_BURGLARY,
    INCIDENT_COLUMNS,
    INCIDENT_ID,
    LOCATION,
    OCCURRED_AT,
    OCCURRED_TO,
    OFFENCE,
    OFFENCE_CODE,
    POSTCODE,
    SOURCE_FILE,
    SOURCE_ROW,
    STREET,
    TIME_RESOLUTION,
)

REPO = Path(__file__).resolve().parents[1]
TABLES = REPO / "src" / "hotspots" / "harm" / "tables"
SHIPPED_DISTRICTS = REPO / "data" / "boundaries" / "demo_districts_SYNTHETIC.geojson"

TOWN = generate_town()  # the default town, built once for the module
SMALL = {"n_homes": 2_000, "years": 1}


def _seconds(town: DemoTown, frame_times: pd.Series) -> np.ndarray:
    return (frame_times - town.as_of).dt.total_seconds().to_numpy()


# ---------------------------------------------------------------- determinism


def test_same_seed_gives_identical_frames():
    again = generate_town(seed=DEFAULT_SEED)
    for name in ("incidents", "addresses", "districts", "streets"):
        assert_geodataframe_equal(
            getattr(again, name), getattr(TOWN, name), check_less_precise=False
        )
    pd.testing.assert_frame_equal(again.visits, TOWN.visits)
    pd.testing.assert_frame_equal(again.patrols, TOWN.patrols)
    assert again.as_of == TOWN.as_of and again.seed == TOWN.seed == DEFAULT_SEED


def test_different_seed_gives_a_different_town():
    a = generate_town(seed=1, **SMALL)
    b = generate_town(seed=2, **SMALL)
    assert len(a.incidents) != len(b.incidents) or not a.incidents.geometry.equals(
        b.incidents.geometry
    )
    assert not a.addresses.geometry.equals(b.addresses.geometry)
    assert not a.streets[STREET].equals(b.streets[STREET])


def test_inputs_are_validated():
    with pytest.raises(
        OptionError, match=r"n_homes must be a whole number from 500 to 30,000; got 10"
    ):
        generate_town(n_homes=10)
    with pytest.raises(OptionError, match=r"years must be a finite number > 0; got 0"):
        generate_town(years=0)
    with pytest.raises(
        OptionError, match=r"end must be a date such as 2026-11-22; got '2026-13-40'"
    ):
        generate_town(end="2026-13-40")
    with pytest.raises(OptionError, match=r"end must be a date without a time"):
        generate_town(end="2026-11-22 13:00")
    with pytest.raises(TypeError, match=r"seed must be an integer; got str 'x'"):
        generate_town(seed="x")  # type: ignore[arg-type]


# ---------------------------------------------------------------- incidents


def test_incident_schema_and_labels():
    inc = TOWN.incidents
    assert list(inc.columns) == [*INCIDENT_COLUMNS, "geometry"]
    assert inc.crs.to_epsg() == 27700
    assert inc[INCIDENT_ID].is_unique
    assert (inc[SOURCE_FILE] == "SYNTHETIC demo").all()
    assert inc[SOURCE_ROW].tolist() == list(range(1, len(inc) + 1))
    assert (inc[TIME_RESOLUTION] == "exact").all()
    assert inc[OCCURRED_TO].isna().all()
    assert inc[LOCATION].str.startswith("On or near ").all()
    assert set(inc.geometry.geom_type) == {"Point"}


def test_timestamps_are_london_time_inside_two_years():
    inc = TOWN.incidents
    assert str(inc[OCCURRED_AT].dt.tz) == "Europe/London"
    assert TOWN.as_of == pd.Timestamp("2026-11-22 23:59:59", tz="Europe/London")
    first = pd.Timestamp("2024-11-23", tz="Europe/London")
    assert inc[OCCURRED_AT].min() >= first
    assert inc[OCCURRED_AT].max() <= TOWN.as_of
    assert inc[OCCURRED_AT].is_monotonic_increasing
    # both summer and winter offsets occur (the times are real local times)
    offsets = {t.utcoffset() for t in inc[OCCURRED_AT].iloc[::97]}
    assert offsets == {pd.Timedelta(0), pd.Timedelta(hours=1)}
    # exact times: not all on the hour or at midnight
    assert (inc[OCCURRED_AT].dt.minute != 0).mean() > 0.9


def test_volumes_per_year_are_realistic():
    inc = TOWN.incidents
    year2 = inc[OCCURRED_AT] > TOWN.as_of - pd.Timedelta(days=365)
    for part in (inc[year2], inc[~year2]):
        assert 8_000 <= len(part) <= 12_000
        dwelling = int(part[DWELLING_BURGLARY].sum())
        assert 300 <= dwelling <= 500
    burglary = inc[inc[OFFENCE] == "Burglary"]
    non_dwelling = burglary[~burglary[DWELLING_BURGLARY]]
    assert 20 <= len(non_dwelling) <= 150
    assert (non_dwelling[OFFENCE_CODE] == "Non-residential burglary").all()
    assert (burglary.loc[burglary[DWELLING_BURGLARY], OFFENCE_CODE] == "Residential burglary").all()
    assert not inc.loc[inc[OFFENCE] != "Burglary", DWELLING_BURGLARY].any()


def _harm_table(name: str) -> set[str]:
    return set(pd.read_csv(TABLES / f"{name}.csv")["offence"].astype(str))


def test_every_police_uk_category_and_both_harm_tables():
    inc = TOWN.incidents
    categories = _harm_table("cchi-2026-police-uk")
    assert set(POLICE_UK_CATEGORIES) == categories  # the 14 police.uk names exactly
    counts = inc[OFFENCE].value_counts()
    assert set(counts.index) == categories
    assert counts.min() >= 50
    codes = inc[OFFENCE_CODE].dropna()
    assert set(codes) <= _harm_table("cchi-2026-subgroups")
    # only anti-social behaviour (not a notifiable crime) lacks a subgroup
    assert set(inc.loc[inc[OFFENCE_CODE].isna(), OFFENCE]) == {"Anti-social behaviour"}
    for code in ("Violence with injury", "Violence without injury", "Robbery of personal property"):
        assert code in set(codes)


def test_night_time_economy_on_friday_and_saturday_nights():
    inc = TOWN.incidents
    xy = inc.get_coordinates().to_numpy()
    central = np.hypot(xy[:, 0] - TOWN_CENTRE_EN[0], xy[:, 1] - TOWN_CENTRE_EN[1]) <= 400
    t = inc[OCCURRED_AT]
    hour = t.dt.hour.to_numpy()
    # the night a time belongs to: after midnight counts as the previous evening
    night_of = (t - pd.to_timedelta((hour < 12) * 1, unit="D")).dt.day_of_week.to_numpy()
    weekend_night = np.isin(hour, (22, 23, 0, 1, 2)) & np.isin(night_of, (4, 5))
    rowdy = inc[OFFENCE].isin(["Violence and sexual offences", "Public order"]).to_numpy()
    share_centre = weekend_night[central & rowdy].mean()
    share_rest = weekend_night[~central & rowdy].mean()
    # 10 of 168 hours a week are Fri/Sat 22:00-03:00 (6%); the centre is dominated by them
    assert share_centre > 0.5
    assert share_rest < 0.15


def test_hot_streets_stand_out():
    inc = TOWN.incidents
    violence = inc[(inc[OFFENCE] == "Violence and sexual offences")]
    xy = violence.get_coordinates().to_numpy()
    away = np.hypot(xy[:, 0] - TOWN_CENTRE_EN[0], xy[:, 1] - TOWN_CENTRE_EN[1]) > 600
    per_street = violence.loc[away, LOCATION].value_counts()
    homes = TOWN.addresses[STREET].value_counts()
    rate = (per_street.rename(lambda s: s.removeprefix("On or near ")) / homes).dropna()
    rate = rate[homes.reindex(rate.index) >= 40].sort_values(ascending=False)
    # the worst residential streets have several times the typical rate per home
    assert rate.iloc[0] > 4 * rate.median()


def test_burglaries_show_near_repeat_structure():
    inc = TOWN.incidents
    b = inc[inc[DWELLING_BURGLARY]]
    xy = b.get_coordinates().to_numpy()
    days = _seconds(TOWN, b[OCCURRED_AT]) / 86_400.0
    rng = np.random.default_rng(0)
    shuffles = [rng.permutation(days) for _ in range(99)]
    for d_m, t_days, min_ratio in ((100, 7, 3.0), (400, 42, 1.1)):
        pairs = cKDTree(xy).query_pairs(d_m, output_type="ndarray")
        observed = int((np.abs(days[pairs[:, 0]] - days[pairs[:, 1]]) <= t_days).sum())
        null = np.array(
            [(np.abs(s[pairs[:, 0]] - s[pairs[:, 1]]) <= t_days).sum() for s in shuffles]
        )
        p_value = (int((null >= observed).sum()) + 1) / (len(null) + 1)
        assert observed > min_ratio * null.mean(), (d_m, t_days, observed, null.mean())
        assert p_value == pytest.approx(0.01)
    # follow-ons never break the 400 m / 42 day rule they were drawn under: every
    # burglary is either far from all earlier ones or within 400 m and 42 days of one
    earlier_close = np.zeros(len(b), dtype=bool)
    pairs = cKDTree(xy).query_pairs(400.0, output_type="ndarray")
    gap = days[pairs[:, 1]] - days[pairs[:, 0]]
    later = np.where(gap >= 0, pairs[:, 1], pairs[:, 0])
    earlier_close[later[(np.abs(gap) <= 42) & (gap != 0)]] = True
    assert 0.2 < earlier_close.mean() < 0.8


def test_burglaries_are_at_homes():
    b = TOWN.incidents[TOWN.incidents[DWELLING_BURGLARY]]
    homes = TOWN.addresses.get_coordinates().to_numpy()
    d, _ = cKDTree(homes).query(b.get_coordinates().to_numpy())
    assert d.max() < 0.05


# ---------------------------------------------------------------- places


def test_districts_cover_every_home_and_incident_once():
    districts = TOWN.districts
    assert 3 <= len(districts) <= 4
    assert districts[AREA_NAME].str.endswith("(SYNTHETIC)").all()
    assert (districts["note"] == SYNTHETIC_NOTE).all() and "SYNTHETIC" in SYNTHETIC_NOTE
    assert districts.geometry.is_valid.all()
    for layer in (TOWN.addresses, TOWN.incidents):
        left, _ = districts.sindex.query(layer.geometry, predicate="within")
        assert np.bincount(left, minlength=len(layer)).tolist() == [1] * len(layer)
    assert (TOWN.addresses.groupby(AREA_NAME).size() > 500).all()


def test_town_sits_on_salisbury_plain():
    bounds = TOWN.districts.total_bounds
    cx, cy = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    assert abs(cx - 405_000) < 600 and abs(cy - 148_000) < 600
    assert 3_000 < bounds[2] - bounds[0] < 6_000


def test_addresses_line_streets_with_synthetic_postcodes():
    a = TOWN.addresses
    assert len(a) == 20_000
    assert list(a.columns) == [ADDRESS_ID, ADDRESS_TEXT, STREET, POSTCODE, AREA_NAME, "geometry"]
    assert a[ADDRESS_ID].is_unique and a[ADDRESS_ID].str.fullmatch(r"SYN\d{6}").all()
    assert a[ADDRESS_TEXT].is_unique
    number = a[ADDRESS_TEXT].str.extract(r"^(\d+) (.+)$")
    assert (number[1] == a[STREET]).all()
    assert a[POSTCODE].str.fullmatch(r"ZZ\d \d[ABDEFGHJLNPQRSTUWXYZ]{2}").all()
    assert a.groupby(POSTCODE).size().max() <= 14
    # each postcode unit sits on one street, in one district (like a real unit)
    assert (a.groupby(POSTCODE)[STREET].nunique() == 1).all()
    assert (a.groupby(POSTCODE)[AREA_NAME].nunique() == 1).all()
    # every home fronts its own street, 12 m back from the centre line
    lines = TOWN.streets.set_index(STREET).geometry
    assert lines.index.is_unique
    dist = gpd.GeoSeries(lines.loc[a[STREET]].to_numpy(), crs=27700).distance(
        a.geometry.reset_index(drop=True)
    )
    assert dist.between(10.0, 13.0).all()


@pytest.mark.parametrize("n_homes", [20_000, 30_000], ids=["default", "maximum"])
def test_homes_stand_apart_and_off_other_streets(n_homes):
    town = TOWN if n_homes == 20_000 else generate_town(n_homes=n_homes, years=1)
    a = town.addresses
    assert len(a) == n_homes
    xy = a.get_coordinates().to_numpy()
    d, _ = cKDTree(xy).query(xy, k=2)
    assert d[:, 1].min() >= 5.0 - 1e-6  # no two homes on one spot
    plot, street = town.streets.sindex.query(a.geometry, predicate="dwithin", distance=10.0)
    other = town.streets[STREET].to_numpy()[street] != a[STREET].to_numpy()[plot]
    assert not other.any()  # no home stands in a neighbouring street


def test_streets_are_named_lines():
    s = TOWN.streets
    assert list(s.columns) == [STREET, "geometry"]
    assert set(s.geom_type) == {"LineString"}
    assert s[STREET].is_unique and len(s) > 150
    assert {"High Street", "Ring Road", "London Road"} <= set(s[STREET])
    assert s.length.sum() > 100_000  # over 100 km of street


# ---------------------------------------------------------------- logs


def test_visit_log_mixes_on_time_late_and_missed_zones():
    v = TOWN.visits
    assert list(v.columns) == [ADDRESS_ID, "visited_at", "outcome"]
    assert str(v["visited_at"].dt.tz) == "Europe/London"
    assert set(v["outcome"]) == {"advice_given", "no_answer", "card_left"}
    assert v["visited_at"].max() <= TOWN.as_of
    known = v[ADDRESS_ID].isin(TOWN.addresses[ADDRESS_ID])
    assert sorted(v.loc[~known, ADDRESS_ID]) == ["SYN999998", "SYN999999"]
    # zones: dwelling burglaries of the 42 days before as_of (computed here afresh)
    inc = TOWN.incidents
    b = inc[inc[DWELLING_BURGLARY] & (inc[OCCURRED_AT] > TOWN.as_of - pd.Timedelta(days=42))]
    assert len(b) >= 20
    home_xy = TOWN.addresses.set_index(ADDRESS_ID).geometry
    vv = v[known].reset_index(drop=True)
    vxy = gpd.GeoSeries(home_xy.loc[vv[ADDRESS_ID]].to_numpy()).get_coordinates().to_numpy()
    tree = cKDTree(vxy)
    first_delay_h = []
    for (x, y), when in zip(b.get_coordinates().to_numpy(), b[OCCURRED_AT], strict=True):
        near = np.asarray(tree.query_ball_point((x, y), 400.0), dtype=int)
        after = vv["visited_at"].iloc[near] if len(near) else pd.Series([], dtype=object)
        after = after[(after >= when) & (after <= when + pd.Timedelta(days=7))]
        first_delay_h.append((after.min() - when).total_seconds() / 3600 if len(after) else np.inf)
    delay = np.array(first_delay_h)
    old_enough = (TOWN.as_of - b[OCCURRED_AT]).dt.total_seconds().to_numpy() > 7 * 86_400
    assert (delay[old_enough] <= 48).mean() > 0.5  # most zones visited in time
    assert ((delay > 48) & np.isfinite(delay))[old_enough].any()  # some late
    assert np.isinf(delay[old_enough]).any()  # some never


def test_patrol_log_is_last_week_at_the_busy_places():
    p = TOWN.patrols
    assert list(p.columns) == [
        "patrol_id",
        "started_at",
        "easting",
        "northing",
        "minutes",
        "activity",
        "interactions",
    ]
    assert set(p["activity"]) <= {"patrol", "stop_search", "business_check", "community_engagement"}
    assert (p["interactions"] >= 0).all()
    assert p["patrol_id"].is_unique and len(p) >= 100
    assert str(p["started_at"].dt.tz) == "Europe/London"
    assert (p["started_at"] > TOWN.as_of - pd.Timedelta(days=7)).all()
    assert (p["started_at"] <= TOWN.as_of).all()
    assert p["minutes"].between(5, 60).all()
    # most patrols stand in their district's highest-harm 150 m cells of the last year,
    # harm being the shipped CCHI weights (computed here from the table, not by the
    # generator): the places a harm-spot plan sends them to
    weights = pd.read_csv(TABLES / "cchi-2026-police-uk.csv").set_index("offence")["weight"]
    inc = TOWN.incidents[TOWN.incidents[OCCURRED_AT] > TOWN.as_of - pd.Timedelta(days=365)]
    inc = gpd.sjoin(inc, TOWN.districts[["area", "geometry"]], predicate="within")
    cells = np.floor(inc.get_coordinates().to_numpy() / 150.0).astype(np.int64)
    harm = (
        pd.Series(inc[OFFENCE].map(weights).to_numpy())
        .groupby([inc["area"].to_numpy(), cells[:, 0], cells[:, 1]])
        .sum()
    )
    top = {(a, b) for _, a, b in harm.groupby(level=0).nlargest(10).droplevel(0).index}
    patrol_cells = np.floor(p[["easting", "northing"]].to_numpy() / 150.0).astype(np.int64)
    in_top = np.array([(int(a), int(b)) in top for a, b in patrol_cells])
    assert in_top.mean() > 0.7  # the 40 cells are under 6% of the town


# ---------------------------------------------------------------- files


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Path]:
    return write_town(TOWN, tmp_path_factory.mktemp("town"))


def test_write_town_files(written):
    assert set(written) == {
        "incidents",
        "addresses",
        "districts",
        "streets",
        "visits",
        "patrols",
        "readme",
    }
    names = sorted(p.name for p in written["incidents"].parent.iterdir())
    assert names == [
        "README.txt",
        "addresses.csv",
        "districts.geojson",
        "incidents.csv",
        "patrols.csv",
        "streets.geojson",
        "visits.csv",
    ]  # nothing half-written
    readme = written["readme"].read_text(encoding="utf-8")
    assert readme.startswith("SYNTHETIC DEMO DATA") and f"seed={DEFAULT_SEED}" in readme


def test_incidents_csv_round_trips(written):
    table = pd.read_csv(
        written["incidents"], encoding="utf-8-sig", dtype=str, keep_default_na=False
    )
    assert list(table.columns) == [
        "incident_id",
        "occurred_at",
        "occurred_to",
        "offence",
        "offence_code",
        "dwelling_burglary",
        "location",
        "easting",
        "northing",
        "time_resolution",
    ]
    assert table["occurred_at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d").all()
    back = pd.to_datetime(table["occurred_at"], utc=True).dt.tz_convert("Europe/London")
    assert (back.to_numpy() == TOWN.incidents[OCCURRED_AT].to_numpy()).all()
    xy = TOWN.incidents.get_coordinates()
    np.testing.assert_allclose(table["easting"].astype(float), xy["x"], atol=0.05)
    np.testing.assert_allclose(table["northing"].astype(float), xy["y"], atol=0.05)
    assert set(table["dwelling_burglary"]) == {"True", "False"}
    assert (table["occurred_to"] == "").all()


def test_addresses_visits_patrols_csv(written):
    a = pd.read_csv(written["addresses"], encoding="utf-8-sig")
    assert list(a.columns) == ["address_id", "address", "street", "postcode", "easting", "northing"]
    assert len(a) == len(TOWN.addresses)
    v = pd.read_csv(written["visits"], encoding="utf-8-sig")
    assert list(v.columns) == ["address_id", "visited_at", "outcome"] and len(v) == len(TOWN.visits)
    p = pd.read_csv(written["patrols"], encoding="utf-8-sig")
    assert list(p.columns)[:2] == ["patrol_id", "started_at"] and len(p) == len(TOWN.patrols)


def test_geojson_layers_are_labelled(written):
    doc = json.loads(written["districts"].read_text(encoding="utf-8"))
    assert "SYNTHETIC" in doc["metadata"]["note"] and doc["metadata"]["seed"] == DEFAULT_SEED
    assert "crs" not in doc
    assert sorted(f["properties"]["area"] for f in doc["features"]) == sorted(
        TOWN.districts[AREA_NAME]
    )
    back = gpd.read_file(written["districts"]).to_crs(27700)
    assert back.geometry.union_all().symmetric_difference(TOWN.districts.union_all()).area < 50
    streets = gpd.read_file(written["streets"])
    assert len(streets) == len(TOWN.streets)


def test_written_incidents_read_by_ingest(written):
    ingest = importlib.import_module("hotspots.ingest")
    if not hasattr(ingest, "read_incidents"):
        pytest.skip("hotspots.ingest.read_incidents is not in this build yet")
    from hotspots.config import IngestOptions

    result = ingest.read_incidents([written["incidents"]], IngestOptions())
    got = result.incidents
    assert len(got) == len(TOWN.incidents) and len(result.rejected) == 0
    assert got.crs.to_epsg() == 27700
    assert set(got[TIME_RESOLUTION]) == {"exact"}
    assert int(got[DWELLING_BURGLARY].sum()) == int(TOWN.incidents[DWELLING_BURGLARY].sum())


def test_shipped_district_boundaries_match_the_generator():
    doc = json.loads(SHIPPED_DISTRICTS.read_text(encoding="utf-8"))
    assert "SYNTHETIC" in doc["metadata"]["note"]
    shipped = gpd.read_file(SHIPPED_DISTRICTS).to_crs(27700).sort_values(AREA_NAME)
    own = TOWN.districts.sort_values(AREA_NAME)
    assert shipped[AREA_NAME].tolist() == own[AREA_NAME].tolist()
    for a, b in zip(shipped.geometry, own.geometry, strict=True):
        assert a.symmetric_difference(b).area < 0.001 * b.area


# ---------------------------------------------------------------- CLI


def _run(args: list[str]) -> int:
    """Exit status of ``hotspots ARGS`` run in-process."""
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_cli_demo_data_only(tmp_path, capsys):
    assert _run(["demo", "--out", str(tmp_path / "demo"), "--homes", "2000", "--data-only"]) == 0
    data = tmp_path / "demo" / "data"
    assert (data / "incidents.csv").exists() and (data / "README.txt").exists()
    assert "SYNTHETIC demo town" in capsys.readouterr().err
    assert not (tmp_path / "demo" / "map.html").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--homes", "10"], r"--homes must be from 500 to 30000; got 10\. Try --homes 20000\."),
        (["--end", "last tuesday"], r"--end must be a date such as 2026-11-22; got 'last tuesday'"),
        (["--end", "2026-11-22 13:00"], r"--end must be a date such as 2026-11-22"),
    ],
)
def test_cli_demo_user_mistakes_exit_1(tmp_path, capsys, args, message):
    assert _run(["demo", "--out", str(tmp_path), "--data-only", *args]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert re.search(message, err)


def test_cli_demo_help(capsys):
    assert _run(["demo", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--out", "--seed", "--homes", "--end", "--data-only"):
        assert option in text
    assert "SYNTHETIC" in text


@pytest.mark.slow
def test_cli_demo_runs_the_weekly_pipeline(tmp_path, capsys):
    out = tmp_path / "demo"
    assert _run(["demo", "--out", str(out)]) == 0
    for name in (
        "map.html",
        "briefing.html",
        "harm_spots.geojson",
        "cocoon_zones.geojson",
        "cocoon_visits.csv",
        "run.json",
        "knox.csv",
    ):
        assert (out / name).exists(), name
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    summary = run["summary"]
    assert summary["time_resolution"] == "exact"
    assert run["parameters"]["seed"] == DEFAULT_SEED and run["parameters"]["tiles"] is None
    assert run["parameters"]["area_field"] == "area"
    assert (out / "data" / "incidents.csv").exists()
    # the town exercises every stage: a near-repeat finding, a mix of cocoon outcomes,
    # the two deliberately unknown visit ids rejected, spots in every district
    assert summary["knox"]["radius_m"] >= 200 and summary["knox"]["window_days"] >= 21
    assert 0.5 < summary["cocoon"]["compliance"]["share"] < 0.95
    assert summary["cocoon"]["by_status"].get("visited", 0) > 0
    rejected = pd.read_csv(out / "rejected_visits.csv", encoding="utf-8-sig")
    assert sorted(rejected["reason"]) == ["unknown_address", "unknown_address"]
    areas = {row["area"] for row in summary["spots"]["per_area"]}
    assert areas == set(TOWN.districts[AREA_NAME])
    assert len(list((out / "cocoon_lists").glob("*.html"))) >= 3


def test_visits_around_the_autumn_clock_change():
    from hotspots.demo._logs import draw_visits

    # 01:44 on 25 Oct 2026 happens twice in London; the first (BST) reading is meant
    when = pd.Timestamp("2026-10-25 01:44").tz_localize("Europe/London", ambiguous=True)
    home_xy = np.array([[0.0, 0.0], *[[10.0 * i, 5.0] for i in range(1, 30)]])
    ids = np.array([f"H{i}" for i in range(len(home_xy))], dtype=object)
    as_of = pd.Timestamp("2026-11-01 12:00", tz="Europe/London")
    for seed in range(5):
        visits = draw_visits(
            np.random.default_rng(seed),
            burglary_times=pd.Series([when]),
            burglary_homes=np.array([0]),
            home_xy=home_xy,
            home_ids=ids,
            as_of=as_of,
        )
        real = visits[~visits[ADDRESS_ID].isin(["SYN999998", "SYN999999"])]
        assert "H0" not in set(real[ADDRESS_ID])  # the burgled home is not a target
        assert (real["visited_at"] > when).all() and (real["visited_at"] <= as_of).all()
        assert (real["visited_at"].dt.second == 0).all()


def test_log_files_use_one_utc_offset(written):
    for key, column, frame in (
        ("visits", "visited_at", TOWN.visits),
        ("patrols", "started_at", TOWN.patrols),
    ):
        text = pd.read_csv(written[key], encoding="utf-8-sig", dtype=str)[column]
        assert text.str.endswith("+00:00").all()
        back = pd.to_datetime(text, format="ISO8601").dt.tz_convert("Europe/London")
        assert (back.to_numpy() == frame[column].to_numpy()).all()


def test_visit_reader_accepts_local_offsets_across_the_clock_change(tmp_path):
    from hotspots.cocoon import read_visits

    local = TOWN.visits.copy()
    assert {t.utcoffset() for t in local["visited_at"]} == {pd.Timedelta(0), pd.Timedelta(hours=1)}
    path = tmp_path / "visits_local.csv"
    local.assign(visited_at=local["visited_at"].map(pd.Timestamp.isoformat)).to_csv(
        path, index=False
    )
    visits, rejected = read_visits(path, addresses=TOWN.addresses)
    assert len(visits) == len(local) - 2 and len(rejected) == 2


def test_both_shipped_harm_tables_weight_the_town():
    harm = pytest.importorskip("hotspots.harm")
    by_category = harm.apply_harm(TOWN.incidents, harm.load_harm_table("cchi-2026-police-uk"))
    assert by_category["harm"].notna().all() and (by_category["harm"] > 0).all()
    table = harm.load_harm_table("cchi-2026-subgroups")
    # anti-social behaviour has no ONS subgroup and no CCHI value: the only gap
    with pytest.raises(harm_error(), match=r"no weight for 1 offence value.*'Anti-social"):
        harm.apply_harm(TOWN.incidents, table)
    by_code = harm.apply_harm(TOWN.incidents, table, unknown="zero")
    asb = by_code[OFFENCE] == "Anti-social behaviour"
    assert (by_code.loc[asb, "harm"] == 0).all() and (by_code.loc[~asb, "harm"] > 0).all()
    serious = by_code[by_code[OFFENCE_CODE] == "Violence with injury"]["harm"]
    assert serious.to_numpy() == pytest.approx(365.0)
    injury_free = by_code[by_code[OFFENCE_CODE] == "Violence without injury"]["harm"]
    assert injury_free.to_numpy() == pytest.approx(10.0)


def harm_error() -> type[Exception]:
    from hotspots.errors import SchemaError

    return SchemaError


def test_console_command_reports_a_mistake_in_one_line(tmp_path):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "hotspots", "demo", "--homes", "99", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    err = " ".join(done.stderr.split())
    assert "Error: --homes must be from 500 to 30000; got 99. Try --homes 20000." in err
    assert not (tmp_path / "data").exists()  # nothing written for a refused run
