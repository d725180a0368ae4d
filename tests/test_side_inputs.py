"""Side inputs under ingest's rules (issue 11): addresses, visit logs, patrol logs.

Each reader returns every row it read either as kept or as rejected with a reason;
the property tests check kept + rejected = read on random files.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotspots.cocoon import cocoon_zones, compliance, read_addresses, read_visits, visit_lists
from hotspots.errors import InputError
from hotspots.schema import REJECT_REASON, SOURCE_ROW, ZONE_ID
from hotspots.spots import read_patrols
from test_cocoon_fixtures import make_addresses, make_areas, make_incidents, stamp

TODAY = "2025-03-10"


def reasons(rejected) -> dict[int, str]:
    return dict(zip(rejected[SOURCE_ROW], rejected[REJECT_REASON], strict=True))


# ---------------------------------------------------------------- addresses
def test_addresses_cp1252_malformed_and_outside_area(tmp_path):
    path = tmp_path / "adds.csv"
    text = (
        "uprn,address,easting,northing\n"
        "1,1 St Mary\u2019s Road,560000,200000\n"
        "2,2 High St,560010,200010,extra\n"  # malformed: 5 fields
        "3,3 Sea View,699000,5000\n"  # in the grid, but at sea off Cornwall
        "4,4 Low St,560020,200020\n"
    )
    path.write_bytes(text.encode("cp1252"))
    adds, rejected = read_addresses(path, working_crs=27700)
    assert adds["address_id"].tolist() == ["1", "4"]
    assert adds["address"].iloc[0] == "1 St Mary\u2019s Road"
    assert reasons(rejected) == {2: "malformed_row", 3: "outside_area"}
    assert len(adds) + len(rejected) == 4
    assert any("Windows-1252" in n for n in adds.attrs["notes"])


def test_binary_address_file_is_not_a_text_table(tmp_path):
    path = tmp_path / "adds.csv"
    path.write_bytes(b"\x00\x01binary\x00")
    with pytest.raises(InputError, match=r"adds\.csv is not a text table"):
        read_addresses(path)


# ---------------------------------------------------------------- visits
VISITS = (
    "address_id,visited_at,outcome\n"
    "a100,2025-03-02 09:00,spoke\n"  # counts for B1
    "home,2025-03-05T13:00,leaflet\n"  # after the as-of below: outside every window
    "a100,9999-12-31 00:00,spoke\n"  # sentinel
    "a100,2031-01-01 10:00,spoke\n"  # after the run date
    "a100,2025-03-02,x,y\n"  # malformed
)


def test_visit_rows_are_all_accounted_for(tmp_path):
    path = tmp_path / "visits.csv"
    path.write_text(VISITS, encoding="utf-8")
    adds = make_addresses()
    visits, rejected = read_visits(path, addresses=adds, today=TODAY)
    assert reasons(rejected) == {3: "date_out_of_range", 4: "future_date", 5: "malformed_row"}
    assert visits[SOURCE_ROW].tolist() == [1, 2]
    zones = cocoon_zones(make_incidents(), as_of=stamp("2025-03-04"), areas=make_areas())
    vlist = visit_lists(zones, adds, nearest=1)
    result = compliance(zones, vlist, visits, as_of=stamp("2025-03-05 00:00"))
    assert result.n_outside_zone_window == 1
    out = result.rejected.iloc[0]
    assert (out[SOURCE_ROW], out[REJECT_REASON]) == (2, "outside_zone_window")
    assert "outside every window" in out["detail"]
    assert len(visits) - result.n_outside_zone_window == int(result.per_zone["visits"].sum())
    assert set(result.per_zone[ZONE_ID]) == set(zones[ZONE_ID]) and len(zones) == 3


def test_visit_to_an_address_on_no_list_is_outside_zone_window(tmp_path):
    path = tmp_path / "visits.csv"
    path.write_text("address_id,visited_at\nout,2025-03-02 09:00\n", encoding="utf-8")
    adds = make_addresses()
    visits, _ = read_visits(path, addresses=adds, today=TODAY)
    zones = cocoon_zones(make_incidents(), as_of=stamp("2025-03-04"), areas=make_areas())
    vlist = visit_lists(zones, adds, nearest=1)
    assert "out" not in set(vlist["address_id"])  # the fixture's address beyond every zone
    result = compliance(zones, vlist, visits, as_of=stamp("2025-03-06"))
    assert result.rejected["detail"].tolist() == [
        "its address is on no zone's visit list in this run"
    ]


# ---------------------------------------------------------------- patrols
def test_patrol_rows_are_all_accounted_for(tmp_path):
    path = tmp_path / "patrols.csv"
    path.write_text(
        "time,spot_id,easting,northing,minutes\n"
        "2025-03-01 20:00,A,,,15\n"
        "9999-12-31 20:00,A,,,15\n"
        "2030-01-01 20:00,A,,,15\n"
        "2025-03-01 21:00,,-73000,4000000,15\n"  # far outside the grid
        "2025-03-01 22:00,A,15\n"  # malformed
        "2025-03-01 23:00,A,,,-1\n",
        encoding="utf-8",
    )
    patrols, rejected = read_patrols(path, today=TODAY)
    assert patrols["source_row"].tolist() == [1]
    assert dict(zip(rejected["source_row"], rejected["reason"], strict=True)) == {
        2: "date_out_of_range",
        3: "future_date",
        4: "outside_area",
        5: "malformed_row",
        6: "bad_minutes",
    }


# ---------------------------------------------------------------- kept + rejected = read
CELLS = st.lists(
    st.tuples(
        st.sampled_from(["a100", "a200", "home", "nope", ""]),
        st.sampled_from(["2025-03-02 09:00", "9999-12-31", "2031-01-01", "soon", ""]),
        st.sampled_from(["500100,200000", ",", "0,0", "699000,5000", "x,1", "1,2,3"]),
    ),
    min_size=1,
    max_size=20,
)


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(rows=CELLS)
def test_every_side_input_row_is_kept_or_rejected(rows):
    adds_fixture = make_addresses()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        adds = base / "adds.csv"
        adds.write_text(
            "uprn,easting,northing\n" + "".join(f"{i},{xy}\n" for i, (_, _, xy) in enumerate(rows)),
            encoding="utf-8",
        )
        try:
            kept, rejected = read_addresses(adds, working_crs=27700)
        except InputError as exc:  # no usable row at all: one whole-file error
            assert "no usable coordinates" in str(exc)
        else:
            assert len(kept) + len(rejected) == len(rows)
            assert sorted(rejected[SOURCE_ROW]) == sorted(set(rejected[SOURCE_ROW]))
        visits = base / "visits.csv"
        visits.write_text(
            "address_id,visited_at,easting,northing\n"
            + "".join(f"{a},{t},{xy}\n" for a, t, xy in rows),
            encoding="utf-8",
        )
        try:
            kept, rejected = read_visits(visits, addresses=adds_fixture, today=TODAY)
        except InputError as exc:
            assert "none of its" in str(exc)
        else:
            assert len(kept) + len(rejected) == len(rows)
            assert sorted([*kept[SOURCE_ROW], *rejected[SOURCE_ROW]]) == list(
                range(1, len(rows) + 1)
            )
        patrols = base / "patrols.csv"
        patrols.write_text(
            "time,spot_id,easting,northing,minutes\n"
            + "".join(f"{t},{a},{xy},15\n" for a, t, xy in rows),
            encoding="utf-8",
        )
        kept, rejected = read_patrols(patrols, today=TODAY)
        assert sorted([*kept["source_row"], *rejected["source_row"]]) == list(
            range(1, len(rows) + 1)
        )


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_missing_side_input_paths_are_one_line(tmp_path):
    with pytest.raises(InputError, match=r"Address file nope\.csv does not exist") as exc:
        read_addresses(tmp_path / "nope.csv")
    one_line(exc)
    with pytest.raises(InputError, match=r"Visit log nope\.csv does not exist") as exc:
        read_visits(tmp_path / "nope.csv", addresses=make_addresses())
    one_line(exc)
    with pytest.raises(InputError, match=r"--patrols file .*nope\.csv does not exist") as exc:
        read_patrols(tmp_path / "nope.csv")
    one_line(exc)


def test_over_long_address_text_is_cut(tmp_path):
    path = tmp_path / "adds.csv"
    path.write_text(
        "uprn,address,easting,northing\n" + f"1,{'x' * 1_000_000},560000,200000\n",
        encoding="utf-8",
    )
    adds, rejected = read_addresses(path, working_crs=27700)
    assert len(adds["address"].iloc[0]) == 1_000 and len(rejected) == 0
    assert any("longer than 1,000 characters" in n for n in adds.attrs["notes"])
