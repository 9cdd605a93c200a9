"""Soak: the operations wall (/ops) open in headless Chromium while events arrive at a steady rate.

Proves the wall can run for days: prints, every ``--sample`` seconds and as a start/end summary, the
server's resident memory (gunicorn master + workers, from /proc), the page's JS heap after a forced
garbage collection, DOM nodes and event listeners (DevTools ``Performance.getMetrics``), the open
HTTP connections to the server port (/proc/net/tcp) and the database sessions (pg_stat_activity), and
the intake-to-screen latency: from the ``POST /api/events`` response to the moment the page put the
event in its feed (``window.ztOps.shownAt``, the same machine clock).

Loopback only and bounded in time (``--minutes``, default 60). By default it builds a throwaway
database ``zhengtu_bench_ops`` on the embedded cluster (or ``DATABASE_URL``'s server): migrations,
Guangdong's boundaries, 4,000 entities and the operations demo data; an operator account with a
random password and an API token; then serves it with gunicorn (``dashboard.serve``, 2 workers) on a
free loopback port, and drops the database at the end (``--keep`` keeps it).

    .venv/bin/python bench/ops_soak.py --minutes 5 --rate 2 --sample 30
    make bench-soak                                    # 60 minutes, 1 event/s

Against a server that is already running (loopback only), with an operator's credentials:
    ZT_BENCH_PASSWORD=… ZT_BENCH_TOKEN=… .venv/bin/python bench/ops_soak.py --url http://127.0.0.1:8050 --user NAME
(server memory is then read from the process listening on that port, if this user can see it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from contextlib import closing
from pathlib import Path
from urllib.parse import urlparse

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DB_NAME = "zhengtu_bench_ops"
BENCH_USER = "bench_ops_operator"
GZ_BOX = (113.22, 23.05, 113.45, 23.22)  # central Guangzhou (越秀, 海珠, 天河, 荔湾, 白云, 番禺 edges)
LOOPBACK = ("127.0.0.1", "localhost", "::1")


# ---------------------------------------------------------------- setup ------------------------------

def prepare_database() -> tuple[str, str, str]:
    """A fresh bench database with demo data; returns (url, password, token) of the bench operator."""
    import psycopg2
    from psycopg2 import sql

    from accounts.users import add_user, issue_token
    from dashboard.provision import ensure_boundaries, migrate, seed
    from geo.db import connect, resolve_url
    from geo.settings import Settings

    server = resolve_url(Settings.from_env(), start=True)
    with closing(psycopg2.connect(psycopg2.extensions.make_dsn(server, dbname="postgres"))) as admin:
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME)))
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
    url = psycopg2.extensions.make_dsn(server, dbname=DB_NAME)
    password = secrets.token_urlsafe(18)
    with closing(connect(url)) as conn:
        migrate(conn)
        ensure_boundaries(conn, "44")
        seed(conn, 4000, 7, progress=False)
        with conn:
            add_user(conn, BENCH_USER, "operator", "4401", password)
        with conn:
            token = issue_token(conn, BENCH_USER)
    return url, password, token


def drop_database(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    with closing(psycopg2.connect(psycopg2.extensions.make_dsn(url, dbname="postgres"))) as admin:
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME)))


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int, workers: int) -> subprocess.Popen:
    """Gunicorn (the product's own serve()) on a loopback port, in its own process group."""
    env = {**os.environ, "DATABASE_URL": url}
    code = f"from dashboard.serve import serve; serve('127.0.0.1', {port}, workers={workers})"
    log = tempfile.NamedTemporaryFile(prefix="zt-soak-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited: " + Path(log.name).read_text(errors="replace")[-2000:])
        try:
            if requests.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit("gunicorn did not answer within 90 s")


# ---------------------------------------------------------------- measuring --------------------------

def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def rss_kib(pid: int) -> int:
    """Resident memory of a process and its direct children (gunicorn master + workers), KiB."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def listener_pid(port: int) -> int | None:
    """The process listening on a local TCP port (via socket inodes in /proc), if visible."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            parts = line.split()
            if int(parts[1].rsplit(":", 1)[1], 16) == port and parts[3] == "0A":
                inodes.add(parts[9])
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    pids.append(int(entry.name))
                    break
        except OSError:
            continue
    if not pids:
        return None
    # the master is the one whose parent is not also a listener
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        if int(fields[1]) not in pids:
            return pid
    return pids[0]


def established(port: int) -> int:
    """Established TCP connections whose local end is the server port (server-side sockets)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            parts = line.split()
            if int(parts[1].rsplit(":", 1)[1], 16) == port and parts[3] == "01":
                count += 1
    return count


def db_sessions(url: str | None) -> int | None:
    if not url:
        return None
    from geo.db import connect

    with closing(connect(url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()")
        return cur.fetchone()[0]


def page_metrics(driver) -> dict:
    driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    metrics = {m["name"]: m["value"] for m in driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}
    stats = driver.execute_script("return window.ztOps && window.ztOps.stats()") or {}
    return {"heap_mib": round(metrics.get("JSHeapUsedSize", 0) / 2**20, 2), "nodes": int(metrics.get("Nodes", 0)),
            "listeners": int(metrics.get("JSEventListeners", 0)), "events": stats.get("events"),
            "feed": stats.get("feed"), "polls": stats.get("polls"), "failures": stats.get("failures")}


# ---------------------------------------------------------------- feeding ----------------------------

class Feeder(threading.Thread):
    """POST /api/events at a steady rate with one keep-alive session; remembers what it posted."""

    def __init__(self, base: str, token: str, rate: float, categories: list[str], seed: int = 0) -> None:
        super().__init__(daemon=True)
        self.base, self.rate, self.categories = base, rate, categories
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.posted: deque[tuple[int, float]] = deque(maxlen=20000)
        self.sent = self.failed = self.merged = 0
        self.stop = threading.Event()
        self.rng = random.Random(2026 + seed)

    def run(self) -> None:
        interval = 1.0 / self.rate
        next_at = time.monotonic()
        while not self.stop.is_set():
            lon = self.rng.uniform(GZ_BOX[0], GZ_BOX[2])
            lat = self.rng.uniform(GZ_BOX[1], GZ_BOX[3])
            body = {"category": self.rng.choice(self.categories), "lon": round(lon, 6), "lat": round(lat, 6),
                    "source": self.rng.choice(["hotline", "grid", "citizen", "inspection"]),
                    "description": f"压力测试上报 {uuid.uuid4().hex[:10]}"}
            try:
                response = self.session.post(self.base + "/api/events", json=body, timeout=10)
                done = time.time()
                if response.status_code in (200, 201):
                    result = response.json()
                    if result.get("merged"):
                        self.merged += 1
                    else:
                        self.posted.append((result["id"], done))
                    self.sent += 1
                else:
                    self.failed += 1
            except requests.RequestException:
                self.failed += 1
            next_at += interval
            self.stop.wait(max(0.0, next_at - time.monotonic()))


class Pool:
    """Several feeders read as one: counters summed, posted events merged in time order."""

    def __init__(self, feeders: list[Feeder]) -> None:
        self.feeders = feeders

    @property
    def sent(self) -> int:
        return sum(f.sent for f in self.feeders)

    @property
    def merged(self) -> int:
        return sum(f.merged for f in self.feeders)

    @property
    def failed(self) -> int:
        return sum(f.failed for f in self.feeders)

    def take(self) -> list[tuple[int, float]]:
        """Posted (id, time) since the last call."""
        out = []
        for f in self.feeders:
            while f.posted:
                out.append(f.posted.popleft())
        return sorted(out, key=lambda p: p[1])

    def stop(self) -> None:
        for f in self.feeders:
            f.stop.set()
        for f in self.feeders:
            f.join(timeout=15)


def latencies(driver, posted: list[tuple[int, float]], pending: list[tuple[int, float]]) -> dict:
    """Intake-to-screen seconds for posted events. One not on screen yet is kept in ``pending`` for
    the next sample; after 30 s it counts as missing."""
    posted = pending + posted
    pending.clear()
    if not posted:
        return {"n": 0}
    shown = driver.execute_script("return arguments[0].map(id => window.ztOps.shownAt(id))", [p[0] for p in posted])
    values = [s / 1000 - t for (_, t), s in zip(posted, shown, strict=True) if s]
    now = time.time()
    late = [p for p, s in zip(posted, shown, strict=True) if not s]
    pending.extend(p for p in late if now - p[1] < 30)
    missing = len(late) - len(pending)
    if not values:
        return {"n": 0, "missing": missing}
    values.sort()
    return {"n": len(values), "missing": missing, "p50_s": round(statistics.median(values), 3),
            "p95_s": round(values[int(0.95 * (len(values) - 1))], 3), "max_s": round(values[-1], 3)}


# ---------------------------------------------------------------- main -------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=1.0, help="events per second (default 1)")
    parser.add_argument("--sample", type=float, default=60.0, help="seconds between samples (default 60)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--feeders", type=int, default=4,
                        help="posting threads sharing the rate (an intake takes ~1 s here; default 4)")
    parser.add_argument("--url", help="a running server on this machine (loopback)")
    parser.add_argument("--user", help="operator account for --url (password in ZT_BENCH_PASSWORD)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()
    if not 0 < args.minutes <= 24 * 60 or not 0 < args.rate <= 50:
        raise SystemExit("--minutes must be in (0, 1440] and --rate in (0, 50]")

    from tests.browser import chromium, sign_in

    db_url = proc = None
    if args.url:
        host = urlparse(args.url).hostname
        if host not in LOOPBACK:
            raise SystemExit("the soak only targets this machine (127.0.0.1 / localhost / ::1)")
        base, user = args.url.rstrip("/"), args.user
        password, token = os.environ.get("ZT_BENCH_PASSWORD", ""), os.environ.get("ZT_BENCH_TOKEN", "")
        if not (user and password and token):
            raise SystemExit("--url needs --user and ZT_BENCH_PASSWORD, ZT_BENCH_TOKEN")
        port = urlparse(base).port or 80
        server_pid = listener_pid(port)
    else:
        print("准备测试数据库 preparing the bench database …", flush=True)
        db_url, password, token = prepare_database()
        port, user = free_port(), BENCH_USER
        proc = start_server(db_url, port, args.workers)
        base, server_pid = f"http://127.0.0.1:{port}", proc.pid
    categories = [c["code"] for c in requests.get(base + "/api/events/categories", timeout=10,
                                                  headers={"Authorization": f"Bearer {token}"}).json()
                  if c.get("time_limit_hours")]
    driver = chromium(1920, 1080)
    feeder = None
    rows: list[dict] = []
    try:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
        driver.execute_cdp_cmd("Performance.enable", {})
        sign_in(driver, base, user, password)
        driver.get(base + "/ops")
        deadline = time.monotonic() + 90
        while not driver.execute_script("const s = window.ztOps && window.ztOps.stats(); return s && s.polls >= 2"):
            if time.monotonic() > deadline:
                raise SystemExit("the wall did not start")
            time.sleep(0.5)
        feeders = [Feeder(base, token, args.rate / args.feeders, categories, seed=i) for i in range(args.feeders)]
        for f in feeders:
            f.start()
        feeder = Pool(feeders)
        started = time.monotonic()
        end = started + args.minutes * 60
        first_wait, pending = True, []
        print(f"soak: {args.minutes:g} min, {args.rate:g} events/s, server pid {server_pid}, {base}", flush=True)
        header = ("t_min", "server_rss_mib", "conns", "db_sessions", "heap_mib", "nodes", "listeners",
                  "events", "feed", "polls", "sent", "lat_p50_s", "lat_p95_s", "lat_max_s", "missing")
        print(" ".join(f"{h:>14}" for h in header), flush=True)
        while True:
            now = time.monotonic()
            wait = min(20.0 if first_wait else args.sample, end - now)  # an early "start" sample
            first_wait = False
            if wait > 0:
                time.sleep(wait)
            time.sleep(2.5)  # the last posts of the window reach the screen
            posted = feeder.take()
            row = {"t_min": round((time.monotonic() - started) / 60, 2),
                   "server_rss_mib": round(rss_kib(server_pid) / 1024, 1) if server_pid else None,
                   "conns": established(port), "db_sessions": db_sessions(db_url), **page_metrics(driver),
                   "sent": feeder.sent, "latency": latencies(driver, posted, pending)}
            rows.append(row)
            lat = row["latency"]
            cells = [row[k] for k in header[:11]] + [lat.get("p50_s"), lat.get("p95_s"), lat.get("max_s"),
                                                      lat.get("missing")]
            print(" ".join(f"{'' if v is None else v!s:>14}" for v in cells), flush=True)
            if time.monotonic() >= end:
                break
    finally:
        if feeder:
            feeder.stop()
        driver.quit()
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if db_url and not args.keep:
            drop_database(db_url)
    if rows:
        first, last = rows[0], rows[-1]
        summary = {"minutes": args.minutes, "rate_per_s": args.rate, "events_sent": feeder.sent if feeder else 0,
                   "merged": feeder.merged if feeder else 0, "failed": feeder.failed if feeder else 0,
                   "start": first, "end": last}
        print("summary " + json.dumps(summary, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
