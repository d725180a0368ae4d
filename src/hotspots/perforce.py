"""``spots`` and ``compare`` once per force: the one function each engine calls per force.

A single-force run and each force of a multi-force input go through the same function,
:func:`spots_force` or :func:`compare_force`, with a :class:`hotspots.national.ForceJob`
(the force's inputs, its folder, the settings). In a multi-force run the forces come from
:func:`hotspots.national.force_jobs` (the grouping the weekly national run uses), each
writes ``OUT/<force>/`` exactly as a single-force run writes its folder, in its own study
area (districts from its own LSOA names when no ``--areas`` is given), and the client
writes ``OUT/national.csv``: one row per force. The functions return what the command
prints; they print nothing themselves, so they run alike in this process or as one Dask
task per force (:meth:`hotspots.engine.Engine.map`).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from hotspots._progress import Progress
from hotspots.config import WeeklySettings
from hotspots.errors import DataQualityWarning, HotspotsError
from hotspots.national import ForceJob, force_jobs

if TYPE_CHECKING:
    import geopandas as gpd

    from hotspots.ingest import IngestReport, IngestResult
    from hotspots.reports import CompareResult

__all__ = [
    "COMPARE_OUTPUTS",
    "CompareDone",
    "CompareRequest",
    "MultiForce",
    "SpotsDone",
    "compare_force",
    "compare_national_table",
    "run_per_force",
    "spots_force",
    "spots_national_table",
]

NATIONAL_CSV = "national.csv"

COMPARE_OUTPUTS = (
    "compare.csv",
    "compare.html",
    "category_shares.csv",
    "concentration.csv",
    "concentration_curve.csv",
    "monthly_harm.csv",
    "monthly_harm.png",
    "outcome_shares.csv",
    "spot_outcome_shares.csv",
    "rejected.csv",
    "run.json",
)

RunTasks = Callable[..., list[Any]]


def _engine_entry(job: ForceJob) -> dict[str, Any]:
    """run.json's engine record (as the weekly run's): absent on a plain single-force run."""
    return {"engine": dict(job.engine)} if job.engine is not None else {}


@contextmanager
def _naming(job: ForceJob) -> Iterator[None]:
    """A force's error, in a run of several forces, says which force (same error class)."""
    try:
        yield
    except HotspotsError as exc:
        if not job.force:
            raise
        try:
            named = type(exc)(f"Force {job.force}: {exc}")
        except TypeError:  # an error class built from other arguments: keep it as it is
            raise exc from None
        raise named from exc


def _ingest(job: ForceJob, progress: Progress | None) -> IngestResult:
    """The job's incidents: its store partitions, its rows of a mixed file, or its files."""
    from hotspots.ingest import read_incidents
    from hotspots.national import job_incidents

    own = job_incidents(job, progress)
    if own is not None:
        return own
    return read_incidents(list(job.inputs), job.settings.ingest, progress=progress)


@dataclass(frozen=True)
class SpotsDone:
    """One force's ``spots`` run: what the command prints, and the files written."""

    force: str
    out_dir: Path
    report: IngestReport
    spots: gpd.GeoDataFrame
    summary: dict[str, Any]
    written: dict[str, Path]
    rejected: Mapping[str, pd.DataFrame]  # side inputs' rejected rows (patrols, layers)
    n_rejected: int  # incident rows rejected (rejected.csv)
    place_notes: tuple[str, ...] = ()
    weighting_notes: tuple[str, ...] = ()


def spots_force(job: ForceJob, progress: Progress | None = None) -> SpotsDone:
    """Rank one force's harm spots into ``job.out_dir`` as ``hotspots spots`` writes them."""
    with _naming(job):
        return _spots_force(job, progress)


