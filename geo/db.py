"""The one owner of database connections: pool, per-use connection, transactions.

Every connection gets the same session settings (statement timeout, application name, time zone),
so a slow query cannot hang a worker and logs show which part of Zhengtu asked. The web app's pool
runs as ``zhengtu_app`` (``APP_ROLE``), which owns nothing and is bound by row-level security: each
borrowed connection gets the caller's region, user and role as transaction-local settings, so a
query that forgets a WHERE clause still sees only the caller's jurisdiction.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import psycopg2.extensions
import psycopg2.pool

from geo.cluster import EmbeddedCluster
from geo.errors import SetupError
from geo.settings import Settings


def resolve_url(settings: Settings, *, start: bool = False) -> str:
    """The database URL: ``DATABASE_URL`` if set, else the embedded cluster's (started if asked)."""
    if settings.database_url:
        return settings.database_url
    cluster = EmbeddedCluster(settings.home)
    return cluster.start() if start else cluster.url()


APP_ROLE = "zhengtu_app"
WAIT_SECONDS = 30  # how long a request waits for a free connection before a 503
SET_CONTEXT = "SELECT set_config('zhengtu.' || key, value, true) FROM json_each_text(%s::json)"


class Database:
    """A thread-safe pool of connections to one PostGIS database."""

    def __init__(self, url: str, *, maxconn: int = 8, statement_timeout_ms: int = 30_000,
                 application_name: str = "zhengtu", role: str | None = APP_ROLE) -> None:
        self.url = url
        options = (f"-c statement_timeout={int(statement_timeout_ms)} "
                   f"-c application_name={application_name} -c timezone=Asia/Shanghai")
        if role:
            options += f" -c role={role}"
        self._pool = psycopg2.pool.ThreadedConnectionPool(1, maxconn, url, options=options)
        # psycopg2's pool raises when empty; a burst of tile requests should wait its turn instead
        self._slots = threading.BoundedSemaphore(maxconn)

    @classmethod
    def from_settings(cls, settings: Settings, *, start: bool = False) -> Database:
        """Open the app's pool: its own login if configured, else the owner's URL as ``APP_ROLE``."""
        if settings.app_database_url:
            return cls(settings.app_database_url, maxconn=settings.pool_max,
                       statement_timeout_ms=settings.statement_timeout_ms, role=None)
        return cls(resolve_url(settings, start=start), maxconn=settings.pool_max,
                   statement_timeout_ms=settings.statement_timeout_ms)

    @contextmanager
    def connection(self, context: dict[str, str] | None = None
                   ) -> Iterator[psycopg2.extensions.connection]:
        """Borrow a connection for one transaction; commit on success, roll back on error.

        ``context`` (region, user, role, ip…) becomes transaction-local ``zhengtu.*`` settings, read
        by the row-level security policies and the audit triggers; they vanish at commit.
        """
        if not self._slots.acquire(timeout=WAIT_SECONDS):
            raise SetupError("数据库连接繁忙，请稍后重试 / all database connections are busy")
        try:
            conn = self._pool.getconn()
            try:
                with conn.cursor() as cur:
                    cur.execute(SET_CONTEXT, (json.dumps(context or {}),))
                yield conn
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
            finally:
                self._pool.putconn(conn, close=conn.closed != 0)
        finally:
            self._slots.release()

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.closeall()


def connect(url: str) -> psycopg2.extensions.connection:
    """A single connection for command-line work (migrations, loads) outside the pool."""
    return psycopg2.connect(url, options="-c timezone=Asia/Shanghai")
