"""hotspots' own parquet read typed: the id check on 64-bit keys, and duplicates still caught."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from hotspots.ingest import read_incidents
from hotspots.ingest._own import _string_keys, ids_unique
from hotspots.schema import INCIDENT_ID

DATA = Path(__file__).parent / "data" / "ingest"


def _keys(chunked: pa.ChunkedArray) -> np.ndarray:
    return np.concatenate([_string_keys(c) for c in chunked.chunks if len(c)])


def test_equal_strings_have_equal_keys_whatever_their_place_in_the_buffers():
    # short, empty, multi-byte and 8-byte-boundary strings, at the start and end of
    # sliced chunks of both offset widths: equal text must give an equal key
    rng = np.random.default_rng(7)
    for trial in range(200):
        n = int(rng.integers(1, 30))
        texts = [
            "".join(rng.choice(list("ab\u00e9"), size=int(rng.integers(0, 19)))) for _ in range(n)
        ]
        kind = pa.large_string() if trial % 2 else pa.string()
        whole = pa.array(["zz", "y", *texts, "q"], type=kind).slice(2, n)
        cut = int(rng.integers(0, n + 1))
        keys = _keys(pa.chunked_array([whole.slice(0, cut), whole.slice(cut)], type=kind))
        first_key: dict[str, int] = {}
        for text, key in zip(texts, keys, strict=True):
            assert first_key.setdefault(text, int(key)) == int(key), (text, texts)
        series = pd.Series(texts, dtype="str")
        assert ids_unique(series) == series.is_unique


def test_ids_unique_hand_worked():
    assert ids_unique(pd.Series(["a", "ab", "abcdefgh", "abcdefghi", "xbcdefgh"], dtype="str"))
    # equal except in the middle: same first/last 8 bytes and length, compared as text
    assert ids_unique(pd.Series(["abcdefgh-1-abcdefgh", "abcdefgh-2-abcdefgh"], dtype="str"))
    assert not ids_unique(pd.Series(["abcdefgh-1-abcdefgh", "x", "abcdefgh-1-abcdefgh"]))
    assert not ids_unique(pd.Series(["", "a", ""], dtype="str"))
    assert not ids_unique(pd.Series(["a", None, None], dtype="str"))  # missing ids: equal
    assert ids_unique(pd.Series([1, 2, 3]))  # not text: pandas' own check


@pytest.fixture
def own_parquet(tmp_path):
    first = read_incidents([DATA / "police_uk"])
    path = tmp_path / "inc.parquet"
    first.incidents.to_parquet(path)
    return first, path


def test_a_tampered_own_parquet_with_a_repeated_id_is_still_caught(tmp_path, own_parquet):
    first, path = own_parquet
    frame = first.incidents.copy()
    frame.loc[frame.index[-1], INCIDENT_ID] = frame[INCIDENT_ID].iloc[0]  # an edited id
    frame.to_parquet(path)
    again = read_incidents([path])
    assert again.report.files[0]["format"] == "hotspots"
    assert again.report.rejected_by_reason["duplicate_id"] == 1
    assert again.rejected["reason"].tolist() == ["duplicate_id"]
    assert again.report.n_kept == len(frame) - 1


def test_an_id_in_two_own_parquets_is_caught(tmp_path, own_parquet):
    first, path = own_parquet
    other = tmp_path / "other.parquet"
    first.incidents.iloc[:1].to_parquet(other)
    again = read_incidents([path, other])
    assert again.report.rejected_by_reason["duplicate_id"] == 1
    assert again.report.n_kept == len(first.incidents)
