"""The embedded PostGIS cluster: the product's own PostgreSQL when no ``DATABASE_URL`` is given.

Why a private cluster: a new user runs one command and gets a working product, without touching the
machine's system PostgreSQL. PostgreSQL refuses to run as root, so when we are root the cluster is
owned and run by an unprivileged account (``postgres`` if the package created it, else ``zhengtu``).
"""

from __future__ import annotations

import json
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from geo.errors import SetupError

DB_USER = "zhengtu"
DB_NAME = "zhengtu"
SERVER_SETTINGS = """
# --- written by zhengtu (geo/cluster.py) ---
listen_addresses = '127.0.0.1'
shared_buffers = '512MB'
work_mem = '64MB'
maintenance_work_mem = '512MB'
max_wal_size = '4GB'
effective_cache_size = '4GB'
max_connections = 200
timezone = 'Asia/Shanghai'
log_timezone = 'Asia/Shanghai'
"""


def _find_bindir() -> Path:
    """Locate ``initdb``/``pg_ctl``: $ZHENGTU_PG_BINDIR, Debian's newest version folder, or PATH."""
    env = os.environ.get("ZHENGTU_PG_BINDIR")
    candidates = [Path(env)] if env else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    which = shutil.which("initdb")
    if which:
        candidates.append(Path(which).resolve().parent)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    raise SetupError(
        "找不到 PostgreSQL（initdb/pg_ctl）。PostgreSQL is not installed: "
        "run `apt-get install postgresql-15 postgresql-15-postgis-3` (or `make setup`)."
    )


def _major_version(bindir: Path) -> str:
    out = subprocess.run([str(bindir / "pg_ctl"), "--version"], capture_output=True, text=True)
    match = re.search(r"(\d+)(?:\.\d+)?", out.stdout)
    return match.group(1) if match else "15"


def check_postgis(bindir: Path) -> None:
    """Fail with one clear message (and the install command) if PostGIS is missing."""
    major = _major_version(bindir)
    sharedirs = [bindir.parent.parent.parent.parent / "share/postgresql" / major / "extension",
                 Path("/usr/share/postgresql") / major / "extension"]
    if not any((d / "postgis.control").exists() for d in sharedirs):
        raise SetupError(
            f"PostGIS 未安装（PostgreSQL {major}）。PostGIS is not installed for PostgreSQL {major}: "
            f"run `apt-get install postgresql-{major}-postgis-3` (or `make setup`)."
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class RunAs:
    """The OS account the cluster runs under (ourselves unless we are root)."""

    uid: int
    gid: int
    name: str

    @classmethod
    def for_cluster(cls) -> RunAs:
        """Pick the account: the current one, or an unprivileged one when running as root."""
        if os.geteuid() != 0:
            me = pwd.getpwuid(os.geteuid())
            return cls(me.pw_uid, me.pw_gid, me.pw_name)
        for name in ("postgres", "zhengtu"):
            try:
                entry = pwd.getpwnam(name)
                return cls(entry.pw_uid, entry.pw_gid, name)
            except KeyError:
                continue
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        "zhengtu"], check=True)
        entry = pwd.getpwnam("zhengtu")
        return cls(entry.pw_uid, entry.pw_gid, "zhengtu")

    def can_traverse(self, path: Path) -> bool:
        """Whether this account can reach ``path`` (a cluster under /root would not be)."""
        if self.uid == os.geteuid():
            return True
        probe = subprocess.run(["test", "-x", str(path)], user=self.uid, group=self.gid,
                               extra_groups=[], capture_output=True)
        return probe.returncode == 0


