"""Benchmark: `entities` tile latency and throughput three ways -- raw SQL, this app over HTTP, tipg.

On a dedicated database ``zhengtu_bench_tiles`` (>= 1,000,000 entities, built once and reused), the
same fixed list of tiles (zooms 8-18, a 3x3 block around five Guangdong city centres) is fetched:

1. raw SQL floor -- ``layers.tiles.get_tile`` on a ``geo.db.Database`` connection borrowed with the
   context of a province-wide admin (role ``zhengtu_app``, RLS on): exactly the app's query;
2. app -- ``zhengtu serve --workers 2`` (gunicorn) as a subprocess, ``GET /tiles/entities/z/x/y.mvt``
   with an admin's Bearer token;
3. tipg -- developmentseed's FastAPI OGC Tiles server from its own venv ``.venv-bench`` (uvicorn,
   connects as the database owner, so no RLS), ``GET /collections/public.entities/tiles/
   WebMercatorQuad/z/x/y``.

A warm-up pass (discarded; the centre tiles, or the whole list with --full-warmup) comes first.
Latency: the list is fetched one request at a time, the three methods interleaved tile by tile so
background load on a shared machine hits them alike (p50/p95 by zoom band). Throughput: each method
over the whole list with N client threads (tiles/s). Every answer is checked (status 200/204, MVT
content type, parseable MVT). Prints figures and ratios, asserts nothing. All servers listen on
127.0.0.1 and are always stopped at the end.

Usage:  .venv/bin/python bench/tile_compare.py [N] [--fresh] [--threads 4] [--ring 0|1|2]
Set-up of the tipg venv (once):  python3 -m venv .venv-bench && .venv-bench/bin/pip install tipg uvicorn
See bench/README.md for how to read the output.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg2
import psycopg2.extensions
import requests
from psycopg2 import sql

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from accounts.users import add_user, issue_token  # noqa: E402
from dashboard.provision import ensure_boundaries, migrate, seed  # noqa: E402
from geo.db import Database, connect, resolve_url  # noqa: E402
from geo.settings import Settings  # noqa: E402
from layers.registry import get_layer  # noqa: E402
from layers.tiles import FEATURE_LIMIT, TileAddress, get_tile, tile_for  # noqa: E402

DB_NAME = "zhengtu_bench_tiles"
SEED = 1
BENCH_USER = "bench_admin"
RAW_CONTEXT = {"region": "44", "user": "bench", "role": "admin"}
CITIES = {  # lon, lat (WGS 84)
    "Guangzhou": (113.30, 23.12), "Shenzhen": (114.06, 22.55), "Foshan": (113.12, 23.02),
    "Dongguan": (113.75, 23.02), "Shantou": (116.68, 23.35),
}
LOW_BAND, HIGH_BAND = (8, 12), (13, 18)
MVT_TYPE = "application/vnd.mapbox-vector-tile"
APP_SERVER = ROOT / ".venv/bin/zhengtu"
TIPG_VENV = ROOT / ".venv-bench"
OUT = ROOT / "bench/out"  # server logs (git-ignored)
# Same attributes as the app's street tiles, minus category_name (a join tipg cannot do).
TIPG_PROPERTIES = ["id", "name", "uscc", "category", "risk_class", "address", "district_adcode"]


# --------------------------------------------------------------------------------------------
# database


def admin_conn(server: str) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(psycopg2.extensions.make_dsn(server, dbname="postgres"))
    conn.autocommit = True
    return conn


def as_url(server: str, dbname: str) -> str:
    """A postgresql:// URL (tipg wants one) for ``dbname`` on the server of ``server``."""
    p = psycopg2.extensions.parse_dsn(server)
    auth = quote(p.get("user", ""), safe="")
    if p.get("password"):
        auth += ":" + quote(p["password"], safe="")
    return f"postgresql://{auth}@{p.get('host', '127.0.0.1')}:{p.get('port', '5432')}/{dbname}"


def masked(url: str) -> str:
    p = psycopg2.extensions.parse_dsn(url)
    return f"postgresql://{p.get('user')}:***@{p.get('host')}:{p.get('port')}/{p.get('dbname')}"


def entity_count(url: str) -> int | None:
    """Rows in ``entities``, or None when the database or the table is not there."""
    try:
        with closing(connect(url)) as conn, conn.cursor() as cur:
            cur.execute("SELECT to_regclass('entities') IS NOT NULL")
            if not cur.fetchone()[0]:
                return None
            cur.execute("SELECT count(*) FROM entities")
            return int(cur.fetchone()[0])
    except psycopg2.OperationalError:
        return None


