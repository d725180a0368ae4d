"""Publishing a run's outputs all at once: lock, stage, swap by journal, recover.

Every command that writes a set of files does it through :func:`staged_outputs`. The
user-facing layout stays as it always was (the files directly in the output folder
``OUT``); what changes is how they get there:

1. **Lock.** ``OUT/.hotspots.lock`` is held with ``fcntl.flock`` for the whole run. A
   second run into the same folder stops at once with one line naming the holder's pid
   (it does not wait: a scheduled run that queues silently behind a stuck one is worse
   than one that says so).
2. **Recover.** With the lock held, an unfinished swap left by a killed run is completed
   or rolled back (see 4), and stale staging and backup folders (they hold home
   addresses) are removed.
3. **Stage.** The run writes into ``OUT/.hotspots-staging-<id>/``, inside the output
   folder, so every later rename stays on one filesystem (no ``EXDEV``, even when
   ``OUT`` is a mount point).
4. **Swap by journal.** ``OUT/.hotspots-journal.json`` is written (atomically, fsynced)
   listing the old names and the new names; the old owned files are renamed into
   ``OUT/.hotspots-old-<id>/``, the new ones renamed into ``OUT``; then the journal is
   marked ``committed`` and the backup deleted. A kill before ``committed`` is rolled
   back at the next start (the previous run's set comes back); a kill after it is
   completed (the new set stays). So once the next run (or :func:`recover`) has taken
   the lock, the folder holds exactly one run's set, never a mixture.

A symlinked ``OUT/current`` would make the switch a single rename, but it would move
every file one folder down and break the paths analysts, schedulers and QGIS projects
already use; the journal keeps them.

Environment problems (read-only or full disk, ``--out`` naming a file, a file name too
long for the filesystem) are raised as :class:`~hotspots.errors.OutputError` with one
line naming the path and the fix.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hotspots.errors import OutputError

__all__ = [
    "JOURNAL_NAME",
    "LOCK_NAME",
    "output_error",
    "placed",
    "recover",
    "stable_html_ids",
    "staged_outputs",
    "swap_into_place",
]

LOCK_NAME = ".hotspots.lock"
JOURNAL_NAME = ".hotspots-journal.json"
_STAGING_PREFIX = ".hotspots-staging-"
_BACKUP_PREFIX = ".hotspots-old-"
_FOLIUM_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])")


def stable_html_ids(html: str) -> str:
    """Replace folium's random element ids by sequential ones so reruns are identical."""
    seen: dict[str, str] = {}

    def sub(match: re.Match[str]) -> str:
        return seen.setdefault(match.group(0), f"{len(seen) + 1:032x}")

    return _FOLIUM_ID.sub(sub, html)


# ---------------------------------------------------------------------------- errors


def output_error(exc: OSError, out: Path) -> OutputError:
    """One-line :class:`OutputError` for an OS error met while writing into ``out``."""
    where = exc.filename if exc.filename else out
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        msg = (
            f"no space left on the disk while writing {where}; free space or choose another --out."
        )
    elif code == errno.EROFS:
        msg = f"{out} is on a read-only filesystem; choose a writable --out folder."
    elif code in (errno.EACCES, errno.EPERM):
        msg = f"no permission to write {where}; choose a folder you can write to as --out."
    elif code in (errno.ENOTDIR, errno.EEXIST) and (out.exists() and not out.is_dir()):
        msg = f"--out {out} is a file, not a folder; give a folder path (it is created if missing)."
    elif code == errno.ENOTDIR:
        msg = f"part of --out {out} is a file, not a folder; give a path made of folders."
    elif code == errno.ENAMETOOLONG:
        name = Path(str(where)).name
        msg = (
            f"file name too long for the filesystem under {out}: {name[:40]}... "
            f"({len(name.encode())} bytes); shorten it (e.g. the area name) below 200 characters."
        )
    else:
        msg = f"cannot write outputs into {out}: {exc.strerror or exc}; check the --out folder."
    return OutputError(msg)


