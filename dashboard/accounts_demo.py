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
    inspectors = [a for a in accounts if a["role"] == "inspector"]
    link_demo_officers(conn, inspectors)
    ensure_demo_tasks(conn, inspectors)
    home.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({a["username"]: a["password"] for a in accounts}, indent=2))
    os.chmod(path, 0o600)
    return accounts


LINK_OFFICER = """
UPDATE officers SET username = %(user)s
WHERE id = (SELECT id FROM officers WHERE region_adcode = %(region)s AND username IS NULL ORDER BY id LIMIT 1)
  AND NOT EXISTS (SELECT 1 FROM officers WHERE username = %(user)s)
"""


def link_demo_officers(conn: psycopg2.extensions.connection, inspectors: list[dict]) -> None:
    """Make each demo inspector an officer of the register, so 双随机 draws land in their phone list."""
    with conn, conn.cursor() as cur:
        for account in inspectors:
            cur.execute(LINK_OFFICER, {"user": account["username"], "region": account["region"]})


DEMO_TASKS_PER_INSPECTOR = 5
NEAREST_UNTASKED = """
SELECT e.id FROM entities e
WHERE e.district_adcode = %s
  AND NOT EXISTS (SELECT 1 FROM inspection_tasks t WHERE t.entity_id = e.id AND %s = ANY(t.assigned_users))
ORDER BY e.geom <-> (SELECT ST_PointOnSurface(geom) FROM admin_areas
                     WHERE level = 'district' AND adcode = %s)
LIMIT %s
"""


def ensure_demo_tasks(conn: psycopg2.extensions.connection, inspectors: list[dict]) -> None:
    """Give each demo inspector a few open tasks near the centre of their district (with chain links)."""
    from datetime import date, timedelta

    from accounts.roles import ADMIN, Principal
    from enforcement.field import create_task

    supervisor = Principal("demo-supervisor", ADMIN, "44")
    with conn:
        for account in inspectors:
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM inspection_tasks WHERE %s = ANY(assigned_users) "
                            "AND status <> 'done'", (account["username"],))
                missing = DEMO_TASKS_PER_INSPECTOR - cur.fetchone()[0]
                if missing <= 0:
                    continue
                cur.execute(NEAREST_UNTASKED, (account["region"], account["username"], account["region"],
                                               missing))
                entity_ids = [r[0] for r in cur.fetchall()]
            for i, entity_id in enumerate(entity_ids):
                create_task(conn, supervisor, {"entity_id": entity_id, "assignees": [account["username"]],
                                               "due": (date.today() + timedelta(days=i)).isoformat(),
                                               "kind": ("complaint", "routine", "campaign")[i % 3]})
