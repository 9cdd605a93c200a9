"""KPI values against numbers worked out by hand on a small fixed data set.

The data set lives in one district that has no demo tasks, cases, events or alerts, in a fortnight
around National Day 2026 (2026-09-28 … 2026-10-11: a weekend, the 10-01…10-07 holiday, the 调休
Saturday 10-10), inserted in the test's own transaction and rolled back afterwards. The KPIs are
computed as the app computes them: as ``zhengtu_app`` under row-level security.

Working-day facts used (geo/data/cn_work_calendar.csv): 2026-10-01 … 10-07 are days off (10-03/04 a
weekend), 10-08 (Thursday) is the first working day after; 10-10 (Saturday) is a working day; 10-11
is a Sunday, so a deadline on it rolls to Monday 10-12.
"""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from kpi import compute, regions, targets
from kpi.compute import Period
from kpi.definitions import BY_ID, KPIS
from kpi.report import report

PERIOD = Period(date(2026, 9, 28), date(2026, 10, 11))
AS_OF = date(2026, 11, 25)
EMPTY_DISTRICT_SQL = """
SELECT a.adcode FROM admin_areas a
WHERE a.level = 'district' AND left(a.adcode, 4) NOT IN ('4401', '4403') AND a.adcode <> left(a.adcode, 4) || '00'
  AND NOT EXISTS (SELECT 1 FROM inspection_tasks t WHERE t.district_adcode = a.adcode)
  AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.district_adcode = a.adcode)
  AND NOT EXISTS (SELECT 1 FROM city_events v WHERE v.district_adcode = a.adcode)
  AND NOT EXISTS (SELECT 1 FROM alerts x WHERE x.district_adcode = a.adcode)
  AND EXISTS (SELECT 1 FROM entities e WHERE e.district_adcode = a.adcode)
ORDER BY a.adcode LIMIT 1
"""


def _one(cur, query: str, params: dict | tuple = ()):
    cur.execute(query, params)
    return cur.fetchone()[0]


