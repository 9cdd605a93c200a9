"""The ``zhengtu`` command as a user runs it: db url/status, and `serve` under gunicorn workers."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ZHENGTU = [sys.executable, "-m", "dashboard.cli"]
ROOT = Path(__file__).resolve().parents[1]


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(ZHENGTU + args, capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, timeout=120)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_db_url_is_accepted_by_psql(base_settings):
    if base_settings.database_url:
        url = base_settings.database_url
    else:
        done = run(["db", "url"])
        assert done.returncode == 0, done.stderr
        url = done.stdout.strip()
    assert url.startswith("postgresql://")
    out = subprocess.run(["psql", url, "-Atc", "SELECT extname FROM pg_extension "
                          "WHERE extname = 'plpgsql'"], capture_output=True, text=True)
    assert out.stdout.strip() == "plpgsql", out.stderr


def test_db_status_reports_running(base_settings):
    done = run(["db", "status"])
    assert done.returncode == 0
    assert "running" in done.stdout or "DATABASE_URL" in done.stdout


def test_serve_answers_with_every_script_on_every_worker(db_url):
    port = free_port()
    proc = subprocess.Popen(ZHENGTU + ["serve", "--port", str(port), "--workers", "2"], cwd=ROOT,
                            env={**os.environ, "DATABASE_URL": db_url},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):  # workers import every page first: slow on a busy 2-core machine
            try:
                if requests.get(base + "/", timeout=10).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)
        page = requests.get(base + "/", timeout=30).text
        scripts = re.findall(r'src="([^"]+)"', page)
        assert len(scripts) >= 5
        # fresh connections, so requests spread over both workers
        statuses = {s: [requests.get(base + s, timeout=30, headers={"Connection": "close"}).status_code
                        for _ in range(6)] for s in scripts}
        assert all(code == 200 for codes in statuses.values() for code in codes), statuses
        locate = requests.get(base + "/api/locate?lon=113.3190&lat=23.1350", timeout=30).json()
        assert locate["district"]["name"] == "天河区"
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    assert f"http://127.0.0.1:{port}/" in output


def test_serve_refuses_an_unprepared_database(db_url):
    import psycopg2
    import psycopg2.extensions

    admin_url = psycopg2.extensions.make_dsn(db_url, dbname="postgres")
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS zhengtu_test_empty")
        cur.execute("CREATE DATABASE zhengtu_test_empty")
    try:
        empty = psycopg2.extensions.make_dsn(db_url, dbname="zhengtu_test_empty")
        done = run(["serve", "--port", str(free_port())], env={"DATABASE_URL": empty})
        assert done.returncode == 2
        assert "数据库尚未准备" in done.stderr
    finally:
        with conn.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS zhengtu_test_empty")
        conn.close()
