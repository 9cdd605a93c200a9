"""Browser sessions kept in PostgreSQL: the cookie holds a random token, the table its hash.

Server-side sessions (rather than a signed cookie) let logout and account disabling end a session
at once, and let every worker process agree on who is logged in.
"""

from __future__ import annotations

import secrets

import psycopg2.extensions

from accounts.passwords import new_token, token_hash
from accounts.roles import Principal

CREATE = """
INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, ip, user_agent)
VALUES (%(hash)s, %(user_id)s, %(csrf)s, now() + make_interval(hours => %(hours)s), %(ip)s, %(ua)s)
"""
LOAD = """
SELECT u.id, u.username, u.display_name, u.role, u.region, s.csrf_token,
       s.last_seen_at < now() - interval '1 minute'
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.token_hash = %(hash)s AND NOT u.disabled
  AND s.expires_at > now() AND s.last_seen_at > now() - make_interval(mins => %(idle)s)
"""
# the idle clock only needs minute precision: one write a minute, not one per tile request
TOUCH = "UPDATE sessions SET last_seen_at = now() WHERE token_hash = %(hash)s"


def create_session(conn: psycopg2.extensions.connection, principal: Principal, *, hours: int,
                   ip: str | None, user_agent: str | None) -> tuple[str, str]:
    """Start a session; returns the cookie token and the session's CSRF token."""
    token, digest = new_token()
    csrf = secrets.token_urlsafe(24)
    with conn.cursor() as cur:
        cur.execute(CREATE, {"hash": digest, "user_id": principal.user_id, "csrf": csrf,
                             "hours": hours, "ip": ip, "ua": (user_agent or "")[:300]})
    return token, csrf


def load_session(conn: psycopg2.extensions.connection, token: str, *,
                 idle_minutes: int) -> Principal | None:
    """The principal of a live session (sliding idle timeout, absolute expiry), or None."""
    params = {"hash": token_hash(token), "idle": idle_minutes}
    with conn.cursor() as cur:
        cur.execute(LOAD, params)
        row = cur.fetchone()
        if row is not None and row[6]:
            cur.execute(TOUCH, params)
    if row is None:
        return None
    uid, username, display, role, region, csrf = row[:6]
    return Principal(username, role, region, display, via="session", user_id=uid, csrf_token=csrf)


def end_session(conn: psycopg2.extensions.connection, token: str) -> None:
    """Log out: the session row goes, so the cookie is worthless even if kept."""
    with conn.cursor() as cur:
        cur.execute("DELETE FROM sessions WHERE token_hash = %s", (token_hash(token),))
