"""Rejecting more rows after reading (e.g. offences a harm table does not know)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Literal, get_args

import numpy as np
import pandas as pd

from hotspots._validate import check_choice
from hotspots.harm import HarmTable, harm_weights
from hotspots.ingest._result import IngestResult
from hotspots.schema import (
    HARM,
    OFFENCE,
    REJECT_DETAIL,
    REJECT_REASON,
    REJECT_REASONS,
    SOURCE_FILE,
    SOURCE_ROW,
)

__all__ = ["reject_rows", "weigh_at_ingest"]

UnknownAtIngest = Literal["reject", "zero"]
_UNKNOWN_CHOICES: tuple[str, ...] = get_args(UnknownAtIngest)


def reject_rows(
    result: IngestResult, mask: np.ndarray, *, reason: str, detail: pd.Series | str
) -> IngestResult:
    """A new result with the incidents in ``mask`` moved to ``rejected`` with ``reason``.

    The rejected rows keep source file and row (their raw text is not kept with the
    incidents, so the canonical columns stand in for it).
    """
    check_choice(reason, REJECT_REASONS, name="reason")
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return result
    gone = result.incidents.loc[mask]
    details = detail if isinstance(detail, str) else pd.Series(detail).loc[mask].to_numpy()
    moved = pd.DataFrame(
        {
            SOURCE_FILE: gone[SOURCE_FILE].to_numpy(),
            SOURCE_ROW: gone[SOURCE_ROW].to_numpy(),
            REJECT_REASON: reason,
            REJECT_DETAIL: details,
        }
    )
    attrs = pd.DataFrame(gone.drop(columns=gone.geometry.name)).drop(
        columns=[SOURCE_FILE, SOURCE_ROW]
    )
    moved = pd.concat([moved, attrs.astype("str").reset_index(drop=True)], axis=1)
    rejected = (
        pd.concat([result.rejected, moved], ignore_index=True) if len(result.rejected) else moved
    )
    kept = result.incidents.loc[~mask].reset_index(drop=True)
    by_reason = dict(result.report.rejected_by_reason)
    by_reason[reason] = by_reason.get(reason, 0) + int(mask.sum())
    report = replace(result.report, n_kept=len(kept), rejected_by_reason=by_reason)
    return IngestResult(incidents=kept, rejected=rejected, report=report)


def weigh_at_ingest(
    result: IngestResult,
    table: HarmTable,
    *,
    mapping: Mapping[str, str] | None = None,
    unknown: UnknownAtIngest = "reject",
) -> IngestResult:
    """Add a ``harm`` column; offences the table does not know are rejected or weigh 0.

    With ``unknown="reject"`` (default) each such row moves to ``rejected`` with reason
    ``unknown_offence`` and a detail naming the offence and the table, and a note says how
    many; with ``"zero"`` they stay with harm 0 and a note says so.
    """
    check_choice(unknown, _UNKNOWN_CHOICES, name="unknown")
    weights = harm_weights(result.incidents, table, mapping=mapping)
    missing = np.isnan(weights)
    incidents = result.incidents.copy()
    incidents[HARM] = np.where(missing, 0.0, weights)
    weighed = IngestResult(incidents=incidents, rejected=result.rejected, report=result.report)
    if not missing.any():
        return weighed
    names = result.incidents.loc[missing, OFFENCE].astype("str").value_counts()
    listed = ", ".join(f"{name!r} ({n:,})" for name, n in names.head(10).items())
    if unknown == "zero":
        note = (
            f"Harm table {table.name!r} has no weight for {listed}; those "
            f"{int(missing.sum()):,} rows weigh 0 (as asked)."
        )
        return IngestResult(
            incidents=incidents,
            rejected=result.rejected,
            report=replace(result.report, notes=(*result.report.notes, note)),
        )
    detail = (
        "offence '"
        + result.incidents[OFFENCE].astype("str")
        + f"' is not in harm table {table.name!r}; map it with --harm-map or add it"
    )
    out = reject_rows(weighed, missing, reason="unknown_offence", detail=detail)
    note = (
        f"Rejected {int(missing.sum()):,} rows whose offence harm table {table.name!r} does "
        f"not know: {listed}. Map them with --harm-map 'VALUE=Table offence' or keep them "
        f"at zero with --harm-unknown zero."
    )
    return IngestResult(
        incidents=out.incidents,
        rejected=out.rejected,
        report=replace(out.report, notes=(*out.report.notes, note)),
    )