def _spots_force(job: ForceJob, progress: Progress | None) -> SpotsDone:
    from hotspots import spots as sp
    from hotspots._runs import read_previous_run, run_areas, run_as_of, with_strays
    from hotspots.harm import weigh_used
    from hotspots.ingest import write_rejected
    from hotspots.outputs import build_provenance, write_json
    from hotspots.outputs.publish import placed, staged_outputs
    from hotspots.pipeline import COMMAND_OUTPUTS
    from hotspots.schema import OFFENCE

    settings, folder = job.settings, job.out_dir
    with staged_outputs(folder, owned=COMMAND_OUTPUTS["spots"]) as staging:
        previous = read_previous_run(folder)  # statuses and patrol delivery against it
        staging.mkdir(parents=True, exist_ok=True)
        ingested = _ingest(job, progress)
        write_rejected(ingested.rejected, staging / "rejected.csv")
        places = run_areas(ingested.incidents, settings)
        if len(places.strays):  # stray records join ingest's rejected rows, with their reason
            write_rejected(with_strays(ingested.rejected, places.strays), staging / "rejected.csv")
        incidents = places.incidents
        as_of = run_as_of(settings.as_of, ingested.incidents)
        weighting = weigh_used(
            incidents, settings.harm, used=sp.offences_used(incidents, settings.spots)
        )
        spot_run = sp.run(
            weighting.incidents, settings.spots, as_of=as_of, areas=places.areas,
            study_area=places.study_area, patrols=settings.patrols, previous=previous,
            today=settings.ingest.today, seed=settings.seed, progress=progress,
            layers=settings.output.layers,
        )  # fmt: skip
        result, table = spot_run.result, weighting.table
        parameters = {
            **result.parameters,
            **{k: settings.to_dict()[k] for k in ("harm_table", "harm_map", "harm_unknown",
                                                  "areas", "area_field", "visit_minutes",
                                                  "crossover", "patrols", "tz",
                                                  "plan_start", "keep_prisons", "layers")},
        }  # fmt: skip
        extra_inputs = [p for p in (settings.areas, settings.patrols) if p is not None]
        extra_inputs += [Path(f) for _, f in settings.output.layers]
        provenance = build_provenance(
            command="spots",
            parameters=parameters,
            inputs=[*(f["path"] for f in ingested.report.files), *extra_inputs],
            extra={"ingest": ingested.report.to_dict(), "harm_table": table.to_dict(),
                   "counts": {"n_incidents": len(incidents), "n_ranked": int(
                       incidents[OFFENCE].isin(spot_run.offences).sum()),
                              "n_spots": len(result.spots), "n_dropped": len(result.dropped),
                              "n_candidates": len(result.candidates),
                              "n_plan_visits": len(spot_run.plan)},
                   "rejected": {"strays": len(places.strays),
                                **{k: len(v) for k, v in spot_run.rejected.items()}},
                   "study_area": places.figures,
                   "notes": [*places.notes, *weighting.notes, *spot_run.notes],
                   "concentration": result.summary},
        )  # fmt: skip
        written = sp.write_run(spot_run, staging, provenance=provenance)
        written["run.json"] = write_json(staging / "run.json", {**provenance, **_engine_entry(job)})
    return SpotsDone(
        force=job.force,
        out_dir=folder,
        report=ingested.report,
        spots=result.spots,
        summary=result.summary,
        written=placed(written, staging, folder),
        rejected=dict(spot_run.rejected),
        n_rejected=len(ingested.rejected),
        place_notes=tuple(places.notes),
        weighting_notes=tuple(weighting.notes),
    )


@dataclass(frozen=True)
class CompareRequest:
    """The periods ``hotspots compare`` was asked for, the same for every force."""

    start: str | None = None
    end: str | None = None
    against: str = "previous"
    against_start: str | None = None
    against_end: str | None = None
    allow_incomplete: bool = False
    spots: Path | None = None  # a harm_spots layer for per-spot outcome shares


@dataclass(frozen=True)
class CompareDone:
    """One force's ``compare`` run: its result (for the console) and the files written."""

    force: str
    out_dir: Path
    report: IngestReport
    result: CompareResult
    names: list[str] = field(default_factory=list)


def compare_force(
    job: ForceJob, request: CompareRequest | None = None, progress: Progress | None = None
) -> CompareDone:
    """Compare one force's periods into ``job.out_dir`` as ``hotspots compare`` writes them."""
    with _naming(job):
        return _compare_force(job, request, progress)


