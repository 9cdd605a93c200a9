"""The rules of an enforcement case, without a database: stages, who may move a case where, and clocks.

Stages follow the ordinary procedure of administrative penalties (普通程序): 立案 → 调查取证 → 法制审核
→ 决定 → 执行 → 结案, one step at a time. Legal review (法制审核, one of the 行政执法三项制度) either
approves (→ 决定) or sends the case back for rework (退回补正 → 调查取证, counted). Nobody approves a case
they handle or opened.

Two clocks run on a case:
- the **stage limit**, internal, in working days (or natural days where a statute says 日), from the
  table ``case_stage_limits`` (defaults in ``DEFAULT_LIMITS``);
- the **statutory clock** of 《行政处罚法》(2021) 第六十条: a decision within 90 days of 立案. The law
  says 日, not 工作日, so these are natural days (counted from the day after 立案, 民法典 第二百零一条).
  《市场监督管理行政处罚程序规定》第六十四条 allows one extension of 30 days with the approval of the
  department head, and excludes 听证、检测、检验、鉴定 periods from the count: pauses stop the clock.
Pauses also push the stage deadline of the stage they fall in, so a case waiting for a test report is
not flagged overdue by the internal limit either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from accounts.roles import ADMIN, INSPECTOR, LEGAL_REVIEWER, MANAGER
from geo.workdays import WorkCalendar

STAGES = ("立案", "调查取证", "法制审核", "决定", "执行", "结案")
BEFORE_DECISION = ("立案", "调查取证", "法制审核", "决定")  # the decision is made on leaving 决定
RESULTS = ("未发现问题", "发现问题已责令改正", "发现问题待后续处理", "未按规定公示", "不配合检查", "未找到该市场主体")
# Results that open a case (立案). 发现问题待后续处理: a violation needing investigation. 不配合检查:
# refusing or obstructing an inspection is itself punishable (e.g. 《市场主体登记管理条例》第四十五条
# 、《食品安全法》第一百三十三条). 未按规定公示 and 未找到该市场主体 lead to listing in the 经营异常名录
# (an administrative measure, not a penalty case); 发现问题已责令改正 was settled on the spot.
FOLLOW_UP = ("发现问题待后续处理", "不配合检查")
PAUSE_KINDS = ("听证", "检测", "鉴定")

STATUTORY_DAYS = 90  # 《行政处罚法》第六十条, natural days
EXTENSION_DAYS = 30  # once, with approval
WARN_WORKDAYS = 3  # a deadline this close (working days left) raises a warning (see compute_clock)
NOTE_MIN, NOTE_MAX = 2, 2000


@dataclass(frozen=True)
class Limit:
    """An internal stage limit: ``days`` of ``unit`` ('workday' or 'day')."""

    days: int
    unit: str
    basis: str = ""


DEFAULT_LIMITS: Mapping[str, Limit] = {
    "立案": Limit(3, "workday"), "调查取证": Limit(30, "workday"), "法制审核": Limit(5, "workday"),
    "决定": Limit(10, "workday"), "执行": Limit(15, "day"),
}


@dataclass(frozen=True)
class Edge:
    """One allowed move: the roles that may make it and what it needs."""

    roles: tuple[str, ...]
    action: str = "transition"  # or 'rework'
    label: str = ""
    needs_note: bool = False
    needs_decision: bool = False
    approval: bool = False  # the actor must not handle or have opened the case
    officers_only: bool = False  # an inspector must be one of the case's officers (if it names any)


EDGES: Mapping[tuple[str, str], Edge] = {
    ("立案", "调查取证"): Edge((INSPECTOR,), label="开始调查取证", officers_only=True),
    ("调查取证", "法制审核"): Edge((INSPECTOR,), label="提交法制审核", officers_only=True),
    ("法制审核", "决定"): Edge((LEGAL_REVIEWER,), label="审核通过", approval=True),
    ("法制审核", "调查取证"): Edge((LEGAL_REVIEWER,), action="rework", label="退回补正", needs_note=True,
                              approval=True),
    ("决定", "执行"): Edge((MANAGER, LEGAL_REVIEWER), label="作出处罚决定", needs_decision=True, approval=True),
    ("执行", "结案"): Edge((INSPECTOR, MANAGER), label="执行完毕，结案", needs_note=True),
}
EXTENSION_ROLES = (LEGAL_REVIEWER, MANAGER)
PAUSE_ROLES = (INSPECTOR, LEGAL_REVIEWER, MANAGER)
READ_ROLES = (INSPECTOR, LEGAL_REVIEWER, MANAGER, ADMIN)


class RuleError(Exception):
    """A refused action: ``status`` 400 (bad input), 403 (not this person), 409 (not now)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Actor:
    """Who acts: user name and role."""

    username: str
    role: str


