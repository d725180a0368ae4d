"""Unit tests of the private date parser: layouts, zones, clock changes, resolution."""

from __future__ import annotations

import pandas as pd
import pytest

from hotspots.errors import OptionError, SchemaError
from hotspots.ingest._dates import month_end, parse_times

TZ = "Europe/London"


def parse(values, fmt=None, tz=TZ):
    return parse_times(pd.Series(values, dtype="str"), fmt=fmt, tz=tz, what="f.csv", column="c")


def test_months():
    p = parse(["2025-03", "2025-10", "2025-13", ""])
    assert p.resolution == "month" and p.how == "YYYY-MM"
    assert p.values.iloc[0] == pd.Timestamp("2025-03-01", tz=TZ)
    assert p.failed.tolist() == [False, False, True, False]
    assert p.empty.tolist() == [False, False, False, True]
    ends = month_end(p.values.iloc[:2])
    # March ends in summer time, October in winter time
    assert ends.tolist() == [
        pd.Timestamp("2025-03-31 23:59:59", tz=TZ),
        pd.Timestamp("2025-10-31 23:59:59", tz=TZ),
    ]
    assert str(ends.iloc[0].tz) == TZ and ends.iloc[0].utcoffset() == pd.Timedelta(hours=1)


def test_iso_offsets_z_and_naive():
    p = parse(
        ["2024-07-01T12:00:00Z", "2024-07-01T12:00:00+02:00", "2024-07-01 12:00", "2024-07-01"]
    )
    utc = p.values.dt.tz_convert("UTC").dt.strftime("%H:%M").tolist()
    assert utc == ["12:00", "10:00", "11:00", "23:00"]  # naive = London summer time
    assert p.resolution == "exact" and str(p.values.dt.tz) == TZ


def test_date_only_is_day_resolution():
    p = parse(["2024-01-01", "2024-06-30"])
    assert p.resolution == "day"
    assert p.values.iloc[1] == pd.Timestamp("2024-06-30 00:00", tz=TZ)


def test_clock_changes():
    # 2024-03-31 01:30 does not exist in London (clocks jump 01:00 -> 02:00): shifted forward;
    # 2024-10-27 01:30 happens twice: the first (summer time, +01:00) is taken
    p = parse(["2024-03-31 01:30", "2024-10-27 01:30"])
    assert p.values.iloc[0] == pd.Timestamp("2024-03-31 01:00", tz="UTC")
    assert p.values.iloc[1] == pd.Timestamp("2024-10-27 00:30", tz="UTC")
    assert not p.failed.any()


@pytest.mark.parametrize(
    ("values", "days", "how"),
    [
        (["13/01/2016", "01/02/2016"], [13, 1], "%d/%m/%Y"),
        (["01/13/2016", "02/01/2016"], [13, 1], "%m/%d/%Y"),
        (["13.01.2016", "01.02.2016"], [13, 1], "%d.%m.%Y"),
        (["7/19/2017 1:45 PM", "1/2/2018 12:05 AM"], [19, 2], "%m/%d/%Y %H:%M"),
    ],
)
def test_day_month_order_proven(values, days, how):
    p = parse(values)
    assert p.values.dt.day.tolist() == days and p.how == how


def test_am_pm_hours():
    p = parse(["7/19/2017 1:45 PM", "1/2/2018 12:05 AM", "1/2/2018 12:05 PM"])
    assert p.values.dt.hour.tolist() == [13, 0, 12]


def test_mixed_separators_are_not_dates():
    p = parse(["13/01-2016", "14/01/2016"])
    assert p.failed.tolist() == [True, False]


def test_ambiguous_refused():
    with pytest.raises(
        SchemaError,
        match=r"f\.csv column 'c' has ambiguous dates such as "
        r"'01/02/2016' .*never guessed",
    ):
        parse(["01/02/2016", "02/03/2016"])


def test_contradictory_orders_refused():
    with pytest.raises(
        SchemaError,
        match=r"mixes day-first \('13/01/2016'\) and month-first "
        r"\('01/13/2016'\)",
    ):
        parse(["13/01/2016", "01/13/2016"])


def test_explicit_format():
    p = parse(["01/02/2016 10:30", "bad"], fmt="%d/%m/%Y %H:%M")
    assert p.values.iloc[0] == pd.Timestamp("2016-02-01 10:30", tz=TZ)
    assert p.failed.tolist() == [False, True] and p.resolution == "exact"


def test_other_zone():
    p = parse(["2008-05-16T22:15:00.000Z"], tz="America/New_York")
    assert p.values.iloc[0] == pd.Timestamp("2008-05-16 18:15", tz="America/New_York")


def test_bad_zone():
    with pytest.raises(OptionError, match="--tz 'Nowhere/Land' is not a time zone name"):
        parse(["2024-01-01"], tz="Nowhere/Land")


def test_all_empty():
    p = parse(["", ""])
    assert p.empty.all() and not p.failed.any() and p.values.isna().all()
