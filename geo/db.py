"""The one owner of database connections: pool, per-use connection, transactions.

Every connection gets the same session settings (statement timeout, application name, time zone),
so a slow query cannot hang a worker and logs show which part of Zhengtu asked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import psycopg2.extensions
import psycopg2.pool

from geo.cluster import EmbeddedCluster
from geo.settings import Settings


def resolve_url(settings: Settings, *, start: bool = False) -> str:
    """The database URL: ``DATABASE_URL`` if set, else the embedded cluster's (started if asked)."""
    if settings.database_url:
        return settings.database_url
    cluster = EmbeddedCluster(settings.home)
    return cluster.start() if start else cluster.url()


class Database:
    """A thread-safe pool of connections to one PostGIS database."""

    def __init__(self, url: str, *, maxconn: int = 8, statement_timeout_ms: int = 30_000,
                 application_name: str = "zhengtu") -> None:
        self.url = url
        self._options = (f"-c statement_timeout={int(statement_timeout_ms)} "
                         f"-c application_name={application_name} -c timezone=Asia/Shanghai")
        self._pool = psycopg2.pool.ThreadedConnectionPool(1, maxconn, url, options=self._options)

    @classmethod
    def from_settings(cls, settings: Settings, *, start: bool = False) -> Database:
        """Open the pool for the configured (or embedded) database."""
        return cls(resolve_url(settings, start=start), maxconn=settings.pool_max,
                   statement_timeout_ms=settings.statement_timeout_ms)

    @contextmanager
    def connection(self) -> Iterator[psycopg2.extensions.connection]:
        """Borrow a connection; commit on success, roll back on error, always return it."""
        conn = self._pool.getconn()
        try:
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            self._pool.putconn(conn, close=conn.closed != 0)

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.closeall()


def connect(url: str) -> psycopg2.extensions.connection:
    """A single connection for command-line work (migrations, loads) outside the pool."""
    return psycopg2.connect(url, options="-c timezone=Asia/Shanghai")