@dataclass(frozen=True)
class CaseState:
    """What the rules need to know of a case."""

    stage: str
    officers: tuple[str, ...] = ()
    created_by: str | None = None
    extension_days: int = 0
    open_pause: bool = False


def _self_involved(actor: Actor, case: CaseState) -> bool:
    return actor.username in case.officers or actor.username == case.created_by


def check_transition(case: CaseState, to: str, actor: Actor, *, note: str = "",
                     decision: str = "") -> Edge:
    """The edge for ``case.stage → to`` if ``actor`` may take it now, else a ``RuleError``."""
    if to not in STAGES:
        raise RuleError(400, f"未知阶段：{to!r}，应为 {'、'.join(STAGES)} 之一 / unknown stage")
    if to == case.stage:
        raise RuleError(409, f"案件已处于「{to}」阶段 / the case is already at this stage")
    edge = EDGES.get((case.stage, to))
    if edge is None:
        nexts = [b for (a, b) in EDGES if a == case.stage]
        allowed = "、".join(nexts) if nexts else "无（已结案）"
        raise RuleError(409, f"不能从「{case.stage}」直接转到「{to}」：不得跳过或倒退阶段，"
                             f"可转到：{allowed} / illegal transition {case.stage} → {to}")
    if actor.role not in edge.roles:
        raise RuleError(403, f"「{case.stage}→{to}」只能由 {'、'.join(edge.roles)} 办理，"
                             f"您的角色是 {actor.role} / wrong role for this transition")
    if edge.approval and _self_involved(actor, case):
        raise RuleError(403, "不得审批本人承办或立案的案件 / you cannot approve a case you handle or opened")
    if edge.officers_only and case.officers and actor.username not in case.officers:
        raise RuleError(403, "只有本案承办人可以办理此步骤 / only the case's officers may do this")
    if case.open_pause and to == "执行":
        raise RuleError(409, "案件期限暂停中（听证/检测/鉴定），请先恢复计时 / resume the clock first")
    if edge.needs_note and not NOTE_MIN <= len(note.strip()) <= NOTE_MAX:
        what = "退回理由" if edge.action == "rework" else "说明"
        raise RuleError(400, f"请填写{what}（{NOTE_MIN}–{NOTE_MAX} 字）/ a note is required")
    if edge.needs_decision and not NOTE_MIN <= len(decision.strip()) <= NOTE_MAX:
        raise RuleError(400, f"请填写处罚决定内容（{NOTE_MIN}–{NOTE_MAX} 字）/ decision text is required")
    return edge


def allowed_moves(case: CaseState, actor: Actor) -> list[tuple[str, Edge]]:
    """The moves ``actor`` may make from the case's stage (before note/decision checks)."""
    moves = []
    for (a, b), edge in EDGES.items():
        if a != case.stage or actor.role not in edge.roles:
            continue
        if edge.approval and _self_involved(actor, case):
            continue
        if edge.officers_only and case.officers and actor.username not in case.officers:
            continue
        moves.append((b, edge))
    return moves


def check_extension(case: CaseState, actor: Actor, reason: str) -> None:
    """One 30-day extension before the decision, approved by a reviewer or manager not on the case."""
    if actor.role not in EXTENSION_ROLES:
        raise RuleError(403, "延期须由法制审核人员或管理人员批准 / only a legal reviewer or manager may extend")
    if _self_involved(actor, case):
        raise RuleError(403, "不得批准本人承办案件的延期 / you cannot approve your own case's extension")
    if case.stage not in BEFORE_DECISION:
        raise RuleError(409, "已作出决定，无需延期 / the decision has been made")
    if case.extension_days:
        raise RuleError(409, "办案期限只能延长一次（30 日）/ the time limit may be extended only once")
    if not NOTE_MIN <= len(reason.strip()) <= NOTE_MAX:
        raise RuleError(400, "请填写延期理由 / a reason is required")


