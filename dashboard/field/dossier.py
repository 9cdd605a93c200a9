"""The entity dossier (全景信息) shaped for the phone template.

``enforcement.records.entity_dossier`` decides what exists for the caller (row-level security) and
what of it they may read (masking, audit); this module only groups and labels it for one screen.
"""

from __future__ import annotations

from accounts.roles import ADMIN, INSPECTOR, LEGAL_REVIEWER, MANAGER, Principal
from dashboard.field.labels import (
    CASE_CLOSED,
    EVIDENCE_KINDS,
    RISK_CLASSES,
    TASK_KINDS,
    TASK_STATUS,
    day,
)

THUMB_ROLES = (INSPECTOR, LEGAL_REVIEWER, MANAGER, ADMIN)  # as GET /api/evidence/<id>/thumb
REGISTRATION = (("uscc", "统一社会信用代码"), ("category_name", "类别"), ("risk", "风险等级"),
                ("licence_no", "许可证号"), ("licence_valid_until", "许可证有效期至"),
                ("legal_rep_name", "法定代表人"), ("legal_rep_id", "身份证号"),
                ("contact_phone", "联系电话"), ("address", "地址"), ("district_name", "所属区县"),
                ("registered_on", "成立日期"))
DATES = ("licence_valid_until", "registered_on")


def _registration(entity: dict) -> list[tuple[str, str]]:
    """(label, text) pairs; personal fields arrive already masked for the caller's role."""
    values = {**entity, "risk": RISK_CLASSES.get(entity.get("risk_class"), entity.get("risk_class"))}
    rows = []
    for key, label in REGISTRATION:
        value = values.get(key)
        rows.append((label, day(value) if key in DATES else ("—" if value in (None, "") else str(value))))
    return rows


def _inspections(tasks: list[dict]) -> list[dict]:
    return [{"id": t["id"], "kind": TASK_KINDS.get(t["kind"], t["kind"]), "status": t["status"],
             "status_label": TASK_STATUS.get(t["status"], t["status"]), "due": day(t["due_date"])}
            for t in tasks]


def _cases(cases: list[dict]) -> tuple[list[dict], int]:
    """Open cases in full; closed ones only counted (the phone has no room for history)."""
    open_cases = [{"case_no": c["case_no"], "title": c["title"], "stage": c["stage"],
                   "opened": day(c["opened_on"])} for c in cases if c["stage"] != CASE_CLOSED]
    return open_cases, len(cases) - len(open_cases)


def _evidence(items: list[dict], who: Principal) -> list[dict]:
    thumbs = who.may(THUMB_ROLES)
    return [{"id": v["id"], "kind": EVIDENCE_KINDS.get(v["kind"], v["kind"]), "received": v["received_at"],
             "thumb": f"/api/evidence/{int(v['id'])}/thumb" if thumbs and v["has_thumb"] else None,
             "flagged": bool(v.get("flags"))} for v in items]


def dossier_view(entity: dict, who: Principal) -> dict:
    """Everything the dossier template shows, in display order and display form."""
    open_cases, closed = _cases(entity["cases"])
    return {
        "id": entity["id"], "name": entity["name"], "address": entity.get("address") or "",
        "lon": entity["lon"], "lat": entity["lat"], "risk_class": entity.get("risk_class") or "",
        "category": entity.get("category_name") or "",
        "registration": _registration(entity),
        "inspections": _inspections(entity["tasks"]),
        "open_cases": open_cases, "closed_cases": closed,
        "events": [{"category": e["category"], "status": e["status"], "reported": e["reported_at"],
                    "distance": int(e["distance_m"] or 0)} for e in entity["nearby_events"]],
        "evidence": _evidence(entity["evidence"], who),
    }
