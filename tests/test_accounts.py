"""Accounts and sessions: login form, cookies, CSRF, lockout, expiry, logout, disabling, CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from accounts.passwords import hash_password, verify_password
from accounts.users import MAX_FAILED_LOGINS, add_user
from geo.db import connect
from tests.conftest import PASSWORD, login
from tests.helpers import audit_search_request, entity_in, one

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fresh_user(db_url):
    """A throwaway account, so lockout tests do not lock the shared ones."""
    name = f"tmp_{os.urandom(3).hex()}"
    with closing(connect(db_url)) as conn, conn:
        add_user(conn, name, "inspector", "440106", PASSWORD)
    yield name
    with closing(connect(db_url)) as conn, conn, conn.cursor() as cur:
        cur.execute("DELETE FROM users WHERE username = %s", (name,))


def test_passwords_are_argon2_and_checked():
    stored = hash_password("a long enough password")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "a long enough password")
    assert not verify_password(stored, "another password!")
    with pytest.raises(ValueError, match="至少"):
        hash_password("short")


def test_login_sets_secure_session_cookies(app):
    client = app.server.test_client()
    response = login(client, "insp_tianhe")
    assert response.status_code == 303
    cookies = response.headers.getlist("Set-Cookie")
    session = next(c for c in cookies if c.startswith("zt_session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session
    csrf = next(c for c in cookies if c.startswith("_csrf_token="))
    assert "SameSite=Strict" in csrf and "HttpOnly" not in csrf
    assert one_token_stored_as_hash(app, session.split(";")[0].split("=", 1)[1])


def one_token_stored_as_hash(app, token: str) -> bool:
    from accounts.passwords import token_hash

    with app.server.extensions["zhengtu_db"].connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM sessions WHERE token_hash = %s", (token_hash(token),))
        hashed = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM sessions WHERE token_hash = %s", (token,))
        return hashed == 1 and cur.fetchone()[0] == 0


def test_wrong_password_and_unknown_user_look_the_same(app):
    client = app.server.test_client()
    wrong = login(client, "insp_tianhe", "not the password")
    unknown = login(client, "nobody_here", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码错误" in wrong.get_data(as_text=True)
    assert "用户名或密码错误" in unknown.get_data(as_text=True)


def test_login_without_csrf_is_rejected(app):
    client = app.server.test_client()
    response = client.post("/login", data={"username": "insp_tianhe", "password": PASSWORD})
    assert response.status_code == 403
    assert "CSRF" in response.get_json()["error"]


def test_session_post_without_csrf_is_rejected(app, db_url):
    client = app.server.test_client()
    login(client, "t_admin_gd")
    body = audit_search_request()
    assert client.post("/_dash-update-component", json=body).status_code == 403
    csrf = client.get_cookie("_csrf_token").value
    ok = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": csrf})
    assert ok.status_code == 200
    assert client.post("/logout").status_code == 403  # logout is a write too


def test_lockout_after_repeated_failures(app, db_url, fresh_user):
    client = app.server.test_client()
    for _ in range(MAX_FAILED_LOGINS):
        assert login(client, fresh_user, "wrong password!!").status_code == 401
    locked = login(client, fresh_user, PASSWORD)  # even the right password is refused now
    assert locked.status_code == 401
    assert "锁定" in locked.get_data(as_text=True)
    failed = one(db_url, "SELECT count(*) FROM audit_log WHERE action = 'login_failed' "
                         "AND username = %s", (fresh_user,))
    assert failed == MAX_FAILED_LOGINS + 1
    with closing(connect(db_url)) as conn, conn, conn.cursor() as cur:
        cur.execute("UPDATE users SET locked_until = now() - interval '1 second' WHERE username = %s",
                    (fresh_user,))
    assert login(client, fresh_user, PASSWORD).status_code == 303


def test_idle_session_expires(app, db_url, fresh_user):
    client = app.server.test_client()
    login(client, fresh_user)
    entity = entity_in(db_url, "440106")
    assert client.get(f"/api/entities/{entity}").status_code == 200
    with closing(connect(db_url)) as conn, conn, conn.cursor() as cur:
        cur.execute("UPDATE sessions SET last_seen_at = now() - interval '31 minutes' "
                    "WHERE user_id = (SELECT id FROM users WHERE username = %s)", (fresh_user,))
    assert client.get(f"/api/entities/{entity}").status_code == 401


def test_logout_kills_the_session_server_side(app, db_url, fresh_user):
    client = app.server.test_client()
    login(client, fresh_user)
    stolen = client.get_cookie("zt_session").value
    csrf = client.get_cookie("_csrf_token").value
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    thief = app.server.test_client()
    thief.set_cookie("zt_session", stolen)
    assert thief.get(f"/api/entities/{entity_in(db_url, '440106')}").status_code == 401


def zhengtu(args, db_url, stdin=""):
    return subprocess.run([sys.executable, "-m", "dashboard.cli", *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={**os.environ, "DATABASE_URL": db_url})


def test_cli_user_add_token_disable(app, db_url):
    name = f"cli_{os.urandom(3).hex()}"
    made = zhengtu(["user", "add", name, "--role", "manager", "--region", "4401"], db_url)
    assert made.returncode == 0, made.stderr
    assert "initial password, shown once" in made.stdout  # no stdin: generated and printed
    token = zhengtu(["user", "token", name], db_url).stdout.strip()
    client = app.server.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/tiles/entities.json", headers=headers).status_code == 200
    assert zhengtu(["user", "disable", name], db_url).returncode == 0
    assert client.get("/tiles/entities.json", headers=headers).status_code == 401
    assert one(db_url, "SELECT count(*) FROM audit_log WHERE action IN ('user_added', "
                       "'token_issued', 'user_disabled') AND detail->>'username' = %s", (name,)) == 3


def test_cli_user_add_reads_password_from_stdin_and_validates(db_url):
    name = f"cli_{os.urandom(3).hex()}"
    made = zhengtu(["user", "add", name, "--role", "inspector", "--region", "440106"], db_url,
                   stdin="a password from stdin\n")
    assert made.returncode == 0 and "shown once" not in made.stdout
    stored = one(db_url, "SELECT password_hash FROM users WHERE username = %s", (name,))
    assert verify_password(stored, "a password from stdin")
    bad = zhengtu(["user", "add", "x_" + name, "--role", "inspector", "--region", "9999"], db_url,
                  stdin="a password from stdin\n")
    assert bad.returncode == 2 and "不在已加载的行政区划中" in bad.stderr
    dup = zhengtu(["user", "add", name, "--role", "inspector", "--region", "440106"], db_url,
                  stdin="a password from stdin\n")
    assert dup.returncode == 2 and "已存在" in dup.stderr


def test_demo_accounts_one_per_role_generated_and_stable(app, db_url, tmp_path):
    from dashboard.accounts_demo import ensure_demo_accounts

    with closing(connect(db_url)) as conn:
        first = ensure_demo_accounts(conn, tmp_path)
        second = ensure_demo_accounts(conn, tmp_path)
    assert {a["role"] for a in first} == {"inspector", "legal_reviewer", "operator", "manager", "admin"}
    assert [a["password"] for a in first] == [a["password"] for a in second]
    assert len({a["password"] for a in first}) == len(first)  # generated, not a shared constant
    assert oct((tmp_path / "demo-accounts.json").stat().st_mode)[-3:] == "600"
    admin = next(a for a in first if a["role"] == "admin")
    assert login(app.server.test_client(), admin["username"], admin["password"]).status_code == 303
