"""Personal data masking, in one place: which fields are personal, which roles may see them.

Every read path that returns a record with personal data passes it through ``mask_record`` and
audits what it revealed; nothing else decides.
"""

from __future__ import annotations

from accounts.roles import INSPECTOR, LEGAL_REVIEWER
from data.ids import mask_id_number, mask_phone

# column name -> kind of personal data
PERSONAL_FIELDS = {
    "legal_rep_id": "id_number", "id_number": "id_number",
    "legal_rep_name": "person_name",
    "contact_phone": "phone", "phone": "phone",
}
# what each role needs unmasked for its work; every other role sees masked values
ROLE_MAY_SEE = {
    INSPECTOR: frozenset({"person_name", "phone"}),       # to reach the person on site
    LEGAL_REVIEWER: frozenset({"person_name", "phone", "id_number"}),  # for legal documents
}


def mask_person_name(name: object) -> str:
    """Keep the surname: 陈小明 → 陈**."""
    text = "" if name is None else str(name)
    return text[:1] + "*" * (len(text) - 1) if text else ""


MASKERS = {"id_number": mask_id_number, "phone": mask_phone, "person_name": mask_person_name}


def mask_record(record: dict, role: str) -> tuple[dict, list[str]]:
    """A copy with personal fields masked for ``role``, and the names of fields left readable."""
    allowed = ROLE_MAY_SEE.get(role, frozenset())
    out = dict(record)
    revealed = []
    for field, kind in PERSONAL_FIELDS.items():
        if field not in out or out[field] in (None, ""):
            continue
        if kind in allowed:
            revealed.append(field)
        else:
            out[field] = MASKERS[kind](out[field])
    return out, revealed
