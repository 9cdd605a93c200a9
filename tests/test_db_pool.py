"""The connection pool: a burst larger than the pool waits its turn instead of failing."""

from __future__ import annotations

import threading
import time

from geo.db import Database


def test_burst_larger_than_the_pool_waits(db_url):
    database = Database(db_url, maxconn=2)
    results, errors = [], []

    def work():
        try:
            with database.connection({"region": "44"}) as conn, conn.cursor() as cur:
                cur.execute("SELECT pg_sleep(0.2), count(*) FROM admin_areas")
                results.append(cur.fetchone()[1])
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    started = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    database.close()
    assert errors == [] and len(results) == 6
    assert time.perf_counter() - started >= 0.55  # 6 jobs of 0.2 s through 2 connections
