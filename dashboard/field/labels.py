"""Chinese labels and date formats shared by the field templates and (through the page config) the scripts.

One table, so the task list drawn in the browser and the dossier drawn by the server say the same.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
TASK_KINDS = {"random": "双随机抽查", "complaint": "投诉举报", "campaign": "专项检查", "routine": "日常检查"}
TASK_STATUS = {"open": "待检查", "in_progress": "检查中", "done": "已完成"}
EVIDENCE_KINDS = {"photo": "照片", "video": "视频", "audio": "录音", "document": "文档", "note": "文字记录"}
RISK_CLASSES = {"A": "A 类（低风险）", "B": "B 类（一般风险）", "C": "C 类（较高风险）", "D": "D 类（高风险）"}
CASE_CLOSED = "结案"


def day(value: object) -> str:
    """A date as YYYY-MM-DD (a datetime first moved to Asia/Shanghai); '—' for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(SHANGHAI) if value.tzinfo else value
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def script_labels() -> dict[str, dict[str, str]]:
    """The tables the page scripts need, passed in the page's JSON config."""
    return {"kinds": TASK_KINDS, "status": TASK_STATUS, "evidence": EVIDENCE_KINDS, "risk": RISK_CLASSES}
