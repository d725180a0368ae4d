"""Option objects: named defaults, ranges checked when built, TOML and flags building the same."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
from tests.conftest import run_cli

from hotspots import config
from hotspots.config import (
    CocoonOptions,
    HarmOptions,
    KnoxOptions,
    OutputOptions,
    SpotOptions,
    WeeklySettings,
    burgled_within_m_for,
    load_toml,
    options_from,
)
from hotspots.errors import OptionError


def test_defaults_are_the_named_constants():
    assert CocoonOptions().radius_m == config.RADIUS_M == 400.0
    assert CocoonOptions().window_days == config.WINDOW_DAYS == 42
    assert CocoonOptions().due_hours == config.DUE_HOURS == 48.0
    assert CocoonOptions().nearest == config.NEAREST == 8
    assert SpotOptions().cell_m == config.CELL_M == 150.0
    assert SpotOptions().lookback_days == config.LOOKBACK_DAYS == 365
    assert SpotOptions().gistar_permutations == config.GISTAR_PERMUTATIONS == 0
    assert KnoxOptions().knox_permutations == config.KNOX_PERMUTATIONS == 999
    assert KnoxOptions().distance_bands_m == config.DISTANCE_BANDS_M
    assert HarmOptions().harm_table == config.HARM_TABLE
    assert WeeklySettings().out == config.WEEKLY_OUT


def test_every_option_field_has_a_flag_help_and_is_immutable():
    flags = []
    for cls in (*config.STAGE_GROUPS, WeeklySettings):
        for f in config.option_fields(cls):
            assert f.metadata["help"].strip(), f.name
            assert f.metadata["flag"].startswith("--"), f.name
            assert not isinstance(f.default, list | dict | set), f.name
            flags.append(f.metadata["flag"].split("/")[0])
    assert len(flags) == len(set(flags)), "two options share one flag"
    # every flat name belongs to exactly one group, so TOML keys are unambiguous
    names = [f.name for cls in config.STAGE_GROUPS for f in fields(cls)]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(
    ("cls", "values", "match"),
    [
        (CocoonOptions, {"radius_m": -5}, r"--radius-m must be > 0; got -5\. Try 400\."),
        (CocoonOptions, {"nearest": -1}, r"--nearest must be a whole number >= 0; got -1"),
        (CocoonOptions, {"window_days": 0}, r"--window-days must be a whole number >= 1"),
        (CocoonOptions, {"month_dates": "middle"}, r"--month-dates must be one of \('start'"),
        (CocoonOptions, {"burgled_within_m": -1.0}, r"--burgled-within-m must be >= 0"),
        (SpotOptions, {"method": "kde"}, r"--method must be one of \('grid', 'hex'"),
        (SpotOptions, {"harm_share": 1.5}, r"--harm-share must be a share in \(0, 1\]"),
        (SpotOptions, {"top": 3, "harm_share": 0.5}, r"Give --top or --harm-share, not both"),
        (SpotOptions, {"fdr_alpha": 0.0}, r"--fdr-alpha must be a rate in \(0, 1\)"),
        (SpotOptions, {"gistar_permutations": -1}, r"--gistar-permutations must be a whole"),
        (SpotOptions, {"offences": " , "}, r"--offences must be one or more names"),
        (KnoxOptions, {"distance_bands_m": "0,200,100"}, r"strictly increasing"),
        (KnoxOptions, {"knox_permutations": 0}, r"--knox-permutations must be a whole number"),
        (KnoxOptions, {"metric": "taxicab"}, r"--knox-metric must be one of"),
        (HarmOptions, {"harm_unknown": "drop"}, r"--harm-unknown must be one of \('raise'"),
        (HarmOptions, {"harm_map": ("nonsense",)}, r"must look like 'DATA VALUE=Table"),
    ],
)
def test_bad_values_fail_when_built_with_one_line(cls, values, match):
    with pytest.raises(OptionError, match=match) as info:
        options_from(cls, values)
    assert "\n" not in str(info.value)


def test_settings_from_nested_and_flat_toml(tmp_path):
    path = tmp_path / "week.toml"
    path.write_text(
        'out = "maps/essex"\nseed = 4\nrun_knox = false\n'
        '[cocoon]\nradius-m = 300\nmonth_dates = "mid"\n'
        '[spots]\noffences = ["Robbery", "Drugs"]\n'
        "[knox]\ndistance_bands_m = [0, 50, 100]\n"
    )
    settings = WeeklySettings.from_mapping(load_toml(path))
    assert settings.out == Path("maps/essex") and settings.seed == 4
    assert settings.run_knox is False
    assert settings.cocoon.radius_m == pytest.approx(300.0)
    assert settings.spots.offences == ("Robbery", "Drugs")
    assert settings.knox.distance_bands_m == pytest.approx((0.0, 50.0, 100.0))
    flat = settings.to_dict()
    assert flat["radius_m"] == 300 and flat["out"] == "maps/essex"


def test_unknown_keys_are_refused_flat_and_nested():
    with pytest.raises(OptionError, match=r"unknown setting\(s\) \['radius'\]"):
        WeeklySettings.from_mapping({"radius": 400})
    with pytest.raises(OptionError, match=r"unknown setting\(s\) \['cell_m'\] in \[cocoon\]"):
        WeeklySettings.from_mapping({"cocoon": {"cell_m": 100}})


def test_side_inputs_that_need_each_other():
    with pytest.raises(OptionError, match="--visits needs --addresses"):
        WeeklySettings.from_mapping({"visits": "visits.csv"})
    with pytest.raises(OptionError, match="--area-field needs --areas"):
        WeeklySettings.from_mapping({"area_field": "LAD13NM"})


def test_burgled_home_distance_is_one_rule():
    assert burgled_within_m_for(None, month_dates=None) == pytest.approx(15.0)
    assert burgled_within_m_for(None, month_dates="mid") == pytest.approx(0.0)
    assert burgled_within_m_for(5.0, month_dates="mid") == pytest.approx(5.0)
    assert CocoonOptions(month_dates="end").burgled_within == pytest.approx(0.0)


def test_top_default_depends_on_areas():
    assert SpotOptions().top_for(per_area=True) == config.TOP_PER_AREA
    assert SpotOptions().top_for(per_area=False) == config.TOP_OVERALL
    assert SpotOptions(harm_share=0.5).top_for(per_area=True) is None


def test_option_objects_are_frozen():
    options = OutputOptions()
    with pytest.raises(AttributeError):
        options.public = True  # type: ignore[misc]


def test_weekly_bad_radius_fails_before_reading_any_input(tmp_path, capsys, monkeypatch):
    import hotspots.ingest

    def never(*args, **kwargs):
        raise AssertionError("an input was read")

    monkeypatch.setattr(hotspots.ingest, "read_incidents", never)
    code, text = run_cli(
        ["weekly", str(tmp_path / "no-such-folder"), "--radius-m", "-5", "--out", str(tmp_path)],
        capsys,
    )
    assert code == 1
    assert text.strip() == "Error: --radius-m must be > 0; got -5.0. Try 400."


def test_cocoon_negative_nearest_is_one_line(tmp_path, capsys):
    code, text = run_cli(
        ["cocoon", str(tmp_path / "none.csv"), "--nearest", "-1", "--out", str(tmp_path)], capsys
    )
    assert code == 1
    assert text.strip() == "Error: --nearest must be a whole number >= 0; got -1. Try 8."


def test_visits_without_addresses_fails_before_reading(tmp_path, capsys):
    code, text = run_cli(
        ["cocoon", str(tmp_path / "none.csv"), "--visits", "v.csv", "--out", str(tmp_path)], capsys
    )
    assert code == 1 and "--visits needs --addresses" in text and "none.csv" not in text


def test_version_and_help_import_no_geospatial_stack():
    for args in (["--version"], ["--help"]):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "hotspots", *args],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-500:]
        imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()}
        heavy = {"geopandas", "pandas", "shapely", "folium"} & imported
        assert not heavy, (args, heavy)


def test_choice_lists_agree_with_the_stages():
    # config cannot import the stages (no pandas at start-up), so the lists are checked here
    from hotspots.cocoon.zones import MONTH_DATES
    from hotspots.nearrepeat.knox import knox_test
    from hotspots.spots import METHODS

    assert config.SPOT_METHODS == METHODS
    assert config.MONTH_DATES == MONTH_DATES
    assert knox_test.__kwdefaults__["n_permutations"] == config.KNOX_PERMUTATIONS
