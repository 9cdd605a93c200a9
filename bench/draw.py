"""Benchmark: a 双随机 draw over a city-sized register (default 4,000,000 entities).

Default: a real database. It creates ``zhengtu_bench_draw`` on the embedded cluster (or DATABASE_URL's
server), loads Guangdong's boundaries and N demo entities (COPY, ~1.5 min for 4 M) plus 10 officers a
district, then times one plan over all of them (ratios A=0.05,B=0.03,C=0.02,D=0.01): reading the
register snapshot, the pure draw, hashing and compressing the snapshot, the whole ``run_draw`` (with
the inspection tasks, their first chain links and the result rows), and ``verify_draw``. The database
is kept for a rerun (``--fresh`` rebuilds it, ``--drop`` removes it afterwards).

``--synthetic``: the pure draw only, on numpy arrays of N entities (no database).
Prints figures, asserts nothing. Usage: .venv/bin/python bench/draw.py [N] [--synthetic] [--fresh] [--drop]
"""

from __future__ import annotations

import sys
import time
from contextlib import closing

import numpy as np
import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from enforcement.draw_core import PlanSpec, Register, compute_draw, parse_ratios

NAME = "zhengtu_bench_draw"
RATIOS = "A=0.05,B=0.03,C=0.02,D=0.01"
SEED = bytes(range(32))


def stopwatch(label: str, fn, *args, **kwargs):
    """Run ``fn`` once, print how long it took, return its value."""
    started = time.perf_counter()
    value = fn(*args, **kwargs)
    print(f"  {label:<58} {time.perf_counter() - started:8.2f} s", flush=True)
    return value


def synthetic(n: int) -> None:
    """The pure draw on arrays shaped like a city of 11 districts, 40 officers in each."""
    rng = np.random.default_rng(1)
    alphabet = np.frombuffer(b"0123456789ABCDEFGHJKLMNPQRTUWXY", dtype="S1")
    tail = alphabet[rng.integers(0, len(alphabet), (n, 10))].view("S10").ravel()
    districts = np.array([f"4401{d:02d}" for d in (3, 4, 5, 6, 11, 12, 13, 14, 15, 17, 18)])
    where = rng.choice(districts, n)
    uscc = np.char.add(np.char.add(b"91", np.char.encode(where)), tail)
    register = Register.build(
        (np.arange(1, n + 1), uscc, where, rng.choice(["food", "catering", "retail", "drugs"], n),
         rng.choice(list("ABCD"), n, p=[.40, .35, .18, .07])),
        (np.arange(1, 40 * len(districts) + 1), np.array(["市场监督管理局"] * 40 * len(districts)),
         np.repeat(districts, 40)), ([], []), ([], []))
    plan = PlanSpec(1, "4401", None, (), parse_ratios(RATIOS))
    print(f"synthetic register: {n:,} entities, {40 * len(districts)} officers (no database)")
    rows = stopwatch("pure draw (keys, selection, officers)", compute_draw, [plan], register, SEED)
    stopwatch("register hash (SHA-256 of the canonical snapshot)", register.digest)
    blob = stopwatch("snapshot compressed for storage", register.to_bytes)
    print(f"  -> {len(rows):,} tasks drawn; snapshot {len(blob) / 1e6:.1f} MB")


def admin(url: str) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(psycopg2.extensions.make_dsn(url, dbname="postgres"))
    conn.autocommit = True
    return conn


def database(n: int, fresh: bool, drop: bool) -> None:
    """The draw as the product runs it, against PostgreSQL with N entities."""
    from dashboard.provision import ensure_boundaries, migrate
    from data.demo import generate_demo
    from enforcement import draws
    from geo.db import connect, resolve_url
    from geo.meta import get_meta
    from geo.settings import Settings

    server = resolve_url(Settings.from_env(), start=True)
    with closing(admin(server)) as a, a.cursor() as cur:
        if fresh:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(NAME)))
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (NAME,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(NAME)))
    url = psycopg2.extensions.make_dsn(server, dbname=NAME)
    try:
        with closing(connect(url)) as conn:
            migrate(conn)
            ensure_boundaries(conn)
            if get_meta(conn, "demo") != {"entities": n, "seed": 1}:
                stopwatch(f"load {n:,} demo entities (once)", generate_demo, conn, entities=n, seed=1,
                          progress=False)
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM entities")
                entities = cur.fetchone()[0]
                cur.execute("SELECT count(*) FROM officers")
                officers = cur.fetchone()[0]
            print(f"database {NAME}: {entities:,} entities, {officers:,} officers; plan region 44, {RATIOS}")
            specs = [PlanSpec(0, "44", None, (), parse_ratios(RATIOS))]
            register = stopwatch("read the register snapshot (COPY → numpy)", draws.load_register, conn, "44",
                                 specs)
            rows = stopwatch("pure draw (keys, selection, officers)", compute_draw, specs, register, SEED)
            stopwatch("register hash (SHA-256 of the canonical snapshot)", register.digest)
            blob = stopwatch("snapshot compressed for storage", register.to_bytes)
            print(f"  -> {len(rows):,} tasks; snapshot {len(blob) / 1e6:.1f} MB")
            conn.rollback()
            with conn:
                plan = draws.create_plan(conn, "bench", name="基准：全省双随机抽查", region="44", ratios=RATIOS)
            started = time.perf_counter()
            with conn:
                with conn.cursor() as cur:  # the owner draws within the plan's jurisdiction, as the CLI does
                    cur.execute("SELECT set_config('zhengtu.region', '44', true)")
                outcome = draws.run_draw(conn, plan["id"], "bench")
            total = time.perf_counter() - started
            print(f"  {'whole run_draw (snapshot, draw, tasks, chain links, rows)':<58} {total:8.2f} s")
            problems = stopwatch("verify_draw (recompute and compare)", draws.verify_draw, conn, plan["id"])
            print(f"  -> plan {plan['id']}: {outcome.rows:,} tasks from {outcome.entities:,} entities; "
                  f"verify {'OK' if not problems else problems[0]}")
    finally:
        if drop:
            with closing(admin(server)) as a, a.cursor() as cur:
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(NAME)))


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 4_000_000
    if "--synthetic" in sys.argv:
        synthetic(n)
    else:
        database(n, "--fresh" in sys.argv, "--drop" in sys.argv)


if __name__ == "__main__":
    main()
