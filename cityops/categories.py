"""The event classification (GB/T 30428 style 部件/事件 classes) shipped as data.

``cityops/data/event_categories.csv`` lists two-digit top classes and four-digit subclasses; the
subclasses carry the time limit in working hours and the department that usually handles them.
It is upserted after migrations (``ensure_shipped``), so a revised classification is a data change.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import psycopg2.extensions

SHIPPED = Path(__file__).parent / "data" / "event_categories.csv"
UPSERT = """
INSERT INTO event_categories (code, kind, name_zh, name_en, parent, time_limit_hours, department)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (code) DO UPDATE SET kind = EXCLUDED.kind, name_zh = EXCLUDED.name_zh,
    name_en = EXCLUDED.name_en, parent = EXCLUDED.parent,
    time_limit_hours = EXCLUDED.time_limit_hours, department = EXCLUDED.department
WHERE (event_categories.kind, event_categories.name_zh, event_categories.name_en,
       event_categories.parent, event_categories.time_limit_hours, event_categories.department)
      IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.name_zh, EXCLUDED.name_en, EXCLUDED.parent,
                        EXCLUDED.time_limit_hours, EXCLUDED.department)
"""
SELECT_ALL = """
SELECT code, kind, name_zh, name_en, parent, time_limit_hours, department
FROM event_categories ORDER BY code
"""


@dataclass(frozen=True)
class Category:
    """One class or subclass; only subclasses (with a time limit) are used for events."""

    code: str
    kind: str
    name_zh: str
    name_en: str
    parent: str | None
    time_limit_hours: float | None
    department: str | None

    def as_dict(self) -> dict:
        """JSON form for the API and the pages."""
        return {"code": self.code, "kind": self.kind, "name": self.name_zh, "name_zh": self.name_zh,
                "name_en": self.name_en, "parent": self.parent,
                "time_limit_hours": self.time_limit_hours, "department": self.department}


def read_csv(path: Path = SHIPPED) -> list[Category]:
    """The classification file, parents before children."""
    rows: list[Category] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            limit = (row.get("time_limit_hours") or "").strip()
            rows.append(Category(code=row["code"].strip(), kind=row["kind"].strip(),
                                 name_zh=row["name_zh"].strip(), name_en=row["name_en"].strip(),
                                 parent=(row.get("parent") or "").strip() or None,
                                 time_limit_hours=float(limit) if limit else None,
                                 department=(row.get("department") or "").strip() or None))
    return sorted(rows, key=lambda c: (len(c.code), c.code))


@lru_cache(maxsize=1)
def shipped() -> dict[str, Category]:
    """The shipped classification by code (no database needed: validation, demo, live feed)."""
    return {c.code: c for c in read_csv()}


def leaves() -> list[Category]:
    """Subclasses that events may carry."""
    return [c for c in shipped().values() if c.time_limit_hours is not None]


def ensure_shipped(conn: psycopg2.extensions.connection) -> int:
    """Upsert the shipped classification (idempotent; returns the rows that changed)."""
    changed = 0
    with conn, conn.cursor() as cur:
        for c in read_csv():
            cur.execute(UPSERT, (c.code, c.kind, c.name_zh, c.name_en, c.parent, c.time_limit_hours,
                                 c.department))
            changed += cur.rowcount
    return changed


def from_db(conn: psycopg2.extensions.connection) -> dict[str, Category]:
    """The classification as loaded in the database (what intake validates against)."""
    with conn.cursor() as cur:
        cur.execute(SELECT_ALL)
        return {r[0]: Category(r[0], r[1], r[2], r[3], r[4],
                               float(r[5]) if r[5] is not None else None, r[6])
                for r in cur.fetchall()}
