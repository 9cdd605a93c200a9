"""Working days and working hours (工作日 / 工作时) for legal and operational time limits.

Limits in Chinese administrative practice count working days: Monday to Friday, minus public
holidays, plus the weekend days swapped to work (调休). The exceptions change every year, so they
are data: ``geo/data/cn_work_calendar.csv`` ships with the product and ``zhengtu calendar load``
replaces a year's exceptions in the database. Deadlines are computed here, once, and stored with
their record, so reports compare against the deadline that applied at the time.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg2.extensions

from geo.errors import BadRequest

SHIPPED = Path(__file__).parent / "data" / "cn_work_calendar.csv"
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Office hours of Guangdong's government service (morning and afternoon), local time.
WORK_SPANS: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)), (time(14, 0), time(17, 30)))
HOURS_PER_DAY = sum((datetime.combine(date.min, b) - datetime.combine(date.min, a)).seconds
                    for a, b in WORK_SPANS) / 3600

SELECT_EXCEPTIONS = "SELECT day, workday, name FROM work_calendar ORDER BY day"
SELECT_YEARS = "SELECT year FROM work_calendar_years"
DELETE_YEAR = "DELETE FROM work_calendar WHERE extract(year FROM day) = %s"
INSERT_DAY = "INSERT INTO work_calendar (day, workday, name) VALUES (%s, %s, %s)"
UPSERT_YEAR = """
INSERT INTO work_calendar_years (year, source) VALUES (%s, %s)
ON CONFLICT (year) DO UPDATE SET source = EXCLUDED.source, loaded_at = now()
"""


@dataclass(frozen=True)
class WorkCalendar:
    """Weekends off, Monday–Friday on, except the listed days (True = work, False = holiday)."""

    exceptions: Mapping[date, bool] = field(default_factory=dict)
    names: Mapping[date, str] = field(default_factory=dict)
    years: frozenset[int] = frozenset()

    def is_workday(self, day: date) -> bool:
        """Listed exceptions win; otherwise Monday to Friday."""
        if day in self.exceptions:
            return self.exceptions[day]
        return day.isoweekday() < 6

    def covers(self, day: date) -> bool:
        """Whether the official exceptions for ``day``'s year are loaded (else weekends only)."""
        return day.year in self.years

    def add_workdays(self, start: date, days: int) -> date:
        """The day on which ``days`` working days after ``start`` have passed (start not counted)."""
        if days < 0:
            raise ValueError("days must be >= 0")
        day, left = start, days
        while left > 0:
            day += timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        return day

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: what has elapsed of a limit counted from ``start``."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_workday(day)
        return count

    def add_work_hours(self, start: datetime, hours: float) -> datetime:
        """The moment when ``hours`` office hours after ``start`` have passed (Asia/Shanghai)."""
        left = timedelta(hours=hours)
        moment = start.astimezone(SHANGHAI)
        while True:
            if self.is_workday(moment.date()):
                for opens, closes in WORK_SPANS:
                    span_start = datetime.combine(moment.date(), opens, SHANGHAI)
                    span_end = datetime.combine(moment.date(), closes, SHANGHAI)
                    begin = max(moment, span_start)
                    if begin >= span_end:
                        continue
                    if begin + left <= span_end:
                        return begin + left
                    left -= span_end - begin
                    moment = span_end
            moment = datetime.combine(moment.date() + timedelta(days=1), time(0), SHANGHAI)

    def work_hours_between(self, start: datetime, end: datetime) -> float:
        """Office hours elapsed between two moments (0 when ``end`` is not after ``start``)."""
        total = timedelta()
        day = start.astimezone(SHANGHAI).date()
        last = end.astimezone(SHANGHAI).date()
        while day <= last:
            if self.is_workday(day):
                for opens, closes in WORK_SPANS:
                    a = max(start, datetime.combine(day, opens, SHANGHAI))
                    b = min(end, datetime.combine(day, closes, SHANGHAI))
                    if b > a:
                        total += b - a
            day += timedelta(days=1)
        return total.total_seconds() / 3600


def read_csv(path: Path) -> list[tuple[date, bool, str]]:
    """Rows of a calendar file (``date,workday,name``), with a message naming the bad line."""
    rows: list[tuple[date, bool, str]] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                day = date.fromisoformat(row["date"].strip())
                flag = row["workday"].strip().lower()
                if flag not in {"true", "false", "1", "0"}:
                    raise ValueError(flag)
            except (KeyError, ValueError, AttributeError) as exc:
                raise BadRequest(f"日历文件第 {line} 行无效 / bad calendar line {line}: {exc}") from exc
            rows.append((day, flag in {"true", "1"}, (row.get("name") or "").strip()))
    return rows


def from_rows(rows: Iterable[tuple[date, bool, str]], years: Iterable[int] | None = None) -> WorkCalendar:
    """A calendar from exception rows; ``years`` says which years they cover completely."""
    rows = list(rows)
    return WorkCalendar(exceptions={d: w for d, w, _ in rows}, names={d: n for d, _, n in rows},
                        years=frozenset(years if years is not None else {d.year for d, _, _ in rows}))


@lru_cache(maxsize=1)
def shipped() -> WorkCalendar:
    """The calendar that ships with the product (no database needed)."""
    return from_rows(read_csv(SHIPPED))


def from_db(conn: psycopg2.extensions.connection) -> WorkCalendar:
    """The calendar as loaded in the database (what deadlines are computed with)."""
    with conn.cursor() as cur:
        cur.execute(SELECT_EXCEPTIONS)
        rows = [(d, w, n) for d, w, n in cur.fetchall()]
        cur.execute(SELECT_YEARS)
        years = [y for (y,) in cur.fetchall()]
    return from_rows(rows, years)


def load(conn: psycopg2.extensions.connection, rows: list[tuple[date, bool, str]], source: str) -> list[int]:
    """Replace the exceptions of every year present in ``rows``; other years stay as they were."""
    years = sorted({d.year for d, _, _ in rows})
    with conn, conn.cursor() as cur:
        for year in years:
            cur.execute(DELETE_YEAR, (year,))
            cur.execute(UPSERT_YEAR, (year, source))
        cur.executemany(INSERT_DAY, rows)
    return years


def ensure_shipped(conn: psycopg2.extensions.connection) -> list[int]:
    """Load the shipped years that the database does not have yet (never overwrites updates)."""
    with conn.cursor() as cur:
        cur.execute(SELECT_YEARS)
        have = {y for (y,) in cur.fetchall()}
    conn.commit()
    missing = [r for r in read_csv(SHIPPED) if r[0].year not in have]
    return load(conn, missing, SHIPPED.name) if missing else []