def _compare_force(
    job: ForceJob, request: CompareRequest | None, progress: Progress | None
) -> CompareDone:
    from hotspots.areas import read_areas
    from hotspots.harm import weigh_used
    from hotspots.ingest import write_rejected
    from hotspots.outputs import build_provenance, write_csv, write_json
    from hotspots.outputs.publish import staged_outputs
    from hotspots.reports import (
        compare_periods,
        render_compare_html,
        write_html,
        write_monthly_png,
    )

    q = request or CompareRequest()
    settings, folder = job.settings, job.out_dir
    areas, area_field, cell_m = settings.areas, settings.area_field, settings.spots.cell_m
    ingested = _ingest(job, progress)
    weighting = weigh_used(ingested.incidents, settings.harm, used=None)
    incidents, table = weighting.incidents, weighting.table
    layer = (read_areas(areas, area_field=area_field, working_crs=incidents.crs)
             if areas is not None else None)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # shown by the command as notes
        result = compare_periods(
            incidents, areas=layer, start=q.start, end=q.end, against=q.against,  # type: ignore[arg-type]
            against_start=q.against_start, against_end=q.against_end,
            allow_incomplete=q.allow_incomplete, cell_m=cell_m,
        )  # fmt: skip
    result = dataclasses.replace(result, notes=[*weighting.notes, *result.notes])
    spot_outcomes = None
    if q.spots is not None:
        from hotspots.reports import in_period, outcome_column, spot_outcome_shares

        column = outcome_column(incidents)
        if column is not None:
            spot_layer = read_areas(q.spots, area_field="spot_id", working_crs=incidents.crs,
                                    what="--spots")  # fmt: skip
            now = incidents[in_period(incidents, result.current)]
            spot_outcomes = spot_outcome_shares(now, spot_layer, column=column)
    unit = "harm index days" if table.name != "count" else "count"
    parameters = {
        "start": q.start, "end": q.end, "against": q.against, "against_start": q.against_start,
        "against_end": q.against_end, "allow_incomplete": q.allow_incomplete,
        "areas": str(areas) if areas else None, "area_field": area_field,
        "harm_table": table.name, "harm_map": settings.harm.mapping,
        "harm_unknown": settings.harm.harm_unknown, "cell_m": cell_m, "tz": settings.ingest.tz,
    }  # fmt: skip
    provenance = build_provenance(
        command="compare",
        parameters=parameters,
        inputs=[*(f["path"] for f in ingested.report.files), *([areas] if areas else [])],
        extra={"ingest": ingested.report.to_dict(), "harm_table": table.to_dict(),
               "compare": result.summary()},
    )  # fmt: skip
    cur, cmp = result.current.to_dict(), result.comparison.to_dict()
    footer = (
        f"hotspots {provenance['software']['version']}, run {provenance['run_at']}; harm table "
        f"{table.name}; data {ingested.report.time_resolution} resolution. Areas: "
        f"{areas.name if areas else 'none (one area)'}."
    )
    with staged_outputs(folder, owned=COMPARE_OUTPUTS) as stage:
        write_csv(result.table, stage / "compare.csv")
        write_html(
            stage / "compare.html",
            render_compare_html(result.table, current=cur, comparison=cmp,
                                headlines=result.headlines, harm_unit=unit, footer=footer),
        )  # fmt: skip
        write_csv(result.shares, stage / "category_shares.csv")
        write_csv(result.concentration, stage / "concentration.csv")
        write_csv(result.curve, stage / "concentration_curve.csv")
        write_csv(result.monthly, stage / "monthly_harm.csv")
        write_monthly_png(result.monthly, stage / "monthly_harm.png", harm_unit=unit)
        if result.outcomes is not None:
            write_csv(result.outcomes, stage / "outcome_shares.csv")
        if spot_outcomes is not None:
            write_csv(spot_outcomes, stage / "spot_outcome_shares.csv")
        rejected = ingested.rejected
        if len(weighting.rejected):
            rejected = pd.concat([rejected, weighting.rejected], ignore_index=True)
        if len(rejected):
            write_rejected(rejected, stage / "rejected.csv")
        write_json(stage / "run.json", {**provenance, **_engine_entry(job)})
        names = sorted(p.name for p in stage.iterdir())
    return CompareDone(
        force=job.force, out_dir=folder, report=ingested.report, result=result, names=names
    )


@dataclass(frozen=True)
class MultiForce:
    """A per-force ``spots`` or ``compare`` run: each force's result and the national table."""

    out_dir: Path
    forces: dict[str, Any]  # force -> SpotsDone | CompareDone
    table: pd.DataFrame
    national_csv: Path


