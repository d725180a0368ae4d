"""Shared fixtures: paths to ../shared/data (skipping when absent) and tiny layers."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_path(*parts: str) -> Path:
    """Path under ../shared/data, or skip the test with a clear reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"real data not available: {path} is absent (needs ../shared/data beside the repo)"
        )
    return path


@pytest.fixture
def shared() -> object:
    """The :func:`shared_path` helper as a fixture."""
    return shared_path


# police.uk street-crime columns, in the order of the monthly downloads
POLICE_UK_HEADER = [
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context",
]  # fmt: skip


def write_police_uk(path: Path, rows: list[list[str]]) -> Path:
    """A police.uk-style CSV at ``path`` (folders made): the header, then ``rows``."""
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(POLICE_UK_HEADER)
        writer.writerows(rows)
    return path


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run ``hotspots ARGS`` in this process: its exit code and what it printed (out + err)."""
    from hotspots.cli import main

    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def run_ok(args: list[str]) -> None:
    """Run ``hotspots ARGS`` in this process; it must end with exit code 0."""
    from hotspots.cli import main

    with pytest.raises(SystemExit) as done:
        main(args)
    assert done.value.code == 0


@pytest.fixture(scope="module")
def two_forces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two police.uk forces, two months each (``tests/test_national.write_two_forces``)."""
    from tests.test_national import write_two_forces

    folder = tmp_path_factory.mktemp("forces")
    write_two_forces(folder)
    return folder
