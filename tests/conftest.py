"""Test fixtures: a fresh PostGIS database per test session, the app, and a live HTTP server.

The database lives in the embedded cluster (or on ``DATABASE_URL``'s server): created, migrated,
loaded with Guangdong's real boundaries and a small seeded demo set, and dropped at the end.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import closing

import psycopg2
import psycopg2.extensions
import pytest
from psycopg2 import sql
from werkzeug.serving import make_server

from accounts.users import add_user, issue_token
from dashboard.app import create_app
from dashboard.provision import ensure_boundaries, migrate, seed
from geo.db import Database, connect, resolve_url
from geo.settings import Settings
from tests.browser import TEST_PASSWORD, chromium

TEST_ENTITIES = 4000
TEST_SEED = 7
PASSWORD = TEST_PASSWORD  # test-only accounts in a throwaway database
ACCOUNTS = [  # one per role, plus a second inspector in another district
    ("insp_tianhe", "inspector", "440106"), ("insp_yuexiu", "inspector", "440104"),
    ("t_reviewer_gz", "legal_reviewer", "4401"), ("t_operator_gz", "operator", "4401"),
    ("manager_sz", "manager", "4403"), ("t_admin_gd", "admin", "44"),
]
BY_ROLE = {"inspector": "insp_tianhe", "legal_reviewer": "t_reviewer_gz", "operator": "t_operator_gz",
           "manager": "manager_sz", "admin": "t_admin_gd"}


def _admin(url: str) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(psycopg2.extensions.make_dsn(url, dbname="postgres"))
    conn.autocommit = True
    return conn


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    return Settings.from_env()


@pytest.fixture(scope="session")
def db_url(base_settings: Settings) -> Iterator[str]:
    """URL of a brand-new database, prepared like `zhengtu demo` does, dropped afterwards."""
    server_url = resolve_url(base_settings, start=True)
    name = f"zhengtu_test_{os.getpid()}_{secrets.token_hex(3)}"
    with closing(_admin(server_url)) as admin, admin.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg2.extensions.make_dsn(server_url, dbname=name)
    try:
        with closing(connect(url)) as conn:
            migrate(conn)
            ensure_boundaries(conn, "44")
            seed(conn, TEST_ENTITIES, TEST_SEED, progress=False)
            with conn:
                for username, role, region in ACCOUNTS:
                    add_user(conn, username, role, region, PASSWORD)
        yield url
    finally:
        with closing(_admin(server_url)) as admin, admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg2.extensions.connection]:
    """A connection whose changes are rolled back after the test."""
    connection = connect(db_url)
    try:
        yield connection
    finally:
        connection.rollback()
        connection.close()


# A GCJ-02 base map on a loopback port where nothing listens: tiles fail fast, offline as in CI.
TEST_BASEMAPS = ({"id": "amap", "name": "高德（测试）", "url": "http://127.0.0.1:9/{z}/{x}/{y}.png",
                  "crs": "gcj02"},)


@pytest.fixture(scope="session")
def settings(db_url: str, base_settings: Settings, tmp_path_factory) -> Settings:
    return Settings(database_url=db_url, home=base_settings.home, basemaps=TEST_BASEMAPS,
                    evidence_root=tmp_path_factory.mktemp("evidence"))


@pytest.fixture(scope="session")
def app(settings: Settings):
    database = Database.from_settings(settings)
    dash_app = create_app(settings, database)
    yield dash_app
    database.close()


@pytest.fixture
def client(app):
    return app.server.test_client()


@pytest.fixture(scope="session")
def tokens(db_url) -> dict[str, str]:
    """An API token per test account, keyed by user name."""
    with closing(connect(db_url)) as conn, conn:
        return {name: issue_token(conn, name) for name, _, _ in ACCOUNTS}


def bearer(tokens: dict[str, str], username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[username]}"}


def login(client, username: str, password: str = PASSWORD):
    """Log a Flask test client in through the real form (CSRF double-submit included)."""
    client.get("/login")
    csrf = client.get_cookie("_csrf_token").value
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf, "next": "/"})
    return response


@pytest.fixture(scope="session")
def live_url(app) -> Iterator[str]:
    """The app served over real HTTP on a free loopback port, in a background thread."""
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def driver():
    """A fresh headless Chromium per test (its own empty profile)."""
    browser = chromium(1280, 800)
    browser.set_script_timeout(60)
    yield browser
    browser.quit()


@pytest.fixture(scope="session", autouse=True)
def seeded_evidence(db_url: str, settings: Settings) -> int:
    """One real photo recorded through the intake, so every layer (evidence locations too) has rows."""
    import io
    import uuid
    from datetime import date, timedelta

    from accounts.roles import ADMIN, Principal
    from enforcement.evidence import Intake, parse_upload, record_evidence
    from enforcement.field import create_task
    from tests.helpers import PHOTOS

    photo = PHOTOS / "DSCN0010.jpg"
    data = photo.read_bytes()
    inspector = Principal("insp_tianhe", "inspector", "440106")
    with closing(connect(db_url)) as conn, conn:
        with conn.cursor() as cur:
            cur.execute("SELECT min(id) FROM entities WHERE district_adcode = '440106'")
            entity = cur.fetchone()[0]
        task = create_task(conn, Principal("seed", ADMIN, "44"), {
            "entity_id": entity, "assignees": ["insp_tianhe"], "kind": "routine",
            "due": (date.today() + timedelta(days=3)).isoformat()})
        upload = parse_upload(str(uuid.uuid4()), {
            "kind": "photo", "task_id": str(task), "sha256": hashlib.sha256(data).hexdigest(),
            "lon": "113.33", "lat": "23.135", "accuracy_m": "10",
            "captured_at": "2026-11-25T09:30:00+08:00"})
        receipt, _ = record_evidence(conn, inspector, upload, io.BytesIO(data),
                                     Intake(settings.evidence_dir, settings.evidence_max_bytes))
    return receipt["id"]