class EmbeddedCluster:
    """A PostgreSQL + PostGIS cluster in a folder of the project."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.run_as = RunAs.for_cluster()
        self.root = self._choose_root(home)
        self.pgdata = self.root / "pgdata"
        self.sockdir = self.root / "run"
        self.logfile = self.root / "postgres.log"
        self.state_file = self.root / "cluster.json"

    def _choose_root(self, home: Path) -> Path:
        """Use ``home/pg`` unless the cluster's account cannot reach it; then a /var/lib folder."""
        home.mkdir(parents=True, exist_ok=True)
        if self.run_as.can_traverse(home):
            return home / "pg"
        fallback = Path("/var/lib/zhengtu") / home.resolve().as_posix().strip("/").replace("/", "_")
        (home / "pg-location").write_text(str(fallback))
        return fallback

    # --- state ---------------------------------------------------------------------------
    def _state(self) -> dict:
        return json.loads(self.state_file.read_text()) if self.state_file.exists() else {}

    def _save_state(self, state: dict) -> None:
        self.state_file.write_text(json.dumps(state, indent=2))
        self.state_file.chmod(0o600)

    def initialised(self) -> bool:
        """True once initdb has run and the connection state is recorded."""
        return (self.pgdata / "PG_VERSION").exists() and self.state_file.exists()

    def url(self, dbname: str = DB_NAME) -> str:
        """A libpq URL that psycopg2 and ``psql`` both accept."""
        state = self._state()
        if not state:
            raise SetupError("嵌入式数据库尚未初始化 / the embedded cluster is not initialised: "
                             "run `zhengtu db start`.")
        return (f"postgresql://{DB_USER}:{quote(state['password'], safe='')}@127.0.0.1:"
                f"{state['port']}/{dbname}")

    # --- commands ------------------------------------------------------------------------
    def _run(self, args: list[str]) -> subprocess.CompletedProcess:
        """Run a PostgreSQL program as the cluster's account."""
        as_other = self.run_as.uid != os.geteuid()
        return subprocess.run(args, user=self.run_as.uid if as_other else None,
                              group=self.run_as.gid if as_other else None,
                              extra_groups=[] if as_other else None,
                              capture_output=True, text=True, check=False, cwd=self.root,
                              env={**os.environ, "LC_ALL": "C.UTF-8"})

    def _checked(self, args: list[str]) -> subprocess.CompletedProcess:
        done = self._run(args)
        if done.returncode != 0:
            raise SetupError(f"`{Path(args[0]).name}` failed: {done.stderr.strip() or done.stdout}")
        return done

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            os.chown(path, self.run_as.uid, self.run_as.gid)

    def init(self) -> None:
        """Create the cluster once: initdb with a generated password, our settings, a port."""
        bindir = _find_bindir()
        check_postgis(bindir)
        if self.initialised():
            return
        for folder in (self.root, self.sockdir):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._chown(folder)
        if self.pgdata.exists():  # a half-finished earlier initdb
            shutil.rmtree(self.pgdata)
        password = secrets.token_urlsafe(24)
        pwfile = self.root / "pwfile"
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        self._chown(pwfile)
        try:
            self._checked([str(bindir / "initdb"), "-D", str(self.pgdata), "-U", DB_USER,
                           "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8",
                           "--locale=C.UTF-8"])
        finally:
            pwfile.unlink(missing_ok=True)
        with open(self.pgdata / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(SERVER_SETTINGS)
        self._save_state({"port": _free_port(), "password": password, "user": DB_USER})

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(_find_bindir() / "pg_ctl"), "-D", str(self.pgdata), *args]
        return self._checked(cmd) if check else self._run(cmd)

    def running(self) -> bool:
        """Whether the cluster's postmaster is up (``pg_ctl status`` exit 0)."""
        return self.initialised() and self._pg_ctl("status", check=False).returncode == 0

    def recover_stale_pid(self) -> bool:
        """Remove a postmaster.pid left by a crash, so the next start does not refuse."""
        pidfile = self.pgdata / "postmaster.pid"
        if not pidfile.exists():
            return False
        try:
            pid = int(pidfile.read_text().splitlines()[0])
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            alive = comm.startswith("postgres")
        except (ValueError, IndexError, OSError):
            alive = False
        if not alive:
            pidfile.unlink()
        return not alive

    def start(self) -> str:
        """Initialise if needed and start; returns the connection URL."""
        self.init()
        if not self.running():
            self._launch()
        self._ensure_database()
        return self.url()

    def _launch(self) -> None:
        self.recover_stale_pid()
        state = self._state()
        if _port_in_use(state["port"]):
            state["port"] = _free_port()
            self._save_state(state)
        socket_dir = str(self.sockdir) if len(str(self.sockdir)) < 90 else ""
        options = f"-p {state['port']} -c unix_socket_directories='{socket_dir}'"
        self._pg_ctl("start", "-w", "-t", "120", "-l", str(self.logfile), "-o", options)

    def _ensure_database(self) -> None:
        import psycopg2  # local import: keeps `zhengtu db status` fast
        from psycopg2 import sql

        conn = psycopg2.connect(self.url("postgres"))
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,))
                if cur.fetchone() is None:
                    cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
        finally:
            conn.close()

    def stop(self) -> None:
        """Stop the cluster if it runs (fast shutdown: rolls back open transactions)."""
        if self.running():
            self._pg_ctl("stop", "-m", "fast", "-w")

    def status(self) -> str:
        """One line for humans: running or not, where, and on which port."""
        if not self.initialised():
            return f"未初始化 not initialised ({self.root})"
        state = self._state()
        word = "运行中 running" if self.running() else "已停止 stopped"
        return f"{word}: {self.pgdata} port {state['port']}"