@pytest.fixture
def fixed(conn):
    """The hand-made data set (see module docstring); returns ids and the district."""
    cur = conn.cursor()
    d = _one(cur, EMPTY_DISTRICT_SQL).strip()
    p = {"d": d}
    point = "(SELECT ST_PointOnSurface(geom) FROM admin_areas WHERE level = 'district' AND adcode = %(d)s)"
    g1, g2 = d + "90010001", d + "90010002"
    for code in (g1, g2):
        cur.execute(f"""INSERT INTO unit_grids (code, district_adcode, geom, area_m2)
                        SELECT %(code)s, %(d)s, ST_Multi(ST_Buffer({point}, 0.0005, 1)), 10000""",
                    {**p, "code": code})
    ents = []
    for i, grid in enumerate((g1, g2, None), start=1):
        ents.append(_one(cur, f"""INSERT INTO entities (uscc, name, category, risk_class, address, district_adcode,
                                                        geom, grid_code)
                                  VALUES (%(uscc)s, %(name)s, 'food', 'B', '测试地址', %(d)s, {point}, %(grid)s)
                                  RETURNING id""",
                         {**p, "uscc": f"91KPI{uuid.uuid4().hex[:13].upper()}", "name": f"指标测试对象{i}",
                          "grid": grid}))
    e1, e2, e3 = ents

    def task(entity: int, due: str, status: str = "open") -> int:
        return _one(cur, """INSERT INTO inspection_tasks (entity_id, kind, status, due_date, district_adcode)
                            VALUES (%s, 'routine', %s, %s, %s) RETURNING id""", (entity, status, due, d))

    def result(task_id: int, at: str) -> None:
        cur.execute("""INSERT INTO task_results (task_id, result, username, recorded_at, district_adcode)
                       VALUES (%s, '未发现问题', 'insp_test', %s, %s)""", (task_id, at, d))
        cur.execute("UPDATE inspection_tasks SET status = 'done' WHERE id = %s", (task_id,))

    t1 = task(e1, "2026-09-30")           # Wednesday; done that day → on time
    result(t1, "2026-09-30 10:00+08")
    t2 = task(e1, "2026-10-01")           # National Day → deadline 10-08; done 10-08 → on time
    result(t2, "2026-10-08 16:00+08")
    t3 = task(e2, "2026-10-09")           # Friday; done Monday 10-12 → late
    result(t3, "2026-10-12 09:00+08")
    task(e2, "2026-10-10")                # 调休 Saturday, a working day: deadline stays; never done → late
    task(e3, "2026-10-11")                # Sunday → deadline Monday 10-12; open
    task(e3, "2026-10-20")                # outside the period

    def checkin(task_id: int, at: str, on_site: bool) -> None:
        cur.execute(f"""INSERT INTO checkins (task_id, username, geom, accuracy_m, server_time, distance_m, radius_m,
                                              accuracy_ok, on_site, district_adcode)
                        VALUES (%(t)s, 'insp_test', {point}, 10, %(at)s, 5, 100, true, %(on)s, %(d)s)""",
                    {**p, "t": task_id, "at": at, "on": on_site})

    checkin(t1, "2026-09-30 09:00+08", True)
    checkin(t2, "2026-10-08 15:00+08", False)
    checkin(t3, "2026-10-11 23:30+08", True)   # still 10-11 in Shanghai (15:30 UTC): in the period
    checkin(t3, "2026-10-12 00:30+08", True)   # 10-11 16:30 UTC, but 10-12 in Shanghai: outside

    def evidence(task_id: int, kind: str) -> None:
        cur.execute("""INSERT INTO evidence (idempotency_key, task_id, kind, sha256, sm3, size, media_type, path,
                                             username, district_adcode)
                       VALUES (%s, %s, %s, repeat('a', 64), repeat('b', 64), 1, 'image/jpeg', 'x', 'insp_test', %s)""",
                    (str(uuid.uuid4()), task_id, kind, d))

    evidence(t1, "photo")
    evidence(t2, "photo")
    evidence(t3, "note")

    def case(entity: int, opened: str, decided: str | None, stage: str, extension: int = 0) -> int:
        return _one(cur, """INSERT INTO cases (case_no, entity_id, title, stage, opened_on, district_adcode,
                                               decided_on, extension_days)
                            VALUES (%s, %s, '指标测试案件', %s, %s, %s, %s, %s) RETURNING id""",
                    (f"KPI测试{uuid.uuid4().hex[:8]}", entity, stage, opened, d, decided, extension))

    k1 = case(e1, "2026-07-02", "2026-09-29", "执行")  # deadline 09-30 (Wed): on time, 89 days
    for action, from_stage, to_stage, at in (  # stage stays ending in the period: 29 d 调查取证, 3.5 d 法制审核
            ("open", None, "立案", "2026-09-01 09:00+08"), ("transition", "立案", "调查取证", "2026-09-03 09:00+08"),
            ("transition", "调查取证", "法制审核", "2026-10-02 09:00+08"),
            ("rework", "法制审核", "调查取证", "2026-10-05 21:00+08"),
            ("transition", "调查取证", "法制审核", "2026-10-12 09:00+08")):
        cur.execute("""INSERT INTO case_events (case_id, action, from_stage, to_stage, username, role, at,
                                                district_adcode)
                       VALUES (%s, %s, %s, %s, 'insp_test', 'inspector', %s, %s)""",
                    (k1, action, from_stage, to_stage, at, d))
    case(e2, "2026-07-03", "2026-10-08", "执行")      # 10-01 → rolls to 10-08: on time, 97 days
    case(e3, "2026-07-05", None, "调查取证")           # 10-03 → 10-08, still open at the period end: late
    k4 = case(e1, "2026-06-15", "2026-09-28", "执行")  # 09-13 + 15 paused days = 09-28: on time, 105 days
    cur.execute("""INSERT INTO case_clock_pauses (case_id, kind, started_on, ended_on, started_by, district_adcode)
                   VALUES (%s, '听证', '2026-07-01', '2026-07-16', 'insp_test', %s)""", (k4, d))

    def event(status: str, reported: str, deadline: str, closed: str | None, rework: int = 0) -> None:
        cur.execute(f"""INSERT INTO city_events (category, description, source, status, district_adcode, reported_at,
                                                 geom, grid_code, deadline, closed_at, rework_count)
                        VALUES ('0101', '指标测试事件', 'grid', %(s)s, %(d)s, %(r)s, {point}, %(g)s, %(dl)s, %(c)s,
                                %(rw)s)""",
                    {**p, "s": status, "r": reported, "g": g1, "dl": deadline, "c": closed, "rw": rework})

    event("结案", "2026-09-29 09:00+08", "2026-09-30 18:00+08", "2026-09-30 10:00+08")
    event("结案", "2026-10-08 09:00+08", "2026-10-09 17:30+08", "2026-10-09 17:00+08", rework=1)  # reopened once
    event("结案", "2026-10-09 09:00+08", "2026-10-10 12:00+08", "2026-10-12 10:00+08")  # closed late, after
    event("处置", "2026-10-10 09:00+08", "2026-10-11 12:00+08", None)                  # open past deadline
    event("信息收集", "2026-10-11 09:00+08", "2026-10-13 12:00+08", None)              # not accepted yet

    sensor = _one(cur, f"""INSERT INTO sensors (code, kind, name, geom, district_adcode, unit)
                           VALUES (%(c)s, 'noise', '测试噪声', {point}, %(d)s, 'dB') RETURNING id""",
                  {**p, "c": f"KPI-{uuid.uuid4().hex[:8]}"})
    for raised, ack in (("2026-10-02 10:00+08", "2026-10-02 10:30+08"), ("2026-10-05 08:00+08", "2026-10-05 09:30+08"),
                        ("2026-10-06 08:00+08", None)):
        cur.execute("""INSERT INTO alerts (sensor_id, raised_at, value, threshold, acknowledged_at, district_adcode)
                       VALUES (%s, %s, 80, 70, %s, %s)""", (sensor, raised, ack, d))
    return {"district": d, "city": d[:4], "g1": g1, "g2": g2}


