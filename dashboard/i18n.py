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
    "forbidden": {"zh": "您的角色无权访问此页面。", "en": "Your role may not open this page."},
    "login.required": {"zh": "请先登录。", "en": "Please sign in."},
    "entity.title": {"zh": "监管对象", "en": "Regulated entity"},
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
