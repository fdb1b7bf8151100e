"""The us311 file counted on its own, with pandas and numpy: what the statistics of its import must say.

Nothing here imports civicgrid: the rule that refuses a row, the handling deadline, the working calendar and
the working minutes are written again from their definitions (docs/statistics.md, docs/architecture.md
"Working calendar and time limits"), so that a test comparing the two sides compares two computations. The
only numbers taken from the project are the time limit and its unit, which the caller reads from the default
TimeLimit rows and passes in.

Conventions written again here:
- naive times in the file are Asia/Shanghai wall-clock times (the importer's ``timezone``), so a day or a
  month of receipt or closing is the date of the text, and no arithmetic needs a zone (Shanghai keeps no
  daylight saving);
- a working day is a weekday that is not a public holiday, or a make-up working day (调休上班), from the
  ``chinesecalendar`` package's own tables of the State Council notices;
- ``work_day`` time is the full 24 hours of every working day; ``work_hour`` time the office hours
  08:00–12:00 and 14:00–18:00 of every working day;
- a limit's deadline is the earliest instant at which the limit's amount of that time has passed since
  the start, and a case closed at or after it is late (on time: closed strictly before the deadline).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path

import chinese_calendar  # type: ignore[import-untyped]
import numpy as np
import pandas as pd

DAY_S = 86_400
OFFICE_S = ((8 * 3600, 12 * 3600), (14 * 3600, 18 * 3600))
OFFICE_DAY_S = sum(b - a for a, b in OFFICE_S)

COHORT = ("received", "due", "closed", "closed_on_time", "overdue_closed", "overdue_open")
FLOW = ("closed_in_period", "closed_in_period_on_time", "timed", "handling_minutes")
Counts = dict[str, int]


# --- The working calendar ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    """Working days from ``first`` on: ``working[i]`` says whether day first + i is one, ``before[i]`` how
    many working days come before it (from ``first``), ``dates`` are the working days themselves."""

    first: pd.Timestamp
    working: np.ndarray
    before: np.ndarray
    dates: np.ndarray  # datetime64[ns] of each working day, in order

    @classmethod
    def covering(cls, first: date, last: date) -> Calendar:
        holidays = set(chinese_calendar.constants.holidays)
        makeup = set(chinese_calendar.constants.workdays)
        known = {d.year for d in holidays}
        # Outside the years the package knows, its answer would be a guess: the file must not need that.
        assert min(known) <= first.year, (first, min(known))
        assert last.year <= max(known), (last, max(known))
        days = pd.date_range(first, last, freq="D")
        as_dates = [d.date() for d in days]
        weekday = np.asarray(days.day_of_week < 5)
        off = np.fromiter((d in holidays for d in as_dates), bool, len(as_dates))
        worked = np.fromiter((d in makeup for d in as_dates), bool, len(as_dates))
        assert not (off & worked).any()
        assert not (worked & weekday).any()  # a make-up day is a weekend day worked
        working = (weekday & ~off) | worked
        before = np.concatenate(([0], np.cumsum(working)[:-1])).astype(np.int64)
        return cls(days[0], working, before, np.asarray(days[working].values))

    def _split(self, at: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Day index (from ``first``) and second of the day of naive local times."""
        day = at.dt.normalize()
        index = np.asarray((day - self.first).dt.days, dtype=np.int64)
        assert (index >= 0).all()
        assert (index < len(self.working)).all()
        seconds = np.asarray((at - day).dt.total_seconds(), dtype=np.int64)
        return index, seconds

    def work_day_position(self, at: pd.Series) -> np.ndarray:
        """Seconds of working-day time from ``first`` up to each instant."""
        index, seconds = self._split(at)
        position: np.ndarray = self.before[index] * DAY_S + np.where(self.working[index], seconds, 0)
        return position

    def office_position(self, at: pd.Series) -> np.ndarray:
        """Seconds of office time from ``first`` up to each instant."""
        index, seconds = self._split(at)
        within = sum(np.clip(seconds, a, b) - a for a, b in OFFICE_S)
        position: np.ndarray = self.before[index] * OFFICE_DAY_S + np.where(self.working[index], within, 0)
        return position

    def work_day_deadline(self, start: pd.Series, days: int) -> pd.Series:
        """The earliest instant at which ``days`` working days have passed since each start: the working
        day on which that much working-day time is reached, at the time of day it is reached (24:00 when it
        is reached at the end of the day: a start at midnight, or on a day off, ends at the close of the
        ``days``-th working day, not at the next working day's 00:00 — the same instant on the clock of
        working-day time, which stands still in between)."""
        target = self.work_day_position(start) + days * DAY_S
        nth = -(-target // DAY_S) - 1  # the 0-based working day holding the target: ceil(target / day) - 1
        offset = target - nth * DAY_S  # 0 < offset <= one day
        assert (nth < len(self.dates)).all(), "the calendar must reach past every deadline"
        return pd.Series(self.dates[nth] + offset.astype("timedelta64[s]"), index=start.index)


# --- The rows -----------------------------------------------------------------------------------------------


def _times(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text.mask(text == ""), format="ISO8601")


def read(path: Path) -> pd.DataFrame:
    """Every row of the file, numbered from 1 (``record``), with its times and whether the importer must
    refuse it (``refused``)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["record"] = np.arange(1, len(frame) + 1)
    assert frame["status"].isin(["open", "closed"]).all()
    assert (frame["requested_datetime"] != "").all()
    assert (frame["service_name"] + frame["category"] != "").all()  # every row names its service
    assert ((frame["lat"] == "") == (frame["long"] == "")).all()
    frame["requested"] = _times(frame["requested_datetime"])
    closed = frame["status"] == "closed"
    # The closing time of a closed request (an open one's closed_datetime, which some New York rows have,
    # says nothing: it is not closed).
    frame["closed_at"] = _times(frame["closed_datetime"].where(closed, ""))
    frame["is_closed"] = closed
    # The importer's rule: a closed request needs a closing time that is not before its request time.
    frame["refused"] = closed & (frame["closed_at"].isna() | (frame["closed_at"] < frame["requested"]))
    return frame


def assess(frame: pd.DataFrame, *, limit: int, unit: str, now: datetime) -> pd.DataFrame:
    """The rows that import, with what the statistics say of each: its months of receipt and closing,
    closed on time or not, open and late or not, and its handling time in working minutes."""
    assert unit == "work_day", "only a limit in working days is written again here"
    rows = frame.loc[~frame["refused"]].copy()
    last = max(rows["requested"].max(), rows["closed_at"].max())
    calendar = Calendar.covering(rows["requested"].min().date(), (last + pd.Timedelta(days=120)).date())
    deadline = calendar.work_day_deadline(rows["requested"], limit)
    closed = rows["is_closed"]
    at = rows["closed_at"].where(closed, rows["requested"])  # a placeholder for the open ones, not used
    late_when_closed = at >= deadline
    # The same judgement without the deadline: the working-day time used up by the closing.
    used = calendar.work_day_position(at) - calendar.work_day_position(rows["requested"])
    assert ((used >= limit * DAY_S) == late_when_closed)[closed].all()
    rows["on_time"] = closed & ~late_when_closed
    rows["late_open"] = ~closed & (deadline <= pd.Timestamp(now.replace(tzinfo=None)))
    office = calendar.office_position(at) - calendar.office_position(rows["requested"])
    assert (office[closed.to_numpy()] >= 0).all()
    whole, rest = np.divmod(office, 60)
    minutes = whole + ((rest > 30) | ((rest == 30) & (whole % 2 == 1)))  # rounded half to even
    rows["minutes"] = pd.Series(minutes, index=rows.index).where(closed)
    rows["received_month"] = rows["requested"].dt.to_period("M").dt.start_time.dt.date
    rows["closed_month"] = rows["closed_at"].dt.to_period("M").dt.start_time.dt.date
    return rows


# --- The figures ----------------------------------------------------------------------------------------------


def months(first: date, last: date) -> list[date]:
    return [p.start_time.date() for p in pd.period_range(first, last, freq="M")]


def monthly(rows: pd.DataFrame, every: list[date]) -> dict[date, Counts]:
    """The cohort counts by month of receipt and the flow counts by month of closing, every month given."""
    closed = rows.loc[rows["is_closed"]]
    cohort = (
        pd.DataFrame(
            {
                "received": 1,
                "due": 1,  # an import drops nothing: every case is due for closing
                "closed": rows["is_closed"].astype(int),
                "closed_on_time": rows["on_time"].astype(int),
                "overdue_closed": (rows["is_closed"] & ~rows["on_time"]).astype(int),
                "overdue_open": rows["late_open"].astype(int),
                "month": rows["received_month"],
            }
        )
        .groupby("month")[list(COHORT)]
        .sum()
    )
    flow = (
        pd.DataFrame(
            {
                "closed_in_period": 1,
                "closed_in_period_on_time": closed["on_time"].astype(int),
                "timed": 1,  # no imported case was answered directly: every closed one was handled
                "handling_minutes": closed["minutes"].astype(np.int64),
                "month": closed["closed_month"],
            }
        )
        .groupby("month")[list(FLOW)]
        .sum()
    )
    table = cohort.join(flow, how="outer").reindex(every).fillna(0).astype(np.int64)
    assert int(table["received"].sum()) == len(rows), "a month outside the period"
    return {m: {c: int(v) for c, v in values.items()} for m, values in table.to_dict("index").items()}


def totals(rows: pd.DataFrame) -> Counts:
    table = monthly(rows, sorted(set(rows["received_month"]) | set(rows["closed_month"].dropna())))
    return {c: sum(m[c] for m in table.values()) for c in (*COHORT, *FLOW)}


def median_hours(rows: pd.DataFrame) -> Fraction | None:
    """The median of each closed case's whole working hours (the mean of the two middle ones when even)."""
    hours = np.sort((rows.loc[rows["is_closed"], "minutes"].astype(np.int64) // 60).to_numpy())
    if len(hours) == 0:
        return None
    middle = len(hours) // 2
    if len(hours) % 2:
        return Fraction(int(hours[middle]))
    return Fraction(int(hours[middle - 1]) + int(hours[middle]), 2)
