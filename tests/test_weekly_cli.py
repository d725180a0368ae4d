"""``hotspots weekly`` from the command line: TOML config, flags winning, bad settings."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
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


def weekly(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        main(["weekly", *args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split())


STREET = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
    "LSOA name,Crime type,Last outcome category,Context\n"
)


def street_file(folder: Path) -> Path:
    """Robberies at two snapped points in two districts, May and June 2025 (month data)."""
    rows = [
        f"r{i}-{k},2025-0{5 + i % 2},Essex Police,Essex Police,{lon},{lat},On or near {street},"
        f"E0100000{k},{lsoa},Robbery,,"
        for i in range(40)
        for k, (lon, lat, street, lsoa) in enumerate(
            [(0.7105, 51.538, "High Street", "Southend-on-Sea 001A"),
             (0.706, 51.585, "West Street", "Rochford 004B")]
        )
    ]  # fmt: skip
    path = folder / "2025-06-essex-street.csv"
    path.write_text(STREET + "\n".join(rows) + "\n")
    return path


def test_a_run_with_no_new_month_keeps_the_previous_spots(tmp_path, capsys):
    data, out = street_file(tmp_path), tmp_path / "out"
    code, text = weekly([str(data), "--out", str(out), "--as-of", "2025-06-30", "--top", "1",
                         "--no-tiles"], capsys)  # fmt: skip
    assert code == 0, text
    first = json.loads((out / "run.json").read_text())["summary"]
    assert first["study_area"]["districts"] == ["Rochford", "Southend-on-Sea"]
    assert "force districts from police.uk LSOA names (2)" in first["spots"]["headline"]
    ids = sorted(s["properties"]["spot_id"] for s in _features(out / "harm_spots.geojson"))
    # a week later, no new month has been published: same spots, said so
    code, text = weekly([str(data), "--out", str(out), "--as-of", "2025-07-07", "--top", "1",
                         "--no-tiles"], capsys)  # fmt: skip
    assert code == 0, text
    assert "no new data since 2025-06; spots unchanged" in text
    second = json.loads((out / "run.json").read_text())["summary"]["spots"]
    assert second["notes"][0] == "no new data since 2025-06; spots unchanged"
    assert second["n_dropped"] == 0
    assert sorted(s["properties"]["spot_id"] for s in _features(out / "harm_spots.geojson")) == ids


def _features(path: Path) -> list[dict]:
    return json.loads(path.read_text())["features"]


def pooled_pairs(folder: Path) -> tuple[Path, str]:
    """40 pairs of home burglaries, 50 m and 3 days apart, one pair every 18 days over two
    years (2024: 21 pairs, 2025: 19); pairs are 2 km apart, so Knox gives 100 m, 7 days.
    Returns the file and the day after the last burglary."""
    day0 = pd.Timestamp("2024-01-01 10:00")
    lines = ["id,occurred,easting,northing,offence"]
    for i in range(40):
        x, y = 500_000 + 2_000 * (i % 8), 200_000 + 2_000 * (i // 8)
        first = day0 + pd.Timedelta(days=18 * i)
        second = first + pd.Timedelta(days=3)
        lines.append(f"A{i},{first:%Y-%m-%d %H:%M},{x},{y},Burglary - residential")
        lines.append(f"B{i},{second:%Y-%m-%d %H:%M},{x + 50},{y},Burglary - residential")
    path = folder / "pairs.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, f"{second + pd.Timedelta(days=1):%Y-%m-%d}"


PAIRS = ["--id-col", "id", "--time-col", "occurred", "--offence-col", "offence",
         "--offences", "Burglary - residential", "--harm-table", "count", "--no-tiles"]  # fmt: skip


def test_cocoon_from_knox_sizes_the_zones_and_pooled_years_give_per_year_figures(tmp_path, capsys):
    data, as_of = pooled_pairs(tmp_path)
    out = tmp_path / "out"
    code, text = weekly([str(data), "--out", str(out), "--as-of", as_of, "--cocoon-from-knox",
                         "--knox-permutations", "99", *PAIRS], capsys)  # fmt: skip
    assert code == 0, text
    summary = json.loads((out / "run.json").read_text())["summary"]
    assert summary["cocoon"]["radius_m"] == pytest.approx(100.0)
    assert summary["cocoon"]["window_days"] == 7
    assert summary["cocoon"]["from_knox"] is True
    assert summary["cocoon"]["zones"] == 2  # the last pair: a 7-day window
    assert summary["knox"]["pooled_over_years"] is True
    per_year = "2024: 100 m, 7 days (42 events); 2025: 100 m, 7 days (38 events)"
    assert summary["knox"]["per_year"] == per_year
    assert f"Per year: {per_year}" in text  # the console's Knox line
    assert any("use the Knox recommendation: 100 m, 7 days" in n for n in summary["notes"])


def test_cocoon_from_knox_needs_knox(tmp_path, capsys):
    data, as_of = pooled_pairs(tmp_path)
    code, text = weekly([str(data), "--out", str(tmp_path / "o"), "--cocoon-from-knox",
                         "--no-knox", *PAIRS], capsys)  # fmt: skip
    assert code == 1
    assert "--cocoon-from-knox needs the Knox test; leave out --no-knox." in text


@pytest.mark.parametrize("flag", ["--addresses", "--visits", "--patrols", "--areas"])
def test_a_missing_side_input_is_one_line_before_reading(tmp_path, flag, capsys):
    from hotspots.cli import main

    args = ["weekly", str(tmp_path / "no-incidents-needed.csv"), "--out", str(tmp_path / "o")]
    extra = [flag, str(tmp_path / "missing.csv")]
    if flag == "--visits":
        extra += ["--addresses", str(tmp_path / "missing.csv")]
    with pytest.raises(SystemExit) as stop:
        main([*args, *extra])
    assert stop.value.code == 1
    assert not (tmp_path / "o").exists()
    err = capsys.readouterr().err
    assert "does not exist; check the path" in err and "Traceback" not in err
