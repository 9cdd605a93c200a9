"""One demo account per role, with generated passwords kept in a private file and printed.

Nothing is hard-coded: passwords are generated on first run, stored only as argon2 hashes in the
database and in ``.zhengtu/demo-accounts.json`` (mode 600) so that ``make demo`` can print them again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import psycopg2.extensions

from accounts.passwords import generate_password
from accounts.users import AccountError, add_user, set_password

DEMO_ACCOUNTS = [  # (user name, role, region, display name)
    ("inspector_tianhe", "inspector", "440106", "天河区执法人员"),
    ("inspector_yuexiu", "inspector", "440104", "越秀区执法人员"),
    ("reviewer_gz", "legal_reviewer", "4401", "广州市法制审核员"),
    ("operator_gz", "operator", "4401", "广州市城市运行值班员"),
    ("manager_gd", "manager", "44", "广东省管理人员"),
    ("admin_gd", "admin", "44", "广东省系统管理员"),
]


def ensure_demo_accounts(conn: psycopg2.extensions.connection, home: Path) -> list[dict]:
    """Create (or re-key) the demo accounts; return them with their passwords."""
    path = home / "demo-accounts.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    accounts = []
    with conn:
        for username, role, region, display in DEMO_ACCOUNTS:
            password = saved.get(username) or generate_password()
            try:
                add_user(conn, username, role, region, password, display)
            except AccountError:  # exists already: make its password the one we print
                set_password(conn, username, password)
            accounts.append({"username": username, "role": role, "region": region,
                             "password": password})
    home.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({a["username"]: a["password"] for a in accounts}, indent=2))
    os.chmod(path, 0o600)
    return accounts
