"""Flags shared by ``compare``, ``target`` and ``impact`` (one declaration each).

The stage options these commands reuse (``--harm-table``, ``--areas``, ``--offences``,
``--cell-m``, ``--addresses`` ...) are generated from :mod:`hotspots.config`; these are the
reporting ones that belong to no stage yet. When the settings layer grows a
``ReportOptions`` group they move there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["AllowIncomplete", "End", "Spots", "Start"]

_PER = "Periods"

Start = Annotated[
    str | None,
    typer.Option(
        "--start",
        help="First day, YYYY-MM-DD (month data: a 1st): of the period reported (compare, "
        "target; default 12 months before --end) or of the operation (impact).",
        rich_help_panel=_PER,
        show_default=False,
    ),
]
End = Annotated[
    str | None,
    typer.Option(
        "--end",
        help="Last day of the period reported, YYYY-MM-DD (month data: a month end). "
        "Default: end of the latest complete month (month data) or the last day of data.",
        rich_help_panel=_PER,
        show_default=False,
    ),
]
Spots = Annotated[
    Path | None,
    typer.Option(
        "--spots",
        help="harm_spots.geojson from 'hotspots spots': compare writes outcome shares per "
        "spot; impact compares the spot-days of --plan.",
        show_default=False,
    ),
]
AllowIncomplete = Annotated[
    bool,
    typer.Option(
        "--allow-incomplete",
        help="Report even when a period has months with no data (warns; figures "
        "undercount). Default: refuse.",
        rich_help_panel=_PER,
    ),
]
