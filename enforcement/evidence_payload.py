"""What an evidence link commits to: the file's hashes and the facts of its capture.

Kept apart from ``evidence.py`` so that verification can rebuild it from a stored row without
importing the upload machinery.
"""

from __future__ import annotations

KEYS = ("id", "task_id", "case_id", "kind", "sha256", "sm3", "size", "media_type", "username",
        "lon", "lat", "accuracy_m", "captured_at", "received_at")


def evidence_payload(row: dict) -> dict:
    """The chained fields of an evidence row (hash strings stripped of char padding)."""
    payload = {k: row.get(k) for k in KEYS}
    for key in ("sha256", "sm3"):
        payload[key] = (payload[key] or "").strip()
    return payload
