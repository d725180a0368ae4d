"""Run every benchmark script and assemble ``benchmarks/RESULTS.md``.

Each ``bench_*.py`` is a plain script that writes ``benchmarks/results/<name>.md``
(medians of repeated runs, peak memory, ratios against reference libraries). This
runner starts them one after another in fresh processes, records how each ended and
how long it took, and writes RESULTS.md: machine details, library versions, a status
table and every script's results.

    .venv/bin/python benchmarks/run_all.py                 # everything (tens of minutes)
    .venv/bin/python benchmarks/run_all.py --quick         # smoke run, small sizes, 1 repeat
    .venv/bin/python benchmarks/run_all.py --only knox,cocoon
    .venv/bin/python benchmarks/run_all.py --assemble-only # rebuild RESULTS.md from results/

``--quick`` never touches RESULTS.md or results/: its reports go to a temporary folder
and are printed (results files a script overwrites in place are restored afterwards).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
ORDER = ("matrix", "ingest", "spots", "knox", "cocoon", "pipeline")
# long runs made on their own (each script says how); their reports join RESULTS.md too
SEPARATE = ("maps", "scale", "dask")
# small sizes for --quick, passed only when the script's --help lists the option
QUICK_OPTIONS: dict[str, list[list[str]]] = {
    "ingest": [["--rows", "20000"], ["--n", "20000"]],
    "spots": [["--rows", "20000"], ["--n", "20000"]],
    "knox": [["--pointpats-n", "1000"], ["--synthetic-n", "5000"]],
    "cocoon": [["--burglaries", "1000"], ["--addresses", "50000"]],
    "pipeline": [],
    "matrix": [],  # bench_matrix.py has its own --quick (10k synthetic + Essex)
}
LIBRARIES = (
    "numpy",
    "pandas",
    "geopandas",
    "shapely",
    "pyproj",
    "scipy",
    "scikit-learn",
    "pyogrio",
    "folium",
    "esda",
    "libpysal",
    "pointpats",
)


def machine_details() -> list[str]:
    """Markdown bullet lines describing this machine and the library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f", {kb / 1024**2:.0f} GB RAM"
    except (OSError, AttributeError):
        pass
    versions = []
    for lib in LIBRARIES:
        try:
            versions.append(f"{lib} {importlib.metadata.version(lib)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{lib} (not installed)")
    try:
        hotspots_version = importlib.metadata.version("hotspots")
    except importlib.metadata.PackageNotFoundError:
        hotspots_version = "unknown"
    commit = (
        subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=REPO,
            check=False,
        ).stdout.strip()
        or "unknown"
    )
    return [
        f"- machine: {cpu}, {os.cpu_count()} cores{mem}; {platform.platform(terse=True)}",
        f"- Python {platform.python_version()}; hotspots {hotspots_version} (commit {commit})",
        f"- libraries: {', '.join(versions)}",
    ]


