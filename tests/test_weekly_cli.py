"""``hotspots weekly`` from the command line: TOML config, flags winning, bad settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotspots.cli import main
from hotspots.demo import generate_town, write_town


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_town(generate_town(seed=3, n_homes=1_000, years=1), tmp_path_factory.mktemp("t"))


def test_config_file_and_flags(town, tmp_path):
    config = tmp_path / "week.toml"
    config.write_text(
        f'areas = "{town["districts"]}"\n'
        'area_field = "area"\n'
        f'addresses = "{town["addresses"]}"\n'
        "top = 2\n"
        "knox_permutations = 19\n"
        "seed = 11\n"
        "tiles = false\n"
    )
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as done:
        main(["weekly", str(town["incidents"]), "--config", str(config), "--seed", "12",
              "--out", str(out)])  # fmt: skip
    assert done.value.code == 0
    run = json.loads((out / "run.json").read_text())
    assert run["parameters"]["top"] == 2 and run["parameters"]["knox_permutations"] == 19
    assert run["parameters"]["seed"] == 12  # the flag wins over the file
    assert (out / "cocoon_visits.csv").exists()


def test_unknown_config_key_is_one_line(town, tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text("radius = 400\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["weekly", str(town["incidents"]), "--config", str(config), "--out", str(tmp_path)])
    assert exit_info.value.code == 1
    assert "unknown setting(s) ['radius']" in capsys.readouterr().err
