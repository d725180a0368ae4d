"""Stage commands publish like the weekly run: locked, staged, swapped in as one step (private).

``hotspots spots``, ``knox``, ``cocoon`` and ``evaluate`` write every file into a staging
folder inside ``--out`` while holding the folder's lock; only when the command has
succeeded are its files swapped into place together (and its stale files of an earlier
run removed), so an interrupted or failed command leaves the previous outputs whole. The
names each command owns are registered in :data:`hotspots.pipeline.COMMAND_OUTPUTS`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

__all__ = ["staged_command"]


@contextlib.contextmanager
def staged_command(folder: Path, command: str) -> Iterator[Path]:
    """Lock ``folder`` and yield the staging folder ``command`` writes into."""
    from hotspots.outputs.publish import staged_outputs
    from hotspots.pipeline import COMMAND_OUTPUTS

    with staged_outputs(folder, owned=COMMAND_OUTPUTS[command]) as staging:
        yield staging
