"""The embedded PostGIS manager: a real private cluster started, crashed, recovered and stopped."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from contextlib import closing
from pathlib import Path

import psycopg2
import pytest

from geo.cluster import EmbeddedCluster, check_postgis
from geo.errors import SetupError


@pytest.fixture
def cluster(tmp_path):
    c = EmbeddedCluster(tmp_path / "home")
    yield c
    c.stop()
    if not c.root.is_relative_to(tmp_path):  # the /var/lib fallback for unreachable homes
        shutil.rmtree(c.root, ignore_errors=True)


def test_start_gives_a_url_psycopg2_and_psql_accept(cluster):
    url = cluster.start()
    with closing(psycopg2.connect(url)) as conn, conn.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        cur.execute("SELECT postgis_lib_version(), current_setting('listen_addresses')")
        version, listen = cur.fetchone()
    assert version.startswith("3.") and listen == "127.0.0.1"
    out = subprocess.run(["psql", url, "-Atc", "SELECT current_user"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "zhengtu"
    assert "running" in cluster.status()
    assert cluster.start() == url  # starting twice is harmless


def test_runs_as_an_unprivileged_user(cluster):
    cluster.start()
    owner = (cluster.pgdata / "PG_VERSION").stat().st_uid
    assert owner == cluster.run_as.uid
    if os.geteuid() == 0:
        assert owner != 0


def test_stale_pid_after_a_crash_is_recovered(cluster):
    url = cluster.start()
    pid = int((cluster.pgdata / "postmaster.pid").read_text().splitlines()[0])
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.05)
    assert (cluster.pgdata / "postmaster.pid").exists()  # the crash left its pid file behind
    assert cluster.start() == url
    with closing(psycopg2.connect(url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)


def test_stop_then_status(cluster):
    cluster.start()
    cluster.stop()
    assert "stopped" in cluster.status()
    assert not cluster.running()


def test_missing_postgis_names_the_install_command(tmp_path):
    bindir = tmp_path / "lib/postgresql/99/bin"
    bindir.mkdir(parents=True)
    pg_ctl = bindir / "pg_ctl"
    pg_ctl.write_text("#!/bin/sh\necho 'pg_ctl (PostgreSQL) 99.1'\n")
    pg_ctl.chmod(0o755)
    with pytest.raises(SetupError, match="apt-get install postgresql-99-postgis-3"):
        check_postgis(bindir)
