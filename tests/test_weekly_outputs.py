"""Issue 11/12 output options wired through settings, CLI and pipeline.

Offline maps by default (``--tiles``, ``--tiles-attribution``, ``--cdn``), the cocoon list
options (``--list``, ``--list-areas``, ``--list-area-field``), ``briefing.html`` in every
weekly run, the console (summary on stdout, notes on stderr, ``--quiet``, ``--json``) and
the stage commands publishing through the same locked, staged swap as ``weekly``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from hotspots.cli import main
from hotspots.config import OutputOptions, WeeklySettings
from hotspots.demo import generate_town, write_town
from hotspots.errors import OptionError
from hotspots.outputs.offline import external_urls
from hotspots.pipeline import COMMAND_OUTPUTS, WEEKLY_OUTPUTS

# ---------------------------------------------------------------------------- settings


def test_tiles_default_to_none_so_maps_need_no_network():
    assert OutputOptions().tiles is None
    assert OutputOptions().cdn is False
    assert WeeklySettings().to_dict()["tiles"] is None


@pytest.mark.parametrize(
    ("given", "kept"),
    [(True, "OpenStreetMap"), (False, None), ("", None), ("osm", "osm")],
    ids=["old-true", "old-false", "empty", "osm-name"],
)
def test_old_tiles_switch_still_reads(given, kept):
    assert OutputOptions(tiles=given).tiles == kept


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"tiles": "tiles.force.uk/{z}/{x}/{y}.png"}, r"--tiles must be OpenStreetMap or an http"),
        ({"tiles_attribution": "Force GIS"}, r"--tiles-attribution needs --tiles URL"),
        ({"cdn": True, "offline_assets": "assets"}, r"Give --cdn or --offline-assets, not both"),
        ({"list_scope": "overdue"}, r"--list must be one of \('due', 'live', 'all'\)"),
        ({"list_area_field": "team"}, r"--list-area-field needs --list-areas FILE"),
        ({"tiles": "OpenStreetMap", "no_tiles": True}, r"Give --tiles URL or --no-tiles"),
    ],
)
def test_bad_output_options_are_one_line_errors(values, message):
    with pytest.raises(OptionError, match=message):
        WeeklySettings.from_mapping(values)


def test_weekly_and_stage_registries():
    assert "briefing.html" in WEEKLY_OUTPUTS
    assert COMMAND_OUTPUTS["weekly"] is WEEKLY_OUTPUTS
    for command in ("spots", "knox", "cocoon", "evaluate"):
        assert {"run.json", "rejected.csv"} <= set(COMMAND_OUTPUTS[command]), command


# ---------------------------------------------------------------------------- weekly CLI


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_town(generate_town(seed=3, n_homes=1_000, years=1), tmp_path_factory.mktemp("t"))


def _argv(town: dict[str, Path], out: Path, *extra: str) -> list[str]:
    return [
        "weekly",
        str(town["incidents"]),
        "--areas",
        str(town["districts"]),
        "--area-field",
        "area",
        "--addresses",
        str(town["addresses"]),
        "--visits",
        str(town["visits"]),
        "--knox-permutations",
        "19",
        "--out",
        str(out),
        *extra,
    ]


def _run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture(scope="module")
def default_run(town, tmp_path_factory) -> tuple[Path, str, str]:
    """A weekly run with default output options: folder, stdout, stderr."""
    capture = pytest.MonkeyPatch()
    import io
    import sys

    out_buf, err_buf = io.StringIO(), io.StringIO()
    capture.setattr(sys, "stdout", out_buf)
    capture.setattr(sys, "stderr", err_buf)
    out = tmp_path_factory.mktemp("weekly") / "out"
    try:
        code = _run(_argv(town, out))
    finally:
        capture.undo()
    assert code == 0, err_buf.getvalue()
    return out, out_buf.getvalue(), err_buf.getvalue()


def test_default_weekly_is_offline_and_writes_the_briefing(default_run):
    out, _, _ = default_run
    pages = [out / "map.html", out / "briefing.html", out / "knox.html"]
    pages += sorted((out / "cocoon_lists").glob("*.html"))
    for page in pages:
        assert external_urls(page.read_text(encoding="utf-8")) == [], page.name
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["parameters"]["tiles"] is None and run["parameters"]["cdn"] is False
    assert run["parameters"]["list_scope"] == "due"


def test_briefing_holds_spots_zones_knox_and_notes(default_run):
    out, _, _ = default_run
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    page = (out / "briefing.html").read_text(encoding="utf-8")
    assert "Near repeats (Knox test)" in page
    knox_text = run["summary"]["knox"]["text"]
    assert knox_text.split(":")[0] in page  # the Knox sentence, escaped into the page
    assert 'class="spots"' in page
    # every run note is a caveat on the page (escaped text; compare a plain prefix)
    for note in run["summary"]["notes"]:
        prefix = re.split(r"[<>&'\"]", note)[0][:40]
        assert prefix in page, note


def test_summary_is_readable_text_on_stdout_and_notes_on_stderr(default_run):
    out, stdout, stderr = default_run
    assert stdout.startswith("Read ")
    assert re.search(r"^Cocoons: \d+ live zones \(.*\d+ visited\)", stdout, re.MULTILINE)
    assert "{" not in stdout and "}" not in stdout  # no raw dicts
    assert "Wrote " in stdout and "briefing.html" in stdout
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    notes = run["summary"]["notes"]
    assert notes  # the demo town's short history gives at least the trend caveat
    flat = " ".join(stderr.split())
    for note in notes:
        assert " ".join(note.split())[:50] in flat, note
        assert note[:50] not in stdout


def test_json_prints_only_the_summary(town, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(_argv(town, out, "--json", "--no-knox")) == 0
    captured = capsys.readouterr()
    payload = json.loads(captured.out)  # the whole of stdout is one JSON document
    assert set(payload) == {"out_dir", "files", "summary"}
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert payload["summary"] == run["summary"]
    assert payload["summary"]["knox"] == {"skipped": "disabled"}
    assert "briefing.html" in payload["files"]
    page = (out / "briefing.html").read_text(encoding="utf-8")
    assert "The Knox test was turned off for this run (--no-knox)." in page


def test_quiet_prints_nothing_and_errors_stay_one_line(town, tmp_path, capsys):
    out = tmp_path / "out"
    argv = _argv(town, out, "--quiet", "--no-knox")
    assert _run(argv) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert (out / "briefing.html").exists()
    missing = [*argv[:1], str(tmp_path / "nowhere.csv"), *argv[2:]]
    assert _run(missing) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:"), captured.err


def test_tiles_cdn_and_list_options_reach_the_outputs(town, tmp_path, capsys):
    districts = gpd.read_file(town["districts"]).to_crs(27700)
    team = gpd.GeoDataFrame(
        {"team": ["Team A"]},
        geometry=[shapely.box(*districts.total_bounds).buffer(1_000.0)],  # every zone inside
        crs=27700,
    )
    teams = tmp_path / "teams.geojson"
    team.to_file(teams)
    out = tmp_path / "out"
    argv = _argv(
        town,
        out,
        "--tiles",
        "https://tiles.force.example/{z}/{x}/{y}.png",
        "--tiles-attribution",
        "Force GIS",
        "--cdn",
        "--list",
        "live",
        "--list-areas",
        str(teams),
        "--list-area-field",
        "team",
        "--no-knox",
    )
    assert _run(argv) == 0, capsys.readouterr().err
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "tiles.force.example/{z}/{x}/{y}.png" in page and "Force GIS" in page
    assert external_urls(page)  # --cdn links Leaflet from the internet again
    lists = sorted(p.name for p in (out / "cocoon_lists").glob("*.html"))
    assert lists == ["team-a.html"]
    listed = (out / "cocoon_lists" / "team-a.html").read_text(encoding="utf-8")
    zones = json.loads((out / "cocoon_zones.geojson").read_text(encoding="utf-8"))["features"]
    # --list live: every live zone in full, visited ones included
    assert listed.count('<section class="zone"') == len(zones)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["parameters"]["list_scope"] == "live"
    assert str(teams) in {i.get("path") for i in run["inputs"]}


def test_default_list_shows_visited_zones_in_one_line(default_run):
    out, _, _ = default_run
    zones = json.loads((out / "cocoon_zones.geojson").read_text(encoding="utf-8"))["features"]
    visited = sum(f["properties"]["status"] == "visited" for f in zones)
    assert visited
    pages = [p.read_text(encoding="utf-8") for p in (out / "cocoon_lists").glob("*.html")]
    full = sum(p.count('<section class="zone"') for p in pages)
    assert full == len(zones) - visited


# ---------------------------------------------------------------------------- stage commands


def _names(folder: Path) -> set[str]:
    """The outputs in ``folder`` (not the lock, journal or staging folders)."""
    return {p.name for p in folder.iterdir() if not p.name.startswith(".")}


@pytest.mark.parametrize(
    ("command", "extra"),
    [
        ("knox", ["--knox-permutations", "19"]),
        ("cocoon", []),
        ("spots", []),
    ],
)
def test_stage_commands_publish_as_one_locked_step(town, tmp_path, capsys, command, extra):
    out = tmp_path / command
    argv = [command, str(town["incidents"]), *extra, "--out", str(out)]
    code = _run(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "run.json" in "".join(captured.out.split())  # the result is printed on stdout
    first = _names(out)
    assert "run.json" in first
    assert first <= set(COMMAND_OUTPUTS[command]), first
    before = {n: (out / n).read_bytes() for n in first if (out / n).is_file()}
    stale = next((n for n in COMMAND_OUTPUTS[command] if n not in first), None)
    if stale is not None:  # knox writes every name it owns
        (out / stale).write_text("left by an older version")
    keep = out / "analyst_notes.txt"
    keep.write_text("not ours")
    # a run that fails part way (its input is missing) leaves the last outputs whole
    assert _run([command, str(tmp_path / "missing.csv"), *extra, "--out", str(out)]) == 1
    assert {n: (out / n).read_bytes() for n in before} == before
    assert not [p.name for p in out.iterdir() if "staging" in p.name]
    # the next good run replaces the set: the stale owned name goes, other files stay
    assert _run(argv) == 0
    assert keep.exists()
    assert stale is None or not (out / stale).exists()
    assert _names(out) - {"analyst_notes.txt"} == first


def test_stage_command_paths_printed_are_the_final_ones(town, tmp_path, capsys):
    out = tmp_path / "cocoon"
    assert _run(["cocoon", str(town["incidents"]), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    printed = "".join(captured.out.split())  # the summary, on stdout; rich wraps long paths
    assert str(out / "cocoon_zones.geojson") in printed
    assert "staging" not in printed + captured.err


def test_json_and_text_summaries_of_a_several_force_run(tmp_path, capsys):
    from test_national import write_two_forces

    forces = tmp_path / "forces"
    forces.mkdir()
    write_two_forces(forces)
    out = tmp_path / "out"
    assert _run(["weekly", str(forces), "--out", str(out), "--no-knox", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert sorted(payload["forces"]) == ["alpha", "beta"]
    alpha = json.loads((out / "alpha" / "run.json").read_text(encoding="utf-8"))
    assert payload["forces"]["alpha"]["summary"] == alpha["summary"]
    assert "national.csv" in payload["files"]
    assert _run(["weekly", str(forces), "--out", str(out), "--no-knox"]) == 0
    captured = capsys.readouterr()
    assert re.search(r"^alpha -> ", captured.out, re.MULTILINE)
    assert "National: 2 forces" in captured.out and "{" not in captured.out


def test_stage_command_names_the_final_rejected_file(tmp_path, capsys):
    from test_spots_cli import police_uk_csv

    source = police_uk_csv(tmp_path)
    with source.open("a", encoding="utf-8") as handle:  # one row with no coordinates
        handle.write("idX,2025-06,Essex Police,Essex Police,,,On or near X,E01015800,"
                     "Southend-on-Sea 001A,Robbery,,\n")  # fmt: skip
    out = tmp_path / "spots"
    assert _run(["spots", str(source), "--out", str(out)]) == 0
    err = "".join(capsys.readouterr().err.split())
    assert f"Rejectedrowswithreasons:{out / 'rejected.csv'}" in err
    assert "staging" not in err
    assert (out / "rejected.csv").read_text(encoding="utf-8-sig").count("\n") >= 2
