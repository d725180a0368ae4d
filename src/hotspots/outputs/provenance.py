"""Provenance: what produced an output, from what, with which settings.

Every output carries it: ``run.json`` holds it whole and each GeoJSON has it as its
``metadata`` member. Everything except ``run_at`` is a function of the inputs and the
parameters, so re-running gives the same provenance apart from that time stamp.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hotspots.outputs.files import file_sha256

__all__ = ["build_provenance", "describe_inputs"]


def describe_inputs(paths: Iterable[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """Name, size and SHA-256 of each input file, sorted by name."""
    out = []
    for p in sorted({Path(p) for p in paths}, key=lambda q: str(q)):
        out.append(
            {"file": p.name, "path": str(p), "bytes": p.stat().st_size, "sha256": file_sha256(p)}
        )
    return out


def build_provenance(
    *,
    command: str,
    parameters: Mapping[str, Any],
    inputs: Iterable[str | os.PathLike[str]] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Provenance record for one run.

    Parameters
    ----------
    command
        The sub-command or function that ran (``"spots"``, ``"weekly"`` ...).
    parameters
        Every option that shaped the result, including seeds.
    inputs
        Input files; each is hashed (SHA-256).
    extra
        Anything else worth recording: ingest summary, data date range, harm table,
        time resolution, counts, concentration figures.
    """
    from hotspots import __version__

    record: dict[str, Any] = {
        "software": {
            "name": "hotspots",
            "version": __version__,
            "python": sys.version.split()[0],
            "platform": platform.platform(terse=True),
        },
        "command": command,
        "run_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "parameters": dict(parameters),
        "inputs": describe_inputs(inputs),
    }
    if extra:
        record.update(dict(extra))
    return record
