"""Benchmark: generate and COPY N demo entities (default 1,000,000) and build the tile pyramid.

Runs in its own database on the embedded cluster (or DATABASE_URL's server), which it drops after.
Prints figures, not assertions: speed targets live here, not in unit tests.
Usage: .venv/bin/python bench/load_entities.py [N]
"""

from __future__ import annotations

import sys
import time
from contextlib import closing

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from dashboard.provision import ensure_boundaries, migrate
from data.demo import generate_demo
from geo.db import connect, resolve_url
from geo.settings import Settings
from layers.cells import rebuild_entity_cells

NAME = "zhengtu_bench_load"


def admin(url: str) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(psycopg2.extensions.make_dsn(url, dbname="postgres"))
    conn.autocommit = True
    return conn


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    server = resolve_url(Settings.from_env(), start=True)
    with closing(admin(server)) as a, a.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(NAME)))
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(NAME)))
    url = psycopg2.extensions.make_dsn(server, dbname=NAME)
    try:
        with closing(connect(url)) as conn:
            migrate(conn)
            ensure_boundaries(conn)
            t0 = time.perf_counter()
            generate_demo(conn, entities=n, seed=1)
            t1 = time.perf_counter()
            cells = rebuild_entity_cells(conn)
            t2 = time.perf_counter()
        print(f"entities generated + COPY loaded: {n:,} in {t1 - t0:.1f} s "
              f"({n / (t1 - t0):,.0f} rows/s)")
        print(f"tile pyramid (entity_cells z0-12): {cells:,} rows in {t2 - t1:.1f} s")
    finally:
        with closing(admin(server)) as a, a.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(NAME)))


if __name__ == "__main__":
    main()