def check_pause(case: CaseState, actor: Actor, kind: str | None, *, resume: bool) -> None:
    """Pause (听证/检测/鉴定) or resume the statutory clock before the decision."""
    if actor.role not in PAUSE_ROLES:
        raise RuleError(403, "无权暂停或恢复办案期限 / your role may not pause the clock")
    if actor.role == INSPECTOR and case.officers and actor.username not in case.officers:
        raise RuleError(403, "只有本案承办人可以办理此步骤 / only the case's officers may do this")
    if case.stage not in BEFORE_DECISION:
        raise RuleError(409, "决定作出后不再计算办案期限 / the clock stops at the decision")
    if resume:
        if not case.open_pause:
            raise RuleError(409, "期限未暂停 / the clock is not paused")
        return
    if kind not in PAUSE_KINDS:
        raise RuleError(400, f"暂停事由应为 {'、'.join(PAUSE_KINDS)} 之一 / invalid pause kind")
    if case.open_pause:
        raise RuleError(409, "期限已在暂停中 / the clock is already paused")


# ---- clocks -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pause:
    """A pause of the clock, ``ended_on`` None while it lasts."""

    started_on: date
    ended_on: date | None = None


def paused_days(pauses: Iterable[Pause], today: date, since: date | None = None) -> int:
    """Natural days the clock stood still (up to ``today``), counting only days after ``since``."""
    total = 0
    for p in pauses:
        start = max(p.started_on, since) if since else p.started_on
        end = p.ended_on or today
        total += max(0, (end - start).days)
    return total


def paused_workdays(cal: WorkCalendar, pauses: Iterable[Pause], today: date, since: date) -> int:
    """Working days the clock stood still after ``since``."""
    total = 0
    for p in pauses:
        start = max(p.started_on, since)
        end = p.ended_on or today
        total += cal.workdays_between(start, end) if end > start else 0
    return total


@dataclass(frozen=True)
class Clock:
    """Where a case stands against its limits on ``today``."""

    stage_deadline: date | None
    stage_days_left: int | None  # working or natural days, per the stage limit's unit
    statutory_deadline: date | None  # None after the decision
    statutory_days_left: int | None  # natural days
    deadline: date | None  # the nearer of the two
    deadline_kind: str | None  # 'stage' | 'statutory'
    days_left: int | None  # working days left to ``deadline`` (negative: working days overdue)
    overdue: bool
    warning: bool
    paused: bool
    paused_days: int


def roll_to_workday(cal: WorkCalendar, day: date) -> date:
    """A period counted in natural days that ends on a day off ends on the next working day
    (民法典 第二百零三条: 期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日)."""
    while not cal.is_workday(day):
        day += timedelta(days=1)
    return day


def _signed_workdays(cal: WorkCalendar, today: date, deadline: date) -> int:
    if deadline >= today:
        return cal.workdays_between(today, deadline)
    return -cal.workdays_between(deadline, today)


def compute_clock(cal: WorkCalendar, *, stage: str, opened_on: date, stage_since: date,
                  extension_days: int, pauses: list[Pause], today: date,
                  limits: Mapping[str, Limit] = DEFAULT_LIMITS) -> Clock:
    """Both clocks of a case on ``today``; open pauses keep moving the deadlines (the clock stands)."""
    is_paused = any(p.ended_on is None for p in pauses)
    stood = paused_days(pauses, today)
    stage_deadline = stage_left = None
    limit = limits.get(stage)
    if limit is not None:
        if limit.unit == "workday":
            extra = paused_workdays(cal, pauses, today, stage_since) if stage in BEFORE_DECISION else 0
            stage_deadline = cal.add_workdays(stage_since, limit.days + extra)
            stage_left = _signed_workdays(cal, today, stage_deadline)
        else:
            extra = paused_days(pauses, today, stage_since) if stage in BEFORE_DECISION else 0
            stage_deadline = roll_to_workday(cal, stage_since + timedelta(days=limit.days + extra))
            stage_left = (stage_deadline - today).days
    statutory = statutory_left = None
    if stage in BEFORE_DECISION:
        statutory = roll_to_workday(cal, opened_on + timedelta(days=STATUTORY_DAYS + extension_days + stood))
        statutory_left = (statutory - today).days
    candidates = [(d, k) for d, k in ((stage_deadline, "stage"), (statutory, "statutory")) if d is not None]
    deadline, kind = min(candidates) if candidates else (None, None)
    left = _signed_workdays(cal, today, deadline) if deadline else None
    overdue = deadline is not None and today > deadline
    # warn 3 working days ahead, or earlier than that for limits too short to warn at 3 (立案: 2)
    threshold = WARN_WORKDAYS if kind != "stage" or limit is None else min(WARN_WORKDAYS, max(1, limit.days - 1))
    warning = deadline is not None and not overdue and left is not None and left <= threshold
    return Clock(stage_deadline, stage_left, statutory, statutory_left, deadline, kind, left, overdue,
                 warning, is_paused, stood)