def as_app(conn, region: str = "44") -> None:
    """Continue this transaction as the web app's role with a jurisdiction (row-level security on)."""
    with conn.cursor() as cur:
        cur.execute("SELECT set_config('zhengtu.region', %s, true)", (region,))
        cur.execute("SET LOCAL ROLE zhengtu_app")


def value(conn, kpi_id: str, region: str, as_of: date = AS_OF, period: Period = PERIOD) -> dict:
    where = regions.resolve(conn, region, "44")
    return compute.compute(conn, BY_ID[kpi_id], where, period, as_of=as_of)


HAND = {  # kpi: (numerator, denominator, value), worked out in the fixture's comments
    "task_on_time": (2, 5, 40.0),
    "checkin_on_site": (2, 3, 66.67),
    "evidence_complete": (1, 3, 33.33),
    "case_on_time": (3, 4, 75.0),
    "case_duration": (291, 3, 97.0),
    "case_stage_days": (32.5, 2, 16.25),
    "event_on_time": (2, 4, 50.0),
    "event_handled": (3, 4, 75.0),
    "event_rework": (1, 2, 50.0),
    "alert_ack_minutes": (120, 2, 60.0),
}


@pytest.mark.parametrize("kpi_id", sorted(HAND))
def test_value_by_hand(conn, fixed, kpi_id):
    as_app(conn)
    got = value(conn, kpi_id, fixed["district"])
    assert (got["numerator"], got["denominator"], got["value"]) == HAND[kpi_id]


def test_zero_denominator_is_no_data_not_zero(conn, fixed):
    as_app(conn)
    closure = value(conn, "case_closure", fixed["district"])  # no case was opened in the period
    assert (closure["numerator"], closure["denominator"], closure["value"]) == (0, 0, None)
    assert value(conn, "cases_opened", fixed["district"])["value"] == 0.0  # a count is 0, not "no data"
    later = value(conn, "task_on_time", fixed["district"], period=Period(date(2026, 10, 21), date(2026, 10, 31)))
    assert later["value"] is None
    series = compute.series(conn, BY_ID["task_on_time"], regions.resolve(conn, fixed["district"], "44"), PERIOD,
                            as_of=AS_OF)
    assert series[0]["value"] is None  # 09-28: nothing due that day
    assert series[2]["value"] == 100.0 and series[-1]["cum_value"] == 40.0


def test_working_day_rule_matters(conn, fixed):
    """Seen on 10-12 the Sunday task's rolled deadline (10-12) has not passed yet; on 10-13 it has."""
    as_app(conn)
    assert value(conn, "task_on_time", fixed["district"], as_of=date(2026, 10, 12))["denominator"] == 4
    assert value(conn, "task_on_time", fixed["district"], as_of=date(2026, 10, 13))["denominator"] == 5
    with conn.cursor() as cur:  # the calendar agrees with the fixture's assumptions
        cur.execute("SELECT zt_add_workdays('2026-09-30', 1), zt_is_workday('2026-10-10'), "
                    "zt_add_workdays('2026-10-10', 1)")
        assert cur.fetchone() == (date(2026, 10, 8), True, date(2026, 10, 12))


def test_children_add_up_down_to_grids(conn, fixed):
    as_app(conn)
    city = value(conn, "task_on_time", fixed["city"])
    mine = next(c for c in city["children"] if c["region"] == fixed["district"])
    assert (mine["numerator"], mine["denominator"]) == (2, 5)
    grids = value(conn, "task_on_time", fixed["district"])["children"]
    by = {c["region"]: (c["numerator"], c["denominator"]) for c in grids}
    assert by == {fixed["g1"]: (2, 2), fixed["g2"]: (0, 2), None: (0, 1)}  # None: 未划入网格
    one_grid = value(conn, "task_on_time", fixed["g1"])
    assert (one_grid["numerator"], one_grid["denominator"], one_grid["children"]) == (2, 2, [])
    for kpi in KPIS:
        if kpi.additive:
            top = value(conn, kpi.id, fixed["city"])
            assert sum(c["numerator"] for c in top["children"]) == pytest.approx(top["numerator"]), kpi.id
            if kpi.kind != "count":
                assert sum(c["denominator"] for c in top["children"]) == top["denominator"], kpi.id


