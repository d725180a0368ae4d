"""``hotspots demo``: generate the SYNTHETIC demo town and run the weekly pipeline on it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hotspots.cli._app import app, console, progress_reporter
from hotspots.cli._app import quiet as quiet_console
from hotspots.cli._options import with_options
from hotspots.cli.cmd_weekly import AsJson, Quiet, print_summary_json, show_weekly_summary
from hotspots.config import OutputOptions
from hotspots.errors import OptionError

if TYPE_CHECKING:
    from hotspots.pipeline import WeeklyResult

__all__ = ["demo"]


@app.command("demo")
@with_options(OutputOptions, exclude=("title",))
def demo(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Output folder: the town's data goes into OUT/data/, the weekly "
            "outputs (map.html, cocoon lists, layers) into OUT.",
        ),
    ] = Path("maps/demo"),
    seed: Annotated[
        int,
        typer.Option(
            "--seed",
            help="Seed of the synthetic town (and of the weekly run's permutations); "
            "the same seed gives the same files.",
        ),
    ] = 20261124,
    homes: Annotated[
        int, typer.Option("--homes", help="Number of homes (address points), 500 to 30000.")
    ] = 20_000,
    end: Annotated[
        str,
        typer.Option(
            "--end",
            help="Last day of the two years of incidents, YYYY-MM-DD; the run is as of that day.",
        ),
    ] = "2026-11-22",
    data_only: Annotated[
        bool,
        typer.Option("--data-only", help="Only write the town's data files; skip the weekly run."),
    ] = False,
    quiet: Quiet = False,
    as_json: AsJson = False,
    given: dict[str, Any] | None = None,
) -> None:
    """Generate the SYNTHETIC demo town and run the weekly pipeline on it.

    The town (streets, 20,000 homes, four districts, two years of incidents with
    near-repeat burglaries, a cocoon visit log and a week of patrols) is invented: every
    name says SYNTHETIC and postcodes use the non-existent ZZ area.
    """
    import pandas as pd

    from hotspots.demo import MAX_HOMES, MIN_HOMES

    if not MIN_HOMES <= homes <= MAX_HOMES:
        msg = f"--homes must be from {MIN_HOMES} to {MAX_HOMES}; got {homes}. Try --homes 20000."
        raise OptionError(msg)
    try:
        last_day = pd.Timestamp(end)
    except ValueError:
        last_day = None
    if last_day is None or last_day != last_day.normalize():
        msg = f"--end must be a date such as 2026-11-22; got {end!r}."
        raise OptionError(msg)
    data_dir = out / "data"
    with quiet_console(quiet or as_json):
        result = _demo(out, data_dir, seed=seed, homes=homes, end=end, data_only=data_only,
                       extra={k: v for k, v in (given or {}).items() if v is not None})  # fmt: skip
    if result is None:
        return
    if as_json:
        print_summary_json(result.out_dir, result.files)
    elif not quiet:
        show_weekly_summary(result.summary, result.files)


def _demo(
    out: Path,
    data_dir: Path,
    *,
    seed: int,
    homes: int,
    end: str,
    data_only: bool,
    extra: dict[str, Any],
) -> WeeklyResult | None:
    """The town's files, then last week's and this week's runs (None with --data-only)."""
    from hotspots.demo import generate_town, previous_week, write_town

    with progress_reporter() as progress:
        town = generate_town(seed=seed, n_homes=homes, end=end, progress=progress)
        files = write_town(town, data_dir)
    inc = town.incidents
    console.print(
        f"[bold]SYNTHETIC demo town[/] (seed {seed}): {len(town.addresses):,} homes, "
        f"{len(town.streets):,} streets, {len(town.districts)} districts, {len(inc):,} "
        f"incidents ({int(inc['dwelling_burglary'].sum()):,} dwelling burglaries), "
        f"{len(town.visits):,} cocoon visits, {len(town.patrols):,} patrols; data in {data_dir}."
    )
    if data_only:
        return None
    # last week's run first: its patrol plan covers the week of the patrol log, so this
    # week's run measures delivery against the plan that week was given
    last_week = previous_week(town)
    console.print(
        f"Last week's run (as of {last_week['as_of']}): plans the week from "
        f"{last_week['plan_start']}, the week of the patrol log."
    )
    _run_weekly(
        files, out=out, seed=seed, extra={**extra, **last_week, "run_knox": False}, patrols=False
    )
    return _run_weekly(
        files, out=out, seed=seed, extra={"as_of": f"{town.as_of:%Y-%m-%d}", **extra}
    )


def _run_weekly(
    files: dict[str, Path],
    *,
    out: Path,
    seed: int,
    extra: dict[str, Any],
    patrols: bool = True,
) -> WeeklyResult:
    from hotspots.demo import DISTRICT_FIELD
    from hotspots.pipeline import WeeklySettings, run_weekly

    settings = WeeklySettings.from_mapping(
        {
            "areas": files["districts"],
            "area_field": DISTRICT_FIELD,
            "addresses": files["addresses"],
            "visits": files["visits"],
            "patrols": files["patrols"] if patrols else None,
            "seed": seed,
            "title": "SYNTHETIC demo town: harm spots and cocoon zones",
            **extra,
        },
        source="hotspots demo",
    )
    with progress_reporter() as progress:
        return run_weekly([files["incidents"]], out=out, settings=settings, progress=progress)