def prepare_database(server: str, n: int, fresh: bool) -> str:
    """The bench database's URL, built (migrate, boundaries, seed N, pyramid) unless reusable."""
    with closing(admin_conn(server)) as a, a.cursor() as cur:
        if fresh:
            print(f"--fresh: dropping {DB_NAME}")
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME)))
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
    url = as_url(server, DB_NAME)
    have = entity_count(url)
    with closing(connect(url)) as conn:
        applied = migrate(conn)  # pending only: cheap, keeps the schema current with the code
        if applied:
            print(f"migrations applied: {', '.join(applied)}")
        if have == n:
            print(f"reusing {DB_NAME}: {have:,} entities already loaded")
            return url
        print(f"building {DB_NAME}: {n:,} entities (had {have if have is not None else 'none'})")
        t0 = time.perf_counter()
        ensure_boundaries(conn)
        seed(conn, n, SEED, force=have is not None, progress=True)
        print(f"built in {time.perf_counter() - t0:.0f} s; VACUUM ANALYZE ...")
    with closing(connect(url)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE entities")
            cur.execute("VACUUM ANALYZE entity_cells")
    return url


def bench_token(url: str) -> str:
    """A fresh API token of a province-wide admin (the account is created once)."""
    with closing(connect(url)) as conn:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM users WHERE username = %s", (BENCH_USER,))
            if cur.fetchone() is None:  # the password is never used: the bench logs in by token
                add_user(conn, BENCH_USER, "admin", "44", secrets.token_urlsafe(18))
        with conn:
            return issue_token(conn, BENCH_USER)


def db_facts(url: str) -> dict:
    with closing(connect(url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM entities")
        entities = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM entity_cells")
        cells = cur.fetchone()[0]
        cur.execute("SELECT current_setting('server_version'), current_setting('jit'), "
                    "current_setting('shared_buffers'), postgis_lib_version()")
        version, jit, shared, postgis = cur.fetchone()
    return {"entities": entities, "cells": cells, "pg": version, "jit": jit,
            "shared_buffers": shared, "postgis": postgis}


# --------------------------------------------------------------------------------------------
# tiles and MVT


def tile_list(zooms: range, ring: int = 1) -> list[TileAddress]:
    """Centre tile and its neighbours within ``ring`` (1: 3x3) per city per zoom, de-duplicated."""
    seen: dict[tuple[int, int, int], None] = {}
    steps = range(-ring, ring + 1)
    for z in zooms:
        n = 2 ** z
        for lon, lat in CITIES.values():
            c = tile_for(lon, lat, z)
            for dy in steps:
                for dx in steps:
                    x, y = c.x + dx, c.y + dy
                    if 0 <= x < n and 0 <= y < n:
                        seen.setdefault((z, x, y), None)
    return [TileAddress(*t) for t in seen]


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def _fields(buf: bytes):
    """(field number, wire type, value or bytes) of one protobuf message, top level only."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            val, i = _varint(buf, i)
        elif wire == 2:
            size, i = _varint(buf, i)
            val, i = buf[i:i + size], i + size
        elif wire == 5:
            val, i = buf[i:i + 4], i + 4
        elif wire == 1:
            val, i = buf[i:i + 8], i + 8
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")
        yield num, wire, val


def mvt_summary(data: bytes) -> tuple[int, list[str]]:
    """Number of features and the layer names of an MVT (Tile.layers=3, Layer.name=1, features=2)."""
    features, names = 0, []
    for num, wire, layer in _fields(data):
        if num == 3 and wire == 2:
            for lnum, _, val in _fields(layer):
                if lnum == 1:
                    names.append(val.decode())
                elif lnum == 2:
                    features += 1
    return features, names


# --------------------------------------------------------------------------------------------
# methods: each fetches one tile and returns (status, body)


@dataclass
class Result:
    tile: TileAddress
    ms: float
    status: int
    size: int
    ctype: str = ""
    body: bytes = field(default=b"", repr=False)


class RawMethod:
    name, label = "raw", "raw SQL (get_tile, zhengtu_app + RLS)"

    def __init__(self, url: str) -> None:
        self.database = Database(url, maxconn=8, application_name="zhengtu-bench")
        self.layer = get_layer("entities")

    def fetch(self, tile: TileAddress) -> Result:
        t0 = time.perf_counter()
        with self.database.connection(RAW_CONTEXT) as conn:
            data = get_tile(conn, self.layer, tile)  # never pass `filters`: the app's default path
        ms = (time.perf_counter() - t0) * 1000
        return Result(tile, ms, 200 if data else 204, len(data), MVT_TYPE if data else "", data)

    def close(self) -> None:
        self.database.close()


class HttpMethod:
    """GET tiles from a server subprocess; a dropped connection is retried (see ``fetch``)."""

    def __init__(self, name: str, label: str, template: str, headers: dict[str, str],
                 server: Server) -> None:
        self.name, self.label, self.template, self.server = name, label, template, server
        # identity: measure the tile work, not gzip (tipg compresses when asked, the app does not)
        self.headers = {"Accept-Encoding": "identity", **headers}
        self._local = threading.local()
        self.retries = 0

    def _session(self, new: bool = False) -> requests.Session:
        if new or not hasattr(self._local, "session"):
            self._local.session = requests.Session()
            self._local.session.trust_env = False  # no proxies: 127.0.0.1 only
        return self._local.session

    def fetch(self, tile: TileAddress) -> Result:
        """One timed GET. On a refused/reset connection (a server killed from outside, e.g. by a
        name-based kill of `zhengtu serve` on this shared machine) the server is restarted if it
        died and the tile is fetched again; only the successful attempt is timed, and counted."""
        url = self.template.format(z=tile.z, x=tile.x, y=tile.y)
        for attempt in range(3):
            try:
                t0 = time.perf_counter()
                r = self._session(new=attempt > 0).get(url, headers=self.headers, timeout=120)
                body = r.content
                ms = (time.perf_counter() - t0) * 1000
                return Result(tile, ms, r.status_code, len(body), r.headers.get("Content-Type", ""),
                              body)
            except requests.ConnectionError:
                if attempt == 2:
                    raise
                self.retries += 1
                time.sleep(0.5)
                self.server.ensure_running()
        raise AssertionError("unreachable")

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------------------------
# servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A subprocess in its own process group, stopped (SIGTERM, then SIGKILL) by ``stop``."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], ready_url: str,
                 ready_headers: dict[str, str]) -> None:
        OUT.mkdir(parents=True, exist_ok=True)
        self.name, self.argv, self.env = name, argv, env
        self.ready_url, self.ready_headers = ready_url, ready_headers
        self.log_path = OUT / f"tile_compare_{name}.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 -- closed in stop()
        self.restarts = 0
        self._lock = threading.Lock()
        self._spawn()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def _spawn(self) -> None:
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=OUT, stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)

    def ensure_running(self) -> None:
        """Start the server again (same port) if its process has gone."""
        with self._lock:
            if self.proc.poll() is None:
                return
            self.log.write(f"\n--- bench: {self.name} exited with {self.proc.returncode}; "
                           "restarting ---\n".encode())
            self.restarts += 1
            self._spawn()
            self.wait_ready()

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; "
                                   f"see {self.log_path}:\n{self.tail()}")
            try:
                if requests.get(self.ready_url, headers=self.ready_headers, timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s; see {self.log_path}")

    def tail(self, n: int = 15) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # our own group: gunicorn/uvicorn + workers
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        self.log.close()


def start_app(url: str, token: str) -> tuple[Server, HttpMethod]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    env.pop("ZHENGTU_APP_DATABASE_URL", None)  # the owner's URL with SET ROLE zhengtu_app
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {token}"}
    server = Server("app", [str(APP_SERVER), "serve", "--host", "127.0.0.1", "--port", str(port),
                            "--workers", "2"], env, f"{base}/tiles/entities.json", auth)
    return server, HttpMethod("app", "app over HTTP (gunicorn 2 workers x 8 threads)",
                              base + "/tiles/entities/{z}/{x}/{y}.mvt", auth, server)


def start_tipg(url: str, workers: int) -> tuple[Server, HttpMethod]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIPG_", "POSTGRES_"))}
    env.update({
        "DATABASE_URL": url,                          # the owner: no RLS for tipg
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": '["public.entities"]',      # publish only this table
        "TIPG_DB_DATETIME_EXTENT": "false",           # no min/max scans of 1M rows at start-up
        "TIPG_CATALOG_TTL": "0",                      # no catalogue refresh in the middle of a run
        "TIPG_MAX_FEATURES_PER_TILE": str(FEATURE_LIMIT),  # same cap as the app (10,000)
        "TIPG_TILE_BUFFER": "64",                     # the app's buffer (tipg default 256)
        "TIPG_SET_MVT_LAYERNAME": "true",             # layer "entities" rather than "default"
        "TIPG_TABLE_CONFIG__public_entities__properties": json.dumps(TIPG_PROPERTIES),
        "TIPG_DB_MAX_CONN_SIZE": "10",
        "PYTHONUNBUFFERED": "1",
    })
    base = f"http://127.0.0.1:{port}"
    server = Server("tipg", [str(TIPG_VENV / "bin/uvicorn"), "tipg.main:app", "--host", "127.0.0.1",
                             "--port", str(port), "--workers", str(workers)], env,
                    f"{base}/collections/public.entities", {})
    return server, HttpMethod("tipg", f"tipg over HTTP (uvicorn {workers} workers, owner, no RLS)",
                              base + "/collections/public.entities/tiles/WebMercatorQuad/{z}/{x}/{y}",
                              {}, server)


# --------------------------------------------------------------------------------------------
# measuring


def run_concurrent(method, tiles: list[TileAddress], threads: int) -> tuple[list[Result], float]:
    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(method.fetch, tiles))
    return results, time.perf_counter() - t0


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def pct(values: list[float], q: float) -> float:
    """Percentile with linear interpolation (q in 0..100)."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def band_of(z: int) -> str:
    return "z8-12" if LOW_BAND[0] <= z <= LOW_BAND[1] else "z13-18"


def check_answers(name: str, results: list[Result]) -> list[str]:
    """Problems with a warm-up pass: wrong status, wrong content type, not an MVT."""
    problems = []
    for r in results:
        t = f"{r.tile.z}/{r.tile.x}/{r.tile.y}"
        if r.status not in (200, 204):
            problems.append(f"{name} {t}: HTTP {r.status} {r.body[:120]!r}")
        elif r.status == 200 and r.size and not r.ctype.startswith(MVT_TYPE):
            problems.append(f"{name} {t}: content-type {r.ctype!r}")
        elif r.size:
            try:
                mvt_summary(r.body)
            except (ValueError, IndexError) as exc:
                problems.append(f"{name} {t}: not a valid MVT ({exc})")
    return problems


def summarise(results: list[Result], features: dict) -> dict[str, dict]:
    """p50/p95 ms, mean KB and mean features per band and overall."""
    out = {}
    for band in ("z8-12", "z13-18", "all"):
        rs = [r for r in results if band == "all" or band_of(r.tile.z) == band]
        feats = [features.get((r.tile.z, r.tile.x, r.tile.y), 0) for r in rs]
        out[band] = {"n": len(rs), "p50": pct([r.ms for r in rs], 50), "p95": pct([r.ms for r in rs], 95),
                     "kb": statistics.mean(r.size for r in rs) / 1024, "feat": statistics.mean(feats),
                     "empty": sum(1 for r in rs if r.size == 0)}
    return out


def main() -> int:  # noqa: C901 -- a linear script
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("entities", nargs="?", type=int, default=1_000_000,
                        help="entities in the bench database (default 1,000,000)")
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the bench database")
    parser.add_argument("--threads", type=int, default=4, help="client threads for throughput")
    parser.add_argument("--tipg-workers", type=int, default=2, help="uvicorn workers (app has 2)")
    parser.add_argument("--zooms", default="8-18", help="zoom range, e.g. 8-18")
    parser.add_argument("--full-warmup", action="store_true",
                        help="warm up over the whole list (default: the centre tiles only)")
    parser.add_argument("--ring", type=int, default=1, choices=(0, 1, 2),
                        help="neighbours around each centre tile: 1 = 3x3 (default), 0 = centre only")
    args = parser.parse_args()
    zlo, zhi = (int(v) for v in args.zooms.split("-"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops the servers

    if not (TIPG_VENV / "bin/uvicorn").exists():
        print(f"missing {TIPG_VENV}/bin/uvicorn: python3 -m venv .venv-bench && "
              ".venv-bench/bin/pip install tipg uvicorn", file=sys.stderr)
        return 2
    started = time.perf_counter()
    server = resolve_url(Settings.from_env(), start=True)
    url = prepare_database(server, args.entities, args.fresh)
    facts = db_facts(url)
    token = bench_token(url)
    tiles = tile_list(range(zlo, zhi + 1), args.ring)
    if "filters" in inspect.signature(get_tile).parameters:
        print("note: get_tile has a `filters` parameter; the raw method passes none (default)")
    tipg_version = subprocess.run([str(TIPG_VENV / "bin/python"), "-c",
                                   "import tipg, uvicorn; print(tipg.__version__, uvicorn.__version__)"],
                                  capture_output=True, text=True, check=True).stdout.split()

    methods: list = []
    servers: list[Server] = []
    try:
        methods.append(RawMethod(url))
        app_server, app_method = start_app(url, token)
        servers.append(app_server)
        methods.append(app_method)
        tipg_server, tipg_method = start_tipg(url, args.tipg_workers)
        servers.append(tipg_server)
        methods.append(tipg_method)
        per_zoom = {z: sum(1 for t in tiles if t.z == z) for z in range(zlo, zhi + 1)}
        print(f"database {masked(url)}: {facts['entities']:,} entities, {facts['cells']:,} pyramid "
              f"rows; PostgreSQL {facts['pg']}, PostGIS {facts['postgis']}, jit={facts['jit']}, "
              f"shared_buffers={facts['shared_buffers']}")
        print(f"tiles: {len(tiles)} (per zoom {', '.join(f'z{z}:{n}' for z, n in per_zoom.items())}) "
              f"around {', '.join(CITIES)}; tipg {tipg_version[0]} / uvicorn {tipg_version[1]}")

        # warm-up (discarded): the centre tiles (every street tile of the app scans the table, so
        # this fills the cache as well as the whole list would), workers, pools and connections
        warm_tiles = tiles if args.full_warmup else tile_list(range(zlo, zhi + 1), 0)
        problems: list[str] = []
        for m in methods:
            t0 = time.perf_counter()
            warm, _ = run_concurrent(m, warm_tiles, args.threads)
            problems += check_answers(m.name, warm)
            layers = {n for r in warm if r.size for n in mvt_summary(r.body)[1]}
            print(f"warm-up    {m.name:<5} {time.perf_counter() - t0:6.1f} s ({len(warm_tiles)} tiles), "
                  f"load {load()}, statuses {sorted({r.status for r in warm})}, layers {sorted(layers)}")

        # latency: one request at a time, the three methods interleaved tile by tile (rotating
        # which goes first) so that load from anything else on the machine hits them alike
        by_method: dict[str, list[Result]] = {m.name: [] for m in methods}
        t0 = time.perf_counter()
        for i, tile in enumerate(tiles):
            for k in range(len(methods)):
                m = methods[(i + k) % len(methods)]
                r = m.fetch(tile)
                by_method[m.name].append(r)
        print(f"sequential all   {time.perf_counter() - t0:6.1f} s ({len(tiles)} tiles x "
              f"{len(methods)} methods), load {load()}")
        features: dict[str, dict] = {}
        seq: dict[str, dict] = {}
        zoom_p50: dict[str, dict[int, float]] = {}
        conc: dict[str, float] = {}
        for m in methods:
            results = by_method[m.name]
            problems += check_answers(m.name, results)
            features[m.name] = {(r.tile.z, r.tile.x, r.tile.y): mvt_summary(r.body)[0] for r in results}
            for r in results:
                r.body = b""
            seq[m.name] = summarise(results, features[m.name])
            zoom_p50[m.name] = {z: pct([r.ms for r in results if r.tile.z == z], 50)
                                for z in range(zlo, zhi + 1)}
        if problems:
            print(f"PROBLEMS in {len(problems)} answers:\n  " + "\n  ".join(problems[:20]))

        # throughput: the whole list with N client threads, one method at a time
        for m in methods:
            done, wall = run_concurrent(m, tiles, args.threads)
            problems = check_answers(m.name, done)
            if problems:
                print(f"PROBLEMS in {len(problems)} concurrent answers of {m.name}: {problems[:3]}")
            conc[m.name] = len(tiles) / wall
            print(f"concurrent {m.name:<5} {wall:6.1f} s ({len(tiles)} tiles, {args.threads} threads), "
                  f"load {load()}")
    except requests.RequestException as exc:
        print(f"HTTP request failed: {exc}", file=sys.stderr)
        for s in servers:
            state = "running" if s.proc.poll() is None else f"EXITED with {s.proc.returncode}"
            print(f"{s.name} server {state}; last lines of {s.log_path}:\n{s.tail()}", file=sys.stderr)
        return 1
    finally:
        for s in servers:
            s.stop()
        for m in methods:
            m.close()

    labels = {m.name: m.label for m in methods}
    print()
    print(f"== entities tiles, {facts['entities']:,} entities, {len(tiles)} tiles z{zlo}-{zhi}, "
          f"sequential latency; throughput with {args.threads} client threads ==")
    head = f"{'method':<7}{'band':<8}{'tiles':>6}{'p50 ms':>9}{'p95 ms':>9}{'mean KB':>9}" \
           f"{'feat/tile':>10}{'empty':>6}{'tiles/s':>9}"
    print(head)
    print("-" * len(head))
    for name in ("raw", "app", "tipg"):
        for band in ("z8-12", "z13-18", "all"):
            s = seq[name][band]
            tput = f"{conc[name]:>9.1f}" if band == "all" else f"{'':>9}"
            print(f"{name:<7}{band:<8}{s['n']:>6}{s['p50']:>9.1f}{s['p95']:>9.1f}{s['kb']:>9.1f}"
                  f"{s['feat']:>10.0f}{s['empty']:>6}{tput}")
    print()
    print("ratios (>1 = slower than the second)")
    cols = [(b, q) for b in ("z8-12", "z13-18", "all") for q in ("p50", "p95")]
    print(f"{'':<10}" + "".join(f"{q + ' ' + b:>13}" for b, q in cols) + f"{'tiles/s':>10}")
    for a, b in (("app", "raw"), ("tipg", "raw"), ("app", "tipg")):
        row = "".join(f"{seq[a][band][q] / seq[b][band][q]:>13.2f}" for band, q in cols)
        print(f"{a + '/' + b:<10}{row}{conc[b] / conc[a]:>10.2f}")
    print("  (tiles/s column: throughput of the second / throughput of the first, so >1 = first is slower)")
    print()
    print("per zoom: p50 ms (sequential) and mean features per tile")
    print(f"{'zoom':<6}{'tiles':>6}" + "".join(f"{n + ' ms':>10}" for n in ("raw", "app", "tipg"))
          + "".join(f"{n + ' feat':>11}" for n in ("raw", "app", "tipg")))
    for z in range(zlo, zhi + 1):
        feats = {n: statistics.mean(v for k, v in features[n].items() if k[0] == z)
                 for n in ("raw", "app", "tipg")}
        print(f"z{z:<5}{per_zoom[z]:>6}" + "".join(f"{zoom_p50[n][z]:>10.1f}" for n in ("raw", "app", "tipg"))
              + "".join(f"{feats[n]:>11.0f}" for n in ("raw", "app", "tipg")))
    print()
    print("methods:")
    for name in ("raw", "app", "tipg"):
        print(f"  {name:<5} {labels[name]}")
    print("notes:")
    print("  - raw and app run the same SQL as role zhengtu_app under row-level security (region 44);")
    print("    tipg connects as the database owner, so RLS is not involved for it.")
    print(f"  - z{LOW_BAND[0]}-{LOW_BAND[1]}: the app aggregates from the precomputed entity_cells pyramid "
          "(<= 64x64 cells/tile);")
    print(f"    tipg has no pyramid and returns up to {FEATURE_LIMIT:,} raw points per tile "
          "(TIPG_MAX_FEATURES_PER_TILE), ordered by id.")
    print(f"  - z{HIGH_BAND[0]}-{HIGH_BAND[1]}: both return raw points capped at {FEATURE_LIMIT:,}; tipg "
          "carries 7 attributes (no category_name join), buffer 64 like the app.")
    print("  - HTTP requests send Accept-Encoding: identity (no gzip), keep-alive, 127.0.0.1 only.")
    for m in methods:
        if isinstance(m, HttpMethod) and (m.retries or m.server.restarts):
            print(f"  - {m.name}: {m.retries} dropped connections retried, server restarted "
                  f"{m.server.restarts} time(s) (killed from outside?) -- see its log")
    print(f"  - 1-min load average at the end: {load()} on {os.cpu_count()} CPUs "
          "(anything else running on the machine skews every column)")
    print(f"  - server logs: {OUT}/tile_compare_*.log; total run {time.perf_counter() - started:.0f} s")
    print(f"  - {DB_NAME} is kept for re-runs; drop it with: psql \"$(.venv/bin/zhengtu db url)\" "
          f"-c 'DROP DATABASE {DB_NAME} WITH (FORCE)'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