def test_records_behind_a_figure(conn, fixed):
    as_app(conn)
    where = regions.resolve(conn, fixed["g2"], "44")
    rows = compute.records(conn, BY_ID["task_on_time"], where, PERIOD, as_of=AS_OF)
    assert [(r["kind"], r["day"], r["numerator"]) for r in rows] == [("task", "2026-10-10", 0),
                                                                     ("task", "2026-10-09", 0)]
    assert {r["grid"] for r in rows} == {fixed["g2"]}


def test_jurisdiction_hides_other_regions(conn, fixed):
    """As Shenzhen the district's facts do not exist, and asking for it is refused."""
    as_app(conn, "4403")
    from geo.errors import Forbidden

    with pytest.raises(Forbidden):
        regions.resolve(conn, fixed["district"], "4403")
    province_as_sz = compute.compute(conn, BY_ID["task_on_time"], regions.Region("44", "province", "广东省", "44"),
                                     PERIOD, as_of=AS_OF)
    assert province_as_sz["denominator"] == 0 and province_as_sz["value"] is None


def test_category_filter(conn, fixed):
    as_app(conn)
    where = regions.resolve(conn, fixed["district"], "44")
    food = compute.compute(conn, BY_ID["task_on_time"], where, PERIOD, "food", as_of=AS_OF)
    drugs = compute.compute(conn, BY_ID["task_on_time"], where, PERIOD, "drugs", as_of=AS_OF)
    assert (food["denominator"], drugs["denominator"]) == (5, 0)
    from geo.errors import BadRequest

    with pytest.raises(BadRequest):
        compute.check_category(conn, BY_ID["task_on_time"], "0101")  # an event category, not an entity one
    review = compute.compute(conn, BY_ID["case_stage_days"], where, PERIOD, "法制审核", as_of=AS_OF)
    assert (review["numerator"], review["denominator"], review["value"]) == (3.5, 1, 3.5)


def test_report_target_progress_and_previous_period(conn, fixed):
    as_app(conn, fixed["district"])
    where = regions.resolve(conn, fixed["district"], fixed["district"])
    body = report(conn, BY_ID["task_on_time"], where, PERIOD, as_of=AS_OF)
    assert body["target"] == 100.0 and body["target_detail"]["source"] != "user"  # the 2020 plan's, province-wide
    assert body["progress"]["met"] is False and body["progress"]["gap"] == -60.0
    assert body["previous"] == {"from": "2026-09-14", "to": "2026-09-27", "value": None, "numerator": 0,
                                "denominator": 0}
    assert body["change"] is None
    targets.set_target(conn, BY_ID["task_on_time"], where, {"target": 35, "from": "2026-09-01", "to": "2026-10-31"})
    body = report(conn, BY_ID["task_on_time"], where, PERIOD, as_of=AS_OF)
    assert body["target"] == 35.0 and body["progress"]["met"] is True  # the district's own beats the province's


def test_forecast_is_linear_on_the_cumulative_series():
    kpi = BY_ID["cases_opened"]
    period = Period(date(2026, 11, 1), date(2026, 11, 10))
    daily = [{"day": d.isoformat(), "cum_numerator": 2.0 * (i + 1), "cum_denominator": None,
              "cum_value": 2.0 * (i + 1)} for i, d in enumerate(period.dates())]
    fc = targets.forecast(kpi, daily, period, date(2026, 11, 5))
    assert fc["method"] == "linear" and fc["value"] == pytest.approx(20.0) and fc["days_elapsed"] == 5
    ratio = BY_ID["task_on_time"]
    daily = [{"day": d.isoformat(), "cum_numerator": 1.0 * (i + 1), "cum_denominator": 2.0 * (i + 1),
              "cum_value": 50.0} for i, d in enumerate(period.dates())]
    assert targets.forecast(ratio, daily, period, date(2026, 11, 4))["value"] == pytest.approx(50.0)
    assert targets.forecast(ratio, daily, period, date(2026, 12, 1))["method"] == "actual"


def test_bad_input_is_named(conn):
    from geo.errors import BadRequest, NotFound

    for start, end in (("2026-10-01", "2026-09-01"), ("2026-02-30", "2026-03-01"), (None, "2026-03-01"),
                       ("2020-01-01", "2026-01-01")):
        with pytest.raises(BadRequest):
            compute.parse_period(start, end)
    with pytest.raises(NotFound):
        compute.get_kpi(conn, "no_such_kpi")
    with pytest.raises(BadRequest):
        regions.resolve(conn, "44; drop table cases", "44")
    with pytest.raises(NotFound):
        regions.resolve(conn, "4499", "44")
    with pytest.raises(BadRequest):
        targets.parse_target(BY_ID["task_on_time"], {"target": 120})
