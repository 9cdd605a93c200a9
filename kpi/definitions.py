"""KPI definitions in one place: what each KPI means, how it is computed, who owns it.

Every KPI is a *fact query* (``kpi/sql/<id>.sql``) returning one row per record that counts, with the
columns ``district_adcode, grid_code, category, day, num, den, record_kind, record_id, entity_id,
label, geom`` for the period ``%(from)s`` – ``%(to)s`` (Asia/Shanghai days). The value is then

* ``ratio``: 100 × Σnum / Σden (%), no data when Σden = 0;
* ``mean``: Σnum / Σden (e.g. days per case), no data when Σden = 0;
* ``count``: Σnum (no denominator).

Because the value is always built from sums of per-record facts, the children's numerators and
denominators add up to the parent's (``additive``), and the same facts are the records a figure
opens down to. A KPI whose tables are not installed is left out (``available``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import psycopg2.extensions

SQL_DIR = Path(__file__).parent / "sql"
FACT_COLUMNS = ("district_adcode", "grid_code", "category", "day", "num", "den", "record_kind",
                "record_id", "entity_id", "label", "geom")
GROUPS = {"supervision": ("检查执法", "Supervision"), "cases": ("案件办理", "Cases"),
          "cityops": ("城市运行", "City operations")}
FORMULAS = {"ratio": "100 × Σ分子 / Σ分母（分母为 0 时无数据）",
            "mean": "Σ分子 / Σ分母（分母为 0 时无数据）",
            "count": "Σ分子（计数）"}


@dataclass(frozen=True)
class Kpi:
    """One KPI. ``direction`` is "up" when higher is better, "down" when lower is better."""

    id: str
    name_zh: str
    name_en: str
    meaning_zh: str
    meaning_en: str
    numerator_zh: str
    denominator_zh: str
    unit: str
    kind: str  # ratio | mean | count
    direction: str  # up | down
    owner: str
    group: str
    additive: bool = True
    requires: tuple[str, ...] = field(default=())
    category_kind: str = "entity"  # what the category filter means: entity | event | risk | sensor | stage

    @property
    def sql(self) -> str:
        """The fact query (a constant file beside this module, never user text)."""
        return fact_sql(self.id)

    @property
    def formula(self) -> str:
        """How the value is built from the summed numerator and denominator."""
        return FORMULAS[self.kind]

    def as_dict(self) -> dict:
        """The definition as the API lists it (with its SQL, so a number can be checked)."""
        out = asdict(self)
        out.pop("requires")
        out.update(formula=self.formula, sql=self.sql, group_zh=GROUPS[self.group][0],
                   good="higher" if self.direction == "up" else "lower")
        return out


@cache
def fact_sql(kpi_id: str) -> str:
    """The text of ``sql/<kpi_id>.sql``."""
    return (SQL_DIR / f"{kpi_id}.sql").read_text(encoding="utf-8")


KPIS: tuple[Kpi, ...] = (
    Kpi("task_on_time", "检查任务按期完成率", "Inspection tasks completed on time",
        "期限已届满（或已完成）的检查任务中按期完成的比例；期限日为节假日的顺延至下一个工作日。",
        "Share of inspection tasks due in the period (deadline passed or done) that are done; a deadline "
        "on a day off moves to the next working day.",
        "已完成的任务数", "期限在统计期内且已届满或已完成的任务数", "%", "ratio", "up", "执法监督科",
        "supervision", requires=("inspection_tasks", "task_results")),
    Kpi("checkin_on_site", "现场签到率", "On-site check-in rate",
        "统计期内（服务器时间，北京时间）执法人员签到中位于现场（距对象 100 米加定位精度以内）的比例。",
        "Share of check-ins stamped in the period that were on site (within 100 m plus fix accuracy).",
        "现场签到次数", "签到总次数", "%", "ratio", "up", "执法监督科", "supervision",
        requires=("checkins",)),
    Kpi("evidence_complete", "检查取证完整率", "Evidence completeness per inspection",
        "期限在统计期内的已完成检查中，既有现场签到又有至少一份照片或视频证据（全过程记录）的比例。",
        "Share of completed inspections due in the period with an on-site check-in and at least one photo "
        "or video (full-process record).",
        "签到且有照片/视频的已完成检查数", "已完成检查数", "%", "ratio", "up", "法制审核科", "supervision",
        requires=("evidence", "checkins", "task_results")),
    Kpi("case_closure", "案件结案率", "Case closure rate",
        "统计期内立案的案件中已结案的比例；期末仍在办的案件计入分母。",
        "Share of cases opened in the period that have reached 结案; cases still open count in the "
        "denominator.",
        "已结案的案件数", "统计期内立案数", "%", "ratio", "up", "法制审核科", "cases", requires=("cases",)),
    Kpi("cases_opened", "立案数", "Cases opened",
        "统计期内立案的执法案件数（按阶段分布见下方图表）。", "Enforcement cases opened in the period.",
        "立案数", "—", "件", "count", "up", "法制审核科", "cases", requires=("cases",)),
    Kpi("case_on_time", "案件法定期限内决定率", "Cases decided within the legal time limit",
        "法定期限（立案后 90 日，加批准延长的 30 日和听证、检测、鉴定停止计算的天数；届满日为节假日的顺延）"
        "在统计期内届满（或已作出决定）的案件中，按期作出决定的比例；期限届满仍未决定的案件计为超期。",
        "Share of cases whose statutory deadline (90 days after 立案 + extension + paused days, rolled to a "
        "working day) falls in the period and has passed (or that are decided) that were decided in time.",
        "按期作出决定的案件数", "法定期限在统计期内届满或已决定的案件数", "%", "ratio", "up", "法制审核科", "cases",
        requires=("cases", "case_clock_pauses")),
    Kpi("case_duration", "平均办案时长", "Average case duration",
        "统计期内作出决定的案件，自立案至决定的平均自然日数。",
        "Mean natural days from 立案 to the decision, for cases decided in the period.",
        "办案天数之和", "作出决定的案件数", "天", "mean", "down", "法制审核科", "cases",
        requires=("cases", "case_clock_pauses")),
    Kpi("case_stage_days", "各阶段平均办理时长", "Average time per case stage",
        "统计期内办结（转入下一阶段或退回补正）的案件阶段，平均停留天数；类别筛选为阶段（立案、调查取证、法制审核、"
        "决定、执行），退回补正后再次进入的阶段每次分别计算。",
        "Mean days a case stayed in a stage, for stage stays that ended in the period; filter by stage; a stage "
        "re-entered after rework counts each stay.",
        "各阶段停留天数之和", "结束的阶段停留次数", "天", "mean", "down", "法制审核科", "cases",
        requires=("cases", "case_events"), category_kind="stage"),
    Kpi("draw_coverage", "双随机抽查覆盖率", "双随机 coverage",
        "统计期内被双随机抽查计划抽中的监管对象占辖区监管对象总数的比例；类别筛选为风险等级（A 低 … D 高）。",
        "Share of regulated entities drawn by a 双随机 plan drawn in the period; the category filter is the risk "
        "class, whose sampling ratios differ.",
        "被抽中的监管对象数", "监管对象总数", "%", "ratio", "up", "执法监督科", "supervision",
        requires=("draw_results", "draw_plans"), category_kind="risk"),
    Kpi("event_on_time", "事件按期结案率", "Events closed on time (按期结案率)",
        "处置时限（按事件类别的工作时计算）在统计期内届满（或已结案）的城市事件中，在时限内结案的比例；"
        "返工后再次结案的以最终结案时间计。",
        "Share of city events whose deadline falls in the period (passed, or closed) that were closed by the "
        "deadline; an event reopened by rework counts by its final closing time.",
        "按期结案的事件数", "时限在统计期内届满或已结案的事件数", "%", "ratio", "up", "城市运行管理中心", "cityops",
        requires=("city_events", "event_categories"), category_kind="event"),
    Kpi("event_handled", "事件处置率", "Handling rate (处置率)",
        "统计期内上报并已立案的城市事件中，处置完成（反馈、核查或结案）的比例。",
        "Share of city events reported in the period and accepted (立案) whose handling is finished.",
        "处置完成的事件数", "已立案的事件数", "%", "ratio", "up", "城市运行管理中心", "cityops",
        requires=("city_events", "event_categories"), category_kind="event"),
    Kpi("event_rework", "事件返工率", "Rework rate (返工率)",
        "统计期内结案的城市事件中，曾被核查退回重新处置（返工）的比例，越低越好。",
        "Share of city events closed in the period that were sent back for rework at least once.",
        "返工过的结案事件数", "结案事件数", "%", "ratio", "down", "城市运行管理中心", "cityops",
        requires=("city_events", "event_categories"), category_kind="event"),
    Kpi("alert_ack_minutes", "报警平均响应时长", "Alert acknowledgement time",
        "统计期内触发并已确认的传感器报警，自触发至值班员确认的平均分钟数，越低越好。",
        "Mean minutes from a sensor alert being raised to its acknowledgement, for alerts raised in the period.",
        "响应分钟数之和", "已确认的报警数", "分钟", "mean", "down", "城市运行管理中心", "cityops",
        requires=("alerts", "sensors"), category_kind="sensor"),
)
BY_ID = {k.id: k for k in KPIS}


def installed_tables(conn: psycopg2.extensions.connection) -> set[str]:
    """Names of the tables a KPI may need that exist in this database."""
    wanted = sorted({t for k in KPIS for t in k.requires} | {"unit_grids"})
    with conn.cursor() as cur:
        cur.execute("SELECT t FROM unnest(%s::text[]) t WHERE to_regclass(t) IS NOT NULL", (wanted,))
        return {r[0] for r in cur.fetchall()}


def available(conn: psycopg2.extensions.connection) -> list[Kpi]:
    """The KPIs whose tables exist."""
    tables = installed_tables(conn)
    return [k for k in KPIS if set(k.requires) <= tables]
