"""Live mode: feeds the demo city with reports, loop steps and sensor readings while the demo runs.

A fresh install should show a living city on the wall. ``run_feeder`` writes through the real
functions (``events.register``/``transition``, ``sensors.record_readings``) on its own connection
until ``stop_event`` is set: about ``rate`` new reports a minute at random places in Guangzhou
(now and then a second channel reporting the same incident, so merges happen), open events moved
one step along the loop, a reading from each sensor every ``READING_EVERY`` with an occasional
threshold crossing. It never reads the wall, so it cannot tell whether anyone is watching; it is
cheap (one short transaction a tick) and bounded (readings older than ``KEEP_READINGS`` pruned).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta

import numpy as np
import psycopg2
import psycopg2.extensions

from cityops import categories, events, sensors
from cityops.demo import DEMO_CITY, SOURCE_SHARES
from geo import workdays
from geo.db import connect

LOG = logging.getLogger(__name__)
FEEDER = "live-feeder"
LIVE_URL_ENV = "ZHENGTU_LIVE_URL"
TICK_SECONDS = 2.0
READING_EVERY = timedelta(minutes=5)
ALARM_PROBABILITY = 0.004  # per reading: a few alarms an hour over 200 sensors
KEEP_READINGS = timedelta(days=7)
STEP_PER_MINUTE = 6.0  # loop steps a minute across the city's open events
SPOTS = """
SELECT trim(district_adcode), ST_X(geom), ST_Y(geom) FROM entities
WHERE left(district_adcode, 4) = %s ORDER BY random() LIMIT 5000
"""
SENSORS = "SELECT id, kind, last_reading_at FROM sensors WHERE left(district_adcode, 4) = %s"
OPEN_EVENT = """
SELECT id, status FROM city_events
WHERE status <> '结案' AND left(district_adcode, 4) = %s
ORDER BY status_at NULLS FIRST, id LIMIT 20
"""
RECENT_EVENT = """
SELECT category, ST_X(geom), ST_Y(geom), source FROM city_events
WHERE status <> '结案' AND left(district_adcode, 4) = %s AND reported_at > now() - interval '20 minutes'
ORDER BY reported_at DESC LIMIT 1
"""
PRUNE = "DELETE FROM sensor_readings WHERE at < %s"


class Feeder:
    """One tick at a time; state kept between ticks (which sensor is due, where the city is)."""

    def __init__(self, conn: psycopg2.extensions.connection, rate: float, seed: int | None = None,
                 city: str = DEMO_CITY) -> None:
        self.conn = conn
        self.rate = rate
        self.city = city
        self.rng = np.random.default_rng(seed)
        self.leaves = [c for c in categories.from_db(conn).values() if c.time_limit_hours is not None]
        with conn, conn.cursor() as cur:
            cur.execute(SPOTS, (city,))
            self.spots = [(d, float(x), float(y)) for d, x, y in cur.fetchall()]
            cur.execute(SENSORS, (city,))
            now = datetime.now(workdays.SHANGHAI)
            self.due = {sid: (last or now) + READING_EVERY for sid, _, last in cur.fetchall()}
            cur.execute(SENSORS, (city,))
            self.kinds = {sid: kind for sid, kind, _ in cur.fetchall()}
        self.counts = {"events": 0, "merged": 0, "steps": 0, "readings": 0, "alerts": 0}
        self.last_prune = now

    def tick(self, seconds: float = TICK_SECONDS) -> None:
        """One short transaction: maybe a report, maybe a step, the sensors that are due."""
        now = datetime.now(workdays.SHANGHAI)
        with self.conn:
            with self.conn.cursor() as cur:
                cur.execute("SELECT set_config('zhengtu.user', %s, true), "
                            "set_config('zhengtu.role', 'operator', true)", (FEEDER,))
            if self.spots and self.rng.random() < self.rate * seconds / 60:
                self._report(now)
            if self.rng.random() < STEP_PER_MINUTE * seconds / 60:
                self._step(now)
            self._readings(now)
            if now - self.last_prune > timedelta(hours=1):
                with self.conn.cursor() as cur:
                    cur.execute(PRUNE, (now - KEEP_READINGS,))
                sensors.mark_offline(self.conn, now=now)
                self.last_prune = now

    def _report(self, now: datetime) -> None:
        payload = None
        if self.rng.random() < 0.2:  # another channel about a recent incident
            with self.conn.cursor() as cur:
                cur.execute(RECENT_EVENT, (self.city,))
                row = cur.fetchone()
            if row:
                category, lon, lat, source = row
                other = [s for s in SOURCE_SHARES if s != source]
                payload = {"category": category, "lon": float(lon) + float(self.rng.normal(0, 0.0003)),
                           "lat": float(lat) + float(self.rng.normal(0, 0.0003)),
                           "source": str(self.rng.choice(other))}
        if payload is None:
            district, lon, lat = self.spots[int(self.rng.integers(len(self.spots)))]
            category = self.leaves[int(self.rng.integers(len(self.leaves)))].code
            payload = {"category": category, "lon": lon + float(self.rng.normal(0, 0.0005)),
                       "lat": lat + float(self.rng.normal(0, 0.0005)),
                       "source": str(self.rng.choice(list(SOURCE_SHARES), p=list(SOURCE_SHARES.values())))}
        name = categories.shipped().get(payload["category"])
        payload["description"] = (f"{events.SOURCE_LABELS[payload['source']]}反映："
                                  f"{name.name_zh if name else payload['category']}")
        payload["reported_at"] = now.isoformat()
        try:
            result = events.register(self.conn, payload, FEEDER, self.city, "operator", now=now)
        except events.IntakeError:  # a jittered point just outside the city
            return
        self.counts["merged" if result["merged"] else "events"] += 1

    def _step(self, now: datetime) -> None:
        with self.conn.cursor() as cur:
            cur.execute(OPEN_EVENT, (self.city,))
            rows = cur.fetchall()
        if not rows:
            return
        event_id, status = rows[int(self.rng.integers(len(rows)))]
        options = events.allowed_next(status)
        if not options:
            return
        to = options[0]
        note = None
        if status == "核查" and self.rng.random() < 0.15:
            to, note = "处置", "核查未通过，需返工"
        role = "inspector" if to in ("处置", "反馈") else "operator"
        events.transition(self.conn, event_id, to, note, FEEDER, role, at=now)
        self.counts["steps"] += 1

    def _readings(self, now: datetime) -> None:
        for sensor_id in [s for s, at in self.due.items() if at <= now]:
            kind = sensors.KINDS[self.kinds[sensor_id]]
            low, high = kind.normal
            value = float(self.rng.uniform(low, high))
            if self.rng.random() < ALARM_PROBABILITY:
                value = kind.threshold_high * float(self.rng.uniform(1.1, 1.5))
            result = sensors.record_readings(self.conn, sensor_id, [{"at": now.isoformat(),
                                                                     "value": round(value, 2)}],
                                             FEEDER, self.city, "operator", now=now)
            self.counts["readings"] += result["stored"]
            self.counts["alerts"] += len(result["alerts"])
            self.due[sensor_id] = now + READING_EVERY


def run_feeder(db_url: str, stop_event: threading.Event, rate: float = 4.0,
               tick_seconds: float = TICK_SECONDS, seed: int | None = None) -> dict:
    """Feed until ``stop_event`` is set; returns what was written. Errors are logged, not fatal."""
    conn = connect(db_url)
    try:
        feeder = Feeder(conn, rate, seed)
        while not stop_event.is_set():
            try:
                feeder.tick(tick_seconds)
            except (psycopg2.Error, ValueError) as exc:  # keep the demo alive; say what happened
                LOG.warning("live feeder tick failed: %s", exc)
                if conn.closed:
                    conn = connect(db_url)
                    feeder.conn = conn
            stop_event.wait(tick_seconds)
        return feeder.counts
    finally:
        conn.close()


def start_in_thread(db_url: str, rate: float = 4.0) -> tuple[threading.Thread, threading.Event]:
    """A daemon thread running the feeder (``zhengtu demo`` uses it; set the event to stop)."""
    stop = threading.Event()
    thread = threading.Thread(target=run_feeder, args=(db_url, stop, rate), name="zhengtu-live",
                              daemon=True)
    thread.start()
    return thread, stop


def start_process(db_url: str, rate: float = 4.0) -> subprocess.Popen:
    """The feeder in a child process (``zhengtu demo``): gunicorn forks its workers from the
    parent, and a connection inherited by a fork would be closed under the feeder. The URL goes
    through the environment, not the command line (it holds a password)."""
    env = {**os.environ, LIVE_URL_ENV: db_url}
    return subprocess.Popen([sys.executable, "-m", "cityops.live", "--rate", str(rate)], env=env)


def main(argv: list[str] | None = None) -> int:
    """``python -m cityops.live [--rate N] [--seconds S]``; the database URL in ZHENGTU_LIVE_URL."""
    parser = argparse.ArgumentParser(prog="cityops.live", description="一网统管 live feeder")
    parser.add_argument("--rate", type=float, default=4.0, help="new reports per minute")
    parser.add_argument("--seconds", type=float, default=0, help="stop after this long (0: never)")
    args = parser.parse_args(argv)
    url = os.environ.get(LIVE_URL_ENV)
    if not url:
        print(f"{LIVE_URL_ENV} is not set", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if args.seconds:
        threading.Timer(args.seconds, stop.set).start()
    logging.basicConfig(level=logging.INFO, format="live: %(message)s")
    counts = run_feeder(url, stop, args.rate)
    LOG.info("stopped: %s", counts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
