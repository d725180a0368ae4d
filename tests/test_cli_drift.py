"""Flags cannot drift: one option name has one type, default and help in every command, and
``weekly`` offers every option of the stages it runs."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import typer
from tests.conftest import POLICE_UK_HEADER, run_cli, write_police_uk

from hotspots import config
from hotspots.cli import app
from hotspots.config import WeeklySettings

# (command, flag) pairs that are deliberately a different option under the same name
ALLOWED = {
    ("ingest", "--out"): "names the GeoParquet file written, not an output folder",
    ("demo", "--out"): "the demo's folder holds the town's data and the weekly outputs",
    ("demo", "--seed"): "seed of the synthetic town (default 20261124), also the run's",
    ("demo", "--end"): "last day of the synthetic incidents",
    ("evaluate", "--end"): "no backtest period starts on or after this date",
    ("evaluate", "--start"): "first backtest period start (compare/target/impact share theirs)",
}

WEEKLY_MUST_HAVE = (
    "--harm-map",
    "--harm-unknown",
    "--eps-m",
    "--min-harm",
    "--fdr-alpha",
    "--burgled-within-m",
    "--address-cache-dir",
    "--knox-permutations",
    "--gistar-permutations",
)


def commands() -> dict[str, Any]:
    group = typer.main.get_command(app)
    return dict(group.commands)  # type: ignore[attr-defined]


def declarations() -> dict[str, list[tuple[str, tuple[object, object, str]]]]:
    """Flag -> [(command, (type, default, help)), ...] over every command."""
    seen: dict[str, list[tuple[str, tuple[object, object, str]]]] = defaultdict(list)
    for name, command in commands().items():
        for param in command.params:
            if param.param_type_name != "option" or param.name == "help":
                continue
            kind = (str(param.display_type), param.multiple, param.is_flag)
            signature = (kind, param.default, param.help or "")
            for flag in (*param.opts, *param.secondary_opts):
                seen[flag].append((name, signature))
    return seen


def test_one_option_name_has_one_type_default_and_help():
    drift = {}
    for flag, uses in declarations().items():
        kept = [(cmd, sig) for cmd, sig in uses if (cmd, flag) not in ALLOWED]
        if len({sig for _, sig in kept}) > 1:
            drift[flag] = kept
    assert not drift, drift


def test_every_stage_option_is_generated_from_its_declaration():
    by_flag = {
        f.metadata["flag"].split("/")[0]: f
        for cls in (*config.STAGE_GROUPS, WeeklySettings)
        for f in config.option_fields(cls)
    }
    for flag, uses in declarations().items():
        if flag not in by_flag:
            continue
        help_text = by_flag[flag].metadata["help"]
        for command, (_, default, text) in uses:
            if (command, flag) in ALLOWED:
                continue
            assert text.startswith(help_text), (command, flag)
            assert default is None, (command, flag)  # the object's default applies


def test_weekly_offers_every_option_of_its_stages():
    weekly = {flag for p in commands()["weekly"].params for flag in (*p.opts, *p.secondary_opts)}
    wanted = {
        f.metadata["flag"].split("/")[0]
        for cls in (*config.STAGE_GROUPS, WeeklySettings)
        for f in config.option_fields(cls)
    }
    assert wanted - weekly == set()
    assert set(WEEKLY_MUST_HAVE) <= weekly
    assert "--config" in weekly and "--out" in weekly


def test_stage_commands_offer_their_stage_options():
    cmds = commands()
    for command, groups in {
        "spots": (config.SpotOptions, config.HarmOptions, config.IngestOptions),
        "knox": (config.KnoxOptions, config.IngestOptions),
        "cocoon": (config.CocoonOptions, config.IngestOptions),
    }.items():
        have = {flag for p in cmds[command].params for flag in p.opts}
        for cls in groups:
            for f in config.option_fields(cls):
                assert f.metadata["flag"].split("/")[0] in have, (command, f.name)


def test_no_bare_permutations_flag():
    flags = declarations()
    assert "--permutations" not in flags
    assert {c for c, _ in flags["--knox-permutations"]} == {"knox", "weekly"}
    assert {c for c, _ in flags["--gistar-permutations"]} == {"spots", "weekly", "evaluate"}


def test_gistar_defaults_to_analytic_p_values_everywhere():
    assert config.SpotOptions().gistar_permutations == 0
    assert WeeklySettings().spots.gistar_permutations == 0


# ---------------------------------------------------------------- one decision, every command

HEADER = POLICE_UK_HEADER


def police_uk_with_unknown_offence(folder: Path) -> Path:
    """Robberies around one point plus rows of 'Prowling', an offence no harm table has."""
    rows = []
    for i in range(30):
        kind = "Prowling" if i % 3 == 0 else "Robbery"
        lon, lat = 0.7105 + (i % 5) * 0.0004, 51.538 + (i % 7) * 0.0003
        rows.append(
            [f"id{i}", "2025-06", "Essex Police", "Essex Police", f"{lon:.6f}", f"{lat:.6f}",
             "On or near High Street", "E01015800", "Southend-on-Sea 001A", kind, "", ""]
        )  # fmt: skip
    path = folder / "2025-06-essex-street.csv"
    write_police_uk(path, rows)
    return path


def run(args: list[str], capsys) -> tuple[int, str]:
    """:func:`run_cli` with the printed text on one line (rich wraps long lines)."""
    code, text = run_cli(args, capsys)
    return code, " ".join(text.split())


@pytest.mark.parametrize("command", ["spots", "weekly"])
def test_unused_unknown_offence_is_not_an_error(tmp_path, capsys, command):
    data = police_uk_with_unknown_offence(tmp_path)
    args = [command, str(data), "--out", str(tmp_path / command), "--top", "1"]
    code, text = run(args, capsys)  # default offences: Robbery is ranked, Prowling is not
    assert code == 0, text
    assert (tmp_path / command / "harm_spots.csv").exists()


@pytest.mark.parametrize("command", ["spots", "weekly"])
def test_used_unknown_offence_is_the_same_error_naming_existing_flags(tmp_path, capsys, command):
    data = police_uk_with_unknown_offence(tmp_path)
    out = str(tmp_path / command)
    code, text = run([command, str(data), "--out", out, "--offences", "prowling"], capsys)
    assert code == 1
    assert "Harm table 'cchi-2026-police-uk' has no weight for 1 offence value(s)" in text
    assert "--harm-map 'Prowling=Other crime'" in text and "--harm-unknown zero" in text
    # the advice works in this command
    code, text = run(
        [command, str(data), "--out", out, "--offences", "prowling", "--top", "1",
         "--harm-map", "Prowling=Other crime"],
        capsys,
    )  # fmt: skip
    assert code == 0, text
    code, text = run(
        [command, str(data), "--out", out, "--offences", "prowling,robbery", "--top", "1",
         "--harm-unknown", "zero"],
        capsys,
    )  # fmt: skip
    assert code == 0, text


def test_config_file_accepts_out(tmp_path, capsys):
    data = police_uk_with_unknown_offence(tmp_path)
    target = tmp_path / "from_toml"
    toml = tmp_path / "week.toml"
    toml.write_text(f'out = "{target.as_posix()}"\ntop = 1\n[output]\ntiles = false\n')
    code, text = run(["weekly", str(data), "--config", str(toml), "--offences", "Robbery"], capsys)
    assert code == 0, text
    assert (target / "run.json").exists() and (target / "harm_spots.csv").exists()


def test_weekly_parses_the_nine_flags(tmp_path, capsys):
    # the run stops at the bad radius, after parsing every flag and before reading input
    code, text = run(
        ["weekly", str(tmp_path / "none"), "--harm-map", "A=Robbery", "--harm-unknown", "zero",
         "--eps-m", "120", "--min-harm", "900", "--fdr-alpha", "0.1", "--burgled-within-m", "5",
         "--address-cache-dir", str(tmp_path), "--knox-permutations", "99",
         "--gistar-permutations", "0", "--radius-m", "-5"],
        capsys,
    )  # fmt: skip
    assert code == 1
    assert text == "Error: --radius-m must be > 0; got -5.0. Try 400."


def test_harm_advice_names_flags_every_weighting_command_has():
    flags = declarations()
    weighing = {c for c, _ in flags["--harm-table"]}
    assert weighing == {"ingest", "spots", "weekly", "evaluate", "compare", "target", "impact"}
    for flag in ("--harm-map", "--harm-unknown"):
        assert {c for c, _ in flags[flag]} == weighing