def run_per_force(
    command: str,
    inputs: Sequence[str | Path],
    *,
    out_dir: Path,
    settings: WeeklySettings,
    request: CompareRequest | None = None,
    run_tasks: RunTasks | None = None,
    engine: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> MultiForce:
    """Run ``command`` (``"spots"`` or ``"compare"``) once per force, then ``national.csv``.

    Parameters
    ----------
    command
        ``"spots"`` (:func:`spots_force`) or ``"compare"`` (:func:`compare_force`).
    inputs
        Several forces' police.uk files or folders, or one ingest store holding several.
    out_dir
        Force ``f`` writes into ``out_dir/<f>/``; ``national.csv`` goes in ``out_dir``.
    settings, request
        Applied to every force alike (``request`` only for compare).
    run_tasks
        ``run_tasks(fn, jobs, task=...)`` in order, e.g. :meth:`hotspots.engine.Engine.map`
        (one Dask task per force); default: a loop in this process.
    engine
        The engine as each force's run.json and national.csv record it; default local.

    Raises
    ------
    InputError
        The inputs hold only one force.
    """
    from hotspots.outputs.files import write_csv
    from hotspots.outputs.publish import staged_outputs

    if command not in ("spots", "compare"):
        raise ValueError(f"command must be 'spots' or 'compare', not {command!r}")
    record = engine or {"name": "local", "scheduler": None}
    jobs = force_jobs(inputs, out_dir=out_dir, settings=settings, engine=record)
    fn: Callable[..., Any]
    tabulate: Callable[..., pd.DataFrame]
    if command == "spots":
        fn = spots_force
        tabulate = spots_national_table
    else:
        fn = partial(compare_force, request=request)
        tabulate = compare_national_table
    if run_tasks is None:
        done = [fn(job, progress=progress) for job in jobs]
    else:
        done = run_tasks(fn, jobs, task="forces")
    results: dict[str, Any] = {job.force: result for job, result in zip(jobs, done, strict=True)}
    table = tabulate(results, engine=record)
    with staged_outputs(out_dir, owned=(NATIONAL_CSV,)) as staging:
        write_csv(table, staging / NATIONAL_CSV)
    return MultiForce(
        out_dir=out_dir, forces=results, table=table, national_csv=out_dir / NATIONAL_CSV
    )


def _engine_columns(record: Mapping[str, Any] | None) -> dict[str, Any]:
    record = record or {"name": "local", "scheduler": None}
    return {"engine": record.get("name"), "scheduler": record.get("scheduler")}


def spots_national_table(
    results: Mapping[str, SpotsDone], *, engine: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """One row per force: rows kept, its study area and km², spots, harm in them and share."""
    rows = []
    for force, done in results.items():
        s = done.summary
        rows.append(
            {
                "force": force,
                "rows_kept": done.report.n_kept,
                "rows_rejected": done.n_rejected,
                "study_area": s.get("study_area"),
                "study_area_km2": s.get("study_area_km2"),
                "spots": len(done.spots),
                "harm_in_spots": s.get("harm"),
                "harm_total": s.get("harm_total"),
                "harm_share_in_spots": s.get("harm_share"),
                "area_share_of_spots": s.get("area_share"),
                "folder": force,
                **_engine_columns(engine),
            }
        )
    return pd.DataFrame(rows)


def compare_national_table(
    results: Mapping[str, CompareDone], *, engine: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """One row per force: its all-crime totals in both periods (compare.csv's overall row).

    Forces' periods can differ (each force's own latest data); the columns name them
    ``period`` and ``against`` so every force's row has the same columns.
    """
    from hotspots.reports import ROW_TYPE
    from hotspots.schema import OFFENCE

    rows = []
    for force, done in results.items():
        r = done.result
        cur, cmp = r.current.label, r.comparison.label
        t = r.table
        overall = t[(t[ROW_TYPE] == "overall") & (t[OFFENCE] == "All crime")]
        total = overall.iloc[0] if len(overall) else pd.Series(dtype=object)
        rows.append(
            {
                "force": force,
                "period": r.current.describe(),
                "against": r.comparison.describe(),
                "count_against": total.get(f"count_{cmp}"),
                "count_period": total.get(f"count_{cur}"),
                "count_change": total.get("count_change"),
                "count_change_pct": total.get("count_change_pct"),
                "harm_against": total.get(f"harm_{cmp}"),
                "harm_period": total.get(f"harm_{cur}"),
                "harm_change_pct": total.get("harm_change_pct"),
                "folder": force,
                **_engine_columns(engine),
            }
        )
    return pd.DataFrame(rows)
