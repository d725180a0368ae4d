"""Where a job's partitions run: in this process, or as tasks on a Dask cluster.

The work of ingest and of the national run is already partitioned: one source file is
parsed alone, one force's weekly run needs only that force's rows. An engine runs one
function over those partitions and returns the results in input order:

- ``local`` calls the function in a loop, in this process (the default);
- ``dask`` submits one task per partition to a ``dask.distributed`` cluster
  (``client.map``), reports progress as tasks finish (``distributed.as_completed``) and
  gathers the results. With no ``--scheduler`` a ``LocalCluster`` (2 worker processes,
  one thread each) is started for the run and closed after it.

The per-partition functions are the same for both engines, so results are identical;
the workers write their outputs to the shared file system, the client writes what joins
the partitions (the store's manifest, ``national.csv``). :func:`store_frame` reads an
ingest store through ``dask.dataframe`` with partition (force) and column pruning.

Dask is an optional extra (``pip install 'hotspots[dask]'``): nothing here imports it
until an engine of kind ``dask`` is opened.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from hotspots._progress import Progress, report
from hotspots.config import EngineOptions
from hotspots.errors import OptionError

__all__ = [
    "DASK_MISSING",
    "Engine",
    "engine_record",
    "open_engine",
    "require_dask",
    "store_frame",
]

DASK_MISSING = (
    "--engine dask needs Dask, which is not installed: pip install 'hotspots[dask]' "
    "(or run without --engine dask)."
)

T = TypeVar("T")
R = TypeVar("R")


def require_dask() -> None:
    """Raise :class:`OptionError` (one line: how to install) unless Dask can be imported."""
    try:
        import dask  # noqa: F401
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        raise OptionError(DASK_MISSING) from exc


def engine_record(options: EngineOptions, *, scheduler: str | None = None) -> dict[str, Any]:
    """The engine as run.json and national.csv record it: name and scheduler."""
    if not options.is_dask:
        return {"name": "local", "scheduler": None}
    return {"name": "dask", "scheduler": scheduler or options.scheduler}


class Engine:
    """An open engine: :meth:`map` runs a function over partitions, in input order.

    Build it with :func:`open_engine` (which closes a LocalCluster it started).
    """

    def __init__(
        self, options: EngineOptions, *, client: Any = None, progress: Progress | None = None
    ) -> None:
        self.options = options
        self.client = client
        self.progress = progress
        if client is None:
            self.scheduler: str | None = None
        elif options.scheduler is not None:
            self.scheduler = str(options.scheduler)
        else:
            self.scheduler = f"LocalCluster({options.workers} workers)"

    @property
    def is_dask(self) -> bool:
        """True when tasks go to a Dask cluster."""
        return self.client is not None

    @property
    def record(self) -> dict[str, Any]:
        """The engine for run.json / national.csv (see :func:`engine_record`)."""
        return engine_record(self.options, scheduler=self.scheduler)

    def map(self, fn: Callable[[T], R], items: Sequence[T], *, task: str) -> list[R]:
        """``[fn(item) for item in items]``: in a loop, or one Dask task per item.

        Progress (``task``, tasks finished, tasks) is reported as each task finishes; a
        task's exception is raised here, in the client, as it was raised on the worker.
        """
        total = len(items)
        report(self.progress, task, 0, total)
        if not total:
            return []
        if self.client is None:
            out = []
            for k, item in enumerate(items):
                out.append(fn(item))
                report(self.progress, task, k + 1, total)
            return out
        from distributed import KilledWorker, as_completed

        futures = self.client.map(fn, list(items), pure=False)
        try:
            for k, _ in enumerate(as_completed(futures), start=1):
                report(self.progress, task, k, total)
            return list(self.client.gather(futures))
        except KilledWorker as exc:
            msg = (
                f"A Dask worker died during '{task}' ({exc}), most often out of memory; "
                f"use fewer, larger workers (--workers 1) or a bigger cluster (--scheduler)."
            )
            raise OptionError(msg) from exc
        finally:
            for future in futures:
                future.release()

    def worker_pids(self) -> dict[str, int]:
        """Worker address -> process id (empty for the local engine)."""
        if self.client is None:
            return {}
        return dict(self.client.run(os.getpid))


@contextmanager
def open_engine(options: EngineOptions, *, progress: Progress | None = None) -> Iterator[Engine]:
    """The engine ``options`` names, open for the ``with`` block.

    ``--engine dask`` connects to ``--scheduler ADDRESS``, or starts a LocalCluster of
    ``--workers`` processes with one thread each and closes it at the end.

    Raises
    ------
    OptionError
        ``--engine dask`` without Dask installed, or a scheduler that cannot be reached.
    """
    if not options.is_dask:
        yield Engine(options, progress=progress)
        return
    require_dask()
    from distributed import Client, LocalCluster

    cluster = None
    try:
        if options.scheduler is not None:
            client = Client(str(options.scheduler), timeout="20s")
        else:
            cluster = LocalCluster(
                n_workers=options.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            client = Client(cluster)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        msg = (
            f"Could not reach the Dask scheduler {options.scheduler or 'LocalCluster'} "
            f"({exc}); check --scheduler ADDRESS or leave it out for a LocalCluster."
        )
        raise OptionError(msg) from exc
    try:
        yield Engine(options, client=client, progress=progress)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def store_frame(
    store: str | os.PathLike[str],
    *,
    forces: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
) -> Any:
    """An ingest store's incident rows as a lazy ``dask.dataframe`` (one partition a file).

    Only the manifest's partition files of ``forces`` are opened (partition pruning on
    the ``force=`` folders) and only ``columns`` are read (column pruning). Rows are in
    the manifest's file order, as :func:`hotspots.ingest.read_store` reads them.
    """
    require_dask()
    import dask
    import dask.dataframe as dd

    from hotspots.ingest import store_partitions

    files = [str(p) for p in store_partitions(store, forces=forces)]
    with dask.config.set({"dataframe.convert-string": False}):  # the dtypes read_store gives
        return dd.from_map(_read_partition, files, columns=list(columns) if columns else None)


def _read_partition(path: str, columns: list[str] | None = None) -> Any:
    """One partition file's rows (only ``columns``), as pandas; geometry stays WKB."""
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=columns).to_pandas()
