"""The harm-spot stage, once: the entry point ``hotspots spots`` and the weekly run share.

``run`` takes weighted incidents and :class:`hotspots.config.SpotOptions`, finds and
chooses the spots, plans the patrols and, given a patrol log, measures delivery; the
result is a frozen :class:`SpotRun`. ``write_run`` writes its files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from hotspots._progress import Progress
from hotspots._runs import PreviousRun
from hotspots.config import SpotOptions
from hotspots.schema import OCCURRED_AT, OFFENCE
from hotspots.spots._find import SERIOUS_VIOLENCE, SpotResult, find_spots, resolve_offences
from hotspots.spots._patrol import (
    patrol_dosage,
    patrol_plan,
    patrol_summary,
    read_patrols,
    weekly_dosage,
)
from hotspots.spots._write import write_spot_outputs

__all__ = ["SpotRun", "offences_used", "run", "write_run"]


@dataclass(frozen=True)
class SpotRun:
    """One harm-spot run: the spots, the patrol plan and delivery, rejected log rows."""

    result: SpotResult
    plan: pd.DataFrame
    patrol_summary: pd.DataFrame | None
    offences: tuple[str, ...]
    rejected: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    dosage: pd.DataFrame | None = None  # per spot x week x activity (patrol_dosage.csv)
    as_of: pd.Timestamp | None = None
    point_layers: tuple[Any, ...] = ()  # hotspots.extra_layers.PointLayer, --layer order
    layer_counts: pd.DataFrame | None = None  # per layer x spot / area (layer_counts.csv)

    @property
    def weekly_dosage(self) -> dict[str, Any] | None:
        """Force-wide figures of the log's latest complete week (None without a log)."""
        if self.dosage is None or self.as_of is None:
            return None
        return weekly_dosage(self.dosage, as_of=self.as_of)

    @property
    def spots(self) -> gpd.GeoDataFrame:
        """The chosen spots, ranked."""
        return self.result.spots

    @property
    def figures(self) -> dict[str, Any]:
        """Headline figures (the concentration summary)."""
        return self.result.summary


def offences_used(incidents: gpd.GeoDataFrame, options: SpotOptions) -> tuple[str, ...]:
    """The offence categories ranked, in the data's own spelling (names match any case).

    Default: the serious-violence set (those of it the data has).
    """
    if options.offences is None:
        return resolve_offences(incidents, SERIOUS_VIOLENCE)
    present = [str(o) for o in incidents[OFFENCE].dropna().unique()]
    by_fold = {p.casefold(): p for p in present}
    names = tuple(by_fold.get(n.casefold(), n) for n in options.offences)
    return resolve_offences(incidents, names)


