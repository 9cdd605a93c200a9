"""Roles and the principal making a request: who they are, what role, which region.

Roles are fixed by the product (they mirror the jobs in DOMAIN.md); what each may use is declared
beside each page, callback, tile layer and endpoint with these names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

INSPECTOR = "inspector"
LEGAL_REVIEWER = "legal_reviewer"
OPERATOR = "operator"
MANAGER = "manager"
ADMIN = "admin"
PUBLIC = "public"  # anyone, no login

STAFF_ROLES = (INSPECTOR, LEGAL_REVIEWER, OPERATOR, MANAGER, ADMIN)
ALL_ROLES = (*STAFF_ROLES, PUBLIC)
ROLE_LABELS = {
    INSPECTOR: ("执法人员", "Inspector"), LEGAL_REVIEWER: ("法制审核人员", "Legal reviewer"),
    OPERATOR: ("城市运行值班员", "Operations operator"), MANAGER: ("管理人员", "Manager"),
    ADMIN: ("系统管理员", "Administrator"), PUBLIC: ("公众", "Public"),
}
REGION_PATTERN = re.compile(r"^\d{2}(\d{2}){0,2}$")


@dataclass(frozen=True)
class Principal:
    """The caller of one request."""

    username: str
    role: str
    region: str  # adcode prefix: '44', '4401', '440106'; '' for the public
    display_name: str = ""
    via: str = "anonymous"  # session | token | anonymous
    user_id: int | None = None
    csrf_token: str | None = None

    @property
    def is_authenticated(self) -> bool:
        """True for a logged-in user or a valid API token."""
        return self.role != PUBLIC

    def may(self, roles: tuple[str, ...] | frozenset[str]) -> bool:
        """Whether this principal's role is among ``roles`` (PUBLIC in roles admits everyone)."""
        return PUBLIC in roles or self.role in roles

    def db_context(self, ip: str | None = None) -> dict[str, str]:
        """Transaction-local settings for row-level security and audit triggers."""
        context = {"region": self.region, "user": self.username, "role": self.role}
        if ip:
            context["ip"] = ip
        return context


ANONYMOUS = Principal(username="anonymous", role=PUBLIC, region="")


def check_role(role: str) -> str:
    """Validate a staff role name (``ValueError`` names the accepted ones)."""
    if role not in STAFF_ROLES:
        raise ValueError(f"未知角色 {role!r}；可用角色：{', '.join(STAFF_ROLES)}")
    return role


def check_region(region: str) -> str:
    """Validate an adcode prefix of 2, 4 or 6 digits."""
    if not REGION_PATTERN.match(region or ""):
        raise ValueError(f"辖区代码无效 {region!r}：应为 2、4 或 6 位行政区划代码前缀，如 44、4401、440106")
    return region
