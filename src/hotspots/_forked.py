"""Independent writers side by side, each in a forked child process.

A run ends with writers that share nothing but results already in memory and the
staging folder: the cocoon tables, the printable lists, the map, the GeoPackage. Most
of their time is Python (pandas' CSV writer, templates, JSON), so threads would take
turns on the GIL; a forked child sees the parent's results without copying or pickling
them and uses the other core. Each child writes its own files into the staging folder
and exits; the parent waits for all of them before the folder is swapped in, so a
failed writer fails the whole run and nothing half-written is published (the child's
exception is re-raised in the parent, a :class:`~hotspots.errors.HotspotsError` as the
same one-line error).

Writers run in children only on Linux with more than one core for this process (fork
is not available on Windows and not safe on macOS); elsewhere, or with ``jobs=1``, each
runs right here when it is started, in order. The files are the same either way.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from hotspots._validate import worker_count
from hotspots.errors import HotspotsError

__all__ = ["SideBySide", "can_fork", "side_by_side"]


def can_fork() -> bool:
    """True where writers may run in forked children (Linux)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


@dataclass
class _Child:
    name: str
    pid: int
    fd: int  # read end of the pipe the child reports a failure through


@dataclass
class SideBySide:
    """Writers started one by one; :meth:`wait` joins them (see :func:`side_by_side`)."""

    jobs: int
    children: list[_Child] = field(default_factory=list)

    def start(self, name: str, task: Callable[[], object]) -> None:
        """Run ``task()`` (writes files, returns nothing used) in a child, or here."""
        if self.jobs <= 1 or not can_fork():
            task()
            return
        read_fd, write_fd = os.pipe()
        with warnings.catch_warnings():
            # Python 3.12+ warns on fork in a process with threads (Arrow's and numba's
            # pools). A child runs only pure-Python/pandas writers and exits with
            # os._exit: it takes no lock those threads could hold and starts no pool.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: run, report a failure, never return into the caller
            os.close(read_fd)
            _run_child(task, write_fd)
        os.close(write_fd)
        self.children.append(_Child(name, pid, read_fd))

    def wait(self) -> None:
        """Wait for every child; re-raise the first failure (in start order) here."""
        failures: list[BaseException] = []
        while self.children:
            child = self.children.pop(0)
            payload = _read_all(child.fd)
            _, status = os.waitpid(child.pid, 0)
            code = os.waitstatus_to_exitcode(status)
            if payload:
                failures.append(_exception_from(payload, child.name))
            elif code != 0:
                failures.append(
                    RuntimeError(f"The {child.name} writer stopped with exit code {code}.")
                )
        if failures:
            raise failures[0]

    def abandon(self) -> None:
        """Stop every child still running (the run failed here) and reap it."""
        while self.children:
            child = self.children.pop()
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, 15)
            os.close(child.fd)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(child.pid, 0)


@contextlib.contextmanager
def side_by_side(jobs: int | None = None) -> Iterator[SideBySide]:
    """Writers side by side: ``with side_by_side() as w: w.start("map", write_map)``.

    Parameters
    ----------
    jobs
        Cores to write with; default every core this process may use. With more than
        one, each started writer gets its own child at once (a run starts two or three);
        with ``1`` each writer runs in this process when it is started.

    The block's end waits for every child and raises the first failure; if the block
    itself raises, the children are stopped and the block's exception goes on.
    """
    pool = SideBySide(jobs=worker_count(jobs))
    try:
        yield pool
    except BaseException:
        pool.abandon()
        raise
    pool.wait()


def _run_child(task: Callable[[], object], write_fd: int) -> None:
    code = 0
    try:
        task()
    except BaseException as exc:  # noqa: BLE001 - every failure goes to the parent
        code = 1
        with contextlib.suppress(BaseException):
            os.write(write_fd, _payload(exc))
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _payload(exc: BaseException) -> bytes:
    """The exception pickled, or (when it cannot be) its traceback as text.

    A user mistake (:class:`HotspotsError`) travels as it is, to be shown as its one
    line; any other failure carries the child's traceback as a note, for the bug report.
    """
    if not isinstance(exc, HotspotsError):
        exc.add_note("In the writer process:\n" + "".join(traceback.format_exception(exc)))
    try:
        data = pickle.dumps(exc)
        pickle.loads(data)  # an exception whose arguments do not round-trip
    except Exception:  # noqa: BLE001
        data = pickle.dumps(RuntimeError("".join(traceback.format_exception(exc))))
    return data


def _exception_from(payload: bytes, name: str) -> BaseException:
    try:
        exc = pickle.loads(payload)
    except Exception:  # noqa: BLE001 - a child killed while writing its report
        return RuntimeError(f"The {name} writer failed and its report was cut short.")
    return exc if isinstance(exc, BaseException) else RuntimeError(str(exc))


def _read_all(fd: int) -> bytes:
    chunks = []
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)
