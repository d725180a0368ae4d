"""``hotspots cocoon``: command line for this stage (registers on the shared app)."""

from __future__ import annotations

from hotspots.cli._app import app  # noqa: F401
