"""The one message catalogue: Simplified Chinese first, English where asked (``?lang=en``)."""

from __future__ import annotations

DEFAULT_LANG = "zh"
MESSAGES: dict[str, dict[str, str]] = {
    "app.title": {"zh": "政图", "en": "Zhengtu"},
    "app.subtitle": {"zh": "政务一张图 · 监管 · 城市运行", "en": "One government map · supervision · city operations"},
    "nav.map": {"zh": "一张图", "en": "One map"},
    "map.layers": {"zh": "图层", "en": "Layers"},
    "map.legend": {"zh": "图例", "en": "Legend"},
    "map.hint": {"zh": "点击监管对象查看详情；低缩放级别显示聚合数量，点击放大。",
                 "en": "Click an entity for details; at low zoom circles show counts, click to zoom in."},
    "map.loading": {"zh": "地图加载中…", "en": "Loading map…"},
    "map.density": {"zh": "低缩放级别：按网格聚合的数量", "en": "Low zoom: counts per grid cell"},
    "map.density.low": {"zh": "少", "en": "few"},
    "map.density.high": {"zh": "多", "en": "many"},
    "login.title": {"zh": "登录", "en": "Sign in"},
    "login.username": {"zh": "用户名", "en": "User name"},
    "login.password": {"zh": "密码", "en": "Password"},
    "login.submit": {"zh": "登录", "en": "Sign in"},
    "nav.login": {"zh": "登录", "en": "Sign in"},
    "nav.logout": {"zh": "退出", "en": "Sign out"},
    "nav.audit": {"zh": "审计日志", "en": "Audit log"},
    "nav.tasks": {"zh": "检查任务", "en": "Tasks"},
    "nav.kpi": {"zh": "指标看板", "en": "KPIs"},
    "nav.cases": {"zh": "执法案件", "en": "Cases"},
    "nav.draws": {"zh": "双随机抽查", "en": "Random inspections"},
    "nav.ops": {"zh": "运行大屏", "en": "Ops wall"},
    "nav.ops_desk": {"zh": "调度台", "en": "Dispatch desk"},
    "ops.title": {"zh": "城市运行一网统管", "en": "City operations centre"},
    "ops.kpi.today": {"zh": "今日事件", "en": "Events today"},
    "ops.kpi.open": {"zh": "在办事件", "en": "Open"},
    "ops.kpi.overdue": {"zh": "超期事件", "en": "Overdue"},
    "ops.kpi.rate": {"zh": "按期结案率", "en": "On time"},
    "ops.feed": {"zh": "实时事件", "en": "Live events"},
    "ops.alerts": {"zh": "告警", "en": "Alerts"},
    "ops.chart.hourly": {"zh": "近24小时事件（按来源）", "en": "Events per hour, last 24 h (by source)"},
    "ops.chart.status": {"zh": "在办事件（按环节）", "en": "Open events by stage"},
    "ops.stale": {"zh": "数据已停止更新，最后更新", "en": "data stale since"},
    "ops.quiet": {"zh": "数据源暂无新数据，最后数据", "en": "feed quiet since"},
    "ops.paused": {"zh": "轮播已暂停（按 P 继续）", "en": "Rotation paused (press P)"},
    "ops.legend.sensors": {"zh": "传感器", "en": "Sensors"},
    "forbidden": {"zh": "您的角色无权访问此页面。", "en": "Your role may not open this page."},
    "login.required": {"zh": "请先登录。", "en": "Please sign in."},
    "entity.title": {"zh": "监管对象", "en": "Regulated entity"},
    "import.title": {"zh": "导入监管对象名录", "en": "Import a register of entities"},
    "import.back": {"zh": "← 返回一张图", "en": "← Back to the map"},
    "import.help": {"zh": "支持 CSV（GBK 或 UTF-8）、Excel、GeoJSON、GeoPackage、Shapefile（zip）。表头可用中文，"
                          "如 统一社会信用代码、名称、地址、经度、纬度、类别、风险等级。",
                    "en": "CSV (GBK or UTF-8), Excel, GeoJSON, GeoPackage, zipped Shapefile; Chinese headers welcome."},
    "import.file": {"zh": "文件", "en": "File"},
    "import.crs": {"zh": "坐标系", "en": "Coordinate system"},
    "import.columns": {"zh": "列映射（可选）", "en": "Column mapping (optional)"},
    "import.dry_run": {"zh": "只校验，不写入（试运行）", "en": "Validate only (dry run)"},
    "import.submit": {"zh": "上传并校验", "en": "Upload and check"},
    "import.result": {"zh": "导入结果", "en": "Result"},
    "import.dry": {"zh": "试运行，未写入", "en": "dry run, nothing written"},
    "import.report": {"zh": "下载问题行报告（CSV）", "en": "Download the report (CSV)"},
    "import.more": {"zh": "仅显示前 200 条，完整内容见报告。",
                    "en": "First 200 problems shown; the report has them all."},
    "import.count.read": {"zh": "读取", "en": "Read"},
    "import.count.inserted": {"zh": "新增", "en": "Inserted"},
    "import.count.updated": {"zh": "更新", "en": "Updated"},
    "import.count.unchanged": {"zh": "未变", "en": "Unchanged"},
    "import.count.rejected": {"zh": "拒绝", "en": "Rejected"},
    "lang.switch": {"zh": "English", "en": "中文"},
}


def t(key: str, lang: str | None = None) -> str:
    """The message for ``key`` in ``lang`` (falling back to Chinese, then to the key itself)."""
    entry = MESSAGES.get(key, {})
    return entry.get(lang or DEFAULT_LANG) or entry.get(DEFAULT_LANG) or key


LANG_COOKIE = "zt_lang"


def pick_lang(value: str | None) -> str:
    """Normalise a requested language to one we have."""
    return "en" if (value or "").lower().startswith("en") else "zh"


def request_lang(query_value: str | None, cookie_value: str | None) -> str:
    """The language of a request: an explicit ``?lang=`` wins, else the remembered cookie."""
    return pick_lang(query_value if query_value else cookie_value)