def run(
    incidents: gpd.GeoDataFrame,
    options: SpotOptions,
    *,
    as_of: pd.Timestamp,
    areas: gpd.GeoDataFrame | None = None,
    study_area: Any | None = "auto",
    patrols: Path | None = None,
    previous: PreviousRun | None = None,
    today: pd.Timestamp | str | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    layers: Sequence[tuple[str, str | Path]] = (),
) -> SpotRun:
    """Rank harm spots, plan this week's patrols and measure delivery against a log.

    Parameters
    ----------
    incidents
        Weighted incidents (``hotspots.harm.weigh_used``) in a metric CRS.
    options
        The spot options (method, cell size, look-back, offences, selection, patrols).
    as_of
        The run's moment (``hotspots._runs.run_as_of``).
    areas
        Study areas (``hotspots.areas.read_areas``, or ``RunAreas.areas``, the districts
        from police.uk LSOA names): spots are chosen per area.
    study_area
        The denominator of every share-of-area figure (``RunAreas.study_area``); see
        :func:`hotspots.spots.find_spots`.
    patrols
        Patrol log CSV, read in the incidents' time zone and CRS; rejected rows are kept
        in ``rejected["patrols"]``. Delivery is measured against the previous run's plan
        (``previous.plan``, the week the log is about) or, without one, against a plan of
        these spots for the weeks the log covers.
    previous
        The previous run in the output folder (``hotspots._runs.read_previous_run``):
        statuses are against its spots, and an unchanged window keeps them with a note.
    today
        The run date the patrol plan starts after (default: the current date);
        ``options.plan_start`` gives the first day itself.
    seed
        Seed of every random step (Gi* permutations, patrol times).
    layers
        Extra point layers (``--layer NAME=FILE``), read in the incidents' CRS and counted
        per spot and per area (``layer_counts``); rejected rows in ``rejected["layers"]``.
    """
    offences = offences_used(incidents, options)
    result = find_spots(
        incidents,
        method=options.method,  # type: ignore[arg-type]
        cell_m=options.cell_m,
        eps_m=options.eps_m,
        min_harm=options.min_harm,
        as_of=as_of,
        lookback_days=options.lookback_days,
        offences=offences,
        areas=areas,
        top=options.top_for(per_area=areas is not None),
        harm_share=options.harm_share,
        max_area_km2=options.max_area_km2,
        fdr_alpha=options.fdr_alpha,
        permutations=options.gistar_permutations,
        seed=seed,
        previous_spots=_previous_spots(previous, incidents.crs),
        previous_window=None if previous is None else previous.window,
        study_area=study_area,
        keep_prisons=options.keep_prisons,
        progress=progress,
    )
    plan = patrol_plan(
        result.spots,
        as_of=as_of,
        plan_start=options.plan_start,
        today=today,
        visit_minutes=options.visit_minutes,
        crossover=options.crossover,
        seed=seed,
    )
    delivery = dosage = None
    rejected: dict[str, pd.DataFrame] = {}
    notes: list[str] = []
    if patrols is not None:
        tz = incidents[OCCURRED_AT].dt.tz
        crs = incidents.crs
        log, rejected_rows = read_patrols(
            patrols, tz=str(tz) if tz is not None else "Europe/London",
            crs=crs.to_epsg() or crs.to_string(),
        )  # fmt: skip
        basis = None if previous is None else previous.plan
        if basis is None or not len(basis):
            basis = _plan_for_log(log, result.spots, options, as_of=as_of, seed=seed)
            notes.append(
                "patrol delivery is measured against a plan of this run's spots for the "
                "weeks the log covers (no patrol_plan.csv from a previous run in the folder)"
            )
        dosage = patrol_dosage(basis, log, result.spots)
        delivery = patrol_summary(basis, None, result.spots, dosage=dosage)
        rejected["patrols"] = rejected_rows
        if len(rejected_rows):
            notes.append(
                f"{len(rejected_rows):,} patrol log rows rejected (see rejected_patrols.csv)"
            )
    point_layers: tuple[Any, ...] = ()
    counts = None
    if layers:
        from hotspots.extra_layers import layer_counts, read_point_layers

        point_layers = read_point_layers(layers, working_crs=incidents.crs, areas=areas)
        counts = layer_counts(point_layers, spots=result.spots, areas=areas)
        bad = [p.rejected for p in point_layers if len(p.rejected)]
        rejected["layers"] = pd.concat(bad, ignore_index=True) if bad else point_layers[0].rejected
        if bad:
            n_bad = sum(len(b) for b in bad)
            notes.append(f"{n_bad:,} --layer rows rejected (see rejected_layers.csv)")
    return SpotRun(
        result=result,
        plan=plan,
        patrol_summary=delivery,
        offences=offences,
        rejected=rejected,
        notes=tuple(notes),
        dosage=dosage,
        as_of=as_of,
        point_layers=point_layers,
        layer_counts=counts,
    )


def _previous_spots(previous: PreviousRun | None, crs: Any) -> gpd.GeoDataFrame | None:
    """The previous run's spots in the incidents' CRS (None without a previous run)."""
    if previous is None or previous.spots is None:
        return None
    return previous.spots.to_crs(crs)


def _plan_for_log(
    log: pd.DataFrame,
    spots: gpd.GeoDataFrame,
    options: SpotOptions,
    *,
    as_of: pd.Timestamp,
    seed: int,
) -> pd.DataFrame:
    """A plan of ``spots`` for the whole weeks (from a Monday) the patrol log covers."""
    if not len(log):
        return patrol_plan(spots.iloc[0:0], as_of=as_of, visit_minutes=options.visit_minutes)
    local = log["time"].dt.tz_localize(None).dt.normalize()
    first, last = local.min(), local.max()
    monday = first - pd.Timedelta(days=int(first.day_of_week))
    weeks = int((last - monday).days // 7) + 1
    return patrol_plan(
        spots,
        as_of=as_of,
        plan_start=monday,
        today=monday,
        days=7 * weeks,
        visit_minutes=options.visit_minutes,
        crossover=options.crossover,
        seed=seed,
    )


def write_run(spot_run: SpotRun, out_dir: Path, *, provenance: dict[str, Any]) -> dict[str, Path]:
    """Write the spot layers, the patrol plan and summary, and rejected patrol rows."""
    from hotspots.outputs import write_csv

    written = write_spot_outputs(spot_run.result, spot_run.plan, out_dir, provenance=provenance)
    if spot_run.patrol_summary is not None:
        written["patrol_summary.csv"] = write_csv(
            spot_run.patrol_summary, Path(out_dir) / "patrol_summary.csv"
        )
    if spot_run.layer_counts is not None:
        written["layer_counts.csv"] = write_csv(
            spot_run.layer_counts, Path(out_dir) / "layer_counts.csv"
        )
    if spot_run.dosage is not None:
        written["patrol_dosage.csv"] = write_csv(
            spot_run.dosage, Path(out_dir) / "patrol_dosage.csv"
        )
    for name, rows in spot_run.rejected.items():
        if len(rows):
            written[f"rejected_{name}.csv"] = write_csv(
                rows, Path(out_dir) / f"rejected_{name}.csv"
            )
    return written
