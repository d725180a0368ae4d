"""Publishing a run's outputs all at once: stage them, then swap them into place.

Every command that writes a set of files does it through :func:`staged_outputs`: the
files are written into a staging folder, and only when the whole run has succeeded are
they moved into the output folder, replacing the previous run's set. A failure part way
leaves the previous outputs untouched.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["stable_html_ids", "staged_outputs", "swap_into_place"]

_FOLIUM_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])")


def stable_html_ids(html: str) -> str:
    """Replace folium's random element ids by sequential ones so reruns are identical."""
    seen: dict[str, str] = {}

    def sub(match: re.Match[str]) -> str:
        return seen.setdefault(match.group(0), f"{len(seen) + 1:032x}")

    return _FOLIUM_ID.sub(sub, html)


def swap_into_place(staging: Path, out_dir: Path, *, owned: Iterable[str]) -> dict[str, Path]:
    """Move every staged output into ``out_dir``; drop stale ``owned`` outputs of earlier runs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    produced = {p.name for p in staging.iterdir()}
    for name in owned:
        old = out_dir / name
        if name not in produced and old.exists():
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    files = {}
    for item in sorted(staging.iterdir()):
        target = out_dir / item.name
        if item.is_dir():
            if target.exists():
                backup = out_dir / f".{item.name}.old"
                shutil.rmtree(backup, ignore_errors=True)
                os.replace(target, backup)
                os.replace(item, target)
                shutil.rmtree(backup, ignore_errors=True)
            else:
                os.replace(item, target)
        else:
            os.replace(item, target)
        files[item.name] = target
    return files


@contextmanager
def staged_outputs(out: str | Path, *, owned: Iterable[str]) -> Iterator[Path]:
    """Yield a staging folder; on success its files replace ``owned`` outputs in ``out``.

    Parameters
    ----------
    out
        Output folder (created if needed).
    owned
        Names (files or folders) this run owns in ``out``: any of them that the run did
        not produce this time is removed, so no stale file from an earlier run survives.
    """
    out_dir = Path(out)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
    try:
        yield staging
        swap_into_place(staging, out_dir, owned=tuple(owned))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
