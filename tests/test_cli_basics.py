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
