"""Every force in one weekly run: per-force results side by side, and a national table.

A police.uk all-forces download (``2025-01/2025-01-essex-street.csv``, ...) or an ingest
store holding several forces is split by force (the force slug in each source file's
police.uk name, the store's ``force=`` partition) and :func:`hotspots.pipeline.run_weekly`
runs once per force on that force's rows, into ``OUT/<force>/``, exactly as a
single-force run writes it. Each force keeps its own study area (its districts from
LSOA names when no ``--areas`` is given), so a force is never ranked against another's
area. ``OUT/national.csv`` has one row per force; ``OUT/index.html`` links each map.

Every force goes through one function, :func:`run_force`: in a loop here, or as one
Dask task per force (``--engine dask``, :mod:`hotspots.engine`); the client writes the
national table from the gathered results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from hotspots._progress import Progress
from hotspots.config import WeeklySettings
from hotspots.errors import InputError
from hotspots.pipeline import WeeklyResult, run_weekly

if TYPE_CHECKING:
    from hotspots.engine import Engine
    from hotspots.ingest import IngestResult

__all__ = [
    "NATIONAL_OUTPUTS",
    "ForceJob",
    "NationalResult",
    "force_jobs",
    "force_groups",
    "forces_in",
    "job_incidents",
    "several_forces",
    "run_force",
    "run_national",
    "run_single_force",
]

NATIONAL_OUTPUTS = ("national.csv", "index.html")


@dataclass(frozen=True)
class NationalResult:
    """A multi-force run: each force's weekly result, the national table and its files."""

    out_dir: Path
    forces: dict[str, WeeklyResult]
    table: pd.DataFrame
    files: dict[str, Path]


def forces_in(inputs: Sequence[str | Path]) -> dict[str, list[Path]]:
    """Force slug -> its input files (or ``[store]`` for an ingest store), without parsing.

    Files whose names are not police.uk downloads go under ``"unknown"``.
    """
    from hotspots.ingest import files_by_force

    return files_by_force(inputs)


@dataclass(frozen=True)
class ForceJob:
    """One force's weekly run: its inputs (files, or the store), folder and settings.

    :func:`run_force` runs it; both engines call that one function (the Dask engine as
    one task per force), so a force's outputs do not depend on the engine.
    """

    force: str
    inputs: tuple[Path, ...]
    out_dir: Path
    settings: WeeklySettings
    engine: dict[str, Any] | None = None  # recorded in the force's run.json
    from_store: bool = False  # inputs is one store: read this force's partitions only
    within: bool = False  # inputs mix forces ('Falls within'): keep this force's rows only


def force_groups(inputs: Sequence[str | Path]) -> dict[str, tuple[list[Path], bool]]:
    """Force slug -> (its input paths, whether those files mix forces), before ingest.

    Files named by force (police.uk downloads) and store partitions give their force; a
    file not named by force is looked into for police.uk's 'Falls within' column, and
    gives each force it holds when it holds two or more. This is the one grouping every
    multi-force command uses (:func:`several_forces`, :func:`force_jobs`).
    """
    from hotspots.ingest import forces_within

    groups = forces_in(inputs)
    named: dict[str, tuple[list[Path], bool]] = {}
    for force, paths in groups.items():
        mixed = forces_within(paths) if force == "unknown" else []  # files not named by force
        for name in mixed if len(mixed) > 1 else [force]:
            if name in named:
                msg = (
                    f"Force {name!r} comes both from its own files and inside another input; "
                    f"give each force's rows once."
                )
                raise InputError(msg)
            named[name] = (paths, len(mixed) > 1)
    return named


def several_forces(inputs: Sequence[str | Path]) -> bool:
    """Whether ``inputs`` hold two or more forces, so a command runs once per force.

    Forces come from file names, store partitions or a mixed file's 'Falls within'.
    """
    return len(force_groups(inputs)) > 1


def force_jobs(
    inputs: Sequence[str | Path],
    *,
    out_dir: Path,
    settings: WeeklySettings,
    engine: dict[str, Any] | None = None,
) -> list[ForceJob]:
    """One :class:`ForceJob` per force in ``inputs``, writing into ``OUT/<force>/``.

    Raises
    ------
    InputError
        The inputs hold only one force (run ``weekly`` on them as usual).
    """
    named = force_groups(inputs)
    if len(named) < 2:
        msg = (
            f"The inputs hold one force ({', '.join(named) or 'none'}); a national run needs "
            f"two or more. Run hotspots weekly on them as usual."
        )
        raise InputError(msg)
    return [
        ForceJob(
            force=force,
            inputs=tuple(paths),
            out_dir=out_dir / force,
            settings=settings,
            engine=engine,
            from_store=len(paths) == 1 and paths[0].is_dir(),
            within=within,
        )
        for force, (paths, within) in named.items()
    ]


def job_incidents(job: ForceJob, progress: Progress | None = None) -> IngestResult | None:
    """The force's own rows when they must be cut from a shared input, else ``None``.

    A store gives the force's partitions only; a file mixing forces is parsed and this
    force's rows kept, as if in a file of their own. ``None``: the job's files are the
    force's own and the stage reads them as usual. The one rule for every per-force run.
    """
    from hotspots.ingest import read_incidents, read_store, split_by_force

    if job.from_store:
        return read_store(job.inputs[0], forces=[job.force])
    if job.within:
        whole = read_incidents(list(job.inputs), job.settings.ingest, progress=progress)
        return split_by_force(whole)[job.force]
    return None


