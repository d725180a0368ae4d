"""Writers side by side (hotspots._forked): files, failures and the one-process fallback."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from hotspots._forked import can_fork, side_by_side
from hotspots.errors import InputError

needs_fork = pytest.mark.skipif(not can_fork(), reason="writers run in children only on Linux")


def _write(path: Path, text: str) -> None:
    path.write_text(f"{text} from {os.getpid()}")


@needs_fork
def test_children_write_their_files_before_the_block_ends(tmp_path):
    with side_by_side(jobs=2) as writers:
        writers.start("a", lambda: _write(tmp_path / "a.txt", "a"))
        writers.start("b", lambda: _write(tmp_path / "b.txt", "b"))
        _write(tmp_path / "here.txt", "here")
    texts = {p.name: p.read_text() for p in tmp_path.iterdir()}
    assert set(texts) == {"a.txt", "b.txt", "here.txt"}
    pids = {t.rsplit(" ", 1)[1] for t in texts.values()}
    assert len(pids) == 3  # two children and this process
    assert texts["here.txt"].endswith(str(os.getpid()))


def test_one_job_runs_each_writer_here_in_order(tmp_path):
    order: list[str] = []
    with side_by_side(jobs=1) as writers:
        writers.start("a", lambda: order.append("a"))
        order.append("between")
        writers.start("b", lambda: order.append("b"))
    assert order == ["a", "between", "b"]


@needs_fork
def test_a_user_mistake_in_a_child_comes_back_as_itself():
    def bad() -> None:
        raise InputError("visits.csv row 3, column visited_at: 'soon' is not a time; fix it.")

    expected = r"^visits.csv row 3, column visited_at: 'soon'"
    with pytest.raises(InputError, match=expected), side_by_side(jobs=2) as writers:
        writers.start("lists", bad)


@needs_fork
def test_a_bug_in_a_child_carries_its_traceback():
    def bug() -> None:
        {}["missing"]

    with pytest.raises(KeyError) as info, side_by_side(jobs=2) as writers:
        writers.start("tables", bug)
    notes = "".join(getattr(info.value, "__notes__", []))
    assert "In the child process" in notes and "bug" in notes


@needs_fork
def test_an_exception_that_cannot_travel_becomes_text():
    class OddError(Exception):
        def __init__(self, a: int, b: int) -> None:  # pickles as Odd(msg): cannot rebuild
            super().__init__(f"odd {a} {b}")

    def odd() -> None:
        raise OddError(1, 2)

    with pytest.raises(RuntimeError, match="odd 1 2"), side_by_side(jobs=2) as writers:
        writers.start("odd", odd)


@needs_fork
def test_a_child_that_dies_is_a_failure(tmp_path):
    expected = "The killed process stopped with exit code 3"
    with pytest.raises(RuntimeError, match=expected), side_by_side(jobs=2) as writers:
        writers.start("killed", lambda: os._exit(3))


@needs_fork
def test_failure_here_stops_the_children(tmp_path):
    marker = tmp_path / "late.txt"

    def slow() -> None:
        time.sleep(30)
        marker.write_text("written after the run failed")

    with pytest.raises(ValueError, match="map failed"), side_by_side(jobs=2) as writers:
        writers.start("slow", slow)
        raise ValueError("map failed")
    assert not marker.exists()


@needs_fork
def test_a_task_returns_its_result_through_the_pipe():
    big = {"rows": list(range(200_000))}  # far more than a pipe holds at once
    with side_by_side(jobs=2) as pool:
        job = pool.start("count", lambda: {"pid": os.getpid(), **big})
        assert job.result()["rows"] == big["rows"]
        assert job.result()["pid"] != os.getpid()


def test_one_job_returns_the_result_too():
    with side_by_side(jobs=1) as pool:
        assert pool.start("count", lambda: 41 + 1).result() == 42


@needs_fork
def test_a_failure_taken_through_result_is_not_raised_twice():
    def bad() -> None:
        raise InputError("addresses.csv has no rows; pass a layer with addresses.")

    with side_by_side(jobs=2) as pool:
        job = pool.start("cocoon zones", bad)
        with pytest.raises(InputError, match="^addresses.csv has no rows"):
            job.result()
    # the block ends quietly: the failure was handed over once, by result()


@needs_fork
def test_a_large_failure_report_does_not_block(tmp_path):
    def loud() -> None:
        raise InputError("x" * 500_000)  # more than a pipe holds

    with pytest.raises(InputError, match="^x+$"), side_by_side(jobs=2) as writers:
        writers.start("loud", loud)


@needs_fork
def test_the_result_arrives_before_the_follow_up_ends(tmp_path):
    gate = tmp_path / "gate"

    def write_after(value: int) -> None:  # waits until the parent has the value
        for _ in range(500):
            if gate.exists():
                break
            time.sleep(0.01)
        (tmp_path / "written.txt").write_text(str(value * 2))

    with side_by_side(jobs=2) as pool:
        job = pool.start("cocoon zones", lambda: 21, then=write_after)
        assert job.result() == 21
        gate.write_text("go")  # only reachable if result() did not wait for write_after
    assert (tmp_path / "written.txt").read_text() == "42"


@needs_fork
def test_a_failed_follow_up_fails_the_block():
    def broken(value: int) -> None:
        raise InputError(f"list areas file has no area {value}; fix --list-area-field.")

    with pytest.raises(InputError, match="has no area 7"), side_by_side(jobs=2) as pool:
        job = pool.start("cocoon zones", lambda: 7, then=broken)
        assert job.result() == 7


def test_one_job_runs_the_follow_up_at_once():
    seen: list[int] = []
    with side_by_side(jobs=1) as pool:
        job = pool.start("cocoon zones", lambda: 5, then=seen.append)
        assert seen == [5]
    assert job.result() == 5


@needs_fork
def test_a_finished_child_is_reaped_before_the_block_ends():
    with side_by_side(jobs=2) as pool:
        job = pool.start("quick", lambda: 1)
        assert job.result() == 1
        assert job.reader is not None
        job.reader.join(timeout=30)  # the pipe's reader reaps the child when it ends
        assert not os.path.exists(f"/proc/{job.pid}")  # no zombie left for the whole run
