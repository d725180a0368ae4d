"""Independent work side by side, each task in a forked child process.

A weekly run has stages and writers that share nothing but results already in memory
and the staging folder: the cocoon stage (zones, visit lists) beside the harm spots,
then the cocoon tables, the printable lists and the zone layers beside the map and the
GeoPackage. Most of their time is Python (pandas, templates, JSON), so threads would
take turns on the GIL; a forked child sees the parent's results without copying or
pickling them and uses the other core. A task may return a value (pickled back through
a pipe, e.g. the zones) and then go on in the same child with a follow-up (writing its
files). The parent joins every child before the staging folder is swapped in, so a
failed task fails the whole run and nothing half-written is published; the child's
exception is re-raised in the parent (a :class:`~hotspots.errors.HotspotsError` as the
same one-line error).

Tasks run in children only on Linux with more than one core for this process (fork is
not available on Windows and not safe on macOS); elsewhere, or with ``jobs=1``, each
runs right here when it is started, in order. The files are the same either way
(``tests/test_pipeline.py``).
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from hotspots._validate import worker_count
from hotspots.errors import HotspotsError

__all__ = ["Pending", "SideBySide", "can_fork", "side_by_side"]


def can_fork() -> bool:
    """True where writers may run in forked children (Linux)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


@dataclass
class Pending:
    """A started task: :meth:`result` gives its return value, :meth:`join` waits for it.

    A thread of this process drains the child's pipe as it writes (a visit list is
    megabytes, a pipe holds 64 KB), so the child never waits for the caller to ask.
    """

    name: str
    pid: int = 0  # 0: ran in this process
    fd: int = -1  # read end of the pipe the child answers through
    answered: bool = False  # the task's own answer has been taken
    lost: bool = False  # the child ended without answering
    done: bool = False  # the child has ended and been reaped
    value: object = None
    error: BaseException | None = None
    messages: list[tuple[bool, Any]] = field(default_factory=list)
    first: threading.Event = field(default_factory=threading.Event)
    reader: threading.Thread | None = None
    exit_code: int = 0  # set by the reader when it reaps the child

    def listen(self) -> None:
        """Start draining the pipe (the parent, right after the fork)."""
        self.reader = threading.Thread(target=self._drain, name=f"{self.name} pipe", daemon=True)
        self.reader.start()

    def _drain(self) -> None:
        try:
            while (message := _read_message(self.fd)) is not None:
                self.messages.append(message)
                self.first.set()
        finally:
            self.first.set()
            # the pipe ends when the child does: reap it now, not at join (no zombie)
            with contextlib.suppress(ChildProcessError):
                _, status = os.waitpid(self.pid, 0)
                self.exit_code = os.waitstatus_to_exitcode(status)

    def result(self) -> object:
        """The task's return value, as soon as the child sends it.

        Its follow-up may still be running; the task's exception is raised here.
        """
        self._answer()
        if self.lost:
            self.join()  # the exit code says what happened
        if self.error is not None:
            raise self.error
        return self.value

    def _answer(self) -> None:
        if self.answered:
            return
        self.answered = True
        self.first.wait()
        if not self.messages:
            self.lost = True
        elif self.messages[0][0]:
            self.value = self.messages[0][1]
        else:
            self.error = self.messages[0][1]

    def join(self) -> None:
        """Wait for the child to end; a failure of its follow-up becomes the error."""
        if self.done:
            return
        self._answer()
        if self.reader is not None:
            self.reader.join()
        if not self.lost and self.error is None and len(self.messages) > 1:
            self.error = self.messages[1][1]  # only a failed follow-up says more
        os.close(self.fd)
        self.done = True
        code = self.exit_code
        if self.error is None and (code or self.lost):
            self.error = RuntimeError(f"The {self.name} process stopped with exit code {code}.")

    def stop(self) -> None:
        """Stop the child (the run failed elsewhere) and reap it."""
        if self.done:
            return
        self.done = True
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, 15)
        if self.reader is not None:
            self.reader.join()  # the pipe ends with the child, which the reader reaps
        os.close(self.fd)


