import subprocess
import sys

from hotspots import __version__


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hotspots", *args], capture_output=True, text=True)


def test_version():
    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"hotspots {__version__}"


def test_help_lists_commands():
    out = run("--help")
    assert out.returncode == 0 and "Harm-spot" in out.stdout


def test_user_mistake_is_one_line_and_exit_1(tmp_path):
    missing = tmp_path / "nowhere.csv"
    out = run("ingest", str(missing), "--out", str(tmp_path / "x.parquet"))
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert lines and lines[0].startswith("Error:") and "nowhere.csv" in out.stderr


def test_debug_shows_the_traceback(tmp_path):
    missing = tmp_path / "nowhere.csv"
    out = run("--debug", "ingest", str(missing), "--out", str(tmp_path / "x.parquet"))
    assert out.returncode == 1 and "Traceback" in out.stderr


def test_every_command_has_help_with_units():
    for command, unit_flag in [
        ("ingest", "--out"),
        ("spots", "--cell-m"),
        ("knox", "--distance-bands-m"),
        ("cocoon", "--radius-m"),
        ("weekly", "--window-days"),
        ("evaluate", "--horizon-days"),
        ("demo", "--homes"),
    ]:
        out = run(command, "--help")
        assert out.returncode == 0, command
        assert unit_flag in out.stdout, (command, unit_flag)