def _is_output_problem(exc: OSError, out: Path) -> bool:
    """True when ``exc`` is about the output folder (not, say, a missing input file)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.ENAMETOOLONG):
        return True
    name = exc.filename
    if not name:
        return False
    with contextlib.suppress(OSError, ValueError):
        Path(os.path.abspath(name)).relative_to(os.path.abspath(out))
        return True
    return False


# ---------------------------------------------------------------------------- journal


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_journal(out_dir: Path, record: dict[str, Any]) -> None:
    tmp = out_dir / (JOURNAL_NAME + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, out_dir / JOURNAL_NAME)
    _fsync_dir(out_dir)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def recover(out: str | os.PathLike[str]) -> str | None:
    """Finish or undo a swap a killed run left in ``out``; remove stale staging.

    Call it only while holding the folder's lock (:func:`staged_outputs` does).

    Returns
    -------
    str or None
        ``"rolled back"`` or ``"completed"`` when an unfinished swap was found, else None.
    """
    out_dir = Path(out)
    journal_path = out_dir / JOURNAL_NAME
    outcome = None
    if journal_path.exists():
        try:
            record = json.loads(journal_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = None  # torn before os.replace: nothing was moved yet
        if record is not None:
            staging = out_dir / record["staging"]
            backup = out_dir / record["backup"]
            if record.get("state") == "committed":
                outcome = "completed"
            else:
                for name in record["new"]:  # new files already moved in: take them out
                    if not (staging / name).exists() and (out_dir / name).exists():
                        _remove(out_dir / name)
                for name in record["old"]:  # old files already moved aside: put them back
                    if (backup / name).exists() and not (out_dir / name).exists():
                        os.replace(backup / name, out_dir / name)
                outcome = "rolled back"
        _remove(journal_path)
    _remove(out_dir / (JOURNAL_NAME + ".tmp"))
    for stale in out_dir.iterdir():
        if stale.name.startswith((_STAGING_PREFIX, _BACKUP_PREFIX)):
            _remove(stale)
    # staging folders of older versions sat beside OUT (".OUT.staging-*")
    with contextlib.suppress(OSError):
        for stale in out_dir.parent.glob(f".{out_dir.name}.staging-*"):
            _remove(stale)
    _fsync_dir(out_dir)
    return outcome


def swap_into_place(staging: Path, out_dir: Path, *, owned: Iterable[str]) -> dict[str, Path]:
    """Replace the ``owned`` outputs in ``out_dir`` by everything in ``staging``, as one step.

    ``staging`` must be inside ``out_dir`` (same filesystem). Owned names the new run did
    not produce are removed, so no stale file of an earlier run survives.
    """
    produced = sorted(p.name for p in staging.iterdir())
    old = sorted({n for n in (*owned, *produced) if (out_dir / n).exists()})
    backup = Path(tempfile.mkdtemp(prefix=_BACKUP_PREFIX, dir=out_dir))
    record = {
        "staging": staging.name,
        "backup": backup.name,
        "old": old,
        "new": produced,
        "state": "prepared",
    }
    _write_journal(out_dir, record)
    for name in old:
        os.replace(out_dir / name, backup / name)
    for name in produced:
        os.replace(staging / name, out_dir / name)
    _fsync_dir(out_dir)
    _write_journal(out_dir, {**record, "state": "committed"})
    _remove(backup)
    _remove(out_dir / JOURNAL_NAME)
    return {name: out_dir / name for name in produced}


# ---------------------------------------------------------------------------- the run


def _make_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise output_error(OSError(errno.EEXIST, "File exists", str(out_dir)), out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(exc, out_dir) from None


@contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    lock_path = out_dir / LOCK_NAME
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise output_error(exc, out_dir) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            msg = (
                f"another hotspots run is writing {out_dir} (pid {holder}); "
                f"wait for it or choose another --out."
            )
            raise OutputError(msg) from None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def placed(written: Mapping[str, Path], staging: Path, folder: Path) -> dict[str, Path]:
    """The paths of ``written`` (inside ``staging``) as they are after the swap, in ``folder``."""
    moved: dict[str, Path] = {}
    for name, path in written.items():
        try:
            moved[name] = folder / Path(path).relative_to(staging)
        except ValueError:
            moved[name] = Path(path)
    return moved


@contextmanager
def staged_outputs(out: str | os.PathLike[str], *, owned: Iterable[str]) -> Iterator[Path]:
    """Lock ``out``, yield a staging folder inside it; on success swap its files into ``out``.

    Parameters
    ----------
    out
        Output folder (created if needed).
    owned
        Names (files or folders) this run owns in ``out``: any of them that the run did
        not produce this time is removed, so no stale file from an earlier run survives.
        Other files in ``out`` are never touched.

    Raises
    ------
    OutputError
        If ``out`` cannot be written (a file, read-only, full, name too long) or another
        run holds its lock.

    Examples
    --------
    >>> with staged_outputs(tmp_out, owned=["a.csv"]) as staging:  # doctest: +SKIP
    ...     (staging / "a.csv").write_text("spot_id,harm")
    """
    out_dir = Path(out)
    owned = tuple(owned)
    _make_out_dir(out_dir)
    with _locked(out_dir):
        try:
            recover(out_dir)
            staging = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=out_dir))
        except OSError as exc:
            raise output_error(exc, out_dir) from None
        try:
            try:
                yield staging
            except OSError as exc:
                if _is_output_problem(exc, out_dir):
                    raise output_error(exc, out_dir) from None
                raise
            try:
                swap_into_place(staging, out_dir, owned=owned)
            except OSError as exc:
                recover(out_dir)  # put the previous set back before reporting
                raise output_error(exc, out_dir) from None
        finally:
            _remove(staging)
