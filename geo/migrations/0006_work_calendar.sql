-- The working-day calendar: legal time limits count working days (工作日), which in China are
-- Monday to Friday except public holidays, plus the weekend days officially swapped to work (调休).
-- Only the exceptions are stored; the State Council publishes them each year, so they are data
-- (geo/data/cn_work_calendar.csv, `zhengtu calendar load FILE`), not code.
CREATE TABLE work_calendar (
    day      date PRIMARY KEY,
    workday  boolean NOT NULL,
    name     text NOT NULL
);
-- Years whose exceptions have been loaded; outside them only weekends count as days off.
CREATE TABLE work_calendar_years (
    year     integer PRIMARY KEY,
    source   text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION zt_is_workday(d date) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce((SELECT workday FROM work_calendar WHERE day = d), extract(isodow FROM d) < 6)
$$;

-- Working days in the half-open range (a, b]: the start day does not count, as in legal limits
-- ("自立案之日起" counts from the next day).
CREATE FUNCTION zt_workdays_between(a date, b date) RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN b <= a THEN 0 ELSE
        (SELECT count(*)::integer FROM generate_series(a + 1, b, interval '1 day') g(day)
         WHERE zt_is_workday(g.day::date)) END
$$;

-- The date on which n working days after d have passed.
CREATE FUNCTION zt_add_workdays(d date, n integer) RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT g.day::date FROM generate_series(d + 1, d + n * 3 + 30, interval '1 day') g(day)
    WHERE zt_is_workday(g.day::date)
    ORDER BY g.day OFFSET greatest(n, 1) - 1 LIMIT 1
$$;

GRANT SELECT ON work_calendar, work_calendar_years TO zhengtu_app;