def run_force(job: ForceJob, progress: Progress | None = None) -> WeeklyResult:
    """Run one force's weekly pipeline into ``job.out_dir`` (in this process or a worker)."""
    return run_weekly(
        list(job.inputs),
        out=job.out_dir,
        settings=job.settings,
        progress=progress,
        ingested=job_incidents(job, progress),
        engine=job.engine,
    )


def run_single_force(
    fn: Callable[..., Any],
    inputs: Sequence[str | Path],
    *,
    out_dir: Path,
    settings: WeeklySettings,
    engine_record: dict[str, Any] | None,
    runner: Engine,
    progress: Progress | None,
    task: str,
) -> Any:
    """``fn(job, progress=...)`` on a one-force input: here, or as one task on the cluster."""
    job = ForceJob(
        force="",
        inputs=tuple(Path(i) for i in inputs),
        out_dir=out_dir,
        settings=settings,
        engine=engine_record,
    )
    if runner.is_dask:
        (done,) = runner.map(fn, [job], task=task)
        return done
    return fn(job, progress=progress)


def run_national(
    inputs: Sequence[str | Path],
    *,
    out: str | Path | None = None,
    settings: WeeklySettings | None = None,
    progress: Progress | None = None,
    run_tasks: Callable[..., list[Any]] | None = None,
    engine: dict[str, Any] | None = None,
) -> NationalResult:
    """Run the weekly pipeline once per force and write the national table and index.

    Parameters
    ----------
    inputs
        Files, folders or globs of several forces' police.uk files, or one ingest store.
    out
        Output folder (default ``settings.out``); force ``f`` goes to ``OUT/<f>/``.
    settings
        The weekly settings, applied to every force alike (``--areas``, when given, is
        the same layer for each force).
    progress
        Callback ``progress(task, done, total)``.
    run_tasks
        ``run_tasks(fn, items, task=...) -> [fn(item) ...]`` in order, e.g.
        :meth:`hotspots.engine.Engine.map` (one Dask task per force); default: a loop in
        this process, with each force's stage progress.
    engine
        The engine as recorded in each run.json and in national.csv
        (:func:`hotspots.engine.engine_record`); default local.

    Returns
    -------
    NationalResult
        Each force's :class:`hotspots.pipeline.WeeklyResult` and the national table.

    Raises
    ------
    InputError
        The inputs hold only one force (run ``weekly`` on them as usual).
    """
    from hotspots.outputs.files import write_csv, write_text
    from hotspots.outputs.overview import overview_html
    from hotspots.outputs.publish import staged_outputs

    s = settings or WeeklySettings()
    out_dir = Path(out) if out is not None else s.out
    record = engine or {"name": "local", "scheduler": None}
    jobs = force_jobs(inputs, out_dir=out_dir, settings=s, engine=record)
    if run_tasks is None:
        done = [run_force(job, progress) for job in jobs]
    else:
        done = run_tasks(run_force, jobs, task="forces")
    results = {job.force: result for job, result in zip(jobs, done, strict=True)}
    table = national_table(results, out_dir=out_dir, engine=record)
    with staged_outputs(out_dir, owned=NATIONAL_OUTPUTS) as staging:
        write_csv(table, staging / "national.csv")
        write_text(staging / "index.html", overview_html(table, out_dir=out_dir))
    files = {name: out_dir / name for name in NATIONAL_OUTPUTS}
    return NationalResult(out_dir=out_dir, forces=results, table=table, files=files)


def national_table(
    results: dict[str, WeeklyResult], *, out_dir: Path, engine: dict[str, Any] | None = None
) -> pd.DataFrame:
    """One row per force: rows, study area and its km², spots, harm in spots, zones.

    The last two columns name the engine and its scheduler (empty for ``local``).
    """
    record = engine or {"name": "local", "scheduler": None}
    rows = []
    for force, result in results.items():
        summary = result.summary
        ingest = summary.get("ingest", {})
        spots = summary.get("spots", {})
        cocoon = summary.get("cocoon", {})
        knox = summary.get("knox", {})
        rows.append(
            {
                "force": force,
                "rows_kept": ingest.get("n_kept"),
                "rows_rejected": ingest.get("n_rejected"),
                "date_min": ingest.get("date_min"),
                "date_max": ingest.get("date_max"),
                "as_of": summary.get("as_of"),
                "study_area": spots.get("study_area"),
                "study_area_km2": spots.get("study_area_km2"),
                "spots": spots.get("n_spots"),
                "harm_in_spots": spots.get("harm"),
                "harm_total": spots.get("harm_total"),
                "harm_share_in_spots": spots.get("harm_share"),
                "area_share_of_spots": spots.get("area_share"),
                "live_zones": cocoon.get("zones"),
                "cocoons_skipped": cocoon.get("skipped"),
                "knox": knox.get("skipped") or knox.get("text"),
                "map": (Path(force) / "map.html").as_posix(),
                "engine": record.get("name"),
                "scheduler": record.get("scheduler"),
            }
        )
    return pd.DataFrame(rows)
