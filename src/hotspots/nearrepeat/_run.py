"""The Knox stage, once: the entry point ``hotspots knox`` and the weekly run share.

``run`` picks the events (dwelling burglaries by default), checks that their dates are
fine enough, runs the Knox test with :class:`hotspots.config.KnoxOptions` and returns a
frozen :class:`KnoxRun`; ``write_run`` writes its files.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from hotspots._progress import Progress
from hotspots._runs import time_resolution_of
from hotspots.config import KnoxOptions
from hotspots.errors import InputError, TimeResolutionError
from hotspots.nearrepeat.knox import KnoxResult, knox_by_year, knox_test, per_year_text
from hotspots.nearrepeat.report import write_knox_outputs
from hotspots.schema import DWELLING_BURGLARY, OCCURRED_AT, OFFENCE

__all__ = ["KnoxRun", "run", "select_events", "write_run"]


@dataclass(frozen=True)
class KnoxRun:
    """One Knox run: the test result, the events tested and the recommendation."""

    result: KnoxResult
    n_events: int
    notes: tuple[str, ...] = ()
    by_year: dict[int, KnoxResult] = field(default_factory=dict)

    @property
    def per_year(self) -> str:
        """Per-year recommendations when the result pools years (else "")."""
        return per_year_text(self.by_year)

    @property
    def figures(self) -> dict[str, Any]:
        """Recommended radius and window, with its plain-language text.

        When the events span more than a year, ``per_year`` gives each year's
        recommendation and ``text`` ends with it.
        """
        rec = self.result.recommendation()
        if self.by_year:
            rec["per_year"] = self.per_year
            rec["text"] = f"{rec['text']} Per year: {self.per_year}."
        return rec


def select_events(
    incidents: gpd.GeoDataFrame, *, offences: tuple[str, ...] | None, dwelling_only: bool
) -> gpd.GeoDataFrame:
    """The events to test: offence categories (any case), then dwelling burglaries.

    With no ``offences`` and ``dwelling_only`` False, every burglary (category "Burglary")
    is kept. Raises InputError, saying what was found, when fewer than two remain.
    """
    wanted = (
        [o.strip().casefold() for o in offences if o.strip()]
        if offences
        else ([] if dwelling_only else ["burglary"])
    )
    chosen = incidents
    if wanted:
        chosen = chosen[chosen[OFFENCE].astype("string").str.casefold().isin(wanted).fillna(False)]
    if dwelling_only:
        flag = chosen[DWELLING_BURGLARY].astype("boolean").fillna(False).astype(bool)
        chosen = chosen[flag]
    if len(chosen) < 2:
        found = incidents[OFFENCE].astype("string").value_counts().head(5)
        cats = ", ".join(f"{k} ({v})" for k, v in found.items()) or "none"
        what = f"offences {wanted}" if wanted else "all offences"
        msg = (
            f"the Knox test needs at least 2 events; {len(chosen)} of {len(incidents)} incidents "
            f"match ({what}{', dwelling burglaries only' if dwelling_only else ''}). "
            f"Most common categories: {cats}. Use --knox-offences and/or --all-burglary."
        )
        raise InputError(msg)
    return chosen


def _spans_years(events: gpd.GeoDataFrame) -> bool:
    """True when the events span more than 366 days (as ``KnoxResult.pooled_over_years``)."""
    try:
        when = events[OCCURRED_AT]
        return bool((when.max() - when.min()) / pd.Timedelta(days=1) > 366)
    except (KeyError, TypeError, ValueError):  # bad times: knox_test says what is wrong
        return False


def run(
    incidents: gpd.GeoDataFrame,
    options: KnoxOptions,
    *,
    seed: int = 0,
    progress: Progress | None = None,
) -> KnoxRun:
    """Knox test of the chosen events (see :func:`hotspots.nearrepeat.knox_test`).

    Raises
    ------
    TimeResolutionError
        The events are dated to the month only (police.uk): day bands cannot be measured.
    InputError
        Fewer than two events.
    """
    events = select_events(
        incidents, offences=options.knox_offences, dwelling_only=options.dwelling_only
    )
    resolution = time_resolution_of(events)
    if resolution not in ("exact", "day"):
        msg = (
            f"the Knox test needs day or exact dates; these events have {resolution} "
            f"resolution (police.uk dates are months). Use a day-dated force export "
            f"(--time-col), or --no-knox."
        )
        raise TimeResolutionError(msg)
    test_options: dict[str, Any] = {
        "distance_bands_m": options.distance_bands_m,
        "time_bands_days": options.time_bands_days,
        "same_location_m": options.same_location_m,
        "metric": options.metric,
        "n_permutations": options.knox_permutations,
        "seed": seed,
        "time_resolution": resolution,
    }
    by_year: dict[int, KnoxResult] = {}
    ran_years = _spans_years(events)
    if ran_years:
        # the per-year tests run beside the pooled one: their serial parts (checks, pair
        # search) overlap its permutations; each test is seeded, so results are unchanged
        with ThreadPoolExecutor(max_workers=1) as pool:
            yearly = pool.submit(knox_by_year, events, **test_options)
            result = knox_test(events, **test_options, progress=progress)
            by_year = yearly.result()
    else:
        result = knox_test(events, **test_options, progress=progress)
    notes: list[str] = []
    if not result.pooled_over_years:
        by_year = {}
    elif not ran_years:  # the pooled answer can hide year-to-year differences
        by_year = knox_by_year(events, **test_options)
    if by_year:
        notes.append(
            "The Knox result is pooled over more than one year; per year: "
            f"{per_year_text(by_year)}."
        )
    return KnoxRun(result=result, n_events=len(events), notes=tuple(notes), by_year=by_year)


def write_run(knox_run: KnoxRun, out_dir: Path, *, provenance: dict[str, Any]) -> dict[str, Path]:
    """Write knox.csv, knox.html, knox.png and knox.json."""
    return write_knox_outputs(knox_run.result, out_dir, provenance=provenance)