def script_help(script: Path) -> str:
    proc = subprocess.run(
        [sys.executable, str(script), "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
        timeout=120,
    )
    return proc.stdout + proc.stderr


def command_for(name: str, script: Path, *, quick: bool, out_dir: Path | None) -> list[str]:
    """The command line for one script, adapted to the options it declares."""
    cmd = [sys.executable, str(script)]
    if not quick:
        return cmd
    text = script_help(script)
    if re.search(r"--quick\b", text):
        cmd.append("--quick")
    else:
        for flag in ("--repeats", "--repeat"):
            if re.search(rf"{flag}\b", text):
                cmd += [flag, "1"]
                break
        for option in QUICK_OPTIONS.get(name, []):
            if re.search(rf"{re.escape(option[0])}\b", text):
                cmd += option
    if out_dir is not None and re.search(r"--out\b", text):
        cmd += ["--out", str(out_dir / f"{name}.md")]
    return cmd


def demote(markdown: str) -> str:
    """Push a script's headings two levels down so they nest under RESULTS.md's sections."""
    return re.sub(
        r"^(#{1,4}) ", lambda m: "#" * (len(m.group(1)) + 2) + " ", markdown, flags=re.MULTILINE
    )


def ratio_lines(results_dir: Path) -> list[str]:
    """Every statement of a time ratio against a reference library, gathered from results/."""
    out = []
    for name in (*ORDER, *SEPARATE):
        path = results_dir / f"{name}.md"
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            # a time ratio names both sides, e.g. "esda/ours" or "pointpats / hotspots"
            if not re.search(r"\bratio\b", line, flags=re.IGNORECASE) or "/" not in line:
                continue
            if line.startswith("- command"):
                continue
            if line.startswith("|"):
                cells = [c.strip() for c in line.strip("|").split("|")]
                parts = [
                    p.strip()
                    for c in cells
                    for p in c.split(",")
                    if re.search(r"\bratio\b", p, flags=re.IGNORECASE) and "/" in p
                ]
                if parts:
                    out.append(f"- {name} / {cells[0]}: {'; '.join(parts)}")
            else:
                out.append(f"- {name}: {line.strip()}")
    return out


def assemble(statuses: list[dict[str, str]], results_dir: Path, *, quick: bool) -> str:
    """The RESULTS.md text from the per-script result files."""
    when = datetime.now(UTC).replace(microsecond=0).isoformat()
    lines = [
        "# hotspots benchmark results" + (" (quick smoke run)" if quick else ""),
        "",
        f"Assembled by `benchmarks/run_all.py` on {when}. Each section below is written by one "
        "script in `benchmarks/` (see `benchmarks/README.md` for what each measures and how to "
        "re-run it). Times are medians of repeated runs unless a section says otherwise; peak "
        "memory is the resident set size of the process that ran the case. Where a section gives "
        "the load average, the machine was shared with other work: wall times are then "
        "pessimistic and CPU times are the better guide to an idle machine.",
        "",
        "## Machine",
        "",
        *machine_details(),
        "",
    ]
    targets = results_dir / "targets.md"
    if targets.exists():  # the done-when list: measured value, peer, met or not
        lines += [demote(targets.read_text().strip()).replace("### ", "## ", 1), ""]
    if statuses:
        lines += ["## Last full run", "", "| script | status | wall time s |", "|---|---|---:|"]
        lines += [f"| {s['name']} | {s['status']} | {s['seconds']} |" for s in statuses]
        lines.append("")
    ratios = ratio_lines(results_dir)
    if ratios:
        lines += [
            "## Ratios against reference libraries",
            "",
            "Reference time / our time on the same data (above 1: we are faster); "
            "details and agreement checks in the sections below.",
            "",
            *ratios,
            "",
        ]
    for name in (*ORDER, *SEPARATE):
        path = results_dir / f"{name}.md"
        if name in SEPARATE and not path.exists():
            continue
        lines += [f"## {name}", ""]
        if path.exists():
            lines += [demote(path.read_text().strip()), ""]
        else:
            lines += [f"_No results yet: run `.venv/bin/python benchmarks/bench_{name}.py`._", ""]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: small sizes, 1 repeat; RESULTS.md is not touched",
    )
    parser.add_argument("--only", help="comma-separated scripts to run, e.g. knox,cocoon")
    parser.add_argument(
        "--assemble-only",
        action="store_true",
        help="do not run anything; rebuild RESULTS.md from results/*.md",
    )
    parser.add_argument(
        "--timeout-s",
        type=float,
        default=None,
        help="per-script time limit (default 3600, quick 900)",
    )
    args = parser.parse_args()
    names = [n for n in ORDER if (HERE / f"bench_{n}.py").exists()]
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = sorted(set(wanted) - set(ORDER))
        if unknown:
            parser.error(f"--only: unknown script(s) {unknown}; choose from {list(ORDER)}")
        names = [n for n in names if n in wanted]
    timeout = args.timeout_s or (900.0 if args.quick else 3600.0)
    statuses: list[dict[str, str]] = []
    quick_dir = Path(tempfile.mkdtemp(prefix="hotspots-quick-")) if args.quick else None
    saved = {p: p.read_bytes() for p in RESULTS.glob("*.md")} if args.quick else {}
    try:
        for name in [] if args.assemble_only else names:
            script = HERE / f"bench_{name}.py"
            cmd = command_for(name, script, quick=args.quick, out_dir=quick_dir)
            print(
                f"== {name}: {' '.join(Path(c).name if c == sys.executable else c for c in cmd)}",
                flush=True,
            )
            t0 = time.perf_counter()
            try:
                proc = subprocess.run(
                    cmd, cwd=REPO, timeout=timeout, check=False, capture_output=True, text=True
                )
                status = "ok" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
                tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
            except subprocess.TimeoutExpired:
                status, tail = f"timed out after {timeout:.0f} s", []
            seconds = time.perf_counter() - t0
            statuses.append({"name": name, "status": status, "seconds": f"{seconds:.0f}"})
            print(
                f"   {status} in {seconds:.0f} s", *("   " + t for t in tail), sep="\n", flush=True
            )
            if (
                quick_dir is not None
                and (RESULTS / f"{name}.md").exists()
                and not (quick_dir / f"{name}.md").exists()
            ):
                shutil.copy(RESULTS / f"{name}.md", quick_dir / f"{name}.md")
        if args.quick:
            assert quick_dir is not None
            text = assemble(statuses, quick_dir, quick=True)
            (quick_dir / "RESULTS.md").write_text(text)
            print(text)
            print(f"(quick run: reports in {quick_dir}; RESULTS.md untouched)")
        else:
            status_file = RESULTS / "run_all_status.json"
            if args.assemble_only and status_file.exists():  # keep the last run's table
                statuses = json.loads(status_file.read_text())
            elif statuses:
                status_file.write_text(json.dumps(statuses, indent=1) + "\n")
            (HERE / "RESULTS.md").write_text(assemble(statuses, RESULTS, quick=False))
            print(f"wrote {HERE / 'RESULTS.md'}")
    finally:
        for path, data in saved.items():  # quick runs leave the recorded results as they were
            path.write_bytes(data)
    if any(s["status"] != "ok" for s in statuses):
        sys.exit(1)


if __name__ == "__main__":
    main()
