"""Working days and office hours: weekends, public holidays and swapped working weekends (调休)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from dashboard.cli import main
from geo import workdays
from geo.errors import BadRequest

SH = ZoneInfo("Asia/Shanghai")
CAL = workdays.shipped()


def test_weekends_holidays_and_swapped_days():
    assert CAL.is_workday(date(2026, 11, 25))          # a Wednesday
    assert not CAL.is_workday(date(2026, 11, 28))      # a Saturday
    assert not CAL.is_workday(date(2026, 10, 1))       # 国庆节, a Thursday
    assert CAL.is_workday(date(2026, 10, 10))          # Saturday swapped to work
    assert CAL.names[date(2026, 10, 10)] == "国庆节调休上班"


def test_add_workdays_across_a_weekend():
    # Friday 2026-11-27 + 3 working days: Mon 30, Tue 1, Wed 2 December.
    assert CAL.add_workdays(date(2026, 11, 27), 3) == date(2026, 12, 2)
    assert CAL.workdays_between(date(2026, 11, 27), date(2026, 12, 2)) == 3
    assert CAL.add_workdays(date(2026, 11, 27), 0) == date(2026, 11, 27)


def test_add_workdays_across_national_day_with_its_swapped_saturday():
    # From Wed 2026-09-30: Oct 1–7 off, Thu 8 and Fri 9 work, Sat 10 is a swapped working day.
    assert CAL.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CAL.add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert CAL.workdays_between(date(2026, 9, 30), date(2026, 10, 12)) == 4


def test_office_hours_skip_lunch_nights_and_weekends():
    friday_4pm = datetime(2026, 11, 27, 16, 0, tzinfo=SH)
    # 1.5 h left on Friday, then Monday 08:30–12:00 (3.5 h) → 5 h ends Monday 12:00.
    assert CAL.add_work_hours(friday_4pm, 5) == datetime(2026, 11, 30, 12, 0, tzinfo=SH)
    assert CAL.add_work_hours(friday_4pm, 5.5) == datetime(2026, 11, 30, 14, 30, tzinfo=SH)
    assert CAL.work_hours_between(friday_4pm, datetime(2026, 11, 30, 14, 30, tzinfo=SH)) == 5.5
    # Reported at night: the clock starts when the office opens.
    night = datetime(2026, 11, 24, 23, 0, tzinfo=SH)
    assert CAL.add_work_hours(night, 2) == datetime(2026, 11, 25, 10, 30, tzinfo=SH)


def test_database_functions_agree_with_python(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT zt_is_workday('2026-10-01'), zt_is_workday('2026-10-10'), "
                    "zt_add_workdays('2026-09-30', 3), zt_workdays_between('2026-09-30', '2026-10-12'), "
                    "zt_add_workdays('2026-11-27', 3)")
        assert cur.fetchone() == (False, True, date(2026, 10, 10), 4, date(2026, 12, 2))
    assert workdays.from_db(conn).exceptions == CAL.exceptions


def test_a_years_calendar_can_be_replaced(conn, tmp_path):
    path = tmp_path / "cal.csv"
    path.write_text("date,workday,name\n2027-01-01,false,元旦\n2027-02-20,true,春节调休上班\n", encoding="utf-8")
    assert workdays.load(conn, workdays.read_csv(path), "test") == [2027]
    calendar = workdays.from_db(conn)
    assert not calendar.is_workday(date(2027, 1, 1)) and calendar.is_workday(date(2027, 2, 20))
    assert calendar.covers(date(2027, 6, 1)) and not calendar.covers(date(2028, 6, 1))
    assert calendar.exceptions[date(2026, 10, 1)] is False  # other years untouched
    with conn, conn.cursor() as cur:
        cur.execute("DELETE FROM work_calendar WHERE day >= '2027-01-01'")
        cur.execute("DELETE FROM work_calendar_years WHERE year = 2027")


def test_bad_calendar_line_is_named(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("date,workday,name\n2027-01-01,false,元旦\n2027-13-01,false,坏\n", encoding="utf-8")
    with pytest.raises(BadRequest, match="第 3 行"):
        workdays.read_csv(path)


def test_cli_shows_the_calendar(db_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["calendar", "show"]) == 0
    out = capsys.readouterr().out
    assert "2026-10-10" in out and "国庆节调休上班" in out and "2026" in out