@dataclass
class SideBySide:
    """Tasks started one by one; :meth:`wait` joins them (see :func:`side_by_side`)."""

    jobs: int
    pending: list[Pending] = field(default_factory=list)

    def start(
        self,
        name: str,
        task: Callable[[], object],
        *,
        then: Callable[[Any], object] | None = None,
    ) -> Pending:
        """Run ``task()`` in a child (or here, at once, with one job) and return its handle.

        What the task returns comes back pickled through :meth:`Pending.result`. ``then``
        (e.g. writing what was computed) runs in the same child on that value after it
        has been sent, so the caller goes on while the child writes; its failure is
        raised by :meth:`wait`.
        """
        if self.jobs <= 1 or not can_fork():
            value = task()
            if then is not None:
                then(value)
            return Pending(name, answered=True, done=True, value=value)
        read_fd, write_fd = os.pipe()
        pid = -1
        with warnings.catch_warnings():
            # Python 3.12+ warns on fork in a process with threads (Arrow's and numba's
            # pools). A child runs only pandas/shapely work of its own and leaves with
            # os._exit: it waits on no lock those threads hold and starts no pool of its own.
            warnings.simplefilter("ignore", DeprecationWarning)
            # the child's collector must not walk (and so copy) the parent's objects:
            # frozen, they stay shared pages; the parent collects them again at once
            gc.freeze()
            try:
                pid = os.fork()
            finally:
                if pid != 0:
                    gc.unfreeze()
        if pid == 0:  # the child: run, answer, never return into the caller
            os.close(read_fd)
            _run_child(task, then, write_fd)
        os.close(write_fd)
        pending = Pending(name, pid=pid, fd=read_fd)
        pending.listen()
        self.pending.append(pending)
        return pending

    def wait(self) -> None:
        """Wait for every task started; re-raise the first failure (in start order) here."""
        failures = []
        while self.pending:
            task = self.pending.pop(0)
            raised = task.answered and task.error is not None  # result() raised it already
            task.join()
            if task.error is not None and not raised:
                failures.append(task.error)
        if failures:
            raise failures[0]

    def abandon(self) -> None:
        """Stop every task still running (the run failed here)."""
        while self.pending:
            self.pending.pop().stop()


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


def _run_child(
    task: Callable[[], object], then: Callable[[Any], object] | None, write_fd: int
) -> None:
    """In the child: the task's answer, then its follow-up's (only if it failed)."""
    code = 0
    try:
        try:
            value = task()
        except BaseException as exc:  # noqa: BLE001 - every failure goes to the parent
            code = 1
            _send(write_fd, _payload(exc))
        else:
            _send(write_fd, pickle.dumps((True, value), protocol=pickle.HIGHEST_PROTOCOL))
            if then is not None:
                try:
                    then(value)
                except BaseException as exc:  # noqa: BLE001
                    code = 1
                    _send(write_fd, _payload(exc))
    except BaseException:  # noqa: BLE001 - the parent stopped listening
        code = code or 1
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _send(fd: int, data: bytes) -> None:
    """One message: its length (8 bytes) and its bytes."""
    view = memoryview(len(data).to_bytes(8, "big") + data)
    while view:
        view = view[os.write(fd, view) :]


def _read_message(fd: int) -> tuple[bool, Any] | None:
    """``(ok, value)`` of the next message, or None when the child sent no more."""
    head = _read_exactly(fd, 8)
    if len(head) < 8:
        return None
    data = _read_exactly(fd, int.from_bytes(head, "big"))
    try:
        ok, value = pickle.loads(data)
    except Exception:  # noqa: BLE001 - a child killed while writing its answer
        return False, RuntimeError("A child process's answer was cut short.")
    return bool(ok), value


def _read_exactly(fd: int, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _payload(exc: BaseException) -> bytes:
    """``(False, exc)`` pickled, or (when it cannot be) with its traceback as text.

    A user mistake (:class:`HotspotsError`) travels as it is, to be shown as its one
    line; any other failure carries the child's traceback as a note, for the bug report.
    """
    if not isinstance(exc, HotspotsError):
        exc.add_note("In the child process:\n" + "".join(traceback.format_exception(exc)))
    try:
        data = pickle.dumps((False, exc))
        pickle.loads(data)  # an exception whose arguments do not round-trip
    except Exception:  # noqa: BLE001
        text = "".join(traceback.format_exception(exc))
        data = pickle.dumps((False, RuntimeError(text)))
    return data
