"""Deadlines in working time (pure): working days, working hours, and round-the-clock hours.

A responsibility list gives each matter a time limit:

* ``days``: working days, counted from the day after the appeal is received (the day it
  arrives is not counted, as Chinese time limits are reckoned); due at the end of the
  working day (17:30).
* ``hours``: working hours, 08:30-17:30 on working days; an appeal received out of hours
  starts its clock at the next opening.
* ``clock_hours``: round the clock, weekends included, for emergencies (a gas leak, a burst
  main).

Working days are Monday to Friday, except the days the calendar overrides: public holidays
off, and the weekend days worked in exchange (调休). Times are reckoned in China Standard
Time (UTC+8).

>>> from datetime import datetime
>>> cal = WorkCalendar()
>>> fri = datetime(2026, 12, 4, 16, 0, tzinfo=CST)  # a Friday
>>> cal.deadline(fri, 1, "days").isoformat()
'2026-12-07T17:30:00+08:00'
>>> cal.deadline(fri, 4, "hours").isoformat()
'2026-12-07T11:00:00+08:00'
>>> cal.deadline(fri, 24, "clock_hours").isoformat()
'2026-12-05T16:00:00+08:00'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Literal

from gridmap.errors import InvalidInput

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["CST", "TIME_UNITS", "TimeUnit", "WorkCalendar"]

CST = timezone(timedelta(hours=8), "CST")
TimeUnit = Literal["hours", "days", "clock_hours"]
TIME_UNITS: tuple[TimeUnit, ...] = ("hours", "days", "clock_hours")

#: a calendar never looks further than this for the next working day (a typo, not a plan)
MAX_DAYS_OFF = 60


@dataclass(frozen=True)
class WorkCalendar:
    """Working days and hours, with ``overrides`` (day -> working or not) over Mon-Fri."""

    overrides: Mapping[date, bool] = field(default_factory=dict)
    opens: time = time(8, 30)
    closes: time = time(17, 30)

    def __post_init__(self) -> None:
        if self.closes <= self.opens:
            raise InvalidInput(f"working hours {self.opens}-{self.closes}: closing must be "
                               "after opening")  # fmt: skip

    def is_working(self, day: date) -> bool:
        """Whether ``day`` is a working day.

        >>> cal = WorkCalendar({date(2026, 10, 1): False, date(2026, 10, 10): True})
        >>> cal.is_working(date(2026, 10, 1)), cal.is_working(date(2026, 10, 10))
        (False, True)
        """
        if day in self.overrides:
            return self.overrides[day]
        return day.weekday() < 5

    def next_working(self, day: date) -> date:
        """The first working day after ``day``."""
        for n in range(1, MAX_DAYS_OFF + 1):
            d = day + timedelta(days=n)
            if self.is_working(d):
                return d
        raise InvalidInput(f"the working calendar has no working day in the {MAX_DAYS_OFF} "
                           f"days after {day}: check its holidays")  # fmt: skip

    def deadline(self, start: datetime, limit: int, unit: str) -> datetime:
        """When a time limit of ``limit`` ``unit`` that starts at ``start`` runs out (CST).

        >>> cal = WorkCalendar()
        >>> cal.deadline(datetime(2026, 12, 5, 10, 0, tzinfo=CST), 2, "days").date()  # a Saturday
        datetime.date(2026, 12, 8)
        """
        if start.tzinfo is None:
            raise InvalidInput(f"start {start.isoformat()}: expected a time with a time zone")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise InvalidInput(f"time limit {limit!r}: expected a whole number above 0",
                               value=limit)  # fmt: skip
        local = start.astimezone(CST)
        if unit == "clock_hours":
            return local + timedelta(hours=limit)
        if unit == "days":
            day = local.date()
            for _ in range(limit):
                day = self.next_working(day)
            return datetime.combine(day, self.closes, CST)
        if unit == "hours":
            return self._add_hours(local, limit)
        raise InvalidInput(f"time unit {unit!r}: expected one of {', '.join(TIME_UNITS)}",
                           value=unit)  # fmt: skip

    def _add_hours(self, local: datetime, hours: int) -> datetime:
        left = timedelta(hours=hours)
        day = local.date()
        at = local.timetz().replace(tzinfo=None)
        if not self.is_working(day) or at >= self.closes:
            day, at = self.next_working(day), self.opens
        at = max(at, self.opens)
        while True:
            now = datetime.combine(day, at, CST)
            end = datetime.combine(day, self.closes, CST)
            if now + left <= end:
                return now + left
            left -= end - now
            day, at = self.next_working(day), self.opens
