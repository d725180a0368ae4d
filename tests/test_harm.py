"""Harm tables and weighting: shipped values, lookup rules, unknown offences, user files."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.errors import InputError, OptionError, SchemaError
from hotspots.harm import HARM_TABLES, HarmTable, apply_harm, load_harm_table
from hotspots.schema import HARM, OFFENCE, OFFENCE_CODE

# issue 2, typed out again here as the independent oracle
POLICE_UK = {
    "Violence and sexual offences": 194.21,
    "Robbery": 365,
    "Possession of weapons": 273.75,
    "Burglary": 244.68,
    "Criminal damage and arson": 11.18,
    "Other crime": 10,
    "Public order": 7.5,
    "Vehicle crime": 5,
    "Drugs": 3.66,
    "Other theft": 2,
    "Theft from the person": 2,
    "Bicycle theft": 2,
    "Shoplifting": 1,
    "Anti-social behaviour": 1,
}
SUBGROUPS = {
    "Homicide": 5475,
    "Violence with injury": 365,
    "Violence without injury": 10,
    "Stalking and harassment": 10,
    "Rape": 2555,
    "Other sexual offences": 182.25,
    "Death or serious injury by unlawful driving": 365,
    "Residential burglary": 273.5,
    "Non-residential burglary": 183.5,
    "Robbery (business or personal)": 365,
    "Possession of weapons": 273.75,
    "Arson": 185,
    "Criminal damage": 2,
    "Public order": 7.5,
    "Vehicle offences": 5,
    "Drug trafficking": 5,
    "Drug possession": 3,
    "Theft from the person": 2,
    "Bicycle theft": 2,
    "All other theft offences": 2,
    "Shoplifting": 1,
    "Miscellaneous crimes against society": 10,
}


def incidents(offences, codes=None) -> gpd.GeoDataFrame:
    data = {OFFENCE: pd.array(offences, dtype="string")}
    if codes is not None:
        data[OFFENCE_CODE] = pd.array(codes, dtype="string")
    n = len(offences)
    return gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(np.arange(n), np.zeros(n)), crs=27700)


def test_shipped_names():
    assert HARM_TABLES == ("cchi-2026-police-uk", "cchi-2026-subgroups", "count")


def test_police_uk_values_exactly_as_issue():
    table = load_harm_table("cchi-2026-police-uk")
    assert dict(table.weights) == pytest.approx(POLICE_UK)
    assert table.name == "cchi-2026-police-uk"
    assert table.version and "Cambridge Crime Harm Index" in table.source
    assert table.licence
    assert "floor" in table.notes and "Anti-social" in table.notes


def test_default_is_police_uk():
    assert load_harm_table().name == "cchi-2026-police-uk"


def test_subgroup_values_as_issue():
    table = load_harm_table("cchi-2026-subgroups")
    for name, weight in SUBGROUPS.items():
        assert table.weight_of(name) == pytest.approx(weight), name
    assert "understate rare severe" in table.notes
    assert "median" in table.source.lower()


def test_lookup_ignores_case_space_punctuation():
    table = load_harm_table()
    frame = incidents(
        [
            "BURGLARY",
            "anti social behaviour",
            " Violence and sexual-offences ",
            "Criminal Damage & Arson",
        ]
    )
    out = apply_harm(frame, table)
    np.testing.assert_allclose(out[HARM], [244.68, 1.0, 194.21, 11.18])


def test_offence_code_wins_when_table_knows_it():
    table = load_harm_table("cchi-2026-subgroups")
    frame = incidents(
        ["Violence and sexual offences", "Burglary", "Robbery"],
        codes=["Homicide", "Residential burglary", None],
    )
    out = apply_harm(frame, table)
    np.testing.assert_allclose(out[HARM], [5475, 273.5, 365])


def test_offence_used_when_code_unknown():
    frame = incidents(["Burglary"], codes=["28E"])
    out = apply_harm(frame, load_harm_table())
    np.testing.assert_allclose(out[HARM], [244.68])


def test_apply_returns_copy_and_keeps_input():
    frame = incidents(["Burglary"])
    before = frame.copy()
    out = apply_harm(frame, load_harm_table())
    assert HARM not in frame.columns
    pd.testing.assert_frame_equal(pd.DataFrame(frame), pd.DataFrame(before))
    assert out is not frame and out.crs == frame.crs


def test_unknown_offences_listed_with_counts_and_fix():
    frame = incidents(["BATTERY", "BATTERY", "ASSAULT", "Burglary"])
    with pytest.raises(
        SchemaError,
        match=r"no weight for 2 offence value\(s\) in 3 rows: 'BATTERY' \(2\), 'ASSAULT' \(1\)"
        r".*--harm-map 'BATTERY=Other crime'.*unknown='zero'",
    ):
        apply_harm(frame, load_harm_table())


def test_empty_offence_is_unknown():
    with pytest.raises(SchemaError, match=r"'<empty>' \(1\)"):
        apply_harm(incidents([None, "Burglary"]), load_harm_table())


def test_unknown_zero():
    out = apply_harm(incidents(["BATTERY", "Robbery"]), load_harm_table(), unknown="zero")
    np.testing.assert_allclose(out[HARM], [0.0, 365.0])


def test_unknown_choice_checked():
    with pytest.raises(
        OptionError, match=r"unknown must be one of \('raise', 'zero'\); got 'drop'"
    ):
        apply_harm(incidents(["Robbery"]), load_harm_table(), unknown="drop")


def test_mapping():
    out = apply_harm(
        incidents(["BATTERY", "battery", "Robbery"]),
        load_harm_table(),
        mapping={"Battery": "Violence and sexual offences"},
    )
    np.testing.assert_allclose(out[HARM], [194.21, 194.21, 365.0])


def test_mapping_target_must_exist():
    with pytest.raises(OptionError, match=r"targets \['Assault'\] are not in harm table"):
        apply_harm(incidents(["BATTERY"]), load_harm_table(), mapping={"BATTERY": "Assault"})


def test_count_table_is_all_ones():
    out = apply_harm(incidents(["anything", "Burglary", None]), load_harm_table("count"))
    np.testing.assert_allclose(out[HARM], [1.0, 1.0, 1.0])


def test_user_csv_with_sidecar(tmp_path):
    path = tmp_path / "force.csv"
    path.write_text("offence,weight\nBurglary,100\nRobbery,50.5\n", encoding="utf-8")
    (tmp_path / "force.toml").write_text(
        'name = "force-2026"\nversion = "3"\nlicence = "OGL"\n', encoding="utf-8"
    )
    table = load_harm_table(str(path))
    assert table.name == "force-2026" and table.version == "3" and table.licence == "OGL"
    out = apply_harm(incidents(["burglary", "robbery"]), table)
    np.testing.assert_allclose(out[HARM], [100.0, 50.5])


def test_user_csv_without_sidecar_is_versioned_by_hash(tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes("\ufeffOffence,Weight\nCaf\u00e9 theft,2\n".encode())
    table = load_harm_table(path)
    assert table.name == "w" and table.version.startswith("sha256:")
    assert table.weight_of("cafe theft") is None and table.weight_of("Caf\u00e9 theft") == 2.0


def test_user_csv_bad_weight(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("offence,weight\nBurglary,lots\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"w\.csv row 1: offence 'Burglary' with weight 'lots'"):
        load_harm_table(path)


def test_user_csv_missing_columns(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("crime,days\nBurglary,3\n", encoding="utf-8")
    with pytest.raises(
        SchemaError, match=r"needs columns offence,weight; it has \['crime', 'days'\]"
    ):
        load_harm_table(path)


def test_user_csv_empty(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("offence,weight\n", encoding="utf-8")
    with pytest.raises(InputError, match="has no rows"):
        load_harm_table(path)


def test_conflicting_duplicate_keys(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("offence,weight\nBurglary,3\nBURGLARY,4\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="two different weights"):
        load_harm_table(path)


def test_unknown_table_name():
    with pytest.raises(OptionError, match=r"Harm table 'cchi-1999' is neither a shipped table"):
        load_harm_table("cchi-1999")


def test_table_is_frozen():
    table = load_harm_table()
    with pytest.raises(AttributeError):
        table.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        table.weights["Burglary"] = 0  # type: ignore[index]


def test_negative_weight_refused():
    with pytest.raises(SchemaError, match="must be >= 0"):
        HarmTable(
            name="t", version="1", source="s", licence="l", notes="", weights={"Burglary": -1}
        )


OFFENCES = st.lists(st.sampled_from(sorted(POLICE_UK)), min_size=1, max_size=30)


@settings(deadline=None, max_examples=50)
@given(offences=OFFENCES)
def test_harm_non_negative_and_matches_table(offences):
    out = apply_harm(incidents(offences), load_harm_table())
    assert (out[HARM] >= 0).all()
    np.testing.assert_allclose(out[HARM], [POLICE_UK[o] for o in offences])
