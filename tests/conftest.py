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
