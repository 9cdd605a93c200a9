"""Local accounts: create, disable, authenticate (with lockout), API tokens.

Functions take a connection and leave commit to the caller, except where noted: a failed login must
be counted even though the login itself fails, so ``authenticate`` reports instead of raising.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg2.extensions

from accounts.passwords import hash_password, new_token, token_hash, verify_password
from accounts.roles import Principal, check_region, check_role

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15

INSERT_USER = """
INSERT INTO users (username, display_name, role, region, password_hash)
VALUES (%(username)s, %(display_name)s, %(role)s, %(region)s, %(password_hash)s)
RETURNING id
"""
REGION_EXISTS = "SELECT EXISTS (SELECT 1 FROM admin_areas WHERE left(adcode, length(%s)) = %s)"
FIND_USER = """
SELECT id, username, display_name, role, region, password_hash, disabled,
       locked_until > now() AS locked, ceil(extract(epoch FROM locked_until - now()) / 60)
FROM users WHERE username = %s
"""
RECORD_FAILURE = """
UPDATE users SET failed_logins = failed_logins + 1,
       locked_until = CASE WHEN failed_logins + 1 >= %(max)s
                           THEN now() + make_interval(mins => %(minutes)s) END
WHERE id = %(id)s
RETURNING failed_logins, locked_until IS NOT NULL
"""
RECORD_SUCCESS = ("UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = now() "
                  "WHERE id = %s")
FIND_TOKEN = """
SELECT u.id, u.username, u.display_name, u.role, u.region, t.id,
       t.last_used_at IS NULL OR t.last_used_at < now() - interval '5 minutes'
FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE t.token_hash = %s AND NOT t.revoked AND NOT u.disabled
"""
# a tile client sends hundreds of requests a minute: note use every few minutes, not every request
TOUCH_TOKEN = "UPDATE api_tokens SET last_used_at = now() WHERE id = %s"


class AccountError(ValueError):
    """A user-facing problem with an account request (message safe to show)."""


@dataclass(frozen=True)
class LoginResult:
    """What a login attempt produced: a principal, or a message to show (and why, for audit)."""

    principal: Principal | None
    message: str = ""
    reason: str = ""
    user_id: int | None = None


def add_user(conn: psycopg2.extensions.connection, username: str, role: str, region: str,
             password: str, display_name: str | None = None) -> int:
    """Create a local account; the region must be (a prefix of) a loaded adcode."""
    check_role(role)
    check_region(region)
    with conn.cursor() as cur:
        cur.execute(REGION_EXISTS, (region, region))
        if not cur.fetchone()[0]:
            raise AccountError(f"辖区 {region} 不在已加载的行政区划中 / region not loaded")
        cur.execute("SELECT 1 FROM users WHERE username = %s", (username,))
        if cur.fetchone():
            raise AccountError(f"用户 {username} 已存在 / user exists")
        cur.execute(INSERT_USER, {"username": username, "display_name": display_name or username,
                                  "role": role, "region": region,
                                  "password_hash": hash_password(password)})
        return int(cur.fetchone()[0])


def set_password(conn: psycopg2.extensions.connection, username: str, password: str) -> None:
    """Replace a password and clear any lockout."""
    with conn.cursor() as cur:
        cur.execute("UPDATE users SET password_hash = %s, failed_logins = 0, locked_until = NULL "
                    "WHERE username = %s", (hash_password(password), username))
        if cur.rowcount != 1:
            raise AccountError(f"没有用户 {username} / no such user")


def disable_user(conn: psycopg2.extensions.connection, username: str) -> None:
    """Disable an account and end its sessions and tokens at once."""
    with conn.cursor() as cur:
        cur.execute("UPDATE users SET disabled = true WHERE username = %s RETURNING id", (username,))
        row = cur.fetchone()
        if row is None:
            raise AccountError(f"没有用户 {username} / no such user")
        cur.execute("DELETE FROM sessions WHERE user_id = %s", (row[0],))
        cur.execute("UPDATE api_tokens SET revoked = true WHERE user_id = %s", (row[0],))


def issue_token(conn: psycopg2.extensions.connection, username: str) -> str:
    """A new API token for ``Authorization: Bearer``; only its hash is stored."""
    token, digest = new_token()
    with conn.cursor() as cur:
        cur.execute("INSERT INTO api_tokens (token_hash, user_id) SELECT %s, id FROM users "
                    "WHERE username = %s AND NOT disabled RETURNING id", (digest, username))
        if cur.fetchone() is None:
            raise AccountError(f"没有可用的用户 {username} / no such active user")
    return token


def principal_for_token(conn: psycopg2.extensions.connection, token: str) -> Principal | None:
    """The user behind an API token, or None if unknown, revoked or disabled."""
    with conn.cursor() as cur:
        cur.execute(FIND_TOKEN, (token_hash(token),))
        row = cur.fetchone()
        if row is not None and row[6]:
            cur.execute(TOUCH_TOKEN, (row[5],))
    if row is None:
        return None
    uid, username, display, role, region = row[:5]
    return Principal(username, role, region, display, via="token", user_id=uid)


def authenticate(conn: psycopg2.extensions.connection, username: str, password: str) -> LoginResult:
    """Check a login; count failures and lock the account after ``MAX_FAILED_LOGINS``."""
    generic = "用户名或密码错误 / wrong user name or password"
    with conn.cursor() as cur:
        cur.execute(FIND_USER, (username,))
        row = cur.fetchone()
        if row is None:
            verify_password(None, password)  # same cost as a real check: no user-name oracle
            return LoginResult(None, generic, "unknown_user")
        uid, name, display, role, region, stored, disabled, locked, minutes_left = row
        if disabled:
            return LoginResult(None, "账户已停用 / account disabled", "disabled", uid)
        if locked:
            return LoginResult(None, f"登录失败次数过多，账户已锁定，请 {int(minutes_left)} 分钟后再试 / "
                               "account locked", "locked", uid)
        if not verify_password(stored, password):
            cur.execute(RECORD_FAILURE, {"max": MAX_FAILED_LOGINS, "minutes": LOCK_MINUTES, "id": uid})
            failures, now_locked = cur.fetchone()
            message = generic if not now_locked else (
                f"登录失败次数过多，账户已锁定 {LOCK_MINUTES} 分钟 / account locked")
            return LoginResult(None, message, "wrong_password", uid)
        cur.execute(RECORD_SUCCESS, (uid,))
    return LoginResult(Principal(name, role, region, display, via="session", user_id=uid), user_id=uid)
