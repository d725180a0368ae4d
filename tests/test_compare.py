"""``hotspots compare``: periods, the area x category table, shares, concentration, CLI.

Fixtures are a few points in British National Grid metres whose answers are worked out
by hand in the comments; the realdata tests check Essex against independent pandas and
geopandas computations from the raw police.uk CSVs.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from tests.conftest import POLICE_UK_HEADER, run_cli, shared_path, write_police_uk

from hotspots.demo import generate_town
from hotspots.errors import DataQualityWarning, OptionError
from hotspots.harm import apply_harm, load_harm_table
from hotspots.reports import (
    ALL_AREAS,
    ALL_CRIME,
    IncompletePeriodError,
    Period,
    category_shares,
    check_coverage,
    compare_periods,
    compare_table,
    comparison_period,
    concentration,
    gini,
    period_from,
    share_headline,
)
from hotspots.schema import AREA_NAME, HARM, OCCURRED_AT, OCCURRED_TO, OFFENCE, TIME_RESOLUTION

TZ = "Europe/London"


def month_incidents(rows: list[tuple[str, str, float, float, float]]) -> gpd.GeoDataFrame:
    """(month YYYY-MM, offence, x, y, harm) rows as month-resolution weighted incidents."""
    months = pd.to_datetime([r[0] + "-01" for r in rows]).tz_localize(TZ)
    ends = (months + pd.offsets.MonthEnd(0)).normalize() + pd.Timedelta(hours=23, minutes=59)
    return gpd.GeoDataFrame(
        {
            OCCURRED_AT: months,
            OCCURRED_TO: ends,
            OFFENCE: [r[1] for r in rows],
            HARM: [r[4] for r in rows],
            TIME_RESOLUTION: "month",
        },
        geometry=gpd.points_from_xy([r[2] for r in rows], [r[3] for r in rows]),
        crs=27700,
    )


def two_areas() -> gpd.GeoDataFrame:
    """West: 0-300 m x 0-300 m (4 cells of 150 m); East: 300-600 m x 0-300 m."""
    return gpd.GeoDataFrame(
        {AREA_NAME: ["East", "West"]},
        geometry=[shapely.box(300, 0, 600, 300), shapely.box(0, 0, 300, 300)],
        crs=27700,
    )


# 2024-01..2025-02: West has robberies (harm 10) and thefts (harm 1), East thefts only
ROWS = [
    ("2024-01", "Robbery", 10, 10, 10.0),
    ("2024-01", "Theft", 20, 20, 1.0),
    ("2024-02", "Theft", 400, 10, 1.0),
    ("2025-01", "Robbery", 10, 10, 10.0),
    ("2025-01", "Robbery", 11, 11, 10.0),
    ("2025-01", "Theft", 200, 200, 1.0),
    ("2025-02", "Theft", 400, 10, 1.0),
    ("2025-02", "Theft", 410, 10, 1.0),
    *[(f"2024-{m:02d}", "Theft", 420, 20, 1.0) for m in range(3, 13)],
]


@pytest.fixture
def incidents() -> gpd.GeoDataFrame:
    return month_incidents(ROWS)


def P(start: str, end: str, label: str = "current") -> Period:  # noqa: N802 - short fixture name
    return Period(pd.Timestamp(start), pd.Timestamp(end), label)


# ---------------------------------------------------------------- periods


def test_same_period_last_year_and_previous_cover_the_named_months(incidents):
    cur = period_from(incidents, start="2025-01-01", end="2025-02-28")
    assert cur.months == ["2025-01", "2025-02"]
    last_year = comparison_period(cur, incidents, against="same-period-last-year")
    assert last_year.months == ["2024-01", "2024-02"]
    assert last_year.end == pd.Timestamp("2024-02-29")  # leap year: still the month end
    previous = comparison_period(cur, incidents, against="previous")
    assert previous.months == ["2024-11", "2024-12"]
    explicit = comparison_period(
        cur, incidents, against="dates", against_start="2024-03-01", against_end="2024-05-31"
    )
    assert explicit.months == ["2024-03", "2024-04", "2024-05"]


def test_default_period_is_the_last_twelve_complete_months(incidents):
    cur = period_from(incidents)
    assert (cur.months[0], cur.months[-1], len(cur.months)) == ("2024-03", "2025-02", 12)
    assert cur.describe() == "Mar 2024 to Feb 2025 (12 months)"


def test_part_month_on_month_data_is_refused(incidents):
    with pytest.raises(OptionError, match="covers part of a month.*start on a 1st"):
        period_from(incidents, start="2025-01-15", end="2025-02-28")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"start": "2025-13-01"}, "--start '2025-13-01' is not a date"),
        ({"start": "2025-02-01", "end": "2025-01-31"}, "is after --end"),
    ],
)
def test_bad_dates_are_one_line_errors(incidents, kwargs, match):
    with pytest.raises(OptionError, match=match):
        period_from(incidents, **kwargs)


def test_explicit_comparison_needs_both_dates(incidents):
    cur = period_from(incidents, start="2025-01-01", end="2025-02-28")
    with pytest.raises(OptionError, match="need both --against-start and --against-end"):
        comparison_period(cur, incidents, against="dates", against_start="2024-01-01")
    with pytest.raises(OptionError, match="--against must be one of"):
        comparison_period(cur, incidents, against="last-week")  # type: ignore[arg-type]


def test_a_month_without_rows_inside_the_span_makes_the_period_incomplete(incidents):
    gap = incidents[incidents[OCCURRED_AT].dt.strftime("%Y-%m") != "2024-06"]
    period = P("2024-05-01", "2024-07-31", "comparison")
    with pytest.raises(IncompletePeriodError, match="comparison period lacks 2024-06"):
        check_coverage(gap, [period])
    with pytest.warns(DataQualityWarning, match="lacks 2024-06.*undercount"):
        missing = check_coverage(gap, [period], allow_incomplete=True)
    assert missing == {"comparison": ["2024-06"]}


def test_months_outside_the_data_are_missing(incidents):
    period = P("2023-12-01", "2024-01-31", "comparison")
    with pytest.raises(IncompletePeriodError, match="lacks 2023-12"):
        check_coverage(incidents, [period])


# ---------------------------------------------------------------- the table


def test_compare_table_by_area_and_category_hand_counts(incidents):
    from hotspots.areas import label_points

    labels = label_points(incidents.geometry, two_areas())
    cur, cmp = P("2025-01-01", "2025-02-28"), P("2024-01-01", "2024-02-29", "comparison")
    t = compare_table(incidents, current=cur, comparison=cmp, area_labels=labels)
    key = t.set_index([AREA_NAME, OFFENCE])
    # West: robbery 2 now (20 harm) vs 1 (10); theft 1 vs 1. East: theft 2 vs 1; robbery 0 vs 0
    assert key.loc[("West", "Robbery"), ["count_current", "count_comparison"]].tolist() == [2, 1]
    assert key.loc[("West", "Robbery"), "count_change_pct"] == pytest.approx(100.0)
    assert key.loc[("West", "Robbery"), "harm_change"] == pytest.approx(10.0)
    assert key.loc[("East", "Robbery"), ["count_current", "count_comparison"]].tolist() == [0, 0]
    assert np.isnan(key.loc[("East", "Robbery"), "count_change_pct"])
    assert key.loc[("East", "Theft"), "count_change"] == 1
    assert key.loc[("West", ALL_CRIME), ["count_current", "count_comparison"]].tolist() == [3, 2]
    assert key.loc[("East", ALL_CRIME), "harm_current"] == pytest.approx(2.0)
    overall = t[(t[AREA_NAME] == ALL_AREAS) & (t[OFFENCE] == ALL_CRIME)].iloc[0]
    assert (overall["count_current"], overall["count_comparison"]) == (5, 3)
    assert overall["count_change_pct"] == pytest.approx(66.7)
    assert t["count_current"].dtype == np.int64
    assert len(t) == 2 * 2 + 2 + 2 + 1  # area x category, area totals, by offence, overall


def test_compare_does_not_change_its_input(incidents):
    before = incidents.copy()
    compare_periods(incidents, areas=two_areas(), start="2025-01-01", end="2025-02-28",
                    against="same-period-last-year")  # fmt: skip
    pd.testing.assert_frame_equal(incidents, before)


# ---------------------------------------------------------------- shares and concentration


def test_category_shares_and_headline_hand_worked():
    inc = pd.DataFrame(
        {OFFENCE: ["Robbery"] * 1 + ["Burglary"] * 1 + ["Theft"] * 8,
         HARM: [50.0, 20.0] + [1.25] * 8}
    )  # fmt: skip
    shares = category_shares(inc)
    assert shares[OFFENCE].tolist() == ["Robbery", "Burglary", "Theft"]  # harm per offence
    assert shares["count_share"].tolist() == pytest.approx([0.1, 0.1, 0.8])
    assert shares["harm_share"].tolist() == pytest.approx([0.625, 0.25, 0.125])
    assert shares["cum_harm_share"].tolist() == pytest.approx([0.625, 0.875, 1.0])
    line = share_headline(shares, area=ALL_AREAS, harm_target=0.75)
    assert line.startswith("2 categories (Robbery, Burglary), 20% of offences, carry 88% of harm")


def test_gini_matches_the_lorenz_area():
    x = np.array([0.0, 1.0, 2.0, 7.0])
    # Lorenz points (ascending): 0, .1, .3, 1 at quarters; area = .25*(0+.1)/2+.25*(.1+.3)/2
    # + .25*(.3+1)/2 + .25*(0)/2 = .0125+.05+.1625 = .225; G = 1 - 2*.225 = .55
    assert gini(x) == pytest.approx(0.55)


def test_concentration_on_four_cells(incidents):
    areas = two_areas()
    from hotspots.areas import label_points

    cur = incidents[incidents[OCCURRED_AT].dt.year == 2025]
    labels = label_points(cur.geometry, areas)
    summary, curve = concentration(cur, areas=areas, area_labels=labels, cell_m=150)
    west = summary.set_index(AREA_NAME).loc["West"]
    # West: 4 cells; harm 20 in cell (0,0), 1 in cell (1,1): cells 20, 1, 0, 0
    assert west["n_cells"] == 4
    assert west["study_area_km2"] == pytest.approx(0.09)
    assert west["cells_for_50pct_harm"] == 1
    assert west["km2_for_50pct_harm"] == pytest.approx(0.0225)
    assert west["gini"] == pytest.approx(gini(np.array([20.0, 1.0, 0.0, 0.0])), abs=1e-4)
    w = curve[curve[AREA_NAME] == "West"].set_index("cell_share")
    assert w.loc[0.5, "harm_share"] == pytest.approx(1.0)
    assert w.loc[0.2, "harm_share"] == pytest.approx(20 / 21)
    assert summary[AREA_NAME].tolist() == ["East", "West", ALL_AREAS]


# ---------------------------------------------------------------- the demo town


def test_demo_two_years_gives_twelve_months_against_the_previous_twelve():
    town = generate_town(n_homes=600)
    weighted = apply_harm(town.incidents, load_harm_table())
    result = compare_periods(weighted, areas=town.districts)
    assert result.current.n_months == 12
    assert result.comparison.n_months == 12
    assert result.comparison.end + pd.Timedelta(days=1) == result.current.start
    assert result.current.end == pd.Timestamp(town.as_of.date())
    total = result.table[
        (result.table[AREA_NAME] == ALL_AREAS) & (result.table[OFFENCE] == ALL_CRIME)
    ]
    n_cur = int(total["count_current"].iloc[0])
    days = weighted[OCCURRED_AT].dt.tz_localize(None).dt.normalize()
    independent = int(((days >= result.current.start) & (days <= result.current.end)).sum())
    assert n_cur == independent
    assert result.missing_months == {"current": [], "comparison": []}


# ---------------------------------------------------------------- command line

HEADER = POLICE_UK_HEADER


def police_uk_folder(folder: Path, months: list[str]) -> Path:
    """One police.uk file per month near Southend: 3 robberies and 2 thefts a month."""
    folder.mkdir(parents=True, exist_ok=True)
    for m in months:
        rows = []
        for i, kind in enumerate(["Robbery"] * 3 + ["Other theft"] * 2):
            rows.append([f"{m}-{i}", m, "Essex Police", "Essex Police", f"{0.71 + i * 0.001:.6f}",
                         "51.538000", "On or near High Street", "E01015800",
                         "Southend-on-Sea 001A", kind, "", ""])  # fmt: skip
        write_police_uk(folder / f"{m}-essex-street.csv", rows)
    return folder


def test_compare_command_writes_its_outputs_from_folders(tmp_path, capsys):
    data = police_uk_folder(tmp_path / "data", ["2024-01", "2024-02", "2025-01", "2025-02"])
    out = tmp_path / "out"
    code, text = run_cli(["compare", str(data), "--start", "2025-01-01", "--end", "2025-02-28",
                      "--against", "same-period-last-year", "--out", str(out)], capsys)  # fmt: skip
    assert code == 0, text
    assert "Jan 2024 to Feb 2024" in text
    table = pd.read_csv(out / "compare.csv", encoding="utf-8-sig")
    robbery = table[table[OFFENCE] == "Robbery"].iloc[0]
    assert (robbery["count_current"], robbery["count_comparison"]) == (6, 6)
    html = (out / "compare.html").read_text(encoding="utf-8")
    assert "size: A4 landscape" in html and "Robbery" in html
    run_json = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run_json["compare"]["periods"][1]["months"] == ["2024-01", "2024-02"]
    assert (out / "monthly_harm.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_command_refuses_an_incomplete_period(tmp_path, capsys):
    data = police_uk_folder(tmp_path / "data", ["2024-01", "2025-01", "2025-02"])
    out = str(tmp_path / "o")
    code, text = run_cli(["compare", str(data), "--start", "2025-01-01", "--end", "2025-02-28",
                      "--against", "same-period-last-year", "--out", out], capsys)  # fmt: skip
    assert code == 1
    assert "Incomplete period: comparison period lacks 2024-02" in text
    assert "--allow-incomplete" in text
    assert not (tmp_path / "o" / "compare.csv").exists()


def test_compare_help_names_units():
    import typer.testing

    from hotspots.cli import app

    result = typer.testing.CliRunner().invoke(app, ["compare", "--help"])
    assert result.exit_code == 0
    assert "--cell-m" in result.output and "--against" in result.output


# ---------------------------------------------------------------- Essex (real data)

ESSEX_MONTHS = {"2024": ["01", "02", "03", "04"], "2025": ["01", "02", "03", "04"]}


@pytest.fixture(scope="module")
def essex_compare():
    from hotspots.areas import read_areas
    from hotspots.ingest import read_incidents

    folders = [
        shared_path("police_uk", "essex_2025"),
        shared_path("police_uk", "essex_2024_jan-apr"),
    ]
    lad = shared_path("boundaries", "essex_lad2013.geojson")
    inc = read_incidents(folders).incidents
    weighted = apply_harm(inc, load_harm_table())
    areas = read_areas(lad, area_field="LAD13NM", working_crs=weighted.crs)
    result = compare_periods(weighted, areas=areas, start="2025-01-01", end="2025-04-30",
                             against="same-period-last-year")  # fmt: skip
    return result, lad


def _raw_essex(lad: Path) -> gpd.GeoDataFrame:
    """Independent count: the raw CSVs, pandas, and geopandas.sjoin to the LAD polygons."""
    frames = []
    for folder, year in (("essex_2025", "2025"), ("essex_2024_jan-apr", "2024")):
        for mm in ESSEX_MONTHS[year]:
            path = shared_path("police_uk", folder, f"{year}-{mm}-essex-street.csv.gz")
            frames.append(
                pd.read_csv(path, usecols=["Month", "Longitude", "Latitude", "Crime type"])
            )
    raw = pd.concat(frames, ignore_index=True).dropna(subset=["Longitude", "Latitude"])
    points = gpd.GeoDataFrame(
        raw, geometry=gpd.points_from_xy(raw["Longitude"], raw["Latitude"]), crs=4326
    ).to_crs(27700)
    districts = gpd.read_file(lad)[["LAD13NM", "geometry"]].to_crs(27700)
    joined = gpd.sjoin(points, districts, how="inner", predicate="intersects")
    return joined[~joined.index.duplicated(keep="first")]


@pytest.mark.realdata
def test_essex_jan_apr_2025_against_2024_a_dozen_cells(essex_compare):
    result, lad = essex_compare
    joined = _raw_essex(lad)
    joined["year"] = joined["Month"].str[:4]
    counts = joined.groupby(["LAD13NM", "Crime type", "year"]).size()
    table = result.table.set_index([AREA_NAME, OFFENCE])
    cells = [
        ("Basildon", "Burglary"), ("Chelmsford", "Violence and sexual offences"),
        ("Colchester", "Shoplifting"), ("Southend-on-Sea", "Drugs"), ("Thurrock", "Robbery"),
        ("Tendring", "Anti-social behaviour"), ("Harlow", "Vehicle crime"),
        ("Uttlesford", "Burglary"), ("Maldon", "Criminal damage and arson"),
        ("Epping Forest", "Other theft"), ("Castle Point", "Public order"),
        ("Braintree", "Possession of weapons"),
    ]  # fmt: skip
    for area, offence in cells:
        row = table.loc[(area, offence)]
        assert row["count_current"] == counts.get((area, offence, "2025"), 0), (area, offence)
        assert row["count_comparison"] == counts.get((area, offence, "2024"), 0), (area, offence)
    assert result.current.months == ["2025-01", "2025-02", "2025-03", "2025-04"]
    assert result.comparison.months == ["2024-01", "2024-02", "2024-03", "2024-04"]


@pytest.mark.realdata
def test_essex_category_shares_and_concentration_independent(essex_compare):
    result, lad = essex_compare
    joined = _raw_essex(lad)
    now = joined[joined["Month"].str.startswith("2025")].copy()
    table_csv = (
        Path(__file__).resolve().parents[1] / "src/hotspots/harm/tables/cchi-2026-police-uk.csv"
    )
    weights = pd.read_csv(table_csv, comment="#").set_index("offence")["weight"]
    now["harm"] = now["Crime type"].map(weights)
    assert now["harm"].notna().all()
    by_type = now.groupby("Crime type")["harm"].agg(["size", "sum"])
    shares = result.shares[result.shares[AREA_NAME] == ALL_AREAS].set_index(OFFENCE)
    inside = shares["count"].sum()
    for offence in ("Burglary", "Violence and sexual offences", "Shoplifting"):
        # All areas includes the few strays outside the LADs; compare shares loosely
        assert shares.loc[offence, "count"] >= by_type.loc[offence, "size"]
        assert shares.loc[offence, "count_share"] == pytest.approx(
            by_type.loc[offence, "size"] / by_type["size"].sum(), abs=0.002
        )
        assert shares.loc[offence, "harm_share"] == pytest.approx(
            by_type.loc[offence, "sum"] / by_type["sum"].sum(), abs=0.002
        )
    assert inside == int(
        result.table.query("row_type == 'overall' and offence == 'All crime'")[
            "count_current"
        ].iloc[0]
    )
    # concentration for Basildon: independent 150 m cells from the raw points
    bas = now[now["LAD13NM"] == "Basildon"]
    cells = bas.groupby([np.floor(bas.geometry.x / 150), np.floor(bas.geometry.y / 150)])[
        "harm"
    ].sum()
    ordered = np.sort(cells.to_numpy())[::-1]
    k50 = int(np.searchsorted(np.cumsum(ordered) / ordered.sum(), 0.5) + 1)
    conc = result.concentration.set_index(AREA_NAME).loc["Basildon"]
    assert conc["cells_for_50pct_harm"] == k50
    district = gpd.read_file(lad).to_crs(27700).set_index("LAD13NM").loc["Basildon", "geometry"]
    assert conc["study_area_km2"] == pytest.approx(district.area / 1e6, rel=1e-3)
    padded = np.concatenate([ordered, np.zeros(int(conc["n_cells"]) - len(ordered))])
    assert conc["gini"] == pytest.approx(gini(padded), abs=1e-4)


# ---------------------------------------------------------------- outcomes and escaping


def test_outcome_shares_per_area_when_ingest_kept_the_column(incidents):
    outcomes = ["Under investigation", "Local resolution"] * 9
    with_outcome = incidents.assign(last_outcome=outcomes)
    result = compare_periods(with_outcome, areas=two_areas(), start="2025-01-01",
                             end="2025-02-28", against="same-period-last-year")  # fmt: skip
    shares = result.outcomes.set_index([AREA_NAME, OFFENCE, "outcome"])
    # current period West robberies are rows 3 and 4: 'Local resolution', 'Under investigation'
    assert shares.loc[("West", "Robbery", "Local resolution"), "share"] == pytest.approx(0.5)
    assert not any("outcome" in n for n in result.notes)
    without = compare_periods(incidents, start="2025-01-01", end="2025-02-28",
                              against="same-period-last-year")  # fmt: skip
    assert without.outcomes is None
    assert any("outcome shares skipped" in n for n in without.notes)


def test_printed_table_escapes_area_names(incidents):
    from hotspots.reports._write import render_compare_html

    areas = two_areas().assign(**{AREA_NAME: ["<script>x</script>", "West"]})
    result = compare_periods(incidents, areas=areas, start="2025-01-01", end="2025-02-28",
                             against="same-period-last-year")  # fmt: skip
    html = render_compare_html(result.table, current=result.current.to_dict(),
                               comparison=result.comparison.to_dict(), headlines={},
                               harm_unit="days", footer="f")  # fmt: skip
    assert "<script>x" not in html and "&lt;script&gt;x" in html
    assert html.count('<section class="page">') == 2 + 2  # area set, categories, 2 areas
    assert "Jan-Feb 2024" in html


def test_without_areas_police_uk_lsoa_names_give_the_districts():
    # Northtown: 6 rows along y=0 from x=0; Southville: 6 rows 20 km east of it
    rows = [(m, "Theft", x, 0.0, 1.0) for m in ("2024-01", "2025-01") for x in (0, 1500, 3000)]
    rows += [(m, "Theft", 20_000 + x, 0.0, 1.0) for m in ("2024-01", "2025-01")
             for x in (0, 1500, 3000)]  # fmt: skip
    inc = month_incidents(rows)
    inc["lsoa_name"] = ["Northtown 001A"] * 6 + ["Southville 002B"] * 6
    result = compare_periods(inc, start="2025-01-01", end="2025-01-31",
                             against="same-period-last-year")  # fmt: skip
    totals = result.table[result.table["row_type"] == "area_total"]
    assert totals[AREA_NAME].tolist() == ["Northtown", "Southville"]
    assert totals["count_current"].tolist() == [3, 3]
    assert any("districts from police.uk LSOA names" in n for n in result.notes)
    assert set(result.concentration[AREA_NAME]) == {"Northtown", "Southville", ALL_AREAS}


def test_compare_command_outcome_shares_per_spot(tmp_path, capsys):
    data = police_uk_folder(tmp_path / "data", ["2024-01", "2024-02", "2025-01", "2025-02"])
    box = shapely.box(0.7095, 51.537, 0.7115, 51.539)
    spot = gpd.GeoDataFrame({"spot_id": ["S1"]}, geometry=[box], crs=4326)
    spots = tmp_path / "harm_spots.geojson"
    spot.to_file(spots)
    out = tmp_path / "out"
    code, text = run_cli(["compare", str(data), "--start", "2025-01-01", "--end", "2025-02-28",
                      "--against", "same-period-last-year", "--spots", str(spots),
                      "--out", str(out)], capsys)  # fmt: skip
    assert code == 0, text
    if not (out / "outcome_shares.csv").exists():
        pytest.skip("this ingest does not keep police.uk outcomes")
    per_spot = pd.read_csv(out / "spot_outcome_shares.csv", encoding="utf-8-sig")
    # two of the three robbery points a month fall in S1: 2 x 2 months, outcome blank
    assert per_spot[["spot_id", "offence", "count"]].values.tolist() == [["S1", "Robbery", 4]]
